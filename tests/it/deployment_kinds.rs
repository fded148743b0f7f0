//! The deployment-step kinds against status endpoints of a small app (the
//! Prometheus sources run in ops_kinds with a real Prometheus): the version
//! every replica reports, and the old release's in-flight count draining.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;

use crate::support::{run_checks, TestApp};

async fn app() -> TestApp {
    let draining = Arc::new(AtomicU32::new(3));
    TestApp::start(
        axum::Router::new()
            .route(
                "/version",
                get(|| async { r#"{"build": {"version": "1.4.2"}}"# }),
            )
            .route(
                "/replica-b/version",
                get(|| async { r#"{"build": {"version": "1.4.1"}}"# }),
            )
            .route("/version.txt", get(|| async { "shop version: 1.4.2\n" }))
            .route(
                "/broken/version",
                get(|| async { (StatusCode::NOT_FOUND, "no such page") }),
            )
            .route(
                "/draining",
                get(move || {
                    let left = draining.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
                    async move { format!(r#"{{"in_flight": {left}}}"#) }
                }),
            )
            .route("/stuck", get(|| async { r#"{"in_flight": 2}"# }))
            .route("/garbage", get(|| async { r#"{"in_flight": "many"}"# })),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn deployed_version_and_connections_drained_read_status_endpoints() {
    let app = app().await;
    let config = format!(
        r#"
targets:
  app: {{ http: {{ url: "http://{addr}" }} }}
checks:
  - {{ name: version_ok, kind: deployed_version, target: app, params: {{ expected: "1.4.2", urls: [/version], json_pointer: /build/version }} }}
  - {{ name: version_mixed, kind: deployed_version, target: app, params: {{ expected: "1.4.2", urls: [/version, /replica-b/version], json_pointer: /build/version }} }}
  - {{ name: version_text, kind: deployed_version, target: app, params: {{ expected: "1.4.2", urls: [/version.txt], regex: 'version: (\S+)' }} }}
  - {{ name: version_too_few, kind: deployed_version, target: app, params: {{ expected: "1.4.2", urls: [/version], json_pointer: /build/version, min_replicas: 2 }} }}
  - {{ name: version_broken, kind: deployed_version, target: app, params: {{ expected: "1.4.2", urls: [/broken/version] }} }}
  - {{ name: drained, kind: connections_drained, target: app, params: {{ url: /draining, json_pointer: /in_flight, deadline: 5s, poll_interval: 200ms }} }}
  - {{ name: stuck, kind: connections_drained, target: app, params: {{ url: /stuck, json_pointer: /in_flight, deadline: 1s, poll_interval: 200ms }} }}
  - {{ name: garbage, kind: connections_drained, target: app, params: {{ url: /garbage, json_pointer: /in_flight, deadline: 1s }} }}
"#,
        addr = app.addr
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    r.expect_states(&[
        ("version_ok", "pass", "all 1 replica(s) report 1.4.2"),
        (
            "version_mixed",
            "fail",
            "1 of 2 replica(s) are not on 1.4.2",
        ),
        ("version_text", "pass", "report 1.4.2"),
        (
            "version_too_few",
            "fail",
            "only 1 replica(s) report 1.4.2, need 2",
        ),
        ("version_broken", "error", "answered 404"),
        ("drained", "pass", "drained: 0 in flight"),
        ("stuck", "fail", "still 2 in flight after"),
        ("garbage", "error", "is not a number"),
    ]);
    assert!(r
        .get("version_mixed")
        .message
        .contains("/replica-b/version reports \"1.4.1\""));
    assert_eq!(r.get("drained").doc["evidence"], serde_json::json!({}));
}

#[test]
fn deployment_kinds_reject_contradictory_params() {
    let dir = crate::support::ConfigDir::new(
        "targets:\n  app: { http: { url: \"http://127.0.0.1:1\" } }\nchecks:
  - { name: a, kind: deployed_version, target: app, params: { expected: \"\" , urls: [/v] } }
  - { name: b, kind: deployed_version, target: app, params: { expected: \"1\" } }
  - { name: c, kind: connections_drained, target: app, timeout: 5s, params: { url: /s, deadline: 10s } }
",
    );
    let out = crate::support::run_cli(
        &[
            "validate",
            &format!("--config.file={}", dir.config_path().display()),
        ],
        &[],
    );
    let err = crate::support::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for part in [
        "check \"a\" (checks[0]): field params.expected: must name the release",
        "check \"b\" (checks[1]): field params.query: set query (a Prometheus target) or urls",
        "check \"c\" (checks[2]): field params.deadline: must be shorter than the check's timeout (5s)",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
}
