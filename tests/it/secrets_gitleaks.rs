//! `hardcoded_secrets` against gitleaks itself: its default config loads
//! unmodified, and with it our scan finds what gitleaks finds.

use crate::support::gitleaks;
use crate::support::tree::write;
use crate::support::{by, run_checks, validate};

/// Our findings with a gitleaks config, in gitleaks' terms.
fn ours(root: &std::path::Path, config: &std::path::Path) -> Vec<gitleaks::Located> {
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: tree, kind: hardcoded_secrets, params: {{ dir: \"{}\", gitleaks_config: \"{}\", max_file_size: 64MiB }} }}\n",
            root.display(),
            config.display()
        ),
        &[],
    );
    let tree = by(&r, "tree");
    assert!(
        matches!(tree.state.as_str(), "fail" | "pass"),
        "{}: {}",
        tree.state,
        tree.message
    );
    let mut list: Vec<gitleaks::Located> = tree.doc["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    list.sort();
    list
}

#[test]
fn gitleaks_default_config_loads_unmodified() {
    let dir = tempfile::tempdir().unwrap();
    let config = gitleaks::default_config(dir.path());
    let (code, out) = validate(
        &format!(
            "checks:\n  - {{ name: s, kind: hardcoded_secrets, params: {{ dir: \"{}\", gitleaks_config: \"{}\" }} }}\n",
            dir.path().display(),
            config.display()
        ),
        &[],
    );
    assert_eq!(code, 0, "{out}");
}

/// A small tree of common secrets in common syntaxes: both scanners, with
/// gitleaks' default config, report the same file, rule and line for each.
#[test]
fn with_the_default_config_ours_finds_what_gitleaks_finds() {
    let rules = tempfile::tempdir().unwrap();
    let config = gitleaks::default_config(rules.path());
    let tree = tempfile::tempdir().unwrap();
    let d = tree.path();
    write(d, ".env", "STRIPE_KEY=sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs\nGITHUB_TOKEN=ghp_R4nd0mT0k3nV4lu3W1thThirtySixChars01\n");
    write(d, "deploy/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\n");
    write(d, "src/app.py", "import os\napi_key = \"Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk\"\nAWS_ID = \"AKIAZ2QWERTY7UIOPASD\"\n");
    write(d, "docs/readme.md", "Use ${TOKEN} or <your-key> here.\n");
    let theirs = gitleaks::scan(d, &config, &["--max-decode-depth", "0"]);
    assert!(theirs.len() >= 4, "gitleaks found too little to compare: {theirs:?}");
    assert_eq!(ours(d, &config), theirs);
}
