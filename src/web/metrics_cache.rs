//! The `/metrics` page cache: rendered pages (plain and gzip) reused for a
//! short time while only results change, so that many concurrent scrapes of
//! a large config cost one render. Encoding itself lives in `exposition`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::engine::Engine;
use crate::exposition::{render_metrics, Format, Incremental};

/// Rendered `/metrics` pages, reused for at most `MAX_AGE` while only
/// results change; any change to the set of checks or the reload status
/// renders anew at once (a check removed by a reload vanishes immediately).
/// One page per (format, gzip) variant. One render at a time per variant:
/// while it runs, other scrapes get the page it replaces if that is younger
/// than `STALE_LIMIT` and of the same checks, instead of queueing behind
/// the render. Keeps scrapes of 10,000 checks cheap when many arrive at once.
#[derive(Debug, Default)]
pub struct MetricsCache {
    variants: std::sync::Mutex<HashMap<(Format, bool), Arc<Variant>>>,
    /// The Prometheus text page's per-check lines, kept between renders:
    /// a render re-encodes only the checks whose result changed.
    incremental: Arc<std::sync::Mutex<Incremental>>,
}

/// One (format, gzip) variant: its last page, and the lock held by the one
/// scrape rendering it.
#[derive(Debug, Default)]
struct Variant {
    page: std::sync::Mutex<Option<CachedPage>>,
    rendering: tokio::sync::Mutex<()>,
}

impl Variant {
    fn cached(&self) -> Option<CachedPage> {
        self.page.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Debug, Clone)]
struct CachedPage {
    /// Checks' generation, waivers holding, reload status and time.
    key: (u64, u64, bool, u64),
    results: u64,
    rendered_at: Instant,
    body: Bytes,
}

/// Gzip at the fastest level: the page is rendered at most once a second.
fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().unwrap_or_default()
}

impl MetricsCache {
    /// Longest time a page is served while newer results exist.
    pub const MAX_AGE: Duration = Duration::from_secs(1);
    /// Oldest page served while a newer one is being rendered.
    pub const STALE_LIMIT: Duration = Duration::from_secs(5);

    fn variant(&self, format: Format, gzipped: bool) -> Arc<Variant> {
        let mut variants = self.variants.lock().unwrap_or_else(|e| e.into_inner());
        variants.entry((format, gzipped)).or_default().clone()
    }

    /// The page in `format`, gzip-compressed when `gzipped`.
    pub async fn page(&self, engine: &Arc<Engine>, format: Format, gzipped: bool) -> Bytes {
        let variant = self.variant(format, gzipped);
        let key = || {
            let (structure, results) = engine.store.generations();
            // A waiver running out changes the page with no new result: the
            // count of waivers still holding is part of the key.
            let now = crate::clock::unix_now();
            let holding = engine
                .plan()
                .config
                .waivers
                .iter()
                .filter(|w| w.active_at(now))
                .count() as u64;
            let key = (
                structure,
                holding,
                engine.reload_status.successful(),
                engine.reload_status.success_timestamp().to_bits(),
            );
            (key, results)
        };
        let fresh = |c: &CachedPage, (key, results): ((u64, u64, bool, u64), u64)| {
            c.key == key && (c.results == results || c.rendered_at.elapsed() < Self::MAX_AGE)
        };
        if let Some(c) = variant.cached().filter(|c| fresh(c, key())) {
            return c.body;
        }
        let _guard = match variant.rendering.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Another scrape is rendering: its predecessor will do if
                // it shows the same checks and is recent enough.
                let (now, _) = key();
                if let Some(c) = variant
                    .cached()
                    .filter(|c| c.key == now && c.rendered_at.elapsed() < Self::STALE_LIMIT)
                {
                    return c.body;
                }
                let guard = variant.rendering.lock().await;
                if let Some(c) = variant.cached().filter(|c| fresh(c, key())) {
                    return c.body;
                }
                guard
            }
        };
        let (page_key, results) = key();
        let engine = engine.clone();
        let incremental = self.incremental.clone();
        let body: Bytes = tokio::task::spawn_blocking(move || {
            let text = match format {
                Format::Prometheus => incremental
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .render(&engine),
                Format::OpenMetrics => render_metrics(&engine, format),
            };
            if gzipped {
                gzip(&text)
            } else {
                text.into_bytes()
            }
        })
        .await
        .unwrap_or_else(|e| format!("# rendering failed: {e}\n").into_bytes())
        .into();
        *variant.page.lock().unwrap_or_else(|e| e.into_inner()) = Some(CachedPage {
            key: page_key,
            results,
            rendered_at: Instant::now(),
            body: body.clone(),
        });
        body
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use super::MetricsCache;
    use crate::checks::Outcome;
    use crate::engine::{load_plan, CheckMeta, Engine, Evaluation};
    use crate::exposition::Format;

    fn engine_of(dir: &std::path::Path, checks: &[&str]) -> Arc<Engine> {
        let file = dir.join("config.yaml");
        let entries: String = checks
            .iter()
            .map(|c| {
                format!(
                    "  - {{ name: {c}, kind: http, params: {{ url: \"http://127.0.0.1:1/\" }} }}\n"
                )
            })
            .collect();
        std::fs::write(&file, format!("checks:\n{entries}")).unwrap();
        Engine::new(&file, load_plan(&file).unwrap(), None)
    }

    fn passed() -> Evaluation {
        Evaluation {
            outcome: Outcome::pass("ok"),
            duration: Duration::from_millis(1),
            finished: SystemTime::now(),
            trace: Vec::new(),
        }
    }

    fn check_id(engine: &Engine, name: &str) -> u64 {
        engine.plan().check(name).map_or(0, |c| c.id)
    }

    /// While a render runs, a scrape gets the page it replaces instead of
    /// queueing, unless the set of checks changed: then it waits for a page
    /// that shows the new set.
    #[tokio::test]
    async fn scrapes_do_not_queue_behind_a_render_unless_the_checks_changed() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_of(dir.path(), &["a", "b"]);
        let cache = Arc::new(MetricsCache::default());
        let first = cache.page(&engine, Format::Prometheus, false).await;
        engine.store.record("a", check_id(&engine, "a"), &passed());
        tokio::time::sleep(MetricsCache::MAX_AGE + Duration::from_millis(50)).await;

        // A render in flight (its lock held): the older page is served at once.
        let variant = cache.variant(Format::Prometheus, false);
        let held = variant.rendering.lock().await;
        let stale = tokio::time::timeout(
            Duration::from_secs(1),
            cache.page(&engine, Format::Prometheus, false),
        )
        .await
        .expect("a scrape waited for the render in flight");
        assert_eq!(stale, first);

        // The checks changed (a reload): the old page is not served.
        let reloaded = engine_of(dir.path(), &["a", "c"]);
        engine.store.set_checks(
            reloaded
                .plan()
                .checks
                .iter()
                .map(|c| CheckMeta::from_planned(c))
                .collect(),
        );
        let waiting = tokio::spawn({
            let (cache, engine) = (cache.clone(), engine.clone());
            async move { cache.page(&engine, Format::Prometheus, false).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "served a page of the old checks");
        drop(held);
        let page = waiting.await.unwrap();
        let text = String::from_utf8_lossy(&page);
        assert!(
            text.contains("check=\"c\"") && !text.contains("check=\"b\""),
            "{text}"
        );
    }
}
