//! Kind `cache_headers`: static assets are cacheable for long (max-age over a
//! floor, or immutable) with a validator (ETag or Last-Modified); HTML is not
//! cached forever.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{directives, fetch, http_target, max_age, resolve_urls, Fetched};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{ConfigDuration, TargetType};
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.caching"),
    unit: "count",
    summary: "assets have long max-age (or immutable) and a validator; HTML is not cached forever",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Passes** when every asset has `max-age`/`s-maxage` >= the floor (or `immutable`), no `no-store`/`no-cache`, and a validator (ETag or Last-Modified), and no HTML page is `immutable` or cacheable longer than `max_html_max_age`.
- **Fails** listing each offending URL and reason. Observed value: offending URLs."#,
    ..KindInfo::new(
        "cache_headers",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_asset_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(7 * 86_400))
}
const fn default_max_html_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(3_600))
}

/// Params of the `cache_headers` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Static asset URLs (CSS, JS, images, fonts), relative to the target.
    #[serde(default)]
    pub assets: Vec<String>,
    /// HTML page URLs. Default: the target's URL when `assets` is empty.
    #[serde(default)]
    pub html: Vec<String>,
    /// Assets must be cacheable at least this long (or immutable). Default 7d.
    #[serde(default = "default_min_asset_max_age")]
    pub min_asset_max_age: ConfigDuration,
    /// HTML must not be cacheable longer than this. Default 1h.
    #[serde(default = "default_max_html_max_age")]
    pub max_html_max_age: ConfigDuration,
}

#[derive(Debug)]
struct CacheHeaders {
    target: Arc<HttpTarget>,
    assets: Vec<reqwest::Url>,
    html: Vec<reqwest::Url>,
    min_asset: u64,
    max_html: u64,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let target = http_target(input)?;
    let assets = if params.assets.is_empty() {
        Vec::new()
    } else {
        resolve_urls(&target, "assets", &params.assets)?
    };
    let html = if params.html.is_empty() && !assets.is_empty() {
        Vec::new()
    } else {
        resolve_urls(&target, "html", &params.html)?
    };
    Ok(Arc::new(CacheHeaders {
        target,
        assets,
        html,
        min_asset: params.min_asset_max_age.0.as_secs(),
        max_html: params.max_html_max_age.0.as_secs(),
    }))
}

/// Problems with an asset's caching headers.
pub fn asset_problems(answer: &Fetched, min_max_age: u64) -> Vec<String> {
    let cc = answer.header_all("cache-control").unwrap_or_default();
    let d = directives(&cc);
    let immutable = d.iter().any(|(k, _)| k == "immutable");
    let no_store = d.iter().any(|(k, _)| k == "no-store" || k == "no-cache");
    let age = max_age(&cc, &["max-age", "s-maxage"]);
    let mut problems = Vec::new();
    if no_store {
        problems.push(format!("Cache-Control {cc:?} forbids caching"));
    } else if !immutable && age.is_none_or(|a| a < min_max_age) {
        problems.push(match age {
            Some(a) => format!("max-age {a}s is under {min_max_age}s"),
            None if cc.is_empty() => "no Cache-Control".to_owned(),
            None => format!("Cache-Control {cc:?} has no max-age"),
        });
    }
    if answer.header("etag").is_none() && answer.header("last-modified").is_none() {
        problems.push("no validator (ETag or Last-Modified)".to_owned());
    }
    problems
}

/// Problems with an HTML page's caching headers.
pub fn html_problems(answer: &Fetched, max_max_age: u64) -> Vec<String> {
    let cc = answer.header_all("cache-control").unwrap_or_default();
    let d = directives(&cc);
    let mut problems = Vec::new();
    if d.iter().any(|(k, _)| k == "immutable") {
        problems.push("HTML marked immutable".to_owned());
    }
    if let Some(age) = max_age(&cc, &["max-age", "s-maxage"]) {
        if age > max_max_age {
            problems.push(format!(
                "HTML cacheable for {age}s, more than {max_max_age}s"
            ));
        }
    }
    problems
}

impl Check for CacheHeaders {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut offenders = Vec::new();
            let mut evidence = Vec::new();
            let jobs = self
                .assets
                .iter()
                .map(|u| (u, true))
                .chain(self.html.iter().map(|u| (u, false)));
            for (url, is_asset) in jobs {
                let request = self.target.request(Method::GET, url.clone());
                let answer = match fetch(ctx, request, 64 * 1024).await {
                    Ok(a) => a,
                    Err(e) => return Outcome::error(e),
                };
                let problems = if !(200..300).contains(&answer.status) {
                    vec![format!("answered {}", answer.status)]
                } else if is_asset {
                    asset_problems(&answer, self.min_asset)
                } else {
                    html_problems(&answer, self.max_html)
                };
                if !problems.is_empty() {
                    offenders.push(format!("{url}: {}", problems.join(", ")));
                }
                evidence.push(json!({
                    "url": url.as_str(),
                    "kind": if is_asset { "asset" } else { "html" },
                    "cache_control": answer.header_all("cache-control"),
                    "etag": answer.header("etag").is_some(),
                    "last_modified": answer.header("last-modified").is_some(),
                    "problems": problems,
                }));
            }
            let checked = self.assets.len() + self.html.len();
            let outcome = if offenders.is_empty() {
                Outcome::pass(format!("{checked} URL(s) have sound caching headers"))
            } else {
                Outcome::fail(offenders.join("; "))
            };
            outcome
                .observed(offenders.len() as f64)
                .threshold(0.0)
                .evidence("urls", evidence)
        })
    }
}
