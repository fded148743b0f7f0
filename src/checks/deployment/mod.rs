//! Deployment-step kinds: what a release looks like from the outside while
//! it is rolled out (the version every replica reports, the old release's
//! connections draining). Read from a Prometheus target or a status endpoint
//! of an HTTP target; meant for `check --phase` runs (`gate_only: true`).

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str = r#"Deployment steps seen from outside: the version each replica reports and the draining of the old release. Each reads either a Prometheus query (every series, so every replica counts) or a status endpoint of an `http` target (a JSON pointer or a regex picks the value). An empty answer is never taken as success. Mark them `gate_only: true` so the daemon does not alert on them between deploys."#;

pub mod connections_drained;
pub mod deployed_version;

use regex::Regex;
use serde_json::Value;

use crate::checks::http::{fetch, require_success};
use crate::checks::{Context, Outcome, ParamError};
use crate::targets::HttpTarget;

/// Largest status-endpoint answer read.
const ENDPOINT_BODY_CAP: u64 = 64 * 1024;

/// How a value is picked out of a status endpoint's body.
#[derive(Debug)]
pub enum Extract {
    /// A JSON pointer into a JSON body (`/build/version`).
    Pointer(String),
    /// The first capture group (or the whole match) of a regex.
    Regex(Regex),
    /// The whole body, trimmed.
    Body,
}

impl Extract {
    pub fn from_params(pointer: Option<&str>, regex: Option<&str>) -> Result<Extract, ParamError> {
        match (pointer, regex) {
            (Some(_), Some(_)) => Err(ParamError::new(
                "params.json_pointer",
                "set json_pointer or regex, not both",
            )),
            (Some(p), None) if !p.is_empty() && !p.starts_with('/') => Err(ParamError::param(
                "json_pointer",
                "a JSON pointer starts with / (e.g. /version)",
            )),
            (Some(p), None) => Ok(Extract::Pointer(p.to_owned())),
            (None, Some(r)) => Regex::new(r)
                .map(Extract::Regex)
                .map_err(|e| ParamError::param("regex", format!("invalid regex: {e}"))),
            (None, None) => Ok(Extract::Body),
        }
    }

    /// GETs a status endpoint of `target` and picks the value out of its
    /// 2xx answer; any failure is an `error` outcome naming `what`.
    pub async fn read(
        &self,
        ctx: &Context,
        target: &HttpTarget,
        url: &reqwest::Url,
        what: &str,
    ) -> Result<String, Outcome> {
        let request = target.request(reqwest::Method::GET, url.clone());
        let answer = fetch(ctx, request, ENDPOINT_BODY_CAP)
            .await
            .map_err(Outcome::error)?;
        require_success(&answer, what)?;
        self.value(&answer.text())
            .map_err(|e| Outcome::error(format!("{url}: {e}")))
    }

    /// The value in `body`, or why there is none.
    pub fn value(&self, body: &str) -> Result<String, String> {
        match self {
            Extract::Pointer(p) => {
                let doc: Value = serde_json::from_str(body)
                    .map_err(|e| format!("the answer is not JSON: {e}"))?;
                match doc.pointer(p) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
                    Some(_) => Err(format!("{p} is not a string or number")),
                    None => Err(format!("the answer has no {p}")),
                }
            }
            Extract::Regex(re) => re
                .captures(body)
                .map(|c| {
                    c.get(1)
                        .or_else(|| c.get(0))
                        .map_or("", |m| m.as_str())
                        .to_owned()
                })
                .ok_or_else(|| format!("the answer does not match /{re}/")),
            Extract::Body => Ok(body.trim().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_from_pointers_regexes_or_the_body() {
        let p = Extract::from_params(Some("/build/version"), None).unwrap();
        assert_eq!(
            p.value(r#"{"build": {"version": "1.4.2"}}"#).unwrap(),
            "1.4.2"
        );
        assert!(p.value("{}").unwrap_err().contains("no /build/version"));
        assert!(p.value("<html>").unwrap_err().contains("not JSON"));
        let r = Extract::from_params(None, Some(r"version: (\S+)")).unwrap();
        assert_eq!(r.value("app\nversion: 2.0.0\n").unwrap(), "2.0.0");
        assert_eq!(Extract::Body.value(" 7\n").unwrap(), "7");
        assert!(Extract::from_params(Some("/a"), Some("x")).is_err());
        assert!(Extract::from_params(Some("version"), None).is_err());
    }
}
