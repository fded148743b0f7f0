//! JSON APIs of monitoring systems (Prometheus, Alertmanager, Loki): one
//! bounded GET through the target's client, with every failure turned into
//! an `error` outcome that says why. Shared by several kind families.

use reqwest::Method;
use serde_json::Value;

use crate::checks::http::fetch;
use crate::checks::{Context, Outcome};
use crate::targets::HttpTarget;

/// Largest API answer read.
pub const API_BODY_CAP: u64 = 16 * 1024 * 1024;

/// GETs a JSON API path; any failure is an `error` outcome saying why.
pub async fn api_json(
    ctx: &Context,
    target: &HttpTarget,
    path: &str,
    query: &[(&str, String)],
) -> Result<Value, Outcome> {
    let mut url = target.resolve(path).map_err(Outcome::error)?;
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let answer = fetch(ctx, target.request(Method::GET, url.clone()), API_BODY_CAP)
        .await
        .map_err(Outcome::error)?;
    let body = answer.text();
    let short: String = body.chars().take(300).collect();
    if answer.truncated {
        return Err(Outcome::error(format!(
            "{} answered more than {API_BODY_CAP} bytes",
            url.path()
        )));
    }
    let parsed: Result<Value, _> = serde_json::from_str(&body);
    if !(200..300).contains(&answer.status) {
        let reason = parsed
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or(short);
        let reason = match reason.trim() {
            "" => "an empty body (is the target's URL the API's base?)",
            reason => reason,
        };
        return Err(Outcome::error(format!(
            "{} answered {}: {reason}",
            url.path(),
            answer.status,
        )));
    }
    let doc =
        parsed.map_err(|e| Outcome::error(format!("{} answered invalid JSON: {e}", url.path())))?;
    if let Some(status) = doc.get("status").and_then(Value::as_str) {
        if status != "success" {
            let reason = doc
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(Outcome::error(format!(
                "{} answered status {status}: {reason}",
                url.path()
            )));
        }
    }
    Ok(doc)
}

/// The list at `pointer` (`/data/groups`) of an API answer from `path`. A
/// missing field or one of another type is an error naming it: an answer of
/// the wrong shape (a proxy, another API) is not an empty list.
pub fn list_at<'a>(doc: &'a Value, path: &str, pointer: &str) -> Result<&'a [Value], Outcome> {
    doc.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| {
            Outcome::error(format!(
                "{path} answered without a `{}` list; is the target the right API?",
                pointer.trim_start_matches('/').replace('/', ".")
            ))
        })
}
