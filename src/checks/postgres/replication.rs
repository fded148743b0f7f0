//! Kind `postgres_replication`: on a primary, at least N streaming replicas
//! with replay lag under the limit (pg_stat_replication); on a replica, the
//! replay lag itself (pg_last_xact_replay_timestamp), zero when it has
//! replayed everything it received.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{col, pg_target, require_grant, rows, Grant};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.failover"),
    unit: "seconds",
    summary: "streaming replicas present with replay lag under the limit",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `pg_read_all_stats` (in `pg_monitor`): replica state and lag in `pg_stat_replication`.
- **Reads:** `pg_is_in_recovery()`. On a primary: `pg_stat_replication` (`state`, `replay_lag`). On a replica: `now() - pg_last_xact_replay_timestamp()` (0 when everything received is replayed) and `pg_stat_wal_receiver.status`.
- **Passes** on a primary with at least `min_replicas` streaming replicas within `max_lag`; on a replica that streams within `max_lag`. Observed value: worst (primary) or own (replica) replay lag in seconds.
- **Fails** with too few healthy replicas, a replica that does not stream, or too much lag."#,
    ..KindInfo::new(
        "postgres_replication",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_replicas() -> i64 {
    1
}
const fn default_max_lag() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(30))
}

/// Params of the `postgres_replication` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// On a primary: streaming replicas required (at least 1). Default 1.
    #[serde(default = "default_min_replicas")]
    pub min_replicas: i64,
    /// Largest acceptable replay lag. Default 30s.
    #[serde(default = "default_max_lag")]
    pub max_lag: ConfigDuration,
}

#[derive(Debug)]
struct Replication {
    target: Arc<PgTarget>,
    params: Params,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.min_replicas < 1 {
        return Err(ParamError::param(
            "min_replicas",
            "must be at least 1: a primary without replicas has no failover to verify",
        ));
    }
    Ok(Arc::new(Replication {
        target: pg_target(input)?,
        params,
    }))
}

const ROLE_SQL: &str = "SELECT pg_is_in_recovery() AS replica";

const PRIMARY_SQL: &str = "
SELECT coalesce(application_name, '') AS name, coalesce(client_addr::text, 'local') AS addr,
       coalesce(state, '') AS state, coalesce(sync_state, '') AS sync_state,
       coalesce(extract(epoch FROM replay_lag), 0)::float8 AS lag
FROM pg_stat_replication ORDER BY 1";

const REPLICA_SQL: &str = "
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), -1) END::float8 AS lag,
       (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')::bigint AS streaming";

impl Check for Replication {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl Replication {
    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        require_grant(
            &pool,
            Grant::ReadAllStats,
            "replicas' state and lag in pg_stat_replication would read as NULL",
        )
        .await?;
        let max_lag = self.params.max_lag.0.as_secs_f64();
        let role = rows(&pool, "recovery state", sqlx::query(ROLE_SQL)).await?;
        let is_replica: bool = role.first().map_or(Ok(false), |r| col(r, "replica"))?;
        if is_replica {
            ctx.trace("server is a replica; reading replay lag");
            let r = rows(&pool, "replay lag", sqlx::query(REPLICA_SQL)).await?;
            let Some(r) = r.first() else {
                return Err(Outcome::error("no replay information"));
            };
            let lag: f64 = col(r, "lag")?;
            let streaming: i64 = col(r, "streaming")?;
            let outcome = if lag < 0.0 {
                Outcome::fail("replica has not replayed any transaction yet")
            } else if streaming == 0 {
                Outcome::fail(format!(
                    "replica is not streaming from its primary (replay lag {lag:.0}s)"
                ))
            } else if lag > max_lag {
                Outcome::fail(format!(
                    "replica replay lag {lag:.0}s exceeds {}",
                    format_duration(self.params.max_lag.0)
                ))
            } else {
                Outcome::pass(format!("replica streaming, replay lag {lag:.1}s"))
            };
            return Ok(outcome
                .observed(lag.max(0.0))
                .threshold(max_lag)
                .evidence("role", "replica")
                .evidence("wal_receiver_streaming", streaming > 0));
        }
        ctx.trace("server is a primary; reading pg_stat_replication");
        let mut healthy = 0i64;
        let mut worst = 0.0f64;
        let mut replicas = Vec::new();
        for r in rows(&pool, "pg_stat_replication", sqlx::query(PRIMARY_SQL)).await? {
            let state: String = col(&r, "state")?;
            let lag: f64 = col(&r, "lag")?;
            if state == "streaming" && lag <= max_lag {
                healthy += 1;
            }
            if state == "streaming" {
                worst = worst.max(lag);
            }
            replicas.push(json!({
                "application_name": col::<String>(&r, "name")?, "client_addr": col::<String>(&r, "addr")?,
                "state": state, "sync_state": col::<String>(&r, "sync_state")?, "replay_lag_seconds": lag,
            }));
        }
        let outcome = if healthy >= self.params.min_replicas {
            Outcome::pass(format!(
                "{healthy} streaming replica(s) within {} replay lag (worst {worst:.1}s)",
                format_duration(self.params.max_lag.0)
            ))
        } else {
            Outcome::fail(format!(
                "{healthy} healthy streaming replica(s), need {} ({} connected)",
                self.params.min_replicas,
                replicas.len()
            ))
        };
        Ok(outcome
            .observed(worst)
            .threshold(max_lag)
            .evidence("role", "primary")
            .evidence("healthy_replicas", healthy)
            .evidence("replicas", replicas))
    }
}
