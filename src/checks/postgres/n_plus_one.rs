//! Kind `postgres_n_plus_one`: suspects from pg_stat_statements, the same
//! normalized SELECT called very many times returning about one row per
//! call. Finding one is `warn` (a suspicion); too little data is `unknown`,
//! never `pass`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{
    col, mask_literals, pg_target, require_grant, require_pg_stat_statements, rows, Grant,
};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    name: "postgres_n_plus_one",
    category: Category::Performance,
    unit: "count",
    summary: "pg_stat_statements: the same SELECT called very often for about one row",
    source: crate::checks::EvidenceSource::Measured,
    target: TargetNeed::Required(&[TargetType::Postgres]),
    build,
    params: <Params as schemars::JsonSchema>::json_schema,
    doc: r#"- **Needs:** `pg_read_all_stats` (in `pg_monitor`): other roles' statements; the `pg_stat_statements` extension.
- **Reads:** `pg_stat_statements`: SELECTs with `calls >= min_calls` and `rows / calls <= max_rows_per_call` (catalog queries excluded).
- **Warns** ("suspected N+1") when one is found: it is a heuristic, never a certainty. **Passes** when none is found among at least `min_total_calls` recorded calls. **Unknown** below that, never `pass` on missing data. **Errors** without pg_stat_statements."#,
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
}

#[derive(Debug)]
struct NPlusOne {
    target: Arc<PgTarget>,
    params: Params,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    Ok(Arc::new(NPlusOne {
        target: pg_target(input)?,
        params,
    }))
}

const TOTAL_SQL: &str = "
SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";

const SUSPECTS_SQL: &str = "
SELECT queryid::text AS id, query, calls::bigint AS calls, (rows::float8 / calls) AS rows_per_call,
       mean_exec_time::float8 AS mean_ms
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND calls >= $1 AND rows::float8 / calls <= $2
  AND query ~* '^\\s*select' AND query !~* 'pg_stat_statements|pg_catalog|pg_stat_'
ORDER BY calls DESC LIMIT 10";

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
        let total: i64 = rows(&pool, "pg_stat_statements", sqlx::query(TOTAL_SQL))
            .await?
            .first()
            .map_or(Ok(0), |r| col(r, "calls"))?;
        if total < self.params.min_total_calls {
            return Ok(Outcome::unknown(format!(
                "only {total} statement calls recorded (need {}) to judge N+1 patterns",
                self.params.min_total_calls
            ))
            .evidence("total_calls", total));
        }
        let mut suspects = Vec::new();
        let mut evidence = Vec::new();
        for r in rows(
            &pool,
            "pg_stat_statements",
            sqlx::query(SUSPECTS_SQL)
                .bind(self.params.min_calls)
                .bind(self.params.max_rows_per_call),
        )
        .await?
        {
            let query = mask_literals(&col::<String>(&r, "query")?);
            let calls: i64 = col(&r, "calls")?;
            let per_call: f64 = col(&r, "rows_per_call")?;
            suspects.push(format!(
                "{query:?} called {calls} times, {per_call:.1} rows per call"
            ));
            evidence.push(json!({"queryid": col::<String>(&r, "id")?, "query": query, "calls": calls, "rows_per_call": per_call, "mean_ms": col::<f64>(&r, "mean_ms")?}));
        }
        let outcome = if suspects.is_empty() {
            Outcome::pass(format!(
                "no SELECT called >= {} times for <= {} rows per call ({total} calls recorded)",
                self.params.min_calls, self.params.max_rows_per_call
            ))
        } else {
            Outcome::warn(format!("suspected N+1: {}", suspects.join("; ")))
        };
        Ok(outcome
            .observed(suspects.len() as f64)
            .threshold(0.0)
            .evidence("total_calls", total)
            .evidence("suspects", evidence))
    }
}
