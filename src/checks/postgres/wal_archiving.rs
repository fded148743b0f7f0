//! Kind `postgres_wal_archiving`: `archive_mode` is on, the last segment was
//! archived recently, and the failure count (pg_stat_archiver) has not grown
//! since the previous evaluation or since the last success.

use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::{col, pg_target, require_grant, rows, Grant};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.backup"),
    unit: "seconds",
    summary: "archive_mode on, last WAL archived recently, failures not growing",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `pg_read_all_settings` (in `pg_monitor`): `archive_command`.
- **Reads:** `current_setting('archive_mode')`, `archive_command`, `archive_library` and `pg_stat_archiver` (`archived_count`, `failed_count`, `last_archived_time`, `last_failed_time`).
- **Passes** when `archive_mode` is on, the last segment was archived within `max_age`, and archiving is not failing. Observed value: seconds since the last archived segment.
- **Errors** without `pg_read_all_settings`.
- **Fails** when `archive_mode` is off, `archive_command` is a no-op that reports success without keeping anything (`/bin/true`, `exit 0`, `:`, anything writing to `/dev/null`), nothing was ever archived, the last archive is too old, the last failure is newer than the last success, or `failed_count` grew since the previous evaluation."#,
    ..KindInfo::new(
        "postgres_wal_archiving",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(3_600))
}

/// Params of the `postgres_wal_archiving` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The last successful archive must be younger than this. Default 1h.
    #[serde(default = "default_max_age")]
    pub max_age: ConfigDuration,
}

#[derive(Debug)]
struct WalArchiving {
    target: Arc<PgTarget>,
    params: Params,
    /// failed_count seen by the previous evaluation.
    previous_failures: Mutex<Option<i64>>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    Ok(Arc::new(WalArchiving {
        target: pg_target(input)?,
        params,
        previous_failures: Mutex::new(None),
    }))
}

const SQL: &str = "
SELECT current_setting('archive_mode') AS mode,
       current_setting('archive_command') AS command,
       coalesce(current_setting('archive_library', true), '') AS library,
       archived_count::bigint AS archived, failed_count::bigint AS failed,
       coalesce(last_archived_wal, '') AS last_wal,
       extract(epoch FROM now() - last_archived_time)::float8 AS archived_ago,
       (last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time > last_archived_time)) AS failing
FROM pg_stat_archiver";

/// Whether an `archive_command` reports success without keeping anything
/// (PostgreSQL then recycles the segment as if it were archived).
fn discards_wal(command: &str) -> bool {
    let c = command.trim();
    c.is_empty()
        || matches!(
            c,
            "true" | "/bin/true" | "/usr/bin/true" | ":" | "exit 0" | "cd ." | "/bin/sh -c true"
        )
        || c.contains("/dev/null")
}

impl Check for WalArchiving {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl WalArchiving {
    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        require_grant(
            &pool,
            Grant::ReadAllSettings,
            "archive_command cannot be read to tell real archiving from a no-op",
        )
        .await?;
        ctx.trace(format!(
            "querying pg_stat_archiver on {}",
            self.target.display_url
        ));
        let r = rows(&pool, "pg_stat_archiver", sqlx::query(SQL)).await?;
        let Some(r) = r.first() else {
            return Err(Outcome::error("pg_stat_archiver returned no row"));
        };
        let mode: String = col(r, "mode")?;
        let command: String = col(r, "command")?;
        let library: String = col(r, "library")?;
        let archived: i64 = col(r, "archived")?;
        let failed: i64 = col(r, "failed")?;
        let ago: Option<f64> = col(r, "archived_ago")?;
        let failing: bool = col(r, "failing")?;
        let previous = self
            .previous_failures
            .lock()
            .map(|mut p| p.replace(failed))
            .unwrap_or(None);
        let max_age = self.params.max_age.0;
        let mut problems = Vec::new();
        if mode == "off" {
            problems.push("archive_mode is off: WAL is not archived".to_owned());
        } else if library.is_empty() && discards_wal(&command) {
            problems.push(format!(
                "archive_command {command:?} discards WAL: segments count as archived but none is kept"
            ));
        } else {
            match ago {
                None => problems.push("no WAL segment has ever been archived".to_owned()),
                Some(a) if a > max_age.as_secs_f64() => problems.push(format!(
                    "last WAL archived {} ago (limit {})",
                    format_duration(std::time::Duration::from_secs(a as u64)),
                    format_duration(max_age)
                )),
                Some(_) => {}
            }
            if failing {
                problems.push(format!(
                    "archiving is failing ({failed} failures, the latest after the last success)"
                ));
            } else if previous.is_some_and(|p| failed > p) {
                problems.push(format!(
                    "failed_count grew from {} to {failed}",
                    previous.unwrap_or_default()
                ));
            }
        }
        let outcome = if problems.is_empty() {
            Outcome::pass(format!(
                "archive_mode {mode}; last WAL archived {}s ago; {archived} archived, {failed} failed",
                ago.unwrap_or_default().round()
            ))
        } else {
            Outcome::fail(problems.join("; "))
        };
        let outcome = match ago {
            Some(a) => outcome.observed(a),
            None => outcome,
        };
        Ok(outcome
            .threshold(max_age.as_secs_f64())
            .evidence("archive_mode", mode)
            .evidence("archive_command", command)
            .evidence("archive_library", library)
            .evidence("archived_count", archived)
            .evidence("failed_count", failed)
            .evidence("last_archived_wal", col::<String>(r, "last_wal")?))
    }
}

#[cfg(test)]
mod tests {
    use super::discards_wal;

    #[test]
    fn no_op_archive_commands_are_recognised() {
        for c in ["", "/bin/true", "true", " exit 0 ", ":", "cp %p /dev/null"] {
            assert!(discards_wal(c), "{c:?}");
        }
        for c in [
            "cp %p /mnt/archive/%f",
            "pgbackrest --stanza=main archive-push %p",
        ] {
            assert!(!discards_wal(c), "{c:?}");
        }
    }
}
