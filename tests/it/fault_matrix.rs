//! The fault matrix: targets and APIs that misbehave in every way a real
//! network or a broken service can, all at once against one daemon. Every
//! check ends in `error` with a reason, nothing panics, memory stays bounded
//! and `/metrics` keeps answering within a second throughout; a PostgreSQL
//! killed with SIGKILL and restarted is picked up again without a daemon
//! restart; a config file caught half-written is refused.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::postgres::Postgres;
use crate::support::{Exporter, HangingServer, TestApp};

/// How a hostile HTTP server answers each connection.
#[derive(Clone, Copy, Debug)]
enum Hostility {
    /// Half a status line and headers, then the connection closes.
    ClosesMidHeaders,
    /// The response, one byte per second, forever.
    Trickles,
    /// A chunked body that never ends.
    EndlessBody,
    /// A 1 GiB body, sent as fast as the client reads.
    GiantBody,
    /// Bytes that are no TLS record, in answer to a ClientHello.
    BrokenTls,
}

struct HostileServer {
    addr: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hostile(kind: Hostility) -> HostileServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let mut held = tokio::task::JoinSet::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            held.spawn(async move {
                let mut buf = [0u8; 4096];
                // Wait for the request (or the TLS ClientHello).
                if !matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {
                    return;
                }
                match kind {
                    Hostility::ClosesMidHeaders => {
                        let _ = socket
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")
                            .await;
                    }
                    Hostility::Trickles => {
                        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: ".iter().cycle() {
                            if socket.write_all(&[*byte]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    Hostility::EndlessBody => {
                        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                        if socket.write_all(head).await.is_err() {
                            return;
                        }
                        let chunk = format!("4000\r\n{}\r\n", "a".repeat(0x4000));
                        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                    }
                    Hostility::GiantBody => {
                        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1073741824\r\n\r\n";
                        if socket.write_all(head).await.is_err() {
                            return;
                        }
                        let block = vec![b'z'; 64 * 1024];
                        for _ in 0..(1 << 14) {
                            if socket.write_all(&block).await.is_err() {
                                return;
                            }
                        }
                    }
                    Hostility::BrokenTls => {
                        let _ = socket.write_all(&[0xff; 64]).await;
                    }
                }
            });
        }
    });
    HostileServer { addr, task }
}

/// An alias bomb: nine levels of ten aliases each expand to 10^9 nodes.
fn alias_bomb() -> String {
    let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        doc.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    doc.push_str("route: { receiver: x }\nreceivers: [{ name: x }]\n");
    doc
}

/// Prometheus, Alertmanager and Loki stand-ins that answer garbage: a
/// truncated JSON document, an HTML error page from a proxy, a well-formed
/// answer of the wrong shape, and an Alertmanager whose running config is
/// an alias bomb.
async fn broken_apis() -> TestApp {
    let html = || async {
        (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
    };
    let bomb = serde_json::json!({
        "cluster": { "status": "ready", "peers": [] },
        "config": { "original": alias_bomb() },
        "versionInfo": { "version": "0.25.0" },
        "uptime": "2026-11-25T00:00:00Z",
    });
    TestApp::start(
        axum::Router::new()
            .route(
                "/api/v1/query",
                get(|| async {
                    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":"#
                }),
            )
            .route("/api/v1/targets", get(html))
            .route(
                "/api/v1/rules",
                get(|| async { r#"{"status":"success","data":"not an object"}"# }),
            )
            .route("/loki/api/v1/query_range", get(html))
            .route(
                "/api/v2/status",
                get(move || {
                    let bomb = bomb.clone();
                    async move { axum::Json(bomb) }
                }),
            ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_is_an_error_and_the_daemon_stays_responsive() {
    let hanging = HangingServer::start().await;
    let closes = hostile(Hostility::ClosesMidHeaders).await;
    let trickles = hostile(Hostility::Trickles).await;
    let endless = hostile(Hostility::EndlessBody).await;
    let giant = hostile(Hostility::GiantBody).await;
    let broken_tls = hostile(Hostility::BrokenTls).await;
    let apis = broken_apis().await;
    let pg = Postgres::start(None);
    let config = format!(
        r#"
global: {{ interval: 2s, timeout: 1500ms }}
targets:
  prom: {{ prometheus: {{ url: "http://{apis}" }} }}
  am: {{ alertmanager: {{ url: "http://{apis}" }} }}
  loki: {{ loki: {{ url: "http://{apis}" }} }}
  db: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:{pg_port}/postgres" }} }}
  not_tls: {{ http: {{ url: "https://{broken_tls}/" }} }}
checks:
  - {{ name: never_answers, kind: http, params: {{ url: "http://{hanging}/" }} }}
  - {{ name: closes_mid_headers, kind: http, params: {{ url: "http://{closes}/" }} }}
  - {{ name: trickles, kind: http, params: {{ url: "http://{trickles}/" }} }}
  - {{ name: endless_body, kind: http, params: {{ url: "http://{endless}/", body_regex: "^never$" }} }}
  - {{ name: giant_body, kind: http, params: {{ url: "http://{giant}/", body_regex: "^never$" }} }}
  - {{ name: broken_tls_http, kind: http, params: {{ url: "https://{broken_tls}/" }} }}
  - {{ name: broken_tls_cert, kind: tls_certificate, target: not_tls }}
  - {{ name: garbage_json, kind: promql, target: prom, params: {{ query: "up", op: "<", threshold: 1 }} }}
  - {{ name: html_error_page, kind: prometheus_targets, target: prom, params: {{ jobs: [{{ job: node, min_targets: 1 }}] }} }}
  - {{ name: wrong_shape, kind: prometheus_rules, target: prom, params: {{ require_alertmanager: false }} }}
  - {{ name: alias_bomb, kind: alertmanager, target: am }}
  - {{ name: loki_html, kind: loki_recent_logs, target: loki, params: {{ query: "{{app=\"shop\"}}" }} }}
  - {{ name: db, kind: postgres_connections, target: db }}
"#,
        apis = apis.addr,
        pg_port = pg.port,
        hanging = hanging.addr,
        closes = closes.addr,
        trickles = trickles.addr,
        endless = endless.addr,
        giant = giant.addr,
        broken_tls = broken_tls.addr,
    );
    let exporter = Exporter::start(&config);

    // Scrape all along and time every answer.
    let scraper = {
        let url = exporter.url("/metrics");
        tokio::spawn(async move {
            let client = crate::support::client();
            let mut slowest = Duration::ZERO;
            let mut scrapes = 0;
            let until = Instant::now() + Duration::from_secs(8);
            while Instant::now() < until {
                let started = Instant::now();
                let r = client.get(&url).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200);
                r.bytes().await.unwrap();
                slowest = slowest.max(started.elapsed());
                scrapes += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (scrapes, slowest)
        })
    };
    let mut peak_rss = 0;
    while !scraper.is_finished() {
        peak_rss = peak_rss.max(exporter.rss_kib());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (scrapes, slowest) = scraper.await.unwrap();
    eprintln!("fault matrix: {scrapes} scrapes, slowest {slowest:?}, peak RSS {peak_rss} KiB");
    assert!(scrapes > 30, "only {scrapes} scrapes");
    assert!(
        slowest < Duration::from_secs(1),
        "a scrape took {slowest:?}"
    );
    assert!(peak_rss < 150 * 1024, "peak RSS {peak_rss} KiB");

    let (_, api) = exporter.get("/api/v1/checks").await;
    let doc: serde_json::Value = serde_json::from_str(&api).unwrap();
    let state = |name: &str| -> (String, String) {
        let check = doc["data"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name}"));
        (
            check["state"].as_str().unwrap().to_owned(),
            check["message"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let expected: &[(&str, &str)] = &[
        ("never_answers", "timed out after 1s500ms"),
        (
            "closes_mid_headers",
            "connection closed before message completed",
        ),
        ("trickles", "timed out after 1s500ms"),
        ("endless_body", "larger than max_body_size"),
        ("giant_body", "larger than max_body_size"),
        ("broken_tls_http", "did not answer in TLS"),
        ("broken_tls_cert", "TLS handshake failed"),
        ("garbage_json", "JSON"),
        ("html_error_page", "502"),
        ("wrong_shape", "without a `data.groups` list"),
        ("alias_bomb", "budget breached"),
        ("loki_html", "502"),
    ];
    let mut wrong = Vec::new();
    for (name, fragment) in expected {
        let (got, message) = state(name);
        if got != "error" || message.is_empty() || !message.contains(fragment) {
            wrong.push(format!("{name}: {got}: {message}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(state("db").0, "pass", "{:?}", state("db"));
    assert!(!exporter.logs().contains("panicked"), "{}", exporter.logs());

    // PostgreSQL killed with SIGKILL: an error naming the connection, then,
    // once it is back, a pass again without restarting the daemon.
    pg.kill9();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut down = state("db");
    while down.0 != "error" {
        assert!(Instant::now() < deadline, "still {down:?} after the kill");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, api) = exporter.get("/api/v1/checks?check=db").await;
        let d: serde_json::Value = serde_json::from_str(&api).unwrap();
        down = (
            d["data"]["checks"][0]["state"].as_str().unwrap().to_owned(),
            d["data"]["checks"][0]["message"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert!(!down.1.is_empty());
    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, api) = exporter.get("/api/v1/checks?check=db").await;
        let d: serde_json::Value = serde_json::from_str(&api).unwrap();
        if d["data"]["checks"][0]["state"] == "pass" {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {d}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!exporter.logs().contains("panicked"));
}

/// A config file caught half-written (an editor or a ConfigMap update in
/// progress) is refused by the reload; the running checks stay, and the
/// finished file is taken.
#[tokio::test(flavor = "multi_thread")]
async fn a_half_written_config_is_refused_and_the_running_one_stays() {
    let full = "global: { interval: 1h }\nchecks:\n  - { name: first, kind: command, params: { argv: [\"true\"] } }\n  - { name: second, kind: command, params: { argv: [\"true\"] } }\n";
    let exporter = Exporter::start_with(full, &[], &["--web.enable-lifecycle"]);
    exporter.wait_ready(Duration::from_secs(10)).await;
    let cut = &full[..full.find("  - { name: second").unwrap() + 20];
    exporter.config.write_config(cut);
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("config.yaml"), "{body}");
    let metrics = exporter.metrics().await;
    assert!(metrics.contains("prodready_config_last_reload_successful 0"));
    assert!(metrics.contains(r#"prodready_check_success{check="second""#));
    exporter
        .config
        .write_config(&full.replace("second", "third"));
    assert_eq!(exporter.post("/-/reload").await.0, 200);
    let metrics = exporter.metrics().await;
    assert!(metrics.contains("prodready_config_last_reload_successful 1"));
    assert!(metrics.contains(r#"prodready_check_success{check="third""#));
    assert!(!metrics.contains(r#"check="second""#));
}
