//! The `/metrics` page cache: rendered pages (plain and gzip) reused for a
//! short time while only results change, so that many concurrent scrapes of
//! a large config cost one render. Encoding itself lives in `exposition`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::engine::Engine;
use crate::exposition::{render_metrics, Format, Incremental, IncrementalGzip, TextPage};

/// Size of the chunks a streamed page is sent in.
const CHUNK: usize = 64 * 1024;

/// A rendered page: whole bytes (gzip, OpenMetrics), or the Prometheus text
/// page streamed from the kept per-check lines (never concatenated).
#[derive(Debug, Clone)]
pub enum Page {
    Whole(Bytes),
    Text(Arc<TextPage>),
}

impl Page {
    /// The body's size in bytes (its Content-Length).
    pub fn len(&self) -> usize {
        match self {
            Page::Whole(b) => b.len(),
            Page::Text(t) => t.len(),
        }
    }

    /// The response body, streamed in chunks for a text page.
    pub fn into_body(self) -> axum::body::Body {
        match self {
            Page::Whole(b) => axum::body::Body::from(b),
            Page::Text(t) => axum::body::Body::from_stream(futures_util::stream::iter(
                t.chunks(CHUNK)
                    .map(|c| Ok::<_, std::convert::Infallible>(Bytes::from(c))),
            )),
        }
    }

    /// The whole page in one buffer (tests).
    #[cfg(test)]
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Page::Whole(b) => b.clone(),
            Page::Text(t) => Bytes::from(t.to_text()),
        }
    }
}

/// Rendered `/metrics` pages, reused for at most `MAX_AGE` while only
/// results change; any change to the set of checks or the reload status
/// renders anew at once (a check removed by a reload vanishes immediately).
/// One page per (format, gzip) variant. One render at a time per variant:
/// while it runs, other scrapes get the page it replaces if that is younger
/// than `STALE_LIMIT` and of the same checks, instead of queueing behind
/// the render. A scrape that finds the page older than `MAX_AGE` but younger
/// than `REVALIDATE_LIMIT` (scrapes arriving without pause) gets it at once
/// and starts the render in the background; a scrape after a pause (one
/// Prometheus) waits for a fresh page. Keeps scrapes of 100,000 checks cheap
/// when many arrive at once: no scrape waits for a render then.
#[derive(Debug, Default)]
pub struct MetricsCache {
    variants: std::sync::Mutex<HashMap<(Format, bool), Arc<Variant>>>,
    /// The Prometheus text page's per-check lines, kept between renders:
    /// a render re-encodes only the checks whose result changed.
    incremental: Arc<std::sync::Mutex<Incremental>>,
    /// The gzip page's compressed segments, kept between renders: a render
    /// recompresses only the segments whose text changed.
    gzip: Arc<std::sync::Mutex<IncrementalGzip>>,
}

/// One (format, gzip) variant: its last page, and the lock held by the one
/// scrape rendering it.
#[derive(Debug, Default)]
struct Variant {
    page: std::sync::Mutex<Option<CachedPage>>,
    rendering: Arc<tokio::sync::Mutex<()>>,
}

impl Variant {
    fn cached(&self) -> Option<CachedPage> {
        self.page.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn keep(&self, page: CachedPage) {
        *self.page.lock().unwrap_or_else(|e| e.into_inner()) = Some(page);
    }

    /// The cached page if it shows the checks of `key` and is younger than
    /// `limit`, whatever results it shows.
    fn recent(&self, key: PageKey, limit: Duration) -> Option<CachedPage> {
        self.cached()
            .filter(|c| c.key == key && c.rendered_at.elapsed() < limit)
    }
}

/// Checks' generation, waivers holding, reload status and time.
type PageKey = (u64, u64, bool, u64);

#[derive(Debug, Clone)]
struct CachedPage {
    key: PageKey,
    results: u64,
    rendered_at: Instant,
    body: Page,
}

/// Gzip at the fastest level (the page is rendered at most once a second).
fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text);
    encoder.finish().unwrap_or_default()
}

impl MetricsCache {
    /// Longest time a page is served while newer results exist.
    pub const MAX_AGE: Duration = Duration::from_secs(1);
    /// Oldest page served while a newer one is being rendered.
    pub const STALE_LIMIT: Duration = Duration::from_secs(5);
    /// Oldest page a scrape gets at once while it starts the render of the
    /// next one in the background.
    pub const REVALIDATE_LIMIT: Duration = Duration::from_secs(2);

    fn variant(&self, format: Format, gzipped: bool) -> Arc<Variant> {
        let mut variants = self.variants.lock().unwrap_or_else(|e| e.into_inner());
        variants.entry((format, gzipped)).or_default().clone()
    }

    /// The page in `format`, gzip-compressed when `gzipped`.
    pub async fn page(&self, engine: &Arc<Engine>, format: Format, gzipped: bool) -> Page {
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
        let fresh = |c: &CachedPage, (key, results): (PageKey, u64)| {
            c.key == key && (c.results == results || c.rendered_at.elapsed() < Self::MAX_AGE)
        };
        let current = key();
        if let Some(c) = variant.cached().filter(|c| fresh(c, current)) {
            return c.body;
        }
        let guard = match variant.rendering.clone().try_lock_owned() {
            Ok(guard) => {
                if let Some(c) = variant.recent(current.0, Self::REVALIDATE_LIMIT) {
                    // Scrapes without pause: this one does not wait.
                    let render = self.render(engine, format, gzipped, current);
                    tokio::spawn(async move {
                        let _guard = guard;
                        variant.keep(render.await);
                    });
                    return c.body;
                }
                guard
            }
            Err(_) => {
                // Another scrape is rendering: its predecessor will do if
                // it shows the same checks and is recent enough.
                if let Some(c) = variant.recent(current.0, Self::STALE_LIMIT) {
                    return c.body;
                }
                let guard = variant.rendering.clone().lock_owned().await;
                if let Some(c) = variant.cached().filter(|c| fresh(c, key())) {
                    return c.body;
                }
                guard
            }
        };
        let page = self.render(engine, format, gzipped, key()).await;
        drop(guard);
        variant.keep(page.clone());
        page.body
    }

    /// Renders the page of `key` (checks and results as of now) off the
    /// runtime's workers.
    fn render(
        &self,
        engine: &Arc<Engine>,
        format: Format,
        gzipped: bool,
        (key, results): (PageKey, u64),
    ) -> impl std::future::Future<Output = CachedPage> + Send + 'static {
        let engine = engine.clone();
        let incremental = self.incremental.clone();
        let compressed = self.gzip.clone();
        let rendering = tokio::task::spawn_blocking(move || match format {
            Format::Prometheus => {
                let text = Arc::new(
                    incremental
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .render(&engine),
                );
                if gzipped {
                    let mut compressed = compressed.lock().unwrap_or_else(|e| e.into_inner());
                    Page::Whole(compressed.compress(text).into())
                } else {
                    Page::Text(text)
                }
            }
            Format::OpenMetrics => {
                let text = render_metrics(&engine, format);
                Page::Whole(if gzipped {
                    gzip(text.as_bytes()).into()
                } else {
                    text.into()
                })
            }
        });
        async move {
            let body = rendering
                .await
                .unwrap_or_else(|e| Page::Whole(format!("# rendering failed: {e}\n").into()));
            CachedPage {
                key,
                results,
                rendered_at: Instant::now(),
                body,
            }
        }
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

    /// `prodready_check_runs_total` of `check` on a page.
    fn runs_of(page: &super::Page, check: &str) -> Option<String> {
        let bytes = page.to_bytes();
        let label = format!("check=\"{check}\"");
        String::from_utf8_lossy(&bytes)
            .lines()
            .find(|l| l.starts_with("prodready_check_runs_total{") && l.contains(&label))
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    }

    /// Scrapes without pause (the page is past `MAX_AGE` but within
    /// `REVALIDATE_LIMIT`) get the page at once and the render happens
    /// behind them; a scrape after a pause waits for the newest results.
    #[tokio::test]
    async fn scrapes_without_pause_render_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_of(dir.path(), &["a"]);
        let cache = MetricsCache::default();
        let id = check_id(&engine, "a");
        engine.store.record("a", id, &passed());
        let first = cache.page(&engine, Format::Prometheus, false).await;
        assert_eq!(runs_of(&first, "a").as_deref(), Some("1"));

        engine.store.record("a", id, &passed());
        tokio::time::sleep(MetricsCache::MAX_AGE + Duration::from_millis(50)).await;
        let at_once = cache.page(&engine, Format::Prometheus, false).await;
        assert_eq!(
            runs_of(&at_once, "a").as_deref(),
            Some("1"),
            "the scrape waited for the render instead of getting the page it replaces"
        );
        // The render behind it lands: the next scrape shows the new result.
        let variant = cache.variant(Format::Prometheus, false);
        let rendered = variant.cached().map(|c| c.rendered_at);
        tokio::time::timeout(Duration::from_secs(5), async {
            while variant.cached().map(|c| c.rendered_at) == rendered {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("no render happened behind the scrape");
        let next = cache.page(&engine, Format::Prometheus, false).await;
        assert_eq!(runs_of(&next, "a").as_deref(), Some("2"));

        // After a pause the page is too old to hand out: the scrape waits.
        engine.store.record("a", id, &passed());
        tokio::time::sleep(MetricsCache::REVALIDATE_LIMIT + Duration::from_millis(50)).await;
        let after_pause = cache.page(&engine, Format::Prometheus, false).await;
        assert_eq!(runs_of(&after_pause, "a").as_deref(), Some("3"));
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
        assert_eq!(stale.to_bytes(), first.to_bytes());

        // The checks changed (a reload): the old page is not served.
        let reloaded = engine_of(dir.path(), &["a", "c"]);
        engine.store.set_checks(
            reloaded
                .plan()
                .checks
                .iter()
                .map(CheckMeta::from_planned)
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
        let page = page.to_bytes();
        let text = String::from_utf8_lossy(&page);
        assert!(
            text.contains("check=\"c\"") && !text.contains("check=\"b\""),
            "{text}"
        );
    }
}
