//! The OpenAPI 3.1 description of `/api/v1/*`: served by the daemon, and
//! schemathesis (PyPI) finds every answer of a live daemon conforming to it;
//! a description missing an answer the daemon gives makes it fail.

use std::process::Command;

use crate::support::{repo_root, run_tool, Exporter};

fn schemathesis() -> std::path::PathBuf {
    let bin = repo_root().join("target/schemathesis/bin/schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: scripts/test.sh installs schemathesis there",
        bin.display()
    );
    bin
}

fn run(args: &[&str]) -> (bool, String) {
    // schemathesis keeps a cache in its working directory: not the tree's.
    let cwd = tempfile::tempdir().unwrap();
    run_tool(
        Command::new(schemathesis())
            .current_dir(cwd.path())
            .arg("run")
            .args(args)
            .args(["--checks", "all", "--max-examples", "40", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", ""),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_conforms_to_its_openapi_description() {
    let exporter = Exporter::start(
        "checks:\n  - { name: ok, kind: command, params: { argv: [\"true\"] } }\n  - { name: failing, kind: command, params: { argv: [\"false\"] } }\n",
    );
    exporter
        .wait_ready(std::time::Duration::from_secs(20))
        .await;
    let (status, doc) = exporter.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let url = exporter.url("/api/v1/openapi.json");
    let base = exporter.url("/");
    let (ok, out) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || run(&[&url])
    })
    .await
    .unwrap();
    assert!(ok && out.contains("passed"), "{out}");

    // Without the 404 answer in the description, schemathesis notices the
    // daemon answering it.
    let mut broken = doc.clone();
    broken["paths"]["/api/v1/checks"]["get"]["responses"]
        .as_object_mut()
        .unwrap()
        .remove("404");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, broken.to_string()).unwrap();
    let (ok, out) =
        tokio::task::spawn_blocking(move || run(&[&file.display().to_string(), "--url", &base]))
            .await
            .unwrap();
    assert!(
        !ok,
        "schemathesis passed a description without the 404:\n{out}"
    );
    assert!(out.contains("404"), "{out}");
}
