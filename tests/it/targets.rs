//! One check over several targets (`targets`, `target_selector`), target
//! labels, and targets from Prometheus `file_sd` files re-read on change.

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;

use crate::support::{run_checks, run_cli, sample, stderr, ConfigDir, Exporter, TestApp};

/// An app whose `/health` answers `status`.
async fn app(status: u16) -> TestApp {
    let status = StatusCode::from_u16(status).unwrap();
    TestApp::start(axum::Router::new().route("/health", get(move || async move { status }))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn each_check_target_pair_is_a_result_of_its_own_everywhere() {
    let up = app(200).await;
    let down = app(500).await;
    let staging = app(200).await;
    let config = format!(
        r#"
global: {{ interval: 2s, timeout: 1s, labels: {{ team: platform }}, series_labels: [env] }}
targets:
  a: {{ http: {{ url: "{up}" }}, labels: {{ env: prod, role: web }} }}
  b: {{ http: {{ url: "{down}" }}, labels: {{ env: prod, role: web }} }}
  c: {{ http: {{ url: "{staging}" }}, labels: {{ env: staging }} }}
  # A prod database: not a target the http kind reads, so the selector
  # passes it over (it is never contacted).
  db: {{ postgres: {{ url: "postgres://m@127.0.0.1:1/app" }}, labels: {{ env: prod }} }}
checks:
  - name: health
    kind: http
    target_selector: {{ env: prod }}
    labels: {{ team: web }}
    params: {{ url: /health }}
  - name: listed
    kind: http
    targets: [c, a]
    params: {{ url: /health }}
  - name: qa
    kind: http
    target_selector: {{ env: qa }}
    params: {{ url: /health }}
"#,
        up = up.url(""),
        down = down.url(""),
        staging = staging.url(""),
    );

    // The gate: one result per pair, the selector that matches nothing an error.
    let results = run_checks(&config, &[]);
    let mut names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["health:a", "health:b", "listed:a", "listed:c", "qa"],
        "{results:?}"
    );
    results.expect_states(&[
        ("health:a", "pass", ""),
        ("health:b", "fail", "500"),
        ("listed:c", "pass", ""),
        ("listed:a", "pass", ""),
        (
            "qa",
            "error",
            "target_selector {env=\"qa\"} matches no http target",
        ),
    ]);
    assert_eq!(
        results.get("health:b").doc["target"],
        "b",
        "{:?}",
        results.get("health:b").doc
    );

    // JUnit names each pair.
    let dir = ConfigDir::new(&config);
    let arg = format!("--config.file={}", dir.config_path().display());
    let junit = run_cli(&["check", &arg, "--format", "junit"], &[]);
    let junit = String::from_utf8_lossy(&junit.stdout).into_owned();
    for name in ["health:a", "health:b", "listed:c", "listed:a"] {
        assert!(
            junit.contains(&format!("<testcase name=\"{name}\"")),
            "{name}: {junit}"
        );
    }

    // The daemon: metrics, labels from the target (the check's own win),
    // the API and the status page.
    let exporter = Exporter::start(&config);
    let metrics = exporter
        .wait_metrics(Duration::from_secs(10), |m| {
            m.contains(r#"prodready_check_success{check="health:b",category="operations",severity="warning",env="prod"} 0"#)
                && m.contains(r#"prodready_check_success{check="health:a",category="operations",severity="warning",env="prod"} 1"#)
                && m.contains(r#"prodready_check_state{check="qa",category="operations",severity="warning",env="",state="error"} 1"#)
        })
        .await;
    let info = metrics
        .lines()
        .find(|l| l.starts_with(r#"prodready_check_info{check="health:a""#))
        .unwrap_or_else(|| panic!("{metrics}"));
    for label in [
        r#"target="a""#,
        r#"env="prod""#,
        r#"role="web""#,
        r#"team="web""#,
    ] {
        assert!(info.contains(label), "{label} missing: {info}");
    }
    let listed = metrics
        .lines()
        .find(|l| l.starts_with(r#"prodready_check_info{check="listed:c""#))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(
        listed.contains(r#"env="staging""#) && listed.contains(r#"team="platform""#),
        "{listed}"
    );
    assert_eq!(
        sample(
            &metrics,
            r#"prodready_check_state{check="qa",category="operations",severity="warning",env="",state="error"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    assert!(!metrics.contains("check=\"health:db\"") && !metrics.contains("check=\"health:c\""));

    let (status, api) = exporter.get("/api/v1/checks?check=health:b").await;
    assert_eq!(status, 200, "{api}");
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    let checks = api["data"]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1, "{api}");
    assert_eq!(checks[0]["target"], "b");
    assert_eq!(checks[0]["state"], "fail");
    let (_, page) = exporter.get("/").await;
    assert!(page.contains("id=\"check-health:b\""), "{page}");

    // `/probe` evaluates one pair.
    let (status, probe) = exporter.get("/probe?check=health:a").await;
    assert_eq!(status, 200, "{probe}");
    assert!(
        probe.contains(r#"prodready_check_success{check="health:a""#),
        "{probe}"
    );
}

/// Writes a file_sd file of one group.
fn write_sd(dir: &ConfigDir, name: &str, addresses: &[&str], role: &str) {
    let doc = serde_json::json!([{ "targets": addresses, "labels": { "role": role } }]);
    let text = if name.ends_with(".json") {
        doc.to_string()
    } else {
        // YAML: file_sd's other format.
        format!(
            "- targets: [{}]\n  labels: {{ role: {role} }}\n",
            addresses
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let path = dir.path(name);
    // Written beside and renamed, as inventory tools do.
    let tmp = dir.path(&format!("{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_from_file_sd_files_follow_the_files() {
    let up = app(200).await;
    let down = app(500).await;
    let exporter = Exporter::start(
        r#"
global: { interval: 1s, timeout: 1s }
file_sd_configs:
  - files: [inventory/*.json, inventory/*.yaml]
    refresh_interval: 1s
    labels: { origin: inventory }
    target: { http: { url: "http://{address}" } }
checks:
  - name: up
    kind: http
    target_selector: { role: web }
    params: { url: /health }
"#,
    );
    let dir = &exporter.config;
    std::fs::create_dir(dir.path("inventory")).unwrap();
    // No file yet: the selector matches nothing, which is an error.
    let metrics = exporter
        .wait_metrics(Duration::from_secs(10), |m| {
            m.contains(r#"prodready_check_state{check="up",category="operations",severity="warning",state="error"} 1"#)
        })
        .await;
    assert!(metrics.contains("prodready_check_info{check=\"up\""));

    let first = format!("up:{}", up.addr);
    let second = format!("up:{}", down.addr);
    write_sd(dir, "inventory/web.json", &[&up.addr], "web");
    exporter
        .wait_metrics(Duration::from_secs(10), |m| {
            m.contains(&format!(r#"prodready_check_success{{check="{first}",category="operations",severity="warning"}} 1"#))
                && !m.contains("check=\"up\"")
        })
        .await;

    // A second file (YAML) adds a target; the first pair keeps running.
    write_sd(dir, "inventory/more.yaml", &[&down.addr], "web");
    let metrics = exporter
        .wait_metrics(Duration::from_secs(10), |m| {
            m.contains(&format!(r#"prodready_check_success{{check="{second}",category="operations",severity="warning"}} 0"#))
        })
        .await;
    let info = metrics
        .lines()
        .find(|l| l.starts_with(&format!("prodready_check_info{{check=\"{second}\"")))
        .unwrap();
    assert!(
        info.contains(r#"origin="inventory""#) && info.contains(r#"role="web""#),
        "{info}"
    );
    exporter
        .wait_log(Duration::from_secs(5), "kept=1 started=1 stopped=0")
        .await;

    // A broken file is refused once, naming the file; the targets stay.
    std::fs::write(dir.path("inventory/broken.json"), "[{\"targets\": [").unwrap();
    exporter
        .wait_metrics(Duration::from_secs(10), |m| {
            sample(m, "prodready_config_last_reload_successful") == Some(0.0)
        })
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let logs = exporter.logs();
    let refusals: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("Config reload rejected") && l.contains("broken.json"))
        .collect();
    assert_eq!(refusals.len(), 1, "{logs}");
    assert!(
        refusals[0].contains("invalid file_sd JSON"),
        "{}",
        refusals[0]
    );
    let metrics = exporter.metrics().await;
    assert!(
        metrics.contains(&format!("check=\"{first}\""))
            && metrics.contains(&format!("check=\"{second}\""))
    );

    // An address that could change the origin is refused.
    write_sd(
        dir,
        "inventory/broken.json",
        &["user:pw@evil.example"],
        "web",
    );
    let logs = exporter
        .wait_log(
            Duration::from_secs(10),
            "address has a port that is not a number",
        )
        .await;
    assert!(!logs.contains("user:pw"), "{logs}");

    // Fixed and the first file removed: its target goes, at once.
    std::fs::remove_file(dir.path("inventory/broken.json")).unwrap();
    std::fs::remove_file(dir.path("inventory/web.json")).unwrap();
    let metrics = exporter
        .wait_metrics(Duration::from_secs(10), |m| {
            sample(m, "prodready_config_last_reload_successful") == Some(1.0)
                && !m.contains(&format!("check=\"{first}\""))
        })
        .await;
    assert!(
        metrics.contains(&format!("check=\"{second}\"")),
        "{metrics}"
    );
}

#[test]
fn bad_target_selections_and_file_sd_entries_name_what_and_where() {
    let dir = ConfigDir::new("");
    std::fs::create_dir(dir.path("inv")).unwrap();
    std::fs::write(
        dir.path("inv/hosts.json"),
        r#"[{"targets": ["ok.internal:443", "bad host"], "labels": {"__meta_x": "1"}}, {"targets": ["ok.internal:443"]}]"#,
    )
    .unwrap();
    std::fs::write(dir.path("inv/notes.txt"), "not a target file").unwrap();
    dir.write_config(
        r#"
targets:
  web: { http: { url: "http://127.0.0.1:1" }, labels: { "bad-name": x } }
  db: { postgres: { url: "postgres://m@127.0.0.1:1/app" } }
file_sd_configs:
  - files: [inv/*.json]
    target: { http: { url: "https://shop.internal/" } }
  - files: ["*/x/*.json"]
    target: { http: { url: "https://{address}/" } }
  - files: [inv/*.json, inv/*.txt]
    target: { http: { url: "https://{address}/" } }
checks:
  - { name: both, kind: http, target: web, targets: [web] }
  - { name: unknown, kind: http, targets: [web, nowhere] }
  - { name: twice, kind: http, targets: [web, web] }
  - { name: wrong_type, kind: http, targets: [db] }
  - { name: empty, kind: http, target_selector: {} }
  - { name: no_target_kind, kind: command, target_selector: { env: prod }, params: { argv: ["true"] } }
"#,
    );
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["validate", &arg], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for expected in [
        "target \"web\": field labels.bad-name: must match",
        "file_sd_configs[0]: field target: the target's url (or path) must contain {address}",
        "file_sd_configs[1]: field files[0]: \"*/x/*.json\" has a wildcard in a directory",
        "hosts.json: [0].targets[1]: address must be host",
        "hosts.json: [0].labels.__meta_x: must match",
        "hosts.json: [1].targets[0]: target \"ok.internal:443\" is defined twice",
        "notes.txt: must end in .json, .yml or .yaml",
        "check \"both\" (checks[0]): field target: set one of target, targets and target_selector",
        "check \"unknown\" (checks[1]): field targets[1]: unknown target \"nowhere\"",
        "check \"twice\" (checks[2]): field targets[1]: target \"web\" is listed twice",
        "check \"wrong_type\" (checks[3]): field targets[0]: target \"db\" is a postgres target, but kind http needs a http target",
        "check \"empty\" (checks[4]): field target_selector: name at least one label",
        "check \"no_target_kind\" (checks[5]): field target_selector: kind command does not use a target",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}
