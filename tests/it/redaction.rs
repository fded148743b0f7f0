//! Secrets planted in a target URL, a secret file and an env secret never
//! appear in any output: metrics, status page, JSON API, probe debug, the
//! `check` reports, `validate` errors or the logs (at debug level).

use std::time::Duration;

use axum::routing::get;

use crate::support::{run_cli, stderr, stdout, ConfigDir, Exporter, TestApp};

const URL_PASSWORD: &str = "UrlPassw0rd-7d1f9c";
const ENV_VALUE: &str = "EnvSecretValue-4be2a8-0123456789abcdef";
const FILE_TOKEN: &str = "FileToken-93ab77e1c2";

fn assert_clean(what: &str, text: &str) {
    for secret in [URL_PASSWORD, ENV_VALUE, FILE_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks a secret:\n{text}");
    }
}

fn config(app: &TestApp, token_file: &std::path::Path) -> String {
    format!(
        r#"
targets:
  app:
    http: {{ url: "http://admin:{URL_PASSWORD}@{addr}", bearer_token_file: "{token}" }}
  closed:
    http: {{ url: "http://admin:{URL_PASSWORD}@127.0.0.1:1" }}
checks:
  - name: app_auth
    kind: http
    target: app
    params: {{ url: /echo, body_regex: "^nothing$" }}
  - name: closed_port
    kind: http
    target: closed
  - name: app_secret
    kind: env_secret
    params: {{ variable: APP_SECRET_FOR_TEST, min_length: 64 }}
  - name: shows_env
    kind: command
    probe: true
    params: {{ argv: ["sh", "-c", "echo $APP_SECRET_FOR_TEST >&2; exit 1"] }}
"#,
        addr = app.addr,
        token = token_file.display(),
    )
}

/// Echoes the request's credentials back, as a careless app might.
async fn echo_app() -> TestApp {
    TestApp::start(axum::Router::new().route(
        "/echo",
        get(|headers: axum::http::HeaderMap| async move {
            format!("{:?}", headers.get("authorization"))
        }),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_any_output() {
    let app = echo_app().await;
    let secrets_dir = tempfile::tempdir().unwrap();
    let token_file = secrets_dir.path().join("token");
    std::fs::write(&token_file, format!("{FILE_TOKEN}\n")).unwrap();
    let config = config(&app, &token_file);
    let env = [("APP_SECRET_FOR_TEST", ENV_VALUE)];

    let exporter = Exporter::start_with(&config, &env, &["--log.level=debug"]);
    exporter.wait_ready(Duration::from_secs(15)).await;
    for path in [
        "/metrics",
        "/",
        "/api/v1/checks",
        "/probe?check=app_auth&debug=true",
        "/probe?check=closed_port&debug=true",
        "/probe?check=app_secret&debug=true",
        "/probe?check=shows_env&debug=true",
        "/probe?check=app_auth",
    ] {
        let (status, body) = exporter.get(path).await;
        // A refusal would show nothing to leak: every path must really answer.
        assert_eq!(status, 200, "{path}: {body}");
        assert_clean(path, &body);
    }
    // The checks really ran against the secrets: the app saw the token, the
    // closed port's error names the (masked) URL, the env secret was measured.
    let (_, api) = exporter.get("/api/v1/checks").await;
    assert!(
        api.contains("<redacted>"),
        "the echoed token should be redacted: {api}"
    );
    assert!(
        api.contains("http://127.0.0.1:1/") && api.contains("connection failed"),
        "{api}"
    );
    assert!(
        api.contains(&format!("is {} characters long", ENV_VALUE.len())),
        "{api}"
    );
    assert_clean("logs", &exporter.logs());
    assert!(
        exporter.logs().contains("level=debug"),
        "debug logging was not on"
    );

    let dir = ConfigDir::new(&config);
    let arg = format!("--config.file={}", dir.config_path().display());
    for format in ["table", "json", "junit"] {
        let out = run_cli(
            &["check", &arg, "--format", format, "--log.level=debug"],
            &env,
        );
        assert_eq!(out.status.code(), Some(1));
        assert_clean(format, &stdout(&out));
        assert_clean(format, &stderr(&out));
    }
}

#[test]
fn config_errors_do_not_echo_secrets() {
    let dir = ConfigDir::new(&format!(
        r#"
targets:
  db: {{ postgres: {{ url: "postgres://app:{URL_PASSWORD}@127.0.0.1:5432/app" }} }}
  web: {{ http: {{ url: "http://admin:{URL_PASSWORD}@127.0.0.1:80", headers: {{ Authorization: "Bearer {FILE_TOKEN}" }} }} }}
checks:
  - {{ name: a, kind: http, target: db }}
  - {{ name: b, kind: http, target: web, params: {{ url: "http://u:{ENV_VALUE}@other" }} }}
  - {{ name: c, kind: http, params: {{ url: "http://u:{ENV_VALUE}@127.0.0.1/" }} }}
"#
    ));
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["validate", &arg], &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("needs a http target"), "{text}");
    assert!(
        text.contains("credentials in a named http target"),
        "{text}"
    );
    assert_clean("validate", &text);
}

/// Credentials go only to the target's own origin: a redirect to another
/// port on the same host is followed without them, and the listener there
/// never sees them (asserted on what it received).
#[tokio::test(flavor = "multi_thread")]
async fn credentials_do_not_follow_a_redirect_off_the_target_origin() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let other = TestApp::start(axum::Router::new().route(
        "/landing",
        get({
            let seen = seen.clone();
            move |headers: axum::http::HeaderMap| {
                let seen = seen.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_owned();
                    seen.lock().unwrap().push(auth);
                    "landed"
                }
            }
        }),
    ))
    .await;
    let target = format!("http://{}/landing", other.addr);
    let app = TestApp::start(axum::Router::new().route(
        "/hop",
        get(move || {
            let target = target.clone();
            async move { (axum::http::StatusCode::FOUND, [("location", target)]) }
        }),
    ))
    .await;
    let config = format!(
        "targets:\n  app: {{ http: {{ url: \"http://{}\", bearer_token: Redirect-Tok3n-55 }} }}\nchecks:\n  - {{ name: hop, kind: http, target: app, params: {{ url: /hop, follow_redirects: any }} }}\n",
        app.addr
    );
    let r = tokio::task::spawn_blocking(move || crate::support::run_checks(&config, &[]))
        .await
        .unwrap();
    crate::support::assert_state(r.get("hop"), "pass", "answered 200");
    assert_eq!(*seen.lock().unwrap(), ["none"]);
}

/// Type errors name the field and the types, never the value; `?password=`
/// and token-only URLs are masked in every message.
#[test]
fn errors_name_types_not_values() {
    let dir = ConfigDir::new(
        "targets:\n  db: { postgres: { url: \"postgres://127.0.0.1:1/app?sslmode=disable&password=QueryPw-88\" } }\n  api: { http: { url: \"https://TokenUser-31@127.0.0.1:1\" } }\nchecks:\n  - { name: a, kind: env_secret, params: { variable: 918273645 } }\n  - { name: b, kind: postgres_connections, target: db }\n  - { name: c, kind: http, target: api }\n",
    );
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["validate", &arg], &[]);
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains("field params.variable: invalid type: integer, expected a string"),
        "{text}"
    );
    assert!(!text.contains("918273645"), "{text}");
    let out = run_cli(
        &[
            "check", &arg, "--format", "json", "--check", "b", "--check", "c",
        ],
        &[],
    );
    let text = stdout(&out) + &stderr(&out);
    assert!(
        !text.contains("QueryPw-88") && !text.contains("TokenUser-31"),
        "{text}"
    );
}

/// A command's environment values count as secrets: a program that prints
/// its token does not leak it through the check's message.
#[test]
fn command_env_values_never_reach_output() {
    let dir = ConfigDir::new(
        "checks:\n  - { name: leaky, kind: command, params: { argv: [\"sh\", \"-c\", \"echo token is $API_TOKEN >&2; exit 1\"], env: { API_TOKEN: EnvCmdSecret-4242 } } }\n",
    );
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["check", &arg, "--format", "json"], &[]);
    let text = stdout(&out) + &stderr(&out);
    assert!(text.contains("token is <redacted>"), "{text}");
    assert!(!text.contains("EnvCmdSecret-4242"), "{text}");
}
