//! Kind `http`: one request to a URL, judged on status, body, headers and
//! latency. The general tool for health checks and smoke tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::Method;
use serde::Deserialize;

use super::{fetch, Fetched, StatusMatcher};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ByteSize, ConfigDuration, TargetType};
use crate::redact::mask_url_passwords;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    unit: "seconds",
    summary: "HTTP request: expected status, body regex, required headers, latency",
    target: TargetNeed::Optional(&[TargetType::Http]),
    doc: r#"One request to a URL. The general tool for health checks and smoke tests.

| param | default | |
|---|---|---|
| `url` | the target's URL | relative URLs resolve against the target; without a target it must be absolute (and hold no credentials) |
| `method` | `GET` | |
| `headers` | `{}` | extra request headers |
| `body` | none | request body |
| `expected_status` | `["2xx"]` | codes (`200`) or classes (`"3xx"`) |
| `body_regex` / `body_not_regex` | none | the body must / must not match |
| `required_headers` | `[]` | response header names that must be present |
| `max_latency` | none | time for headers and body |
| `follow_redirects` | `same_origin` | `same_origin` (or `true`): only to the same scheme, host and port; `any`: anywhere, with the check's headers and the target's credentials sent to its own origin only; `none` (or `false`); at most 10 hops |
| `fresh_connection` | `false` | a new TCP connection and a full TLS handshake (no session resumption) per evaluation, as blackbox_exporter does; latency then includes connect and handshake |
| `max_body_size` | `1MiB` | bytes of body read; a body condition the read part cannot settle (no match in it for `body_regex`, none of the forbidden pattern for `body_not_regex`) is an `error` |

- **Reads:** the response status, headers and up to `max_body_size` of body. A check with a method other than GET, HEAD, OPTIONS, TRACE, or a body may change its target: `/probe` runs it only with `probe: true`.
- **Passes** when every configured condition holds. Observed value: latency in seconds; threshold: `max_latency`.
- **Fails** on an unexpected status, a body (not) matching, a missing header, latency over the limit, a redirect to another origin under `same_origin` (not followed; the message names where it pointed) or more than 10 redirects; the message lists every problem.
- **Errors** when the request cannot be made (connection refused, DNS, TLS, reset, body unreadable) or times out, and when the body is larger than `max_body_size` and a body condition cannot be settled on the part read."#,
    ..KindInfo::new(
        "http",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Most redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

fn default_method() -> String {
    "GET".into()
}

const fn default_max_body_size() -> ByteSize {
    ByteSize(1024 * 1024)
}

/// Params of the `http` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// URL to request. Relative URLs resolve against the target's URL; without
    /// a target it must be absolute. Default: the target's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// HTTP method. Default GET.
    #[serde(default = "default_method")]
    pub method: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    #[serde(default)]
    pub body: Option<String>,
    /// Accepted statuses: codes (200) or classes ("2xx"). Default: 2xx.
    #[serde(default)]
    pub expected_status: Vec<StatusMatcher>,
    /// The body must match this regex.
    #[serde(default)]
    pub body_regex: Option<String>,
    /// The body must not match this regex.
    #[serde(default)]
    pub body_not_regex: Option<String>,
    /// Slower than this (headers and body) fails.
    #[serde(default)]
    pub max_latency: Option<ConfigDuration>,
    /// Response headers that must be present.
    #[serde(default)]
    pub required_headers: Vec<String>,
    /// Which redirects to follow (at most 10 hops): `same_origin` (the
    /// default; `true` means the same) follows only to the same scheme, host
    /// and port, `any` follows everywhere but sends the check's `headers`
    /// and the target's credentials only to the check's own origin, `none`
    /// (or `false`) judges the redirect itself.
    #[serde(default)]
    pub follow_redirects: FollowRedirects,
    /// Read at most this much of the body. Default 1MiB.
    #[serde(default = "default_max_body_size")]
    pub max_body_size: ByteSize,
    /// Open a new connection and do a full TLS handshake (no session
    /// resumption) for every evaluation, as blackbox_exporter does, instead
    /// of reusing the target's pooled keep-alive connection. Measures connect
    /// and handshake time too. Default false.
    #[serde(default)]
    pub fresh_connection: bool,
}

/// `follow_redirects`: a mode, or the older boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum FollowRedirects {
    Flag(bool),
    Mode(Redirects),
}

impl Default for FollowRedirects {
    fn default() -> Self {
        FollowRedirects::Mode(Redirects::SameOrigin)
    }
}

/// Which redirects an `http` check follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Redirects {
    SameOrigin,
    Any,
    None,
}

impl FollowRedirects {
    fn mode(self) -> Redirects {
        match self {
            FollowRedirects::Flag(true) => Redirects::SameOrigin,
            FollowRedirects::Flag(false) => Redirects::None,
            FollowRedirects::Mode(m) => m,
        }
    }
}

#[derive(Debug)]
struct HttpCheck {
    target: Arc<HttpTarget>,
    url: reqwest::Url,
    method: Method,
    headers: HeaderMap,
    body: Option<String>,
    expected_status: Vec<StatusMatcher>,
    body_regex: Option<Regex>,
    body_not_regex: Option<Regex>,
    max_latency: Option<Duration>,
    required_headers: Vec<HeaderName>,
    follow_redirects: Redirects,
    max_body_size: u64,
}

fn compile(field: &str, pattern: Option<&String>) -> Result<Option<Regex>, ParamError> {
    pattern
        .map(|p| {
            Regex::new(p).map_err(|e| {
                ParamError::new(format!("params.{field}"), format!("invalid regex: {e}"))
            })
        })
        .transpose()
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let target = match input.target.and_then(|t| t.as_http()) {
        Some(t) => t.clone(),
        None => {
            let url = params.url.as_deref().ok_or_else(|| {
                ParamError::new(
                    "params.url".to_owned(),
                    "required when the check has no target".to_owned(),
                )
            })?;
            Arc::new(standalone_target(input.http_client, url)?)
        }
    };
    let target = if params.fresh_connection {
        Arc::new(
            target
                .with_fresh_connections()
                .map_err(|e| ParamError::new("params.fresh_connection", e))?,
        )
    } else {
        target
    };
    let url = match &params.url {
        Some(u) => target
            .resolve(u)
            .map_err(|e| ParamError::new("params.url", e))?,
        None => target.base_url.clone(),
    };
    let method =
        Method::from_bytes(params.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            ParamError::new(
                "params.method".to_owned(),
                format!("invalid method {:?}", params.method),
            )
        })?;
    let mut headers = HeaderMap::new();
    for (name, value) in &params.headers {
        let field = format!("params.headers.{name}");
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ParamError::new(field.clone(), "invalid header name"))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| ParamError::new(field, "invalid header value"))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    let required_headers = params
        .required_headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                ParamError::new(
                    format!("params.required_headers[{i}]"),
                    format!("invalid header name {h:?}"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Arc::new(HttpCheck {
        target,
        url,
        method,
        headers,
        body: params.body,
        expected_status: if params.expected_status.is_empty() {
            vec![StatusMatcher::Class(2)]
        } else {
            params.expected_status
        },
        body_regex: compile("body_regex", params.body_regex.as_ref())?,
        body_not_regex: compile("body_not_regex", params.body_not_regex.as_ref())?,
        max_latency: params.max_latency.map(|d| d.0),
        required_headers,
        follow_redirects: params.follow_redirects.mode(),
        max_body_size: params.max_body_size.0,
    }))
}

/// A target for a check that names an absolute URL instead of a target.
fn standalone_target(client: &reqwest::Client, url: &str) -> Result<HttpTarget, ParamError> {
    let field = || "params.url".to_owned();
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        ParamError::new(
            field(),
            format!("invalid URL {:?}: {e}", mask_url_passwords(url)),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ParamError::new(
            field(),
            "the URL must start with http:// or https://",
        ));
    }
    if !parsed.username().is_empty() {
        return Err(ParamError::new(
            field(),
            "put credentials in a named http target (basic_auth), not in the URL",
        ));
    }
    Ok(HttpTarget::standalone(client.clone(), parsed))
}

impl Check for HttpCheck {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(self.run(ctx))
    }

    /// Any method but the safe ones (RFC 9110: GET, HEAD, OPTIONS, TRACE),
    /// or a body, may change what the target holds.
    fn side_effects(&self) -> Option<String> {
        let safe = matches!(
            self.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        match (safe, &self.body) {
            (true, None) => None,
            (false, _) => Some(format!("sends {} requests", self.method)),
            (true, Some(_)) => Some(format!("sends {} requests with a body", self.method)),
        }
    }
}

impl HttpCheck {
    async fn run(&self, ctx: &Context) -> Outcome {
        let started = Instant::now();
        let mut url = self.url.clone();
        let mut hops = Vec::new();
        let answer = loop {
            // The check's own headers, like the target's credentials, go to
            // the check's origin only, never to where a redirect points.
            let mut request = self.target.request_scoped(self.method.clone(), url.clone());
            if url.origin() == self.url.origin() {
                request = request.headers(self.headers.clone());
            }
            if let Some(body) = &self.body {
                request = request.body(body.clone());
            }
            let answer = match fetch(ctx, request, self.max_body_size).await {
                Ok(a) => a,
                Err(e) => return Outcome::error(e).evidence("url", url.as_str()),
            };
            if self.follow_redirects == Redirects::None || !(300..400).contains(&answer.status) {
                break answer;
            }
            let Some(next) = answer
                .header(LOCATION.as_str())
                .and_then(|l| url.join(l).ok())
            else {
                break answer;
            };
            if self.follow_redirects == Redirects::SameOrigin && next.origin() != url.origin() {
                return Outcome::fail(format!(
                    "{url} redirects to another origin ({next}: another scheme, host or port); not followed (follow_redirects: same_origin)"
                ))
                .evidence("url", url.as_str())
                .evidence("status", answer.status);
            }
            if hops.len() >= MAX_REDIRECTS {
                return Outcome::fail(format!(
                    "more than {MAX_REDIRECTS} redirects from {}",
                    self.url
                ))
                .evidence("redirects", hops);
            }
            hops.push(next.to_string());
            url = next;
        };
        let latency = started.elapsed();
        self.judge(&url, &answer, latency)
            .observed(latency.as_secs_f64())
            .threshold_opt(self.max_latency.map(|d| d.as_secs_f64()))
            .evidence("url", url.as_str())
            .evidence("status", answer.status)
            .evidence("latency_seconds", latency.as_secs_f64())
            .evidence("body_bytes_read", answer.body.len())
            .evidence("body_truncated", answer.truncated)
            .evidence("redirects", hops)
    }

    fn judge(&self, url: &reqwest::Url, answer: &Fetched, latency: Duration) -> Outcome {
        let (status, headers, body) = (answer.status, &answer.headers, &answer.body);
        let mut problems = Vec::new();
        // What the read part of a cut-off body cannot tell.
        let mut unverified = Vec::new();
        if !self.expected_status.iter().any(|m| m.matches(status)) {
            let expected: Vec<String> =
                self.expected_status.iter().map(|m| m.to_string()).collect();
            problems.push(format!(
                "status {status}, expected {}",
                expected.join(" or ")
            ));
        }
        let text = String::from_utf8_lossy(body);
        if let Some(re) = &self.body_regex {
            if !re.is_match(&text) {
                if answer.truncated {
                    unverified.push(format!("/{}/ is not in the part read", re.as_str()));
                } else {
                    problems.push(format!("body does not match /{}/", re.as_str()));
                }
            }
        }
        if let Some(re) = &self.body_not_regex {
            if re.is_match(&text) {
                problems.push(format!("body matches forbidden /{}/", re.as_str()));
            } else if answer.truncated {
                unverified.push(format!("forbidden /{}/ may be in the rest", re.as_str()));
            }
        }
        let missing: Vec<&str> = self
            .required_headers
            .iter()
            .filter(|h| !headers.contains_key(*h))
            .map(HeaderName::as_str)
            .collect();
        if !missing.is_empty() {
            problems.push(format!("missing header(s) {}", missing.join(", ")));
        }
        if let Some(max) = self.max_latency {
            if latency > max {
                problems.push(format!(
                    "took {}ms, limit {}",
                    latency.as_millis(),
                    format_duration(max)
                ));
            }
        }
        if !problems.is_empty() {
            Outcome::fail(format!("{url}: {}", problems.join("; ")))
        } else if !unverified.is_empty() {
            Outcome::error(format!(
                "{url}: the body is larger than max_body_size ({} bytes), so it cannot be judged: {}; raise max_body_size",
                self.max_body_size,
                unverified.join("; ")
            ))
        } else {
            Outcome::pass(format!(
                "{url} answered {status} in {}ms",
                latency.as_millis()
            ))
        }
    }
}
