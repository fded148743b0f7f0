//! Kind `mysql_slow_queries`: statement digests whose mean time is over a threshold.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::config::{format_duration, ConfigDuration};
use crate::targets::{describe_sql_error, MySqlTarget};

use super::{mysql_target, pairs, show, text, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.slow_queries"),
    unit: "count",
    summary: "statement digests whose mean time is over a threshold",
    target: NEED,
    doc: r#"MariaDB and MySQL.
- **Needs:** `SELECT` on `performance_schema`; `performance_schema=ON` with the `statements_digest` consumer enabled.
- **Reads:** `performance_schema.setup_consumers`, `performance_schema.events_statements_summary_by_digest` (`COUNT_STAR`, `AVG_TIMER_WAIT`).
- **Passes** when digests with at least `min_calls` calls exist and none is over the limit.
- **Fails** listing digests (literals masked).
- **Unknown** while no digest has `min_calls` calls (fresh restart, truncated digests, no traffic): nothing to judge.
- **Errors** when `performance_schema` is OFF or cannot be read, or the digest consumer is off (with how to enable it)."#,
    ..KindInfo::new(
        "mysql_slow_queries",
        Category::Performance,
        build_slow_queries,
        <SlowQueriesParams as schemars::JsonSchema>::json_schema,
    )
};

const fn default_mean() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_millis(100))
}
const fn default_min_calls() -> u64 {
    10
}

/// Params of the `mysql_slow_queries` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowQueriesParams {
    /// A digest whose mean time reaches this is slow. Default 100ms.
    #[serde(default = "default_mean")]
    pub max_mean_time: ConfigDuration,
    /// Only digests executed at least this often. Default 10.
    #[serde(default = "default_min_calls")]
    pub min_calls: u64,
}

#[derive(Debug)]
struct SlowQueries {
    target: Arc<MySqlTarget>,
    params: SlowQueriesParams,
}

fn build_slow_queries(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: SlowQueriesParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(SlowQueries {
        target: mysql_target(input)?,
        params,
    }))
}

const DIGEST_SQL: &str = "
SELECT DIGEST_TEXT AS query, COUNT_STAR AS calls, AVG_TIMER_WAIT AS avg_ps
FROM performance_schema.events_statements_summary_by_digest
WHERE COUNT_STAR >= ? AND AVG_TIMER_WAIT >= ?
  AND (DIGEST_TEXT IS NULL OR DIGEST_TEXT NOT LIKE '%performance_schema%')
ORDER BY AVG_TIMER_WAIT DESC LIMIT 10";

const CONSUMER_SQL: &str =
    "SELECT ENABLED AS enabled FROM performance_schema.setup_consumers WHERE NAME = 'statements_digest'";

/// Digests with enough calls to be judged.
const RECORDED_SQL: &str = "
SELECT COUNT(*) AS n FROM performance_schema.events_statements_summary_by_digest
WHERE COUNT_STAR >= ? AND (DIGEST_TEXT IS NULL OR DIGEST_TEXT NOT LIKE '%performance_schema%')";

impl Check for SlowQueries {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
                ctx.trace(format!("reading performance_schema on {}", self.target.display_url));
                let enabled = show(&pool, "SHOW GLOBAL VARIABLES LIKE 'performance_schema'").await?;
                let on = pairs(&enabled).iter().any(|(_, v)| v.eq_ignore_ascii_case("ON"));
                if !on {
                    return Err(Outcome::error(
                        "performance_schema is OFF: set performance_schema=ON in the server config and restart to record statement digests",
                    ));
                }
                let consumer = sqlx::raw_sql(CONSUMER_SQL).fetch_all(&pool).await.map_err(|e| {
                    Outcome::error(format!(
                        "performance_schema cannot be read: {} (GRANT SELECT ON performance_schema.* TO the monitoring user)",
                        describe_sql_error(&e)
                    ))
                })?;
                let digests_on = consumer.first().and_then(|r| text(r, "enabled")).is_some_and(|v| v.eq_ignore_ascii_case("YES"));
                if !digests_on {
                    return Err(Outcome::error(
                        "the statements_digest consumer is off, so no statement is recorded: set performance-schema-consumer-statements-digest=ON (or UPDATE performance_schema.setup_consumers SET ENABLED='YES' WHERE NAME='statements_digest')",
                    ));
                }
                let recorded = sqlx::query(RECORDED_SQL)
                    .bind(self.params.min_calls)
                    .fetch_all(&pool)
                    .await
                    .map_err(|e| Outcome::error(format!("reading statement digests failed: {}", describe_sql_error(&e))))?;
                let judged: i64 = recorded.first().and_then(|r| text(r, "n")).and_then(|v| v.parse().ok()).unwrap_or(0);
                if judged == 0 {
                    return Ok(Outcome::insufficient_data(format!(
                        "no statement digest with at least {} calls recorded yet (fresh restart, truncated digests or no traffic): nothing to judge",
                        self.params.min_calls
                    )));
                }
                let threshold_ps = (self.params.max_mean_time.0.as_secs_f64() * 1e12) as u64;
                let found = sqlx::query(DIGEST_SQL)
                    .bind(self.params.min_calls)
                    .bind(threshold_ps)
                    .fetch_all(&pool)
                    .await
                    .map_err(|e| Outcome::error(format!("reading statement digests failed: {}", describe_sql_error(&e))))?;
                let mut slow = Vec::new();
                let mut evidence = Vec::new();
                for r in &found {
                    let query = crate::redact::mask_sql(&text(r, "query").unwrap_or_default(), crate::redact::SqlDialect::MySql);
                    let calls = text(r, "calls").unwrap_or_default();
                    let mean_ms = text(r, "avg_ps").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1e9;
                    slow.push(format!("{query:?} mean {mean_ms:.0}ms over {calls} calls"));
                    evidence.push(json!({"query": query, "calls": calls, "mean_ms": mean_ms}));
                }
                let outcome = if slow.is_empty() {
                    Outcome::pass(format!(
                        "no statement digest of {judged} with mean time >= {} (calls >= {})",
                        format_duration(self.params.max_mean_time.0),
                        self.params.min_calls
                    ))
                } else {
                    Outcome::fail(format!("{} slow statement(s): {}", slow.len(), slow.join("; ")))
                };
                Ok(outcome.observed(slow.len() as f64).threshold(0.0).evidence("slow_statements", evidence))
            }
            .await)
        })
    }
}
