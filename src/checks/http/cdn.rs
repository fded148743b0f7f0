//! Kind `cdn`: the response carries a CDN's headers (a vendor table with
//! examples) and a second request for the same URL is a cache hit.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;

use super::{fetch, http_target, require_success, resolve_urls, Fetched};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.cdn"),
    unit: "boolean",
    summary: "CDN vendor headers present and a repeated request is a cache hit",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Errors** unless both answers are 2xx.
- **Reads:** two GETs. Vendor table (each entry with example values, tested): `CF-Cache-Status`, `CF-Ray` (Cloudflare), `X-Amz-Cf-Id`, `X-Amz-Cf-Pop` (CloudFront), `X-Served-By`, `X-Cache-Hits` (Fastly/Varnish), `X-Akamai-Transformed`, `X-Azure-Ref`, `X-Vercel-Cache`, `X-Nf-Request-Id`, `X-Goog-Cache-Status`, `X-Cache`, `X-Cache-Status`, `Via`; plus `Age`.
- **Passes** when CDN/cache headers are present and the second answer is a hit (a hit value or `Age` > 0). Observed value: 1 for a hit.
- **Fails** when no CDN header is seen, or the repeated request is not a hit."#,
    ..KindInfo::new(
        "cdn",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// A header that reveals a CDN or cache, and how it says "hit".
#[derive(Debug)]
pub struct CdnHeader {
    pub vendor: &'static str,
    pub header: &'static str,
    /// Lowercase substring of the value that means "hit" ("" when the
    /// header says nothing about hits).
    pub hit: &'static str,
    /// Example values: (value, is a hit).
    pub examples: &'static [(&'static str, bool)],
}

pub static CDN_HEADERS: &[CdnHeader] = &[
    CdnHeader {
        vendor: "Cloudflare",
        header: "cf-cache-status",
        hit: "hit",
        examples: &[("HIT", true), ("MISS", false), ("DYNAMIC", false)],
    },
    CdnHeader {
        vendor: "Cloudflare",
        header: "cf-ray",
        hit: "",
        examples: &[("8a1b2c3d4e5f6a7b-FRA", false)],
    },
    CdnHeader {
        vendor: "Amazon CloudFront",
        header: "x-amz-cf-id",
        hit: "",
        examples: &[("Nq1H2bL3s4e5Xy==", false)],
    },
    CdnHeader {
        vendor: "Amazon CloudFront",
        header: "x-amz-cf-pop",
        hit: "",
        examples: &[("FRA56-P1", false)],
    },
    CdnHeader {
        vendor: "Fastly",
        header: "x-served-by",
        hit: "",
        examples: &[("cache-fra-eddf8230123-FRA", false)],
    },
    CdnHeader {
        vendor: "Fastly/Varnish",
        header: "x-cache-hits",
        hit: "",
        examples: &[("1", false)],
    },
    CdnHeader {
        vendor: "Akamai",
        header: "x-akamai-transformed",
        hit: "",
        examples: &[("9 - 0 pmb=mRUM,1", false)],
    },
    CdnHeader {
        vendor: "Azure Front Door",
        header: "x-azure-ref",
        hit: "",
        examples: &[("0xyzABC", false)],
    },
    CdnHeader {
        vendor: "Vercel",
        header: "x-vercel-cache",
        hit: "hit",
        examples: &[("HIT", true), ("MISS", false), ("STALE", false)],
    },
    CdnHeader {
        vendor: "Netlify",
        header: "x-nf-request-id",
        hit: "",
        examples: &[("01HABCDEF", false)],
    },
    CdnHeader {
        vendor: "Google Cloud CDN",
        header: "x-goog-cache-status",
        hit: "hit",
        examples: &[("HIT", true), ("MISS", false)],
    },
    CdnHeader {
        vendor: "generic cache (CloudFront, Fastly, Varnish, nginx)",
        header: "x-cache",
        hit: "hit",
        examples: &[
            ("Hit from cloudfront", true),
            ("HIT, HIT", true),
            ("Miss from cloudfront", false),
            ("MISS", false),
        ],
    },
    CdnHeader {
        vendor: "generic cache (nginx)",
        header: "x-cache-status",
        hit: "hit",
        examples: &[("HIT", true), ("MISS", false), ("EXPIRED", false)],
    },
    CdnHeader {
        vendor: "proxy (Via)",
        header: "via",
        hit: "",
        examples: &[
            ("1.1 varnish", false),
            ("1.1 abc.cloudfront.net (CloudFront)", false),
        ],
    },
];

/// Whether a header value from the table says "hit".
pub fn value_is_hit(entry: &CdnHeader, value: &str) -> bool {
    !entry.hit.is_empty() && value.to_ascii_lowercase().contains(entry.hit)
}

/// Vendors seen and whether any header (or a positive `Age`) says hit.
pub fn inspect(answer: &Fetched) -> (Vec<String>, bool) {
    let mut vendors = Vec::new();
    let mut hit = false;
    for entry in CDN_HEADERS {
        if let Some(value) = answer.header(entry.header) {
            let label = format!("{} ({}: {value})", entry.vendor, entry.header);
            if !vendors.contains(&label) {
                vendors.push(label);
            }
            hit |= value_is_hit(entry, value);
        }
    }
    let age = answer
        .header("age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .unwrap_or(0);
    (vendors, hit || age > 0)
}

/// Params of the `cdn` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// URL of a cacheable resource, relative to the target. Default: the target's URL.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug)]
struct Cdn {
    target: Arc<HttpTarget>,
    url: reqwest::Url,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let target = http_target(input)?;
    let url = resolve_urls(&target, "url", params.url.as_slice())?.remove(0);
    Ok(Arc::new(Cdn { target, url }))
}

impl Check for Cdn {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut answers = Vec::new();
            for _ in 0..2 {
                let request = self.target.request(Method::GET, self.url.clone());
                match fetch(ctx, request, 256 * 1024).await {
                    Ok(a) => {
                        if let Err(o) = require_success(&a, "CDN caching") {
                            return o;
                        }
                        answers.push(a)
                    }
                    Err(e) => return Outcome::error(e),
                }
            }
            let (vendors, _) = inspect(&answers[0]);
            let (second_vendors, second_hit) = inspect(&answers[1]);
            let all: Vec<String> =
                vendors
                    .into_iter()
                    .chain(second_vendors)
                    .fold(Vec::new(), |mut acc, v| {
                        if !acc.contains(&v) {
                            acc.push(v);
                        }
                        acc
                    });
            let outcome = if all.is_empty() {
                Outcome::fail(format!("{}: no CDN or cache headers seen", self.url))
            } else if !second_hit {
                Outcome::fail(format!(
                    "{}: served through {} but the repeated request was not a cache hit",
                    self.url,
                    all.join(", ")
                ))
            } else {
                Outcome::pass(format!(
                    "{}: cache hit on the repeated request via {}",
                    self.url,
                    all.join(", ")
                ))
            };
            outcome
                .observed(if second_hit { 1.0 } else { 0.0 })
                .evidence("url", self.url.as_str())
                .evidence("cdn_headers", all)
                .evidence("second_request_hit", second_hit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_table_examples_classify_hits() {
        for entry in CDN_HEADERS {
            assert!(
                !entry.examples.is_empty(),
                "{} has no examples",
                entry.header
            );
            for (value, is_hit) in entry.examples {
                assert_eq!(
                    value_is_hit(entry, value),
                    *is_hit,
                    "{}: {value}",
                    entry.header
                );
            }
        }
    }
}
