//! Kind `mysql_indexes`: tables without a primary key; unused indexes (performance_schema/sys).

use std::sync::Arc;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State,
};
use crate::targets::{describe_sql_error, MySqlTarget};

use super::{mysql_target, show, text, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.database_indexes"),
    unit: "count",
    summary: "tables without a primary key; unused indexes (performance_schema/sys)",
    target: NEED,
    doc: r#"MariaDB and MySQL.
- **Needs:** `SELECT` on the application schemas (their tables are invisible otherwise); for unused indexes also `SELECT` on `performance_schema` and `sys`.
- **Reads:** the schemas in which the account sees a table; base tables without an index named `PRIMARY` in `information_schema.STATISTICS` (system schemas excluded; STATISTICS because MariaDB hides TABLE_CONSTRAINTS from SELECT-only users); unused indexes from `sys.schema_unused_indexes`.
- **Passes** when every visible table has a primary key and (with `unused`) no index is unused.
- **Fails** listing tables without one; **warns** on unused indexes, or when `sys`/`performance_schema` cannot be read (half the check was not done).
- **Errors** when the account sees no table outside the system schemas, or a schema named in `schemas` shows no table (naming the grant)."#,
    ..KindInfo::new(
        "mysql_indexes",
        Category::Performance,
        build_indexes,
        <IndexesParams as schemars::JsonSchema>::json_schema,
    )
};

const fn default_true() -> bool {
    true
}

/// Params of the `mysql_indexes` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexesParams {
    /// Report unused indexes from sys.schema_unused_indexes (as `warn`). Default true.
    #[serde(default = "default_true")]
    pub unused: bool,
    /// Schemas that must be visible to the account (each is `error` when it
    /// is not: the account would judge only what it can see). Default: none
    /// named; at least one table outside the system schemas must be visible.
    #[serde(default)]
    pub schemas: Vec<String>,
}

#[derive(Debug)]
struct Indexes {
    target: Arc<MySqlTarget>,
    unused: bool,
    schemas: Vec<String>,
}

fn build_indexes(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: IndexesParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Indexes {
        target: mysql_target(input)?,
        unused: p.unused,
        schemas: p.schemas,
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

/// Schemas (other than the system ones) in which the account sees a table.
const VISIBLE_SQL: &str = "
SELECT DISTINCT table_schema AS name FROM information_schema.tables
WHERE table_type = 'BASE TABLE'
  AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY 1";

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
                    let visible: Vec<String> = show(&pool, VISIBLE_SQL)
                        .await?
                        .iter()
                        .filter_map(|r| text(r, "name"))
                        .collect();
                    let hidden: Vec<&String> = self.schemas.iter().filter(|s| !visible.contains(s)).collect();
                    if !hidden.is_empty() {
                        let list: Vec<&str> = hidden.iter().map(|s| s.as_str()).collect();
                        return Err(Outcome::error(format!(
                            "schema(s) {} show no table to {}: without SELECT on them their tables cannot be judged (GRANT SELECT ON {}.* TO the monitoring user), or they hold no table",
                            list.join(", "),
                            self.target.display_url,
                            list[0]
                        ))
                        .evidence("visible_schemas", visible));
                    }
                    if visible.is_empty() {
                        return Err(Outcome::error(
                            "the account sees no table outside the system schemas: nothing to judge (GRANT SELECT ON <schema>.* TO the monitoring user)",
                        ));
                    }
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
                    } else if let Some(note) = &unused_note {
                        // Half the check was not done: never a pass.
                        (
                            State::Warn,
                            format!("every table has a primary key; {note} (GRANT SELECT ON performance_schema.* and sys.* TO the monitoring user, or set unused: false)"),
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
                        .evidence("visible_schemas", visible)
                        .evidence("unused_indexes", unused)
                        .evidence("note", unused_note))
                }
                .await,
            )
        })
    }
}
