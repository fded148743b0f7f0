//! The exporter-toolkit flags of the daemon: `:PORT` listen addresses and
//! `--web.telemetry-path`.

use crate::support::Exporter;

/// `--web.listen-address=:PORT` listens on every address, IPv4 and IPv6,
/// as the Go exporters do; the default `web.listen_address` is `:9718`.
#[tokio::test]
async fn colon_port_listens_on_ipv4_and_ipv6() {
    let config = crate::support::ConfigDir::new(
        "checks:\n  - { name: ok, kind: command, params: { argv: [\"true\"] } }\n",
    );
    let mut cmd = std::process::Command::new(crate::support::BIN);
    cmd.arg(format!("--config.file={}", config.config_path().display()))
        .arg("--web.listen-address=:0");
    let exporter = crate::support::Exporter::spawn(cmd, config);
    assert!(exporter.addr.starts_with("[::]:"), "{}", exporter.addr);
    let port = exporter.addr.rsplit(':').next().unwrap().to_owned();
    let (status, body) = crate::support::get(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert_eq!(status, 200);
    assert!(body.contains("prodready_check_state"));
    // ::1 answers too where the host has IPv6 loopback.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let (status, _) = crate::support::get(&format!("http://[::1]:{port}/metrics")).await;
        assert_eq!(status, 200);
    }
    let schema = prodready_exporter::docs::config_schema();
    assert_eq!(
        schema.pointer("/properties/web/properties/listen_address/default"),
        Some(&serde_json::json!(":9718"))
    );
}

/// `--web.telemetry-path` moves the metrics (the status page links there);
/// a path another endpoint uses is refused.
#[tokio::test]
async fn telemetry_path_moves_the_metrics() {
    let exporter = Exporter::start_with(
        "checks:\n  - { name: ok, kind: command, params: { argv: [\"true\"] } }\n",
        &[],
        &["--web.telemetry-path=/prodready/metrics"],
    );
    let (status, body) = exporter.get("/prodready/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("prodready_check_state"));
    assert_eq!(exporter.get("/metrics").await.0, 404);
    let (_, page) = exporter.get("/").await;
    assert!(page.contains("href=\"prodready/metrics\""), "{page}");
    let out = crate::support::run_cli(&["--web.telemetry-path=/probe", "validate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::support::stderr(&out).contains("/probe is another endpoint"));
}

/// `--web.route-prefix` serves every endpoint under a sub-path, as behind a
/// reverse proxy; the status page's links are relative, so they stay under
/// it.
#[tokio::test]
async fn route_prefix_serves_everything_under_it() {
    let exporter = Exporter::start_with(
        "checks:\n  - { name: ok, kind: command, params: { argv: [\"true\"] } }\n",
        &[],
        &["--web.route-prefix=/prodready/"],
    );
    exporter
        .wait_ready_at("/prodready/-/ready", std::time::Duration::from_secs(20))
        .await;
    let (status, page) = exporter.get("/prodready/").await;
    assert_eq!(status, 200, "{page}");
    for link in [
        "href=\"metrics\"",
        "href=\"api/v1/checks\"",
        "href=\"runbooks\"",
    ] {
        assert!(page.contains(link), "{link}: {page}");
    }
    for path in [
        "/prodready/metrics",
        "/prodready/api/v1/checks",
        "/prodready/runbooks",
        "/prodready/-/healthy",
    ] {
        assert_eq!(exporter.get(path).await.0, 200, "{path}");
    }
    assert_eq!(exporter.get("/metrics").await.0, 404);
    // Without the slash: redirected to the page.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(exporter.url("/prodready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers()["location"], "/prodready/");
}

/// `--web.external-url` gives the route prefix its path, as in Prometheus;
/// a URL that is not http(s) with a host is refused.
#[tokio::test]
async fn external_url_sets_the_route_prefix() {
    let exporter = Exporter::start_with(
        "checks:\n  - { name: ok, kind: command, params: { argv: [\"true\"] } }\n",
        &[],
        &["--web.external-url=https://ops.example.com/readiness/"],
    );
    exporter
        .wait_ready_at("/readiness/-/ready", std::time::Duration::from_secs(20))
        .await;
    assert_eq!(exporter.get("/readiness/metrics").await.0, 200);
    assert_eq!(exporter.get("/metrics").await.0, 404);
    let out = crate::support::run_cli(&["--web.external-url=ops.example.com", "validate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::support::stderr(&out).contains("not a URL"),
        "{}",
        crate::support::stderr(&out)
    );
}
