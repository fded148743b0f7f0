//! Kind `redis_replication`: replicas online (primary) or link up and fresh (replica).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::config::ConfigDuration;
use crate::targets::RedisTarget;

use super::{info, num, redis_target, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.failover"),
    unit: "count",
    summary: "replicas online (primary) or link up and fresh (replica)",
    target: NEED,
    doc: r#"- **Needs:** `INFO` (ACL `+info`). A refused command is `error` naming the ACL grant.
- **Reads:** `INFO replication`
- **Passes** when primary: `min_replicas` replicas `state=online` within `max_lag`; replica: `master_link_status:up`, last contact within `max_lag`
- **Fails / unknown / errors:** fails otherwise"#,
    ..KindInfo::new(
        "redis_replication",
        Category::Operations,
        build_replication,
        <ReplicationParams as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_replicas() -> usize {
    1
}
const fn default_max_link_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(30))
}

/// Params of the `redis_replication` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationParams {
    /// On a primary: online replicas required. Default 1.
    #[serde(default = "default_min_replicas")]
    pub min_replicas: usize,
    /// Largest replica lag / time since the last contact. Default 30s.
    #[serde(default = "default_max_link_age")]
    pub max_lag: ConfigDuration,
}

#[derive(Debug)]
struct Replication {
    target: Arc<RedisTarget>,
    params: ReplicationParams,
}

fn build_replication(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: ReplicationParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Replication {
        target: redis_target(input)?,
        params,
    }))
}

impl Check for Replication {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let i = info(&self.target, ctx, "replication").await?;
                let max_lag = self.params.max_lag.0.as_secs_f64();
                let role = i.get("role").cloned().unwrap_or_default();
                if role == "slave" || role == "replica" {
                    let link = i.get("master_link_status").cloned().unwrap_or_default();
                    let last_io = num(&i, "master_last_io_seconds_ago").unwrap_or(-1.0);
                    let outcome = if link != "up" {
                        Outcome::fail(format!("replica link to its primary is {link:?}"))
                    } else if last_io < 0.0 || last_io > max_lag {
                        Outcome::fail(format!("no contact with the primary for {last_io}s"))
                    } else {
                        Outcome::pass(format!("replica link up, last contact {last_io}s ago"))
                    };
                    return Ok(outcome
                        .observed(if link == "up" { 1.0 } else { 0.0 })
                        .evidence("role", "replica")
                        .evidence("master_link_status", link));
                }
                let mut online = 0usize;
                let mut replicas = Vec::new();
                for (key, value) in &i {
                    if !(key.starts_with("slave") && key[5..].chars().all(|c| c.is_ascii_digit()) && key.len() > 5) {
                        continue;
                    }
                    let fields: HashMap<&str, &str> = value.split(',').filter_map(|f| f.split_once('=')).collect();
                    let lag: f64 = fields.get("lag").and_then(|l| l.parse().ok()).unwrap_or(f64::MAX);
                    if fields.get("state") == Some(&"online") && lag <= max_lag {
                        online += 1;
                    }
                    replicas.push(serde_json::json!({
                        "addr": format!("{}:{}", fields.get("ip").unwrap_or(&"?"), fields.get("port").unwrap_or(&"?")),
                        "state": fields.get("state"), "lag": fields.get("lag"),
                    }));
                }
                let outcome = if online >= self.params.min_replicas {
                    Outcome::pass(format!("{online} replica(s) online within {}s lag", max_lag))
                } else {
                    Outcome::fail(format!(
                        "{online} replica(s) online, need {} ({} connected)",
                        self.params.min_replicas,
                        replicas.len()
                    ))
                };
                Ok(outcome
                    .observed(online as f64)
                    .threshold(self.params.min_replicas as f64)
                    .evidence("role", role)
                    .evidence("replicas", replicas))
            }
            .await)
        })
    }
}
