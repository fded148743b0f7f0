//! The general kinds (http, backup_freshness, env_secret, command), each made to pass, fail and error against real
//! servers, files and processes, through the `check` command's JSON report.

use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use axum::routing::get;

use crate::support::{assert_state, by, run_checks as run, TestApp};

async fn web_app() -> TestApp {
    TestApp::start(
        axum::Router::new()
            .route(
                "/health",
                get(|| async { ([("x-version", "1.2.3")], "status: ok") }),
            )
            .route(
                "/broken",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "late"
                }),
            )
            .route(
                "/moved",
                get(|| async { (StatusCode::MOVED_PERMANENTLY, [("location", "/health")]) }),
            )
            .route(
                "/away",
                get(|| async { (StatusCode::FOUND, [("location", "http://127.0.0.2:9/")]) }),
            ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn http_kind_passes_fails_and_errors() {
    let app = web_app().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let results = run(
        &format!(
            r#"
targets:
  app: {{ http: {{ url: "http://{addr}" }} }}
checks:
  - {{ name: ok, kind: http, target: app, params: {{ url: /health, body_regex: "ok$", required_headers: [x-version], max_latency: 2s }} }}
  - {{ name: status, kind: http, target: app, params: {{ url: /broken }} }}
  - {{ name: body, kind: http, target: app, params: {{ url: /health, body_regex: "^ready" }} }}
  - {{ name: header, kind: http, target: app, params: {{ url: /health, required_headers: [strict-transport-security] }} }}
  - {{ name: slow, kind: http, target: app, params: {{ url: /slow, max_latency: 100ms }} }}
  - {{ name: redirect, kind: http, target: app, params: {{ url: /moved }} }}
  - {{ name: offsite, kind: http, target: app, params: {{ url: /away }} }}
  - {{ name: expected_500, kind: http, target: app, params: {{ url: /broken, expected_status: ["5xx"] }} }}
  - {{ name: refused, kind: http, params: {{ url: "http://{closed}/" }} }}
"#,
            addr = app.addr
        ),
        &[],
    );
    assert_state(by(&results, "ok"), "pass", "answered 200");
    assert!(by(&results, "ok").doc["observed"].as_f64().unwrap() > 0.0);
    assert_eq!(by(&results, "ok").doc["threshold"], 2.0);
    results.expect_states(&[
        ("status", "fail", "status 500, expected 2xx"),
        ("body", "fail", "body does not match /^ready/"),
        (
            "header",
            "fail",
            "missing header(s) strict-transport-security",
        ),
        ("slow", "fail", "limit 100ms"),
        ("redirect", "pass", "/health answered 200"),
    ]);
    assert_eq!(
        by(&results, "redirect").doc["evidence"]["redirects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    results.expect_states(&[
        ("offsite", "fail", "redirects to another origin"),
        ("expected_500", "pass", "answered 500"),
        ("refused", "error", "connection failed"),
    ]);
}

fn touch(path: &std::path::Path, bytes: usize, age: Duration) {
    std::fs::write(path, vec![b'x'; bytes]).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn backup_freshness_passes_fails_and_errors() {
    let fresh = tempfile::tempdir().unwrap();
    touch(
        &fresh.path().join("db-old.sql.gz"),
        100,
        Duration::from_secs(5 * 86_400),
    );
    touch(
        &fresh.path().join("db-new.sql.gz"),
        100,
        Duration::from_secs(3600),
    );
    touch(
        &fresh.path().join("notes.txt"),
        100,
        Duration::from_secs(60),
    );
    let stale = tempfile::tempdir().unwrap();
    touch(
        &stale.path().join("db.sql.gz"),
        100,
        Duration::from_secs(3 * 86_400),
    );
    let empty_file = tempfile::tempdir().unwrap();
    touch(
        &empty_file.path().join("db.sql.gz"),
        0,
        Duration::from_secs(60),
    );
    let nothing = tempfile::tempdir().unwrap();
    let not_a_dir = fresh.path().join("notes.txt");
    let just_taken = tempfile::tempdir().unwrap();
    touch(
        &just_taken.path().join("predeploy.sql.gz"),
        2048,
        Duration::from_secs(1),
    );
    let future = tempfile::tempdir().unwrap();
    let dump = future.path().join("db.sql.gz");
    std::fs::write(&dump, vec![b'x'; 4096]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&dump)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(3 * 86_400))
        .unwrap();

    let results = run(
        &format!(
            r#"
targets:
  fresh: {{ path: "{fresh}" }}
checks:
  - {{ name: fresh, kind: backup_freshness, target: fresh, params: {{ pattern: "*.sql.gz", max_age: 26h, min_size: 10 }} }}
  - {{ name: stale, kind: backup_freshness, params: {{ dir: "{stale}", pattern: "*.sql.gz", max_age: 26h }} }}
  - {{ name: empty, kind: backup_freshness, params: {{ dir: "{empty}", max_age: 26h, min_size: 1KiB }} }}
  - {{ name: none, kind: backup_freshness, params: {{ dir: "{nothing}", max_age: 26h }} }}
  - {{ name: missing, kind: backup_freshness, params: {{ dir: /nonexistent/backups, max_age: 26h }} }}
  - {{ name: notdir, kind: backup_freshness, params: {{ dir: "{notdir}", max_age: 26h }} }}
  - {{ name: future, kind: backup_freshness, params: {{ dir: "{future}", max_age: 26h }} }}
  - {{ name: tiny, kind: backup_freshness, params: {{ dir: "{stale}", max_age: 30d }} }}
  - {{ name: for_this_deploy, kind: backup_freshness, item: deployment.backup_database, params: {{ dir: "{just_taken}", max_age: 1h, newer_than_start: 5m }} }}
  - {{ name: before_this_deploy, kind: backup_freshness, item: deployment.backup_database, params: {{ dir: "{fresh}", pattern: "*.sql.gz", max_age: 26h, min_size: 10, newer_than_start: 5m }} }}
"#,
            fresh = fresh.path().display(),
            stale = stale.path().display(),
            empty = empty_file.path().display(),
            nothing = nothing.path().display(),
            notdir = not_a_dir.display(),
            future = future.path().display(),
            just_taken = just_taken.path().display(),
        ),
        &[],
    );
    assert_state(by(&results, "fresh"), "pass", "db-new.sql.gz is 1h old");
    assert_eq!(by(&results, "fresh").doc["evidence"]["matching_files"], 2);
    let age = by(&results, "fresh").doc["observed"].as_f64().unwrap();
    assert!((3590.0..3700.0).contains(&age), "{age}");
    results.expect_states(&[
        ("stale", "fail", "is 3d old (limit 1d2h)"),
        ("empty", "fail", "is 0 bytes (minimum 1024)"),
        ("none", "fail", "no file matching * in"),
        (
            "missing",
            "error",
            "cannot read directory /nonexistent/backups",
        ),
        ("notdir", "error", "Not a directory"),
        // A date in the future is no evidence of a recent backup.
        ("future", "fail", "in the future: its age cannot be trusted"),
        // 100 bytes is below the default minimum of 1 KiB.
        ("tiny", "fail", "is 100 bytes (minimum 1024)"),
        // The pre-deployment backup must be taken for this run.
        ("for_this_deploy", "pass", "predeploy.sql.gz"),
        (
            "before_this_deploy",
            "fail",
            "was taken before this run started (margin 5m)",
        ),
    ]);
}

#[test]
fn env_secret_passes_and_fails_on_the_value_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("app.env");
    std::fs::write(
        &env_file,
        "# app\nexport SESSION_KEY=\"changeme\"\nAPI_KEY=k3J9-xQ2v-Lm8P-Zt4w-Rb7N\n",
    )
    .unwrap();
    let results = run(
        &format!(
            r#"
checks:
  - {{ name: strong, kind: env_secret, params: {{ variable: STRONG_FOR_TEST }} }}
  - {{ name: weak, kind: env_secret, params: {{ variable: WEAK_FOR_TEST }} }}
  - {{ name: unset, kind: env_secret, params: {{ variable: UNSET_FOR_TEST_4711 }} }}
  - {{ name: file_ok, kind: env_secret, params: {{ variable: API_KEY, env_file: "{f}" }} }}
  - {{ name: file_placeholder, kind: env_secret, params: {{ variable: SESSION_KEY, env_file: "{f}", min_length: 4 }} }}
  - {{ name: file_missing, kind: env_secret, params: {{ variable: API_KEY, env_file: /nonexistent/app.env }} }}
"#,
            f = env_file.display()
        ),
        &[
            ("STRONG_FOR_TEST", "9fK2-pQ7z-Xc4R-Lm1V-tY8w"),
            ("WEAK_FOR_TEST", "short"),
        ],
    );
    assert_state(by(&results, "strong"), "pass", "24 characters");
    assert_eq!(by(&results, "strong").doc["observed"], 24.0);
    results.expect_states(&[
        ("weak", "fail", "is 5 characters long, minimum 16"),
        ("unset", "fail", "UNSET_FOR_TEST_4711 is not set"),
        ("file_ok", "pass", "API_KEY (env file"),
        ("file_placeholder", "fail", "well-known placeholder"),
        (
            "file_missing",
            "error",
            "cannot read env file /nonexistent/app.env",
        ),
    ]);
}

#[test]
fn command_kind_judges_exit_codes_and_is_killed_at_its_timeout() {
    let results = run(
        r#"
checks:
  - { name: ok, kind: command, params: { argv: ["true"] } }
  - { name: accepted, kind: command, params: { argv: ["sh", "-c", "exit 3"], expected_exit_codes: [0, 3] } }
  - { name: failed, kind: command, params: { argv: ["sh", "-c", "echo first; echo 'last line' >&2; exit 2"] } }
  - { name: missing, kind: command, params: { argv: ["/nonexistent/tool"] } }
  - { name: hangs, kind: command, timeout: 1s, params: { argv: ["sleep", "30"] } }
  - { name: noisy, kind: command, params: { argv: ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' 'y'; exit 1"] } }
"#,
        &[],
    );
    results.expect_states(&[
        ("ok", "pass", "true exited 0"),
        ("accepted", "pass", "exited 3"),
        ("failed", "fail", "sh exited 2 (expected 0): last line"),
        ("missing", "error", "cannot run /nonexistent/tool"),
        ("hangs", "error", "timed out after 1s"),
    ]);
    assert!(
        by(&results, "hangs").doc["duration_seconds"]
            .as_f64()
            .unwrap()
            < 5.0
    );
    assert_state(by(&results, "noisy"), "fail", "exited 1");
    assert!(
        by(&results, "noisy").message.len() < 300,
        "output must be truncated: {}",
        by(&results, "noisy").message.len()
    );
    assert_eq!(
        by(&results, "noisy").doc["evidence"]["stdout_bytes"],
        300_000
    );
}
