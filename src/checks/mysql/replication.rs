//! Kind `mysql_replication`: replica IO and SQL threads running, seconds behind under the limit.

use std::sync::Arc;

use serde::Deserialize;
use sqlx::mysql::MySqlRow;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::config::{format_duration, ConfigDuration};
use crate::targets::MySqlTarget;

use super::{mysql_target, show, text, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.failover"),
    unit: "seconds",
    summary: "replica IO and SQL threads running, seconds behind under the limit",
    target: NEED,
    doc: r#"MariaDB and MySQL.
- **Needs:** `REPLICATION CLIENT` (MariaDB: `SLAVE MONITOR`); without it the server refuses and the check is `error` with its reason.
- **Reads:** `SHOW REPLICA STATUS` (falls back to `SHOW SLAVE STATUS`): IO/SQL threads, `Seconds_Behind_Source/Master`, last errors.
- **Passes** when both threads are `Yes` and lag is within `max_lag` (observed).
- **Fails** when a thread is not running (with its last error), lag is too high or NULL, or the server is not a replica."#,
    ..KindInfo::new(
        "mysql_replication",
        Category::Operations,
        build_replication,
        <ReplicationParams as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_lag() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(30))
}

/// Params of the `mysql_replication` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationParams {
    /// Largest acceptable Seconds_Behind_Master/Source. Default 30s.
    #[serde(default = "default_max_lag")]
    pub max_lag: ConfigDuration,
}

#[derive(Debug)]
struct Replication {
    target: Arc<MySqlTarget>,
    max_lag: std::time::Duration,
}

fn build_replication(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: ReplicationParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Replication {
        target: mysql_target(input)?,
        max_lag: p.max_lag.0,
    }))
}

fn either(row: &MySqlRow, new: &str, old: &str) -> Option<String> {
    text(row, new).or_else(|| text(row, old))
}

impl Check for Replication {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
                ctx.trace(format!("SHOW REPLICA STATUS on {}", self.target.display_url));
                let status = match sqlx::raw_sql("SHOW REPLICA STATUS").fetch_all(&pool).await {
                    Ok(rows) => rows,
                    Err(_) => show(&pool, "SHOW SLAVE STATUS").await?,
                };
                let Some(r) = status.first() else {
                    return Ok(Outcome::fail("the server is not configured as a replica (SHOW REPLICA STATUS is empty)"));
                };
                let io = either(r, "Replica_IO_Running", "Slave_IO_Running").unwrap_or_default();
                let sql = either(r, "Replica_SQL_Running", "Slave_SQL_Running").unwrap_or_default();
                let behind = either(r, "Seconds_Behind_Source", "Seconds_Behind_Master").and_then(|v| v.parse::<f64>().ok());
                let cut = |s: Option<String>| s.map(|e| e.chars().take(200).collect::<String>()).filter(|e| !e.is_empty());
                let io_error = cut(text(r, "Last_IO_Error"));
                let sql_error = cut(text(r, "Last_SQL_Error"));
                let mut problems = Vec::new();
                if !io.eq_ignore_ascii_case("Yes") {
                    problems.push(format!("IO thread is {io:?}{}", io_error.as_ref().map_or(String::new(), |e| format!(": {e}"))));
                }
                if !sql.eq_ignore_ascii_case("Yes") {
                    problems.push(format!("SQL thread is {sql:?}{}", sql_error.as_ref().map_or(String::new(), |e| format!(": {e}"))));
                }
                match behind {
                    Some(b) if b > self.max_lag.as_secs_f64() => {
                        problems.push(format!("{b:.0}s behind the source (limit {})", format_duration(self.max_lag)))
                    }
                    None if problems.is_empty() => problems.push("Seconds_Behind is NULL: replication is not running".to_owned()),
                    _ => {}
                }
                let outcome = if problems.is_empty() {
                    Outcome::pass(format!("replica IO and SQL threads running, {:.0}s behind", behind.unwrap_or(0.0)))
                } else {
                    Outcome::fail(problems.join("; "))
                };
                let outcome = match behind {
                    Some(b) => outcome.observed(b),
                    None => outcome,
                };
                Ok(outcome
                    .threshold(self.max_lag.as_secs_f64())
                    .evidence("io_running", io)
                    .evidence("sql_running", sql)
                    .evidence("last_io_error", io_error)
                    .evidence("last_sql_error", sql_error))
            }
            .await)
        })
    }
}
