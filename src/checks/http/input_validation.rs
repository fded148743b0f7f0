//! Kind `input_validation` (opt-in endpoints): sends malformed JSON, wrong
//! types, invalid UTF-8 and an oversized body. Every answer must be 4xx,
//! never 5xx or 2xx, and no body may hold a stack trace or debug page.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::signatures::error_pages;
use super::{fetch, http_target, DEFAULT_BODY_CAP};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{ByteSize, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.input_validation"),
    unit: "count",
    summary: "malformed, mistyped, invalid UTF-8 and oversized bodies get 4xx without stack traces",
    side_effects: true,
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Sends** to each endpoint, as `application/json`: malformed JSON, wrong types, a wrong top-level shape, invalid UTF-8, an oversized body.
- **Passes** when every answer is 400, 413, 415 or 422 (statuses that prove the request reached input validation) and no body matches a stack-trace or debug-page signature (Python, Java, .NET, Node, Go, Rust, PHP, Django, Rails, Laravel/Symfony, Werkzeug, Spring, Express; each with examples and negative examples, tested). A connection closed on the oversized body counts as a refusal.
- **Fails** on a 5xx, a 2xx/3xx (input accepted), or a leaked stack trace, naming endpoint and probe.
- **Errors** when an answer is another 4xx (401, 403, 404, 405 ...): the request did not reach the code under test, so nothing was verified ("cannot tell"), or when a request cannot be made."#,
    ..KindInfo::new(
        "input_validation",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Largest oversized body we are willing to send.
const MAX_OVERSIZED: u64 = 16 * 1024 * 1024;

fn default_method() -> String {
    "POST".into()
}
const fn default_oversized() -> ByteSize {
    ByteSize(2 * 1024 * 1024)
}

/// One endpoint that accepts a JSON body.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// URL relative to the target.
    pub url: String,
    /// Default POST.
    #[serde(default = "default_method")]
    pub method: String,
}

/// Params of the `input_validation` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Endpoints to probe (opt-in: nothing is sent to unlisted URLs).
    pub endpoints: Vec<Endpoint>,
    /// Size of the oversized body (at most 16MiB). Default 2MiB.
    #[serde(default = "default_oversized")]
    pub oversized_body: ByteSize,
}

#[derive(Debug)]
struct InputValidation {
    target: Arc<HttpTarget>,
    endpoints: Vec<(Method, reqwest::Url)>,
    oversized: usize,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.endpoints.is_empty() {
        return Err(ParamError::new(
            "params.endpoints",
            "list at least one endpoint",
        ));
    }
    if params.oversized_body.0 > MAX_OVERSIZED {
        return Err(ParamError::new(
            "params.oversized_body",
            "must be at most 16MiB",
        ));
    }
    let target = http_target(input)?;
    let mut endpoints = Vec::new();
    for (i, e) in params.endpoints.iter().enumerate() {
        let url = target
            .resolve(&e.url)
            .map_err(|m| ParamError::new(format!("params.endpoints[{i}].url"), m))?;
        let method =
            Method::from_bytes(e.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                ParamError::new(
                    format!("params.endpoints[{i}].method"),
                    "invalid method".to_owned(),
                )
            })?;
        endpoints.push((method, url));
    }
    Ok(Arc::new(InputValidation {
        target,
        endpoints,
        oversized: params.oversized_body.0 as usize,
    }))
}

/// The probes: (name, body).
fn probes(oversized: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut big = Vec::with_capacity(oversized + 16);
    big.extend_from_slice(b"{\"data\":\"");
    big.resize(oversized.saturating_sub(2).max(big.len()), b'a');
    big.extend_from_slice(b"\"}");
    vec![
        (
            "malformed_json",
            b"{\"name\": \"x\", \"items\": [1, 2".to_vec(),
        ),
        (
            "wrong_types",
            b"{\"id\": \"not-a-number\", \"count\": [], \"email\": 12345, \"active\": \"maybe\"}"
                .to_vec(),
        ),
        (
            "wrong_shape",
            b"[null, \"two\", {\"nested\": [true]}]".to_vec(),
        ),
        ("invalid_utf8", b"{\"name\": \"\xff\xfe\xfd\"}".to_vec()),
        ("oversized", big),
    ]
}

/// Statuses that prove a malformed request reached input validation.
const REJECTIONS: [u16; 4] = [400, 413, 415, 422];

impl Check for InputValidation {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut problems = Vec::new();
            let mut undetermined = Vec::new();
            let mut results = Vec::new();
            let probes = probes(self.oversized);
            for (method, url) in &self.endpoints {
                for (name, body) in &probes {
                    let mut request = self
                        .target
                        .request(method.clone(), url.clone())
                        .header("content-type", "application/json");
                    if *name == "oversized" {
                        // A server that refuses the upload may close the
                        // connection while it is still being written; keep
                        // it out of the pool so the next probe cannot be
                        // sent on a socket the server is closing.
                        request = request.header("connection", "close");
                    }
                    let request = request.body(body.clone());
                    let answer = match fetch(ctx, request, DEFAULT_BODY_CAP).await {
                        Ok(a) => a,
                        // Servers may cut off an oversized upload before answering.
                        Err(_) if *name == "oversized" => {
                            results.push(json!({"url": url.as_str(), "probe": name, "status": null, "note": "connection closed (rejected)"}));
                            continue;
                        }
                        Err(e) => return Outcome::error(e),
                    };
                    let leak = error_pages().find(&answer.text());
                    let status = answer.status;
                    if status >= 500 {
                        problems.push(format!("{method} {url} answered {status} to {name}"));
                    } else if !(400..500).contains(&status) {
                        problems.push(format!("{method} {url} accepted {name} with {status}"));
                    } else if !REJECTIONS.contains(&status) {
                        // 401/403/404/405 ...: the request never reached the
                        // code that validates input, so nothing was tested.
                        undetermined.push(format!("{method} {url} answered {status} to {name}"));
                    }
                    if let Some(sig) = leak {
                        problems.push(format!("{method} {url} leaks a {sig} page for {name}"));
                    }
                    results.push(
                        json!({"url": url.as_str(), "probe": name, "status": status, "leak": leak}),
                    );
                }
            }
            let outcome = if !problems.is_empty() {
                Outcome::fail(problems.join("; "))
            } else if !undetermined.is_empty() {
                Outcome::error(format!(
                    "cannot tell whether input is validated: {}; only 400, 413, 415 and 422 show that a request reached the code under test (check the URL, the method and the target's credentials)",
                    undetermined.join("; ")
                ))
            } else {
                Outcome::pass(format!(
                    "{} endpoint(s) reject {} bad inputs with 400/413/415/422 and no stack trace",
                    self.endpoints.len(),
                    probes.len()
                ))
            };
            outcome
                .observed(problems.len() as f64)
                .threshold(0.0)
                .evidence("probes", results)
        })
    }
}
