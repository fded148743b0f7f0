//! MySQL/MariaDB kinds: `mysql_connections`, `mysql_indexes`,
//! `mysql_slow_queries` (performance_schema digests) and `mysql_replication`.
//! They read status and catalog tables through the target's shared
//! read-only pool and never write.

pub mod connections;
pub mod indexes;
pub mod replication;
pub mod slow_queries;

use std::sync::Arc;

use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::{Column, Row};

use crate::checks::{BuildInput, Outcome, ParamError, TargetNeed};
use crate::config::TargetType;
use crate::targets::{describe_sql_error, MySqlTarget};

pub(super) const NEED: TargetNeed = TargetNeed::Required(&[TargetType::Mysql]);

pub(super) fn mysql_target(input: &BuildInput<'_>) -> Result<Arc<MySqlTarget>, ParamError> {
    input
        .target
        .and_then(|t| t.as_mysql())
        .cloned()
        .ok_or_else(|| ParamError::new("target", "needs a mysql target"))
}

/// Text-protocol statements (SHOW ...) and their rows, or an `error` outcome.
pub(super) async fn show(pool: &MySqlPool, sql: &'static str) -> Result<Vec<MySqlRow>, Outcome> {
    sqlx::raw_sql(sql)
        .fetch_all(pool)
        .await
        .map_err(|e| Outcome::error(format!("{sql} failed: {}", describe_sql_error(&e))))
}

/// A column as text, whatever its SQL type (`None` for NULL or absent).
pub(super) fn text(row: &MySqlRow, name: &str) -> Option<String> {
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
pub(super) fn pairs(rows: &[MySqlRow]) -> Vec<(String, String)> {
    rows.iter()
        .filter_map(|r| {
            Some((
                text(r, "Variable_name")?,
                text(r, "Value").unwrap_or_default(),
            ))
        })
        .collect()
}

pub(super) fn value_of(pairs: &[(String, String)], name: &str) -> Option<f64> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.parse().ok())
}
