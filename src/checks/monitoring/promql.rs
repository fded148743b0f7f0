//! Kind `promql`: any instant PromQL query compared with a threshold.

use std::sync::Arc;

use serde::Deserialize;

use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::targets::HttpTarget;

use super::{instant_query, require_promql, series_name, NEED};

pub const KIND: KindInfo = KindInfo {
    unit: "value",
    summary: "any instant PromQL query compared with a threshold",
    target: NEED,
    doc: r#"- **Reads:** `GET /api/v1/query?query=...` (instant vector or scalar).
- **Passes** when every series satisfies `value op threshold`; **fails** listing the series that do not (observed value: the first failing, else the first series); an empty result is `error` by default (`on_empty: unknown` or `fail` instead; never `pass`, since nothing was verified); a syntax error is rejected when the config loads (`validate` names the check and the field); a query error Prometheus reports (400 `bad_data`) is `error` with its message."#,
    ..KindInfo::new(
        "promql",
        Category::Operations,
        build_promql,
        <PromqlParams as schemars::JsonSchema>::json_schema,
    )
};

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    pub fn holds(self, v: f64, t: f64) -> bool {
        match self {
            Op::Gt => v > t,
            Op::Ge => v >= t,
            Op::Lt => v < t,
            Op::Le => v <= t,
            Op::Eq => v == t,
            Op::Ne => v != t,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// What an empty result means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnEmpty {
    #[default]
    Error,
    Unknown,
    Fail,
}

/// Params of the `promql` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromqlParams {
    /// An instant PromQL query (vector or scalar result).
    pub query: String,
    /// The requirement: every series' value `op` threshold.
    pub op: Op,
    /// The number each value is compared with.
    pub threshold: f64,
    /// State when the query returns nothing: `error` (default), `unknown` or
    /// `fail`. Never `pass`: an empty result verifies nothing (write the
    /// query so that absence yields a series, e.g. with `absent()`).
    #[serde(default)]
    pub on_empty: OnEmpty,
}

#[derive(Debug)]
struct Promql {
    target: Arc<HttpTarget>,
    params: PromqlParams,
}

fn build_promql(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: PromqlParams = parse_params(&input.spec.params)?;
    if params.query.trim().is_empty() {
        return Err(ParamError::new("params.query", "must not be empty"));
    }
    require_promql("query", &params.query)?;
    Ok(Arc::new(Promql {
        target: http_target(input)?,
        params,
    }))
}

impl Check for Promql {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let p = &self.params;
                    let series = instant_query(ctx, &self.target, &p.query).await?;
                    let requirement = format!("{} {}", p.op.symbol(), p.threshold);
                    if series.is_empty() {
                        let message =
                            format!("the query returned no data (requirement {requirement})");
                        return Ok(match p.on_empty {
                            OnEmpty::Error => Outcome::error(message),
                            OnEmpty::Unknown => Outcome::unknown(message),
                            OnEmpty::Fail => Outcome::fail(message),
                        }
                        .threshold(p.threshold));
                    }
                    let failing: Vec<String> = series
                        .iter()
                        .filter(|(_, v)| !p.op.holds(*v, p.threshold))
                        .take(10)
                        .map(|(l, v)| format!("{} = {v}", series_name(l)))
                        .collect();
                    let first = failing
                        .first()
                        .and_then(|_| series.iter().find(|(_, v)| !p.op.holds(*v, p.threshold)))
                        .unwrap_or(&series[0]);
                    let outcome = if failing.is_empty() {
                        Outcome::pass(format!("{} series, all {requirement}", series.len()))
                    } else {
                        Outcome::fail(format!(
                            "{} of {} series not {requirement}: {}",
                            failing.len(),
                            series.len(),
                            failing.join(", ")
                        ))
                    };
                    Ok(outcome
                        .observed(first.1)
                        .threshold(p.threshold)
                        .evidence("series", series.len()))
                }
                .await,
            )
        })
    }
}
