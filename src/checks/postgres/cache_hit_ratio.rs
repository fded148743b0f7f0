//! Kind `postgres_cache_hit_ratio`: share of table and index block reads
//! served from shared buffers (pg_statio_user_tables / _indexes). Too few
//! block reads to judge is `unknown`.

use std::sync::Arc;

use serde::Deserialize;

use super::{col, pg_target, rows};
use crate::checks::window::{Counters, Sampled, Window};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::ConfigDuration;
use crate::config::TargetType;
use crate::targets::PgTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.caching"),
    unit: "ratio",
    summary: "heap and index block hit ratios from pg_statio",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `CONNECT` only: `pg_statio_*` views are visible to every role.
- **Reads:** `sum(heap_blks_hit)`, `sum(heap_blks_read)` from `pg_statio_user_tables`; `sum(idx_blks_hit)`, `sum(idx_blks_read)` from `pg_statio_user_indexes`.
- Judged on the change of those counters since the previous evaluation, or over `window` within one run; never on lifetime totals.
- **Passes** when both judged ratios reach `min_ratio`. Observed value: the lower ratio. **Fails** below. **Unknown** on the first evaluation (no window yet), after a statistics reset, and when neither has `min_blocks` accesses in the window."#,
    ..KindInfo::new(
        "postgres_cache_hit_ratio",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_ratio() -> f64 {
    0.99
}
const fn default_min_blocks() -> i64 {
    1_000
}

/// Params of the `postgres_cache_hit_ratio` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Lowest acceptable hit ratio for tables and for indexes. Default 0.99.
    #[serde(default = "default_min_ratio")]
    pub min_ratio: f64,
    /// Fewer block accesses than this (hits + reads) is too little data. Default 1000.
    #[serde(default = "default_min_blocks")]
    pub min_blocks: i64,
    /// Judge the block accesses made during this long within one evaluation
    /// (for one-shot `check` runs); at most half the timeout. Default: the
    /// accesses since the previous evaluation (the first one is `unknown`).
    #[serde(default)]
    pub window: Option<ConfigDuration>,
}

#[derive(Debug)]
struct CacheHit {
    target: Arc<PgTarget>,
    params: Params,
    window: Window<Blocks>,
}

/// Block hits and reads of tables and indexes.
#[derive(Debug, Clone, Copy)]
struct Blocks {
    heap_hit: i64,
    heap_read: i64,
    idx_hit: i64,
    idx_read: i64,
}

impl Counters for Blocks {
    fn since(&self, e: &Self) -> Option<Self> {
        let d = Blocks {
            heap_hit: self.heap_hit - e.heap_hit,
            heap_read: self.heap_read - e.heap_read,
            idx_hit: self.idx_hit - e.idx_hit,
            idx_read: self.idx_read - e.idx_read,
        };
        (d.heap_hit >= 0 && d.heap_read >= 0 && d.idx_hit >= 0 && d.idx_read >= 0).then_some(d)
    }
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    crate::checks::require_ratio("min_ratio", params.min_ratio)?;
    Ok(Arc::new(CacheHit {
        target: pg_target(input)?,
        window: Window::from_param(params.window, input.spec.timeout)?,
        params,
    }))
}

const SQL: &str = "
SELECT (SELECT coalesce(sum(heap_blks_hit), 0) FROM pg_statio_user_tables)::bigint AS heap_hit,
       (SELECT coalesce(sum(heap_blks_read), 0) FROM pg_statio_user_tables)::bigint AS heap_read,
       (SELECT coalesce(sum(idx_blks_hit), 0) FROM pg_statio_user_indexes)::bigint AS idx_hit,
       (SELECT coalesce(sum(idx_blks_read), 0) FROM pg_statio_user_indexes)::bigint AS idx_read";

impl Check for CacheHit {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl CacheHit {
    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        ctx.trace(format!("querying pg_statio on {}", self.target.display_url));
        let sampled = self
            .window
            .sample(|| async {
                let r = rows(&pool, "pg_statio", sqlx::query(SQL)).await?;
                let Some(r) = r.first() else {
                    return Err(Outcome::error("pg_statio returned no row"));
                };
                Ok(Blocks {
                    heap_hit: col(r, "heap_hit")?,
                    heap_read: col(r, "heap_read")?,
                    idx_hit: col(r, "idx_hit")?,
                    idx_read: col(r, "idx_read")?,
                })
            })
            .await?;
        let (d, over) = match sampled {
            Sampled::Delta { delta, over } => (delta, over),
            Sampled::NotYet(why) => {
                return Ok(Outcome::insufficient_data(why).threshold(self.params.min_ratio))
            }
        };
        let span = self.window.describe(over);
        let (hh, hr, ih, ir) = (d.heap_hit, d.heap_read, d.idx_hit, d.idx_read);
        let ratio = |hit: i64, read: i64| {
            (hit + read >= self.params.min_blocks).then(|| hit as f64 / (hit + read) as f64)
        };
        let heap = ratio(hh, hr);
        let index = ratio(ih, ir);
        let evidence = |o: Outcome| {
            o.evidence("heap_blks_hit", hh)
                .evidence("heap_blks_read", hr)
                .evidence("idx_blks_hit", ih)
                .evidence("idx_blks_read", ir)
                .evidence("heap_ratio", heap)
                .evidence("index_ratio", index)
                .threshold(self.params.min_ratio)
        };
        let judged: Vec<(&str, f64)> = [("table", heap), ("index", index)]
            .into_iter()
            .filter_map(|(n, r)| r.map(|r| (n, r)))
            .collect();
        let Some(lowest) = judged.iter().map(|(_, r)| *r).reduce(f64::min) else {
            return Ok(evidence(Outcome::insufficient_data(format!(
                "only {} table and {} index block accesses {span} (need {})",
                hh + hr,
                ih + ir,
                self.params.min_blocks
            ))));
        };
        let shown: Vec<String> = judged
            .iter()
            .map(|(n, r)| format!("{n} {:.2}%", r * 100.0))
            .collect();
        let outcome = if lowest >= self.params.min_ratio {
            Outcome::pass(format!("cache hit ratio {} {span}", shown.join(", ")))
        } else {
            Outcome::fail(format!(
                "cache hit ratio {} {span} is below {:.2}%",
                shown.join(", "),
                self.params.min_ratio * 100.0
            ))
        };
        Ok(evidence(outcome.observed(lowest)))
    }
}
