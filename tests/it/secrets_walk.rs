//! `hardcoded_secrets` and what reaches the scan and the reports: files git
//! tracks although a .gitignore pattern matches them, `.gitleaksignore`
//! fingerprints matched exactly, every finding in the JSON and SARIF reports.

use crate::support::tree::{git, git_init, write};
use crate::support::{by, run_checks, run_cli, stdout, ConfigDir};

const STRIPE: &str = "sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs";

/// A committed file that a later .gitignore pattern matches is still
/// shipped: it is scanned. Untracked ignored files are skipped and counted.
#[test]
fn tracked_files_are_scanned_even_when_gitignored() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    git_init(d);
    write(d, "src/app.py", "print('hello')\n");
    write(d, "config/prod.env", format!("STRIPE_KEY={STRIPE}\n"));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "initial"]);
    // Ignored after the fact: still tracked, still in every checkout.
    write(d, ".gitignore", "*.env\nscratch/\n");
    // Untracked and ignored: not part of what is shipped.
    write(d, "scratch/notes.env", format!("STRIPE_KEY={STRIPE}\n"));
    write(d, "local.env", format!("STRIPE_KEY={STRIPE}\n"));
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: repo, kind: hardcoded_secrets, params: {{ dir: \"{}\" }} }}\n",
            d.display()
        ),
        &[],
    );
    let repo = by(&r, "repo");
    assert_eq!(repo.state, "fail", "{}", repo.message);
    assert_eq!(repo.finding_files(), ["config/prod.env"]);
    assert_eq!(repo.doc["evidence"]["tracked_gitignored"], 1);
    // scratch/ (a directory) and local.env.
    assert_eq!(repo.doc["evidence"]["skipped_gitignored"], 2);
}

/// `services/billing/.env:stripe-key:1` ignores that file's finding, never
/// the root `.env`'s on the same line.
#[test]
fn gitleaksignore_entries_match_the_path_exactly() {
    let tree = tempfile::tempdir().unwrap();
    let d = tree.path();
    write(d, ".env", format!("STRIPE_KEY={STRIPE}\n"));
    write(d, "services/billing/.env", format!("STRIPE_KEY={STRIPE}\n"));
    write(d, ".gitleaksignore", "services/billing/.env:stripe-key:1\n");
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: tree, kind: hardcoded_secrets, params: {{ dir: \"{}\" }} }}\n",
            d.display()
        ),
        &[],
    );
    let tree = by(&r, "tree");
    assert_eq!(tree.state, "fail", "{}", tree.message);
    assert_eq!(tree.finding_files(), [".env"]);
    assert_eq!(tree.doc["evidence"]["gitleaksignored"], 1);
}

/// 150 findings: all 150 in the JSON evidence and as SARIF results.
#[test]
fn every_finding_reaches_the_json_and_sarif_reports() {
    let tree = tempfile::tempdir().unwrap();
    let d = tree.path();
    for i in 0..150 {
        write(
            d,
            &format!("svc{i:03}/.env"),
            format!("STRIPE_KEY={STRIPE}\n"),
        );
    }
    let dir = ConfigDir::new(&format!(
        "checks:\n  - {{ name: tree, kind: hardcoded_secrets, params: {{ dir: \"{}\" }} }}\n",
        d.display()
    ));
    let config = format!("--config.file={}", dir.config_path().display());
    let json = run_cli(&["check", &config, "--format", "json"], &[]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let findings = doc["checks"][0]["evidence"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 150);
    let sarif = run_cli(&["check", &config, "--format", "sarif"], &[]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&sarif)).unwrap();
    let results = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["ruleId"]
                .as_str()
                .is_some_and(|id| id.starts_with("hardcoded_secrets/"))
        })
        .count();
    assert_eq!(results, 150);
    assert!(!stdout(&sarif).contains(STRIPE));
}
