//! TLS and the HTTP client under the kinds: real handshakes (nginx, PostgreSQL
//! STARTTLS), verification, client certificates, proxies, fresh connections.

use axum::http::HeaderMap;

use crate::support::certs::{leaf_params, TestPki, LOCAL};
use crate::support::nginx::Nginx;
use crate::support::postgres::Postgres;
use crate::support::{assert_state, by, run_checks, TestApp};

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

/// The self-signed certificate of the usual `openssl req -x509` one-liner is
/// a CA certificate, which webpki refuses as a server's: listed in the
/// target's `tls.ca_file` it is pinned and accepted (as curl accepts it);
/// not listed, the error says so in words, never in rustls' debug text.
#[test]
fn a_self_signed_ca_certificate_is_pinned_by_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let other = dir.path().join("other.crt");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(dir.path().join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success());
    let nginx = Nginx::start(1, |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; return 200 \"ok\"; }}\n",
            p[0],
            crt.display(),
            key.display()
        )
    });
    let config = format!(
        r#"
targets:
  pinned: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ ca_file: "{crt}" }} }} }}
  other: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ ca_file: "{other}" }} }} }}
  by_name: {{ http: {{ url: "https://localhost:{port}", tls: {{ ca_file: "{crt}" }} }} }}
checks:
  - {{ name: pinned, kind: http, target: pinned }}
  - {{ name: other, kind: http, target: other }}
  - {{ name: by_name, kind: http, target: by_name }}
"#,
        port = nginx.port(0),
        crt = crt.display(),
        other = other.display()
    );
    let r = run_checks(&config, &[]);
    assert_state(by(&r, "pinned"), "pass", "answered 200");
    let other = by(&r, "other");
    assert_state(
        other,
        "error",
        "TLS handshake failed: the server's certificate is a CA certificate",
    );
    assert!(
        !other.message.contains("Other(") && !other.message.contains("CaUsedAsEndEntity"),
        "{}",
        other.message
    );
    // Pinned, but the certificate does not name `localhost`.
    assert_state(by(&r, "by_name"), "error", "TLS handshake failed");
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
    assert_eq!(code, 2);
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
