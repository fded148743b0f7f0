//! Kind `redis_hit_ratio`: keyspace hits / lookups.

use std::sync::Arc;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::targets::RedisTarget;

use super::{info, num, redis_target, NEED};

pub const KIND: KindInfo = KindInfo {
    name: "redis_hit_ratio",
    category: Category::Performance,
    unit: "ratio",
    summary: "keyspace hits / lookups",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_hit_ratio,
    params: <HitRatioParams as schemars::JsonSchema>::json_schema,
    doc: r#"- **Needs:** `INFO` (ACL `+info`). A refused command is `error` naming the ACL grant.
- **Reads:** `INFO stats` (`keyspace_hits`, `keyspace_misses`)
- **Passes** when ratio at least `min_ratio` (observed)
- **Fails / unknown / errors:** fails below; unknown under `min_lookups` lookups"#,
};

const fn default_min_ratio() -> f64 {
    0.8
}
const fn default_min_lookups() -> f64 {
    1000.0
}

/// Params of the `redis_hit_ratio` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
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
