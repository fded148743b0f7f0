//! The exporter-toolkit web config file (`--web.config.file`), in the same
//! format Prometheus' exporters read: `tls_server_config`,
//! `http_server_config.headers`, `basic_auth_users` (bcrypt) and
//! `rate_limit`. This module parses and validates the file and builds the
//! rustls server config; it does not serve anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue};
use serde::Deserialize;

pub use super::web_tls::{client_san_allowed, TlsSetup};
use super::web_tls::{tls_setup, TlsServerConfig};
use crate::config::{parse_duration, ConfigErrors, Problems, Secret};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebConfigFile {
    #[serde(default)]
    tls_server_config: Option<TlsServerConfig>,
    #[serde(default)]
    http_server_config: HttpServerConfig,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, Secret>,
    #[serde(default)]
    rate_limit: Option<RateLimitConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpServerConfig {
    /// Accepted for compatibility; this server speaks HTTP/1.1 only.
    #[serde(default)]
    #[allow(dead_code)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitConfig {
    #[serde(default)]
    interval: Option<serde_json::Value>,
    #[serde(default)]
    burst: u32,
}

/// The headers the toolkit lets a web config add to every response.
const ALLOWED_HEADERS: [(&str, HeaderName); 5] = [
    ("Content-Security-Policy", header::CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", header::X_FRAME_OPTIONS),
    ("X-Content-Type-Options", header::X_CONTENT_TYPE_OPTIONS),
    ("X-XSS-Protection", header::X_XSS_PROTECTION),
    (
        "Strict-Transport-Security",
        header::STRICT_TRANSPORT_SECURITY,
    ),
];

/// A validated web config, ready to serve with.
#[derive(Debug, Default)]
pub struct WebConfig {
    pub tls: Option<TlsSetup>,
    /// User name to bcrypt hash; empty means no basic auth.
    pub users: BTreeMap<String, Secret>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub rate_limit: Option<RateLimit>,
    /// The files this config was read from (the web config itself and the
    /// certificate, key and CA files it names), to notice changes.
    pub files: Vec<PathBuf>,
}

/// A token bucket: one request per `interval`, bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub interval: Duration,
    pub burst: u32,
}

/// The web config file in force: `--web.config.file` if given, else
/// `web.config_file` from the config, else none.
pub fn chosen_file(flag: Option<&Path>, config: &crate::config::Config) -> Option<PathBuf> {
    config.web_config_file(flag)
}

/// Reads and validates the web config at `path`. Relative file names in it
/// are resolved against the file's own directory, as the toolkit does.
pub fn load(path: &Path) -> Result<WebConfig, ConfigErrors> {
    let mut problems = Problems::new(path);
    let config = read(path, &mut problems);
    if problems.errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(problems.errors))
    }
}

fn read(path: &Path, problems: &mut Problems) -> WebConfig {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push("", "", format!("cannot read the web config: {e}"));
            return WebConfig::default();
        }
    };
    let file: WebConfigFile = if text.trim().is_empty() {
        WebConfigFile::default()
    } else {
        match crate::yaml::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                problems.push("", "", format!("invalid web config: {e}"));
                return WebConfig::default();
            }
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut config = WebConfig {
        files: vec![path.to_owned()],
        ..WebConfig::default()
    };
    if let Some(tls) = &file.tls_server_config {
        config.tls = tls_setup(tls, base, problems, &mut config.files);
    }
    for (name, value) in &file.http_server_config.headers {
        let Some((_, header_name)) = ALLOWED_HEADERS
            .iter()
            .find(|(allowed, _)| allowed.eq_ignore_ascii_case(name))
        else {
            problems.push(
                "http_server_config",
                &format!("headers.{name}"),
                format!(
                    "this header cannot be set; allowed: {}",
                    ALLOWED_HEADERS.map(|(allowed, _)| allowed).join(", ")
                ),
            );
            continue;
        };
        if value.is_empty() {
            continue;
        }
        match HeaderValue::from_str(value) {
            Ok(v) => config.headers.push((header_name.clone(), v)),
            Err(_) => problems.push(
                "http_server_config",
                &format!("headers.{name}"),
                "not a valid header value",
            ),
        }
    }
    for (user, hash) in &file.basic_auth_users {
        if bcrypt_cost(hash.expose()).is_none() {
            problems.push(
                "basic_auth_users",
                user,
                "not a bcrypt hash ($2a$, $2b$ or $2y$); make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`",
            );
        }
    }
    config.users = file.basic_auth_users;
    if let Some(limit) = &file.rate_limit {
        config.rate_limit = rate_limit(limit, problems);
    }
    config
}

/// The cost of a bcrypt hash, if it is one.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let mut parts = hash.split('$');
    let (Some(""), Some(version), Some(cost), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !matches!(version, "2a" | "2b" | "2y" | "2x") || rest.len() != 53 {
        return None;
    }
    cost.parse().ok().filter(|c| (4..=31).contains(c))
}

fn rate_limit(limit: &RateLimitConfig, problems: &mut Problems) -> Option<RateLimit> {
    let interval = match &limit.interval {
        None => Duration::ZERO,
        Some(serde_json::Value::String(s)) if s == "0" => Duration::ZERO,
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(0) => Duration::ZERO,
        Some(serde_json::Value::String(s)) => match parse_duration(s) {
            Ok(d) => d,
            Err(e) => {
                problems.push("rate_limit", "interval", e);
                return None;
            }
        },
        Some(_) => {
            problems.push(
                "rate_limit",
                "interval",
                "must be a duration such as 100ms or 1s (0 disables)",
            );
            return None;
        }
    };
    if interval.is_zero() {
        return None;
    }
    if limit.burst == 0 {
        problems.push(
            "rate_limit",
            "burst",
            "must be at least 1 when an interval is set",
        );
        return None;
    }
    Some(RateLimit {
        interval,
        burst: limit.burst,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_hashes_are_recognised() {
        assert_eq!(
            bcrypt_cost("$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG"),
            Some(10)
        );
        assert_eq!(bcrypt_cost("plaintext"), None);
        assert_eq!(bcrypt_cost("$1$10$abc"), None);
    }
}
