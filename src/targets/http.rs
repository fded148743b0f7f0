//! HTTP targets: one client per target (shared TLS config unless the target
//! brings its own CA), its base URL and credentials. Requests built here only
//! reach the target's own origin.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::CertificateDer;

use super::tls::{client_tls_config, install_crypto_provider, shared_tls_config, ClientIdentity};
use crate::config::{HttpTargetSpec, Secret, TlsSpec};
use crate::redact::mask_url_passwords;

/// An HTTP service with its client, base URL and credentials.
#[derive(Debug)]
pub struct HttpTarget {
    pub client: reqwest::Client,
    pub base_url: reqwest::Url,
    /// The base URL with any password masked, for messages.
    pub display_url: String,
    basic_auth: Option<(String, Option<Secret>)>,
    bearer_token: Option<Secret>,
    /// Extra CA certificates this target trusts (`tls.ca_file`).
    pub ca_file: Option<PathBuf>,
    /// Configured headers; kept apart from the client so that anonymous
    /// requests (authentication checks) can leave credentials out.
    headers: HeaderMap,
    /// The target's own TLS settings (`tls.ca_file`, `insecure_skip_verify`),
    /// to build a second client from.
    tls: Option<rustls::ClientConfig>,
    /// Direct or through a proxy, for a second client too.
    route: Route,
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
            req = req.basic_auth(user, password.as_ref().map(Secret::expose));
        }
        if let Some(token) = &self.bearer_token {
            req = req.bearer_auth(token.expose());
        }
        req
    }

    /// A request with the target's credentials only when `url` is on the
    /// target's own origin (scheme, host and port): a redirect to plain HTTP
    /// or to another port gets none, so credentials never travel in clear
    /// or to a listener they were not configured for.
    pub fn request_scoped(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
    ) -> reqwest::RequestBuilder {
        if url.origin() == self.base_url.origin() {
            self.request(method, url)
        } else {
            self.request_anonymous(method, url)
        }
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

/// The common client settings: no redirects followed implicitly, no proxies
/// from the environment (only configured targets are ever contacted).
pub fn client_builder() -> reqwest::ClientBuilder {
    routed_client_builder(&Route::Direct)
}

/// How a target's requests travel: straight to it (the default), through a
/// configured proxy, or through the proxy the environment names (opt-in).
#[derive(Clone)]
pub enum Route {
    Direct,
    Proxy(Box<reqwest::Proxy>),
    EnvironmentProxy,
}

/// Without the proxy's URL, which may hold credentials.
impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Route::Direct => "Direct",
            Route::Proxy(_) => "Proxy([configured])",
            Route::EnvironmentProxy => "EnvironmentProxy",
        })
    }
}

pub fn routed_client_builder(route: &Route) -> reqwest::ClientBuilder {
    install_crypto_provider();
    let builder = match shared_tls_config() {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    };
    let builder = builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("prodready-exporter/", env!("CARGO_PKG_VERSION")));
    match route {
        Route::Direct => builder.no_proxy(),
        Route::Proxy(proxy) => builder.no_proxy().proxy(reqwest::Proxy::clone(proxy)),
        Route::EnvironmentProxy => builder,
    }
}

/// The client for checks that use URLs without a named target.
pub fn default_client() -> Result<reqwest::Client, String> {
    client_builder()
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// The CA certificates of `tls.ca_file`, if set: the file's PEM and the
/// certificates in it. Errors name the field and file, never the content.
pub(crate) type CaBundle = (Vec<u8>, Vec<CertificateDer<'static>>);

pub(crate) fn ca_bundle(tls: &TlsSpec) -> Result<Option<CaBundle>, (String, String)> {
    use rustls::pki_types::pem::PemObject;
    let Some(ca_file) = &tls.ca_file else {
        return Ok(None);
    };
    let field = || "tls.ca_file".to_owned();
    let pem = std::fs::read(ca_file)
        .map_err(|e| (field(), format!("cannot read {}: {e}", ca_file.display())))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            (
                field(),
                format!("{} is not a PEM certificate bundle: {e}", ca_file.display()),
            )
        })?;
    if certs.is_empty() {
        return Err((
            field(),
            format!("{} holds no PEM certificate", ca_file.display()),
        ));
    }
    Ok(Some((pem, certs)))
}

/// A client certificate chain and its key, as read (PEM, for clients that
/// parse it themselves) and parsed.
pub(crate) struct ClientCert {
    pub chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub identity: ClientIdentity,
}

/// The client certificate and key of `tls.cert_file`/`tls.key_file`, if set.
/// Errors name the field and file, never the content.
pub(crate) fn client_cert(tls: &TlsSpec) -> Result<Option<ClientCert>, (String, String)> {
    use rustls::pki_types::pem::PemObject;
    let (cert_file, key_file) = match (&tls.cert_file, &tls.key_file) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (c, k),
        (Some(_), None) => {
            return Err(("tls.key_file".into(), "required with tls.cert_file".into()))
        }
        (None, Some(_)) => {
            return Err(("tls.cert_file".into(), "required with tls.key_file".into()))
        }
    };
    let chain_pem = std::fs::read(cert_file).map_err(|e| {
        (
            "tls.cert_file".to_owned(),
            format!("cannot read {}: {e}", cert_file.display()),
        )
    })?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            (
                "tls.cert_file".to_owned(),
                format!(
                    "{} is not a PEM certificate chain: {e}",
                    cert_file.display()
                ),
            )
        })?;
    if chain.is_empty() {
        return Err((
            "tls.cert_file".into(),
            format!("{} holds no PEM certificate", cert_file.display()),
        ));
    }
    let unreadable_key = || {
        (
            "tls.key_file".to_owned(),
            format!("{} cannot be read as a PEM private key", key_file.display()),
        )
    };
    let key_pem = std::fs::read(key_file).map_err(|_| unreadable_key())?;
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| unreadable_key())?;
    Ok(Some(ClientCert {
        chain_pem,
        key_pem,
        identity: (chain, key),
    }))
}

pub(crate) fn build_http(spec: &HttpTargetSpec) -> Result<HttpTarget, (String, String)> {
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
            base_url.password().map(|p| Secret::new(p.to_owned())),
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
    let route = match (&spec.proxy_url, spec.proxy_from_environment) {
        (Some(_), true) => {
            return Err((
                "proxy_url".into(),
                "set proxy_url or proxy_from_environment, not both".into(),
            ))
        }
        (Some(url), false) => Route::Proxy(Box::new(reqwest::Proxy::all(url).map_err(|e| {
            (
                "proxy_url".to_owned(),
                format!("invalid proxy URL {:?}: {e}", mask_url_passwords(url)),
            )
        })?)),
        (None, true) => Route::EnvironmentProxy,
        (None, false) => Route::Direct,
    };
    let mut builder = routed_client_builder(&route);
    let mut tls_config = None;
    let identity = client_cert(&spec.tls)?.map(|c| c.identity);
    if spec.tls.ca_file.is_some() || spec.tls.insecure_skip_verify || identity.is_some() {
        let extra = ca_bundle(&spec.tls)?
            .map(|(_, certs)| certs)
            .unwrap_or_default();
        let tls = client_tls_config(&extra, spec.tls.insecure_skip_verify, identity)
            .map_err(|e| ("tls".to_owned(), e))?;
        tls_config = Some(tls.clone());
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
        tls: tls_config,
        route,
    })
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
            tls: None,
            route: Route::Direct,
        }
    }

    /// The same target with a client that keeps no idle connection and no
    /// TLS session: every request opens its own TCP connection and does a
    /// full TLS handshake, as blackbox_exporter's probes do. Same origin,
    /// credentials and TLS trust.
    pub fn with_fresh_connections(&self) -> Result<HttpTarget, String> {
        let mut tls = match &self.tls {
            Some(tls) => tls.clone(),
            None => {
                shared_tls_config().ok_or("no TLS configuration (no trusted CA certificates)")?
            }
        };
        // A full handshake every time, as a new client would do: no TLS
        // session resumption (which would also skip verifying the chain).
        tls.resumption = rustls::client::Resumption::disabled();
        let builder = routed_client_builder(&self.route)
            .pool_max_idle_per_host(0)
            .tls_backend_preconfigured(tls);
        let client = builder
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(HttpTarget {
            client,
            base_url: self.base_url.clone(),
            display_url: self.display_url.clone(),
            basic_auth: self.basic_auth.clone(),
            bearer_token: self.bearer_token.clone(),
            ca_file: self.ca_file.clone(),
            headers: self.headers.clone(),
            tls: self.tls.clone(),
            route: self.route.clone(),
        })
    }
}
