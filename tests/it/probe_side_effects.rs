//! `/probe` runs on demand only what reads: a check whose configured
//! request may change its target (a method other than GET, HEAD, OPTIONS,
//! TRACE, or a body) is refused unless it opts in (`probe: true`), whatever
//! its kind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::any;

use crate::support::{Exporter, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn probe_refuses_a_check_that_writes_unless_it_opts_in() {
    let writes = Arc::new(AtomicUsize::new(0));
    let counter = writes.clone();
    let app = TestApp::start(axum::Router::new().route(
        "/orders",
        any(move |method: axum::http::Method| {
            let counter = counter.clone();
            async move {
                if method != axum::http::Method::GET {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                "ok"
            }
        }),
    ))
    .await;
    let exporter = Exporter::start(&format!(
        r#"
global: {{ interval: 1h }}
targets:
  shop: {{ http: {{ url: "http://{addr}" }} }}
checks:
  - {{ name: reads, kind: http, target: shop, params: {{ url: /orders }} }}
  - {{ name: posts, kind: http, target: shop, params: {{ url: /orders, method: POST }} }}
  - {{ name: sends_body, kind: http, target: shop, params: {{ url: /orders, method: GET, body: "{{}}" }} }}
  - {{ name: posts_opted_in, kind: http, target: shop, probe: true, params: {{ url: /orders, method: PUT }} }}
"#,
        addr = app.addr
    ));
    exporter.wait_ready(Duration::from_secs(20)).await;
    // The scheduled first round ran every check once.
    let before = writes.load(Ordering::SeqCst);
    assert_eq!(before, 2, "POST and PUT of the first round");
    for (check, says) in [
        ("posts", "check posts sends POST requests"),
        (
            "sends_body",
            "check sends_body sends GET requests with a body",
        ),
    ] {
        let (status, body) = exporter.get(&format!("/probe?check={check}")).await;
        assert_eq!(status, 403, "{check}: {body}");
        assert!(
            body.contains(says) && body.contains("probe: true"),
            "{body}"
        );
    }
    assert_eq!(writes.load(Ordering::SeqCst), before, "/probe sent a write");
    let (status, body) = exporter.get("/probe?check=reads").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = exporter.get("/probe?check=posts_opted_in").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(writes.load(Ordering::SeqCst), before + 1);
}
