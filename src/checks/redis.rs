//! Redis kinds: `redis_persistence`, `redis_replication`, `redis_hit_ratio`
//! and `redis_memory`. Each reads `INFO` (and `CONFIG GET save` where it
//! must) over the target's shared connection manager and never writes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::{describe_redis_error, RedisTarget};

const NEED: TargetNeed = TargetNeed::Required(&[TargetType::Redis]);

pub const PERSISTENCE: KindInfo = KindInfo {
    name: "redis_persistence",
    category: Category::Operations,
    unit: "seconds",
    summary: "RDB snapshots recent and successful, or AOF on and healthy",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_persistence,
};

pub const REPLICATION: KindInfo = KindInfo {
    name: "redis_replication",
    category: Category::Operations,
    unit: "count",
    summary: "replicas online (primary) or link up and fresh (replica)",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_replication,
};

pub const HIT_RATIO: KindInfo = KindInfo {
    name: "redis_hit_ratio",
    category: Category::Performance,
    unit: "ratio",
    summary: "keyspace hits / lookups",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_hit_ratio,
};

pub const MEMORY: KindInfo = KindInfo {
    name: "redis_memory",
    category: Category::Operations,
    unit: "ratio",
    summary: "maxmemory set, eviction policy, usage and fragmentation",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_memory,
};

fn redis_target(input: &BuildInput<'_>) -> Result<Arc<RedisTarget>, ParamError> {
    input
        .target
        .and_then(|t| t.as_redis())
        .cloned()
        .ok_or_else(|| ("target".to_owned(), "needs a redis target".to_owned()))
}

/// Parses `INFO` output into key -> value.
pub fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn info(
    target: &RedisTarget,
    ctx: &Context,
    section: &str,
) -> Result<HashMap<String, String>, Outcome> {
    let mut conn = target.connection().await.map_err(Outcome::error)?;
    ctx.trace(format!("INFO {section} on {}", target.display_url));
    let text: String = redis::cmd("INFO")
        .arg(section)
        .query_async(&mut conn)
        .await
        .map_err(|e| {
            Outcome::error(format!(
                "INFO {section} failed: {}",
                describe_redis_error(&e)
            ))
        })?;
    Ok(parse_info(&text))
}

fn num(map: &HashMap<String, String>, key: &str) -> Result<f64, Outcome> {
    map.get(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| Outcome::error(format!("INFO has no numeric field {key}")))
}

// === redis_persistence ===

const fn default_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(26 * 3600))
}

/// Params of the `redis_persistence` kind.
#[derive(Debug, Deserialize)]
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
            .map_err(|e| describe_redis_error(&e))?;
        Ok(reply.get(1).cloned().unwrap_or_default())
    }
}

impl Check for Persistence {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let i = info(&self.target, ctx, "persistence").await?;
                let aof = i.get("aof_enabled").is_some_and(|v| v == "1");
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
                let unsaved_for = crate::engine::unix_seconds(SystemTime::now()) - last_save;
                let mut problems = Vec::new();
                let mut ok = Vec::new();
                if rdb {
                    if i.get("rdb_last_bgsave_status").is_some_and(|s| s != "ok") {
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
                    let write = i.get("aof_last_write_status").map(String::as_str).unwrap_or("ok");
                    let rewrite = i.get("aof_last_bgrewrite_status").map(String::as_str).unwrap_or("ok");
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

// === redis_replication ===

const fn default_min_replicas() -> usize {
    1
}
const fn default_max_link_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(30))
}

/// Params of the `redis_replication` kind.
#[derive(Debug, Deserialize)]
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

// === redis_hit_ratio ===

const fn default_min_ratio() -> f64 {
    0.8
}
const fn default_min_lookups() -> f64 {
    1000.0
}

/// Params of the `redis_hit_ratio` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HitRatioParams {
    /// Lowest acceptable keyspace hit ratio. Default 0.8.
    #[serde(default = "default_min_ratio")]
    pub min_ratio: f64,
    /// Fewer lookups than this is too little data (`unknown`). Default 1000.
    #[serde(default = "default_min_lookups")]
    pub min_lookups: f64,
}

#[derive(Debug)]
struct HitRatio {
    target: Arc<RedisTarget>,
    params: HitRatioParams,
}

fn build_hit_ratio(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: HitRatioParams = parse_params(&input.spec.params)?;
    crate::checks::require_ratio("min_ratio", params.min_ratio)?;
    Ok(Arc::new(HitRatio {
        target: redis_target(input)?,
        params,
    }))
}

impl Check for HitRatio {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let i = info(&self.target, ctx, "stats").await?;
                let hits = num(&i, "keyspace_hits")?;
                let misses = num(&i, "keyspace_misses")?;
                let lookups = hits + misses;
                let base = |o: Outcome| o.threshold(self.params.min_ratio).evidence("keyspace_hits", hits).evidence("keyspace_misses", misses);
                if lookups < self.params.min_lookups {
                    return Ok(base(Outcome::unknown(format!(
                        "only {lookups} key lookups since the last restart (need {})",
                        self.params.min_lookups
                    ))));
                }
                let ratio = hits / lookups;
                let outcome = if ratio >= self.params.min_ratio {
                    Outcome::pass(format!("keyspace hit ratio {:.1}% over {lookups} lookups", ratio * 100.0))
                } else {
                    Outcome::fail(format!(
                        "keyspace hit ratio {:.1}% is below {:.1}% ({misses} misses of {lookups} lookups)",
                        ratio * 100.0,
                        self.params.min_ratio * 100.0
                    ))
                };
                Ok(base(outcome.observed(ratio)))
            }
            .await)
        })
    }
}

// === redis_memory ===

const fn default_max_used_ratio() -> f64 {
    0.9
}
const fn default_max_fragmentation() -> f64 {
    1.5
}
fn default_policies() -> Vec<String> {
    Vec::new()
}

/// Params of the `redis_memory` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryParams {
    /// Fail when used_memory / maxmemory reaches this. Default 0.9.
    #[serde(default = "default_max_used_ratio")]
    pub max_used_ratio: f64,
    /// Warn when mem_fragmentation_ratio exceeds this (judged only above
    /// 64MiB RSS, where the ratio means something). Default 1.5.
    #[serde(default = "default_max_fragmentation")]
    pub max_fragmentation: f64,
    /// Accepted eviction policies (e.g. [allkeys-lru]). Default: any.
    #[serde(default = "default_policies")]
    pub eviction_policies: Vec<String>,
}

#[derive(Debug)]
struct Memory {
    target: Arc<RedisTarget>,
    params: MemoryParams,
}

fn build_memory(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: MemoryParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Memory {
        target: redis_target(input)?,
        params,
    }))
}

impl Check for Memory {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let i = info(&self.target, ctx, "memory").await?;
                    let used = num(&i, "used_memory")?;
                    let max = num(&i, "maxmemory")?;
                    let rss = num(&i, "used_memory_rss").unwrap_or(0.0);
                    let fragmentation = num(&i, "mem_fragmentation_ratio").unwrap_or(1.0);
                    let policy = i.get("maxmemory_policy").cloned().unwrap_or_default();
                    let base = |o: Outcome| {
                        o.evidence("used_memory", used)
                            .evidence("maxmemory", max)
                            .evidence("maxmemory_policy", policy.clone())
                            .evidence("mem_fragmentation_ratio", fragmentation)
                    };
                    if max <= 0.0 {
                        return Ok(base(Outcome::fail(
                        "maxmemory is not set: Redis grows until the kernel's OOM killer stops it",
                    )));
                    }
                    let ratio = used / max;
                    let mut failures = Vec::new();
                    let mut warnings = Vec::new();
                    if ratio >= self.params.max_used_ratio {
                        failures.push(format!(
                            "{:.0}% of maxmemory used (limit {:.0}%)",
                            ratio * 100.0,
                            self.params.max_used_ratio * 100.0
                        ));
                    }
                    if !self.params.eviction_policies.is_empty()
                        && !self.params.eviction_policies.contains(&policy)
                    {
                        failures.push(format!(
                            "eviction policy {policy}, expected one of {}",
                            self.params.eviction_policies.join(", ")
                        ));
                    }
                    if rss >= 64.0 * 1024.0 * 1024.0
                        && fragmentation > self.params.max_fragmentation
                    {
                        warnings.push(format!(
                            "fragmentation ratio {fragmentation:.2} above {:.2}",
                            self.params.max_fragmentation
                        ));
                    }
                    let (state, message) = if !failures.is_empty() {
                        (
                            State::Fail,
                            failures
                                .into_iter()
                                .chain(warnings)
                                .collect::<Vec<_>>()
                                .join("; "),
                        )
                    } else if !warnings.is_empty() {
                        (State::Warn, warnings.join("; "))
                    } else {
                        (
                            State::Pass,
                            format!("{:.1}% of maxmemory used, policy {policy}", ratio * 100.0),
                        )
                    };
                    Ok(base(
                        Outcome::new(state, message)
                            .observed(ratio)
                            .threshold(self.params.max_used_ratio),
                    ))
                }
                .await,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_sections() {
        let i = parse_info("# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0\r\n");
        assert_eq!(i["role"], "master");
        assert_eq!(
            i["slave0"],
            "ip=127.0.0.1,port=7001,state=online,offset=42,lag=0"
        );
        assert!(!i.contains_key("# Replication"));
    }
}
