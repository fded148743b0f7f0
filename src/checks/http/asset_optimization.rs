//! Kind `asset_optimization`: fetches a page, collects its JS, CSS and image
//! URLs (same origin, at most N) and checks each: text compressed, JS/CSS
//! minified (heuristic), size within budget, fingerprinted name with a long
//! max-age. The evidence lists the offenders with their bytes.

use std::sync::{Arc, OnceLock};

use regex::Regex;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::compression::is_compressed_encoding;
use super::{directives, fetch, http_target, max_age, resolve_urls, DEFAULT_BODY_CAP};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{ByteSize, ConfigDuration, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.asset_optimization"),
    unit: "count",
    summary: "page assets: compressed, minified, within budget, fingerprinted with long max-age",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** the page, its `<script src>`, `<link rel=stylesheet href>` and `<img src>` on the same origin (others are counted and skipped), and each asset (identity, and with `br, gzip` for text).
- **Passes** when every asset is within budget, text assets over 1 KiB are compressed and look minified (long lines or little whitespace), names carry a content hash (a run of at least 8 letters, digits, `_` or `-` holding both a letter and a digit, just before the extension and after `.`, `-` or `_`: `app.3f9a1c2b.js`, `main-Bx7k2QpL.css`; `app.js?v=3` and `app.v2.js` are not fingerprinted), and fingerprinted assets have `max-age` >= `min_max_age` or `immutable`.
- **Fails** listing each offender with its bytes and problems. **Unknown** when the page references no same-origin asset. **Errors** when the page itself does not answer 2xx."#,
    ..KindInfo::new(
        "asset_optimization",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_assets() -> usize {
    20
}
const fn default_max_asset_size() -> ByteSize {
    ByteSize(512 * 1024)
}
const fn default_min_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(30 * 86_400))
}

/// Params of the `asset_optimization` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The page, relative to the target. Default: the target's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Most assets checked. Default 20.
    #[serde(default = "default_max_assets")]
    pub max_assets: usize,
    /// Budget per asset (uncompressed). Default 512KiB.
    #[serde(default = "default_max_asset_size")]
    pub max_asset_size: ByteSize,
    /// Fingerprinted assets must be cacheable this long. Default 30d.
    #[serde(default = "default_min_max_age")]
    pub min_max_age: ConfigDuration,
    /// Require fingerprinted file names. Default true.
    #[serde(default = "default_true")]
    pub require_fingerprint: bool,
}

const fn default_true() -> bool {
    true
}

#[derive(Debug)]
struct AssetOptimization {
    target: Arc<HttpTarget>,
    page: reqwest::Url,
    params: Params,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.max_assets == 0 || params.max_assets > 100 {
        return Err(ParamError::new(
            "params.max_assets",
            "must be between 1 and 100",
        ));
    }
    let target = http_target(input)?;
    let page = resolve_urls(&target, "url", params.url.as_slice())?.remove(0);
    Ok(Arc::new(AssetOptimization {
        target,
        page,
        params,
    }))
}

/// The kinds of asset a page references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    Script,
    Style,
    Image,
}

/// Asset references in HTML: `<script src>`, `<link rel=stylesheet href>`, `<img src>`.
pub fn asset_refs(html: &str) -> Vec<(AssetKind, String)> {
    static RE: OnceLock<[Regex; 4]> = OnceLock::new();
    let [tag, src, href, rel] = RE.get_or_init(|| {
        let re = |p: &str| Regex::new(p).unwrap_or_else(|e| unreachable!("static regex: {e}"));
        [
            re(r"(?is)<(script|link|img)\b[^>]*>"),
            re(r#"(?is)\bsrc\s*=\s*["']?([^"'\s>]+)"#),
            re(r#"(?is)\bhref\s*=\s*["']?([^"'\s>]+)"#),
            re(r#"(?is)\brel\s*=\s*["']?[^"'>]*stylesheet"#),
        ]
    });
    let mut refs = Vec::new();
    for m in tag.captures_iter(html) {
        let whole = &m[0];
        let name = m[1].to_ascii_lowercase();
        let found = match name.as_str() {
            "script" => src
                .captures(whole)
                .map(|c| (AssetKind::Script, c[1].to_owned())),
            "img" => src
                .captures(whole)
                .map(|c| (AssetKind::Image, c[1].to_owned())),
            "link" if rel.is_match(whole) => href
                .captures(whole)
                .map(|c| (AssetKind::Style, c[1].to_owned())),
            _ => None,
        };
        if let Some(r) = found {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    refs
}

/// A content hash in the file name: `app.3f9a1c2b.js`, `main-Bx7k2QpL.css`.
pub fn is_fingerprinted(path: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"[.\-_]([0-9a-fA-F]{8,}|[0-9A-Za-z_-]{8,})\.[a-z0-9]+$")
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let file = path.rsplit('/').next().unwrap_or(path);
    re.captures(file).is_some_and(|c| {
        let hash = &c[1];
        hash.chars().any(|ch| ch.is_ascii_digit())
            && hash.chars().any(|ch| ch.is_ascii_alphabetic())
    })
}

/// Heuristic: minified code has long lines and little whitespace.
pub fn looks_minified(code: &str) -> bool {
    if code.len() < 1024 {
        return true;
    }
    let lines = code.lines().count().max(1);
    let avg_line = code.len() / lines;
    let whitespace = code.chars().filter(|c| c.is_whitespace()).count() as f64 / code.len() as f64;
    avg_line >= 120 || whitespace < 0.12
}

impl AssetOptimization {
    /// One asset fetched and judged: its problems (size, compression,
    /// minification, fingerprint and cache lifetime), if any, and what was seen.
    async fn judge_asset(
        &self,
        ctx: &Context,
        kind: AssetKind,
        url: &reqwest::Url,
    ) -> Result<(Option<serde_json::Value>, serde_json::Value), Outcome> {
        let min_age = self.params.min_max_age.0.as_secs();
        let budget = self.params.max_asset_size.0;
        let identity = self
            .target
            .request(Method::GET, url.clone())
            .header("accept-encoding", "identity");
        let plain = match fetch(ctx, identity, budget + 1).await {
            Ok(a) => a,
            Err(e) => return Err(Outcome::error(e)),
        };
        let mut problems = Vec::new();
        if !(200..300).contains(&plain.status) {
            problems.push(format!("answered {}", plain.status));
        }
        let bytes = plain.body.len() as u64;
        if plain.truncated {
            problems.push(format!("larger than the {budget}-byte budget"));
        }
        let is_text = kind != AssetKind::Image;
        if is_text && bytes >= 1024 {
            let compressed = self
                .target
                .request(Method::GET, url.clone())
                .header("accept-encoding", "br, gzip");
            match fetch(ctx, compressed, 1).await {
                Ok(c)
                    if is_compressed_encoding(c.header("content-encoding").unwrap_or_default()) => {
                }
                Ok(_) => problems.push("not compressed".to_owned()),
                Err(e) => return Err(Outcome::error(e)),
            }
            if !plain.truncated && !looks_minified(&plain.text()) {
                problems.push("not minified".to_owned());
            }
        }
        let cc = plain.header_all("cache-control").unwrap_or_default();
        let long_lived = directives(&cc).iter().any(|(k, _)| k == "immutable")
            || max_age(&cc, &["max-age", "s-maxage"]).is_some_and(|a| a >= min_age);
        let fingerprinted = is_fingerprinted(url.path());
        if self.params.require_fingerprint && !fingerprinted {
            problems.push("file name has no content hash".to_owned());
        }
        if fingerprinted && !long_lived {
            problems.push(format!("fingerprinted but max-age under {min_age}s"));
        }
        let offender = (!problems.is_empty())
            .then(|| json!({"url": url.as_str(), "bytes": bytes, "problems": problems}));
        Ok((
            offender,
            json!({"url": url.as_str(), "kind": format!("{kind:?}"), "bytes": bytes, "cache_control": cc}),
        ))
    }
}

impl Check for AssetOptimization {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let page = match fetch(
                ctx,
                self.target.request(Method::GET, self.page.clone()),
                DEFAULT_BODY_CAP,
            )
            .await
            {
                Ok(p) => p,
                Err(e) => return Outcome::error(e),
            };
            if !(200..300).contains(&page.status) {
                return Outcome::error(format!("{} answered {}", self.page, page.status));
            }
            let refs = asset_refs(&page.text());
            let mut assets = Vec::new();
            let mut foreign = 0;
            for (kind, r) in refs {
                match self.target.resolve(&r) {
                    Ok(u) if assets.len() < self.params.max_assets => assets.push((kind, u)),
                    Ok(_) => {}
                    Err(_) => foreign += 1,
                }
            }
            if assets.is_empty() {
                return Outcome::unknown(format!(
                    "{} references no same-origin scripts, styles or images ({foreign} on other origins)",
                    self.page
                ));
            }
            let mut offenders = Vec::new();
            let mut evidence = Vec::new();
            for (kind, url) in &assets {
                match self.judge_asset(ctx, *kind, url).await {
                    Ok((offender, seen)) => {
                        offenders.extend(offender);
                        evidence.push(seen);
                    }
                    Err(outcome) => return outcome,
                }
            }
            let outcome = if offenders.is_empty() {
                Outcome::pass(format!(
                    "{} asset(s) of {} are optimized",
                    assets.len(),
                    self.page
                ))
            } else {
                let names: Vec<String> = offenders
                    .iter()
                    .map(|o| {
                        format!(
                            "{} ({} bytes): {}",
                            o["url"].as_str().unwrap_or_default(),
                            o["bytes"],
                            o["problems"]
                                .as_array()
                                .map(|p| p
                                    .iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                Outcome::fail(format!(
                    "{} of {} asset(s) need work: {}",
                    offenders.len(),
                    assets.len(),
                    names.join("; ")
                ))
            };
            outcome
                .observed(offenders.len() as f64)
                .threshold(0.0)
                .evidence("offenders", offenders)
                .evidence("assets", evidence)
                .evidence("foreign_assets_skipped", foreign)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_asset_references() {
        let html = r#"<html><head><link rel="stylesheet" href="/css/site.3f9a1c2b.css">
            <link rel="icon" href="/favicon.ico"><script src='/js/app.js'></script>
            <script>inline()</script></head><body><IMG SRC=/img/logo.png alt=x></body></html>"#;
        assert_eq!(
            asset_refs(html),
            vec![
                (AssetKind::Style, "/css/site.3f9a1c2b.css".to_owned()),
                (AssetKind::Script, "/js/app.js".to_owned()),
                (AssetKind::Image, "/img/logo.png".to_owned()),
            ]
        );
    }

    #[test]
    fn recognises_fingerprints() {
        for yes in [
            "/a/app.3f9a1c2b.js",
            "/main-Bx7k2QpL.css",
            "/chunk.4e5f6a7b8c9d.js",
        ] {
            assert!(is_fingerprinted(yes), "{yes}");
        }
        for no in [
            "/js/app.js",
            "/css/stylesheet.css",
            "/img/background-image.png",
        ] {
            assert!(!is_fingerprinted(no), "{no}");
        }
    }

    #[test]
    fn minification_heuristic() {
        let minified = "var a=1;".repeat(400);
        let pretty = "function add(a, b) {\n    return a + b;\n}\n\n".repeat(60);
        assert!(looks_minified(&minified));
        assert!(!looks_minified(&pretty));
    }
}
