//! The exporter-toolkit flags of the daemon: `:PORT` listen addresses,
//! `--web.telemetry-path`, `--web.route-prefix`, `--web.external-url` and
//! `--web.systemd-socket`.

use crate::support::Exporter;

/// `--web.listen-address=:PORT` listens on every address, IPv4 and IPv6,
/// as the Go exporters do; the default `web.listen_address` is `:9718`.
#[tokio::test]
async fn colon_port_listens_on_ipv4_and_ipv6() {
    let config = crate::support::ConfigDir::new(crate::support::ONE_PASSING_CHECK);
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
        crate::support::ONE_PASSING_CHECK,
        &[],
        &["--web.telemetry-path=/prodready/metrics"],
    );
    let (status, body) = exporter.get("/prodready/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("prodready_check_state"));
    assert_eq!(exporter.get("/metrics").await.0, 404);
    let (_, page) = exporter.get("/").await;
    assert!(page.contains("href=\"prodready/metrics\""), "{page}");
    // Every other endpoint, and router patterns, are usage errors (exit 2):
    // the OpenAPI path made the router panic at start-up (exit 101).
    for (path, says) in [
        ("/probe", "/probe is another endpoint"),
        (
            "/api/v1/openapi.json",
            "/api/v1/openapi.json is another endpoint",
        ),
        ("/runbooks/", "/runbooks/ is another endpoint"),
        ("/{check}", "must be an absolute path"),
        ("/metrics/*rest", "must be an absolute path"),
    ] {
        let out =
            crate::support::run_cli(&[&format!("--web.telemetry-path={path}"), "validate"], &[]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        assert!(
            crate::support::stderr(&out).contains(says),
            "{path}: {}",
            crate::support::stderr(&out)
        );
    }
}

/// A closed stdout (`prodready-exporter kinds | head -1`) ends the output
/// quietly instead of panicking on the broken pipe (exit 101).
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::io::Read;
    for command in ["kinds", "schema"] {
        let mut child = std::process::Command::new(crate::support::BIN)
            .arg(command)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        // The reader goes away with most of the document unread.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
        assert_ne!(status.code(), Some(101), "{command}: {stderr}");
    }
}

/// `--web.route-prefix` serves every endpoint under a sub-path, as behind a
/// reverse proxy; the status page's links are relative, so they stay under
/// it.
#[tokio::test]
async fn route_prefix_serves_everything_under_it() {
    let exporter = Exporter::start_with(
        crate::support::ONE_PASSING_CHECK,
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
    // The OpenAPI document's paths resolve under the prefix: its server
    // URL, resolved against the document's own URL, joined with a path of
    // the document, is a path the exporter serves.
    let (status, doc) = exporter.get("/prodready/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let server = doc["servers"][0]["url"].as_str().unwrap_or_default();
    let base = reqwest::Url::parse(&exporter.url("/prodready/api/v1/openapi.json"))
        .unwrap()
        .join(server)
        .unwrap();
    for path in doc["paths"].as_object().unwrap().keys() {
        let url = format!("{}{path}", base.as_str().trim_end_matches('/'));
        let status = reqwest::get(&url).await.unwrap().status().as_u16();
        assert_eq!(status, 200, "{url}");
    }
}

/// `--web.external-url` gives the route prefix its path, as in Prometheus;
/// a URL that is not http(s) with a host is refused.
#[tokio::test]
async fn external_url_sets_the_route_prefix() {
    let exporter = Exporter::start_with(
        crate::support::ONE_PASSING_CHECK,
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

/// `--web.systemd-socket` serves on the socket systemd passes (here by
/// `systemd-socket-activate`, which listens, and on the first connection
/// starts the exporter with the socket as fd 3); the first request, queued
/// on that socket before the exporter ran, is answered. Without a socket
/// the exporter refuses to start and says why.
#[tokio::test]
async fn systemd_socket_activation_serves_on_the_passed_socket() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = crate::support::ConfigDir::new(crate::support::ONE_PASSING_CHECK);
    let mut cmd =
        std::process::Command::new(crate::support::require_binary("systemd-socket-activate"));
    cmd.arg(format!("--listen=127.0.0.1:{port}"))
        .arg(crate::support::BIN)
        .arg(format!("--config.file={}", config.config_path().display()))
        // Ignored in favour of the passed socket.
        .arg("--web.listen-address=127.0.0.1:1")
        .arg("--web.systemd-socket");
    // The first connection is what starts the exporter.
    let first = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                    .unwrap();
                s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
                    .unwrap();
                let mut body = String::new();
                let _ = s.read_to_string(&mut body);
                return body;
            }
            assert!(std::time::Instant::now() < deadline, "nothing listens");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let exporter = crate::support::Exporter::spawn(cmd, config);
    assert_eq!(exporter.addr, format!("127.0.0.1:{port}"));
    let first = first.join().unwrap();
    assert!(
        first.starts_with("HTTP/1.0 200") || first.starts_with("HTTP/1.1 200"),
        "{first}"
    );
    assert!(first.contains("prodready_build_info"), "{first}");
    let (status, body) = exporter.get("/api/v1/checks").await;
    assert_eq!(status, 200, "{body}");
    assert!(exporter.logs().contains("not on --web.listen-address"));

    let out = crate::support::run_cli(&["--web.systemd-socket"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = crate::support::stderr(&out);
    assert!(
        err.contains("--web.systemd-socket: no socket was passed"),
        "{err}"
    );
}
