//! `sarif_report` on logs real scanners wrote (Bandit, Semgrep, Checkov,
//! ESLint, this exporter's own `check --format sarif`): results judged by
//! level and security-severity, suppressions counted as waived, and an old
//! log, a log for another commit, a failed run or a file that is not SARIF
//! never `pass`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::tree::{date_in, git, write};
use crate::support::{assert_state, by, run_checks, run_cli, stdout, ConfigDir, TestApp};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif")
}

fn now_rfc3339(offset_days: i64) -> String {
    prodready_exporter::clock::rfc3339_unix(
        prodready_exporter::clock::unix_now() + offset_days * 86_400,
    )
}

/// A fixture as JSON, each run's end time set `offset_days` from now.
fn log(name: &str, offset_days: i64) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    for run in doc["runs"].as_array_mut().unwrap() {
        if let Some(invocations) = run.get_mut("invocations").and_then(Value::as_array_mut) {
            for inv in invocations {
                inv["endTimeUtc"] = now_rfc3339(offset_days).into();
            }
        }
    }
    doc
}

fn put(dir: &Path, name: &str, doc: &Value) {
    write(dir, name, serde_json::to_string_pretty(doc).unwrap());
}

fn check(name: &str, dir: &Path, params: &str) -> String {
    format!(
        "  - {{ name: {name}, kind: sarif_report, item: security.input_validation, params: {{ files: [\"{}/{name}.sarif\"]{params} }} }}\n",
        dir.display()
    )
}

#[test]
fn real_scanners_logs_are_judged_by_level_and_severity() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    for (name, fixture) in [
        ("bandit", "bandit.sarif"),
        ("semgrep", "semgrep.sarif"),
        ("checkov", "checkov.sarif"),
        ("eslint", "eslint.sarif"),
        ("eslint_no_eval_excluded", "eslint.sarif"),
        ("semgrep_tolerated", "semgrep.sarif"),
        ("clean", "bandit-clean.sarif"),
        ("clean_ok", "bandit-clean.sarif"),
    ] {
        put(p, &format!("{name}.sarif"), &log(fixture, 0));
    }
    // Bandit's error result suppressed (accepted) in the log itself.
    let mut suppressed = log("bandit.sarif", 0);
    for r in suppressed["runs"][0]["results"].as_array_mut().unwrap() {
        r["suppressions"] = serde_json::json!([{"kind": "inSource", "status": "accepted", "justification": "ping target is a constant"}]);
    }
    put(p, "bandit_suppressed.sarif", &suppressed);
    let config = format!(
        "checks:\n{}{}{}{}{}{}{}{}{}",
        check("bandit", p, ""),
        check("semgrep", p, ""),
        check("checkov", p, ""),
        check("eslint", p, ""),
        check("eslint_no_eval_excluded", p, ", exclude_rules: [no-eval]"),
        check("semgrep_tolerated", p, ", max: { error: 5, critical: 1 }"),
        check("clean", p, ""),
        check("clean_ok", p, ", empty_ok: true"),
        check("bandit_suppressed", p, ""),
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        (
            "bandit",
            "fail",
            "Bandit: over the limits: 1 error (limit 0): B602 at app/views.py:11 (Bandit)",
        ),
        ("semgrep", "fail", "1 critical (limit 0)"),
        (
            "checkov",
            "fail",
            "Checkov 3.3.30: over the limits: 10 error (limit 0)",
        ),
        (
            "eslint",
            "fail",
            "no-eval at file:///tmp/eslintfx/app.js:2 (ESLint)",
        ),
        (
            "eslint_no_eval_excluded",
            "pass",
            "ESLint 9.39.5: no result within limits",
        ),
        ("semgrep_tolerated", "pass", "Semgrep OSS 1.187.0"),
        ("clean", "warn", "empty run(s) with no result and no rule"),
        ("clean_ok", "pass", "no result within limits"),
        ("bandit_suppressed", "pass", "(5 waived)"),
    ]);
    let semgrep = &by(&r, "semgrep").doc["evidence"];
    assert_eq!(semgrep["severities"]["critical"], 1, "{semgrep}");
    assert_eq!(semgrep["tools"][0]["name"], "Semgrep OSS");
    let worst = &semgrep["results"][0];
    assert_eq!(worst["rule"], "rules.python-sql-string-format", "{semgrep}");
    assert_eq!(
        (worst["file"].as_str(), worst["line"].as_u64()),
        (Some("app/views.py"), Some(7))
    );
    let waived = &by(&r, "bandit_suppressed").doc["evidence"]["waived_findings"];
    assert_eq!(waived.as_array().unwrap().len(), 5);
    assert_eq!(
        waived[0]["waiver"]["justification"],
        "ping target is a constant"
    );
}

/// A suppression's review status decides: any `rejected` or
/// `underReview` one means not suppressed; an `inSource` one without a
/// status (written into the code, maybe by the change under review) counts
/// unless the check opts in, and is listed apart; an `external` one without
/// a status, or an `accepted` one, waives.
#[test]
fn review_states_of_suppressions_decide_what_is_waived() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let cases = [
        (
            "rejected",
            serde_json::json!([{"kind": "external", "status": "accepted"}, {"kind": "external", "status": "rejected"}]),
        ),
        (
            "under_review",
            serde_json::json!([{"kind": "external", "status": "underReview", "justification": "asked"}]),
        ),
        (
            "in_source",
            serde_json::json!([{"kind": "inSource", "justification": "nosemgrep"}]),
        ),
        (
            "in_source_opted",
            serde_json::json!([{"kind": "inSource", "justification": "nosemgrep"}]),
        ),
        (
            "external",
            serde_json::json!([{"kind": "external", "justification": "triaged in the tracker"}]),
        ),
    ];
    for (name, suppressions) in &cases {
        let mut doc = log("eslint.sarif", 0);
        doc["runs"][0]["results"][0]["suppressions"] = suppressions.clone();
        put(p, &format!("{name}.sarif"), &doc);
    }
    let config = format!(
        "checks:\n{}{}{}{}{}",
        check("rejected", p, ""),
        check("under_review", p, ""),
        check("in_source", p, ""),
        check("in_source_opted", p, ", in_source_suppressions: true"),
        check("external", p, ""),
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        ("rejected", "fail", "no-eval"),
        ("under_review", "fail", "no-eval"),
        ("in_source", "fail", "no-eval"),
        ("in_source_opted", "pass", "(1 waived)"),
        ("external", "pass", "(1 waived)"),
    ]);
    let listed = &by(&r, "in_source").doc["evidence"]["in_source_suppressed"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["justification"], "nosemgrep");
    let waived = &by(&r, "in_source_opted").doc["evidence"]["waived_findings"][0]["waiver"];
    assert_eq!(waived["source"], "an in-source suppression", "{waived}");
}

#[test]
fn an_old_foreign_failed_or_broken_log_is_never_pass() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    put(p, "old.sarif", &log("bandit.sarif", -30));
    // A run dated ahead never goes stale: refused, as backups and drills are.
    put(p, "future.sarif", &log("bandit.sarif", 365));
    let mut foreign = log("eslint.sarif", 0);
    foreign["runs"][0]["versionControlProvenance"] = serde_json::json!([{"repositoryUri": "https://example.invalid/shop", "revisionId": "1111111111111111111111111111111111111111"}]);
    put(p, "foreign.sarif", &foreign);
    put(p, "foreign_tree.sarif", &foreign);
    let mut failed = log("eslint.sarif", 0);
    failed["runs"][0]["invocations"] = serde_json::json!([{"executionSuccessful": false, "endTimeUtc": now_rfc3339(0),
        "toolExecutionNotifications": [{"level": "error", "message": {"text": "Parsing error: Unexpected token"}}]}]);
    put(p, "failed.sarif", &failed);
    let text = std::fs::read_to_string(fixtures().join("checkov.sarif")).unwrap();
    write(p, "truncated.sarif", &text[..text.len() / 2]);
    let mut v20 = log("eslint.sarif", 0);
    v20["version"] = "2.0.0".into();
    put(p, "v20.sarif", &v20);
    write(
        p,
        "package.sarif",
        r#"{"name": "shop", "version": "1.0.0", "dependencies": {}}"#,
    );
    // A git work tree at another commit than the log names.
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "README.md", "shop\n");
    let t = tree.path();
    // A log without provenance (ESLint writes none) committed in the tree.
    std::fs::create_dir_all(t.join("reports")).unwrap();
    put(&t.join("reports"), "eslint.sarif", &log("eslint.sarif", 0));
    git(t, &["init", "-q"]);
    git(t, &["add", "-A"]);
    git(t, &["commit", "-qm", "c"]);
    let head = git(t, &["rev-parse", "HEAD"]);
    let mut ours = log("eslint.sarif", 0);
    ours["runs"][0]["versionControlProvenance"] = serde_json::json!([{"revisionId": head}]);
    put(p, "this_commit.sarif", &ours);
    let config = format!(
        "checks:\n{}{}{}{}{}{}{}{}{}\n  - {{ name: nothing, kind: sarif_report, params: {{ files: [\"{}/none-*.sarif\"] }} }}\n",
        check("old", p, ""),
        check("future", p, ""),
        check("foreign", p, ", revision: \"2222222222222222222222222222222222222222\""),
        check("foreign_tree", p, &format!(", source_tree: \"{}\"", tree.path().display())),
        check("failed", p, ""),
        check("truncated", p, ""),
        check("v20", p, ""),
        check("package", p, ""),
        check("this_commit", p, &format!(", source_tree: \"{}\", exclude_rules: [no-eval]", tree.path().display())),
        p.display(),
    ) + &format!(
        "  - {{ name: unprovenanced, kind: sarif_report, params: {{ files: [\"{t}/reports/eslint.sarif\"], source_tree: \"{t}\", exclude_rules: [no-eval] }} }}\n\
         \x20 - {{ name: committed_log, kind: sarif_report, params: {{ files: [\"{t}/reports/eslint.sarif\"], source_tree: \"{t}\", exclude_rules: [no-eval], without_provenance: file_commit }} }}\n",
        t = t.display()
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        ("old", "error", "older than max_age 7d: it says nothing about the current code"),
        ("future", "error", "in the future"),
        ("foreign", "error", "report is for commit 1111111111111111111111111111111111111111, tree is at 2222222222222222222222222222222222222222"),
        ("foreign_tree", "error", &format!("tree is at {head}")),
        ("failed", "error", "the tool reports an error: Parsing error: Unexpected token"),
        ("truncated", "error", "truncated: the JSON ends early"),
        ("v20", "error", "SARIF version 2.0.0; only 2.1.0 is read"),
        ("package", "error", "not a SARIF log"),
        ("this_commit", "pass", "ESLint 9.39.5"),
        ("unprovenanced", "error", "names no commit (no versionControlProvenance)"),
        ("committed_log", "pass", "ESLint 9.39.5"),
        ("nothing", "error", "no SARIF file matches"),
    ]);
    assert_eq!(
        by(&r, "this_commit").doc["evidence"]["expected_commit"],
        head.as_str()
    );
}

/// A config waiver names a rule at a location; the log served by an http
/// target is fetched with the target's credentials; this exporter's own
/// SARIF is read like any tool's.
#[tokio::test(flavor = "multi_thread")]
async fn waivers_http_targets_and_our_own_sarif() {
    // ESLint's formatter writes no invocation: the run's end time is given here.
    let mut served = log("eslint.sarif", 0);
    served["runs"][0]["invocations"] =
        serde_json::json!([{"executionSuccessful": true, "endTimeUtc": now_rfc3339(0)}]);
    let body = serde_json::to_string(&served).unwrap();
    let app = TestApp::start(axum::Router::new().route(
        "/reports/eslint.sarif",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let body = body.clone();
            async move {
                // Basic auth probe:probe-secret.
                if headers.get("authorization").and_then(|v| v.to_str().ok())
                    != Some("Basic cHJvYmU6cHJvYmUtc2VjcmV0")
                {
                    return (axum::http::StatusCode::UNAUTHORIZED, String::new());
                }
                (axum::http::StatusCode::OK, body)
            }
        }),
    ))
    .await;
    let d = tempfile::tempdir().unwrap();
    put(d.path(), "bandit.sarif", &log("bandit.sarif", 0));
    let expires = date_in(5);
    let config = format!(
        r#"targets:
  ci: {{ http: {{ url: "http://{addr}", basic_auth: {{ username: probe, password: probe-secret }} }} }}
  ci_anonymous: {{ http: {{ url: "http://{addr}" }} }}
checks:
  - {{ name: lint, kind: sarif_report, target: ci, params: {{ url: /reports/eslint.sarif }} }}
  - {{ name: lint_anonymous, kind: sarif_report, target: ci_anonymous, params: {{ url: /reports/eslint.sarif }} }}
  - {{ name: bandit, kind: sarif_report, params: {{ files: ["{dir}/bandit.sarif"], max: {{ error: 0, warning: 10, note: 10 }} }} }}
waivers:
  - {{ check: bandit, finding: {{ rule: B602, location: "app/views.py:11" }}, reason: "host is a constant", owner: team-app, expires: "{expires}" }}
  - {{ check: bandit, finding: {{ rule: B608 }}, reason: "query is parameterised upstream", owner: team-app, expires: "{expires}" }}
"#,
        addr = app.addr,
        dir = d.path().display(),
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    r.expect_states(&[
        ("lint", "fail", "no-eval"),
        ("lint_anonymous", "error", "answered 401"),
        ("bandit", "pass", "(2 waived)"),
    ]);
    let waived = by(&r, "bandit").doc["evidence"]["waived_findings"].to_string();
    assert!(
        waived.contains("team-app") && waived.contains("B602"),
        "{waived}"
    );
    assert_state(by(&r, "bandit"), "pass", "Bandit");
}

/// This exporter's own `check --format sarif` is read like any tool's, and
/// the gate's SARIF carries another tool's results through, naming it.
#[test]
fn our_own_sarif_is_read_and_ingested_results_are_carried_through() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let sarif_of = |config: &str| {
        let dir = ConfigDir::new(config);
        let arg = format!("--config.file={}", dir.config_path().display());
        let out = run_cli(&["check", &arg, "--format", "sarif"], &[]);
        stdout(&out)
    };
    let ours =
        sarif_of("checks:\n  - { name: broken, kind: command, params: { argv: [\"false\"] } }\n");
    write(p, "ours.sarif", &ours);
    put(p, "bandit.sarif", &log("bandit.sarif", 0));
    let r = run_checks(&format!("checks:\n{}", check("ours", p, "")), &[]);
    assert_state(by(&r, "ours"), "fail", "prodready-exporter");
    assert_eq!(
        by(&r, "ours").doc["evidence"]["results"][0]["rule"],
        "command"
    );

    let gate = sarif_of(&format!("checks:\n{}", check("bandit", p, "")));
    let log: Value = serde_json::from_str(&gate).unwrap();
    let carried = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "Bandit/B602")
        .unwrap_or_else(|| panic!("{gate}"));
    assert_eq!(carried["properties"]["tool"], "Bandit");
    assert_eq!(carried["level"], "error");
    assert_eq!(
        carried["locations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
    // A tool's own base, fingerprints and score travel with its results.
    put(
        p,
        "semgrep.sarif",
        &crate::sarif_report::log("semgrep.sarif", 0),
    );
    let gate = sarif_of(&format!("checks:\n{}", check("semgrep", p, "")));
    let semgrep: Value = serde_json::from_str(&gate).unwrap();
    let id = "Semgrep OSS/rules.python-sql-string-format";
    let result = semgrep["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == id)
        .unwrap_or_else(|| panic!("{gate}"));
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "%SRCROOT%"
    );
    assert!(
        result["partialFingerprints"]["matchBasedId/v1"].is_string(),
        "{result}"
    );
    assert!(result["partialFingerprints"]["prodreadyCarried/v1"].is_string());
    let rule = semgrep["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(rule["properties"]["security-severity"], "9.1");
    // The gate's log, ours read above and every real tool's fixture are
    // valid SARIF 2.1.0 by the OASIS schema.
    let validator = crate::sarif::sarif_validator();
    assert_eq!(
        crate::sarif::schema_errors(&validator, &log),
        Vec::<String>::new()
    );
    assert_eq!(
        crate::sarif::schema_errors(&validator, &semgrep),
        Vec::<String>::new()
    );
    let ours: Value = serde_json::from_str(&ours).unwrap();
    assert_eq!(
        crate::sarif::schema_errors(&validator, &ours),
        Vec::<String>::new()
    );
    for fixture in [
        "bandit.sarif",
        "bandit-clean.sarif",
        "semgrep.sarif",
        "checkov.sarif",
        "eslint.sarif",
    ] {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures().join(fixture)).unwrap())
                .unwrap();
        let errors = crate::sarif::schema_errors(&validator, &doc);
        assert!(errors.is_empty(), "{fixture}: {errors:?}");
    }
}

/// examples/sarif.yaml validates and covers the security items it names.
#[test]
fn the_sarif_example_validates() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sarif.yaml");
    let out = run_cli(&["validate", &format!("--config.file={example}")], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        crate::support::stderr(&out)
    );
    for item in [
        "security.dependencies",
        "security.secrets",
        "security.sql_injection",
        "security.input_validation",
    ] {
        assert!(std::fs::read_to_string(example).unwrap().contains(item));
    }
}

/// A log's memory is what the check keeps, not what it reads: 10 MB of
/// empty results (3.5 million) took 1.5 GB before; the daemon now stays
/// within a small multiple of its idle size, and counts every result.
#[tokio::test(flavor = "multi_thread")]
async fn a_huge_log_of_empty_results_is_read_in_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("empty.sarif");
    let n = 3_500_000;
    let mut text = String::with_capacity(n * 3 + 100);
    text.push_str(
        r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": ["#,
    );
    for i in 0..n {
        text.push_str(if i == 0 { "{}" } else { ",{}" });
    }
    text.push_str("]}]}");
    std::fs::write(&path, &text).unwrap();
    drop(text);
    let exporter = crate::support::Exporter::start(&format!(
        "global: {{ timeout: 60s, interval: 1h }}\nchecks:\n  - {{ name: big, kind: sarif_report, params: {{ files: [\"{}\"], max: {{ warning: 5000000 }} }} }}\n",
        path.display()
    ));
    exporter
        .wait_ready(std::time::Duration::from_secs(60))
        .await;
    let (_, api) = exporter.get("/api/v1/checks").await;
    assert!(api.contains("3500000 warning within limits"), "{api}");
    let peak_mib = exporter.peak_rss_kib() / 1024;
    println!("peak RSS reading a 10 MB log of 3.5 million empty results: {peak_mib} MiB");
    assert!(peak_mib < 200, "peak RSS {peak_mib} MiB");
}

/// Parsing a log fetched by URL and judging its results run off the async
/// workers: on a one-thread runtime, a ticker keeps ticking while a large
/// log is read (before, the parse held the only worker: two such checks
/// stalled `/-/healthy` for seconds on 2 cores).
#[tokio::test(flavor = "current_thread")]
async fn a_fetched_log_is_parsed_off_the_async_workers() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let mut log = log("eslint.sarif", 0);
    let result = log["runs"][0]["results"][0].clone();
    log["runs"][0]["results"] = Value::Array(vec![result; 60_000]);
    log["runs"][0]["invocations"] =
        serde_json::json!([{"executionSuccessful": true, "endTimeUtc": now_rfc3339(0)}]);
    let body = serde_json::to_vec(&log).unwrap();
    let app = crate::support::TestApp::start(axum::Router::new().route(
        "/eslint.sarif",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    ))
    .await;
    let dir = crate::support::ConfigDir::new(&format!(
        "targets:\n  ci: {{ http: {{ url: \"http://{}\" }} }}\nchecks:\n  - {{ name: big, kind: sarif_report, target: ci, params: {{ url: /eslint.sarif, max: {{ error: 1000000 }} }} }}\n",
        app.addr
    ));
    let plan = prodready_exporter::engine::load_plan(&dir.config_path()).unwrap();
    let check = plan.checks[0].check.clone();
    let ticks = std::sync::Arc::new(AtomicU64::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let started = std::time::Instant::now();
    let outcome = check
        .evaluate(&prodready_exporter::checks::Context::new("big"))
        .await;
    let elapsed = started.elapsed();
    ticker.abort();
    assert!(
        outcome.message.contains("60000 error"),
        "{}",
        outcome.message
    );
    let ticked = ticks.load(Ordering::Relaxed);
    // A free runtime ticks every 2 ms (or a little slower); one held by the
    // parse stops ticking for most of the evaluation.
    let expected = elapsed.as_millis() as u64 / 2;
    println!("{ticked} ticks in {elapsed:?} ({expected} if never held)");
    assert!(
        ticked * 4 >= expected,
        "{ticked} ticks in {elapsed:?}: the runtime was held"
    );
}
