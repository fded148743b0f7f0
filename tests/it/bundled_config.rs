//! The bundled `config.yaml` on its own checkout: the first thing a newcomer
//! runs must not fail on the project's own tree (its test fixtures carry
//! credential-shaped strings where the bundled allowlist expects them, or a
//! `gitleaks:allow` marker).

use crate::support::{repo_root, run_cli, stderr, stdout};

#[test]
fn the_bundled_source_tree_checks_do_not_fail_on_this_checkout() {
    let config = repo_root().join("config.yaml");
    let out = run_cli(
        &[
            "check",
            &format!("--config.file={}", config.display()),
            "--check",
            "hardcoded_secrets",
            "--check",
            "dependency_vulnerabilities",
            "--check",
            "own_config_valid",
            "--format",
            "json",
        ],
        &[("PRODREADY_ADVISORY_DB", "/nonexistent/advisory-db")],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    let state = |name: &str| {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| {
                (
                    c["state"].as_str().unwrap().to_owned(),
                    c["message"].to_string(),
                )
            })
            .unwrap_or_else(|| panic!("no check {name} in {doc}"))
    };
    let (secrets, message) = state("hardcoded_secrets");
    assert_eq!(secrets, "pass", "{message}");
    let (config_valid, message) = state("own_config_valid");
    assert_eq!(config_valid, "pass", "{message}");
    // Without an advisory database the dependency check cannot judge: an
    // error naming it, never a fail on the project's own lockfile.
    let (deps, message) = state("dependency_vulnerabilities");
    assert_eq!(deps, "error", "{message}");
    assert!(message.contains("/nonexistent/advisory-db"), "{message}");
}
