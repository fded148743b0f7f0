//! Web config changes are applied or refused, never ignored: an emptied
//! file does not switch basic authentication off, and a web config that a
//! reload would add (or drop) needs a restart, so the reload is refused.

use std::time::{Duration, Instant};

use crate::support::{client, Exporter, ONE_PASSING_CHECK};
use crate::web_security::hash;

#[tokio::test(flavor = "multi_thread")]
async fn an_emptied_web_config_keeps_authentication_on() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!("basic_auth_users:\n  alice: {}\n", hash("pw-1")),
    )
    .unwrap();
    let flag = format!("--web.config.file={}", web.display());
    let exporter = Exporter::start_with(ONE_PASSING_CHECK, &[], &[flag.as_str()]);
    let url = exporter.url("/metrics");
    let status = |auth: bool| {
        let url = url.clone();
        async move {
            let mut r = client().get(&url);
            if auth {
                r = r.basic_auth("alice", Some("pw-1"));
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(true).await != 200 {
        assert!(Instant::now() < deadline, "{}", exporter.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(false).await, 401);
    std::fs::write(&web, "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !exporter
        .logs()
        .contains("the file is empty while basic authentication is on")
    {
        assert!(
            Instant::now() < deadline,
            "no refusal logged:\n{}",
            exporter.logs()
        );
        status(true).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        status(false).await,
        401,
        "an empty file opened the endpoints"
    );
    assert_eq!(status(true).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_config_added_by_a_reload_is_refused_until_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!("basic_auth_users:\n  alice: {}\n", hash("pw-1")),
    )
    .unwrap();
    let exporter = Exporter::start_with(ONE_PASSING_CHECK, &[], &["--web.enable-lifecycle"]);
    exporter.wait_ready(Duration::from_secs(10)).await;
    exporter.config.write_config(&format!(
        "web: {{ config_file: \"{}\" }}\n{ONE_PASSING_CHECK}",
        web.display()
    ));
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("needs a restart"), "{body}");
    let metrics = exporter.metrics().await;
    assert!(
        metrics.contains("prodready_config_last_reload_successful 0"),
        "{metrics}"
    );
}
