//! PostgreSQL kinds. Each reads statistics views through the target's shared
//! read-only pool (statement timeout on every session) and never writes.

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str = r#"Each `postgres`/`mysql` target has **one small pool** shared by all its checks
(`pool_size`, default 2 connections; made on first use, idle connections
closed after 5 minutes). Every session is read-only
(`default_transaction_read_only = on`; `SET SESSION TRANSACTION READ ONLY` on
MySQL) with a server-side statement timeout (`statement_timeout` on the
target, default 5s: PostgreSQL `statement_timeout`, MariaDB
`max_statement_time`, MySQL `max_execution_time`). Each `redis` target has one
connection manager (5s connect and response timeouts). A server that is down,
a wrong password, a missing extension or a missing privilege is `error` with
the server's own reason (e.g. `password authentication failed for user "app"`,
`permission denied for table ...`); when the pool cannot hand out a
connection, one direct connection attempt says why. Passwords come from the URL,
`password` or `password_file`, and never appear in output.

```yaml
targets:
  db:    { postgres: { url: "postgres://monitor@db:5432/app", password_file: /run/secrets/pg, pool_size: 2, statement_timeout: 5s } }
  mysql: { mysql: { url: "mysql://monitor@mysql:3306/app", password_file: /run/secrets/mysql } }
  cache: { redis: { url: "redis://cache:6379", password_file: /run/secrets/redis } }
```

**PostgreSQL privileges.** Every kind needs `CONNECT` on the database. A
role with `pg_monitor` covers every kind; the minimal grants are listed per
kind under **Needs**. PostgreSQL hides other roles' sessions, statements and
replication state from a role without `pg_read_all_stats` instead of refusing,
so the kinds that judge them check the grant on every run and are `error`
without it, naming the grant and the fix (`role "mon" lacks pg_read_all_stats,
so ...: GRANT pg_monitor TO "mon"`), never a verdict from the rows they could
see. `pg_stat_statements` must be in `shared_preload_libraries` and created
with `CREATE EXTENSION pg_stat_statements` in the monitored database."#;

pub mod cache_hit_ratio;
pub mod connections;
pub mod indexes;
pub mod n_plus_one;
pub mod pending_migrations;
pub mod replication;
pub mod slow_queries;
pub mod wal_archiving;

use std::sync::Arc;

use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use crate::checks::{BuildInput, Outcome, ParamError};
use crate::targets::{describe_sql_error, PgTarget};

/// The check's PostgreSQL target.
pub fn pg_target(input: &BuildInput<'_>) -> Result<Arc<PgTarget>, ParamError> {
    input
        .target
        .and_then(|t| t.as_postgres())
        .cloned()
        .ok_or_else(|| ParamError::new("target", "needs a postgres target"))
}

/// Runs a query, turning any failure into an `error` outcome that says what
/// was being read.
pub async fn rows(
    pool: &PgPool,
    what: &str,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<PgRow>, Outcome> {
    query
        .fetch_all(pool)
        .await
        .map_err(|e| Outcome::error(format!("reading {what} failed: {}", describe_sql_error(&e))))
}

/// One column of a row, or an `error` outcome naming it.
pub fn col<'r, T>(row: &'r PgRow, name: &str) -> Result<T, Outcome>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get::<T, _>(name)
        .map_err(|e| Outcome::error(format!("unexpected result in column {name}: {e}")))
}

/// A predefined role a kind needs to see what it judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Other roles' sessions, statements and replication state.
    ReadAllStats,
    /// Superuser-only settings such as `archive_command`.
    ReadAllSettings,
}

impl Grant {
    fn role(self) -> &'static str {
        match self {
            Grant::ReadAllStats => "pg_read_all_stats",
            Grant::ReadAllSettings => "pg_read_all_settings",
        }
    }
}

/// Fails with `error` unless the connected role is a superuser or a member
/// of `grant`'s role; `why` says what would be invisible without it. Without
/// this, PostgreSQL silently hides other roles' rows and columns, and a
/// verdict would be computed from partial data.
pub async fn require_grant(pool: &PgPool, grant: Grant, why: &str) -> Result<(), Outcome> {
    let r = rows(
        pool,
        "the monitoring role's privileges",
        sqlx::query(
            "SELECT current_user::text AS me,
                    coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS su,
                    pg_has_role(current_user, $1, 'USAGE') AS has",
        )
        .bind(grant.role()),
    )
    .await?;
    let Some(r) = r.first() else {
        return Err(Outcome::error(
            "reading the role's privileges returned no row",
        ));
    };
    let me: String = col(r, "me")?;
    let superuser: bool = col(r, "su")?;
    let has: bool = col(r, "has")?;
    if superuser || has {
        return Ok(());
    }
    Err(Outcome::error(format!(
        "role {me:?} lacks {}, so {why}: GRANT pg_monitor TO \"{me}\"",
        grant.role()
    ))
    .evidence("role", me)
    .evidence("missing_grant", grant.role()))
}

/// Fails with `error` unless pg_stat_statements is installed and loaded.
pub async fn require_pg_stat_statements(pool: &PgPool) -> Result<(), Outcome> {
    let found = rows(
        pool,
        "pg_extension",
        sqlx::query(
            "SELECT count(*)::bigint AS n FROM pg_extension WHERE extname = 'pg_stat_statements'",
        ),
    )
    .await?;
    let n: i64 = found.first().map_or(Ok(0), |r| col(r, "n"))?;
    if n == 0 {
        return Err(Outcome::error(
            "pg_stat_statements is not installed in this database: add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, restart, then run CREATE EXTENSION pg_stat_statements",
        ));
    }
    sqlx::query("SELECT 1 FROM pg_stat_statements LIMIT 1")
        .fetch_all(pool)
        .await
        .map_err(|e| {
            Outcome::error(format!(
                "pg_stat_statements cannot be read: {} (is it in shared_preload_libraries, and does the role have pg_read_all_stats?)",
                describe_sql_error(&e)
            ))
        })?;
    Ok(())
}

/// One statement's cumulative counters in pg_stat_statements.
#[derive(Debug, Clone)]
pub struct Statement {
    pub query: String,
    pub calls: i64,
    pub total_ms: f64,
    pub rows: i64,
}

impl crate::checks::window::Counters for Statement {
    fn since(&self, earlier: &Self) -> Option<Self> {
        (self.calls >= earlier.calls).then(|| Statement {
            query: self.query.clone(),
            calls: self.calls - earlier.calls,
            total_ms: (self.total_ms - earlier.total_ms).max(0.0),
            rows: (self.rows - earlier.rows).max(0),
        })
    }
}

/// Every statement of the current database, by queryid.
pub async fn statements(
    pool: &PgPool,
) -> Result<std::collections::BTreeMap<String, Statement>, Outcome> {
    let found = rows(
        pool,
        "pg_stat_statements",
        sqlx::query(
            "SELECT queryid::text AS id, query, calls::bigint AS calls,
                    total_exec_time::float8 AS total_ms, rows::bigint AS rows
             FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND queryid IS NOT NULL",
        ),
    )
    .await?;
    let mut out = std::collections::BTreeMap::new();
    for r in &found {
        out.insert(
            col::<String>(r, "id")?,
            Statement {
                query: col(r, "query")?,
                calls: col(r, "calls")?,
                total_ms: col(r, "total_ms")?,
                rows: col(r, "rows")?,
            },
        );
    }
    Ok(out)
}

/// Seconds since the statistics were last reset (or the server started).
pub async fn stats_age_seconds(pool: &PgPool) -> Result<f64, Outcome> {
    let r = rows(
        pool,
        "statistics age",
        sqlx::query(
            "SELECT extract(epoch FROM now() - coalesce(
                (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
                pg_postmaster_start_time()))::float8 AS age",
        ),
    )
    .await?;
    r.first().map_or(Ok(0.0), |row| col(row, "age"))
}

/// A PostgreSQL statement's text with its literals and comments masked.
pub fn mask_literals(sql: &str) -> String {
    crate::redact::mask_sql(sql, crate::redact::SqlDialect::Postgres)
}
