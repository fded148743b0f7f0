//! Kind `loki_recent_logs`: a LogQL selector returns at least N lines within
//! a window (`/loki/api/v1/query_range`), proving logs really arrive.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::api::{api_json, list_at};
use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.logging"),
    unit: "count",
    summary: "a LogQL selector returns recent log lines",
    target: TargetNeed::Required(&[TargetType::Loki]),
    doc: r#"- **Reads:** `GET /loki/api/v1/query_range?query=...&start=now-window&end=now&limit=min_lines&direction=backward`.
- **Passes** with at least `min_lines` lines (observed value: lines found); **fails** with fewer; **errors** on Loki's error answers (its plain-text 400/500 bodies are quoted) or a non-`streams` result. Loki cannot be installed here, so its tests use a stand-in that answers with the shapes Loki documents."#,
    ..KindInfo::new(
        "loki_recent_logs",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_window() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(300))
}
const fn default_min_lines() -> u64 {
    1
}

/// Params of the `loki_recent_logs` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// LogQL stream selector (with optional filters), e.g. `{app="shop"}`.
    pub query: String,
    /// How far back to look. Default 5m.
    #[serde(default = "default_window")]
    pub window: ConfigDuration,
    /// Lines required. Default 1 (at most 5000).
    #[serde(default = "default_min_lines")]
    pub min_lines: u64,
}

#[derive(Debug)]
struct LokiRecentLogs {
    target: Arc<HttpTarget>,
    params: Params,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if !params.query.trim_start().starts_with('{') {
        return Err(ParamError::new(
            "params.query",
            "must start with a stream selector like {app=\"shop\"}",
        ));
    }
    if params.min_lines == 0 || params.min_lines > 5000 {
        return Err(ParamError::new(
            "params.min_lines",
            "must be between 1 and 5000",
        ));
    }
    Ok(Arc::new(LokiRecentLogs {
        target: http_target(input)?,
        params,
    }))
}

impl Check for LokiRecentLogs {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let p = &self.params;
            let now_ns = std::time::SystemTime::now()
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let start = now_ns.saturating_sub(p.window.0.as_nanos());
            let query = [
                ("query", p.query.clone()),
                ("start", start.to_string()),
                ("end", now_ns.to_string()),
                ("limit", p.min_lines.to_string()),
                ("direction", "backward".to_owned()),
            ];
            let doc = match api_json(ctx, &self.target, "/loki/api/v1/query_range", &query).await {
                Ok(d) => d,
                Err(o) => return o,
            };
            if doc.pointer("/data/resultType").and_then(Value::as_str) != Some("streams") {
                return Outcome::error(
                    "the answer is not a streams result; use a log query, not a metric query",
                );
            }
            let streams = match list_at(&doc, "/loki/api/v1/query_range", "/data/result") {
                Ok(streams) => streams,
                Err(outcome) => return outcome,
            };
            let lines: u64 = streams
                .iter()
                .map(|s| {
                    s.get("values")
                        .and_then(Value::as_array)
                        .map_or(0, |v| v.len() as u64)
                })
                .sum();
            let window = format_duration(p.window.0);
            let outcome = if lines >= p.min_lines {
                Outcome::pass(format!(
                    "{lines} line(s) from {} stream(s) in the last {window}",
                    streams.len()
                ))
            } else {
                Outcome::fail(format!(
                    "{lines} line(s) for {} in the last {window}, need {}",
                    p.query, p.min_lines
                ))
            };
            outcome
                .observed(lines as f64)
                .threshold(p.min_lines as f64)
                .evidence("streams", streams.len())
        })
    }
}
