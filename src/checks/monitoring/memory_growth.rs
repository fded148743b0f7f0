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

use super::{default_window, range_samples, require_promql, series_name, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.memory_leaks"),
    unit: "bytes",
    summary: "resident memory trend over a window, projected over a horizon (suspect leak)",
    target: NEED,
    doc: r#"- **Reads:** the raw samples of `METRIC SELECTOR[window]` and `process_start_time_seconds SELECTOR[window]`. Each series is cut into runs between restarts (a new start time, or the value falling below half of the previous one), and a least-squares slope is fitted to every run with at least `min_samples` samples: a process that restarts often is still judged, on the growth between its restarts.
- **Fails** when a series' steepest run projects more than `max_growth` over the horizon and it restarted at least `max_restarts` times in the window: memory grows until the process is killed (OOM) or crashes.
- **Warns** ("suspect leak") when the projected growth exceeds `max_growth` without restarts; **passes** otherwise (observed value: the largest projected growth).
- **Unknown** ("not enough data") when no series has a run of `min_samples` samples."#,
    ..KindInfo::new(
        "memory_growth",
        Category::Performance,
        build_memory_growth,
        <MemoryGrowthParams as schemars::JsonSchema>::json_schema,
    )
};

fn default_metric() -> String {
    "process_resident_memory_bytes".into()
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
    /// A run between two restarts needs at least this many samples for its
    /// slope to count; with none such the state is `unknown`. Default 10.
    #[serde(default = "default_min_samples")]
    pub min_samples: u64,
    /// A growing series that restarted at least this often in the window
    /// (crashes, OOM kills) fails instead of warning. Default 1.
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u64,
}

const fn default_max_restarts() -> u64 {
    1
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
    require_promql("selector", &format!("{}{}", params.metric, params.selector))?;
    Ok(Arc::new(MemoryGrowth {
        target: http_target(input)?,
        params,
    }))
}

fn key(labels: &BTreeMap<String, String>) -> String {
    series_name(labels)
}

/// Least-squares slope of (t, v) points, in units per second.
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let (mt, mv) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (t, v)| (a + t / n, b + v / n));
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (t, v)| {
        (num + (t - mt) * (v - mv), den + (t - mt) * (t - mt))
    });
    (den > 0.0).then(|| num / den)
}

/// Splits a series' samples at restarts: where the process start time
/// changes, or where the value falls below half of the previous one (a
/// process that restarts without exposing its start time).
fn runs_between_restarts(
    samples: &[(f64, f64)],
    starts: &[(f64, f64)],
) -> (Vec<Vec<(f64, f64)>>, usize) {
    let restart_times: Vec<f64> = starts
        .windows(2)
        .filter(|w| (w[1].1 - w[0].1).abs() > 0.5)
        .map(|w| w[1].0)
        .collect();
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    let mut restarts = 0;
    let mut next_restart = restart_times.iter().peekable();
    let mut previous: Option<f64> = None;
    for &(t, v) in samples {
        let mut split = false;
        while next_restart.peek().is_some_and(|r| **r <= t) {
            next_restart.next();
            split = true;
        }
        if previous.is_some_and(|p| v < p * 0.5) {
            split = true;
        }
        if split && runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
            restarts += 1;
        }
        if let Some(run) = runs.last_mut() {
            run.push((t, v));
        }
        previous = Some(v);
    }
    (runs, restarts)
}

impl Check for MemoryGrowth {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let p = &self.params;
                let window = format_duration(p.window.0);
                let series = format!("{}{}", p.metric, p.selector);
                let memory = range_samples(ctx, &self.target, &format!("{series}[{window}]")).await?;
                let starts = range_samples(
                    ctx,
                    &self.target,
                    &format!("process_start_time_seconds{}[{window}]", p.selector),
                )
                .await
                .unwrap_or_default();
                let horizon = p.horizon.0.as_secs_f64();
                let limit = p.max_growth.0 as f64;
                let mut judged = Vec::new();
                let mut evidence = Vec::new();
                for s in &memory {
                    let start = starts
                        .iter()
                        .find(|st| st.labels == s.labels)
                        .map_or(&[][..], |st| st.samples.as_slice());
                    let (runs, restarts) = runs_between_restarts(&s.samples, start);
                    // The steepest run with enough samples: a process that
                    // leaks and is killed shows it in every run.
                    let growth = runs
                        .iter()
                        .filter(|r| r.len() as u64 >= p.min_samples)
                        .filter_map(|r| slope(r))
                        .map(|per_second| per_second * horizon)
                        .reduce(f64::max);
                    evidence.push(serde_json::json!({
                        "series": key(&s.labels), "samples": s.samples.len(), "restarts": restarts,
                        "runs": runs.len(), "projected_growth_bytes": growth,
                    }));
                    if let Some(g) = growth {
                        judged.push((key(&s.labels), g, restarts));
                    }
                }
                let base = |o: Outcome| o.threshold(limit).evidence("series", evidence.clone());
                let Some(worst) = judged.iter().map(|(_, g, _)| *g).reduce(f64::max) else {
                    return Ok(base(Outcome::insufficient_data(format!(
                        "not enough data: no {series} series has a run of {} samples between restarts in {window}",
                        p.min_samples
                    ))));
                };
                let per = |g: f64| format!("+{:.0} MiB per {}", g / 1048576.0, format_duration(p.horizon.0));
                let crashing: Vec<String> = judged
                    .iter()
                    .filter(|(_, g, r)| *g > limit && *r as u64 >= p.max_restarts)
                    .map(|(k, g, r)| format!("{k} {} and restarted {r} time(s)", per(*g)))
                    .collect();
                let leaking: Vec<String> = judged
                    .iter()
                    .filter(|(_, g, _)| *g > limit)
                    .map(|(k, g, _)| format!("{k} {}", per(*g)))
                    .collect();
                let outcome = if !crashing.is_empty() {
                    Outcome::fail(format!(
                        "memory grows until the process restarts (crash or OOM kill) within {window}: {}",
                        crashing.join(", ")
                    ))
                } else if !leaking.is_empty() {
                    Outcome::new(
                        State::Warn,
                        format!(
                            "suspect leak: projected growth over {} above {:.0} MiB for {}",
                            format_duration(p.horizon.0),
                            limit / 1048576.0,
                            leaking.join(", ")
                        ),
                    )
                } else {
                    Outcome::pass(format!(
                        "{} series: largest projected growth {:.1} MiB over {} (limit {:.0} MiB)",
                        judged.len(),
                        worst / 1048576.0,
                        format_duration(p.horizon.0),
                        limit / 1048576.0
                    ))
                };
                Ok(base(outcome.observed(worst)))
            }
            .await)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line() {
        let pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 5.0 + 2.0 * i as f64)).collect();
        assert!((slope(&pts).unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(slope(&pts[..1]), None);
    }

    #[test]
    fn runs_split_at_restarts_and_drops() {
        let samples: Vec<(f64, f64)> = (0..12)
            .map(|i| (i as f64, 100.0 + (i % 4) as f64 * 50.0))
            .collect();
        let (runs, restarts) = runs_between_restarts(&samples, &[]);
        assert_eq!(restarts, 2);
        assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4]);
        let starts = [(0.0, 1000.0), (5.0, 1000.0), (6.0, 1006.0)];
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 100.0)).collect();
        let (runs, restarts) = runs_between_restarts(&flat, &starts);
        assert_eq!((runs.len(), restarts), (2, 1));
    }
}
