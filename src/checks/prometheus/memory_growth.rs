//! Kind `memory_growth`: resident memory trend over a window, projected over a horizon (suspect leak).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State,
};
use crate::config::{format_duration, ConfigDuration};
use crate::targets::HttpTarget;

use super::{instant_query, series_name, NEED};

pub const KIND: KindInfo = KindInfo {
    name: "memory_growth",
    category: Category::Performance,
    unit: "bytes",
    summary: "resident memory trend over a window, projected over a horizon (suspect leak)",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_memory_growth,
    params: <MemoryGrowthParams as schemars::JsonSchema>::json_schema,
    doc: r#"- **Reads:** `count_over_time(METRIC SELECTOR[window])`, `deriv(METRIC SELECTOR[window])`, `changes(process_start_time_seconds SELECTOR[window])`.
- **Warns** ("suspect leak") when a series' slope times the horizon exceeds `max_growth`; **passes** otherwise (observed value: the largest projected growth). Series that restarted inside the window (their slope spans a restart) or have fewer than `min_samples` samples are left out; when none is left the state is **unknown** ("not enough data")."#,
};

fn default_metric() -> String {
    "process_resident_memory_bytes".into()
}
const fn default_window() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(6 * 3600))
}
const fn default_horizon() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(86_400))
}
const fn default_min_samples() -> u64 {
    10
}

/// Params of the `memory_growth` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryGrowthParams {
    /// Series selector, e.g. `{job="api"}`.
    #[serde(default)]
    pub selector: String,
    /// Memory metric. Default process_resident_memory_bytes.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Trend window. Default 6h.
    #[serde(default = "default_window")]
    pub window: ConfigDuration,
    /// Growth is projected over this. Default 1d.
    #[serde(default = "default_horizon")]
    pub horizon: ConfigDuration,
    /// Projected growth above this (bytes or `512MiB`) is a suspected leak.
    pub max_growth: crate::config::ByteSize,
    /// Fewer samples in the window than this is `unknown`. Default 10.
    #[serde(default = "default_min_samples")]
    pub min_samples: u64,
}

#[derive(Debug)]
struct MemoryGrowth {
    target: Arc<HttpTarget>,
    params: MemoryGrowthParams,
}

fn build_memory_growth(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: MemoryGrowthParams = parse_params(&input.spec.params)?;
    let selector_ok = params.selector.is_empty()
        || (params.selector.starts_with('{') && params.selector.ends_with('}'));
    if !selector_ok {
        return Err(ParamError::new(
            "params.selector",
            "must be a label selector like {job=\"api\"}",
        ));
    }
    Ok(Arc::new(MemoryGrowth {
        target: http_target(input)?,
        params,
    }))
}

fn key(labels: &BTreeMap<String, String>) -> String {
    series_name(labels)
}

impl Check for MemoryGrowth {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let p = &self.params;
                let window = format_duration(p.window.0);
                let series = format!("{}{}", p.metric, p.selector);
                let samples = instant_query(ctx, &self.target, &format!("count_over_time({series}[{window}])")).await?;
                let slopes = instant_query(ctx, &self.target, &format!("deriv({series}[{window}])")).await?;
                // Restarts reset memory; a slope across a restart says nothing.
                let restarts = instant_query(
                    ctx,
                    &self.target,
                    &format!("changes(process_start_time_seconds{}[{window}])", p.selector),
                )
                .await
                .unwrap_or_default();
                let restarted: Vec<String> = restarts
                    .iter()
                    .filter(|(_, v)| *v > 0.0)
                    .map(|(l, _)| l.get("instance").cloned().unwrap_or_else(|| key(l)))
                    .collect();
                let enough: Vec<String> = samples.iter().filter(|(_, n)| *n >= p.min_samples as f64).map(|(l, _)| key(l)).collect();
                let horizon = p.horizon.0.as_secs_f64();
                let mut judged = Vec::new();
                for (labels, slope) in &slopes {
                    let instance = labels.get("instance").cloned().unwrap_or_else(|| key(labels));
                    if !enough.contains(&key(labels)) || restarted.contains(&instance) {
                        continue;
                    }
                    judged.push((key(labels), slope * horizon));
                }
                let limit = p.max_growth.0 as f64;
                let base = |o: Outcome| {
                    o.threshold(limit)
                        .evidence("series_with_enough_samples", enough.len())
                        .evidence("restarted_in_window", restarted.clone())
                };
                let Some(worst) = judged.iter().map(|(_, g)| *g).reduce(f64::max) else {
                    return Ok(base(Outcome::unknown(format!(
                        "not enough data: no {series} series with {} samples in {window} and no restart",
                        p.min_samples
                    ))));
                };
                let leaking: Vec<String> = judged
                    .iter()
                    .filter(|(_, g)| *g > limit)
                    .map(|(k, g)| format!("{k} +{:.0} MiB", g / 1048576.0))
                    .collect();
                let state = if leaking.is_empty() { State::Pass } else { State::Warn };
                let message = if leaking.is_empty() {
                    format!(
                        "{} series: largest projected growth {:.1} MiB over {} (limit {:.0} MiB)",
                        judged.len(),
                        worst / 1048576.0,
                        format_duration(p.horizon.0),
                        limit / 1048576.0
                    )
                } else {
                    format!(
                        "suspect leak: projected growth over {} above {:.0} MiB for {}",
                        format_duration(p.horizon.0),
                        limit / 1048576.0,
                        leaking.join(", ")
                    )
                };
                Ok(base(Outcome::new(state, message).observed(worst)))
            }
            .await)
        })
    }
}
