//! Prometheus' query API for the family's kinds: instant and range queries,
//! series labels and names, and the params they share.

use std::collections::BTreeMap;

use serde_json::Value;

use super::api::api_json;
use crate::checks::{Context, Outcome, ParamError, TargetNeed};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub(crate) const NEED: TargetNeed = TargetNeed::Required(&[TargetType::Prometheus]);

/// Runs an instant query; returns (labels, value) per series (a scalar as one
/// series without labels).
pub async fn instant_query(
    ctx: &Context,
    target: &HttpTarget,
    query: &str,
) -> Result<Vec<(BTreeMap<String, String>, f64)>, Outcome> {
    let (kind, data) = query_data(ctx, target, query).await?;
    let value_of = |pair: &Value| -> Option<f64> { pair.get(1)?.as_str()?.parse::<f64>().ok() };
    match kind.as_deref() {
        Some("vector") => Ok(results(&data)
            .filter_map(|s| Some((labels_of(s, true)?, value_of(s.get("value")?)?)))
            .collect()),
        Some("scalar") => Ok(data
            .get("result")
            .and_then(value_of)
            .map(|v| vec![(BTreeMap::new(), v)])
            .unwrap_or_default()),
        Some(other) => Err(Outcome::error(format!(
            "query returned a {other}; use an expression that returns an instant vector or scalar"
        ))),
        None => Err(Outcome::error("query answer has no resultType")),
    }
}

/// Default count of one (required jobs' targets, required rules).
pub(crate) const fn one() -> usize {
    1
}

/// Default trend window of the kinds that fit a slope. 6h.
pub(crate) const fn default_window() -> crate::config::ConfigDuration {
    crate::config::ConfigDuration(std::time::Duration::from_secs(6 * 3600))
}

/// Parses a PromQL expression offline, so a syntax error is a config error
/// at load (`validate`) instead of an `error` state at run time.
pub fn require_promql(field: &str, query: &str) -> Result<(), ParamError> {
    promql_parser::parser::parse(query)
        .map(|_| ())
        .map_err(|e| ParamError::param(field, format!("invalid PromQL: {e}")))
}

/// `GET /api/v1/query`: the result type and the `data` object.
async fn query_data(
    ctx: &Context,
    target: &HttpTarget,
    query: &str,
) -> Result<(Option<String>, Value), Outcome> {
    let mut doc = api_json(ctx, target, "/api/v1/query", &[("query", query.to_owned())]).await?;
    let data = doc
        .get_mut("data")
        .map(Value::take)
        .ok_or_else(|| Outcome::error("query answer has no data"))?;
    let kind = data
        .get("resultType")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((kind, data))
}

/// The series of a query answer's `data.result`.
fn results(data: &Value) -> impl Iterator<Item = &Value> {
    data.get("result")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A series' labels, with or without its metric name.
fn labels_of(series: &Value, with_name: bool) -> Option<BTreeMap<String, String>> {
    Some(
        series
            .get("metric")?
            .as_object()?
            .iter()
            .filter(|(k, _)| with_name || *k != "__name__")
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
    )
}

/// Raw samples of a range-vector selector (`metric{...}[6h]`): each
/// series' labels (without the metric name) and its (unix time, value)
/// pairs in time order.
pub async fn range_samples(
    ctx: &Context,
    target: &HttpTarget,
    query: &str,
) -> Result<Vec<Series>, Outcome> {
    let (kind, data) = query_data(ctx, target, query).await?;
    match kind.as_deref() {
        Some("matrix") => {}
        Some(other) => {
            return Err(Outcome::error(format!(
                "query returned a {other}, expected a range vector"
            )))
        }
        None => return Err(Outcome::error("query answer has no resultType")),
    }
    Ok(results(&data)
        .filter_map(|s| {
            let labels = labels_of(s, false)?;
            let samples = s
                .get("values")?
                .as_array()?
                .iter()
                .filter_map(|pair| {
                    let t = pair.get(0)?.as_f64()?;
                    let v = pair.get(1)?.as_str()?.parse::<f64>().ok()?;
                    v.is_finite().then_some((t, v))
                })
                .collect();
            Some(Series { labels, samples })
        })
        .collect())
}

/// One series of a range query, without its metric name.
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<(f64, f64)>,
}

/// `{job="api", instance="x:9100"}` for messages.
pub fn series_name(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "{}".into();
    }
    let inner: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let name = labels.get("__name__").map_or("", String::as_str);
    format!("{name}{{{}}}", inner.join(", "))
}
