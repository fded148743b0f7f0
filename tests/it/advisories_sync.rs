//! `advisories sync` against a local server with OSV's bucket layout:
//! complete archives are swapped in and used by the check, a truncated or
//! broken one keeps the old database, and the ecosystems default to the
//! lockfiles the config scans.

use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::support::{run_checks, run_cli, stderr, stdout, ConfigDir, TestApp};

/// An OSV archive holding one advisory that affects `crate_name` below `fixed`.
fn osv_zip(id: &str, crate_name: &str, fixed: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        format!("{id}.json"),
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let doc = serde_json::json!({
        "id": id,
        "modified": "2026-11-20T00:00:00Z",
        "database_specific": { "severity": "HIGH" },
        "affected": [{
            "package": { "ecosystem": "crates.io", "name": crate_name },
            "ranges": [{ "type": "SEMVER", "events": [{ "introduced": "0" }, { "fixed": fixed }] }]
        }]
    });
    std::io::Write::write_all(&mut zip, doc.to_string().as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// What the mirror serves for `<ecosystem>/all.zip`, and which paths it was asked for.
#[derive(Default)]
struct Mirror {
    archives: Mutex<std::collections::HashMap<String, Vec<u8>>>,
    asked: Mutex<Vec<String>>,
}

async fn serve(State(mirror): State<Arc<Mirror>>, UrlPath(ecosystem): UrlPath<String>) -> Response {
    mirror.asked.lock().unwrap().push(ecosystem.clone());
    let served = mirror.archives.lock().unwrap().get(&ecosystem).cloned();
    match served {
        None => (StatusCode::NOT_FOUND, "no such ecosystem").into_response(),
        Some(bytes) => bytes.into_response(),
    }
}

/// A server that announces `bytes.len()` bytes, sends the first half and
/// closes the connection, as a download cut off midway. Returns its address.
async fn truncating_server(bytes: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/zip\r\n\r\n",
                bytes.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&bytes[..bytes.len() / 2]).await;
            let _ = socket.shutdown().await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_swaps_in_verified_archives_and_keeps_the_old_one_on_failure() {
    let mirror = Arc::new(Mirror::default());
    mirror.archives.lock().unwrap().insert(
        "crates.io".into(),
        osv_zip("GHSA-test-0001", "time", "0.2.23"),
    );
    let app = TestApp::start(
        axum::Router::new()
            .route("/osv/{ecosystem}/all.zip", get(serve))
            .with_state(mirror.clone()),
    )
    .await;
    let source = app.url("/osv");

    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("Cargo.lock"),
        "version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let db = tempfile::tempdir().unwrap();
    let config = format!(
        "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: \"{}\", advisory_db: \"{}\" }} }}\n",
        project.path().display(),
        db.path().join("osv").display()
    );
    let dir = ConfigDir::new(&config);
    let arg = format!("--config.file={}", dir.config_path().display());

    // Before any sync the check cannot judge: error, never pass.
    run_checks(&config, &[]).expect_states(&[("deps", "error", "does not exist")]);

    // Directories and ecosystems from the config: only crates.io is asked for.
    let out = run_cli(&["advisories", "sync", &arg, "--source-url", &source], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("crates.io: 1 advisories"),
        "{}",
        stdout(&out)
    );
    assert_eq!(*mirror.asked.lock().unwrap(), ["crates.io"]);
    let zip = db.path().join("osv/crates.io/all.zip");
    let synced = std::fs::read(&zip).unwrap();
    run_checks(&config, &[]).expect_states(&[("deps", "fail", "GHSA-test-0001")]);

    // A truncated download: error naming it, old archive kept, nothing left behind.
    let cut = truncating_server(osv_zip("GHSA-test-0002", "time", "0.3.0")).await;
    let cut_source = format!("http://{cut}/osv");
    let out = run_cli(
        &["advisories", "sync", &arg, "--source-url", &cut_source],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("crates.io:") && stderr(&out).contains("broke off"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&zip).unwrap(), synced);
    let left: Vec<_> = std::fs::read_dir(zip.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["all.zip"], "{left:?}");

    // Complete but not an archive of OSV advisories: refused the same way.
    mirror
        .archives
        .lock()
        .unwrap()
        .insert("crates.io".into(), b"<html>maintenance</html>".to_vec());
    let out = run_cli(&["advisories", "sync", &arg, "--source-url", &source], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a valid OSV archive"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&zip).unwrap(), synced);

    // An explicit directory and ecosystem; one the mirror lacks fails alone.
    let other = tempfile::tempdir().unwrap();
    mirror.archives.lock().unwrap().insert(
        "crates.io".into(),
        osv_zip("GHSA-test-0003", "serde", "1.0.0"),
    );
    let other_dir = other.path().display().to_string();
    let out = run_cli(
        &[
            "advisories",
            "sync",
            "--dir",
            &other_dir,
            "--ecosystem",
            "crates.io",
            "--ecosystem",
            "npm",
            "--source-url",
            &source,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(other.path().join("crates.io/all.zip").is_file());
    assert!(
        stderr(&out).contains("npm: GET") && stderr(&out).contains("404"),
        "{}",
        stderr(&out)
    );

    // Bad usage: an ecosystem OSV does not name so.
    let out = run_cli(
        &[
            "advisories",
            "sync",
            "--dir",
            &other_dir,
            "--ecosystem",
            "cargo",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown ecosystem \"cargo\"; valid: crates.io, npm"),
        "{}",
        stderr(&out)
    );
}
