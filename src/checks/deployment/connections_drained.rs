//! Kind `connections_drained`: the old release's in-flight requests or open
//! connections reach zero within a deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Extract;
use crate::checks::http::{http_target, resolve_urls};
use crate::checks::monitoring::instant_query;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("step.drain"),
    unit: "count",
    summary: "the old release's in-flight requests or connections reach zero within a deadline",
    target: TargetNeed::Required(&[TargetType::Http, TargetType::Prometheus]),
    doc: r#"- **Reads:** every `poll_interval` until `deadline`: either a Prometheus `query` (the sum of its series, e.g. `sum(http_requests_in_flight{release="previous"})`) or a status endpoint `url` of an `http` target (the number at `json_pointer`, or matched by `regex`).
- **Passes** as soon as the count is 0. Observed value: seconds it took.
- **Fails** when the count is still above 0 at the deadline, with the last count.
- **Errors** when the query returns nothing (unless `absent_means_drained`: an old release that stopped exporting), the endpoint does not answer 2xx, or the value is not a number. The check's `timeout` must exceed `deadline`."#,
    ..KindInfo::new(
        "connections_drained",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_deadline() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}
const fn default_poll() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}

/// Params of the `connections_drained` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Prometheus query for the old release's in-flight requests or open
    /// connections (its series are summed). Set this or `url`.
    #[serde(default)]
    pub query: Option<String>,
    /// Status endpoint on the `http` target that reports the count.
    #[serde(default)]
    pub url: Option<String>,
    /// JSON pointer of the count in the endpoint's answer (`/in_flight`).
    #[serde(default)]
    pub json_pointer: Option<String>,
    /// Regex whose first group is the count, for non-JSON answers.
    #[serde(default)]
    pub regex: Option<String>,
    /// How long the old release may take to drain. Default 30s; the check's
    /// timeout must be longer.
    #[serde(default = "default_deadline")]
    pub deadline: ConfigDuration,
    /// Time between two readings. Default 1s.
    #[serde(default = "default_poll")]
    pub poll_interval: ConfigDuration,
    /// Treat a query without series as drained (the old release stopped
    /// exporting). Default false: nothing read is not zero.
    #[serde(default)]
    pub absent_means_drained: bool,
}

#[derive(Debug)]
enum Source {
    Query(String),
    Endpoint { url: reqwest::Url, extract: Extract },
}

#[derive(Debug)]
struct ConnectionsDrained {
    target: Arc<HttpTarget>,
    source: Source,
    deadline: Duration,
    poll: Duration,
    absent_means_drained: bool,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: Params = parse_params(&input.spec.params)?;
    if p.deadline.0 >= input.spec.timeout {
        return Err(ParamError::param(
            "deadline",
            format!(
                "must be shorter than the check's timeout ({}); raise `timeout`",
                format_duration(input.spec.timeout)
            ),
        ));
    }
    if p.poll_interval.0.is_zero() {
        return Err(ParamError::param("poll_interval", "must be longer than 0s"));
    }
    let target = http_target(input)?;
    let source = match (p.query, p.url) {
        (Some(q), None) => {
            crate::checks::monitoring::require_promql("query", &q)?;
            Source::Query(q)
        }
        (None, Some(u)) => Source::Endpoint {
            url: resolve_urls(&target, "url", &[u])?.remove(0),
            extract: Extract::from_params(p.json_pointer.as_deref(), p.regex.as_deref())?,
        },
        _ => {
            return Err(ParamError::param(
                "query",
                "set exactly one of query (a Prometheus target) and url (a status endpoint)",
            ))
        }
    };
    Ok(Arc::new(ConnectionsDrained {
        target,
        source,
        deadline: p.deadline.0,
        poll: p.poll_interval.0,
        absent_means_drained: p.absent_means_drained,
    }))
}

impl ConnectionsDrained {
    /// The current count; `None` when the query has no series.
    async fn count(&self, ctx: &Context) -> Result<Option<f64>, Outcome> {
        match &self.source {
            Source::Query(q) => {
                let series = instant_query(ctx, &self.target, q).await?;
                Ok((!series.is_empty()).then(|| series.iter().map(|(_, v)| *v).sum()))
            }
            Source::Endpoint { url, extract } => {
                let text = extract
                    .read(ctx, &self.target, url, "the connection count")
                    .await?;
                text.trim()
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| Outcome::error(format!("{url}: {text:?} is not a number")))
            }
        }
    }
}

impl Check for ConnectionsDrained {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let started = Instant::now();
                let mut readings = 0u32;
                loop {
                    let count = match self.count(ctx).await? {
                        Some(c) => c,
                        None if self.absent_means_drained => 0.0,
                        None => {
                            return Err(Outcome::error(
                                "the query returned no series: nothing says the old release is drained (set absent_means_drained if a stopped release exports nothing)",
                            ))
                        }
                    };
                    readings += 1;
                    let waited = started.elapsed();
                    if count <= 0.0 {
                        return Ok(Outcome::pass(format!(
                            "drained: 0 in flight after {} ({readings} reading(s))",
                            format_duration(Duration::from_secs(waited.as_secs()))
                        ))
                        .observed(waited.as_secs_f64())
                        .threshold(self.deadline.as_secs_f64()));
                    }
                    if waited + self.poll > self.deadline {
                        return Ok(Outcome::fail(format!(
                            "still {count} in flight after {} (deadline {})",
                            format_duration(Duration::from_secs(waited.as_secs())),
                            format_duration(self.deadline)
                        ))
                        .observed(waited.as_secs_f64())
                        .threshold(self.deadline.as_secs_f64())
                        .evidence("last_count", count)
                        .evidence("readings", readings));
                    }
                    tokio::time::sleep(self.poll).await;
                }
            }
            .await)
        })
    }
}
