//! Kind `postgres_slow_queries`: statements whose mean time in
//! pg_stat_statements is over a threshold (with enough calls), and
//! statements running longer than a limit right now (pg_stat_activity).
//! Without pg_stat_statements the check is `error` saying how to enable it.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{
    col, mask_literals, pg_target, require_grant, require_pg_stat_statements, rows, statements,
    Grant, Statement,
};
use std::collections::BTreeMap;

use crate::checks::window::{Sampled, Window};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.slow_queries"),
    unit: "count",
    summary: "pg_stat_statements mean time over a threshold; long-running statements",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `pg_read_all_stats` (in `pg_monitor`): other roles' statements and running queries; the `pg_stat_statements` extension.
- **Reads:** the change of each statement's `calls` and `total_exec_time` in `pg_stat_statements` (current database) since the previous evaluation, or over `window` within one run; the mean over that window is judged, so a regression shows at once and a fixed query stops failing without a statistics reset. Also `pg_stat_activity` (`state = 'active'`, client backends, running longer than `max_running_time`). Query texts are shown with string literals masked.
- **Passes** when statements with at least `min_calls` calls in the window exist and none has a mean of `max_mean_time` or more, and nothing runs too long.
- **Fails** listing the slow statements or the long-running ones (those fail even on the first evaluation).
- **Unknown** on the first evaluation (no window yet), after a statistics reset, or when no statement had `min_calls` calls in the window.
- **Errors** when pg_stat_statements is not installed or not loaded (the message says how to enable it), or without the grant."#,
    ..KindInfo::new(
        "postgres_slow_queries",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_mean() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_millis(100))
}
const fn default_min_calls() -> i64 {
    10
}
const fn default_long_running() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(60))
}

/// Params of the `postgres_slow_queries` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A statement whose mean execution time reaches this is slow. Default 100ms.
    #[serde(default = "default_mean")]
    pub max_mean_time: ConfigDuration,
    /// Only statements called at least this often. Default 10.
    #[serde(default = "default_min_calls")]
    pub min_calls: i64,
    /// A statement active for longer than this right now fails. Default 60s.
    #[serde(default = "default_long_running")]
    pub max_running_time: ConfigDuration,
    /// Judge the statements run during this long within one evaluation (for
    /// one-shot `check` runs); at most half the timeout. Default: the calls
    /// since the previous evaluation (the first one is `unknown` unless a
    /// statement is running too long).
    #[serde(default)]
    pub window: Option<ConfigDuration>,
}

#[derive(Debug)]
struct SlowQueries {
    target: Arc<PgTarget>,
    params: Params,
    window: Window<BTreeMap<String, Statement>>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    Ok(Arc::new(SlowQueries {
        target: pg_target(input)?,
        window: Window::from_param(params.window, input.spec.timeout)?,
        params,
    }))
}

const RUNNING_SQL: &str = "
SELECT pid::bigint AS pid, extract(epoch FROM now() - query_start)::float8 AS seconds,
       coalesce(query, '') AS query
FROM pg_stat_activity
WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND now() - query_start > make_interval(secs => $1)
ORDER BY query_start LIMIT 10";

impl Check for SlowQueries {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl SlowQueries {
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
            "other roles' statements and running queries would be hidden",
        )
        .await?;
        let mean_ms = self.params.max_mean_time.0.as_secs_f64() * 1000.0;
        let sampled = self.window.sample(|| statements(&pool)).await?;
        let mut slow = Vec::new();
        let mut evidence = Vec::new();
        let (judged, span) = match &sampled {
            Sampled::Delta { delta, over } => {
                let mut busy: Vec<(&String, &Statement)> = delta
                    .iter()
                    .filter(|(_, s)| s.calls >= self.params.min_calls)
                    .collect();
                busy.sort_by(|a, b| {
                    let mean = |s: &Statement| s.total_ms / s.calls as f64;
                    mean(b.1).total_cmp(&mean(a.1))
                });
                for (id, s) in &busy {
                    let mean = s.total_ms / s.calls as f64;
                    if mean >= mean_ms && slow.len() < 10 {
                        let query = mask_literals(&s.query);
                        slow.push(format!("{query:?} mean {mean:.0}ms over {} calls", s.calls));
                        evidence.push(json!({"queryid": id, "query": query, "calls": s.calls, "mean_ms": mean, "total_ms": s.total_ms}));
                    }
                }
                (Some(busy.len()), self.window.describe(*over))
            }
            Sampled::NotYet(why) => (None, why.clone()),
        };
        let mut running = Vec::new();
        for r in rows(
            &pool,
            "pg_stat_activity",
            sqlx::query(RUNNING_SQL).bind(self.params.max_running_time.0.as_secs_f64()),
        )
        .await?
        {
            let seconds: f64 = col(&r, "seconds")?;
            running.push(json!({
                "pid": col::<i64>(&r, "pid")?,
                "seconds": seconds.round(),
                "query": mask_literals(&col::<String>(&r, "query")?),
            }));
        }
        let mut problems = Vec::new();
        if !slow.is_empty() {
            problems.push(format!(
                "{} statement(s) with mean time >= {}: {}",
                slow.len(),
                format_duration(self.params.max_mean_time.0),
                slow.join("; ")
            ));
        }
        if !running.is_empty() {
            problems.push(format!(
                "{} statement(s) running longer than {}",
                running.len(),
                format_duration(self.params.max_running_time.0)
            ));
        }
        let outcome = if !problems.is_empty() {
            Outcome::fail(problems.join("; "))
        } else {
            match judged {
                None => Outcome::insufficient_data(format!(
                    "none running longer than {}; statement means: {span}",
                    format_duration(self.params.max_running_time.0)
                )),
                Some(0) => Outcome::insufficient_data(format!(
                    "no statement called >= {} times {span}: nothing to judge; none running longer than {}",
                    self.params.min_calls,
                    format_duration(self.params.max_running_time.0)
                )),
                Some(n) => Outcome::pass(format!(
                    "no statement of {n} with mean time >= {} (calls >= {}) {span}, and none running longer than {}",
                    format_duration(self.params.max_mean_time.0),
                    self.params.min_calls,
                    format_duration(self.params.max_running_time.0)
                )),
            }
        };
        Ok(outcome
            .observed((slow.len() + running.len()) as f64)
            .threshold(0.0)
            .evidence("slow_statements", evidence)
            .evidence("long_running", running))
    }
}
