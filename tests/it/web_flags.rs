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
    assert!(page.contains("href=\"/prodready/metrics\""), "{page}");
    let out = crate::support::run_cli(&["--web.telemetry-path=/probe", "validate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::support::stderr(&out).contains("/probe is another endpoint"));
}
