//! The `/metrics` page cache: rendered pages (plain and gzip) reused for a
//! short time while only results change, so that many concurrent scrapes of
//! a large config cost one render. Encoding itself lives in `exposition`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::engine::Engine;
use crate::exposition::{render_metrics, Format};

/// Rendered `/metrics` pages, reused for at most `MAX_AGE` while only
/// results change; any change to the set of checks or the reload status
/// renders anew at once (a check removed by a reload vanishes immediately).
/// One page per (format, gzip) variant. Keeps scrapes of 10,000 checks
/// cheap when many arrive at once.
#[derive(Debug, Default)]
pub struct MetricsCache {
    pages: tokio::sync::Mutex<HashMap<(Format, bool), CachedPage>>,
}

#[derive(Debug)]
struct CachedPage {
    key: (u64, bool, u64),
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

    /// The page in `format`, gzip-compressed when `gzipped`.
    pub async fn page(&self, engine: &Arc<Engine>, format: Format, gzipped: bool) -> Bytes {
        let (structure, results) = engine.store.generations();
        let key = (
            structure,
            engine.reload_status.successful(),
            engine.reload_status.success_timestamp().to_bits(),
        );
        let mut pages = self.pages.lock().await;
        if let Some(c) = pages.get(&(format, gzipped)) {
            if c.key == key && (c.results == results || c.rendered_at.elapsed() < Self::MAX_AGE) {
                return c.body.clone();
            }
        }
        let engine = engine.clone();
        let body: Bytes = tokio::task::spawn_blocking(move || {
            let text = render_metrics(&engine, format);
            if gzipped {
                gzip(&text)
            } else {
                text.into_bytes()
            }
        })
        .await
        .unwrap_or_else(|e| format!("# rendering failed: {e}\n").into_bytes())
        .into();
        pages.insert(
            (format, gzipped),
            CachedPage {
                key,
                results,
                rendered_at: Instant::now(),
                body: body.clone(),
            },
        );
        body
    }
}
