//! Checks over HTTP(S), and what they share: bounded body reads, error
//! descriptions without URLs (which could carry credentials), status matchers.

pub mod endpoint;

use std::fmt;

use serde::{de, Deserialize, Deserializer};

/// Describes a reqwest error with its causes, without the URL.
pub fn describe_error(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_connect() {
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
    text
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
