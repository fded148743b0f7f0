//! Kind `capacity`: time until a usage series reaches its limit (linear trend) vs a horizon.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::config::{format_duration, ConfigDuration};
use crate::targets::HttpTarget;

use super::{default_window, instant_query, require_promql, series_name, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.capacity_planning"),
    unit: "seconds",
    summary: "time until a usage series reaches its limit (linear trend) vs a horizon",
    target: NEED,
    doc: r#"- **Reads:** the `usage` query, `deriv((usage)[window:])`, and the `limit` (a number, or a query whose series match `usage` by labels).
- **Passes** when every series has a trend and nothing grows, or the soonest series is full later than the horizon; **fails** when a series will be full within the horizon at the current trend (or already is). Observed value: seconds until the soonest series is full.
- **Unknown** when a series has no trend yet (too few samples in `window` for `deriv`): "not growing" cannot be told from "not measured".
- **Errors** when `usage` returns nothing or no series has a matching limit."#,
    ..KindInfo::new(
        "capacity",
        Category::Operations,
        build_capacity,
        <CapacityParams as schemars::JsonSchema>::json_schema,
    )
};

/// A limit: a number, or a PromQL expression with the same labels as `usage`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Limit {
    Number(f64),
    Query(String),
}

/// Params of the `capacity` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityParams {
    /// PromQL of the used amount (a gauge), e.g. `node_filesystem_size_bytes - node_filesystem_avail_bytes`.
    pub usage: String,
    /// The amount at which it is full.
    pub limit: Limit,
    /// Trend window. Default 6h.
    #[serde(default = "default_window")]
    pub window: ConfigDuration,
    /// Full sooner than this fails. Default 7d.
    #[serde(default = "default_capacity_horizon")]
    pub horizon: ConfigDuration,
}

const fn default_capacity_horizon() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(7 * 86_400))
}

#[derive(Debug)]
struct Capacity {
    target: Arc<HttpTarget>,
    params: CapacityParams,
}

fn build_capacity(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: CapacityParams = parse_params(&input.spec.params)?;
    require_promql("usage", &params.usage)?;
    if let Limit::Query(q) = &params.limit {
        require_promql("limit", q)?;
    }
    Ok(Arc::new(Capacity {
        target: http_target(input)?,
        params,
    }))
}

impl Check for Capacity {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let p = &self.params;
                let window = format_duration(p.window.0);
                let usage = instant_query(ctx, &self.target, &p.usage).await?;
                if usage.is_empty() {
                    return Err(Outcome::error(format!("usage query returned no data: {}", p.usage)));
                }
                let slopes = instant_query(ctx, &self.target, &format!("deriv(({})[{window}:])", p.usage)).await?;
                let limits: Vec<(BTreeMap<String, String>, f64)> = match &p.limit {
                    Limit::Number(n) => vec![(BTreeMap::new(), *n)],
                    Limit::Query(q) => instant_query(ctx, &self.target, q).await?,
                };
                let limit_for = |labels: &BTreeMap<String, String>| -> Option<f64> {
                    if limits.len() == 1 {
                        return Some(limits[0].1);
                    }
                    limits.iter().find(|(l, _)| l.iter().all(|(k, v)| k == "__name__" || labels.get(k) == Some(v))).map(|(_, v)| *v)
                };
                let mut soonest: Option<(String, f64)> = None;
                let mut lines = Vec::new();
                let mut no_trend = Vec::new();
                for (labels, used) in &usage {
                    let Some(limit) = limit_for(labels) else { continue };
                    // deriv() drops the metric name; match on the other labels.
                    let same = |l: &BTreeMap<String, String>| {
                        l.iter().filter(|(k, _)| *k != "__name__").eq(labels.iter().filter(|(k, _)| *k != "__name__"))
                    };
                    // A series without a slope (too few samples in the
                    // window) has no known trend: it is not "not growing".
                    let Some(slope) = slopes.iter().find(|(l, _)| same(l)).map(|(_, s)| *s) else {
                        no_trend.push(series_name(labels));
                        lines.push(json!({"series": series_name(labels), "used": used, "limit": limit, "per_second": Value::Null}));
                        continue;
                    };
                    let left = limit - used;
                    let eta = if left <= 0.0 { 0.0 } else if slope > 0.0 { left / slope } else { f64::INFINITY };
                    lines.push(json!({"series": series_name(labels), "used": used, "limit": limit, "per_second": slope, "seconds_until_full": if eta.is_finite() { json!(eta) } else { Value::Null }}));
                    if soonest.as_ref().is_none_or(|(_, s)| eta < *s) {
                        soonest = Some((series_name(labels), eta));
                    }
                }
                let Some((name, eta)) = soonest else {
                    if !no_trend.is_empty() {
                        return Ok(Outcome::insufficient_data(format!(
                            "no trend yet over {window} for {}: too few samples to tell whether it grows",
                            no_trend.join(", ")
                        ))
                        .evidence("series", lines));
                    }
                    return Err(Outcome::error("no usage series has a matching limit"));
                };
                let horizon = p.horizon.0.as_secs_f64();
                let outcome = if eta < horizon {
                    Outcome::fail(format!(
                        "{name} is full in {} at the {window} trend, sooner than {}",
                        format_duration(std::time::Duration::from_secs(eta as u64)),
                        format_duration(p.horizon.0)
                    ))
                } else if !no_trend.is_empty() {
                    Outcome::unknown(format!(
                        "no trend yet over {window} for {}; the others are not full within {}",
                        no_trend.join(", "),
                        format_duration(p.horizon.0)
                    ))
                } else if eta.is_infinite() {
                    Outcome::pass(format!("{} series not growing over {window}", usage.len()))
                } else {
                    Outcome::pass(format!(
                        "soonest full: {name} in {} (horizon {})",
                        format_duration(std::time::Duration::from_secs(eta as u64)),
                        format_duration(p.horizon.0)
                    ))
                };
                let outcome = if eta.is_finite() { outcome.observed(eta) } else { outcome };
                Ok(outcome.threshold(horizon).evidence("series", lines))
            }
            .await)
        })
    }
}
