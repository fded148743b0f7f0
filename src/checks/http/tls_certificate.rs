//! Kind `tls_certificate`: our own TLS handshake that records the peer's chain
//! even when it does not verify, then verifies it (system roots plus an
//! optional CA file), checks the host name, days left and protocol version.
//! An expired or untrusted certificate is a `fail` with its dates and reason.
//! Works for HTTPS targets and, with STARTTLS, for PostgreSQL targets.

use std::path::PathBuf;
use std::sync::Arc;

use crate::targets::tls::{cert_facts, CertFacts};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ProtocolVersion, RootCertStore};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::clock::{rfc3339_unix as date, unix_now};
use crate::config::TargetType;
use crate::targets::{system_roots, AcceptAnyCertificate, Target};

pub const KIND: KindInfo = KindInfo {
    item: Some("security.ssl_https"),
    unit: "seconds",
    summary: "TLS chain verifies, host name matches, days left, protocol >= TLS 1.2",
    target: TargetNeed::Required(&[TargetType::Http, TargetType::Postgres]),
    doc: r#"- **Reads:** its own TLS handshake (rustls, TLS 1.2/1.3), recording the peer's chain even when it does not verify; then verifies the chain and host name (webpki) and parses every certificate (x509-parser). Works on `http` and `postgres` targets.
- **Passes** when the chain verifies, the name matches, the earliest expiry in the chain is at least `min_days_left` away and the protocol is at least `min_protocol`. Observed value: seconds until the earliest expiry (negative once expired); threshold: `min_days_left` in seconds. Evidence: each certificate's subject, issuer, validity dates and names; protocol and cipher suite.
- **Fails** (never a missing series) on an expired certificate (with its dates), one not valid yet, an unknown issuer (self-signed, untrusted private CA, missing intermediate), a name mismatch (listing the names it has), too few days left, a server that only speaks TLS < 1.2, a PostgreSQL server with `ssl = off`.
- **Errors** when the TCP connection or handshake fails for another reason."#,
    files: &["ca_file"],
    ..KindInfo::new(
        "tls_certificate",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_days_left() -> u32 {
    14
}
const fn default_true() -> bool {
    true
}

/// Lowest acceptable protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum MinProtocol {
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

/// Protocols that upgrade a plain connection to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Starttls {
    /// PostgreSQL's SSLRequest.
    Postgres,
}

/// Params of the `tls_certificate` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Port to connect to. Default: the target URL's port (443 for https,
    /// 5432 for postgres).
    #[serde(default)]
    pub port: Option<u16>,
    /// Name sent as SNI and checked against the certificate. Default: the
    /// target's host.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Upgrade with STARTTLS first. Default: `postgres` for postgres targets.
    #[serde(default)]
    pub starttls: Option<Starttls>,
    /// Fail when the earliest expiry in the chain is closer. Default 14.
    #[serde(default = "default_min_days_left")]
    pub min_days_left: u32,
    /// Extra CA certificates (PEM) to trust. Default: the target's `tls.ca_file`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Trust the system's CA certificates too. Default true.
    #[serde(default = "default_true")]
    pub system_roots: bool,
    /// Lowest acceptable protocol: "1.2" (default) or "1.3".
    #[serde(default)]
    pub min_protocol: Option<MinProtocol>,
}

#[derive(Debug)]
struct TlsCertificate {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    starttls: Option<Starttls>,
    min_days_left: u32,
    min_protocol: MinProtocol,
    verifier: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let (url, default_port, default_starttls, target_ca) = match input.target {
        Some(Target::Http(h)) => (h.base_url.to_string(), 443, None, h.ca_file.clone()),
        Some(Target::Postgres(pg)) => (
            format!("postgres://{}:{}", bracket(&pg.host), pg.port),
            5432,
            Some(Starttls::Postgres),
            None,
        ),
        _ => {
            return Err(ParamError::new(
                "target",
                "needs an http or postgres target",
            ))
        }
    };
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        ParamError::new(
            "target".to_owned(),
            format!("the target URL cannot be parsed: {e}"),
        )
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| ParamError::new("target", "the target URL has no host"))?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = params.port.or(parsed.port()).unwrap_or(default_port);
    let name = params.server_name.clone().unwrap_or_else(|| host.clone());
    let server_name = ServerName::try_from(name.clone()).map_err(|_| {
        ParamError::new(
            "params.server_name".to_owned(),
            format!("{name:?} is not a valid server name"),
        )
    })?;

    let mut roots = RootCertStore::empty();
    if params.system_roots {
        let (_, _) = roots.add_parsable_certificates(system_roots().iter().cloned());
    }
    if let Some(ca_file) = params.ca_file.clone().or(target_ca) {
        let field = "params.ca_file".to_owned();
        let pem = std::fs::read(&ca_file).map_err(|e| {
            ParamError::new(
                field.clone(),
                format!("cannot read {}: {e}", ca_file.display()),
            )
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| ParamError::new(field.clone(), format!("{}: {e}", ca_file.display())))?;
        let ders = rustls_pemfile_ders(&pem);
        if certs.is_empty() || ders.is_empty() {
            return Err(ParamError::new(
                field,
                format!("{} holds no PEM certificate", ca_file.display()),
            ));
        }
        roots.add_parsable_certificates(ders);
    }
    if roots.is_empty() {
        return Err(ParamError::new(
            "params.ca_file",
            "no trusted CA certificates: set ca_file or keep system_roots",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| {
            ParamError::new(
                "params.ca_file".to_owned(),
                format!("cannot build a verifier: {e}"),
            )
        })?;
    Ok(Arc::new(TlsCertificate {
        host,
        port,
        server_name,
        starttls: params.starttls.or(default_starttls),
        min_days_left: params.min_days_left,
        min_protocol: params.min_protocol.unwrap_or(MinProtocol::Tls12),
        verifier,
        provider,
    }))
}

/// `[::1]` for IPv6 literals in URLs.
fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// DER certificates from a PEM bundle.
fn rustls_pemfile_ders(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// Explains why a chain does not verify, with dates where they matter.
fn verification_problem(error: &rustls::Error, leaf: Option<&CertFacts>, name: &str) -> String {
    let rustls::Error::InvalidCertificate(cert_error) = error else {
        return format!("the chain does not verify: {error}");
    };
    match cert_error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => match leaf {
            Some(l) => format!(
                "certificate expired on {} (valid {} to {})",
                date(l.not_after),
                date(l.not_before),
                date(l.not_after)
            ),
            None => "a certificate in the chain has expired".into(),
        },
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => match leaf {
            Some(l) => format!("certificate is not valid before {}", date(l.not_before)),
            None => "a certificate in the chain is not valid yet".into(),
        },
        CertificateError::UnknownIssuer => {
            "the chain does not verify: unknown issuer (self-signed, a private CA that is not trusted, or a missing intermediate)".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!(
                "certificate is not valid for {name} (it names {})",
                leaf.map_or_else(|| "nothing readable".to_owned(), |l| l.names.join(", "))
            )
        }
        CertificateError::BadSignature => "the chain does not verify: bad signature".into(),
        CertificateError::Revoked => "certificate is revoked".into(),
        other => format!("the chain does not verify: {other:?}"),
    }
}

/// How the handshake failed: `Fail` when the server offers no acceptable
/// protocol, `Error` for anything else.
fn handshake_failure(error: &std::io::Error) -> Outcome {
    let tls = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    match tls {
        Some(
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
            | rustls::Error::PeerIncompatible(_),
        ) => Outcome::fail(format!(
            "the server offers no TLS 1.2 or 1.3 handshake we accept: {error}"
        )),
        _ => Outcome::error(super::toolkit::in_words(format!(
            "TLS handshake failed: {error}"
        ))),
    }
}

impl Check for TlsCertificate {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(self.run(ctx))
    }
}

impl TlsCertificate {
    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    async fn run(&self, ctx: &Context) -> Outcome {
        let address = self.address();
        ctx.trace(format!("connecting to {address}"));
        let mut tcp = match TcpStream::connect((self.host.as_str(), self.port)).await {
            Ok(s) => s,
            Err(e) => return Outcome::error(format!("cannot connect to {address}: {e}")),
        };
        if self.starttls == Some(Starttls::Postgres) {
            if let Err(outcome) = postgres_starttls(&mut tcp, ctx).await {
                return outcome;
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
            .map(|b| {
                b.dangerous()
                    .with_custom_certificate_verifier(AcceptAnyCertificate::new(
                        self.provider.clone(),
                    ))
                    .with_no_client_auth()
            });
        let config = match config {
            Ok(c) => c,
            Err(e) => return Outcome::error(format!("cannot configure TLS: {e}")),
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = match connector.connect(self.server_name.clone(), tcp).await {
            Ok(s) => s,
            Err(e) => return handshake_failure(&e),
        };
        let (_, conn) = stream.get_ref();
        let version = conn.protocol_version();
        let suite = conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        let chain: Vec<CertificateDer<'static>> = conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default();
        ctx.trace(format!(
            "handshake done: {version:?}, {suite}, {} certificate(s)",
            chain.len()
        ));
        self.judge(&chain, version, &suite)
    }

    fn judge(
        &self,
        chain: &[CertificateDer<'static>],
        version: Option<ProtocolVersion>,
        suite: &str,
    ) -> Outcome {
        let name = self.server_name.to_str().into_owned();
        let Some(leaf) = chain.first() else {
            return Outcome::fail(format!("{} sent no certificate", self.address()));
        };
        let facts: Vec<Option<CertFacts>> = chain.iter().map(cert_facts).collect();
        let now = unix_now();
        let Some(earliest) = facts.iter().flatten().map(|f| f.not_after).min() else {
            return Outcome::error("the peer's certificates cannot be parsed");
        };
        let seconds_left = earliest - now;
        let days_left = seconds_left.div_euclid(86_400);
        let leaf_facts = facts.first().cloned().flatten();
        let mut problems = Vec::new();
        if let Err(e) = self.verifier.verify_server_cert(
            leaf,
            &chain[1..],
            &self.server_name,
            &[],
            UnixTime::now(),
        ) {
            problems.push(verification_problem(&e, leaf_facts.as_ref(), &name));
        }
        if seconds_left >= 0 && days_left < i64::from(self.min_days_left) {
            problems.push(format!(
                "expires in {days_left} days ({}), minimum {}",
                date(earliest),
                self.min_days_left
            ));
        } else if seconds_left < 0 && problems.is_empty() {
            problems.push(format!(
                "a certificate in the chain expired on {}",
                date(earliest)
            ));
        }
        let too_old = match (self.min_protocol, version) {
            (MinProtocol::Tls13, Some(v)) => v != ProtocolVersion::TLSv1_3,
            (_, Some(v)) => !matches!(v, ProtocolVersion::TLSv1_2 | ProtocolVersion::TLSv1_3),
            (_, None) => true,
        };
        if too_old {
            problems.push(format!("negotiated {version:?}, below the minimum"));
        }
        let evidence_chain: Vec<serde_json::Value> = facts
            .iter()
            .map(|f| match f {
                Some(f) => json!({
                    "subject": f.subject,
                    "issuer": f.issuer,
                    "not_before": date(f.not_before),
                    "not_after": date(f.not_after),
                    "names": f.names,
                }),
                None => json!({"unparsable": true}),
            })
            .collect();
        let outcome = if problems.is_empty() {
            Outcome::pass(format!(
                "{name}: certificate valid until {} ({days_left} days left), chain verifies, {}",
                date(earliest),
                version.map_or("unknown protocol".to_owned(), |v| format!("{v:?}"))
            ))
        } else {
            Outcome::fail(format!("{name}: {}", problems.join("; ")))
        };
        outcome
            .observed(seconds_left as f64)
            .threshold(f64::from(self.min_days_left) * 86_400.0)
            .evidence("address", self.address())
            .evidence("server_name", name)
            .evidence("protocol", version.map(|v| format!("{v:?}")))
            .evidence("cipher_suite", suite)
            .evidence("days_left", days_left)
            .evidence("chain", evidence_chain)
    }
}

/// PostgreSQL's SSLRequest: the server answers `S` to go on with TLS.
async fn postgres_starttls(tcp: &mut TcpStream, ctx: &Context) -> Result<(), Outcome> {
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    ctx.trace("sending PostgreSQL SSLRequest");
    tcp.write_all(&SSL_REQUEST)
        .await
        .map_err(|e| Outcome::error(format!("sending SSLRequest failed: {e}")))?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer)
        .await
        .map_err(|e| Outcome::error(format!("no answer to SSLRequest: {e}")))?;
    match answer[0] {
        b'S' => Ok(()),
        b'N' => Err(Outcome::fail(
            "the PostgreSQL server does not offer TLS (answered N to SSLRequest; ssl = off)",
        )),
        other => Err(Outcome::error(format!(
            "unexpected answer {other:#04x} to SSLRequest; is this PostgreSQL?"
        ))),
    }
}
