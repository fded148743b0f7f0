//! Kind `redis_hit_ratio`: keyspace hits / lookups.

use std::sync::Arc;

use serde::Deserialize;

use crate::checks::window::{Counters, Sampled, Window};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::config::ConfigDuration;
use crate::targets::RedisTarget;

use super::{info, num, redis_target, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.caching"),
    unit: "ratio",
    summary: "keyspace hits / lookups",
    target: NEED,
    doc: r#"- **Needs:** `INFO` (ACL `+info`). A refused command is `error` naming the ACL grant.
- **Reads:** `INFO stats` (`keyspace_hits`, `keyspace_misses`), judged by their change since the previous evaluation or over `window` within one run, never by lifetime totals (a regression would be diluted for weeks, a fix would keep failing until a restart).
- **Passes** when the ratio over the window is at least `min_ratio` (observed).
- **Fails** below it.
- **Unknown** on the first evaluation (no window yet), after a restart or `CONFIG RESETSTAT` (counters went backwards), and under `min_lookups` lookups in the window."#,
    ..KindInfo::new(
        "redis_hit_ratio",
        Category::Performance,
        build_hit_ratio,
        <HitRatioParams as schemars::JsonSchema>::json_schema,
    )
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
    /// Judge the lookups made during this long within one evaluation (for
    /// one-shot `check` runs); at most half the timeout. Default: the
    /// lookups since the previous evaluation (the first one is `unknown`).
    #[serde(default)]
    pub window: Option<ConfigDuration>,
}

#[derive(Debug)]
struct HitRatio {
    target: Arc<RedisTarget>,
    params: HitRatioParams,
    window: Window<Lookups>,
}

fn build_hit_ratio(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: HitRatioParams = parse_params(&input.spec.params)?;
    crate::checks::require_ratio("min_ratio", params.min_ratio)?;
    Ok(Arc::new(HitRatio {
        target: redis_target(input)?,
        window: Window::from_param(params.window, input.spec.timeout)?,
        params,
    }))
}

/// `keyspace_hits` and `keyspace_misses`.
#[derive(Debug, Clone, Copy)]
struct Lookups {
    hits: f64,
    misses: f64,
}

impl Counters for Lookups {
    fn since(&self, earlier: &Self) -> Option<Self> {
        (self.hits >= earlier.hits && self.misses >= earlier.misses).then_some(Lookups {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
        })
    }
}

impl Check for HitRatio {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let sampled = self
                    .window
                    .sample(|| async {
                        let i = info(&self.target, ctx, "stats").await?;
                        Ok(Lookups {
                            hits: num(&i, "keyspace_hits")?,
                            misses: num(&i, "keyspace_misses")?,
                        })
                    })
                    .await?;
                let (Lookups { hits, misses }, over) = match sampled {
                    Sampled::Delta { delta, over } => (delta, over),
                    Sampled::NotYet(why) => {
                        return Ok(Outcome::insufficient_data(why).threshold(self.params.min_ratio))
                    }
                };
                let lookups = hits + misses;
                let span = self.window.describe(over);
                let base = |o: Outcome| o.threshold(self.params.min_ratio).evidence("keyspace_hits", hits).evidence("keyspace_misses", misses).evidence("window_seconds", over.as_secs_f64());
                if lookups < self.params.min_lookups {
                    return Ok(base(Outcome::insufficient_data(format!(
                        "only {lookups} key lookups {span} (need {})",
                        self.params.min_lookups
                    ))));
                }
                let ratio = hits / lookups;
                let outcome = if ratio >= self.params.min_ratio {
                    Outcome::pass(format!("keyspace hit ratio {:.1}% over {lookups} lookups {span}", ratio * 100.0))
                } else {
                    Outcome::fail(format!(
                        "keyspace hit ratio {:.1}% is below {:.1}% ({misses} misses of {lookups} lookups {span})",
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
