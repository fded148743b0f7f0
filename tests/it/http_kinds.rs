//! The web kinds against real nginx (good and bad vhosts): redirects, headers,
//! compression, caching, assets, CDN signals; certificates made with rcgen.

use std::path::Path;

use crate::support::certs::{leaf_params, TestPki, LOCAL};
use crate::support::nginx::Nginx;
use crate::support::{assert_state, by, run_checks};

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
