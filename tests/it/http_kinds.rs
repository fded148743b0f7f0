//! The HTTP and TLS kinds against real nginx (good and bad vhosts), a real
//! PostgreSQL for STARTTLS, rcgen certificates, and small axum apps for
//! behaviour nginx cannot show.

use std::path::Path;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use crate::support::certs::{leaf_params, TestPki, LOCAL};
use crate::support::nginx::Nginx;
use crate::support::postgres::Postgres;
use crate::support::{assert_state, by, run_checks, TestApp};

/// Minified-looking JavaScript of about 3 KiB.
fn minified_js() -> String {
    "var a=function(b){return b*2};".repeat(100)
}

/// Pretty-printed JavaScript of about 3 KiB.
fn pretty_js() -> String {
    "function double(value) {\n    return value * 2;\n}\n\n".repeat(70)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const GOOD_INDEX: &str = r#"<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/assets/site.7d8e9f0a1b.css">
<script src="/assets/app.3f9a1c2b4d.js"></script>
<script src="https://cdn.other.invalid/lib.js"></script>
</head><body><img src="/assets/logo.5e6f7a8b9c.png"></body></html>"#;

const BAD_INDEX: &str = r#"<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/js/site.css"><script src="/js/app.js"></script>
</head><body>hello</body></html>"#;

/// The good site: HTTP redirects to HTTPS; HTTPS has HSTS, security headers,
/// gzip with Vary, long-lived fingerprinted assets, a rate-limited location,
/// a caching proxy in front of a backend. Ports: 0 http, 1 https, 2 backend.
fn good_site(pki: &TestPki) -> Nginx {
    let cert = pki.leaf("good", leaf_params(LOCAL, -1, 90));
    Nginx::start(3, |dir, p| {
        let www = dir.join("www");
        write(&www.join("index.html"), GOOD_INDEX);
        write(&www.join("assets/app.3f9a1c2b4d.js"), &minified_js());
        write(
            &www.join("assets/site.7d8e9f0a1b.css"),
            &"body{margin:0;padding:0}".repeat(80),
        );
        write(&www.join("assets/logo.5e6f7a8b9c.png"), "PNG");
        write(
            &www.join("big.txt"),
            &"lorem ipsum dolor sit amet ".repeat(200),
        );
        write(
            &www.join("novary/big.txt"),
            &"lorem ipsum dolor sit amet ".repeat(200),
        );
        write(&www.join("public/data.json"), "{\"public\": true}");
        write(&www.join("cdn/page.html"), "<p>cached</p>");
        write(&www.join("limited"), "ok");
        format!(
            r#"
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
    proxy_cache_path {d}/cache keys_zone=cdn:1m;
    server {{
        listen 127.0.0.1:{http};
        return 301 https://127.0.0.1:{https}$request_uri;
    }}
    server {{
        listen 127.0.0.1:{backend};
        root {www};
        add_header Cache-Control "public, max-age=600";
    }}
    server {{
        listen 127.0.0.1:{https} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        root {www};
        gzip on;
        gzip_types text/css application/javascript application/json text/plain;
        gzip_min_length 256;
        gzip_vary on;
        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'" always;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy strict-origin-when-cross-origin always;
        add_header Set-Cookie "session=abc; Secure; HttpOnly; SameSite=Lax" always;
        location /assets/ {{ add_header Cache-Control "public, max-age=31536000, immutable"; }}
        location /novary/ {{ gzip_vary off; }}
        location /public/ {{ add_header Access-Control-Allow-Origin "*" always; }}
        location = /limited {{ limit_req zone=one burst=2 nodelay; limit_req_status 429; default_type text/plain; }}
        location /cdn/ {{
            proxy_pass http://127.0.0.1:{backend};
            proxy_cache cdn;
            proxy_cache_valid 200 10m;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
"#,
            d = dir.display(),
            www = www.display(),
            http = p[0],
            https = p[1],
            backend = p[2],
            crt = cert.cert.display(),
            key = cert.key.display(),
        )
    })
}

/// The bad site: plain HTTP that does not redirect, no security headers, no
/// gzip, CORS reflecting any origin with credentials, unfingerprinted assets
/// without Cache-Control. Ports: 0 plain http, 1 https (short HSTS),
/// 2 http that redirects to port 1.
fn bad_site(pki: &TestPki) -> Nginx {
    let cert = pki.leaf("bad", leaf_params(LOCAL, -1, 90));
    Nginx::start(3, |dir, p| {
        let www = dir.join("www");
        write(&www.join("index.html"), BAD_INDEX);
        write(&www.join("js/app.js"), &pretty_js());
        write(
            &www.join("js/site.css"),
            &"body {\n  margin: 0;\n}\n".repeat(100),
        );
        write(
            &www.join("big.txt"),
            &"lorem ipsum dolor sit amet ".repeat(200),
        );
        format!(
            r#"
    server {{
        listen 127.0.0.1:{plain};
        root {www};
        add_header Access-Control-Allow-Origin $http_origin always;
        add_header Access-Control-Allow-Credentials true always;
        add_header Set-Cookie "session=abc" always;
        location /temp {{ return 302 https://127.0.0.1:{https}/; }}
        location / {{
            if ($request_method = OPTIONS) {{ return 204; }}
        }}
    }}
    server {{
        listen 127.0.0.1:{https} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        root {www};
        add_header Strict-Transport-Security "max-age=300" always;
    }}
    server {{
        listen 127.0.0.1:{redirect};
        return 301 https://127.0.0.1:{https}$request_uri;
    }}
"#,
            www = www.display(),
            plain = p[0],
            https = p[1],
            redirect = p[2],
            crt = cert.cert.display(),
            key = cert.key.display(),
        )
    })
}

#[test]
fn web_kinds_pass_on_a_good_site_and_fail_on_a_bad_one() {
    let pki = TestPki::new();
    let good = good_site(&pki);
    let bad = bad_site(&pki);
    let ca = pki.ca_file.display();
    let config = format!(
        r#"
targets:
  good: {{ http: {{ url: "https://127.0.0.1:{g_https}", tls: {{ ca_file: "{ca}" }} }} }}
  bad_https: {{ http: {{ url: "https://127.0.0.1:{b_https}", tls: {{ ca_file: "{ca}" }} }} }}
  bad: {{ http: {{ url: "http://127.0.0.1:{b_plain}" }} }}
  good_plain: {{ http: {{ url: "http://127.0.0.1:{g_http}/index.html", tls: {{ ca_file: "{ca}" }} }} }}
checks:
  - {{ name: redirect_ok, kind: https_redirect, target: good, params: {{ http_port: {g_http}, path: /index.html }} }}
  - {{ name: redirect_plain_target, kind: https_redirect, target: good_plain, params: {{ path: /index.html }} }}
  - {{ name: redirect_to_404, kind: https_redirect, target: good, params: {{ http_port: {g_http}, path: /no-such-page.html }} }}
  - {{ name: redirect_missing, kind: https_redirect, target: bad_https, params: {{ http_port: {b_plain} }} }}
  - {{ name: redirect_temporary, kind: https_redirect, target: bad_https, params: {{ http_port: {b_plain}, path: /temp }} }}
  - {{ name: redirect_short_hsts, kind: https_redirect, target: bad_https, params: {{ http_port: {b_redirect} }} }}
  - {{ name: headers_ok, kind: security_headers, target: good }}
  - {{ name: headers_bad, kind: security_headers, target: bad }}
  - {{ name: cors_ok, kind: cors, target: good, params: {{ urls: [/index.html] }} }}
  - {{ name: cors_wildcard_public, kind: cors, target: good, params: {{ urls: [/public/data.json] }} }}
  - {{ name: cors_wildcard_private, kind: cors, target: good, params: {{ urls: [/public/data.json], private: true }} }}
  - {{ name: cors_reflecting, kind: cors, target: bad }}
  - {{ name: gzip_ok, kind: compression, target: good, params: {{ urls: [/big.txt, /assets/app.3f9a1c2b4d.js] }} }}
  - {{ name: gzip_no_vary, kind: compression, target: good, params: {{ urls: [/novary/big.txt] }} }}
  - {{ name: gzip_missing, kind: compression, target: bad, params: {{ urls: [/big.txt] }} }}
  - {{ name: cache_ok, kind: cache_headers, target: good, params: {{ assets: [/assets/app.3f9a1c2b4d.js], html: [/index.html] }} }}
  - {{ name: cache_bad, kind: cache_headers, target: bad, params: {{ assets: [/js/app.js] }} }}
  - {{ name: cdn_ok, kind: cdn, target: good, params: {{ url: /cdn/page.html }} }}
  - {{ name: cdn_missing, kind: cdn, target: bad }}
  - {{ name: assets_ok, kind: asset_optimization, target: good }}
  - {{ name: assets_bad, kind: asset_optimization, target: bad }}
  - {{ name: limit_ok, kind: rate_limiting, target: good, timeout: 10s, params: {{ url: /limited, burst: {{ requests: 20, within: 5s }} }} }}
  - {{ name: limit_missing, kind: rate_limiting, target: bad, timeout: 10s, params: {{ burst: {{ requests: 20, within: 5s }} }} }}
  - {{ name: limit_passive, kind: rate_limiting, target: bad }}
"#,
        g_http = good.port(0),
        g_https = good.port(1),
        b_plain = bad.port(0),
        b_https = bad.port(1),
        b_redirect = bad.port(2),
    );
    let r = run_checks(&config, &[]);
    assert_state(by(&r, "redirect_ok"), "pass", "HSTS max-age 31536000");
    assert_eq!(by(&r, "redirect_ok").doc["observed"], 31_536_000.0);
    // An http:// target's own port is probed, not port 80.
    assert_state(
        by(&r, "redirect_plain_target"),
        "pass",
        "HSTS max-age 31536000",
    );
    assert_state(
        by(&r, "redirect_to_404"),
        "error",
        "answered 404: cannot judge HSTS",
    );
    r.expect_states(&[
        (
            "redirect_missing",
            "fail",
            "answers 200 instead of redirecting to HTTPS",
        ),
        (
            "redirect_temporary",
            "fail",
            "redirects with 302 (temporary)",
        ),
        (
            "redirect_short_hsts",
            "fail",
            "HSTS max-age is 300s, minimum 15552000s",
        ),
        ("headers_ok", "pass", "score 100/100"),
        ("headers_bad", "fail", "content-security-policy missing"),
    ]);
    assert!(
        by(&r, "headers_bad")
            .message
            .contains("without HttpOnly: session"),
        "{}",
        by(&r, "headers_bad").message
    );
    assert!(by(&r, "headers_bad").doc["observed"].as_f64().unwrap() < 50.0);
    r.expect_states(&[
        ("cors_ok", "pass", "no credentialed access"),
        ("cors_wildcard_public", "pass", "no credentialed access"),
        (
            "cors_wildcard_private",
            "fail",
            "is private but allows any origin",
        ),
        (
            "cors_reflecting",
            "fail",
            "allows origin https://attacker.invalid with credentials",
        ),
        ("gzip_ok", "pass", "2 resource(s) compressed"),
    ]);
    assert!(by(&r, "gzip_ok").doc["observed"].as_f64().unwrap() > 2.0);
    r.expect_states(&[
        ("gzip_no_vary", "fail", "lacks Vary: Accept-Encoding"),
        ("gzip_missing", "fail", "is not compressed"),
        ("cache_ok", "pass", "sound caching headers"),
        ("cache_bad", "fail", "no Cache-Control"),
        ("cdn_ok", "pass", "cache hit on the repeated request"),
        ("cdn_missing", "fail", "no CDN or cache headers"),
        ("assets_ok", "pass", "3 asset(s)"),
    ]);
    assert_eq!(
        by(&r, "assets_ok").doc["evidence"]["foreign_assets_skipped"],
        1
    );
    assert_state(by(&r, "assets_bad"), "fail", "2 of 2 asset(s) need work");
    assert!(
        by(&r, "assets_bad").message.contains("not minified")
            && by(&r, "assets_bad").message.contains("not compressed"),
        "{}",
        by(&r, "assets_bad").message
    );
    assert!(
        by(&r, "assets_bad").doc["evidence"]["offenders"][0]["bytes"]
            .as_u64()
            .unwrap()
            > 1000
    );
    r.expect_states(&[
        ("limit_ok", "pass", "answered 429"),
        ("limit_missing", "fail", "none was limited"),
        ("limit_passive", "warn", "no rate-limit headers"),
    ]);
}

#[test]
fn tls_certificate_judges_real_handshakes() {
    let pki = TestPki::new();
    let certs = [
        ("valid", pki.leaf("valid", leaf_params(LOCAL, -1, 90))),
        (
            "expired",
            pki.leaf("expired", leaf_params(LOCAL, -100, -10)),
        ),
        ("not_yet", pki.leaf("not_yet", leaf_params(LOCAL, 10, 100))),
        (
            "wrong_host",
            pki.leaf("wrong_host", leaf_params(&["shop.example.com"], -1, 90)),
        ),
        ("self_signed", pki.self_signed("self_signed")),
        (
            "short_chain",
            pki.leaf_via_intermediate("short_chain", leaf_params(LOCAL, -1, 90), false),
        ),
        (
            "full_chain",
            pki.leaf_via_intermediate("full_chain", leaf_params(LOCAL, -1, 90), true),
        ),
        ("expiring", pki.leaf("expiring", leaf_params(LOCAL, -80, 5))),
    ];
    let nginx = Nginx::start(certs.len() + 1, |_, p| {
        let mut servers = String::new();
        for (i, (_, c)) in certs.iter().enumerate() {
            servers.push_str(&format!(
                "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; return 200; }}\n",
                p[i],
                c.cert.display(),
                c.key.display()
            ));
        }
        let valid = &certs[0].1;
        servers.push_str(&format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_protocols TLSv1 TLSv1.1; ssl_ciphers DEFAULT@SECLEVEL=0; ssl_certificate {}; ssl_certificate_key {}; return 200; }}\n",
            p[certs.len()],
            valid.cert.display(),
            valid.key.display()
        ));
        servers
    });
    let ca = pki.ca_file.display();
    let mut config = String::from("targets:\n");
    let mut checks = String::from("checks:\n");
    for (i, (name, _)) in certs.iter().enumerate() {
        config.push_str(&format!(
            "  {name}: {{ http: {{ url: \"https://127.0.0.1:{}\" }} }}\n",
            nginx.port(i)
        ));
        checks.push_str(&format!(
            "  - {{ name: tls_{name}, kind: tls_certificate, target: {name}, params: {{ ca_file: \"{ca}\", system_roots: false }} }}\n"
        ));
    }
    config.push_str(&format!(
        "  old_tls: {{ http: {{ url: \"https://127.0.0.1:{}\" }} }}\n",
        nginx.port(certs.len())
    ));
    checks.push_str(&format!("  - {{ name: tls_old_protocol, kind: tls_certificate, target: old_tls, params: {{ ca_file: \"{ca}\" }} }}\n"));
    checks.push_str(
        "  - { name: tls_untrusted_by_system, kind: tls_certificate, target: valid }
",
    );
    let r = run_checks(&format!("{config}{checks}"), &[]);
    assert_state(by(&r, "tls_valid"), "pass", "chain verifies");
    let left = by(&r, "tls_valid").doc["observed"].as_f64().unwrap();
    assert!((88.0 * 86_400.0..91.0 * 86_400.0).contains(&left), "{left}");
    assert_eq!(by(&r, "tls_valid").doc["threshold"], 14.0 * 86_400.0);
    assert_state(by(&r, "tls_expired"), "fail", "certificate expired on");
    assert!(by(&r, "tls_expired").doc["observed"].as_f64().unwrap() < 0.0);
    assert!(by(&r, "tls_expired").doc["evidence"]["chain"][0]["not_after"].is_string());
    r.expect_states(&[
        ("tls_not_yet", "fail", "certificate is not valid before"),
        (
            "tls_wrong_host",
            "fail",
            "not valid for 127.0.0.1 (it names shop.example.com)",
        ),
        ("tls_self_signed", "fail", "unknown issuer"),
        ("tls_short_chain", "fail", "missing intermediate"),
        ("tls_full_chain", "pass", "chain verifies"),
    ]);
    assert_eq!(
        by(&r, "tls_full_chain").doc["evidence"]["chain"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_state(by(&r, "tls_expiring"), "fail", "minimum 14");
    assert!(
        by(&r, "tls_expiring").message.contains("expires in 4 days")
            || by(&r, "tls_expiring").message.contains("expires in 5 days")
    );
    r.expect_states(&[
        ("tls_old_protocol", "fail", "no TLS 1.2 or 1.3 handshake"),
        ("tls_untrusted_by_system", "fail", "unknown issuer"),
    ]);
}

#[test]
fn tls_certificate_speaks_postgres_starttls() {
    let pki = TestPki::new();
    let cert = pki.leaf("pg", leaf_params(LOCAL, -1, 60));
    let with_tls = Postgres::start(Some(&cert));
    let without_tls = Postgres::start(None);
    let ca = pki.ca_file.display();
    let r = run_checks(
        &format!(
            r#"
targets:
  db: {{ postgres: {{ url: "postgres://monitor@127.0.0.1:{a}/postgres" }} }}
  plain_db: {{ postgres: {{ url: "postgres://monitor@127.0.0.1:{b}/postgres" }} }}
checks:
  - {{ name: pg_tls, kind: tls_certificate, target: db, params: {{ ca_file: "{ca}" }} }}
  - {{ name: pg_no_tls, kind: tls_certificate, target: plain_db, params: {{ ca_file: "{ca}" }} }}
"#,
            a = with_tls.port,
            b = without_tls.port
        ),
        &[],
    );
    r.expect_states(&[
        ("pg_tls", "pass", "chain verifies"),
        ("pg_no_tls", "fail", "does not offer TLS"),
    ]);
}

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

#[test]
fn http_targets_verify_tls_unless_told_not_to() {
    let pki = TestPki::new();
    let own = pki.self_signed("own");
    let nginx = Nginx::start(1, |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; return 200 \"ok\"; }}\n",
            p[0],
            own.cert.display(),
            own.key.display()
        )
    });
    let config = format!(
        r#"
targets:
  strict: {{ http: {{ url: "https://127.0.0.1:{port}" }} }}
  trusting_ca: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ ca_file: "{ca}" }} }} }}
  insecure: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ insecure_skip_verify: true }} }} }}
checks:
  - {{ name: strict, kind: http, target: strict }}
  - {{ name: other_ca, kind: http, target: trusting_ca }}
  - {{ name: insecure, kind: http, target: insecure }}
"#,
        port = nginx.port(0),
        ca = pki.ca_file.display()
    );
    let r = run_checks(&config, &[]);
    for untrusted in [by(&r, "strict"), by(&r, "other_ca")] {
        assert_state(untrusted, "error", "failed");
        assert!(
            untrusted.message.contains("UnknownIssuer")
                || untrusted.message.contains("certificate"),
            "{}",
            untrusted.message
        );
    }
    assert_state(by(&r, "insecure"), "pass", "answered 200");
}

/// A target that requires a client certificate (nginx `ssl_verify_client
/// on`) answers only when the target presents one from the CA it trusts.
#[test]
fn http_targets_present_client_certificates() {
    let pki = TestPki::new();
    let server = pki.leaf("server", leaf_params(LOCAL, -1, 90));
    let client = pki.leaf("client", leaf_params(&["prober.example"], -1, 90));
    let nginx = Nginx::start(1, |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; ssl_client_certificate {}; ssl_verify_client on; return 200 \"client $ssl_client_s_dn\"; }}\n",
            p[0],
            server.cert.display(),
            server.key.display(),
            pki.ca_file.display()
        )
    });
    let config = format!(
        r#"
targets:
  with_cert: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ ca_file: "{ca}", cert_file: "{cert}", key_file: "{key}" }} }} }}
  without: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ ca_file: "{ca}" }} }} }}
checks:
  - {{ name: mtls, kind: http, target: with_cert, params: {{ body_regex: "CN=prober.example" }} }}
  - {{ name: no_cert, kind: http, target: without }}
"#,
        port = nginx.port(0),
        ca = pki.ca_file.display(),
        cert = client.cert.display(),
        key = client.key.display(),
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        ("mtls", "pass", "answered 200"),
        ("no_cert", "fail", "status 400"),
    ]);
    // A certificate without its key is a config error naming the field.
    let (code, out) = crate::support::validate(
        &format!(
            "targets:\n  half: {{ http: {{ url: \"https://127.0.0.1:1\", tls: {{ cert_file: \"{}\" }} }} }}\nchecks: []\n",
            client.cert.display()
        ),
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("field http.tls.key_file: required with tls.cert_file"),
        "{out}"
    );
}

/// `proxy_url` (and, opt-in, the environment's HTTP_PROXY) route a target's
/// requests through a proxy; without either nothing but the target is
/// contacted. The proxy's password never shows.
#[tokio::test(flavor = "multi_thread")]
async fn targets_go_through_a_proxy_only_when_told() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    // A forward proxy answering in the target's place: it sees the
    // absolute-form request line of a plain-HTTP request.
    let proxy = TestApp::start(axum::Router::new().fallback({
        let seen = seen.clone();
        move |uri: axum::http::Uri, headers: HeaderMap| async move {
            let auth = headers
                .get("proxy-authorization")
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default();
            seen.lock().unwrap().push(format!("{uri} {auth}"));
            "via-proxy"
        }
    }))
    .await;
    // Nothing listens on the target's own port.
    let target = "http://127.0.0.1:9/health";
    let config = format!(
        r#"
targets:
  proxied: {{ http: {{ url: "{target}", proxy_url: "http://probe:Proxy-Pass-5521@{proxy}" }} }}
  from_env: {{ http: {{ url: "{target}", proxy_from_environment: true }} }}
  direct: {{ http: {{ url: "{target}" }} }}
checks:
  - {{ name: proxied, kind: http, target: proxied, params: {{ body_regex: via-proxy }} }}
  - {{ name: from_env, kind: http, target: from_env, params: {{ body_regex: via-proxy }} }}
  - {{ name: direct, kind: http, target: direct }}
"#,
        proxy = proxy.addr
    );
    let env_proxy = format!("http://{}", proxy.addr);
    let r = tokio::task::spawn_blocking(move || {
        run_checks(
            &config,
            &[("HTTP_PROXY", &env_proxy), ("http_proxy", &env_proxy)],
        )
    })
    .await
    .unwrap();
    r.expect_states(&[
        ("proxied", "pass", "answered 200"),
        ("from_env", "pass", "answered 200"),
        ("direct", "error", "failed"),
    ]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| s.starts_with("http://127.0.0.1:9/health")),
        "{seen:?}"
    );
    // The configured proxy's credentials go to the proxy, as basic auth.
    assert!(
        seen.iter()
            .any(|s| s.ends_with("Basic cHJvYmU6UHJveHktUGFzcy01NTIx")),
        "{seen:?}"
    );
    let text = r.iter().map(|c| c.doc.to_string()).collect::<String>();
    assert!(!text.contains("Proxy-Pass-5521"));
}

/// With `fresh_connection`, every evaluation does a full TLS handshake: no
/// session is resumed (nginx reports `$ssl_session_reused`), as a new client
/// would connect.
#[tokio::test(flavor = "multi_thread")]
async fn fresh_connections_do_full_tls_handshakes() {
    let pki = TestPki::new();
    let server = pki.leaf("server", leaf_params(LOCAL, -1, 90));
    let nginx = Nginx::start(1, |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; ssl_session_cache shared:probe:1m; ssl_session_tickets on; return 200 \"reused=$ssl_session_reused\"; }}\n",
            p[0],
            server.cert.display(),
            server.key.display(),
        )
    });
    let exporter = crate::support::Exporter::start(&format!(
        "global: {{ interval: 1h }}\ntargets:\n  tls: {{ http: {{ url: \"https://127.0.0.1:{}/\", tls: {{ ca_file: \"{}\" }} }} }}\nchecks:\n  - {{ name: fresh, kind: http, target: tls, params: {{ fresh_connection: true, body_regex: \"^reused=\\\\.$\" }} }}\n",
        nginx.port(0),
        pki.ca_file.display()
    ));
    exporter
        .wait_ready(std::time::Duration::from_secs(10))
        .await;
    for _ in 0..3 {
        let (_, body) = exporter.get("/probe?check=fresh&debug=true").await;
        assert!(body.contains("State: pass"), "{body}");
    }
}

/// `fresh_connection` opens a new connection per evaluation (like
/// blackbox_exporter); by default the target's keep-alive connection is
/// reused.
#[tokio::test(flavor = "multi_thread")]
async fn fresh_connection_opens_a_connection_per_evaluation() {
    use axum::serve::ListenerExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = {
        let connections = connections.clone();
        listener.tap_io(move |_| {
            connections.fetch_add(1, Ordering::SeqCst);
        })
    };
    let server = tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let _ = axum::serve(counted, app).await;
    });
    let exporter = crate::support::Exporter::start(&format!(
        "global: {{ interval: 1h }}\ntargets:\n  app: {{ http: {{ url: \"http://{addr}/\" }} }}\nchecks:\n  - {{ name: pooled, kind: http, target: app }}\n  - {{ name: fresh, kind: http, target: app, params: {{ fresh_connection: true }} }}\n"
    ));
    exporter
        .wait_ready(std::time::Duration::from_secs(10))
        .await;
    let opened = |check: &'static str| {
        let exporter = &exporter;
        let connections = connections.clone();
        async move {
            let before = connections.load(Ordering::SeqCst);
            for _ in 0..3 {
                let (status, body) = exporter.get(&format!("/probe?check={check}")).await;
                assert_eq!(status, 200);
                assert!(
                    body.contains(&format!(
                        "prodready_check_success{{check=\"{check}\",category=\"operations\",severity=\"warning\"}} 1"
                    )),
                    "{body}"
                );
            }
            connections.load(Ordering::SeqCst) - before
        }
    };
    assert_eq!(
        opened("pooled").await,
        0,
        "the pooled check opened new connections"
    );
    assert_eq!(
        opened("fresh").await,
        3,
        "the fresh check reused a connection"
    );
    server.abort();
}
