//! What the HTTP kinds share: one bounded request through the target's
//! client, bounded body reads, error descriptions without URLs (which could
//! carry credentials), status matchers and header directive parsing.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::{de, Deserialize, Deserializer};

use crate::checks::{BuildInput, Context, Outcome, ParamError};
use crate::targets::HttpTarget;

/// Body bytes a check reads unless it says otherwise.
/// An `error` unless `answer` is a 2xx: the headers of an error page (a
/// wrong URL, a missing credential, a broken backend) say nothing about the
/// page the check is meant to judge.
pub fn require_success(answer: &Fetched, judged: &str) -> Result<(), Outcome> {
    if (200..300).contains(&answer.status) {
        return Ok(());
    }
    Err(Outcome::error(format!(
        "{} answered {}: cannot judge {judged} on a non-2xx answer (check the URL and the target's credentials)",
        answer.url, answer.status
    ))
    .evidence("status", answer.status))
}

/// How much of an answer the access-control kinds read.
pub const ANSWER_CAP: u64 = 64 * 1024;

pub const DEFAULT_BODY_CAP: u64 = 1024 * 1024;

/// One HTTP exchange with its body read up to a cap.
#[derive(Debug)]
pub struct Fetched {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Fetched {
    /// A header's value as text (first occurrence; "" for non-UTF-8).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default())
    }

    /// Every value of a header, joined with ", " as HTTP allows.
    pub fn header_all(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// Sends a request and reads at most `max_body` bytes of the answer. The
/// error names the method and URL (never with credentials) and the cause.
pub async fn fetch(
    ctx: &Context,
    request: reqwest::RequestBuilder,
    max_body: u64,
) -> Result<Fetched, String> {
    let (client, request) = request.build_split();
    let request =
        request.map_err(|e| format!("cannot build the request: {}", describe_error(e)))?;
    let method = request.method().clone();
    let url = request.url().clone();
    ctx.trace(format!("{method} {url}"));
    let started = Instant::now();
    // A pooled keep-alive connection the server closed just as it was reused
    // fails before anything reached the server; an idempotent request is
    // sent once more on a fresh connection instead of reporting a false error.
    let retry = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        .then(|| request.try_clone())
        .flatten();
    let response = match client.execute(request).await {
        Ok(r) => r,
        Err(e) => {
            let reason = describe_error(e);
            match retry {
                Some(again) if reason.contains("connection closed before message completed") => {
                    ctx.trace("the pooled connection was closed by the server; retrying once");
                    client
                        .execute(again)
                        .await
                        .map_err(|e| format!("{method} {url} failed: {}", describe_error(e)))?
                }
                _ => return Err(format!("{method} {url} failed: {reason}")),
            }
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let (body, truncated) = read_body_capped(response, max_body).await.map_err(|e| {
        format!(
            "{method} {url} answered {status} but the body could not be read: {}",
            describe_error(e)
        )
    })?;
    let elapsed = started.elapsed();
    ctx.trace(format!(
        "answered {status} with {} body bytes{} in {}ms",
        body.len(),
        if truncated { " (truncated)" } else { "" },
        elapsed.as_millis()
    ));
    Ok(Fetched {
        method,
        url,
        status,
        headers,
        body,
        truncated,
        elapsed,
    })
}

/// The check's HTTP target (the config guarantees one for kinds that require it).
pub fn http_target(input: &BuildInput<'_>) -> Result<Arc<HttpTarget>, ParamError> {
    input
        .target
        .and_then(|t| t.as_http())
        .cloned()
        .ok_or_else(|| ParamError::new("target", "needs an http target"))
}

/// Resolves URLs against the target (same origin only); empty means the target's URL.
pub fn resolve_urls(
    target: &HttpTarget,
    field: &str,
    urls: &[String],
) -> Result<Vec<reqwest::Url>, ParamError> {
    if urls.is_empty() {
        return Ok(vec![target.base_url.clone()]);
    }
    urls.iter()
        .enumerate()
        .map(|(i, u)| {
            target
                .resolve(u)
                .map_err(|e| ParamError::new(format!("params.{field}[{i}]"), e))
        })
        .collect()
}

/// Splits a header value into lowercase directives: `max-age=10, public`
/// -> [("max-age", "10"), ("public", "")]. Accepts `,` and `;` separators.
pub fn directives(value: &str) -> Vec<(String, String)> {
    value
        .split([',', ';'])
        .filter_map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return None;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            Some((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect()
}

/// `max-age` (or `s-maxage`) of a Cache-Control / HSTS value.
pub fn max_age(value: &str, names: &[&str]) -> Option<u64> {
    directives(value)
        .into_iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .find_map(|(_, v)| v.parse().ok())
}

/// Describes a reqwest error with its causes, without the URL.
pub fn describe_error(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_connect() && tls_in_chain(&error) {
        // One phrase for every TLS failure: `vocab::Cause` reads it as the
        // target's TLS fault, not as a check's own.
        "TLS handshake failed".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_body() || error.is_decode() {
        "reading the response body failed".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    if text.contains("CaUsedAsEndEntity") {
        // rustls' debug text, in words and with what to do.
        return "TLS handshake failed: the server's certificate is a CA certificate (basicConstraints CA:TRUE, as `openssl req -x509` makes it), which TLS refuses as a server certificate; pin it by listing that very certificate in the target's tls.ca_file, or serve a certificate issued by it".to_owned();
    }
    in_words(text)
}

/// What hyper and rustls write in their own terms (enum names, layers),
/// said in words with what to do; what the TLS layer refused is a TLS
/// handshake failure (`vocab::Cause` reads that phrase).
pub(crate) fn in_words(mut text: String) -> String {
    const WORDS: &[(&str, &str)] = &[
        ("client error (Connect): ", ""),
        ("client error (SendRequest): ", ""),
        ("tcp connect error: ", ""),
        (
            "received corrupt message of type InvalidContentType",
            "the server did not answer in TLS (a plain-HTTP port? then use http://)",
        ),
        (
            "invalid peer certificate: UnknownIssuer",
            "the certificate is not signed by a CA this exporter trusts (self-signed, or a private CA: list it in the target's tls.ca_file)",
        ),
        (
            "invalid peer certificate: Expired",
            "the certificate has expired",
        ),
        (
            "invalid peer certificate: NotValidYet",
            "the certificate is not valid yet (its notBefore is ahead of this clock)",
        ),
        (
            "invalid peer certificate: BadSignature",
            "the certificate's signature does not verify",
        ),
        (
            "invalid peer certificate: Revoked",
            "the certificate is revoked",
        ),
    ];
    let tls = [
        "InvalidContentType",
        "invalid peer certificate",
        "HandshakeFailure",
    ]
    .iter()
    .any(|p| text.contains(p));
    for (from, to) in WORDS {
        text = text.replace(from, to);
    }
    text = crate::targets::databases::refused_in_words(&text);
    if tls && !text.starts_with("TLS handshake failed") {
        text = match text.strip_prefix("connection failed") {
            Some(rest) => format!("TLS handshake failed{rest}"),
            None => format!("TLS handshake failed: {text}"),
        };
    }
    text
}

/// Whether a rustls error (a handshake that failed) is among the causes.
fn tls_in_chain(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let inner = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map_or(cause, |inner| inner as &(dyn std::error::Error + 'static));
        if inner.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Reads at most `limit` bytes of a body; returns the bytes and whether more followed.
pub async fn read_body_capped(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// An accepted status: an exact code (`200`) or a class (`"2xx"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatcher {
    Exact(u16),
    Class(u16),
}

impl StatusMatcher {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatcher::Exact(code) => code == status,
            StatusMatcher::Class(class) => status / 100 == class,
        }
    }
}

impl fmt::Display for StatusMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusMatcher::Exact(code) => write!(f, "{code}"),
            StatusMatcher::Class(class) => write!(f, "{class}xx"),
        }
    }
}

impl schemars::JsonSchema for StatusMatcher {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusMatcher".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An HTTP status code (200) or a class (\"2xx\").",
            "oneOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                { "type": "string", "pattern": "^[1-5]xx$" },
            ],
        })
    }
}

impl<'de> Deserialize<'de> for StatusMatcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = StatusMatcher;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code (200) or a class (\"2xx\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                match u16::try_from(v) {
                    Ok(code) if (100..=599).contains(&code) => Ok(StatusMatcher::Exact(code)),
                    _ => Err(E::custom(format!("{v} is not an HTTP status (100..599)"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("{v} is not an HTTP status (100..599)"))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let bytes = v.as_bytes();
                if bytes.len() == 3
                    && (b'1'..=b'5').contains(&bytes[0])
                    && bytes[1..].eq_ignore_ascii_case(b"xx")
                {
                    return Ok(StatusMatcher::Class(u16::from(bytes[0] - b'0')));
                }
                match v.parse::<u64>() {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "{v:?} is neither a status code nor a class like \"2xx\""
                    ))),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_matchers_parse_and_match() {
        let m: Vec<StatusMatcher> =
            serde_json::from_value(serde_json::json!([200, "3xx", "404"])).unwrap();
        assert!(m[0].matches(200) && !m[0].matches(201));
        assert!(m[1].matches(301) && m[1].matches(399) && !m[1].matches(400));
        assert!(m[2].matches(404));
        for bad in [
            serde_json::json!(99),
            serde_json::json!("6xx"),
            serde_json::json!("ok"),
        ] {
            assert!(serde_json::from_value::<StatusMatcher>(bad).is_err());
        }
    }
}
