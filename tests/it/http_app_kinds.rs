//! The HTTP kinds that need behaviour nginx cannot show, against small axum
//! apps: authentication, authorization, input validation, SQL injection
//! probes, rate limiting, endless bodies.

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use crate::support::{assert_state, by, run_checks, TestApp};

/// An app with a login, an admin area, a leaky page, JSON endpoints that
/// validate or crash, and a search that leaks SQL errors.
async fn app() -> TestApp {
    fn bearer(headers: &HeaderMap) -> Option<String> {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned)
    }
    let router = axum::Router::new()
        .route(
            "/account",
            get(|h: HeaderMap| async move {
                match bearer(&h).as_deref() {
                    Some("user-token") | Some("admin-token") => (StatusCode::OK, "your account"),
                    _ => (StatusCode::UNAUTHORIZED, "log in"),
                }
            }),
        )
        .route(
            "/settings",
            get(|h: HeaderMap| async move {
                match bearer(&h) {
                    Some(_) => (StatusCode::OK, [("location", "")], "settings"),
                    None => (StatusCode::FOUND, [("location", "/login")], ""),
                }
            }),
        )
        .route(
            "/admin",
            get(|h: HeaderMap| async move {
                match bearer(&h).as_deref() {
                    Some("admin-token") => (StatusCode::OK, "admin"),
                    Some("user-token") => (StatusCode::FORBIDDEN, "forbidden"),
                    _ => (StatusCode::UNAUTHORIZED, "log in"),
                }
            }),
        )
        .route(
            "/admin/export",
            get(|h: HeaderMap| async move {
                match bearer(&h) {
                    Some(_) => (StatusCode::OK, "all the data"),
                    None => (StatusCode::UNAUTHORIZED, "log in"),
                }
            }),
        )
        .route("/public-report", get(|| async { "everyone can read this" }))
        // Needs a credential the exporter's target does not have.
        .route(
            "/api/private",
            post(|h: HeaderMap| async move {
                match bearer(&h).as_deref() {
                    Some("service-token") => (StatusCode::OK, "ok"),
                    _ => (StatusCode::UNAUTHORIZED, "log in"),
                }
            })
            .get(|h: HeaderMap| async move {
                match bearer(&h).as_deref() {
                    Some("service-token") => (StatusCode::OK, "ok"),
                    _ => (StatusCode::UNAUTHORIZED, "log in"),
                }
            }),
        )
        .route(
            "/api/strict",
            post(|body: axum::body::Bytes| async move {
                match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
                    Ok(m) if m.get("id").is_some_and(|v| v.is_u64()) => (StatusCode::CREATED, "ok".to_owned()),
                    Ok(_) => (StatusCode::UNPROCESSABLE_ENTITY, "{\"error\":\"id must be a number\"}".to_owned()),
                    Err(e) => (StatusCode::BAD_REQUEST, format!("{{\"error\":\"{e}\"}}")),
                }
            }),
        )
        .route(
            "/api/fragile",
            post(|body: axum::body::Bytes| async move {
                match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(_) => (StatusCode::OK, "ok".to_owned()),
                    Err(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Traceback (most recent call last):\n  File \"/app/views.py\", line 12, in create\nValueError".to_owned(),
                    ),
                }
            }),
        )
        .route(
            "/search",
            get(|Query(q): Query<std::collections::HashMap<String, String>>| async move {
                let term = q.get("q").cloned().unwrap_or_default();
                if term.matches('\'').count() % 2 == 1 {
                    (StatusCode::INTERNAL_SERVER_ERROR, format!("ERROR:  unterminated quoted string at or near \"'{term}\""))
                } else {
                    (StatusCode::OK, format!("results for {}", term.len()))
                }
            }),
        )
        .route(
            "/item",
            get(|Query(q): Query<std::collections::HashMap<String, String>>| async move {
                // Mimics `SELECT ... WHERE id = $id` built by string concatenation.
                let id = q.get("id").cloned().unwrap_or_default();
                let row = "{\"id\": 1, \"name\": \"A fine product with a long description\"}";
                if id == "1" || id.ends_with("AND 1=1") {
                    (StatusCode::OK, row.to_owned())
                } else {
                    (StatusCode::OK, "[]".to_owned())
                }
            }),
        )
        .route(
            "/safe",
            get(|Query(q): Query<std::collections::HashMap<String, String>>| async move {
                match q.get("id").and_then(|v| v.parse::<u32>().ok()) {
                    Some(id) => (StatusCode::OK, format!("{{\"id\": {id}, \"name\": \"widget\"}}")),
                    None => (StatusCode::BAD_REQUEST, "{\"error\": \"id must be a number\"}".to_owned()),
                }
            }),
        );
    TestApp::start(router).await
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_input_and_injection_kinds_against_an_app() {
    let app = app().await;
    let tokens = tempfile::tempdir().unwrap();
    let user_token = tokens.path().join("user");
    std::fs::write(&user_token, "user-token\n").unwrap();
    let config = format!(
        r#"
targets:
  app: {{ http: {{ url: "http://{addr}", bearer_token: admin-token }} }}
checks:
  - {{ name: authn_ok, kind: authentication, target: app, params: {{ urls: [/account, /admin, /settings], login_url: /login, check_with_credentials: true }} }}
  - {{ name: authn_open, kind: authentication, target: app, params: {{ urls: [/account, /public-report] }} }}
  - {{ name: authz_ok, kind: authorization, target: app, params: {{ urls: [/admin], credential: {{ bearer_token_file: "{user}" }} }} }}
  - {{ name: authz_broken, kind: authorization, target: app, params: {{ urls: [/admin, /admin/export], credential: {{ bearer_token_file: "{user}" }} }} }}
  - {{ name: authz_bad_credential, kind: authorization, target: app, params: {{ urls: [/admin], credential: {{ bearer_token: wrong-token }} }} }}
  - {{ name: input_ok, kind: input_validation, target: app, params: {{ endpoints: [{{ url: /api/strict }}] }} }}
  - {{ name: input_fragile, kind: input_validation, target: app, params: {{ endpoints: [{{ url: /api/fragile }}] }} }}
  - {{ name: sqli_safe, kind: sql_injection, target: app, params: {{ params: [{{ url: /safe, param: id }}] }} }}
  - {{ name: sqli_error, kind: sql_injection, target: app, params: {{ params: [{{ url: /search, param: q, value: shoes }}] }} }}
  - {{ name: sqli_boolean, kind: sql_injection, target: app, params: {{ params: [{{ url: /item, param: id }}] }} }}
  - {{ name: authz_wrong_url, kind: authorization, target: app, params: {{ urls: [/no-such-page], credential: {{ bearer_token_file: "{user}" }} }} }}
  - {{ name: authz_unreachable, kind: authorization, target: app, params: {{ urls: [/api/private], credential: {{ bearer_token_file: "{user}" }} }} }}
  - {{ name: input_wrong_url, kind: input_validation, target: app, params: {{ endpoints: [{{ url: /no-such-endpoint }}] }} }}
  - {{ name: input_wrong_method, kind: input_validation, target: app, params: {{ endpoints: [{{ url: /public-report }}] }} }}
  - {{ name: input_unauthorized, kind: input_validation, target: app, params: {{ endpoints: [{{ url: /api/private }}] }} }}
  - {{ name: sqli_wrong_url, kind: sql_injection, target: app, params: {{ params: [{{ url: /no-such-search, param: q }}] }} }}
  - {{ name: sqli_unauthorized, kind: sql_injection, target: app, params: {{ params: [{{ url: /api/private, param: q }}] }} }}
"#,
        addr = app.addr,
        user = user_token.display()
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    r.expect_states(&[
        (
            "authn_ok",
            "pass",
            "3 protected URL(s) refuse anonymous requests and admit",
        ),
        (
            "authn_open",
            "fail",
            "/public-report answered 200 without credentials",
        ),
        ("authz_ok", "pass", "refuse the low-privilege credential"),
        (
            "authz_broken",
            "fail",
            "/admin/export answered 200 to the low-privilege credential",
        ),
        (
            "authz_bad_credential",
            "error",
            "credential itself is rejected (401)",
        ),
        (
            "input_ok",
            "pass",
            "reject 5 bad inputs with 400/413/415/422",
        ),
        ("input_fragile", "fail", "answered 500 to malformed_json"),
    ]);
    assert!(
        by(&r, "input_fragile")
            .message
            .contains("leaks a python-traceback page"),
        "{}",
        by(&r, "input_fragile").message
    );
    r.expect_states(&[
        ("sqli_safe", "pass", "no sign of SQL injection"),
        ("sqli_error", "fail", "postgresql error message in the body"),
        ("sqli_boolean", "fail", "boolean injection"),
        // Status-blind answers prove nothing: a wrong URL, method or credential is `error`.
        ("authz_wrong_url", "error", "cannot tell: http://"),
        (
            "authz_unreachable",
            "error",
            "answered 401 to the target's own credentials",
        ),
        ("input_wrong_url", "error", "answered 404 to malformed_json"),
        ("input_wrong_method", "error", "answered 405"),
        ("input_unauthorized", "error", "answered 401"),
        (
            "sqli_wrong_url",
            "error",
            "answered 404 to the benign value",
        ),
        (
            "sqli_unauthorized",
            "error",
            "answered 401 to the benign value",
        ),
    ]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_headers_count_as_a_passive_signal() {
    let app = TestApp::start(
        axum::Router::new()
            .route(
                "/",
                get(|| async {
                    (
                        [
                            ("RateLimit-Policy", "\"default\";q=100;w=60"),
                            ("RateLimit", "\"default\";r=99;t=30"),
                        ],
                        "ok",
                    )
                }),
            )
            // Retry-After alone is what a 503 or a redirect also sends.
            .route(
                "/retry-only",
                get(|| async { ([("Retry-After", "30")], "ok") }),
            )
            .route(
                "/limited",
                get(|| async {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("Retry-After", "30")],
                        "slow down",
                    )
                }),
            )
            .route(
                "/gone",
                get(|| async {
                    (
                        StatusCode::NOT_FOUND,
                        [("RateLimit-Policy", "\"default\";q=100;w=60")],
                        "not here",
                    )
                }),
            ),
    )
    .await;
    let config = format!(
        "targets:\n  app: {{ http: {{ url: \"http://{}\" }} }}\nchecks:
  - {{ name: rl, kind: rate_limiting, target: app }}
  - {{ name: rl_retry_only, kind: rate_limiting, target: app, params: {{ url: /retry-only }} }}
  - {{ name: rl_limited, kind: rate_limiting, target: app, params: {{ url: /limited }} }}
  - {{ name: rl_404, kind: rate_limiting, target: app, params: {{ url: /gone }} }}
  - {{ name: headers_404, kind: security_headers, target: app, params: {{ url: /gone }} }}
  - {{ name: cors_404, kind: cors, target: app, params: {{ urls: [/gone] }} }}
  - {{ name: cdn_404, kind: cdn, target: app, params: {{ url: /gone }} }}
",
        app.addr
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    r.expect_states(&[
        ("rl", "pass", "IETF draft 07+ (RateLimit-Policy)"),
        ("rl_retry_only", "warn", "a bare Retry-After does not count"),
        ("rl_limited", "pass", "rate limit advertised"),
        ("rl_404", "error", "answered 404"),
        // Headers of an error page prove nothing about the site.
        (
            "headers_404",
            "error",
            "answered 404: cannot judge its security headers",
        ),
        (
            "cors_404",
            "error",
            "answered 404: cannot judge its CORS policy",
        ),
        ("cdn_404", "error", "answered 404: cannot judge CDN caching"),
    ]);
}

/// A hostile server: answers 200 and then streams a body forever.
async fn endless_body_server() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await;
                let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_body_is_read_only_up_to_the_cap() {
    let (addr, server) = endless_body_server().await;
    let config = format!(
        r#"
targets:
  hostile: {{ http: {{ url: "http://{addr}" }} }}
checks:
  - {{ name: endless, kind: http, target: hostile, timeout: 20s, params: {{ max_body_size: 2MiB, body_regex: "never-there" }} }}
  - {{ name: endless_headers, kind: security_headers, target: hostile, timeout: 20s }}
  - {{ name: endless_assets, kind: asset_optimization, target: hostile, timeout: 20s }}
"#
    );
    let r = tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap();
    server.abort();
    assert_state(
        by(&r, "endless"),
        "error",
        "larger than max_body_size (2097152 bytes)",
    );
    assert_eq!(by(&r, "endless").doc["evidence"]["body_truncated"], true);
    assert_eq!(
        by(&r, "endless").doc["evidence"]["body_bytes_read"],
        2 * 1024 * 1024
    );
    r.expect_states(&[
        ("endless_headers", "fail", "score"),
        ("endless_assets", "unknown", "references no same-origin"),
    ]);
}

/// A redirect to another port of the same host is another service: by
/// default (`same_origin`) it is not followed; with `any` it is, and neither
/// the check's headers nor the target's token travel there.
#[tokio::test(flavor = "multi_thread")]
async fn redirects_to_another_origin_carry_no_credentials() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let other = TestApp::start(axum::Router::new().route(
        "/landing",
        get(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let mut names: Vec<String> =
                    headers.keys().map(|k| k.as_str().to_owned()).collect();
                names.sort();
                record.lock().unwrap().push(names.join(","));
                (StatusCode::OK, "landed")
            }
        }),
    ))
    .await;
    let target = format!("http://{}/landing", other.addr);
    let origin = TestApp::start(axum::Router::new().route(
        "/start",
        get(move || {
            let target = target.clone();
            async move {
                (
                    StatusCode::FOUND,
                    [(axum::http::header::LOCATION, target)],
                    "",
                )
            }
        }),
    ))
    .await;
    let config = format!(
        "targets:\n  app: {{ http: {{ url: \"http://{}\", bearer_token: TargetTok-7731 }} }}\nchecks:\n  - {{ name: strict, kind: http, target: app, params: {{ url: /start, headers: {{ X-Api-Key: CheckKey-4410 }} }} }}\n  - {{ name: loose, kind: http, target: app, params: {{ url: /start, follow_redirects: any, headers: {{ X-Api-Key: CheckKey-4410 }} }} }}\n  - {{ name: judged, kind: http, target: app, params: {{ url: /start, follow_redirects: none, expected_status: [302] }} }}\n",
        origin.addr
    );
    let r = run_checks(&config, &[]);
    assert_state(by(&r, "strict"), "fail", "redirects to another origin");
    assert_state(by(&r, "judged"), "pass", "");
    let loose = by(&r, "loose");
    assert_state(loose, "pass", "");
    assert_eq!(
        loose.doc["evidence"]["url"],
        format!("http://{}/landing", other.addr),
        "the verdict names the final URL"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "only `any` went there: {seen:?}");
    assert!(
        !seen[0].contains("authorization") && !seen[0].contains("x-api-key"),
        "credentials crossed origins: {}",
        seen[0]
    );
}
