//! Kind `compression`: text resources over 1 KiB come compressed when the
//! client accepts `br, gzip`, with `Vary: Accept-Encoding`. The observed value
//! is the compression ratio (identity bytes / compressed bytes).

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{fetch, http_target, resolve_urls, DEFAULT_BODY_CAP};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{ByteSize, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.compression"),
    unit: "ratio",
    summary: "text resources over 1 KiB are served compressed with Vary: Accept-Encoding",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** each URL with `Accept-Encoding: identity` (size) and with `Accept-Encoding: br, gzip`.
- **Passes** when every resource of at least `min_size` comes with `Content-Encoding` br/gzip/zstd/deflate and `Vary: Accept-Encoding`. Observed value: identity bytes / compressed bytes.
- **Fails** on an uncompressed resource, a missing `Vary`, or a non-2xx answer. **Unknown** when no resource reaches `min_size`."#,
    ..KindInfo::new(
        "compression",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_size() -> ByteSize {
    ByteSize(1024)
}

/// Params of the `compression` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Text resources (HTML, CSS, JS, JSON, SVG), relative to the target.
    /// Default: the target's URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Resources smaller than this (uncompressed) are not judged. Default 1KiB.
    #[serde(default = "default_min_size")]
    pub min_size: ByteSize,
}

#[derive(Debug)]
struct Compression {
    target: Arc<HttpTarget>,
    urls: Vec<reqwest::Url>,
    min_size: u64,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let target = http_target(input)?;
    let urls = resolve_urls(&target, "urls", &params.urls)?;
    Ok(Arc::new(Compression {
        target,
        urls,
        min_size: params.min_size.0,
    }))
}

/// Encodings that count as compressed.
pub fn is_compressed_encoding(value: &str) -> bool {
    value.split(',').any(|e| {
        matches!(
            e.trim().to_ascii_lowercase().as_str(),
            "br" | "gzip" | "zstd" | "deflate"
        )
    })
}

pub fn varies_on_encoding(vary: Option<&str>) -> bool {
    vary.is_some_and(|v| {
        v.split(',')
            .any(|h| h.trim() == "*" || h.trim().eq_ignore_ascii_case("accept-encoding"))
    })
}

impl Check for Compression {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut problems = Vec::new();
            let mut judged = 0usize;
            let (mut identity_total, mut compressed_total) = (0u64, 0u64);
            let mut evidence = Vec::new();
            for url in &self.urls {
                let identity = self
                    .target
                    .request(Method::GET, url.clone())
                    .header("accept-encoding", "identity");
                let identity = match fetch(ctx, identity, DEFAULT_BODY_CAP).await {
                    Ok(a) => a,
                    Err(e) => return Outcome::error(e),
                };
                let size = identity.body.len() as u64;
                if !(200..300).contains(&identity.status) {
                    problems.push(format!("{url} answered {}", identity.status));
                    continue;
                }
                if size < self.min_size {
                    evidence.push(
                        json!({"url": url.as_str(), "identity_bytes": size, "judged": false}),
                    );
                    continue;
                }
                let compressed = self
                    .target
                    .request(Method::GET, url.clone())
                    .header("accept-encoding", "br, gzip");
                let compressed = match fetch(ctx, compressed, DEFAULT_BODY_CAP).await {
                    Ok(a) => a,
                    Err(e) => return Outcome::error(e),
                };
                judged += 1;
                let encoding = compressed
                    .header("content-encoding")
                    .unwrap_or_default()
                    .to_owned();
                let vary = compressed.header_all("vary");
                let compressed_bytes = compressed.body.len() as u64;
                if !is_compressed_encoding(&encoding) {
                    problems.push(format!("{url} ({size} bytes) is not compressed"));
                } else {
                    identity_total += size;
                    compressed_total += compressed_bytes;
                    if !varies_on_encoding(vary.as_deref()) {
                        problems.push(format!(
                            "{url} is compressed but lacks Vary: Accept-Encoding"
                        ));
                    }
                }
                evidence.push(json!({
                    "url": url.as_str(),
                    "identity_bytes": size,
                    "content_encoding": encoding,
                    "compressed_bytes": compressed_bytes,
                    "vary": vary,
                }));
            }
            let ratio =
                (compressed_total > 0).then(|| identity_total as f64 / compressed_total as f64);
            let outcome = if !problems.is_empty() {
                Outcome::fail(problems.join("; "))
            } else if judged == 0 {
                Outcome::unknown(format!(
                    "no resource of at least {} bytes to judge",
                    self.min_size
                ))
            } else {
                Outcome::pass(format!(
                    "{judged} resource(s) compressed, ratio {:.1}",
                    ratio.unwrap_or(1.0)
                ))
            };
            let outcome = match ratio {
                Some(r) => outcome.observed(r),
                None => outcome,
            };
            outcome.evidence("resources", evidence)
        })
    }
}
