//! The exporter's own endpoints behind an exporter-toolkit web config: TLS,
//! client certificates with allowed SANs, bcrypt basic auth, response
//! headers, the rate limit, re-reading the file on change, and several
//! listen addresses.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, SanType};

use crate::support::certs::{leaf_params, CertFiles, TestPki, LOCAL};
use crate::support::{run_cli, stderr, stdout, ConfigDir, Exporter};

const CONFIG: &str = r#"
global: { interval: 1h }
checks:
  - { name: token_set, kind: env_secret, params: { variable: WEB_TEST_TOKEN } }
"#;

fn client(pki: &TestPki, identity: Option<&CertFiles>) -> reqwest::Client {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&pki.ca_file).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let tls = match identity {
        Some(files) => {
            let certs = CertificateDer::pem_file_iter(&files.cert)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            builder
                .with_client_auth_cert(certs, PrivateKeyDer::from_pem_file(&files.key).unwrap())
                .unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn client_cert(pki: &TestPki, name: &str, san: &str) -> CertFiles {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .subject_alt_names
        .push(SanType::DnsName(san.try_into().unwrap()));
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    pki.leaf(name, params)
}

/// A bcrypt hash in htpasswd's `$2y$` form, as users paste them.
pub(crate) fn hash(password: &str) -> String {
    bcrypt::hash_with_result(password, 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY)
}

/// Writes `web.yml` beside the certificates (its file names are relative).
fn write_web_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("web.yml");
    // Write then rename, so the exporter never reads half a file.
    std::fs::write(dir.join("web.yml.tmp"), text).unwrap();
    std::fs::rename(dir.join("web.yml.tmp"), &path).unwrap();
    path
}

fn start(web_config: &Path, extra: &[&str]) -> Exporter {
    let flag = format!("--web.config.file={}", web_config.display());
    let mut args = vec![flag.as_str()];
    args.extend_from_slice(extra);
    Exporter::start_with(CONFIG, &[("WEB_TEST_TOKEN", "x")], &args)
}

async fn status(client: &reqwest::Client, url: &str, user: Option<(&str, &str)>) -> u16 {
    let mut request = client.get(url);
    if let Some((u, p)) = user {
        request = request.basic_auth(u, Some(p));
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_and_basic_auth_guard_every_endpoint_and_follow_the_file() {
    let pki = TestPki::new();
    let server = pki.leaf("server", leaf_params(LOCAL, -1, 90));
    let web = write_web_config(
        pki.path(),
        &format!(
            r#"
tls_server_config:
  cert_file: server.crt
  key_file: server.key
http_server_config:
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: {}
"#,
            hash("first-pass")
        ),
    );
    assert!(server.cert.exists());
    let exporter = start(&web, &[]);
    let https = |path: &str| format!("https://{}{path}", exporter.addr);
    let tls = client(&pki, None);

    // Plain HTTP on the TLS port gets no page.
    let plain = crate::support::client()
        .get(exporter.url("/metrics"))
        .send()
        .await;
    assert!(
        plain.map(|r| r.status().as_u16() != 200).unwrap_or(true),
        "plain HTTP was served"
    );

    // Without or with wrong credentials: 401 with a challenge and the headers.
    let r = tls.get(https("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(r.headers()["x-frame-options"], "deny");
    for path in [
        "/metrics",
        "/",
        "/api/v1/checks",
        "/-/healthy",
        "/probe?check=token_set",
    ] {
        assert_eq!(status(&tls, &https(path), None).await, 401, "{path}");
        assert_eq!(
            status(&tls, &https(path), Some(("alice", "wrong"))).await,
            401,
            "{path}"
        );
        assert_eq!(
            status(&tls, &https(path), Some(("mallory", "first-pass"))).await,
            401,
            "{path}"
        );
        assert_eq!(
            status(&tls, &https(path), Some(("alice", "first-pass"))).await,
            200,
            "{path}"
        );
    }
    let r = tls
        .get(https("/metrics"))
        .basic_auth("alice", Some("first-pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert!(r.text().await.unwrap().contains("prodready_check_state"));

    // A new password in the file takes over without a restart.
    write_web_config(
        pki.path(),
        &format!(
            "tls_server_config: {{ cert_file: server.crt, key_file: server.key }}\nbasic_auth_users:\n  alice: {}\n",
            hash("second-pass")
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&tls, &https("/-/healthy"), Some(("alice", "second-pass"))).await != 200 {
        assert!(
            Instant::now() < deadline,
            "new password never accepted; logs:\n{}",
            exporter.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        status(&tls, &https("/-/healthy"), Some(("alice", "first-pass"))).await,
        401
    );

    // A broken file is refused and the running web config stays.
    write_web_config(
        pki.path(),
        "basic_auth_users:\n  alice: plaintext-password\n",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    // The file is looked at when requests come in.
    while !exporter.logs().contains("Web config change refused") {
        assert!(
            Instant::now() < deadline,
            "no refusal logged; logs:\n{}",
            exporter.logs()
        );
        status(&tls, &https("/-/healthy"), Some(("alice", "second-pass"))).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        status(&tls, &https("/-/healthy"), Some(("alice", "second-pass"))).await,
        200
    );
    assert!(
        !exporter.logs().contains("plaintext-password"),
        "a value from the web config reached the logs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_certificates_are_verified_and_their_sans_matched() {
    let pki = TestPki::new();
    pki.leaf("server", leaf_params(LOCAL, -1, 90));
    let good = client_cert(&pki, "prometheus", "prometheus.monitoring.svc");
    let other = client_cert(&pki, "other", "other.default.svc");
    let foreign = {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names.push(SanType::DnsName(
            "prometheus.monitoring.svc".try_into().unwrap(),
        ));
        let cert = params.self_signed(&key).unwrap();
        let files = CertFiles {
            cert: pki.path().join("foreign.crt"),
            key: pki.path().join("foreign.key"),
        };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    };
    let web = write_web_config(
        pki.path(),
        r#"
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
  client_allowed_sans: [prometheus.monitoring.svc]
  min_version: TLS12
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_128_CBC_SHA]
  curve_preferences: [X25519, CurveP256]
"#,
    );
    let exporter = start(&web, &[]);
    let url = format!("https://{}/-/healthy", exporter.addr);

    let ok = client(&pki, Some(&good)).get(&url).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    for (who, identity) in [
        ("no certificate", None),
        ("a certificate without the allowed SAN", Some(&other)),
        ("a certificate from another issuer", Some(&foreign)),
    ] {
        let r = client(&pki, identity).get(&url).send().await;
        assert!(
            r.as_ref()
                .map(|r| r.status().as_u16() != 200)
                .unwrap_or(true),
            "{who} was let in: {r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_and_several_listen_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let web = write_web_config(dir.path(), "rate_limit: { interval: 1m, burst: 3 }\n");
    let exporter = start(&web, &["--web.listen-address=127.0.0.1:0"]);
    // Both listeners log their bound address.
    let deadline = Instant::now() + Duration::from_secs(10);
    let addresses = loop {
        let found: Vec<String> = exporter
            .logs()
            .lines()
            .filter(|l| l.contains("msg=Listening."))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|f| f.strip_prefix("address="))
                    .map(str::to_owned)
            })
            .collect();
        if found.len() == 2 {
            break found;
        }
        assert!(Instant::now() < deadline, "logs:\n{}", exporter.logs());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(addresses[0], addresses[1]);
    let plain = crate::support::client();
    let mut statuses = Vec::new();
    for address in addresses.iter().cycle().take(5) {
        let r = plain
            .get(format!("http://{address}/-/healthy"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    // One bucket for the whole server: a burst of 3, then 429.
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
}

#[test]
fn invalid_web_configs_are_refused_naming_the_field() {
    let config = ConfigDir::new(CONFIG);
    let cases: &[(&str, &str)] = &[
        (
            "http_server_config: { headers: { Server: nginx } }\n",
            "http_server_config: field headers.Server: this header cannot be set",
        ),
        (
            "basic_auth_users: { alice: hunter2-plain }\n",
            "basic_auth_users: field alice: not a bcrypt hash",
        ),
        (
            "tls_server_config: { cert_file: missing.crt, key_file: missing.key, min_version: TLS10 }\n",
            "tls_server_config: field min_version: TLS10 is not supported",
        ),
        (
            "tls_server_config: { cert_file: missing.crt, key_file: missing.key }\n",
            "tls_server_config: field cert_file: cannot read",
        ),
        (
            "tls_server_config: { key_file: k.pem }\n",
            "tls_server_config: field cert_file: missing",
        ),
        (
            "tls_server_config: { cert_file: a, key_file: b, client_auth_type: Sometimes }\n",
            "field client_auth_type: unknown \"Sometimes\"",
        ),
        ("tls_config: {}\n", "tls_config"),
        ("rate_limit: { interval: 1s }\n", "rate_limit: field burst"),
    ];
    for (text, expected) in cases {
        let web = config.path("web.yml");
        std::fs::write(&web, text).unwrap();
        let out = run_cli(
            &[
                "validate",
                &format!("--config.file={}", config.config_path().display()),
                &format!("--web.config.file={}", web.display()),
            ],
            &[("WEB_TEST_TOKEN", "x")],
        );
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{text}: {all}");
        assert!(
            all.contains(expected),
            "{text}: expected {expected:?} in\n{all}"
        );
        assert!(all.contains("web.yml"), "the file is not named: {all}");
        assert!(!all.contains("hunter2"), "a value was echoed: {all}");
    }
    // The daemon refuses to start on it too, with the config exit code.
    let out = run_cli(
        &[
            &format!("--config.file={}", config.config_path().display()),
            &format!("--web.config.file={}", config.path("web.yml").display()),
            "--web.listen-address=127.0.0.1:0",
        ],
        &[("WEB_TEST_TOKEN", "x")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
