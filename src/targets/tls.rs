//! TLS client settings shared by every HTTP client and the TLS check: the
//! system roots loaded once, and a verifier that records chains without
//! judging them. Never contacts anything.

use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore};

/// The system's CA certificates, loaded once per process and shared by every
/// HTTP client and TLS check.
pub fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// Facts about one certificate of the chain.
#[derive(Debug, Clone)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    /// Subject alternative names: DNS names and IP addresses as text.
    pub names: Vec<String>,
    /// The subject's common name, which names the host when there is no SAN.
    pub common_name: Option<String>,
}

pub fn cert_facts(der: &CertificateDer<'_>) -> Option<CertFacts> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                        4 => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(),
                        16 => {
                            let mut b = [0u8; 16];
                            b.copy_from_slice(ip);
                            std::net::Ipv6Addr::from(b).to_string()
                        }
                        _ => "invalid IP".to_owned(),
                    },
                    other => format!("{other}"),
                })
                .collect()
        })
        .unwrap_or_default();
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    Some(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        names,
        common_name,
    })
}

/// Verifies the server's chain against the roots; when that fails and the
/// server presents, as its own certificate, one of the certificates of
/// `tls.ca_file` byte for byte (a self-signed certificate made with
/// `openssl req -x509`, which marks it a CA and which webpki refuses as a
/// server certificate), that certificate is pinned: it is accepted when it
/// is within its dates and names the host (its SANs, or its common name when
/// it has none, as curl does).
#[derive(Debug)]
pub struct PinnedOrRoots {
    roots: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for PinnedOrRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.roots.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            Err(error)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                pinned_valid(end_entity, server_name, now).map_err(|_| error)
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.roots.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.roots.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.roots.supported_verify_schemes()
    }
}

/// A pinned certificate's own checks: within its dates, naming the host.
fn pinned_valid(
    cert: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    use rustls::CertificateError;
    let facts = cert_facts(cert).ok_or(rustls::Error::InvalidCertificate(
        CertificateError::BadEncoding,
    ))?;
    let now = now.as_secs() as i64;
    if now < facts.not_before {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet,
        ));
    }
    if now > facts.not_after {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
    }
    let host = match server_name {
        ServerName::DnsName(d) => d.as_ref().to_ascii_lowercase(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => String::new(),
    };
    let names: Vec<String> = if facts.names.is_empty() {
        facts.common_name.into_iter().collect()
    } else {
        facts.names
    };
    let matches = |name: &str| {
        let name = name.to_ascii_lowercase();
        name == host
            || name.strip_prefix("*.").is_some_and(|rest| {
                host.split_once('.')
                    .is_some_and(|(label, tail)| !label.is_empty() && tail == rest)
            })
    };
    if names.iter().any(|n| matches(n)) {
        Ok(ServerCertVerified::assertion())
    } else {
        Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName,
        ))
    }
}

/// Accepts any certificate chain while still checking handshake signatures:
/// for `insecure_skip_verify` targets, and for the TLS check that records a
/// chain before verifying it separately.
#[derive(Debug)]
pub struct AcceptAnyCertificate {
    signatures: HandshakeSignatures,
}

impl AcceptAnyCertificate {
    pub fn new(provider: Arc<CryptoProvider>) -> Arc<Self> {
        Arc::new(AcceptAnyCertificate {
            signatures: HandshakeSignatures(provider),
        })
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
        self.signatures.verify(false, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify(true, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.signatures.schemes()
    }
}

/// Checks handshake signatures with a provider's algorithms: what a verifier
/// that accepts any certificate must still do, so that the peer proves it
/// holds the certificate's key.
#[derive(Debug)]
pub struct HandshakeSignatures(pub Arc<CryptoProvider>);

impl HandshakeSignatures {
    pub fn verify(
        &self,
        tls13: bool,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        if tls13 {
            rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
        } else {
            rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
        }
    }

    pub fn schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A rustls client config trusting the system roots plus `extra` CAs (or
/// nothing at all when `insecure`), for HTTP/1.1.
/// A client certificate chain and its key, presented for mutual TLS.
pub type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

pub fn client_tls_config(
    extra: &[CertificateDer<'static>],
    insecure: bool,
    identity: Option<ClientIdentity>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(AcceptAnyCertificate::new(provider))
    } else {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(system_roots().iter().cloned());
        roots.add_parsable_certificates(extra.iter().cloned());
        if roots.is_empty() {
            return Err(
                "no trusted CA certificates: install ca-certificates or set tls.ca_file".into(),
            );
        }
        // The extra CAs are also pinned: a server presenting one of them
        // as its own certificate is accepted (see `PinnedOrRoots`).
        let roots = Arc::new(roots);
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| format!("cannot configure TLS verification: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedOrRoots {
                roots: verifier,
                pinned: extra.to_vec(),
            }))
    };
    let mut config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            format!("the client certificate and key do not match or are unusable: {e}")
        })?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The config of clients without their own CA: built once, shared.
pub(crate) fn shared_tls_config() -> Option<rustls::ClientConfig> {
    static SHARED: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    SHARED
        .get_or_init(|| client_tls_config(&[], false, None).ok())
        .clone()
}

/// Makes rustls use the ring provider; reqwest needs a process-wide default.
pub(crate) fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err only means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
