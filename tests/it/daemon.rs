//! The daemon: scheduling under timeouts, reload, readiness, endpoints, shutdown.

use std::time::{Duration, Instant};

use axum::routing::get;

use crate::support::{sample, Exporter, HangingServer, TestApp};

async fn healthy_app() -> TestApp {
    TestApp::start(axum::Router::new().route("/health", get(|| async { "ok" }))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn hung_target_is_an_error_within_its_timeout_and_delays_nothing() {
    let hanging = HangingServer::start().await;
    let app = healthy_app().await;
    let exporter = Exporter::start(&format!(
        r#"
global: {{ interval: 2s, timeout: 1s }}
checks:
  - name: hung
    kind: http
    params: {{ url: "http://{hung}/" }}
  - name: healthy
    kind: http
    params: {{ url: "{healthy}" }}
"#,
        hung = hanging.addr,
        healthy = app.url("/health"),
    ));
    let started = Instant::now();
    let metrics = exporter
        .wait_metrics(Duration::from_secs(5), |m| {
            m.contains(r#"prodready_check_state{check="hung",category="operations",severity="warning",state="error"} 1"#)
        })
        .await;
    // The error appears within the timeout plus the small first-round spread.
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        sample(&metrics, r#"prodready_check_success{check="healthy""#),
        Some(1.0)
    );
    let (_, api) = exporter.get("/api/v1/checks").await;
    assert!(api.contains("timed out after 1s"), "{api}");

    // While the hung check keeps hanging, scrapes stay fast and the healthy
    // check keeps passing.
    for _ in 0..10 {
        let t = Instant::now();
        let m = exporter.metrics().await;
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "scrape took {:?}",
            t.elapsed()
        );
        assert_eq!(
            sample(&m, r#"prodready_check_success{check="healthy""#),
            Some(1.0)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let m = exporter.metrics().await;
    assert!(sample(&m, r#"prodready_check_runs_total{check="healthy"}"#).unwrap() >= 2.0);
    assert!(sample(&m, r#"prodready_check_errors_total{check="hung"}"#).unwrap() >= 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_only_after_the_first_round() {
    let exporter = Exporter::start(
        r#"
checks:
  - name: slow
    kind: command
    params: { argv: ["sleep", "2"] }
"#,
    );
    let (status, body) = exporter.get("/-/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(exporter.get("/-/healthy").await.0, 200);
    let m = exporter.metrics().await;
    assert_eq!(
        sample(
            &m,
            r#"prodready_check_state{check="slow",category="deployment",severity="warning",state="unknown"}"#
        ),
        Some(1.0)
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_evaluates_only_configured_checks() {
    let app = healthy_app().await;
    let exporter = Exporter::start(&format!(
        "checks:\n  - name: web\n    kind: http\n    interval: 1h\n    params: {{ url: \"{}\" }}\n",
        app.url("/health")
    ));
    let (status, body) = exporter.get("/probe?check=web").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(
            r#"prodready_check_success{check="web",category="operations",severity="warning"} 1"#
        ),
        "{body}"
    );
    assert!(!body.contains("prodready_build_info"));
    let (status, body) = exporter.get("/probe?check=web&debug=true").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("State: pass") && body.contains("Trace:") && body.contains("GET http://"),
        "{body}"
    );
    assert_eq!(exporter.get("/probe?check=nope").await.0, 404);
    // The JSON API answers an unknown check as /probe does, in Prometheus'
    // error envelope.
    let (status, body) = exporter.get("/api/v1/checks?check=nope").await;
    assert_eq!(status, 404);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["status"], "error");
    assert_eq!(error["errorType"], "not_found");
    assert!(error["error"]
        .as_str()
        .unwrap()
        .contains("no configured check"));
    assert_eq!(exporter.get("/probe").await.0, 400);
    assert_eq!(
        exporter.get("/probe?target=http://127.0.0.1:1/").await.0,
        400
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_groups_by_category_and_escapes() {
    let app = healthy_app().await;
    let exporter = Exporter::start(&format!(
        r#"
checks:
  - name: web_health
    kind: http
    params: {{ url: "{}", body_regex: "<script>" }}
  - name: deploy_step
    kind: command
    params: {{ argv: ["true"] }}
"#,
        app.url("/health")
    ));
    exporter.wait_ready(Duration::from_secs(10)).await;
    let (status, page) = exporter.get("/").await;
    assert_eq!(status, 200);
    let ops = page
        .find("<h3>operations</h3>")
        .expect("operations section");
    let dep = page
        .find("<h3>deployment</h3>")
        .expect("deployment section");
    assert!(ops < dep);
    assert!(page[ops..dep].contains("web_health") && page[dep..].contains("deploy_step"));
    assert!(page.contains("&lt;script&gt;") && !page.contains("/<script>/"));
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "external asset"
    );
    // Relative, so that the page works under --web.route-prefix.
    assert!(page.contains("href=\"metrics\""));
    // What fails comes first, with why and what to do; what passes is
    // not in that section.
    let attention = page
        .find("<h2 id=\"attention\">")
        .expect("attention section");
    let checklist = page.find("<h2>Checklist</h2>").expect("checklist");
    assert!(attention < checklist);
    let first = &page[attention..checklist];
    assert!(first.contains("href=\"#check-web_health\""), "{first}");
    assert!(first.contains("&lt;script&gt;") && first.contains("runbooks#check-failing"));
    assert!(!first.contains("deploy_step"), "{first}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_shuts_down_cleanly_with_checks_in_flight() {
    let hanging = HangingServer::start().await;
    let mut exporter = Exporter::start(&format!(
        "global: {{ timeout: 30s }}\nchecks:\n  - name: hung\n    kind: http\n    params: {{ url: \"http://{}/\" }}\n",
        hanging.addr
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    exporter.signal("TERM");
    let status = exporter.wait_exit(Duration::from_secs(12));
    assert!(
        status.success(),
        "exit status {status:?}; logs:\n{}",
        exporter.logs()
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert!(exporter.logs().contains("msg=Stopped."));
}

#[tokio::test(flavor = "multi_thread")]
async fn openmetrics_on_request() {
    let exporter = Exporter::start(
        "checks:\n  - name: ok\n    kind: command\n    params: { argv: [\"true\"] }\n",
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    let r = crate::support::client()
        .get(exporter.url("/metrics"))
        .header("Accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .unwrap();
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    assert!(body.ends_with("# EOF\n"));
    assert!(body.contains("# TYPE prodready_check_runs counter"));
    let plain = exporter.metrics().await;
    assert!(plain.contains("# TYPE prodready_check_runs_total counter"));
    assert!(!plain.contains("# EOF"));

    // Prometheus asks for gzip; the page comes compressed and decompresses to the text format.
    let r = crate::support::client()
        .get(exporter.url("/metrics"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let bytes = r.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    assert!(text.contains("# TYPE prodready_check_runs_total counter") && !text.contains("# EOF"));
    assert!(bytes.len() < text.len());
}

/// A gate-only check never runs in the daemon (nothing can alert on it
/// between deploys), does not hold up readiness, and still runs in `check`.
#[tokio::test(flavor = "multi_thread")]
async fn gate_only_checks_run_only_in_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let config = format!(
        "checks:\n  - {{ name: always, kind: command, params: {{ argv: [\"true\"] }} }}\n  - {{ name: opted_in, kind: command, probe: true, params: {{ argv: [\"true\"] }} }}\n  - {{ name: deploy_only, kind: command, gate_only: true, item: step.smoke_tests, params: {{ argv: [\"touch\", \"{}\"] }} }}\n",
        marker.display()
    );
    let exporter = Exporter::start(&config);
    exporter.wait_ready(Duration::from_secs(10)).await;
    let metrics = exporter.metrics().await;
    assert!(metrics.contains(
        "prodready_check_state{check=\"deploy_only\",category=\"deployment\",severity=\"warning\",state=\"unknown\"} 1"
    ));
    assert!(metrics.contains("prodready_check_runs_total{check=\"deploy_only\"} 0"));
    let (_, page) = exporter.get("/").await;
    assert!(page.contains("gate only"));
    assert!(!marker.exists(), "the daemon ran a gate-only check");
    // /probe runs only what the daemon runs, and a command only on opt-in.
    let (status, body) = exporter.get("/probe?check=deploy_only").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("gate_only"), "{body}");
    assert!(!marker.exists(), "/probe ran a gate-only check");
    let (status, body) = exporter.get("/probe?check=always").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("probe: true"), "{body}");
    let (status, body) = exporter.get("/probe?check=opted_in").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("prodready_check_success"), "{body}");
    let out = crate::support::run_cli(
        &[
            "check",
            &format!("--config.file={}", exporter.config.config_path().display()),
            "--check",
            "deploy_only",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(marker.exists(), "the gate did not run the gate-only check");
}

/// /probe runs checks on demand, so it is bounded: beyond --web.max-probes
/// concurrent evaluations it answers 429, and /metrics keeps answering.
#[tokio::test(flavor = "multi_thread")]
async fn probes_beyond_the_limit_get_429() {
    let hanging = HangingServer::start().await;
    let exporter = Exporter::start_with(
        &format!(
            "global: {{ timeout: 3s, interval: 1h }}\nchecks:\n  - {{ name: hung, kind: http, params: {{ url: \"http://{}/\" }} }}\n",
            hanging.addr
        ),
        &[],
        &["--web.max-probes=1"],
    );
    let first = tokio::spawn({
        let url = exporter.url("/probe?check=hung");
        async move { crate::support::get(&url).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = exporter.get("/probe?check=hung").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(exporter.get("/metrics").await.0, 200);
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("prodready_check_state"));
}

/// With one concurrency slot and three one-second checks, evaluations wait
/// for each other: the lateness histogram shows it; the first round is
/// spread, not started at once.
#[tokio::test(flavor = "multi_thread")]
async fn lateness_is_measured_against_the_schedule() {
    let exporter = Exporter::start(
        "global: { interval: 1h, concurrency: 1 }\nchecks:\n  - { name: a, kind: command, params: { argv: [sleep, \"1\"] } }\n  - { name: b, kind: command, params: { argv: [sleep, \"1\"] } }\n  - { name: c, kind: command, params: { argv: [sleep, \"1\"] } }\n",
    );
    exporter.wait_ready(Duration::from_secs(15)).await;
    let m = exporter.metrics().await;
    let count = sample(&m, "prodready_scheduler_lateness_seconds_count").unwrap();
    let within_half_second = sample(
        &m,
        "prodready_scheduler_lateness_seconds_bucket{le=\"0.5\"}",
    )
    .unwrap();
    assert_eq!(count, 3.0, "{m}");
    // At most one evaluation began on time; the others queued for the slot.
    assert!(within_half_second <= 1.0, "{m}");
    assert!(
        sample(&m, "prodready_scheduler_lateness_seconds_sum").unwrap() > 1.0,
        "{m}"
    );
    // The exporter's own process metrics, as Prometheus' client libraries name them.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = sample(&m, "process_start_time_seconds").unwrap();
    assert!(
        started <= now + 1.0 && started > now - 60.0,
        "{started} vs {now}"
    );
    assert!(sample(&m, "process_resident_memory_bytes").unwrap() > 1e6);
    assert!(sample(&m, "process_open_fds").unwrap() >= 3.0);
    assert!(sample(&m, "process_cpu_seconds_total").unwrap() > 0.0);
}

/// A check never runs twice at once: concurrent /probe requests share one
/// evaluation; and a probe honours Prometheus' scrape timeout header.
#[tokio::test(flavor = "multi_thread")]
async fn probes_share_one_evaluation_and_honour_the_scrape_timeout() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let hits = Arc::new(AtomicUsize::new(0));
    let app = TestApp::start(axum::Router::new().route(
        "/slow",
        get({
            let hits = hits.clone();
            move || async move {
                hits.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(800)).await;
                "ok"
            }
        }),
    ))
    .await;
    let hanging = HangingServer::start().await;
    let exporter = Exporter::start(&format!(
        "global: {{ timeout: 20s, interval: 1h }}\nchecks:\n  - {{ name: slow, kind: http, params: {{ url: \"{}\" }} }}\n  - {{ name: hung, kind: http, params: {{ url: \"http://{}/\" }} }}\n",
        app.url("/slow"),
        hanging.addr
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while hits.load(Ordering::SeqCst) == 0
        || exporter
            .get("/api/v1/checks?check=slow")
            .await
            .1
            .contains("\"state\":\"unknown\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = hits.load(Ordering::SeqCst);
    let mut probes = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let url = exporter.url("/probe?check=slow");
        probes.spawn(async move { crate::support::get(&url).await });
    }
    while let Some(done) = probes.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains("prodready_check_success{check=\"slow\",category=\"operations\",severity=\"warning\"} 1"),
            "{body}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst) - before,
        1,
        "three probes evaluated the check more than once"
    );

    // A 2 s scrape timeout cuts the probe of a hanging check at 1.5 s, long
    // before the check's own 20 s timeout.
    let started = std::time::Instant::now();
    let r = crate::support::client()
        .get(exporter.url("/probe?check=hung&debug=true"))
        .header("X-Prometheus-Scrape-Timeout-Seconds", "2")
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    let took = started.elapsed();
    assert!(body.contains("State: error"), "{body}");
    assert!(
        body.contains("timed out after 1s500ms (the scrape timeout)"),
        "{body}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// Three replicas with the same config and --shard.count 3: each evaluates
/// only its share, and together they evaluate every check exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn three_shards_evaluate_every_check_exactly_once() {
    let mut config = String::from("global: { interval: 1h }\nchecks:\n");
    for i in 0..24 {
        config.push_str(&format!(
            "  - {{ name: check_{i}, kind: command, params: {{ argv: [\"true\"] }} }}\n"
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    for index in 0..3 {
        let exporter = Exporter::start_with(
            &config,
            &[],
            &["--shard.count=3", &format!("--shard.index={index}")],
        );
        exporter.wait_ready(Duration::from_secs(10)).await;
        let metrics = exporter.metrics().await;
        let mine: Vec<String> = metrics
            .lines()
            .filter(|l| l.starts_with("prodready_check_runs_total{"))
            .filter(|l| l.ends_with(" 1"))
            .filter_map(|l| l.split('"').nth(1).map(str::to_owned))
            .collect();
        assert!(
            !mine.is_empty() && mine.len() < 24,
            "shard {index}: {mine:?}"
        );
        seen.extend(mine);
    }
    seen.sort();
    let mut all: Vec<String> = (0..24).map(|i| format!("check_{i}")).collect();
    all.sort();
    assert_eq!(seen, all);
    // A wrong index is a usage error.
    let out = crate::support::run_cli(
        &[
            "--shard.count=3",
            "--shard.index=3",
            "--config.file=/nonexistent",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::support::stderr(&out).contains("must be below --shard.count 3"));
}

/// Labels for routing: global and per-check labels on prodready_check_info,
/// the allow-listed ones on the state series too; reserved names refused.
#[tokio::test(flavor = "multi_thread")]
async fn labels_reach_info_and_allow_listed_state_series() {
    let exporter = Exporter::start(
        "global: { labels: { env: prod, team: platform }, series_labels: [team] }
checks:
  - { name: pay, kind: command, labels: { team: payments, service: checkout }, params: { argv: [\"true\"] } }
  - { name: base, kind: command, params: { argv: [\"true\"] } }
",
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    let m = exporter.metrics().await;
    let info = |check: &str| {
        m.lines()
            .find(|l| l.starts_with(&format!("prodready_check_info{{check=\"{check}\"")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        info("pay").contains(r#"env="prod",service="checkout",team="payments""#),
        "{}",
        info("pay")
    );
    assert!(
        info("base").contains(r#"env="prod",team="platform""#),
        "{}",
        info("base")
    );
    assert!(m.contains(r#"prodready_check_state{check="pay",category="deployment",severity="warning",team="payments",state="pass"} 1"#), "{m}");
    assert!(m.contains(r#"prodready_check_success{check="base",category="deployment",severity="warning",team="platform"} 1"#), "{m}");
    assert!(!m.contains(
        r#"prodready_check_state{check="pay",category="deployment",severity="warning",env="#
    ));

    let dir = crate::support::ConfigDir::new(
        "global: { labels: { job: x } }\nchecks:\n  - { name: a, kind: command, labels: { \"bad-name\": y }, params: { argv: [\"true\"] } }\n",
    );
    let out = crate::support::run_cli(
        &[
            "validate",
            &format!("--config.file={}", dir.config_path().display()),
        ],
        &[],
    );
    let err = crate::support::stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("global: field labels.job: job is set by the exporter or Prometheus"),
        "{err}"
    );
    assert!(
        err.contains("field labels.bad-name: must match [a-zA-Z_][a-zA-Z0-9_]*"),
        "{err}"
    );
}

/// 400 connections that trickle half a request line and stop: /metrics keeps
/// answering within a second, and the server cuts them off at the
/// header-read timeout instead of holding them forever.
#[tokio::test(flavor = "multi_thread")]
async fn slowloris_connections_are_cut_off_and_metrics_keep_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exporter = Exporter::start_with(
        crate::support::ONE_PASSING_CHECK,
        &[],
        &["--web.header-read-timeout=2s"],
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    let mut held = Vec::new();
    for _ in 0..400 {
        let mut s = tokio::net::TcpStream::connect(&exporter.addr)
            .await
            .unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        held.push(s);
    }
    let started = Instant::now();
    let (status, _) = exporter.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // After the timeout the server has closed them: a read sees EOF or an error.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut closed = 0;
    for s in &mut held {
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            Ok(Ok(_)) => closed += 1, // an error answer (408) before closing also cuts it off
            Err(_) => {}
        }
    }
    assert_eq!(
        closed, 400,
        "connections still held open past the header timeout"
    );
}
