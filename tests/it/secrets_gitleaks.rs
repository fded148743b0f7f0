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
    let mut list: Vec<gitleaks::Located> = tree.findings();
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
    write(
        d,
        "src/app.py",
        "import os\napi_key = \"Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk\"\nAWS_ID = \"AKIAZ2QWERTY7UIOPASD\"\n",
    );
    write(d, "docs/readme.md", "Use ${TOKEN} or <your-key> here.\n");
    let theirs = gitleaks::scan(d, &config, &["--max-decode-depth", "0"]);
    assert!(
        theirs.len() >= 4,
        "gitleaks found too little to compare: {theirs:?}"
    );
    assert_eq!(ours(d, &config), theirs);
}

/// The labelled corpus (every token type in every syntax, and the clean
/// files) scanned three ways: gitleaks with its default config, our scan
/// with that same config, and our built-in rules. Ours with gitleaks'
/// config reports exactly what gitleaks reports; no secret gitleaks finds
/// is missed by the built-in rules.
#[test]
fn on_the_labelled_corpus_ours_matches_gitleaks_and_misses_nothing_it_finds() {
    use crate::support::corpus::generate;
    use std::collections::BTreeSet;
    let rules = tempfile::tempdir().unwrap();
    let config = gitleaks::default_config(rules.path());
    let tree = tempfile::tempdir().unwrap();
    let d = tree.path();
    let corpus = generate(20261205, 15);
    for s in &corpus {
        write(d, &s.path, &s.text);
    }
    let theirs = gitleaks::scan(d, &config, &["--max-decode-depth", "0"]);
    let ours_with_theirs = ours(d, &config);
    let missing: Vec<_> = theirs
        .iter()
        .filter(|f| !ours_with_theirs.contains(f))
        .collect();
    let extra: Vec<_> = ours_with_theirs
        .iter()
        .filter(|f| !theirs.contains(f))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "with gitleaks' default config, gitleaks found and we did not: {missing:#?}\nwe found and gitleaks did not: {extra:#?}"
    );

    // The built-in rules against what gitleaks flags, file by file.
    let built_in = run_checks(
        &format!(
            "checks:\n  - {{ name: tree, kind: hardcoded_secrets, params: {{ dir: \"{}\" }} }}\n",
            d.display()
        ),
        &[],
    );
    let flagged: BTreeSet<String> = by(&built_in, "tree").finding_files().into_iter().collect();
    let gitleaks_flagged: BTreeSet<String> = theirs.iter().map(|f| f.0.clone()).collect();
    let positives: BTreeSet<&str> = corpus
        .iter()
        .filter(|s| s.secret.is_some())
        .map(|s| s.path.as_str())
        .collect();
    let missed_by_us: Vec<&String> = gitleaks_flagged
        .iter()
        .filter(|f| positives.contains(f.as_str()) && !flagged.contains(*f))
        .collect();
    let gitleaks_recall = positives
        .iter()
        .filter(|p| gitleaks_flagged.contains(**p))
        .count() as f64
        / positives.len() as f64;
    let gitleaks_noise = gitleaks_flagged
        .iter()
        .filter(|f| f.starts_with("neg/"))
        .count();
    println!(
        "gitleaks default config on the corpus: recall {:.1}% of {}, {gitleaks_noise} clean file(s) flagged",
        100.0 * gitleaks_recall,
        positives.len()
    );
    assert!(
        missed_by_us.is_empty(),
        "secrets gitleaks finds and the built-in rules miss: {missed_by_us:#?}"
    );
}
