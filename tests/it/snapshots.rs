//! Snapshots of what users read: the `check` reports (table, JSON, JUnit)
//! and `/metrics` for one fixed config that needs no server. What varies
//! between runs (durations, timestamps, build labels) is redacted; anything
//! else that changes is a change of the output contract and shows up here.

use std::time::Duration;

use crate::support::{run_cli, stdout, ConfigDir, Exporter};

const CONFIG: &str = r#"
global: { interval: 1h, timeout: 10s }
checks:
  - { name: secret_set, kind: env_secret, severity: critical, params: { variable: SNAPSHOT_SECRET } }
  - { name: secret_unset, kind: env_secret, params: { variable: SNAPSHOT_UNSET_4711 } }
  - { name: tool_ok, kind: command, item: step.healthcheck, params: { argv: ["true"] } }
  - { name: tool_fails, kind: command, severity: info, params: { argv: ["sh", "-c", "echo broken >&2; exit 2"] } }
  - { name: backups, kind: backup_freshness, params: { dir: /nonexistent/backups, max_age: 1d } }
"#;

const ENV: &[(&str, &str)] = &[("SNAPSHOT_SECRET", "k3J9-xQ2v-Lm8P-Zt4w-Rb7N")];

fn report(format: &str) -> (i32, String) {
    report_with(&["--format", format])
}

fn report_with(extra: &[&str]) -> (i32, String) {
    let dir = ConfigDir::new(CONFIG);
    let arg = format!("--config.file={}", dir.config_path().display());
    let mut args = vec!["check", arg.as_str()];
    args.extend_from_slice(extra);
    let out = run_cli(&args, ENV);
    (out.status.code().unwrap_or(-1), stdout(&out))
}

/// Filters for values that differ between runs.
fn redacted() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (r"\s+\d+ms  ", "  [dur]  "),
        (
            r#""duration_seconds": [0-9.e-]+"#,
            r#""duration_seconds": "[dur]""#,
        ),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[timestamp]"),
        (r#"time="[0-9.]+""#, r#"time="[dur]""#),
        (r#"timestamp="[^"]+""#, r#"timestamp="[timestamp]""#),
        (
            r"(prodready_check_duration_seconds\{[^}]*\}) \S+",
            "$1 [dur]",
        ),
        (
            r"(_timestamp_seconds(\{[^}]*\})?) [1-9]\S*",
            "$1 [timestamp]",
        ),
        (
            r"(prodready_scheduler_lateness_seconds_(bucket|sum|count)(\{[^}]*\})?) \S+",
            "$1 [n]",
        ),
        (r"(?m)^(process_[a-z_]+) \S+$", "$1 [n]"),
        (
            r#"prodready_build_info\{[^}]*\}"#,
            "prodready_build_info{[build]}",
        ),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

#[test]
fn check_table_report() {
    let (code, text) = report("table");
    assert_eq!(code, 1);
    redacted().bind(|| insta::assert_snapshot!("check_table", text));
}

#[test]
fn check_json_report() {
    let (code, text) = report("json");
    assert_eq!(code, 1);
    redacted().bind(|| insta::assert_snapshot!("check_json", text));
}

#[test]
fn check_junit_report() {
    let (code, text) = report("junit");
    assert_eq!(code, 1);
    redacted().bind(|| insta::assert_snapshot!("check_junit", text));
}

#[test]
fn check_phase_table_report() {
    let (code, text) = report_with(&["--phase", "post-deploy", "--format", "table"]);
    assert_eq!(code, 1);
    redacted().bind(|| insta::assert_snapshot!("check_phase_table", text));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_page() {
    let exporter = Exporter::start_with(CONFIG, ENV, &[]);
    exporter.wait_ready(Duration::from_secs(20)).await;
    let metrics = exporter.metrics().await;
    redacted().bind(|| insta::assert_snapshot!("metrics", metrics));
}
