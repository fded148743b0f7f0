//! Serving TLS from a web config's `tls_server_config`: certificates and
//! keys (inline or from files), client CA and client-auth modes, protocol
//! versions and cipher suites, and the allowed client SANs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde::Deserialize;
use tracing::warn;

use crate::config::{Problems, Secret};
use crate::targets::tls::HandshakeSignatures;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TlsServerConfig {
    #[serde(default)]
    cert: String,
    #[serde(default)]
    key: Option<Secret>,
    #[serde(default)]
    client_ca: String,
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
    #[serde(default)]
    client_auth_type: String,
    #[serde(default)]
    client_ca_file: String,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
    #[serde(default)]
    min_version: String,
    #[serde(default)]
    max_version: String,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    curve_preferences: Vec<String>,
}

/// Serving TLS: the acceptor and the client SANs allowed in.
pub struct TlsSetup {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub allowed_sans: Vec<String>,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup")
            .field("allowed_sans", &self.allowed_sans)
            .finish_non_exhaustive()
    }
}

/// Inline PEM text, or the file it names (relative to `base`).
fn pem_source(
    inline: &str,
    file: &str,
    base: &Path,
    fields: (&str, &str),
    problems: &mut Problems,
    files: &mut Vec<PathBuf>,
) -> Option<Vec<u8>> {
    match (inline.is_empty(), file.is_empty()) {
        (false, false) => {
            problems.push(
                "tls_server_config",
                fields.1,
                format!("set either {} or {}, not both", fields.0, fields.1),
            );
            None
        }
        (false, true) => Some(inline.as_bytes().to_vec()),
        (true, false) => {
            let path = base.join(file);
            files.push(path.clone());
            match std::fs::read(&path) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    problems.push(
                        "tls_server_config",
                        fields.1,
                        format!("cannot read {}: {e}", path.display()),
                    );
                    None
                }
            }
        }
        (true, true) => None,
    }
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

/// How the server treats client certificates (Go's `tls.ClientAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    None,
    Request,
    RequireAny,
    VerifyIfGiven,
    RequireAndVerify,
}

/// Where problems of the server TLS config are reported.
const PLACE: &str = "tls_server_config";

fn client_auth(name: &str) -> Option<ClientAuth> {
    Some(match name {
        "" | "NoClientCert" => ClientAuth::None,
        "RequestClientCert" => ClientAuth::Request,
        "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAny,
        "VerifyClientCertIfGiven" => ClientAuth::VerifyIfGiven,
        "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerify,
        _ => return None,
    })
}

pub(super) fn tls_setup(
    tls: &TlsServerConfig,
    base: &Path,
    problems: &mut Problems,
    files: &mut Vec<PathBuf>,
) -> Option<TlsSetup> {
    let before = problems.errors.len();
    let cert_pem = pem_source(
        &tls.cert,
        &tls.cert_file,
        base,
        ("cert", "cert_file"),
        problems,
        files,
    );
    let key_inline = tls.key.as_ref().map_or("", Secret::expose);
    let key_pem = pem_source(
        key_inline,
        &tls.key_file,
        base,
        ("key", "key_file"),
        problems,
        files,
    );
    let ca_pem = pem_source(
        &tls.client_ca,
        &tls.client_ca_file,
        base,
        ("client_ca", "client_ca_file"),
        problems,
        files,
    );
    if tls.cert.is_empty() && tls.cert_file.is_empty() {
        problems.push(PLACE, "cert_file", "missing: set cert_file (or cert)");
    }
    if key_inline.is_empty() && tls.key_file.is_empty() {
        problems.push(PLACE, "key_file", "missing: set key_file (or key)");
    }
    let certs = cert_pem.and_then(|pem| {
        certificates(&pem)
            .map_err(|e| problems.push(PLACE, "cert_file", format!("the certificate {e}")))
            .ok()
    });
    let key = key_pem.and_then(|pem| {
        PrivateKeyDer::from_pem_slice(&pem)
            .map_err(|_| problems.push(PLACE, "key_file", "holds no PEM private key"))
            .ok()
    });
    let Some(auth) = client_auth(&tls.client_auth_type) else {
        problems.push(
            PLACE,
            "client_auth_type",
            format!(
                "unknown {:?}; use NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert",
                tls.client_auth_type
            ),
        );
        return None;
    };
    let roots = client_roots(ca_pem.as_deref(), auth, problems);
    if !tls.client_allowed_sans.is_empty()
        && !matches!(auth, ClientAuth::RequireAny | ClientAuth::RequireAndVerify)
    {
        problems.push(
            PLACE,
            "client_allowed_sans",
            "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert (otherwise a client may send no certificate)",
        );
    }
    let versions = versions(&tls.min_version, &tls.max_version, problems);
    let provider = Arc::new(provider(tls, problems));
    if problems.errors.len() > before {
        return None;
    }
    let (Some(certs), Some(key), Some(versions)) = (certs, key, versions) else {
        return None;
    };
    let verifier = client_verifier(auth, roots, &provider, problems)?;
    let built = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            b.with_client_cert_verifier(verifier)
                .with_single_cert(certs, key)
                .map_err(|e| e.to_string())
        });
    let mut server = match built {
        Ok(s) => s,
        Err(e) => {
            problems.push(
                PLACE,
                "key_file",
                format!("the certificate and key do not make a TLS config: {e}"),
            );
            return None;
        }
    };
    server.ignore_client_order = tls.prefer_server_cipher_suites.unwrap_or(true);
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(TlsSetup {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        allowed_sans: tls.client_allowed_sans.clone(),
    })
}

/// The trust anchors client certificates are verified against, when the
/// auth type verifies them.
fn client_roots(
    ca_pem: Option<&[u8]>,
    auth: ClientAuth,
    problems: &mut Problems,
) -> Option<Arc<rustls::RootCertStore>> {
    match (ca_pem, auth) {
        (Some(pem), _) => match certificates(pem) {
            Ok(certs) => {
                let mut roots = rustls::RootCertStore::empty();
                let (_, bad) = roots.add_parsable_certificates(certs);
                if bad > 0 || roots.is_empty() {
                    problems.push(
                        PLACE,
                        "client_ca_file",
                        "holds a certificate that cannot be a trust anchor",
                    );
                }
                Some(Arc::new(roots))
            }
            Err(e) => {
                problems.push(PLACE, "client_ca_file", format!("the client CA {e}"));
                None
            }
        },
        (None, ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify) => {
            problems.push(
                PLACE,
                "client_ca_file",
                "required to verify client certificates; set client_ca_file (or client_ca)",
            );
            None
        }
        (None, _) => None,
    }
}

/// How client certificates are asked for and verified.
fn client_verifier(
    auth: ClientAuth,
    roots: Option<Arc<rustls::RootCertStore>>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
    problems: &mut Problems,
) -> Option<Arc<dyn ClientCertVerifier>> {
    Some(match (auth, roots) {
        (ClientAuth::None, _) => Arc::new(rustls::server::NoClientAuth),
        (ClientAuth::Request | ClientAuth::RequireAny, _) => Arc::new(AnyClientCert {
            mandatory: auth == ClientAuth::RequireAny,
            signatures: HandshakeSignatures(provider.clone()),
        }),
        (_, Some(roots)) => {
            let builder = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
            let builder = if auth == ClientAuth::VerifyIfGiven {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            match builder.build() {
                Ok(v) => v,
                Err(e) => {
                    problems.push(PLACE, "client_ca_file", format!("unusable client CA: {e}"));
                    return None;
                }
            }
        }
        (_, None) => return None,
    })
}

fn versions(
    min: &str,
    max: &str,
    problems: &mut Problems,
) -> Option<Vec<&'static rustls::SupportedProtocolVersion>> {
    let rank = |name: &str, field: &str, default: u8, problems: &mut Problems| match name {
        "" => Some(default),
        "TLS12" => Some(12),
        "TLS13" => Some(13),
        "TLS10" | "TLS11" => {
            problems.push(
                "tls_server_config",
                field,
                format!("{name} is not supported (insecure, and not implemented by rustls); use TLS12 or TLS13"),
            );
            None
        }
        other => {
            problems.push(
                "tls_server_config",
                field,
                format!("unknown TLS version {other:?}; use TLS12 or TLS13"),
            );
            None
        }
    };
    let min = rank(min, "min_version", 12, problems);
    let max = rank(max, "max_version", 13, problems);
    let (min, max) = (min?, max?);
    if min > max {
        problems.push("tls_server_config", "min_version", "is above max_version");
        return None;
    }
    let mut out = Vec::new();
    if min <= 12 {
        out.push(&rustls::version::TLS12);
    }
    if max >= 13 {
        out.push(&rustls::version::TLS13);
    }
    Some(out)
}

/// The ring provider restricted to the configured TLS 1.2 cipher suites and
/// curves (Go's names). TLS 1.3 suites are not configurable, as in Go. Names
/// Go knows but rustls does not implement (CBC suites, P-521) are skipped
/// with a warning; a list with nothing usable is an error.
fn provider(tls: &TlsServerConfig, problems: &mut Problems) -> CryptoProvider {
    let mut provider = rustls::crypto::ring::default_provider();
    if !tls.cipher_suites.is_empty() {
        let mut chosen = Vec::new();
        for name in &tls.cipher_suites {
            let wanted = name.trim_end_matches("_SHA256").to_owned();
            let found = provider.cipher_suites.iter().find(|s| {
                let have = format!("{:?}", s.suite());
                s.version() == &rustls::version::TLS12
                    && (have == *name || have.trim_end_matches("_SHA256") == wanted)
            });
            match found {
                Some(s) => chosen.push(*s),
                None if name.starts_with("TLS_") => {
                    warn!(cipher_suite = %name, "Web config: cipher suite not implemented here; skipped.");
                }
                None => problems.push(
                    "tls_server_config",
                    "cipher_suites",
                    format!("unknown cipher suite {name:?}; use Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                ),
            }
        }
        if chosen.is_empty() {
            problems.push(
                "tls_server_config",
                "cipher_suites",
                "none of these TLS 1.2 cipher suites is implemented; use ECDHE with AES-GCM or ChaCha20-Poly1305",
            );
        }
        provider
            .cipher_suites
            .retain(|s| s.version() == &rustls::version::TLS13);
        provider.cipher_suites.extend(chosen);
    }
    if !tls.curve_preferences.is_empty() {
        let mut chosen = Vec::new();
        for name in &tls.curve_preferences {
            let ours = match name.as_str() {
                "X25519" => "X25519",
                "CurveP256" | "P256" => "secp256r1",
                "CurveP384" | "P384" => "secp384r1",
                "CurveP521" | "P521" | "X25519MLKEM768" => {
                    warn!(curve = %name, "Web config: curve not implemented here; skipped.");
                    continue;
                }
                other => {
                    problems.push(
                        "tls_server_config",
                        "curve_preferences",
                        format!("unknown curve {other:?}; use X25519, CurveP256 or CurveP384"),
                    );
                    continue;
                }
            };
            if let Some(g) = provider
                .kx_groups
                .iter()
                .find(|g| format!("{:?}", g.name()) == ours)
            {
                chosen.push(*g);
            }
        }
        if chosen.is_empty() {
            problems.push(
                "tls_server_config",
                "curve_preferences",
                "none of these curves is implemented; use X25519, CurveP256 or CurveP384",
            );
        } else {
            provider.kx_groups = chosen;
        }
    }
    provider
}

/// `RequestClientCert` / `RequireAnyClientCert`: any certificate is taken
/// without checking who issued it (the handshake signature still proves the
/// client holds its key). Only useful with `client_allowed_sans`, as in Go.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    signatures: HandshakeSignatures,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify(false, message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify(true, message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

/// Whether the client's certificate names one of `allowed` among its DNS,
/// e-mail, IP or URI subject alternative names (exact match, as in Go).
pub fn client_san_allowed(cert: &CertificateDer<'_>, allowed: &[String]) -> bool {
    use x509_parser::extensions::GeneralName;
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return false;
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return false;
    };
    san.value.general_names.iter().any(|name| {
        let text = match name {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                (*s).to_owned()
            }
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes)
                    .map(|b| std::net::IpAddr::from(b).to_string())
                    .unwrap_or_default(),
                16 => <[u8; 16]>::try_from(*bytes)
                    .map(|b| std::net::IpAddr::from(b).to_string())
                    .unwrap_or_default(),
                _ => return false,
            },
            _ => return false,
        };
        allowed.iter().any(|a| {
            *a == text
                || a.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.to_string() == text)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_auth_types_map() {
        assert_eq!(client_auth(""), Some(ClientAuth::None));
        assert_eq!(
            client_auth("RequireAndVerifyClientCert"),
            Some(ClientAuth::RequireAndVerify)
        );
        assert_eq!(client_auth("Verify"), None);
    }
}
