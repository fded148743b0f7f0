//! `check --format sarif`: the log validates against the SARIF 2.1.0 JSON
//! Schema (the OASIS schema as the `serde-sarif` crate on crates.io ships
//! it; scripts/test.sh fetches it and checks its digest), points secrets and
//! vulnerable packages at their files and lines, and holds no secret.

use std::process::Command;

use crate::support::{repo_root, stderr, stdout, BIN};

const AWS_ID: &str = "AKIAZ2QWERTY7UIOPASD";

pub fn sarif_validator() -> jsonschema::Validator {
    let path = repo_root().join("target/sarif-schema/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/test.sh, which fetches the SARIF 2.1.0 schema",
            path.display()
        )
    });
    // The schema's `language` pattern has a stray `]` that the validator's
    // check of the schema itself rejects; its intended form is used (the
    // logs written here have no `language`).
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(stray), "the schema changed; revisit this");
    let text = text.replace(stray, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

pub fn schema_errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_logs_validate_and_locate_secrets_and_vulnerable_packages() {
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    std::fs::write(
        p.join(".env"),
        format!("# settings\nAWS_ACCESS_KEY_ID={AWS_ID}\n"),
    )
    .unwrap();
    std::fs::write(
        p.join("Cargo.lock"),
        "version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let db = tempfile::tempdir().unwrap();
    std::fs::write(
        db.path().join("GHSA-wcg3-cvx6-7396.json"),
        r#"{"id": "GHSA-wcg3-cvx6-7396", "modified": "2026-11-01T00:00:00Z", "database_specific": {"severity": "MODERATE"},
            "affected": [{"package": {"ecosystem": "crates.io", "name": "time"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.2.23"}]}]}]}"#,
    )
    .unwrap();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
checks:
  - {{ name: secrets, kind: hardcoded_secrets, severity: critical, params: {{ dir: "{p}" }} }}
  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: "{p}", advisory_db: "{db}" }} }}
  - {{ name: down, kind: http, timeout: 2s, params: {{ url: "http://127.0.0.1:1/" }} }}
  - {{ name: down_too, kind: http, timeout: 2s, params: {{ url: "http://127.0.0.1:1/other" }} }}
"#,
            p = p.display(),
            db = db.path().display()
        ),
    )
    .unwrap();
    let written = p.join("results.sarif");
    let out = Command::new(BIN)
        .current_dir(p)
        .arg(format!("--config.file={}", config.display()))
        .args(["check", "--format", "sarif", "--output"])
        .arg(format!("sarif={}", written.display()))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(AWS_ID), "the secret is in the log");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();

    let validator = sarif_validator();
    let errors = schema_errors(&validator, &doc);
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does reject what the schema forbids.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken.as_object_mut().unwrap().remove("version");
    assert!(schema_errors(&validator, &broken).len() >= 2);

    let run = &doc["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", p.display())
    );
    let results = run["results"].as_array().unwrap();
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in results {
        assert!(rule_ids.contains(&r["ruleId"].as_str().unwrap()), "{r}");
    }
    let secret = results
        .iter()
        .find(|r| {
            r["ruleId"]
                .as_str()
                .unwrap()
                .starts_with("hardcoded_secrets/")
        })
        .unwrap_or_else(|| panic!("{text}"));
    let at = &secret["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], ".env");
    assert_eq!(at["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(at["region"]["startLine"], 2);
    assert_eq!(secret["level"], "error", "a critical check's finding");
    assert!(secret["partialFingerprints"]["prodreadySecret/v1"].is_string());

    let vulnerable = results
        .iter()
        .find(|r| r["ruleId"] == "GHSA-wcg3-cvx6-7396")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        vulnerable["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Cargo.lock"
    );
    assert!(vulnerable["message"]["text"]
        .as_str()
        .unwrap()
        .contains("time@0.1.45"));

    // Every check is a result; one that could not be evaluated fails.
    let down = results
        .iter()
        .find(|r| r["properties"]["check"] == "down")
        .unwrap();
    assert_eq!(
        (down["kind"].as_str(), down["level"].as_str()),
        (Some("fail"), Some("error"))
    );
    assert_eq!(down["properties"]["state"], "error");
    // Two checks of one kind: the same rule, but each at its own line of
    // the config and with its own fingerprint, so code scanning keeps both.
    let down_too = results
        .iter()
        .find(|r| r["properties"]["check"] == "down_too")
        .unwrap();
    assert_eq!(down["ruleId"], down_too["ruleId"]);
    let line = |r: &serde_json::Value| {
        r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64()
    };
    assert_eq!((line(down), line(down_too)), (Some(5), Some(6)));
    assert_ne!(down["partialFingerprints"], down_too["partialFingerprints"]);
    // Every result has a fingerprint; rules say what they are and how to
    // fix, and the security ones carry a score code scanning ranks by.
    for r in results {
        assert!(r["partialFingerprints"].is_object(), "{r}");
    }
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in rules {
        assert!(rule["fullDescription"]["text"].is_string(), "{rule}");
        assert!(rule["help"]["text"].is_string(), "{rule}");
    }
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        rule("GHSA-wcg3-cvx6-7396")["properties"]["security-severity"],
        "5.5"
    );
    assert_eq!(
        rule("hardcoded_secrets")["properties"]["security-severity"],
        "9.0"
    );
    assert!(rule("http")["properties"]["security-severity"].is_null());
    assert!(rule("http")["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("**Passes**"));

    // --output wrote the same log beside the one printed.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
    assert!(schema_errors(&validator, &file).is_empty());
    assert_eq!(
        file["runs"][0]["results"].as_array().unwrap().len(),
        results.len()
    );
}
