//! Kind `rate_limiting`: passive, the response advertises a limit (IETF
//! RateLimit headers of both draft generations, X-RateLimit-*, Retry-After);
//! active and opt-in, a bounded burst must meet at least one 429. No signal
//! at all is `warn`, never `pass`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use tokio::task::JoinSet;

use super::{fetch, http_target, resolve_urls, Fetched};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.rate_limiting"),
    unit: "count",
    summary: "rate-limit headers, or a bounded opt-in burst that meets a 429",
    side_effects: true,
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** passive: `RateLimit-Policy`/`RateLimit` (IETF draft 07+), `RateLimit-Limit`/`-Remaining` (drafts 00-06), `X-RateLimit-*`, `X-Rate-Limit-*`, `Retry-After`. Active: the statuses of the burst.
- **Passes** (passive) when the 2xx answer carries a rate-limit header other than a bare `Retry-After` (which 503s and redirects also send), or the answer is a 429; (burst) when at least one 429 comes back. Observed value: headers found, or 429s seen.
- **Warns** (passive) when no header is seen: nothing proves a limit exists, so this never passes.
- **Fails** (burst) when every request of the burst was answered without a 429.
- **Errors** (passive) when the page answers neither 2xx nor 429: an error page's headers prove nothing."#,
    ..KindInfo::new(
        "rate_limiting",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Hard cap on burst size, whatever the config says.
pub const MAX_BURST: usize = 200;
/// Requests in flight during a burst.
const BURST_CONCURRENCY: usize = 16;

/// Headers that advertise a rate limit, by scheme.
pub const RATE_LIMIT_HEADERS: &[(&str, &str)] = &[
    ("ratelimit-policy", "IETF draft 07+ (RateLimit-Policy)"),
    ("ratelimit", "IETF draft (RateLimit)"),
    ("ratelimit-limit", "IETF draft 00-06 (RateLimit-Limit)"),
    (
        "ratelimit-remaining",
        "IETF draft 00-06 (RateLimit-Remaining)",
    ),
    ("x-ratelimit-limit", "X-RateLimit-*"),
    ("x-ratelimit-remaining", "X-RateLimit-*"),
    ("x-rate-limit-limit", "X-Rate-Limit-*"),
    ("retry-after", "Retry-After"),
];

/// An opt-in burst.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    /// Requests sent (at most 200).
    pub requests: usize,
    /// Stop sending after this long.
    pub within: ConfigDuration,
}

/// Params of the `rate_limiting` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// URL, relative to the target. Default: the target's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Active probe: send this burst and expect at least one 429. Off by default.
    #[serde(default)]
    pub burst: Option<Burst>,
}

#[derive(Debug)]
struct RateLimiting {
    target: Arc<HttpTarget>,
    url: reqwest::Url,
    burst: Option<(usize, Duration)>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let target = http_target(input)?;
    let url = resolve_urls(&target, "url", params.url.as_slice())?.remove(0);
    let burst = match params.burst {
        None => None,
        Some(b) if b.requests == 0 || b.requests > MAX_BURST => {
            return Err(ParamError::new(
                "params.burst.requests",
                format!("must be between 1 and {MAX_BURST}"),
            ))
        }
        Some(b) if b.within.0 > input.spec.timeout => {
            return Err(ParamError::new(
                "params.burst.within",
                format!(
                    "must not exceed the check's timeout ({})",
                    format_duration(input.spec.timeout)
                ),
            ))
        }
        Some(b) => Some((b.requests, b.within.0)),
    };
    Ok(Arc::new(RateLimiting { target, url, burst }))
}

/// The rate-limit headers present, as (header, scheme, value).
pub fn advertised_limits(answer: &Fetched) -> Vec<(String, String, String)> {
    RATE_LIMIT_HEADERS
        .iter()
        .filter_map(|(name, scheme)| {
            answer
                .header(name)
                .map(|v| ((*name).to_owned(), (*scheme).to_owned(), v.to_owned()))
        })
        .collect()
}

impl Check for RateLimiting {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let request = self.target.request(Method::GET, self.url.clone());
            let answer = match fetch(ctx, request, 64 * 1024).await {
                Ok(a) => a,
                Err(e) => return Outcome::error(e),
            };
            let headers = advertised_limits(&answer);
            let header_evidence: Vec<String> = headers
                .iter()
                .map(|(h, scheme, v)| format!("{h}: {v} ({scheme})"))
                .collect();
            let Some((requests, within)) = self.burst else {
                // Retry-After alone is also sent with 503s and redirects: it
                // proves a limit only on a 429.
                let advertised =
                    answer.status == 429 || headers.iter().any(|(h, _, _)| h != "retry-after");
                let outcome = if !(200..300).contains(&answer.status) && answer.status != 429 {
                    Outcome::error(format!(
                        "{} answered {}: cannot judge rate-limit headers on a non-2xx answer (check the URL and the target's credentials)",
                        self.url, answer.status
                    ))
                } else if !advertised {
                    Outcome::warn(format!(
                        "{}: no rate-limit headers seen (a bare Retry-After does not count); enable `burst` to test the limit",
                        self.url
                    ))
                } else {
                    Outcome::pass(format!(
                        "{}: rate limit advertised ({})",
                        self.url,
                        header_evidence.join("; ")
                    ))
                };
                return outcome
                    .observed(headers.len() as f64)
                    .evidence("url", self.url.as_str())
                    .evidence("headers", header_evidence);
            };
            let (sent, limited, failures, elapsed) = self.burst(ctx, requests, within).await;
            let outcome = if limited > 0 {
                Outcome::pass(format!(
                    "{}: {limited} of {sent} burst requests answered 429 within {}ms",
                    self.url,
                    elapsed.as_millis()
                ))
            } else if sent == 0 {
                Outcome::error(format!("{}: no burst request got an answer", self.url))
            } else {
                Outcome::fail(format!(
                    "{}: sent {sent} requests in {}ms and none was limited (429)",
                    self.url,
                    elapsed.as_millis()
                ))
            };
            outcome
                .observed(limited as f64)
                .evidence("url", self.url.as_str())
                .evidence("headers", header_evidence)
                .evidence("burst_sent", sent)
                .evidence("burst_429", limited)
                .evidence("burst_failed", failures)
        })
    }
}

impl RateLimiting {
    /// Sends up to `requests` GETs (16 in flight) until `within` runs out.
    /// Returns (answered, 429s, failed, elapsed).
    async fn burst(
        &self,
        ctx: &Context,
        requests: usize,
        within: Duration,
    ) -> (usize, usize, usize, Duration) {
        ctx.trace(format!("burst of {requests} requests within {within:?}"));
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + within;
        let (mut answered, mut limited, mut failed, mut launched) = (0, 0, 0, 0);
        let mut in_flight = JoinSet::new();
        loop {
            while launched < requests && in_flight.len() < BURST_CONCURRENCY {
                let request = self.target.request(Method::GET, self.url.clone());
                in_flight.spawn(async move {
                    match request.send().await {
                        Ok(r) => Some(r.status().as_u16()),
                        Err(_) => None,
                    }
                });
                launched += 1;
            }
            let next = tokio::time::timeout_at(deadline, in_flight.join_next()).await;
            match next {
                Ok(Some(Ok(Some(status)))) => {
                    answered += 1;
                    if status == 429 {
                        limited += 1;
                    }
                }
                Ok(Some(_)) => failed += 1,
                Ok(None) | Err(_) => break,
            }
            if limited > 0 {
                // A 429 answers the question; no need to keep hammering.
                in_flight.abort_all();
                break;
            }
        }
        ctx.trace(format!(
            "burst: {answered} answered, {limited} limited, {failed} failed"
        ));
        (answered, limited, failed, started.elapsed())
    }
}
