//! Kind `redis_memory`: maxmemory set, eviction policy, usage and fragmentation.

use std::sync::Arc;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State,
};
use crate::targets::RedisTarget;

use super::{info, num, redis_target, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.capacity_planning"),
    unit: "ratio",
    summary: "maxmemory set, eviction policy, usage and fragmentation",
    target: NEED,
    doc: r#"- **Needs:** `INFO` (ACL `+info`). A refused command is `error` naming the ACL grant.
- **Reads:** `INFO memory`
- **Passes** when `maxmemory` set, usage under the ratio (observed), policy accepted
- **Fails / unknown / errors:** fails when `maxmemory` is 0 ("grows until the OOM killer"), usage too high, or policy not in `eviction_policies`; warns on fragmentation above the limit (judged only above 64 MiB RSS)"#,
    ..KindInfo::new(
        "redis_memory",
        Category::Operations,
        build_memory,
        <MemoryParams as schemars::JsonSchema>::json_schema,
    )
};

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
#[derive(Debug, Deserialize, schemars::JsonSchema)]
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
