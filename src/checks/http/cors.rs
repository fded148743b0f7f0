//! Kind `cors`: a preflight `OPTIONS` (and a plain GET) with a foreign
//! `Origin`. Reflecting that origin while allowing credentials lets any site
//! read users' data: fail. `*` without credentials passes unless the
//! resource is declared private.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;

use super::{fetch, http_target, require_success, resolve_urls, Fetched};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.cors"),
    unit: "count",
    summary: "preflight with a foreign Origin: no reflected origin with credentials",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** a preflight `OPTIONS` with `Origin` and `Access-Control-Request-Method`, and a GET with `Origin`, per URL.
- **Errors** unless each URL answers 2xx to the GET with `Origin` (the preflight may be refused with any status).
- **Passes** when no URL grants the foreign origin credentialed access. Observed value: offending URLs.
- **Fails** when the origin (or `null`, or `*`) is allowed together with `Access-Control-Allow-Credentials: true`, or when a `private` URL allows any origin."#,
    ..KindInfo::new(
        "cors",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

fn default_origin() -> String {
    "https://attacker.invalid".into()
}
fn default_method() -> String {
    "GET".into()
}

/// Params of the `cors` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// URLs to test, relative to the target. Default: the target's URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// The foreign origin sent. Default `https://attacker.invalid`.
    #[serde(default = "default_origin")]
    pub origin: String,
    /// Method asked for in `Access-Control-Request-Method`. Default GET.
    #[serde(default = "default_method")]
    pub method: String,
    /// The resources are private: even `Access-Control-Allow-Origin: *` fails.
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug)]
struct Cors {
    target: Arc<HttpTarget>,
    urls: Vec<reqwest::Url>,
    origin: String,
    method: String,
    private: bool,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let target = http_target(input)?;
    let urls = resolve_urls(&target, "urls", &params.urls)?;
    if reqwest::Url::parse(&params.origin).is_err() {
        return Err(ParamError::new(
            "params.origin",
            "must be an origin like https://example.com",
        ));
    }
    Method::from_bytes(params.method.as_bytes())
        .map_err(|_| ParamError::new("params.method", "invalid method"))?;
    Ok(Arc::new(Cors {
        target,
        urls,
        origin: params.origin.trim_end_matches('/').to_owned(),
        method: params.method.to_ascii_uppercase(),
        private: params.private,
    }))
}

/// What a response's CORS headers allow for the foreign origin.
#[derive(Debug, PartialEq, Eq)]
pub enum CorsVerdict {
    /// No Access-Control-Allow-Origin for the foreign origin.
    Closed,
    /// `*` without credentials.
    Wildcard,
    /// Foreign origin (or `null`) allowed, without credentials.
    ReflectedNoCredentials,
    /// Foreign origin, `null` or `*` allowed together with credentials.
    ReflectedWithCredentials,
}

pub fn judge_cors(answer: &Fetched, origin: &str) -> CorsVerdict {
    let allow_origin = answer
        .header("access-control-allow-origin")
        .map(|v| v.trim().trim_end_matches('/').to_owned());
    let credentials = answer
        .header("access-control-allow-credentials")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    match allow_origin.as_deref() {
        None => CorsVerdict::Closed,
        Some("*") if credentials => CorsVerdict::ReflectedWithCredentials,
        Some("*") => CorsVerdict::Wildcard,
        Some(o) if o == origin || o == "null" => {
            if credentials {
                CorsVerdict::ReflectedWithCredentials
            } else {
                CorsVerdict::ReflectedNoCredentials
            }
        }
        Some(_) => CorsVerdict::Closed,
    }
}

impl Check for Cors {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut problems = Vec::new();
            let mut results = serde_json::Map::new();
            for url in &self.urls {
                let preflight = self
                    .target
                    .request(Method::OPTIONS, url.clone())
                    .header("origin", &self.origin)
                    .header("access-control-request-method", &self.method);
                let simple = self
                    .target
                    .request(Method::GET, url.clone())
                    .header("origin", &self.origin);
                let mut worst = CorsVerdict::Closed;
                for (is_simple, request) in [(false, preflight), (true, simple)] {
                    let answer = match fetch(ctx, request, 64 * 1024).await {
                        Ok(a) => a,
                        Err(e) => return Outcome::error(e),
                    };
                    // A preflight may be refused with any status; the page
                    // itself must answer, or its CORS headers prove nothing.
                    if is_simple {
                        if let Err(o) = require_success(&answer, "its CORS policy") {
                            return o;
                        }
                    }
                    let verdict = judge_cors(&answer, &self.origin);
                    if rank(&verdict) > rank(&worst) {
                        worst = verdict;
                    }
                }
                match worst {
                    CorsVerdict::ReflectedWithCredentials => problems.push(format!(
                        "{url} allows origin {} with credentials",
                        self.origin
                    )),
                    CorsVerdict::Wildcard | CorsVerdict::ReflectedNoCredentials if self.private => {
                        problems.push(format!("{url} is private but allows any origin"))
                    }
                    _ => {}
                }
                results.insert(url.to_string(), format!("{worst:?}").into());
            }
            let outcome = if problems.is_empty() {
                Outcome::pass(format!(
                    "{} URL(s): no credentialed access for foreign origin {}",
                    self.urls.len(),
                    self.origin
                ))
            } else {
                Outcome::fail(problems.join("; "))
            };
            outcome
                .observed(problems.len() as f64)
                .evidence("origin", self.origin.as_str())
                .evidence("verdicts", serde_json::Value::Object(results))
        })
    }
}

fn rank(v: &CorsVerdict) -> u8 {
    match v {
        CorsVerdict::Closed => 0,
        CorsVerdict::Wildcard => 1,
        CorsVerdict::ReflectedNoCredentials => 2,
        CorsVerdict::ReflectedWithCredentials => 3,
    }
}
