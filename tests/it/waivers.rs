//! Waivers: accepted risk with an owner, a reason and an expiry. A check
//! waiver lets the check through the gate and the alerts without changing
//! its state; a finding waiver takes one finding out of the count; an
//! expired waiver does nothing; a waiver without owner, reason or a near
//! expiry is a config error.

use std::time::Duration;

use crate::support::tree::{date_in, write};
use crate::support::{run_cli, sample, stderr, stdout, validate, ConfigDir, Exporter};

const DAY: i64 = 86_400;

/// A failing `command` check and a passing one, the failing one waived
/// until `expires`.
fn config(expires: &str) -> String {
    format!(
        r#"checks:
  - {{ name: legacy_hsts, kind: command, item: security.ssl_https, params: {{ argv: ["sh", "-c", "exit 1"] }} }}
  - {{ name: fine, kind: command, params: {{ argv: ["true"] }} }}
waivers:
  - {{ check: legacy_hsts, reason: "legacy endpoint until the migration (JIRA-42)", owner: team-edge, expires: "{expires}" }}
"#
    )
}

fn check(dir: &ConfigDir, format: &str) -> (Option<i32>, String) {
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["check", &arg, "--format", format], &[]);
    (
        out.status.code(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn a_waived_failing_check_passes_the_gate_until_it_expires_and_keeps_its_state() {
    let dir = ConfigDir::new(&config(&date_in(1)));
    let (code, json) = check(&dir, "json");
    assert_eq!(code, Some(0), "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let legacy = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "legacy_hsts")
        .unwrap();
    // The state is the real one; the waiver rides along.
    assert_eq!(legacy["state"], "fail");
    assert_eq!(legacy["waiver"]["owner"], "team-edge");
    assert_eq!(legacy["waiver"]["active"], true);
    assert_eq!(legacy["waiver"]["days_left"], 1);
    assert_eq!(doc["gate"]["passed"], true);
    assert_eq!(doc["summary"]["fail"], 1);

    let (code, junit) = check(&dir, "junit");
    assert_eq!(code, Some(0), "{junit}");
    let case = junit
        .split("<testcase")
        .find(|c| c.contains("name=\"legacy_hsts\""))
        .unwrap();
    assert!(case.contains("<skipped"), "{case}");
    assert!(case.contains("waived until"), "{case}");
    assert!(case.contains("team-edge"), "{case}");
    assert!(case.contains("JIRA-42"), "{case}");

    let (code, sarif) = check(&dir, "sarif");
    assert_eq!(code, Some(0), "{sarif}");
    let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let result = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["properties"]["check"] == "legacy_hsts")
        .unwrap();
    let suppression = &result["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["status"], "accepted");
    assert!(suppression["justification"]
        .as_str()
        .unwrap()
        .contains("JIRA-42"));
    assert_eq!(result["kind"], "fail");

    let (code, table) = check(&dir, "table");
    assert_eq!(code, Some(0), "{table}");
    assert!(table.contains("waived until"), "{table}");

    // The same waiver, its last day yesterday: no effect.
    dir.write_config(&config(&date_in(-1)));
    let (code, json) = check(&dir, "json");
    assert_eq!(code, Some(1), "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["gate"]["passed"], false);
    let (_, junit) = check(&dir, "junit");
    let case = junit
        .split("<testcase")
        .find(|c| c.contains("name=\"legacy_hsts\""))
        .unwrap();
    assert!(case.contains("<failure"), "{case}");
    // Its last day is today: it still holds.
    dir.write_config(&config(&date_in(0)));
    assert_eq!(check(&dir, "json").0, Some(0));
}

#[test]
fn an_item_waiver_lets_its_phase_item_through_and_covers_nothing_else() {
    let config = |waiver: &str| {
        format!(
            r#"checks:
  - {{ name: backup, kind: command, item: deployment.backup_database, params: {{ argv: ["false"] }} }}
  - {{ name: other, kind: command, params: {{ argv: ["false"] }} }}
waivers:
{waiver}"#
        )
    };
    let item = format!(
        "  - {{ item: deployment.backup_database, reason: \"no database yet\", owner: team-data, expires: \"{}\" }}\n",
        date_in(2)
    );
    let dir = ConfigDir::new(&config(&item));
    let arg = format!("--config.file={}", dir.config_path().display());
    let phase = |dir: &ConfigDir| {
        let arg = format!("--config.file={}", dir.config_path().display());
        let out = run_cli(
            &[
                "check",
                &arg,
                "--phase",
                "pre-deploy",
                "--allow-uncovered",
                "--format",
                "json",
            ],
            &[],
        );
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        (out.status.code(), doc)
    };
    let (code, doc) = phase(&dir);
    assert_eq!(code, Some(0), "{doc}");
    let backup = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "deployment.backup_database")
        .unwrap();
    assert_eq!(backup["state"], "fail", "{backup}");
    assert_eq!(backup["waiver"]["owner"], "team-data", "{backup}");
    // The item waiver is no waiver of an unrelated failing check.
    let out = run_cli(&["check", &arg, "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // Expired: the phase fails at the item.
    dir.write_config(&config(&item.replace(&date_in(2), &date_in(-1))));
    assert_eq!(phase(&dir).0, Some(1));
}

#[tokio::test]
async fn metrics_export_the_waiver_and_the_real_state() {
    let exporter = Exporter::start(&format!(
        r#"checks:
  - {{ name: legacy_hsts, kind: command, interval: 1h, params: {{ argv: ["false"] }} }}
  - {{ name: old, kind: command, interval: 1h, params: {{ argv: ["false"] }} }}
waivers:
  - {{ name: edge-legacy, check: legacy_hsts, reason: "migration", owner: team-edge, expires: "{}" }}
  - {{ check: old, reason: "was accepted", owner: team-old, expires: "{}" }}
  - {{ item: deployment.backup_database, reason: "no database yet", owner: team-data, expires: "{}" }}
"#,
        date_in(5),
        date_in(-2),
        date_in(10),
    ));
    exporter.wait_ready(Duration::from_secs(20)).await;
    let m = exporter
        .wait_metrics(Duration::from_secs(20), |m| {
            m.lines().any(|l| {
                l.starts_with("prodready_check_state{check=\"legacy_hsts\"")
                    && l.ends_with("state=\"fail\"} 1")
            })
        })
        .await;
    assert_eq!(
        sample(&m, "prodready_check_waived{check=\"legacy_hsts\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, "prodready_check_waived{check=\"old\"}"),
        Some(0.0),
        "{m}"
    );
    let expiry = sample(
        &m,
        "prodready_waiver_expiry_timestamp_seconds{waiver=\"edge-legacy\",check=\"legacy_hsts\",item=\"\",owner=\"team-edge\"}",
    )
    .unwrap_or_else(|| panic!("{m}"));
    let expected = prodready_exporter::clock::parse_timestamp(&date_in(5)).unwrap() + DAY;
    assert_eq!(expiry as i64, expected);
    assert!(m.contains("prodready_waiver_expiry_timestamp_seconds{waiver=\"deployment.backup_database\",check=\"\",item=\"deployment.backup_database\",owner=\"team-data\"}"), "{m}");
    // A waiver never makes the score look better.
    assert_eq!(sample(&m, "prodready_score_ratio"), Some(0.0), "{m}");
    let (status, api) = exporter.get("/api/v1/checks").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&api).unwrap();
    let old = doc["data"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "old")
        .unwrap()
        .clone();
    assert_eq!(old["waiver"]["active"], false, "{old}");
    assert_eq!(old["waiver"]["days_left"], -2, "{old}");
}

#[test]
fn a_waiver_without_owner_reason_or_near_expiry_is_a_config_error() {
    let base =
        "checks:\n  - { name: deps, kind: command, params: { argv: [\"true\"] } }\n  - { name: secrets, kind: hardcoded_secrets, params: { dir: /tmp } }\nwaivers:\n";
    for (waiver, expected) in [
        (
            format!("  - {{ check: deps, owner: o, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field reason: missing field `reason`",
        ),
        (
            format!("  - {{ check: deps, reason: r, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field owner: missing field `owner`",
        ),
        (
            "  - { check: deps, reason: r, owner: o }\n".to_owned(),
            "waivers[0]: field expires: missing field `expires`",
        ),
        (
            format!("  - {{ check: deps, reason: \" \", owner: o, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field reason: must not be empty",
        ),
        (
            format!("  - {{ check: deps, reason: r, owner: o, expires: \"{}\" }}\n", date_in(91)),
            "waivers[0]: field expires: ",
        ),
        (
            "  - { check: deps, reason: r, owner: o, expires: next week }\n".to_owned(),
            "must be a date, YYYY-MM-DD",
        ),
        (
            format!("  - {{ check: nope, reason: r, owner: o, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field check: \"nope\" names no configured check",
        ),
        (
            format!("  - {{ item: security.nope, reason: r, owner: o, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field item: \"security.nope\" is no checklist item",
        ),
        (
            format!("  - {{ check: deps, finding: {{ secret: \"a:b:c\" }}, reason: r, owner: o, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field finding.secret: check \"deps\" is a command check",
        ),
        (
            format!("  - {{ check: secrets, finding: {{ secret: \"a:b:c\" }}, reason: r, owner: o, expires: \"{}\" }}\n", date_in(1)),
            "waivers[0]: field finding.secret: check \"secrets\" has no params.fingerprint_key_file",
        ),
    ] {
        let (code, out) = validate(&format!("{base}{waiver}"), &[]);
        assert_ne!(code, 0, "{waiver}: {out}");
        assert!(out.contains(expected), "{waiver}: expected {expected:?} in\n{out}");
    }
    // Within the maximum, and with a longer maximum, it loads.
    let ok = format!(
        "  - {{ check: deps, reason: r, owner: o, expires: \"{}\" }}\n",
        date_in(90)
    );
    assert_eq!(validate(&format!("{base}{ok}"), &[]).0, 0);
    let long = format!(
        "global: {{ waivers_max_duration: 400d }}\n{base}  - {{ check: deps, reason: r, owner: o, expires: \"{}\" }}\n",
        date_in(365)
    );
    let (code, out) = validate(&long, &[]);
    assert_eq!(code, 0, "{out}");
}

/// Two vulnerable packages; one advisory waived in the config, by its
/// alias; osv-scanner's and Trivy's ignore files waive others, one of them
/// expired.
#[test]
fn a_waived_advisory_leaves_the_count_and_stays_listed() {
    let db = tempfile::tempdir().unwrap();
    let advisory = |id: &str, alias: &str, name: &str| {
        format!(
            r#"{{"id": "{id}", "aliases": ["{alias}"], "modified": "{}T00:00:00Z", "database_specific": {{"severity": "CRITICAL"}}, "affected": [{{"package": {{"ecosystem": "npm", "name": "{name}"}}, "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "9.0.0"}}]}}]}}]}}"#,
            date_in(0)
        )
    };
    write(
        db.path(),
        "npm/GHSA-aaaa.json",
        advisory("GHSA-aaaa", "CVE-2026-0001", "left-pad"),
    );
    write(
        db.path(),
        "npm/GHSA-bbbb.json",
        advisory("GHSA-bbbb", "CVE-2026-0002", "right-pad"),
    );
    let tree = tempfile::tempdir().unwrap();
    write(
        tree.path(),
        "package-lock.json",
        r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/left-pad": {"version": "1.0.0"}, "node_modules/right-pad": {"version": "1.0.0"}}}"#,
    );
    let run = |waivers: &str| {
        let dir = ConfigDir::new(&format!(
            "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: \"{}\", advisory_db: \"{}\" }} }}\n{waivers}",
            tree.path().display(),
            db.path().display()
        ));
        let (code, json) = check(&dir, "json");
        let doc: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        (code, doc["checks"][0].clone())
    };
    let one = format!(
        "waivers:\n  - {{ check: deps, finding: {{ advisory: CVE-2026-0001, package: left-pad }}, reason: \"not reachable\", owner: team-web, expires: \"{}\" }}\n",
        date_in(30)
    );
    let (code, deps) = run(&one);
    assert_eq!(code, Some(1));
    assert_eq!(deps["state"], "fail", "{deps}");
    assert!(
        deps["message"].as_str().unwrap().contains("1 critical"),
        "{deps}"
    );
    let waived = deps["evidence"]["waived_findings"].as_array().unwrap();
    assert_eq!(waived.len(), 1, "{deps}");
    assert_eq!(waived[0]["package"], "left-pad");
    assert_eq!(waived[0]["advisories"][0], "GHSA-aaaa");
    assert_eq!(waived[0]["waiver"]["owner"], "team-web");
    // A waiver for another package does not cover this one.
    let other = one.replace("package: left-pad", "package: right-pad");
    let (_, deps) = run(&other.replace("CVE-2026-0001", "GHSA-aaaa"));
    assert!(
        deps["message"].as_str().unwrap().contains("2 critical"),
        "{deps}"
    );

    // osv-scanner.toml waives the second; Trivy's waiver of the first has
    // expired, so the config's waiver does the work.
    write(
        tree.path(),
        "osv-scanner.toml",
        format!("[[IgnoredVulns]]\nid = \"GHSA-bbbb\"\nignoreUntil = {}\nreason = \"vendored, patched\"\n", date_in(20)),
    );
    write(
        tree.path(),
        ".trivyignore.yaml",
        format!(
            "vulnerabilities:\n  - id: CVE-2026-0001\n    statement: old\n    expired_at: {}\n",
            date_in(-3)
        ),
    );
    let (code, deps) = run(&one);
    assert_eq!(code, Some(0), "{deps}");
    assert_eq!(deps["state"], "pass", "{deps}");
    let waived = deps["evidence"]["waived_findings"].as_array().unwrap();
    assert_eq!(waived.len(), 2, "{deps}");
    let owners: Vec<&str> = waived
        .iter()
        .map(|w| w["waiver"]["owner"].as_str().unwrap())
        .collect();
    assert!(owners.contains(&"osv-scanner.toml"), "{owners:?}");
    assert!(owners.contains(&"team-web"), "{owners:?}");
    // Without the config's waiver the expired Trivy entry does nothing.
    let (code, deps) = run("");
    assert_eq!(code, Some(1), "{deps}");
    assert!(
        deps["message"].as_str().unwrap().contains("left-pad"),
        "{deps}"
    );
    assert_eq!(
        deps["evidence"]["ignore_files"].as_array().unwrap().len(),
        2
    );
    // An entry without expiry holds 90 days from the file's date, and says so.
    write(
        tree.path(),
        "osv-scanner.toml",
        "[[IgnoredVulns]]\nid = \"GHSA-bbbb\"\n",
    );
    let (_, deps) = run(&one);
    let waived = deps["evidence"]["waived_findings"].to_string();
    assert!(waived.contains("no expiry in osv-scanner.toml"), "{waived}");
    assert!(
        waived.contains("no reason given in osv-scanner.toml"),
        "{waived}"
    );
}

/// A secret finding waived by its (keyed, stable) fingerprint leaves the
/// count; a second secret in the same tree still fails the check; the
/// waived one stays listed, and the SARIF result carries the suppression.
#[test]
fn a_waived_secret_fingerprint_leaves_the_count() {
    let tree = tempfile::tempdir().unwrap();
    write(
        tree.path(),
        "vendor/sdk.py",
        "TOKEN = \"ghp_R4nd0mT0k3nV4lu3W1thThirtySixChars01\"\n",
    );
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), "a fingerprint key of enough length").unwrap();
    let dir = ConfigDir::new("");
    let config = |waiver: &str| {
        format!(
            "checks:\n  - {{ name: repo_secrets, kind: hardcoded_secrets, params: {{ dir: \"{}\", fingerprint_key_file: \"{}\" }} }}\n{waiver}",
            tree.path().display(),
            key.path().display()
        )
    };
    let run = |config: &str, format: &str| {
        dir.write_config(config);
        check(&dir, format)
    };
    let (code, json) = run(&config(""), "json");
    assert_eq!(code, Some(1), "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let fingerprint = doc["checks"][0]["evidence"]["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiver = format!(
        "waivers:\n  - {{ check: repo_secrets, finding: {{ secret: \"{fingerprint}\" }}, reason: \"vendor's published test token\", owner: team-security, expires: \"{}\" }}\n",
        date_in(7)
    );
    let (code, json) = run(&config(&waiver), "json");
    assert_eq!(code, Some(0), "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = &doc["checks"][0];
    assert_eq!(c["state"], "pass", "{c}");
    assert_eq!(
        c["evidence"]["waived_findings"][0]["fingerprint"],
        fingerprint.as_str()
    );
    assert_eq!(
        c["evidence"]["waived_findings"][0]["waiver"]["owner"],
        "team-security"
    );
    let (_, sarif) = run(&config(&waiver), "sarif");
    let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let finding = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["ruleId"]
                .as_str()
                .unwrap_or_default()
                .starts_with("hardcoded_secrets/")
        })
        .unwrap();
    assert_eq!(
        finding["suppressions"][0]["status"], "accepted",
        "{finding}"
    );
    // A new secret of the same kind is not covered.
    write(
        tree.path(),
        "app/settings.py",
        "TOKEN = \"ghp_An0th3rT0k3nV4lu3W1thThirtySixChar02\"\n",
    );
    let (code, json) = run(&config(&waiver), "json");
    assert_eq!(code, Some(1), "{json}");
    assert!(
        json.contains("1 secret(s) found: app/settings.py:1"),
        "{json}"
    );
}

/// A waiver names an expanded check exactly: `probe:b` covers the check of
/// entry `probe` on target `b`, not the one on a target named `b:c`
/// (`probe:b:c`), and validation refuses a name no check has even when
/// another name extends it.
#[test]
fn a_waiver_covers_the_expanded_check_it_names_and_no_other() {
    let config = |waived: &str| {
        format!(
            r#"targets:
  b: {{ http: {{ url: "http://127.0.0.1:1" }} }}
  "b:c": {{ http: {{ url: "http://127.0.0.1:1" }} }}
checks:
  - {{ name: probe, kind: http, targets: [b, "b:c"] }}
waivers:
  - {{ check: "{waived}", reason: "the old endpoint until the move (JIRA-7)", owner: team-edge, expires: "{expires}" }}
"#,
            expires = date_in(3)
        )
    };
    let dir = ConfigDir::new(&config("probe:b"));
    let (code, json) = check(&dir, "json");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let waived = |name: &str| {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {json}"))["waiver"]
            .is_object()
    };
    assert!(waived("probe:b"), "{json}");
    assert!(!waived("probe:b:c"), "a:b covered a:b:c: {json}");
    assert_eq!(
        code,
        Some(1),
        "the unwaived check must fail the gate: {json}"
    );
    assert_eq!(doc["gate"]["passed"], false);
    // The entry's name covers both.
    let dir = ConfigDir::new(&config("probe"));
    let (code, json) = check(&dir, "json");
    assert_eq!(code, Some(0), "{json}");
    // A name that only prefixes a real check names none.
    let (code, out) = validate(&config("probe:b:"), &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("names no configured check"), "{out}");
}
