//! Kind `security_headers`: the response headers that harden a browser's view
//! of a site (CSP, nosniff, framing, Referrer-Policy, HSTS on HTTPS, cookie
//! flags), scored 0..100 the way Mozilla's Observatory deducts points.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{fetch, http_target, require_success, resolve_urls, Fetched, DEFAULT_BODY_CAP};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.ssl_https"),
    unit: "score",
    summary: "CSP, nosniff, frame options, Referrer-Policy, HSTS, cookie flags; score 0..100",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** one GET's headers. Score starts at 100, Observatory-style deductions: no CSP -25 (scripts allowing `'unsafe-inline'`/`'unsafe-eval'` -20, no `script-src`/`default-src` -10); X-Content-Type-Options not `nosniff` -5; neither CSP `frame-ancestors` nor X-Frame-Options DENY/SAMEORIGIN -20; Referrer-Policy missing or leaking (`unsafe-url`, `no-referrer-when-downgrade`) -5; on HTTPS, HSTS missing -20 or under 180 days -10; cookies without `Secure` (HTTPS) -20, without `HttpOnly` -10, without `SameSite` -5.
- **Errors** unless the page answers 2xx (an error page's headers prove nothing).
- **Passes** at `min_score` or more; **fails** below it, listing each deduction. Observed value: the score. Evidence: every header's verdict."#,
    ..KindInfo::new(
        "security_headers",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_score() -> u32 {
    90
}

/// Params of the `security_headers` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// URL to fetch, relative to the target. Default: the target's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Lowest passing score (0..100). Default 90.
    #[serde(default = "default_min_score")]
    pub min_score: u32,
}

#[derive(Debug)]
struct SecurityHeaders {
    target: Arc<HttpTarget>,
    url: reqwest::Url,
    min_score: u32,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.min_score > 100 {
        return Err(ParamError::new(
            "params.min_score",
            "must be between 0 and 100",
        ));
    }
    let target = http_target(input)?;
    let url = resolve_urls(&target, "url", params.url.as_slice())?.remove(0);
    Ok(Arc::new(SecurityHeaders {
        target,
        url,
        min_score: params.min_score,
    }))
}

/// One judged header: its name, what was found, and the points deducted.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub header: &'static str,
    pub verdict: String,
    pub deduction: u32,
}

fn finding(header: &'static str, deduction: u32, verdict: impl Into<String>) -> Finding {
    Finding {
        header,
        verdict: verdict.into(),
        deduction,
    }
}

/// The sources of one CSP directive, lowercased (`None` if absent).
fn csp_directive(policy: &str, name: &str) -> Option<String> {
    policy.split([';', ',']).find_map(|part| {
        let mut tokens = part.split_whitespace();
        (tokens.next()?.eq_ignore_ascii_case(name))
            .then(|| tokens.collect::<Vec<_>>().join(" ").to_ascii_lowercase())
    })
}

/// Scores a response's headers; 100 minus the deductions, floored at 0.
pub fn score_headers(answer: &Fetched) -> (u32, Vec<Finding>) {
    let mut findings = Vec::new();
    let csp = answer.header_all("content-security-policy");
    match &csp {
        None => findings.push(finding("content-security-policy", 25, "missing")),
        Some(policy) => {
            let scripts = csp_directive(policy, "script-src")
                .or_else(|| csp_directive(policy, "default-src"));
            match scripts {
                None => findings.push(finding(
                    "content-security-policy",
                    10,
                    "no script-src or default-src: scripts are not restricted",
                )),
                Some(p) if p.contains("'unsafe-inline'") || p.contains("'unsafe-eval'") => findings
                    .push(finding(
                        "content-security-policy",
                        20,
                        "scripts allow 'unsafe-inline' or 'unsafe-eval'",
                    )),
                Some(_) => {
                    findings.push(finding("content-security-policy", 0, "restricts scripts"))
                }
            }
        }
    }
    match answer.header("x-content-type-options") {
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => {
            findings.push(finding("x-content-type-options", 0, "nosniff"))
        }
        Some(v) => findings.push(finding(
            "x-content-type-options",
            5,
            format!("invalid value {v:?}"),
        )),
        None => findings.push(finding("x-content-type-options", 5, "missing")),
    }
    let frame_ancestors = csp
        .as_deref()
        .is_some_and(|p| p.to_ascii_lowercase().contains("frame-ancestors"));
    match answer
        .header("x-frame-options")
        .map(str::to_ascii_uppercase)
    {
        _ if frame_ancestors => findings.push(finding("frame-ancestors", 0, "set in the CSP")),
        Some(v) if v.trim() == "DENY" || v.trim() == "SAMEORIGIN" => {
            findings.push(finding("x-frame-options", 0, v.trim().to_owned()))
        }
        Some(v) => findings.push(finding(
            "x-frame-options",
            20,
            format!("invalid value {v:?}"),
        )),
        None => findings.push(finding(
            "x-frame-options",
            20,
            "missing, and no CSP frame-ancestors: the page can be framed (clickjacking)",
        )),
    }
    match answer
        .header("referrer-policy")
        .map(str::to_ascii_lowercase)
    {
        Some(v) if v.contains("unsafe-url") || v.contains("no-referrer-when-downgrade") => findings
            .push(finding(
                "referrer-policy",
                5,
                format!("leaks full URLs: {v}"),
            )),
        Some(v) => findings.push(finding("referrer-policy", 0, v)),
        None => findings.push(finding("referrer-policy", 5, "missing")),
    }
    if answer.url.scheme() == "https" {
        match answer
            .header("strict-transport-security")
            .and_then(super::https_redirect::parse_hsts)
        {
            Some(h) if h.max_age >= 15_552_000 => findings.push(finding(
                "strict-transport-security",
                0,
                format!("max-age {}", h.max_age),
            )),
            Some(h) => findings.push(finding(
                "strict-transport-security",
                10,
                format!("max-age {} is under 180 days", h.max_age),
            )),
            None => findings.push(finding("strict-transport-security", 20, "missing")),
        }
    }
    findings.extend(cookie_findings(answer));
    let deducted: u32 = findings.iter().map(|f| f.deduction).sum();
    (100u32.saturating_sub(deducted), findings)
}

/// Cookie flags: one deduction per missing flag kind, naming the cookies.
fn cookie_findings(answer: &Fetched) -> Vec<Finding> {
    let https = answer.url.scheme() == "https";
    let mut no_secure = Vec::new();
    let mut no_httponly = Vec::new();
    let mut no_samesite = Vec::new();
    for value in answer.headers.get_all("set-cookie") {
        let Ok(cookie) = value.to_str() else { continue };
        let name = cookie
            .split('=')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let attrs: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        let has = |flag: &str| {
            attrs
                .iter()
                .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
        };
        if https && !has("secure") {
            no_secure.push(name.clone());
        }
        if !has("httponly") {
            no_httponly.push(name.clone());
        }
        if !has("samesite") {
            no_samesite.push(name);
        }
    }
    let mut out = Vec::new();
    if !no_secure.is_empty() {
        out.push(finding(
            "set-cookie",
            20,
            format!("without Secure: {}", no_secure.join(", ")),
        ));
    }
    if !no_httponly.is_empty() {
        out.push(finding(
            "set-cookie",
            10,
            format!("without HttpOnly: {}", no_httponly.join(", ")),
        ));
    }
    if !no_samesite.is_empty() {
        out.push(finding(
            "set-cookie",
            5,
            format!("without SameSite: {}", no_samesite.join(", ")),
        ));
    }
    out
}

impl Check for SecurityHeaders {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let request = self.target.request(Method::GET, self.url.clone());
            let answer = match fetch(ctx, request, DEFAULT_BODY_CAP).await {
                Ok(a) => a,
                Err(e) => return Outcome::error(e),
            };
            if let Err(o) = require_success(&answer, "its security headers") {
                return o;
            }
            let (score, findings) = score_headers(&answer);
            let problems: Vec<String> = findings
                .iter()
                .filter(|f| f.deduction > 0)
                .map(|f| format!("{} {} (-{})", f.header, f.verdict, f.deduction))
                .collect();
            let outcome = if score >= self.min_score {
                Outcome::pass(format!("{}: score {score}/100", self.url))
            } else {
                Outcome::fail(format!(
                    "{}: score {score}/100, minimum {}: {}",
                    self.url,
                    self.min_score,
                    problems.join("; ")
                ))
            };
            let evidence: Vec<serde_json::Value> = findings
                .iter()
                .map(
                    |f| json!({"header": f.header, "verdict": f.verdict, "deduction": f.deduction}),
                )
                .collect();
            outcome
                .observed(f64::from(score))
                .threshold(f64::from(self.min_score))
                .evidence("url", self.url.as_str())
                .evidence("status", answer.status)
                .evidence("findings", evidence)
        })
    }
}
