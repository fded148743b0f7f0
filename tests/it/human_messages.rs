//! Every error path speaks in words: checks of every target type and of
//! the file kinds pointed at what fails (refused ports, a plain server
//! asked for TLS, a self-signed certificate, a Redis port answering HTTP,
//! a PostgreSQL refusing the password, missing files and directories), and
//! no message holds Rust's debug syntax (`Some(`, `Other(`, `Os {`,
//! `DnsName(`, `module::path`) or a raw UNIX timestamp.

use regex::Regex;

use crate::support::postgres::Postgres;
use crate::support::{run_checks, TestApp};

/// What Rust's `{:?}` leaves in a message.
fn debug_syntax() -> Regex {
    Regex::new(concat!(
        r"\b(?:Some|None|Ok|Err|Other|Custom|DnsName|IpAddress|Kind|Io|Os|Connect|SendRequest)\(",
        r"|\((?:Connect|SendRequest)\)",
        r"|\b[A-Z][a-z]+(?:[A-Z][a-z]+){1,}\b",
        r"|\bOs \{|\bkind: [A-Z]|\{ code: ",
        r"|\b[a-z_][a-z0-9_]*::[a-z_][a-z0-9_]*",
        r"|\b1[5-9]\d{8}\b",
    ))
    .unwrap()
}

#[test]
fn the_pattern_finds_debug_text_and_spares_words() {
    let re = debug_syntax();
    for debug in [
        "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
        "protocol Some(TLSv1_2)",
        "name DnsName(\"a\")",
        "error (sqlx_postgres::connection::tls:95)",
        "Os { code: 111, kind: ConnectionRefused }",
        "expires 1767225600",
        "client error (Connect): refused",
        "received corrupt message of type InvalidContentType",
    ] {
        assert!(re.is_match(debug), "{debug}");
    }
    for words in [
        "connection refused by 127.0.0.1:5432",
        "http://[::1]:9090/ answered 404",
        "TLS 1.2, certificate valid until 2026-01-01",
        "std::io is not here",
    ] {
        // `std::io` is a path: only the last one may match.
        assert_eq!(re.is_match(words), words.contains("::io"), "{words}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_error_message_is_in_words() {
    let app = TestApp::start(axum::Router::new()).await;
    let pki = crate::support::certs::TestPki::new();
    let own = pki.self_signed("own");
    let nginx = crate::support::nginx::Nginx::start(1, |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; return 200 \"ok\"; }}\n",
            p[0],
            own.cert.display(),
            own.key.display()
        )
    });
    let pg = Postgres::start(None);
    let missing = tempfile::tempdir().unwrap();
    let gone = missing.path().join("gone");
    let config = format!(
        r#"
global: {{ timeout: 3s }}
targets:
  refused: {{ http: {{ url: "http://127.0.0.1:1/" }} }}
  plain_as_tls: {{ http: {{ url: "https://{app}/" }} }}
  self_signed: {{ http: {{ url: "https://127.0.0.1:{tls}/" }} }}
  pg_refused: {{ postgres: {{ url: "postgres://monitor@127.0.0.1:1/app" }} }}
  pg_no_db: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:{pg}/no_such_db" }} }}
  my_refused: {{ mysql: {{ url: "mysql://monitor@127.0.0.1:1/app" }} }}
  redis_refused: {{ redis: {{ url: "redis://127.0.0.1:1" }} }}
  redis_is_http: {{ redis: {{ url: "redis://{app}" }} }}
  prom_404: {{ prometheus: {{ url: "http://{app}" }} }}
  files: {{ path: "{gone}" }}
checks:
  - {{ name: http_refused, kind: http, target: refused }}
  - {{ name: http_plain_as_tls, kind: http, target: plain_as_tls }}
  - {{ name: http_self_signed, kind: http, target: self_signed }}
  - {{ name: tls_plain, kind: tls_certificate, target: plain_as_tls }}
  - {{ name: tls_self_signed, kind: tls_certificate, target: self_signed }}
  - {{ name: pg_refused, kind: postgres_connections, target: pg_refused }}
  - {{ name: pg_no_db, kind: postgres_connections, target: pg_no_db }}
  - {{ name: my_refused, kind: mysql_connections, target: my_refused }}
  - {{ name: redis_refused, kind: redis_memory, target: redis_refused }}
  - {{ name: redis_is_http, kind: redis_memory, target: redis_is_http }}
  - {{ name: prom_404, kind: prometheus_targets, target: prom_404, params: {{ jobs: [{{ job: node, min_targets: 1 }}] }} }}
  - {{ name: secrets_gone, kind: hardcoded_secrets, target: files }}
  - {{ name: history_gone, kind: hardcoded_secrets, target: files, params: {{ history: {{}} }} }}
  - {{ name: deps_gone, kind: dependency_vulnerabilities, target: files, params: {{ advisory_db: "{gone}/osv" }} }}
  - {{ name: k8s_gone, kind: kubernetes_failover, target: files }}
  - {{ name: docs_gone, kind: documentation, target: files, params: {{ required: [{{ path: README.md }}] }} }}
"#,
        app = app.addr,
        tls = nginx.port(0),
        pg = pg.port,
        gone = gone.display(),
    );
    let r = run_checks(&config, &[]);
    let re = debug_syntax();
    let mut wrong = Vec::new();
    for c in r.iter() {
        if c.state == "pass" {
            wrong.push(format!("{}: passed: {}", c.name, c.message));
        }
        if let Some(m) = re.find(&c.message) {
            wrong.push(format!("{}: {:?} in {}", c.name, m.as_str(), c.message));
        }
    }
    assert!(r.iter().count() >= 16);
    // A refused database port is said to be refused, not a timeout.
    for name in ["pg_refused", "my_refused"] {
        let c = r.get(name);
        assert!(c.message.contains("refused"), "{name}: {}", c.message);
    }
    assert!(r.get("prom_404").message.contains("an empty body"));
    assert!(
        r.get("http_plain_as_tls")
            .message
            .contains("did not answer in TLS"),
        "{}",
        r.get("http_plain_as_tls").message
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
