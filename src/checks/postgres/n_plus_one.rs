//! Kind `postgres_n_plus_one`: suspects from pg_stat_statements, the same
//! normalized SELECT called very many times returning about one row per
//! call. Finding one is `warn` (a suspicion); too little data is `unknown`,
//! never `pass`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{
    mask_literals, pg_target, require_grant, require_pg_stat_statements, statements, Grant,
    Statement,
};
use std::collections::BTreeMap;

use crate::checks::window::{Sampled, Window};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::ConfigDuration;
use crate::config::TargetType;
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.n_plus_one"),
    unit: "count",
    summary: "pg_stat_statements: the same SELECT called very often for about one row",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `pg_read_all_stats` (in `pg_monitor`): other roles' statements; the `pg_stat_statements` extension.
- **Reads:** the change of each statement's `calls` and `rows` in `pg_stat_statements` since the previous evaluation, or over `window` within one run: SELECTs with `calls >= min_calls` and `rows / calls <= max_rows_per_call` in that window (catalog and monitoring queries excluded).
- **Warns** ("suspected N+1") when one is found: it is a heuristic, never a certainty. **Passes** when none is found among at least `min_total_calls` calls in the window.
- **Unknown** on the first evaluation (no window yet), after a statistics reset, and under `min_total_calls` calls in the window: never `pass` on missing data.
- **Errors** without pg_stat_statements or without the grant."#,
    ..KindInfo::new(
        "postgres_n_plus_one",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_calls() -> i64 {
    10_000
}
const fn default_max_rows_per_call() -> f64 {
    1.5
}
const fn default_min_total_calls() -> i64 {
    1_000
}

/// Params of the `postgres_n_plus_one` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A SELECT called at least this often is a suspect. Default 10000.
    #[serde(default = "default_min_calls")]
    pub min_calls: i64,
    /// ... if it returns at most this many rows per call. Default 1.5.
    #[serde(default = "default_max_rows_per_call")]
    pub max_rows_per_call: f64,
    /// Fewer recorded calls in total than this is too little data. Default 1000.
    #[serde(default = "default_min_total_calls")]
    pub min_total_calls: i64,
    /// Judge the calls made during this long within one evaluation (for
    /// one-shot `check` runs); at most half the timeout. Default: the calls
    /// since the previous evaluation (the first one is `unknown`).
    #[serde(default)]
    pub window: Option<ConfigDuration>,
}

/// A SELECT of the application, not of monitoring or the catalog.
fn is_user_select(query: &str) -> bool {
    let q = query.trim_start().to_ascii_lowercase();
    q.starts_with("select")
        && !["pg_stat_statements", "pg_catalog", "pg_stat_"]
            .iter()
            .any(|m| q.contains(m))
}

#[derive(Debug)]
struct NPlusOne {
    target: Arc<PgTarget>,
    params: Params,
    window: Window<BTreeMap<String, Statement>>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    Ok(Arc::new(NPlusOne {
        target: pg_target(input)?,
        window: Window::from_param(params.window, input.spec.timeout)?,
        params,
    }))
}

impl Check for NPlusOne {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl NPlusOne {
    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        ctx.trace(format!(
            "querying pg_stat_statements on {}",
            self.target.display_url
        ));
        require_pg_stat_statements(&pool).await?;
        require_grant(
            &pool,
            Grant::ReadAllStats,
            "other roles' statements would be hidden and the count would miss them",
        )
        .await?;
        let sampled = self.window.sample(|| statements(&pool)).await?;
        let (delta, over) = match sampled {
            Sampled::Delta { delta, over } => (delta, over),
            Sampled::NotYet(why) => return Ok(Outcome::insufficient_data(why)),
        };
        let span = self.window.describe(over);
        let total: i64 = delta.values().map(|s| s.calls).sum();
        if total < self.params.min_total_calls {
            return Ok(Outcome::insufficient_data(format!(
                "only {total} statement calls {span} (need {}) to judge N+1 patterns",
                self.params.min_total_calls
            ))
            .evidence("total_calls", total));
        }
        let mut found: Vec<(&String, &Statement)> = delta
            .iter()
            .filter(|(_, s)| {
                s.calls >= self.params.min_calls
                    && s.rows as f64 / s.calls as f64 <= self.params.max_rows_per_call
                    && is_user_select(&s.query)
            })
            .collect();
        found.sort_by_key(|(_, s)| std::cmp::Reverse(s.calls));
        let mut suspects = Vec::new();
        let mut evidence = Vec::new();
        for (id, s) in found.into_iter().take(10) {
            let query = mask_literals(&s.query);
            let per_call = s.rows as f64 / s.calls as f64;
            suspects.push(format!(
                "{query:?} called {} times, {per_call:.1} rows per call",
                s.calls
            ));
            evidence.push(json!({"queryid": id, "query": query, "calls": s.calls, "rows_per_call": per_call, "mean_ms": s.total_ms / s.calls as f64}));
        }
        let outcome = if suspects.is_empty() {
            Outcome::pass(format!(
                "no SELECT called >= {} times for <= {} rows per call ({total} calls {span})",
                self.params.min_calls, self.params.max_rows_per_call
            ))
        } else {
            Outcome::warn(format!("suspected N+1 {span}: {}", suspects.join("; ")))
        };
        Ok(outcome
            .observed(suspects.len() as f64)
            .threshold(0.0)
            .evidence("total_calls", total)
            .evidence("suspects", evidence))
    }
}
