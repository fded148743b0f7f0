//! Shared connections to named targets, built once per config and handed to
//! every check that uses the target. Building never contacts a target.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::databases::{MySqlTarget, PgTarget, RedisTarget};
use crate::config::{HttpTargetSpec, TargetSpec};
use crate::redact::mask_url_passwords;

/// A built target.
#[derive(Debug, Clone)]
pub enum Target {
    Http(Arc<HttpTarget>),
    Path(PathBuf),
    Postgres(Arc<PgTarget>),
    Mysql(Arc<MySqlTarget>),
    Redis(Arc<RedisTarget>),
}

impl Target {
    pub fn as_http(&self) -> Option<&Arc<HttpTarget>> {
        match self {
            Target::Http(h) => Some(h),
            _ => None,
        }
    }

    pub fn as_postgres(&self) -> Option<&Arc<PgTarget>> {
        match self {
            Target::Postgres(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_mysql(&self) -> Option<&Arc<MySqlTarget>> {
        match self {
            Target::Mysql(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_redis(&self) -> Option<&Arc<RedisTarget>> {
        match self {
            Target::Redis(r) => Some(r),
            _ => None,
        }
    }

    pub fn as_path(&self) -> Option<&PathBuf> {
        match self {
            Target::Path(p) => Some(p),
            _ => None,
        }
    }
}

/// An HTTP service with its client, base URL and credentials.
#[derive(Debug)]
pub struct HttpTarget {
    pub client: reqwest::Client,
    pub base_url: reqwest::Url,
    /// The base URL with any password masked, for messages.
    pub display_url: String,
    basic_auth: Option<(String, Option<String>)>,
    bearer_token: Option<String>,
    /// Extra CA certificates this target trusts (`tls.ca_file`).
    pub ca_file: Option<PathBuf>,
    /// Configured headers; kept apart from the client so that anonymous
    /// requests (authentication checks) can leave credentials out.
    headers: HeaderMap,
}

impl HttpTarget {
    /// Resolves `url` against the base URL (an absolute URL is kept as is).
    /// Only the target's own origin may be reached through it.
    pub fn resolve(&self, url: &str) -> Result<reqwest::Url, String> {
        let joined = self.base_url.join(url).map_err(|e| {
            format!(
                "cannot resolve {:?} against {}: {e}",
                mask_url_passwords(url),
                self.display_url
            )
        })?;
        if !joined.username().is_empty() || joined.password().is_some() {
            return Err(
                "put credentials in the target (basic_auth, bearer_token), not in the URL".into(),
            );
        }
        if joined.origin() != self.base_url.origin() {
            return Err(format!(
                "{joined} is not on the target's origin {}; define a target for it",
                self.display_url
            ));
        }
        Ok(joined)
    }

    /// A request with the target's credentials applied.
    pub fn request(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .request(method, url)
            .headers(self.headers.clone());
        if let Some((user, password)) = &self.basic_auth {
            req = req.basic_auth(user, password.as_deref());
        }
        if let Some(token) = &self.bearer_token {
            req = req.bearer_auth(token);
        }
        req
    }

    /// A request without any configured header or credential.
    pub fn request_anonymous(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }
}

/// The system's CA certificates, loaded once per process and shared by every
/// HTTP client and TLS check.
pub fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// Accepts any certificate chain while still checking handshake signatures:
/// for `insecure_skip_verify` targets, and for the TLS check that records a
/// chain before verifying it separately.
#[derive(Debug)]
pub struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl AcceptAnyCertificate {
    pub fn new(provider: Arc<CryptoProvider>) -> Arc<Self> {
        Arc::new(AcceptAnyCertificate { provider })
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client config trusting the system roots plus `extra` CAs (or
/// nothing at all when `insecure`), for HTTP/1.1.
pub fn client_tls_config(
    extra: &[CertificateDer<'static>],
    insecure: bool,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(AcceptAnyCertificate::new(provider))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(system_roots().iter().cloned());
        roots.add_parsable_certificates(extra.iter().cloned());
        if roots.is_empty() {
            return Err(
                "no trusted CA certificates: install ca-certificates or set tls.ca_file".into(),
            );
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The config of clients without their own CA: built once, shared.
fn shared_tls_config() -> Option<rustls::ClientConfig> {
    static SHARED: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    SHARED
        .get_or_init(|| client_tls_config(&[], false).ok())
        .clone()
}

/// Makes rustls use the ring provider; reqwest needs a process-wide default.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err only means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The common client settings: no redirects followed implicitly, no proxies
/// from the environment (only configured targets are ever contacted).
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    let builder = match shared_tls_config() {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    };
    builder
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("prodready-exporter/", env!("CARGO_PKG_VERSION")))
}

/// The client for checks that use URLs without a named target.
pub fn default_client() -> Result<reqwest::Client, String> {
    client_builder()
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))
}

fn build_http(spec: &HttpTargetSpec) -> Result<HttpTarget, (String, String)> {
    let display_url = mask_url_passwords(&spec.url);
    let mut base_url = reqwest::Url::parse(&spec.url).map_err(|e| {
        (
            "url".to_owned(),
            format!("invalid URL {display_url:?}: {e}"),
        )
    })?;
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err((
            "url".into(),
            format!("URL {display_url:?} must start with http:// or https://"),
        ));
    }
    // Credentials in the URL become basic auth, so that the URL itself can be shown.
    let mut basic_auth = spec
        .basic_auth
        .as_ref()
        .map(|a| (a.username.clone(), a.password.clone()));
    if !base_url.username().is_empty() && basic_auth.is_none() {
        basic_auth = Some((
            base_url.username().to_owned(),
            base_url.password().map(str::to_owned),
        ));
    }
    let _ = base_url.set_username("");
    let _ = base_url.set_password(None);
    let mut headers = HeaderMap::new();
    for (name, value) in &spec.headers {
        let field = format!("headers.{name}");
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| (field.clone(), "invalid header name".to_owned()))?;
        let mut value =
            HeaderValue::from_str(value).map_err(|_| (field, "invalid header value".to_owned()))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    let mut builder = client_builder();
    if spec.tls.ca_file.is_some() || spec.tls.insecure_skip_verify {
        let mut extra = Vec::new();
        if let Some(ca_file) = &spec.tls.ca_file {
            let field = || "tls.ca_file".to_owned();
            let pem = std::fs::read(ca_file)
                .map_err(|e| (field(), format!("cannot read {}: {e}", ca_file.display())))?;
            use rustls::pki_types::pem::PemObject;
            extra = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    (
                        field(),
                        format!("{} is not a PEM certificate bundle: {e}", ca_file.display()),
                    )
                })?;
            if extra.is_empty() {
                return Err((
                    field(),
                    format!("{} holds no PEM certificate", ca_file.display()),
                ));
            }
        }
        let tls = client_tls_config(&extra, spec.tls.insecure_skip_verify)
            .map_err(|e| ("tls".to_owned(), e))?;
        builder = builder.tls_backend_preconfigured(tls);
    }
    let client = builder
        .build()
        .map_err(|e| (String::new(), format!("cannot build HTTP client: {e}")))?;
    Ok(HttpTarget {
        client,
        base_url,
        display_url,
        basic_auth,
        bearer_token: spec.bearer_token.clone(),
        ca_file: spec.tls.ca_file.clone(),
        headers,
    })
}

/// A target that could not be built: `(target name, field, message)`.
pub type TargetError = (String, String, String);

/// Builds every target, collecting the errors of those that cannot be built.
pub fn build_targets(
    specs: &BTreeMap<String, TargetSpec>,
) -> (BTreeMap<String, Target>, Vec<TargetError>) {
    let mut built = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, spec) in specs {
        let target = match spec {
            TargetSpec::Path(p) => Target::Path(p.clone()),
            other => match other.as_http() {
                Some(http) => match build_http(http) {
                    Ok(t) => Target::Http(Arc::new(t)),
                    Err((field, msg)) => {
                        let prefix = other.target_type().as_str();
                        let field = if field.is_empty() {
                            prefix.to_owned()
                        } else {
                            format!("{prefix}.{field}")
                        };
                        errors.push((name.clone(), field, msg));
                        continue;
                    }
                },
                None => {
                    let built = match other {
                        TargetSpec::Postgres(d) => {
                            PgTarget::build(d).map(|t| Target::Postgres(Arc::new(t)))
                        }
                        TargetSpec::Mysql(d) => {
                            MySqlTarget::build(d).map(|t| Target::Mysql(Arc::new(t)))
                        }
                        TargetSpec::Redis(d) => {
                            RedisTarget::build(d).map(|t| Target::Redis(Arc::new(t)))
                        }
                        _ => Err((String::new(), "unsupported target".to_owned())),
                    };
                    match built {
                        Ok(t) => t,
                        Err((field, msg)) => {
                            let prefix = other.target_type().as_str();
                            errors.push((name.clone(), format!("{prefix}.{field}"), msg));
                            continue;
                        }
                    }
                }
            },
        };
        built.insert(name.clone(), target);
    }
    (built, errors)
}

impl HttpTarget {
    /// A target made from a check's own absolute URL, without credentials.
    pub fn standalone(client: reqwest::Client, url: reqwest::Url) -> HttpTarget {
        HttpTarget {
            display_url: url.to_string(),
            client,
            base_url: url,
            basic_auth: None,
            bearer_token: None,
            ca_file: None,
            headers: HeaderMap::new(),
        }
    }
}
