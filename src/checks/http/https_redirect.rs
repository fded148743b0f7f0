//! Kind `https_redirect`: the plain-HTTP URL redirects permanently to HTTPS on
//! the same host, followed hop by hop, and the final HTTPS answer carries HSTS
//! with a long enough max-age.

use std::sync::Arc;

use reqwest::header::LOCATION;
use reqwest::{Method, Url};
use serde::Deserialize;

use super::{directives, fetch, http_target, require_success, Fetched};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.ssl_https"),
    unit: "seconds",
    summary: "http:// redirects permanently to https:// on the same host; HSTS max-age",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** `GET http://<host>:<port><path>` (an `http://` target's own URL and port; for an `https://` target, port `http_port`, default 80), then each `Location` hop on the same host, then the final HTTPS answer's `Strict-Transport-Security`.
- **Passes** when the first answer is 301/308 (or 302/307 if accepted), every hop stays on the host, HTTPS is reached within `max_hops`, and HSTS has `max-age` >= the minimum (and `includeSubDomains` if required). Observed value: HSTS max-age.
- **Errors** when the final HTTPS page does not answer 2xx (HSTS on an error page proves nothing).
- **Fails** on a non-redirect answer over HTTP, a temporary redirect, a redirect to another host or back to HTTP, too many hops, missing or invalid HSTS, a short max-age."#,
    ..KindInfo::new(
        "https_redirect",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Six months, the HSTS preload list's floor.
const DEFAULT_MIN_HSTS: u64 = 15_552_000;
const HOP_BODY_CAP: u64 = 64 * 1024;

fn default_path() -> String {
    "/".into()
}
const fn default_max_hops() -> usize {
    5
}
const fn default_min_max_age() -> u64 {
    DEFAULT_MIN_HSTS
}

/// Params of the `https_redirect` kind. The plain-HTTP URL is the target's
/// own URL when it is `http://` (its port included), else
/// `http://<target host>:<http_port><path>`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Port of the plain-HTTP listener, for an `https://` target. Default 80.
    /// An `http://` target's own port is used instead.
    #[serde(default)]
    pub http_port: Option<u16>,
    /// Path requested over plain HTTP. Default `/`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Also accept temporary redirects (302, 307). Default false: only 301/308.
    #[serde(default)]
    pub accept_temporary: bool,
    /// Most redirects followed (at most 10). Default 5.
    #[serde(default = "default_max_hops")]
    pub max_hops: usize,
    /// Minimum HSTS max-age in seconds. Default 15552000 (180 days).
    #[serde(default = "default_min_max_age")]
    pub min_hsts_max_age: u64,
    /// Require `includeSubDomains` in HSTS. Default false.
    #[serde(default)]
    pub require_include_subdomains: bool,
}

#[derive(Debug)]
struct HttpsRedirect {
    target: Arc<HttpTarget>,
    start: Url,
    params: Params,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.max_hops == 0 || params.max_hops > 10 {
        return Err(ParamError::new(
            "params.max_hops",
            "must be between 1 and 10",
        ));
    }
    let target = http_target(input)?;
    let mut start = target.base_url.clone();
    if start.scheme() == "http" {
        if params.http_port.is_some() {
            return Err(ParamError::param(
                "http_port",
                "the target's URL is plain HTTP already and its port is probed; remove http_port (it is for https:// targets)",
            ));
        }
    } else {
        let _ = start.set_scheme("http");
        let _ = start.set_port(params.http_port.filter(|p| *p != 80));
    }
    start.set_path(&params.path);
    start.set_query(None);
    Ok(Arc::new(HttpsRedirect {
        target,
        start,
        params,
    }))
}

/// What an HSTS header says.
#[derive(Debug, PartialEq, Eq)]
pub struct Hsts {
    pub max_age: u64,
    pub include_subdomains: bool,
    pub preload: bool,
}

pub fn parse_hsts(value: &str) -> Option<Hsts> {
    let d = directives(value);
    let max_age = d
        .iter()
        .find(|(k, _)| k == "max-age")
        .and_then(|(_, v)| v.parse().ok())?;
    Some(Hsts {
        max_age,
        include_subdomains: d.iter().any(|(k, _)| k == "includesubdomains"),
        preload: d.iter().any(|(k, _)| k == "preload"),
    })
}

impl Check for HttpsRedirect {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            match self.walk(ctx).await {
                Ok((hops, last)) => self.judge_hsts(&hops, &last),
                Err(outcome) => outcome,
            }
        })
    }
}

impl HttpsRedirect {
    /// The plain-HTTP first hop (and any hop off the target's origin) goes
    /// without the target's credentials.
    fn get(&self, url: &Url) -> reqwest::RequestBuilder {
        self.target.request_scoped(Method::GET, url.clone())
    }

    /// Follows redirects from the plain-HTTP URL to the final HTTPS answer.
    async fn walk(&self, ctx: &Context) -> Result<(Vec<String>, Fetched), Outcome> {
        let host = self.start.host_str().unwrap_or_default().to_owned();
        let mut url = self.start.clone();
        let mut hops: Vec<String> = vec![format!("{url}")];
        loop {
            let answer = fetch(ctx, self.get(&url), HOP_BODY_CAP)
                .await
                .map_err(Outcome::error)?;
            let status = answer.status;
            let is_redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
            if url.scheme() == "https" && !is_redirect {
                require_success(&answer, "HSTS")?;
                return Ok((hops, answer));
            }
            if !is_redirect {
                return Err(Outcome::fail(format!(
                    "{url} answers {status} instead of redirecting to HTTPS"
                ))
                .evidence("hops", hops));
            }
            let permanent = matches!(status, 301 | 308);
            if url.scheme() == "http" && !permanent && !self.params.accept_temporary {
                return Err(Outcome::fail(format!(
                    "{url} redirects with {status} (temporary); expected 301 or 308"
                ))
                .evidence("hops", hops));
            }
            let Some(next) = answer
                .header(LOCATION.as_str())
                .and_then(|l| url.join(l).ok())
            else {
                return Err(Outcome::fail(format!(
                    "{url} answers {status} without a usable Location header"
                )));
            };
            if next.host_str() != Some(host.as_str()) {
                return Err(Outcome::fail(format!(
                    "{url} redirects to another host ({next}); not followed"
                ))
                .evidence("hops", hops));
            }
            if url.scheme() == "https" && next.scheme() == "http" {
                return Err(Outcome::fail(format!(
                    "{url} redirects back to plain HTTP ({next})"
                )));
            }
            hops.push(next.to_string());
            if hops.len() > self.params.max_hops {
                return Err(Outcome::fail(format!(
                    "more than {} redirects from {}",
                    self.params.max_hops, self.start
                ))
                .evidence("hops", hops));
            }
            url = next;
        }
    }

    fn judge_hsts(&self, hops: &[String], last: &Fetched) -> Outcome {
        let min = self.params.min_hsts_max_age;
        let base = |o: Outcome| {
            o.threshold(min as f64)
                .evidence("hops", hops.to_vec())
                .evidence("final_url", last.url.as_str())
                .evidence("final_status", last.status)
        };
        let Some(raw) = last.header("strict-transport-security") else {
            return base(Outcome::fail(format!(
                "{} redirects to {}, but it sends no Strict-Transport-Security header",
                self.start, last.url
            )));
        };
        let Some(hsts) = parse_hsts(raw) else {
            return base(Outcome::fail(format!(
                "Strict-Transport-Security at {} has no valid max-age: {raw:?}",
                last.url
            )))
            .evidence("hsts", raw);
        };
        let mut problems = Vec::new();
        if hsts.max_age < min {
            problems.push(format!("HSTS max-age is {}s, minimum {min}s", hsts.max_age));
        }
        if self.params.require_include_subdomains && !hsts.include_subdomains {
            problems.push("HSTS lacks includeSubDomains".to_owned());
        }
        let outcome = if problems.is_empty() {
            Outcome::pass(format!(
                "{} redirects to {} in {} hop(s); HSTS max-age {}s",
                self.start,
                last.url,
                hops.len() - 1,
                hsts.max_age
            ))
        } else {
            Outcome::fail(format!("{}: {}", last.url, problems.join("; ")))
        };
        base(outcome)
            .observed(hsts.max_age as f64)
            .evidence("hsts", raw)
            .evidence("hsts_include_subdomains", hsts.include_subdomains)
            .evidence("hsts_preload", hsts.preload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hsts() {
        assert_eq!(
            parse_hsts("max-age=31536000; includeSubDomains; preload"),
            Some(Hsts {
                max_age: 31_536_000,
                include_subdomains: true,
                preload: true
            })
        );
        assert_eq!(
            parse_hsts("max-age=\"600\""),
            Some(Hsts {
                max_age: 600,
                include_subdomains: false,
                preload: false
            })
        );
        assert_eq!(parse_hsts("includeSubDomains"), None);
        assert_eq!(parse_hsts("max-age=abc"), None);
    }
}
