//! MySQL/MariaDB kinds: `mysql_connections`, `mysql_indexes`,
//! `mysql_slow_queries` (performance_schema digests) and `mysql_replication`.
//! They read status and catalog tables through the target's shared
//! read-only pool and never write.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::{Column, Row};

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::{describe_sql_error, MySqlTarget};

const NEED: TargetNeed = TargetNeed::Required(&[TargetType::Mysql]);

pub const CONNECTIONS: KindInfo = KindInfo {
    name: "mysql_connections",
    category: Category::Performance,
    unit: "ratio",
    summary: "Threads_connected vs max_connections",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_connections,
};

pub const INDEXES: KindInfo = KindInfo {
    name: "mysql_indexes",
    category: Category::Performance,
    unit: "count",
    summary: "tables without a primary key; unused indexes (performance_schema/sys)",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_indexes,
};

pub const SLOW_QUERIES: KindInfo = KindInfo {
    name: "mysql_slow_queries",
    category: Category::Performance,
    unit: "count",
    summary: "statement digests whose mean time is over a threshold",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_slow_queries,
};

pub const REPLICATION: KindInfo = KindInfo {
    name: "mysql_replication",
    category: Category::Operations,
    unit: "seconds",
    summary: "replica IO and SQL threads running, seconds behind under the limit",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_replication,
};

fn mysql_target(input: &BuildInput<'_>) -> Result<Arc<MySqlTarget>, ParamError> {
    input
        .target
        .and_then(|t| t.as_mysql())
        .cloned()
        .ok_or_else(|| ("target".to_owned(), "needs a mysql target".to_owned()))
}

/// Text-protocol statements (SHOW ...) and their rows, or an `error` outcome.
async fn show(pool: &MySqlPool, sql: &'static str) -> Result<Vec<MySqlRow>, Outcome> {
    sqlx::raw_sql(sql)
        .fetch_all(pool)
        .await
        .map_err(|e| Outcome::error(format!("{sql} failed: {}", describe_sql_error(&e))))
}

/// A column as text, whatever its SQL type (`None` for NULL or absent).
fn text(row: &MySqlRow, name: &str) -> Option<String> {
    let idx = row
        .columns()
        .iter()
        .position(|c| c.name().eq_ignore_ascii_case(name))?;
    row.try_get::<Option<String>, _>(idx)
        .ok()
        .flatten()
        .or_else(|| {
            row.try_get::<Option<Vec<u8>>, _>(idx)
                .ok()
                .flatten()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        })
        .or_else(|| {
            row.try_get::<Option<i64>, _>(idx)
                .ok()
                .flatten()
                .map(|v| v.to_string())
        })
        .or_else(|| {
            row.try_get::<Option<u64>, _>(idx)
                .ok()
                .flatten()
                .map(|v| v.to_string())
        })
}

/// `SHOW GLOBAL STATUS/VARIABLES` rows as (name, value).
fn pairs(rows: &[MySqlRow]) -> Vec<(String, String)> {
    rows.iter()
        .filter_map(|r| {
            Some((
                text(r, "Variable_name")?,
                text(r, "Value").unwrap_or_default(),
            ))
        })
        .collect()
}

fn value_of(pairs: &[(String, String)], name: &str) -> Option<f64> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.parse().ok())
}

// === mysql_connections ===

const fn default_max_ratio() -> f64 {
    0.8
}

/// Params of the `mysql_connections` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsParams {
    /// Fail when Threads_connected / max_connections reaches this. Default 0.8.
    #[serde(default = "default_max_ratio")]
    pub max_ratio: f64,
}

#[derive(Debug)]
struct Connections {
    target: Arc<MySqlTarget>,
    max_ratio: f64,
}

fn build_connections(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: ConnectionsParams = parse_params(&input.spec.params)?;
    crate::checks::require_ratio("max_ratio", p.max_ratio)?;
    Ok(Arc::new(Connections {
        target: mysql_target(input)?,
        max_ratio: p.max_ratio,
    }))
}

impl Check for Connections {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
                ctx.trace(format!("SHOW GLOBAL STATUS on {}", self.target.display_url));
                let status = pairs(&show(&pool, "SHOW GLOBAL STATUS LIKE '%connect%'").await?);
                let vars = pairs(&show(&pool, "SHOW GLOBAL VARIABLES LIKE 'max_connections'").await?);
                let (Some(used), Some(max)) = (value_of(&status, "Threads_connected"), value_of(&vars, "max_connections")) else {
                    return Err(Outcome::error("Threads_connected or max_connections is missing from the server's answer"));
                };
                let peak = value_of(&status, "Max_used_connections").unwrap_or(used);
                let ratio = used / max.max(1.0);
                let outcome = if ratio >= self.max_ratio {
                    Outcome::fail(format!(
                        "{used} of {max} connections in use ({:.0}%, limit {:.0}%)",
                        ratio * 100.0,
                        self.max_ratio * 100.0
                    ))
                } else {
                    Outcome::pass(format!("{used} of {max} connections in use ({:.0}%); peak {peak}", ratio * 100.0))
                };
                Ok(outcome
                    .observed(ratio)
                    .threshold(self.max_ratio)
                    .evidence("threads_connected", used)
                    .evidence("max_connections", max)
                    .evidence("max_used_connections", peak))
            }
            .await)
        })
    }
}

// === mysql_indexes ===

const fn default_true() -> bool {
    true
}

/// Params of the `mysql_indexes` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexesParams {
    /// Report unused indexes from sys.schema_unused_indexes (as `warn`). Default true.
    #[serde(default = "default_true")]
    pub unused: bool,
}

#[derive(Debug)]
struct Indexes {
    target: Arc<MySqlTarget>,
    unused: bool,
}

fn build_indexes(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: IndexesParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Indexes {
        target: mysql_target(input)?,
        unused: p.unused,
    }))
}

// information_schema.STATISTICS rather than TABLE_CONSTRAINTS: MariaDB shows
// constraints only to users with more than SELECT, statistics to SELECT.
const NO_PK_SQL: &str = "
SELECT CONCAT(t.table_schema, '.', t.table_name) AS name
FROM information_schema.tables t
WHERE t.table_type = 'BASE TABLE'
  AND t.table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
  AND NOT EXISTS (
    SELECT 1 FROM information_schema.statistics s
    WHERE s.table_schema = t.table_schema AND s.table_name = t.table_name AND s.index_name = 'PRIMARY')
ORDER BY 1 LIMIT 50";

const UNUSED_SQL: &str = "
SELECT CONCAT(object_schema, '.', object_name, '.', index_name) AS name
FROM sys.schema_unused_indexes ORDER BY 1 LIMIT 50";

impl Check for Indexes {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
                    ctx.trace(format!(
                        "reading information_schema on {}",
                        self.target.display_url
                    ));
                    let no_pk: Vec<String> = show(&pool, NO_PK_SQL)
                        .await?
                        .iter()
                        .filter_map(|r| text(r, "name"))
                        .collect();
                    let (unused, unused_note) = if self.unused {
                        match sqlx::raw_sql(UNUSED_SQL).fetch_all(&pool).await {
                            Ok(rows) => (
                                rows.iter()
                                    .filter_map(|r| text(r, "name"))
                                    .collect::<Vec<_>>(),
                                None,
                            ),
                            Err(e) => (
                                Vec::new(),
                                Some(format!(
                                    "unused indexes not checked: {}",
                                    describe_sql_error(&e)
                                )),
                            ),
                        }
                    } else {
                        (Vec::new(), None)
                    };
                    let (state, message) = if !no_pk.is_empty() {
                        (
                            State::Fail,
                            format!(
                                "{} table(s) without a primary key: {}",
                                no_pk.len(),
                                no_pk.join(", ")
                            ),
                        )
                    } else if !unused.is_empty() {
                        (
                            State::Warn,
                            format!("unused index(es): {}", unused.join(", ")),
                        )
                    } else {
                        (
                            State::Pass,
                            format!(
                                "every table has a primary key{}",
                                unused_note
                                    .as_ref()
                                    .map_or(", no unused index".to_owned(), |n| format!("; {n}"))
                            ),
                        )
                    };
                    Ok(Outcome::new(state, message)
                        .observed(no_pk.len() as f64)
                        .threshold(0.0)
                        .evidence("tables_without_primary_key", no_pk)
                        .evidence("unused_indexes", unused)
                        .evidence("note", unused_note))
                }
                .await,
            )
        })
    }
}

// === mysql_slow_queries ===

const fn default_mean() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_millis(100))
}
const fn default_min_calls() -> u64 {
    10
}

/// Params of the `mysql_slow_queries` kind.
#[derive(Debug, Deserialize)]
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
                    let query = crate::checks::postgres::mask_literals(&text(r, "query").unwrap_or_default());
                    let calls = text(r, "calls").unwrap_or_default();
                    let mean_ms = text(r, "avg_ps").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1e9;
                    slow.push(format!("{query:?} mean {mean_ms:.0}ms over {calls} calls"));
                    evidence.push(json!({"query": query, "calls": calls, "mean_ms": mean_ms}));
                }
                let outcome = if slow.is_empty() {
                    Outcome::pass(format!(
                        "no statement digest with mean time >= {} (calls >= {})",
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

// === mysql_replication ===

const fn default_max_lag() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(30))
}

/// Params of the `mysql_replication` kind.
#[derive(Debug, Deserialize)]
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
