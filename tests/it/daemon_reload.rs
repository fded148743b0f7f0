//! Reloading the daemon: checks added, removed and changed, bad configs
//! rejected, unchanged inputs restarting nothing, rotated secret files.

use std::time::{Duration, Instant};

use axum::routing::get;

use crate::support::{sample, Exporter, HangingServer, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn reload_adds_and_removes_checks_and_rejects_a_bad_config() {
    let config = |names: &[&str]| {
        let mut c = String::from("checks:\n");
        for n in names {
            c.push_str(&format!(
                "  - name: {n}\n    kind: command\n    params: {{ argv: [\"true\"] }}\n"
            ));
        }
        c
    };
    let exporter = Exporter::start_with(
        &config(&["alpha", "beta"]),
        &[],
        &["--web.enable-lifecycle"],
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    let m = exporter.metrics().await;
    assert!(m.contains(r#"check="alpha""#) && m.contains(r#"check="beta""#));

    exporter.config.write_config(&config(&["beta", "gamma"]));
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 200, "{body}");
    let m = exporter.metrics().await;
    assert!(
        !m.contains(r#"check="alpha""#),
        "removed check still exported:\n{m}"
    );
    assert!(m.contains(r#"check="gamma""#));
    assert_eq!(
        sample(&m, "prodready_config_last_reload_successful "),
        Some(1.0)
    );
    exporter
        .wait_metrics(Duration::from_secs(5), |m| {
            sample(m, r#"prodready_check_success{check="gamma""#) == Some(1.0)
        })
        .await;

    exporter
        .config
        .write_config("checks:\n  - name: broken\n    kind: no_such_kind\n");
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 500);
    assert!(body.contains("unknown kind \"no_such_kind\""), "{body}");
    let m = exporter.metrics().await;
    assert_eq!(
        sample(&m, "prodready_config_last_reload_successful "),
        Some(0.0)
    );
    assert!(m.contains(r#"check="beta""#) && m.contains(r#"check="gamma""#));
    assert!(!m.contains(r#"check="broken""#));

    // SIGHUP reloads too.
    exporter.config.write_config(&config(&["delta"]));
    exporter.signal("HUP");
    let m = exporter
        .wait_metrics(Duration::from_secs(5), |m| {
            sample(m, "prodready_config_last_reload_successful ") == Some(1.0)
        })
        .await;
    assert!(m.contains(r#"check="delta""#) && !m.contains(r#"check="beta""#));
}

#[tokio::test(flavor = "multi_thread")]
async fn reload_cancels_in_flight_evaluations_of_removed_checks() {
    use std::sync::atomic::Ordering;
    let hanging = HangingServer::start().await;
    let exporter = Exporter::start_with(
        &format!(
            "global: {{ timeout: 50s, interval: 1m }}\nchecks:\n  - name: hung\n    kind: http\n    params: {{ url: \"http://{}/\" }}\n",
            hanging.addr
        ),
        &[],
        &["--web.enable-lifecycle"],
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while hanging.accepted.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the check never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hanging.closed.load(Ordering::SeqCst), 0);
    exporter.config.write_config("checks: []\n");
    assert_eq!(exporter.post("/-/reload").await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(3);
    while hanging.closed.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the removed check's request is still open after the reload"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Like Prometheus: POST /-/reload only with --web.enable-lifecycle (403
/// otherwise, the config unchanged); SIGHUP always reloads.
#[tokio::test(flavor = "multi_thread")]
async fn reload_endpoint_needs_the_lifecycle_flag() {
    let exporter = Exporter::start(
        "checks:\n  - { name: alpha, kind: command, params: { argv: [\"true\"] } }\n",
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    exporter
        .config
        .write_config("checks:\n  - { name: beta, kind: command, params: { argv: [\"true\"] } }\n");
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--web.enable-lifecycle"));
    assert!(exporter.metrics().await.contains(r#"check="alpha""#));
    exporter.signal("HUP");
    exporter
        .wait_metrics(Duration::from_secs(10), |m| m.contains(r#"check="beta""#))
        .await;
}

/// Reloading an unchanged config restarts nothing: the checks keep their
/// schedule and results (a restarted check would run again at once).
#[tokio::test(flavor = "multi_thread")]
async fn reloading_an_unchanged_config_restarts_nothing() {
    let exporter = Exporter::start_with(
        "global: { interval: 1h }\nchecks:\n  - { name: once, kind: command, params: { argv: [\"true\"] } }\n",
        &[],
        &["--web.enable-lifecycle"],
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    let runs = |m: &str| crate::support::sample(m, "prodready_check_runs_total{check=\"once\"}");
    assert_eq!(runs(&exporter.metrics().await), Some(1.0));
    let (status, _) = exporter.post("/-/reload").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs(&exporter.metrics().await), Some(1.0));
    assert!(exporter
        .logs()
        .contains("Config unchanged; nothing restarted."));
    // A real change restarts the checks, which run again.
    exporter.config.write_config(
        "global: { interval: 1h }\nchecks:\n  - { name: once, kind: command, timeout: 5s, params: { argv: [\"true\"] } }\n",
    );
    assert_eq!(exporter.post("/-/reload").await.0, 200);
    exporter
        .wait_metrics(Duration::from_secs(5), |m| runs(m) == Some(2.0))
        .await;
}

/// A reload restarts only the checks that changed: the others keep their
/// schedule and results (a restarted check would run again at once), and
/// concurrent reload requests are coalesced.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_restarts_only_what_changed() {
    let config = |changed_timeout: &str, third: &str| {
        format!(
            "global: {{ interval: 1h }}\nchecks:\n  - {{ name: kept, kind: command, params: {{ argv: [\"true\"] }} }}\n  - {{ name: changed, kind: command, timeout: {changed_timeout}, params: {{ argv: [\"true\"] }} }}\n  - {{ name: {third}, kind: command, params: {{ argv: [\"true\"] }} }}\n"
        )
    };
    let exporter = Exporter::start_with(&config("5s", "dropped"), &[], &["--web.enable-lifecycle"]);
    exporter.wait_ready(Duration::from_secs(10)).await;
    let runs = |m: &str, check: &str| {
        sample(
            m,
            &format!("prodready_check_runs_total{{check=\"{check}\"}}"),
        )
    };
    exporter.config.write_config(&config("6s", "added"));
    // Ten reload requests at once read the file at most twice.
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let url = exporter.url("/-/reload");
        posts.spawn(async move {
            let r = crate::support::client().post(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
    }
    while let Some(done) = posts.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let m = exporter
        .wait_metrics(Duration::from_secs(5), |m| {
            runs(m, "changed") == Some(2.0) && runs(m, "added") == Some(1.0)
        })
        .await;
    assert_eq!(runs(&m, "kept"), Some(1.0), "the unchanged check ran again");
    assert_eq!(runs(&m, "dropped"), None);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs(&exporter.metrics().await, "kept"), Some(1.0));
    let logs = exporter.logs();
    let reloads: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("msg=\"Config reloaded.\""))
        .collect();
    assert!(!reloads.is_empty() && reloads.len() <= 2, "{logs}");
    assert!(reloads[0].contains("kept=1 started=2 stopped=2"), "{logs}");
}

/// An unchanged file is recognised without loading it, but a secret file it
/// names counts: a rotated token is picked up by the reload and sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_file_is_a_change_even_when_the_config_is_not() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let app = TestApp::start(axum::Router::new().route(
        "/",
        get({
            let seen = seen.clone();
            move |headers: axum::http::HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(auth);
                "ok"
            }
        }),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "first-token\n").unwrap();
    let exporter = Exporter::start_with(
        &format!(
            "global: {{ interval: 1h }}\ntargets:\n  app: {{ http: {{ url: \"{}\", bearer_token_file: \"{}\" }} }}\nchecks:\n  - {{ name: app, kind: http, target: app }}\n",
            app.url("/"),
            token.display()
        ),
        &[],
        &["--web.enable-lifecycle"],
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    assert_eq!(exporter.post("/-/reload").await.0, 200);
    exporter
        .wait_log(
            Duration::from_secs(5),
            "Config unchanged; nothing restarted.",
        )
        .await;
    std::fs::write(&token, "second-token-rotated\n").unwrap();
    assert_eq!(exporter.post("/-/reload").await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen
        .lock()
        .unwrap()
        .iter()
        .any(|a| a == "Bearer second-token-rotated")
    {
        assert!(
            Instant::now() < deadline,
            "{:?}\n{}",
            seen.lock().unwrap(),
            exporter.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exporter.logs().contains("Config reloaded."));
}

/// A check a reload switches to `gate_only` stops speaking at once: its last
/// `pass` leaves `/metrics`, the API and the checklist (it is `unknown`, as
/// a gate-only check is in the daemon).
#[tokio::test(flavor = "multi_thread")]
async fn a_check_switched_to_gate_only_drops_its_last_result() {
    let config = |gate_only: bool| {
        format!(
            "checks:\n  - {{ name: smoke, kind: command, item: step.smoke_tests, gate_only: {gate_only}, params: {{ argv: [\"true\"] }} }}\n"
        )
    };
    let exporter = Exporter::start_with(&config(false), &[], &["--web.enable-lifecycle"]);
    exporter.wait_ready(Duration::from_secs(10)).await;
    let passing = r#"prodready_check_state{check="smoke",category="deployment",severity="warning",state="pass"} 1"#;
    assert!(exporter.metrics().await.contains(passing));
    exporter.config.write_config(&config(true));
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 200, "{body}");
    let m = exporter.metrics().await;
    assert!(!m.contains(passing), "still exports the old pass:\n{m}");
    assert!(
        m.contains(r#"prodready_check_state{check="smoke",category="deployment",severity="warning",state="unknown"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"prodready_checklist_item_state{item="step.smoke_tests",category="deployment",state="unknown"} 1"#),
        "{m}"
    );
    let (_, api) = exporter.get("/api/v1/checks?check=smoke").await;
    assert!(
        api.contains("\"state\": \"unknown\"") || api.contains("\"state\":\"unknown\""),
        "{api}"
    );
}

/// Editing a file a check was built from (here its gitleaks config) is a
/// change: the reload rebuilds the check and says so, instead of "Config
/// unchanged" and the old allowlist passing on.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_gitleaks_config_rebuilds_its_check() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(
        tree.path().join("app.env"),
        "STRIPE_KEY=sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs\n",
    )
    .unwrap();
    let rules = tree.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let gitleaks = rules.join("gitleaks.toml");
    let allow_all = "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''app\\.env$''']\n";
    std::fs::write(&gitleaks, allow_all).unwrap();
    let config = format!(
        "global: {{ interval: 1h }}\nchecks:\n  - {{ name: secrets, kind: hardcoded_secrets, params: {{ dir: \"{}\", gitleaks_config: \"{}\", allowlist: {{ paths: ['^rules/'] }} }} }}\n",
        tree.path().display(),
        gitleaks.display()
    );
    let exporter = Exporter::start_with(&config, &[], &["--web.enable-lifecycle"]);
    exporter.wait_ready(Duration::from_secs(10)).await;
    let state = |m: &str, s: &str| {
        m.contains(&format!(
            "prodready_check_state{{check=\"secrets\",category=\"security\",severity=\"warning\",state=\"{s}\"}} 1"
        ))
    };
    assert!(state(&exporter.metrics().await, "pass"));
    // Same size, same spec in the config: only the content differs.
    std::fs::write(&gitleaks, allow_all.replace("app\\.env$", "nothing$")).unwrap();
    let (status, body) = exporter.post("/-/reload").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !exporter.logs().contains("Config unchanged"),
        "{}",
        exporter.logs()
    );
    exporter
        .wait_metrics(Duration::from_secs(10), |m| state(m, "fail"))
        .await;
    assert!(
        !exporter.logs().contains("Config unchanged"),
        "{}",
        exporter.logs()
    );
}
