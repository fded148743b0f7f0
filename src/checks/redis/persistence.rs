//! Kind `redis_persistence`: RDB snapshots recent and successful, or AOF on and healthy.

use std::sync::Arc;
use std::time::SystemTime;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::config::{format_duration, ConfigDuration};
use crate::targets::{describe_redis_error, RedisTarget};

use super::{acl_hint, field, info, num, redis_target, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.backup"),
    unit: "seconds",
    summary: "RDB snapshots recent and successful, or AOF on and healthy",
    target: NEED,
    doc: r#"- **Needs:** `INFO` (ACL `+info`); `CONFIG GET save` (ACL `+config|get`) unless AOF is on. Missing INFO fields are `error`, never assumed healthy. A refused command is `error` naming the ACL grant.
- **Reads:** `INFO persistence`, `CONFIG GET save`
- **Passes** when RDB on (a `save` policy) with the last bgsave `ok` and no changes unsaved longer than `max_age`, and/or AOF on with last write and rewrite `ok`
- **Fails / unknown / errors:** fails "nothing is persisted" when both are off, or on a failed bgsave/AOF or old unsaved changes; errors when AOF is off and `CONFIG` is denied"#,
    ..KindInfo::new(
        "redis_persistence",
        Category::Operations,
        build_persistence,
        <PersistenceParams as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(26 * 3600))
}

/// Params of the `redis_persistence` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersistenceParams {
    /// With RDB, unsaved changes older than this fail. Default 26h.
    #[serde(default = "default_max_age")]
    pub max_age: ConfigDuration,
}

#[derive(Debug)]
struct Persistence {
    target: Arc<RedisTarget>,
    max_age: std::time::Duration,
}

fn build_persistence(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: PersistenceParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Persistence {
        target: redis_target(input)?,
        max_age: p.max_age.0,
    }))
}

impl Persistence {
    /// The `save` policy ("" when RDB snapshots are off), if CONFIG is allowed.
    async fn save_policy(&self) -> Result<String, String> {
        let mut conn = self.target.connection().await?;
        let reply: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("save")
            .query_async(&mut conn)
            .await
            .map_err(|e| {
                format!(
                    "{}{}",
                    describe_redis_error(&e),
                    acl_hint(&e, "+config|get")
                )
            })?;
        Ok(reply.get(1).cloned().unwrap_or_default())
    }
}

impl Check for Persistence {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let i = info(&self.target, ctx, "persistence").await?;
                let aof = field(&i, "aof_enabled")? == "1";
                let save = self.save_policy().await;
                let rdb = match &save {
                    Ok(policy) => !policy.trim().is_empty(),
                    Err(_) if aof => false,
                    Err(e) => {
                        return Err(Outcome::error(format!(
                            "AOF is off and the RDB save policy cannot be read (CONFIG GET save: {e})"
                        )))
                    }
                };
                let last_save = num(&i, "rdb_last_save_time")?;
                let changes = num(&i, "rdb_changes_since_last_save")?;
                let unsaved_for = crate::clock::unix_seconds(SystemTime::now()) - last_save;
                let mut problems = Vec::new();
                let mut ok = Vec::new();
                if rdb {
                    if field(&i, "rdb_last_bgsave_status")? != "ok" {
                        problems.push("the last RDB snapshot failed".to_owned());
                    } else if changes > 0.0 && unsaved_for > self.max_age.as_secs_f64() {
                        problems.push(format!(
                            "{changes} change(s) not snapshotted for {} (limit {})",
                            format_duration(std::time::Duration::from_secs(unsaved_for as u64)),
                            format_duration(self.max_age)
                        ));
                    } else {
                        ok.push(format!("RDB snapshots on ({changes} unsaved change(s))"));
                    }
                }
                if aof {
                    let write = field(&i, "aof_last_write_status")?;
                    let rewrite = field(&i, "aof_last_bgrewrite_status")?;
                    if write != "ok" || rewrite != "ok" {
                        problems.push(format!("AOF is failing (last write {write}, last rewrite {rewrite})"));
                    } else {
                        ok.push("AOF on and healthy".to_owned());
                    }
                }
                let outcome = if !rdb && !aof {
                    Outcome::fail("nothing is persisted: RDB snapshots are off (save \"\") and AOF is off")
                } else if !problems.is_empty() {
                    Outcome::fail(problems.join("; "))
                } else {
                    Outcome::pass(ok.join("; "))
                };
                let observed = if changes > 0.0 { unsaved_for } else { 0.0 };
                Ok(outcome
                    .observed(observed)
                    .threshold(self.max_age.as_secs_f64())
                    .evidence("rdb_enabled", rdb)
                    .evidence("aof_enabled", aof)
                    .evidence("rdb_changes_since_last_save", changes)
                    .evidence("rdb_last_bgsave_status", i.get("rdb_last_bgsave_status").cloned()))
            }
            .await)
        })
    }
}
