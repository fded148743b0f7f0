//! Kind `pending_migrations`: migration files in a directory against the
//! history table of the tool that applies them: sqlx (`_sqlx_migrations`),
//! Rails and Ecto (`schema_migrations`), Flyway (`flyway_schema_history`),
//! Diesel (`__diesel_schema_migrations`), Alembic (`alembic_version`),
//! Django (`django_migrations`).
//! Reports pending files, dirty/failed entries and checksum mismatches where
//! the tool records checksums (sqlx: SHA-384, Flyway: CRC32 of lines).

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::{col, pg_target, rows};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::TargetType;
use crate::scan::migrations::{compare, read_migrations, Applied, Tool};
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("deployment.check_migrations"),
    unit: "count",
    summary: "migration files vs the tool's history table: pending, dirty, checksum mismatch",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `SELECT` on the tool's history table.
- **Tools:** sqlx, Rails, Ecto, Flyway, Diesel, Alembic, Django. Django: `dir` is the project root (every `<app>/migrations/NNNN_*.py` with an `__init__.py`, at most four levels down, skipping hidden directories, virtualenvs and `node_modules`) or one app's `migrations` directory; each file is `<app>.<name>` in `django_migrations`, the app label being the app's directory name (an `AppConfig.label` of its own is not read); rows of apps with no migrations here (`django.contrib`'s, installed packages') are ignored; squashed migrations (`replaces`) are read as ordinary files.
- **Passes** when at most `allow_pending` files are not applied and nothing is failed or changed. Observed value: pending count.
- **Fails** on pending migrations (listed), failed/dirty entries (`success = false`), a file changed after it was applied (checksum mismatch), or a missing history table (nothing was ever applied). **Warns** when the database has applied versions without a file here.
- **Errors** when the directory is unreadable or holds no migration of that tool, or the table cannot be read (e.g. `permission denied`)."#,
    ..KindInfo::new(
        "pending_migrations",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Params of the `pending_migrations` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Directory holding the migration files (or, for Diesel, directories).
    pub dir: PathBuf,
    /// The tool: sqlx, rails, ecto, flyway, diesel, alembic or django
    /// (`dir`: the project root, or one app's `migrations` directory).
    pub tool: Tool,
    /// History table, schema-qualified if needed. Default: the tool's.
    #[serde(default)]
    pub table: Option<String>,
    /// Pending migrations tolerated. Default 0.
    #[serde(default)]
    pub allow_pending: usize,
}

#[derive(Debug)]
struct PendingMigrations {
    target: Arc<PgTarget>,
    dir: PathBuf,
    tool: Tool,
    table: String,
    allow_pending: usize,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let table = params
        .table
        .unwrap_or_else(|| params.tool.table().to_owned());
    if !table
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(ParamError::new(
            "params.table",
            "letters, digits, `_` and `.` only",
        ));
    }
    Ok(Arc::new(PendingMigrations {
        target: pg_target(input)?,
        dir: params.dir,
        tool: params.tool,
        table,
        allow_pending: params.allow_pending,
    }))
}

impl Check for PendingMigrations {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl PendingMigrations {
    fn history_sql(&self) -> String {
        let t = &self.table;
        match self.tool {
            Tool::Sqlx => format!("SELECT version::text AS version, success, checksum FROM {t}"),
            Tool::Flyway => format!(
                "SELECT version::text AS version, success, int4send(coalesce(checksum, 0)) AS checksum FROM {t} WHERE version IS NOT NULL"
            ),
            Tool::Alembic => format!("SELECT version_num::text AS version, true AS success, NULL::bytea AS checksum FROM {t}"),
            Tool::Django => format!("SELECT app || '.' || name AS version, true AS success, NULL::bytea AS checksum FROM {t}"),
            Tool::Rails | Tool::Ecto | Tool::Diesel => {
                format!("SELECT version::text AS version, true AS success, NULL::bytea AS checksum FROM {t}")
            }
        }
    }

    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let dir = self.dir.clone();
        let tool = self.tool;
        ctx.trace(format!(
            "reading {:?} migrations in {}",
            tool,
            dir.display()
        ));
        let files = tokio::task::spawn_blocking(move || read_migrations(&dir, tool))
            .await
            .map_err(|e| Outcome::error(format!("reading migrations failed: {e}")))?
            .map_err(Outcome::error)?;
        if files.is_empty() {
            return Err(Outcome::error(format!(
                "no {:?} migration files in {}; check `dir` and `tool`",
                self.tool,
                self.dir.display()
            )));
        }
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        let present = rows(
            &pool,
            "the history table",
            sqlx::query("SELECT to_regclass($1) IS NOT NULL AS present").bind(&self.table),
        )
        .await?;
        let present: bool = present.first().map_or(Ok(false), |r| col(r, "present"))?;
        if !present {
            return Ok(Outcome::fail(format!(
                "table {} does not exist: none of the {} migration(s) in {} was applied",
                self.table,
                files.len(),
                self.dir.display()
            ))
            .observed(files.len() as f64)
            .threshold(self.allow_pending as f64));
        }
        let sql = sqlx::AssertSqlSafe(self.history_sql());
        let mut applied = Vec::new();
        for r in rows(&pool, &self.table, sqlx::query(sql)).await? {
            applied.push(Applied {
                version: col(&r, "version")?,
                success: col::<Option<bool>>(&r, "success")?.unwrap_or(true),
                checksum: col(&r, "checksum")?,
            });
        }
        let c = compare(&files, &applied, self.tool);
        let mut failures = Vec::new();
        if c.pending.len() > self.allow_pending {
            failures.push(format!(
                "{} pending: {}",
                c.pending.len(),
                c.pending.join(", ")
            ));
        }
        if !c.failed.is_empty() {
            failures.push(format!("failed/dirty: {}", c.failed.join(", ")));
        }
        if !c.checksum_mismatch.is_empty() {
            failures.push(format!(
                "changed after being applied (checksum mismatch): {}",
                c.checksum_mismatch.join(", ")
            ));
        }
        let (state, message) = if !failures.is_empty() {
            (State::Fail, failures.join("; "))
        } else if !c.unknown_applied.is_empty() {
            (
                State::Warn,
                format!(
                    "applied but no file here: {} (wrong dir, or a deploy of older code?)",
                    c.unknown_applied.join(", ")
                ),
            )
        } else {
            (
                State::Pass,
                format!(
                    "all {} migration(s) in {} are applied{}",
                    files.len(),
                    self.dir.display(),
                    if c.pending.is_empty() {
                        String::new()
                    } else {
                        format!(" except {} tolerated", c.pending.len())
                    }
                ),
            )
        };
        Ok(Outcome::new(state, message)
            .observed(c.pending.len() as f64)
            .threshold(self.allow_pending as f64)
            .evidence("tool", format!("{:?}", self.tool).to_lowercase())
            .evidence("table", self.table.as_str())
            .evidence("files", files.len())
            .evidence("applied", applied.len())
            .evidence("pending", c.pending)
            .evidence("failed", c.failed)
            .evidence("checksum_mismatch", c.checksum_mismatch)
            .evidence("applied_without_file", c.unknown_applied))
    }
}
