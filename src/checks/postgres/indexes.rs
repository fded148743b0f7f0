//! Kind `postgres_indexes`: missing indexes (PgHero's rule: large tables
//! read mostly by sequential scans), invalid indexes, foreign keys without a
//! supporting index, duplicate (column-prefix) indexes and unused indexes.
//! Statistics younger than `min_stats_age` make it `unknown`, never `pass`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{col, pg_target, rows, stats_age_seconds};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.database_indexes"),
    unit: "count",
    summary: "missing, invalid, duplicate and unused indexes; foreign keys without an index",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `CONNECT` only: the statistics and catalog views it reads are visible to every role.
- **Reads:** statistics age `now() - coalesce(pg_stat_database.stats_reset, pg_postmaster_start_time())`; **missing**: `pg_stat_user_tables` rows with `n_live_tup >= min_rows`, `seq_scan > 0` and `100 * idx_scan / (seq_scan + idx_scan) < min_index_use_percent`; **invalid**: `pg_index.indisvalid = false`; **foreign keys without index**: `pg_constraint` (`contype = 'f'`) with no valid index whose leading columns are exactly the key's columns; **duplicates**: a non-unique btree index whose columns are a prefix of another index's on the same table (no predicates or expressions); **unused**: `pg_stat_user_indexes.idx_scan = 0`, not unique, not primary.
- **Passes** when nothing is found and the statistics are old enough. Observed value: missing + invalid + unindexed foreign keys.
- **Fails** on a missing index, an invalid index or an unindexed foreign key (listing each). **Warns** on duplicate or unused indexes only. **Unknown** when the statistics are younger than `min_stats_age` (and nothing fails)."#,
    ..KindInfo::new(
        "postgres_indexes",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_rows() -> i64 {
    10_000
}
const fn default_max_index_use() -> f64 {
    95.0
}
const fn default_min_stats_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(3_600))
}
const fn default_true() -> bool {
    true
}

/// Params of the `postgres_indexes` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Tables with fewer live rows are never "missing an index". Default 10000.
    #[serde(default = "default_min_rows")]
    pub min_rows: i64,
    /// A large table whose reads use an index less often than this (percent)
    /// is missing one. Default 95 (PgHero's rule).
    #[serde(default = "default_max_index_use")]
    pub min_index_use_percent: f64,
    /// Statistics younger than this make the result `unknown`. Default 1h.
    #[serde(default = "default_min_stats_age")]
    pub min_stats_age: ConfigDuration,
    /// Report unused indexes (as `warn`). Default true.
    #[serde(default = "default_true")]
    pub unused: bool,
}

#[derive(Debug)]
struct PostgresIndexes {
    target: Arc<PgTarget>,
    params: Params,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if !(0.0..=100.0).contains(&params.min_index_use_percent) {
        return Err(ParamError::new(
            "params.min_index_use_percent",
            "must be between 0 and 100",
        ));
    }
    Ok(Arc::new(PostgresIndexes {
        target: pg_target(input)?,
        params,
    }))
}

const MISSING_SQL: &str = "
SELECT schemaname || '.' || relname AS name, seq_scan::bigint AS seq_scan,
       coalesce(idx_scan, 0)::bigint AS idx_scan, n_live_tup::bigint AS rows,
       (100.0 * coalesce(idx_scan, 0) / (seq_scan + coalesce(idx_scan, 0)))::float8 AS pct
FROM pg_stat_user_tables
WHERE n_live_tup >= $1 AND seq_scan > 0
  AND 100.0 * coalesce(idx_scan, 0) / (seq_scan + coalesce(idx_scan, 0)) < $2
ORDER BY n_live_tup DESC LIMIT 50";

const INVALID_SQL: &str = "
SELECT n.nspname || '.' || c.relname AS name
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid ORDER BY 1 LIMIT 50";

const FK_SQL: &str = "
SELECT n.nspname || '.' || cl.relname AS table_name, co.conname::text AS name
FROM pg_constraint co
JOIN pg_class cl ON cl.oid = co.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
WHERE co.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (
    SELECT 1 FROM pg_index i
    WHERE i.indrelid = co.conrelid AND i.indisvalid
      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(co.conkey, 1)] @> co.conkey
      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(co.conkey, 1)] <@ co.conkey)
ORDER BY 1, 2 LIMIT 50";

const DUPLICATE_SQL: &str = "
SELECT ns.nspname || '.' || ci.relname AS name, ns.nspname || '.' || cc.relname AS covered_by
FROM pg_index i
JOIN pg_index c ON c.indrelid = i.indrelid AND c.indexrelid <> i.indexrelid
JOIN pg_class ci ON ci.oid = i.indexrelid
JOIN pg_class cc ON cc.oid = c.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
WHERE NOT i.indisunique AND i.indisvalid AND c.indisvalid
  AND i.indpred IS NULL AND c.indpred IS NULL
  AND i.indexprs IS NULL AND c.indexprs IS NULL
  AND ci.relam = cc.relam
  AND (c.indkey::text || ' ') LIKE (i.indkey::text || ' %')
  AND (i.indkey::text <> c.indkey::text OR i.indexrelid > c.indexrelid)
  AND ns.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1 LIMIT 50";

const UNUSED_SQL: &str = "
SELECT s.schemaname || '.' || s.indexrelname AS name, pg_relation_size(s.indexrelid)::bigint AS bytes
FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
ORDER BY 2 DESC LIMIT 50";

impl Check for PostgresIndexes {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

/// What the statistics say of index use (read once they are old enough).
#[derive(Default)]
struct Usage {
    /// Tables scanned sequentially, as the message shows them.
    missing: Vec<String>,
    missing_evidence: Vec<serde_json::Value>,
    unused: Vec<String>,
}

impl PostgresIndexes {
    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        ctx.trace(format!("querying {}", self.target.display_url));
        let age = stats_age_seconds(&pool).await?;
        let min_age = self.params.min_stats_age.0;
        let invalid: Vec<String> = rows(&pool, "invalid indexes", sqlx::query(INVALID_SQL))
            .await?
            .iter()
            .map(|r| col::<String>(r, "name"))
            .collect::<Result<_, _>>()?;
        let fks: Vec<String> = rows(&pool, "foreign keys", sqlx::query(FK_SQL))
            .await?
            .iter()
            .map(|r| {
                Ok(format!(
                    "{} ({})",
                    col::<String>(r, "name")?,
                    col::<String>(r, "table_name")?
                ))
            })
            .collect::<Result<_, Outcome>>()?;
        let duplicates: Vec<String> = rows(&pool, "duplicate indexes", sqlx::query(DUPLICATE_SQL))
            .await?
            .iter()
            .map(|r| {
                Ok(format!(
                    "{} (covered by {})",
                    col::<String>(r, "name")?,
                    col::<String>(r, "covered_by")?
                ))
            })
            .collect::<Result<_, Outcome>>()?;
        let young = age < min_age.as_secs_f64();
        let Usage {
            missing,
            missing_evidence,
            unused,
        } = if young {
            Usage::default()
        } else {
            self.usage(&pool).await?
        };
        let mut failures = Vec::new();
        if !missing.is_empty() {
            failures.push(format!("missing index on {}", missing.join(", ")));
        }
        if !invalid.is_empty() {
            failures.push(format!("invalid index {}", invalid.join(", ")));
        }
        if !fks.is_empty() {
            failures.push(format!("foreign key without index {}", fks.join(", ")));
        }
        let mut warnings = Vec::new();
        if !duplicates.is_empty() {
            warnings.push(format!("duplicate index {}", duplicates.join(", ")));
        }
        if !unused.is_empty() {
            warnings.push(format!("unused index {}", unused.join(", ")));
        }
        let count = failures.len() + warnings.len();
        let (state, message) = if !failures.is_empty() {
            (
                State::Fail,
                failures
                    .into_iter()
                    .chain(warnings)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        } else if young {
            (
                State::Unknown,
                format!(
                    "statistics are {} old (need {}) to judge missing and unused indexes{}",
                    format_duration(std::time::Duration::from_secs(age as u64)),
                    format_duration(min_age),
                    if warnings.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", warnings.join("; "))
                    }
                ),
            )
        } else if !warnings.is_empty() {
            (State::Warn, warnings.join("; "))
        } else {
            (
                State::Pass,
                "no missing, invalid, duplicate or unused indexes; every foreign key is indexed"
                    .to_owned(),
            )
        };
        let judged = if state == State::Unknown {
            Outcome::insufficient_data(message)
        } else {
            Outcome::new(state, message)
        };
        Ok(judged
            .observed((missing.len() + invalid.len() + fks.len()) as f64)
            .threshold(0.0)
            .evidence("findings", count)
            .evidence("stats_age_seconds", age.round())
            .evidence("missing", missing_evidence)
            .evidence("invalid", invalid)
            .evidence("foreign_keys_without_index", fks)
            .evidence("duplicates", duplicates)
            .evidence("unused", unused))
    }

    /// Tables that want an index and indexes nobody uses, from the statistics.
    async fn usage(&self, pool: &sqlx::PgPool) -> Result<Usage, Outcome> {
        let mut usage = Usage::default();
        for r in rows(
            pool,
            "table statistics",
            sqlx::query(MISSING_SQL)
                .bind(self.params.min_rows)
                .bind(self.params.min_index_use_percent),
        )
        .await?
        {
            let name: String = col(&r, "name")?;
            let pct: f64 = col(&r, "pct")?;
            let rows_n: i64 = col(&r, "rows")?;
            usage
                .missing
                .push(format!("{name} ({rows_n} rows, {pct:.0}% index use)"));
            usage.missing_evidence.push(json!({
                "table": name, "rows": rows_n, "seq_scan": col::<i64>(&r, "seq_scan")?,
                "idx_scan": col::<i64>(&r, "idx_scan")?, "index_use_percent": pct,
            }));
        }
        if self.params.unused {
            for r in rows(pool, "index usage", sqlx::query(UNUSED_SQL)).await? {
                usage.unused.push(format!(
                    "{} ({} bytes)",
                    col::<String>(&r, "name")?,
                    col::<i64>(&r, "bytes")?
                ));
            }
        }
        Ok(usage)
    }
}
