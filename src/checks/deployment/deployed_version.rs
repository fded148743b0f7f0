//! Kind `deployed_version`: every replica reports the expected release.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::Extract;
use crate::checks::http::{http_target, resolve_urls};
use crate::checks::monitoring::{instant_query, series_name};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("step.deploy"),
    unit: "count",
    summary: "every replica reports the expected release (version endpoint or *_build_info series)",
    target: TargetNeed::Required(&[TargetType::Http, TargetType::Prometheus]),
    doc: r#"- **Reads:** either a Prometheus `query` (e.g. `shop_build_info{job="shop"}`): the `label` (default `version`) of every series, one per replica; or the `urls` of an `http` target's version endpoint, the value picked by `json_pointer` or `regex` (else the whole body).
- **Passes** when at least `min_replicas` replicas answer and every one reports `expected`. Observed value: replicas on another version.
- **Fails** naming each replica that reports another version, or when fewer than `min_replicas` answer.
- **Errors** when the query returns nothing, an endpoint does not answer 2xx, or the value cannot be read."#,
    ..KindInfo::new(
        "deployed_version",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn one() -> usize {
    1
}
fn default_label() -> String {
    "version".into()
}

/// Params of the `deployed_version` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The release every replica must report, typically `"${RELEASE}"`.
    pub expected: String,
    /// Prometheus query whose series each stand for a replica (a
    /// `*_build_info` metric). Set this or `urls`.
    #[serde(default)]
    pub query: Option<String>,
    /// The label of `query`'s series that holds the version. Default `version`.
    #[serde(default = "default_label")]
    pub label: String,
    /// Version endpoints on the `http` target (one per replica, same origin).
    #[serde(default)]
    pub urls: Vec<String>,
    /// JSON pointer of the version in an endpoint's answer (`/version`).
    #[serde(default)]
    pub json_pointer: Option<String>,
    /// Regex whose first group is the version, for non-JSON answers.
    #[serde(default)]
    pub regex: Option<String>,
    /// Replicas that must answer. Default 1.
    #[serde(default = "one")]
    pub min_replicas: usize,
}

#[derive(Debug)]
enum Source {
    Query {
        query: String,
        label: String,
    },
    Endpoints {
        urls: Vec<reqwest::Url>,
        extract: Extract,
    },
}

#[derive(Debug)]
struct DeployedVersion {
    target: Arc<HttpTarget>,
    expected: String,
    source: Source,
    min_replicas: usize,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: Params = parse_params(&input.spec.params)?;
    if p.expected.trim().is_empty() {
        return Err(ParamError::param(
            "expected",
            "must name the release (e.g. \"${RELEASE}\"); an empty version matches nothing",
        ));
    }
    let target = http_target(input)?;
    let source = match (&p.query, p.urls.is_empty()) {
        (Some(_), false) => {
            return Err(ParamError::param("query", "set query or urls, not both"));
        }
        (None, true) => {
            return Err(ParamError::param(
                "query",
                "set query (a Prometheus target) or urls (version endpoints)",
            ))
        }
        (Some(q), true) => {
            crate::checks::monitoring::require_promql("query", q)?;
            Source::Query {
                query: q.clone(),
                label: p.label.clone(),
            }
        }
        (None, false) => Source::Endpoints {
            urls: resolve_urls(&target, "urls", &p.urls)?,
            extract: Extract::from_params(p.json_pointer.as_deref(), p.regex.as_deref())?,
        },
    };
    Ok(Arc::new(DeployedVersion {
        target,
        expected: p.expected.trim().to_owned(),
        source,
        min_replicas: p.min_replicas.max(1),
    }))
}

impl DeployedVersion {
    /// (replica, reported version) pairs.
    async fn reported(&self, ctx: &Context) -> Result<Vec<(String, String)>, Outcome> {
        match &self.source {
            Source::Query { query, label } => {
                let series = instant_query(ctx, &self.target, query).await?;
                if series.is_empty() {
                    return Err(Outcome::error(format!(
                        "{query} returned no series: no replica reports a version"
                    )));
                }
                Ok(series
                    .iter()
                    .map(|(labels, _)| {
                        (
                            series_name(labels),
                            labels.get(label).cloned().unwrap_or_default(),
                        )
                    })
                    .collect())
            }
            Source::Endpoints { urls, extract } => {
                let mut out = Vec::new();
                for url in urls {
                    let version = extract
                        .read(ctx, &self.target, url, "the deployed version")
                        .await?;
                    out.push((url.to_string(), version));
                }
                Ok(out)
            }
        }
    }
}

impl Check for DeployedVersion {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let reported = self.reported(ctx).await?;
                    let others: Vec<String> = reported
                        .iter()
                        .filter(|(_, v)| v.trim() != self.expected)
                        .map(|(r, v)| format!("{r} reports {:?}", v))
                        .collect();
                    let evidence: Vec<serde_json::Value> = reported
                        .iter()
                        .map(|(r, v)| json!({"replica": r, "version": v}))
                        .collect();
                    let outcome = if !others.is_empty() {
                        Outcome::fail(format!(
                            "{} of {} replica(s) are not on {}: {}",
                            others.len(),
                            reported.len(),
                            self.expected,
                            others.join("; ")
                        ))
                    } else if reported.len() < self.min_replicas {
                        Outcome::fail(format!(
                            "only {} replica(s) report {}, need {}",
                            reported.len(),
                            self.expected,
                            self.min_replicas
                        ))
                    } else {
                        Outcome::pass(format!(
                            "all {} replica(s) report {}",
                            reported.len(),
                            self.expected
                        ))
                    };
                    Ok(outcome
                        .observed(others.len() as f64)
                        .threshold(0.0)
                        .evidence("expected", self.expected.clone())
                        .evidence("replicas", evidence))
                }
                .await,
            )
        })
    }
}
