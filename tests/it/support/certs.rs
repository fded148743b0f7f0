//! Test certificates made with rcgen: a private CA, an intermediate, and
//! leaves that are valid, expired, not yet valid, for the wrong host,
//! self-signed or expiring soon. Written as PEM files into a temp dir.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use time::{Duration, OffsetDateTime};

/// A PEM certificate chain file and its key file.
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca_file: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(365);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    p
}

/// Leaf parameters for 127.0.0.1 and localhost (or `hosts`), valid in [from, to].
pub fn leaf_params(hosts: &[&str], from_days: i64, to_days: i64) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, hosts.first().copied().unwrap_or("test"));
    for h in hosts {
        match h.parse::<IpAddr>() {
            Ok(ip) => p.subject_alt_names.push(SanType::IpAddress(ip)),
            Err(_) => p
                .subject_alt_names
                .push(SanType::DnsName((*h).try_into().unwrap())),
        }
    }
    p.not_before = OffsetDateTime::now_utc() + Duration::days(from_days);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(to_days);
    p
}

pub const LOCAL: &[&str] = &["127.0.0.1", "localhost"];

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertifiedIssuer::self_signed(
            ca_params("prodready test root"),
            KeyPair::generate().unwrap(),
        )
        .unwrap();
        let intermediate = CertifiedIssuer::signed_by(
            ca_params("prodready test intermediate"),
            KeyPair::generate().unwrap(),
            &ca,
        )
        .unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        TestPki {
            dir,
            ca_file,
            ca,
            intermediate,
        }
    }

    fn write(&self, name: &str, chain_pem: String, key: &KeyPair) -> CertFiles {
        let cert = self.dir.path().join(format!("{name}.crt"));
        let key_path = self.dir.path().join(format!("{name}.key"));
        std::fs::write(&cert, chain_pem).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        CertFiles {
            cert,
            key: key_path,
        }
    }

    /// A leaf signed by the root CA.
    pub fn leaf(&self, name: &str, params: CertificateParams) -> CertFiles {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        self.write(name, cert.pem(), &key)
    }

    /// A leaf signed by the intermediate; `with_intermediate` decides whether
    /// the served chain includes the intermediate.
    pub fn leaf_via_intermediate(
        &self,
        name: &str,
        params: CertificateParams,
        with_intermediate: bool,
    ) -> CertFiles {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.intermediate).unwrap();
        let mut pem = cert.pem();
        if with_intermediate {
            pem.push_str(&self.intermediate.pem());
        }
        self.write(name, pem, &key)
    }

    /// A self-signed leaf (not issued by the test CA).
    pub fn self_signed(&self, name: &str) -> CertFiles {
        let key = KeyPair::generate().unwrap();
        let cert = leaf_params(LOCAL, -1, 90).self_signed(&key).unwrap();
        self.write(name, cert.pem(), &key)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
