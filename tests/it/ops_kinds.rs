//! The operations kinds against real Prometheus and Alertmanager (Debian
//! packages) scraping a small app whose gauges move over time, and a fake
//! Loki that answers with the shapes of Loki's documented HTTP API.

use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;

use crate::support::prometheus::{start_alertmanager, start_prometheus, Server};
use crate::support::{assert_state, by, run_checks, wait_until, TestApp};

/// Metrics that move: a leaking and a steady process, a filling disk, a flat pool.
async fn app() -> TestApp {
    let started = Instant::now();
    let start_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    TestApp::start(axum::Router::new().route(
        "/metrics",
        get(move || async move {
            let t = started.elapsed().as_secs_f64();
            format!(
                "# TYPE process_resident_memory_bytes gauge\n\
                 process_resident_memory_bytes{{component=\"leaky\"}} {}\n\
                 process_resident_memory_bytes{{component=\"steady\"}} 50000000\n\
                 process_resident_memory_bytes{{component=\"crashy\"}} {}\n\
                 # TYPE process_start_time_seconds gauge\n\
                 process_start_time_seconds{{component=\"leaky\"}} {start_unix}\n\
                 process_start_time_seconds{{component=\"steady\"}} {start_unix}\n\
                 process_start_time_seconds{{component=\"crashy\"}} {}\n\
                 # TYPE disk_used_bytes gauge\n\
                 disk_used_bytes{{volume=\"data\"}} {}\n\
                 # TYPE disk_size_bytes gauge\n\
                 disk_size_bytes{{volume=\"data\"}} 100000000\n\
                 # TYPE pool_used gauge\n\
                 pool_used{{pool=\"db\"}} 10\n\
                 # TYPE shop_build_info gauge\n\
                 shop_build_info{{replica=\"a\",version=\"1.4.2\"}} 1\n\
                 shop_build_info{{replica=\"b\",version=\"1.4.1\"}} 1\n\
                 # TYPE old_in_flight gauge\n\
                 old_in_flight{{release=\"previous\"}} {}\n",
                100_000_000.0 + t * 1_000_000.0,
                // Leaks 20 MB/s and is killed every 4 seconds.
                100_000_000.0 + (t % 4.0) * 20_000_000.0,
                start_unix + (t / 4.0).floor() as u64 * 4,
                50_000_000.0 + t * 1_000_000.0,
                (4.0 - t).max(0.0).floor(),
            )
        }),
    ))
    .await
}

const GOOD_RULES: &str = r#"
groups:
  - name: availability
    rules:
      - alert: Watchdog
        expr: vector(1)
        annotations: { runbook_url: "https://runbooks.example.com/watchdog", summary: "always firing" }
      - alert: AppDown
        expr: up{job="app"} == 0
        for: 1m
        annotations: { runbook_url: "https://runbooks.example.com/app-down" }
"#;

const NO_RUNBOOK: &str = r#"
groups:
  - name: legacy
    rules:
      - alert: DiskFullSoon
        expr: vector(0) > 1
"#;

const BROKEN: &str = r#"
groups:
  - name: broken
    rules:
      - alert: Broken
        expr: label_replace(vector(1), "a", "$1", "b", "(")
        annotations: { runbook_url: "https://runbooks.example.com/broken" }
"#;

fn prometheus_config(app: &str, alertmanager: Option<u16>) -> String {
    let alerting = alertmanager.map_or(String::new(), |p| {
        format!("alerting:\n  alertmanagers:\n    - static_configs: [{{ targets: [\"127.0.0.1:{p}\"] }}]\n")
    });
    format!(
        "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n{alerting}rule_files: [\"{{dir}}/rules/*.yml\"]\nscrape_configs:\n  - job_name: app\n    static_configs: [{{ targets: [\"{app}\"] }}]\n  - job_name: broken\n    static_configs: [{{ targets: [\"127.0.0.1:1\"] }}]\n"
    )
}

fn api(server: &Server, path: &str) -> serde_json::Value {
    let out = std::process::Command::new("curl")
        .args(["-s", "-g", &format!("{}{path}", server.url())])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_and_alertmanager_kinds_against_real_servers() {
    let app = app().await;
    let good_am = start_alertmanager(
        "route: { receiver: team, group_wait: 1s }\nreceivers:\n  - name: team\n    webhook_configs: [{ url: \"http://127.0.0.1:1/hook\" }]\n",
    );
    let bad_am = start_alertmanager(
        "route:\n  receiver: team\n  routes:\n    - matchers: ['severity=\"critical\"']\n      receiver: blackhole\nreceivers:\n  - name: team\n    webhook_configs: [{ url: \"http://127.0.0.1:1/hook\" }]\n  - name: blackhole\n",
    );
    let clean = start_prometheus(
        &prometheus_config(&app.addr, Some(good_am.port)),
        &[("good", GOOD_RULES)],
    );
    let full = start_prometheus(
        &prometheus_config(&app.addr, None),
        &[
            ("good", GOOD_RULES),
            ("legacy", NO_RUNBOOK),
            ("broken", BROKEN),
        ],
    );
    // Let both scrape and evaluate for a while; wait for the Watchdog to reach Alertmanager.
    let (clean_ref, full_ref, am_ref) = (&clean, &full, &good_am);
    tokio::task::spawn_blocking({
        let clean_url = clean_ref.url();
        let full_url = full_ref.url();
        let am_url = am_ref.url();
        move || {
            let get = |url: String| -> serde_json::Value {
                let out = std::process::Command::new("curl")
                    .args(["-s", "-g", &url])
                    .output()
                    .unwrap();
                serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
            };
            wait_until("8 scrapes", Duration::from_secs(30), || {
                get(format!(
                    "{clean_url}/api/v1/query?query=count_over_time(disk_used_bytes[1m])"
                ))
                .pointer("/data/result/0/value/1")
                .and_then(|v| v.as_str())
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|n| n >= 8.0)
            });
            wait_until(
                "the broken rule to be evaluated",
                Duration::from_secs(20),
                || {
                    get(format!("{full_url}/api/v1/rules"))
                        .to_string()
                        .contains("\"health\":\"err\"")
                },
            );
            // Deliver the Watchdog the way Prometheus' notifier does (POST
            // /api/v2/alerts), so this test does not depend on notifier timing
            // (the end-to-end test in dashboards.rs covers that path).
            let posted = std::process::Command::new("curl")
                .args([
                    "-s",
                    "-XPOST",
                    "-H",
                    "Content-Type: application/json",
                    &format!("{am_url}/api/v2/alerts"),
                    "-d",
                    r#"[{"labels":{"alertname":"Watchdog","severity":"none"}}]"#,
                ])
                .status()
                .unwrap();
            assert!(posted.success());
            wait_until(
                "the Watchdog alert in Alertmanager",
                Duration::from_secs(10),
                || {
                    get(format!("{am_url}/api/v2/alerts"))
                        .to_string()
                        .contains("Watchdog")
                },
            );
        }
    })
    .await
    .unwrap();
    let _ = api(&clean, "/-/ready");
    let config = format!(
        r#"
targets:
  prom: {{ prometheus: {{ url: "{clean}" }} }}
  messy: {{ prometheus: {{ url: "{full}" }} }}
  am: {{ alertmanager: {{ url: "{am}" }} }}
  bad_am: {{ alertmanager: {{ url: "{bad_am}" }} }}
checks:
  - {{ name: targets_ok, kind: prometheus_targets, target: prom, params: {{ jobs: [{{ job: app }}] }} }}
  - {{ name: targets_down, kind: prometheus_targets, target: prom, params: {{ jobs: [{{ job: app }}, {{ job: broken }}] }} }}
  - {{ name: targets_missing, kind: prometheus_targets, target: prom, params: {{ jobs: [{{ job: payments, min_targets: 2 }}] }} }}
  - {{ name: rules_ok, kind: prometheus_rules, target: prom, params: {{ min_rules: 2, groups: [availability] }} }}
  - {{ name: rules_bad, kind: prometheus_rules, target: messy }}
  - {{ name: promql_ok, kind: promql, target: prom, params: {{ query: 'up{{job="app"}}', op: "==", threshold: 1 }} }}
  - {{ name: promql_fail, kind: promql, target: prom, params: {{ query: 'up{{job="broken"}}', op: "==", threshold: 1 }} }}
  - {{ name: promql_empty, kind: promql, target: prom, params: {{ query: 'no_such_series_xyz', op: ">", threshold: 0 }} }}
  - {{ name: promql_empty_unknown, kind: promql, target: prom, params: {{ query: 'no_such_series_xyz', op: ">", threshold: 0, on_empty: unknown }} }}
  - {{ name: leak, kind: memory_growth, target: prom, params: {{ selector: '{{component="leaky"}}', window: 1m, horizon: 1d, max_growth: 100MiB, min_samples: 5 }} }}
  - {{ name: steady, kind: memory_growth, target: prom, params: {{ selector: '{{component="steady"}}', window: 1m, horizon: 1d, max_growth: 100MiB, min_samples: 5 }} }}
  - {{ name: oom_loop, kind: memory_growth, target: prom, params: {{ selector: '{{component="crashy"}}', window: 1m, horizon: 1d, max_growth: 100MiB, min_samples: 3 }} }}
  - {{ name: too_little, kind: memory_growth, target: prom, params: {{ selector: '{{component="leaky"}}', window: 1m, max_growth: 100MiB, min_samples: 100000 }} }}
  - {{ name: disk_full_soon, kind: capacity, target: prom, params: {{ usage: 'disk_used_bytes{{volume="data"}}', limit: 'disk_size_bytes{{volume="data"}}', window: 1m, horizon: 1h }} }}
  - {{ name: pool_ok, kind: capacity, target: prom, params: {{ usage: 'pool_used{{pool="db"}}', limit: 100, window: 1m, horizon: 7d }} }}
  - {{ name: pool_no_trend, kind: capacity, target: prom, params: {{ usage: 'pool_used{{pool="db"}}', limit: 100, window: 1s, horizon: 7d }} }}
  - {{ name: am_ok, kind: alertmanager, target: am, params: {{ watchdog_alert: Watchdog }} }}
  - {{ name: version_mixed, kind: deployed_version, target: prom, params: {{ expected: "1.4.2", query: shop_build_info }} }}
  - {{ name: version_one, kind: deployed_version, target: prom, params: {{ expected: "1.4.2", query: 'shop_build_info{{replica="a"}}' }} }}
  - {{ name: drained_prom, kind: connections_drained, target: prom, params: {{ query: 'sum(old_in_flight{{release="previous"}})', deadline: 5s }} }}
  - {{ name: drain_nothing, kind: connections_drained, target: prom, params: {{ query: 'no_such_in_flight', deadline: 2s }} }}
  - {{ name: drain_absent_ok, kind: connections_drained, target: prom, params: {{ query: 'no_such_in_flight', deadline: 2s, absent_means_drained: true }} }}
  - {{ name: am_blackhole, kind: alertmanager, target: bad_am }}
  - {{ name: am_no_watchdog, kind: alertmanager, target: bad_am, params: {{ watchdog_alert: Watchdog }} }}
"#,
        clean = clean.url(),
        full = full.url(),
        am = good_am.url(),
        bad_am = bad_am.url(),
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    r.expect_states(&[
        ("targets_ok", "pass", "1 job(s) present and up"),
        (
            "targets_down",
            "fail",
            "job \"broken\": 0 of 1 target(s) up",
        ),
    ]);
    assert!(
        by(&r, "targets_down").doc["evidence"]["down"][0]["lastError"]
            .as_str()
            .unwrap()
            .contains("connection refused")
    );
    r.expect_states(&[
        (
            "targets_missing",
            "fail",
            "job \"payments\" has 0 active target(s), need 2",
        ),
        ("rules_ok", "pass", "2 alerting rule(s) in 1 group(s)"),
    ]);
    let bad = &by(&r, "rules_bad").message;
    assert_state(
        by(&r, "rules_bad"),
        "fail",
        "1 rule(s) failing to evaluate: Broken",
    );
    assert!(
        bad.contains("alert(s) without runbook_url: DiskFullSoon"),
        "{bad}"
    );
    assert!(bad.contains("no active Alertmanager"), "{bad}");
    r.expect_states(&[
        ("promql_ok", "pass", "1 series, all == 1"),
        (
            "promql_fail",
            "fail",
            "up{instance=\"127.0.0.1:1\", job=\"broken\"} = 0",
        ),
        ("promql_empty", "error", "the query returned no data"),
        ("promql_empty_unknown", "unknown", "no data"),
        ("leak", "warn", "suspect leak"),
    ]);
    assert!(by(&r, "leak").doc["observed"].as_f64().unwrap() > 100.0 * 1048576.0);
    r.expect_states(&[
        ("steady", "pass", "largest projected growth 0.0 MiB"),
        ("too_little", "unknown", "not enough data"),
        (
            "oom_loop",
            "fail",
            "memory grows until the process restarts",
        ),
        ("disk_full_soon", "fail", "is full in"),
    ]);
    let eta = by(&r, "disk_full_soon").doc["observed"].as_f64().unwrap();
    assert!((10.0..120.0).contains(&eta), "{eta}");
    r.expect_states(&[
        ("pool_ok", "pass", "not growing"),
        ("pool_no_trend", "unknown", "no trend yet"),
        (
            "version_mixed",
            "fail",
            "1 of 2 replica(s) are not on 1.4.2",
        ),
        ("version_one", "pass", "all 1 replica(s) report 1.4.2"),
        ("drained_prom", "pass", "drained: 0 in flight"),
        ("drain_nothing", "error", "returned no series"),
        ("drain_absent_ok", "pass", "drained"),
        ("am_ok", "pass", "cluster disabled"),
    ]);
    assert!(by(&r, "am_ok").message.contains("Watchdog firing"));
    r.expect_states(&[
        ("am_blackhole", "fail", "silently drop alerts: blackhole"),
        ("am_no_watchdog", "fail", "\"Watchdog\" is not active"),
    ]);
}

/// A stand-in for Loki (it cannot be installed here) that answers like
/// Loki's documented `/loki/api/v1/query_range`: a `streams` result, or a
/// plain-text 400 for a LogQL syntax error.
async fn fake_loki() -> TestApp {
    TestApp::start(axum::Router::new().route(
        "/loki/api/v1/query_range",
        get(|Query(q): Query<std::collections::HashMap<String, String>>| async move {
            let query = q.get("query").cloned().unwrap_or_default();
            let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
            if !query.starts_with('{') || query.contains("{{") {
                return (StatusCode::BAD_REQUEST, [("content-type", "text/plain; charset=utf-8")], "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER\n".to_owned());
            }
            if query.contains("crash") {
                return (StatusCode::INTERNAL_SERVER_ERROR, [("content-type", "text/plain; charset=utf-8")], "internal server error\n".to_owned());
            }
            let values: Vec<serde_json::Value> = if query.contains("app=\"shop\"") {
                (0..3.min(limit)).map(|i| serde_json::json!([format!("17000000000000000{i:02}"), format!("GET /cart 200 {i}")])).collect()
            } else {
                Vec::new()
            };
            let result = if values.is_empty() { serde_json::json!([]) } else { serde_json::json!([{"stream": {"app": "shop", "level": "info"}, "values": values}]) };
            let body = serde_json::json!({
                "status": "success",
                "data": {"resultType": "streams", "result": result, "stats": {"summary": {"bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0}}}
            });
            (StatusCode::OK, [("content-type", "application/json")], body.to_string())
        }),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn loki_recent_logs_against_lokis_api_shapes() {
    let loki = fake_loki().await;
    let config = format!(
        r#"
targets:
  loki: {{ loki: {{ url: "http://{addr}" }} }}
checks:
  - {{ name: shop_logs, kind: loki_recent_logs, target: loki, params: {{ query: '{{app="shop"}}', min_lines: 2 }} }}
  - {{ name: silent, kind: loki_recent_logs, target: loki, params: {{ query: '{{app="silent"}}' }} }}
  - {{ name: too_few, kind: loki_recent_logs, target: loki, params: {{ query: '{{app="shop"}}', min_lines: 50 }} }}
  - {{ name: broken, kind: loki_recent_logs, target: loki, params: {{ query: '{{app="crash"}}' }} }}
"#,
        addr = loki.addr
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    r.expect_states(&[
        ("shop_logs", "pass", "2 line(s) from 1 stream(s)"),
        ("silent", "fail", "0 line(s)"),
        (
            "too_few",
            "fail",
            "3 line(s) for {app=\"shop\"} in the last 5m, need 50",
        ),
        ("broken", "error", "answered 500: internal server error"),
    ]);
}

/// Alertmanager refuses to start without a route, so a stand-in replays the
/// documented /api/v2/status shape of a config whose routing reaches no
/// receiver: that is a fail, never "every routed receiver is fine".
#[tokio::test(flavor = "multi_thread")]
async fn alertmanager_without_a_route_fails() {
    let am = TestApp::start(axum::Router::new().route(
        "/api/v2/status",
        get(|| async {
            axum::Json(serde_json::json!({
                "cluster": {"status": "ready", "peers": [{"name": "a", "address": "127.0.0.1:9094"}]},
                "config": {"original": "global: {}\nreceivers:\n- name: nobody\n"},
                "versionInfo": {"version": "0.25.0"},
                "uptime": "2026-11-25T00:00:00Z"
            }))
        }),
    ))
    .await;
    let config = format!(
        "targets:\n  am: {{ alertmanager: {{ url: \"http://{}\" }} }}\nchecks:\n  - {{ name: am, kind: alertmanager, target: am }}\n",
        am.addr
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    assert_state(by(&r, "am"), "fail", "no route with a receiver");
}
