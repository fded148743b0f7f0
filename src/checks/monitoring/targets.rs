//! Kind `prometheus_targets`: expected scrape jobs have enough targets and enough of them are up.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::targets::HttpTarget;

use super::{one, NEED};
use crate::checks::monitoring::api::{api_json, list_at};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.monitoring"),
    unit: "ratio",
    summary: "expected scrape jobs have enough targets and enough of them are up",
    target: NEED,
    doc: r#"- **Reads:** `GET /api/v1/targets?state=active`; a target belongs to a job by its `job` label or scrape pool.
- **Passes** when every job has at least `min_targets` active targets and the share with `health: up` reaches `min_up_ratio`. Observed value: the worst job's up ratio. **Fails** otherwise; the evidence lists each target that is not up with its `lastError`."#,
    ..KindInfo::new(
        "prometheus_targets",
        Category::Operations,
        build_targets,
        <TargetsParams as schemars::JsonSchema>::json_schema,
    )
};

const fn full() -> f64 {
    1.0
}

/// One expected job.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedJob {
    pub job: String,
    /// Active targets required. Default 1.
    #[serde(default = "one")]
    pub min_targets: usize,
}

/// Params of the `prometheus_targets` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsParams {
    /// Scrape jobs that must be present, each with its minimum target count.
    pub jobs: Vec<ExpectedJob>,
    /// Share of each job's targets that must be up. Default 1.0.
    #[serde(default = "full")]
    pub min_up_ratio: f64,
}

#[derive(Debug)]
struct Targets {
    target: Arc<HttpTarget>,
    params: TargetsParams,
}

fn build_targets(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: TargetsParams = parse_params(&input.spec.params)?;
    if params.jobs.is_empty() {
        return Err(ParamError::new("params.jobs", "list at least one job"));
    }
    Ok(Arc::new(Targets {
        target: http_target(input)?,
        params,
    }))
}

impl Check for Targets {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let doc = api_json(
                        ctx,
                        &self.target,
                        "/api/v1/targets",
                        &[("state", "active".to_owned())],
                    )
                    .await?;
                    let active = list_at(&doc, "/api/v1/targets", "/data/activeTargets")?;
                    let mut problems = Vec::new();
                    let mut worst = 1.0f64;
                    let mut down_list = Vec::new();
                    let mut per_job = serde_json::Map::new();
                    for expected in &self.params.jobs {
                        let of_job: Vec<&Value> = active
                            .iter()
                            .filter(|t| {
                                t.pointer("/labels/job").and_then(Value::as_str)
                                    == Some(expected.job.as_str())
                                    || t.get("scrapePool").and_then(Value::as_str)
                                        == Some(expected.job.as_str())
                            })
                            .collect();
                        let up = of_job
                            .iter()
                            .filter(|t| t.get("health").and_then(Value::as_str) == Some("up"))
                            .count();
                        let ratio = if of_job.is_empty() {
                            0.0
                        } else {
                            up as f64 / of_job.len() as f64
                        };
                        worst = worst.min(ratio);
                        for t in of_job
                            .iter()
                            .filter(|t| t.get("health").and_then(Value::as_str) != Some("up"))
                        {
                            down_list.push(json!({
                                "job": expected.job,
                                "instance": t.pointer("/labels/instance"),
                                "health": t.get("health"),
                                "lastError": t.get("lastError"),
                            }));
                        }
                        if of_job.len() < expected.min_targets {
                            problems.push(format!(
                                "job {:?} has {} active target(s), need {}",
                                expected.job,
                                of_job.len(),
                                expected.min_targets
                            ));
                        } else if ratio < self.params.min_up_ratio {
                            problems.push(format!(
                                "job {:?}: {up} of {} target(s) up",
                                expected.job,
                                of_job.len()
                            ));
                        }
                        per_job.insert(
                            expected.job.clone(),
                            json!({"targets": of_job.len(), "up": up}),
                        );
                    }
                    let outcome = if problems.is_empty() {
                        Outcome::pass(format!("{} job(s) present and up", self.params.jobs.len()))
                    } else {
                        Outcome::fail(problems.join("; "))
                    };
                    Ok(outcome
                        .observed(worst)
                        .threshold(self.params.min_up_ratio)
                        .evidence("jobs", Value::Object(per_job))
                        .evidence("down", down_list))
                }
                .await,
            )
        })
    }
}
