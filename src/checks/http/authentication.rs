//! Kind `authentication`: protected URLs answer 401/403 (or redirect to login) without credentials.

use std::sync::Arc;

use reqwest::header::LOCATION;
use reqwest::Method;
use serde::Deserialize;

use super::{fetch, http_target, resolve_urls};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

use super::ANSWER_CAP;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.authentication"),
    unit: "count",
    summary: "protected URLs answer 401/403 (or redirect to login) without credentials",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** each URL without any configured header or credential; with the positive control, again with them.
- **Passes** when every URL answers 401/403 (or redirects to `login_url`) and, with the control, 2xx with credentials. Observed value: URLs open to anonymous requests.
- **Fails** on a 2xx without credentials (naming the URL) or any other unexpected status.
- **Errors** when the positive control fails (the refusals then prove nothing)."#,
    ..KindInfo::new(
        "authentication",
        Category::Security,
        build_authentication,
        <AuthenticationParams as schemars::JsonSchema>::json_schema,
    )
};

/// Params of the `authentication` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthenticationParams {
    /// Protected URLs, relative to the target.
    pub urls: Vec<String>,
    /// A redirect to this URL (relative to the target) also counts as refused.
    #[serde(default)]
    pub login_url: Option<String>,
    /// Positive control: with the target's configured credentials each URL
    /// must answer 2xx. Default false.
    #[serde(default)]
    pub check_with_credentials: bool,
}

#[derive(Debug)]
struct Authentication {
    target: Arc<HttpTarget>,
    urls: Vec<reqwest::Url>,
    login_url: Option<reqwest::Url>,
    check_with_credentials: bool,
}

fn build_authentication(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: AuthenticationParams = parse_params(&input.spec.params)?;
    if params.urls.is_empty() {
        return Err(ParamError::new(
            "params.urls",
            "list at least one protected URL",
        ));
    }
    let target = http_target(input)?;
    let urls = resolve_urls(&target, "urls", &params.urls)?;
    let login_url = params
        .login_url
        .as_deref()
        .map(|u| {
            target
                .resolve(u)
                .map_err(|e| ParamError::new("params.login_url", e))
        })
        .transpose()?;
    Ok(Arc::new(Authentication {
        target,
        urls,
        login_url,
        check_with_credentials: params.check_with_credentials,
    }))
}

/// Whether an anonymous answer refuses access.
fn refused(status: u16, location: Option<&reqwest::Url>, login: Option<&reqwest::Url>) -> bool {
    match status {
        401 | 403 => true,
        301 | 302 | 303 | 307 | 308 => match (location, login) {
            (Some(loc), Some(login)) => loc.path() == login.path(),
            _ => false,
        },
        _ => false,
    }
}

impl Check for Authentication {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut open = Vec::new();
            let mut odd = Vec::new();
            let mut control_failed = Vec::new();
            let mut answers = serde_json::Map::new();
            for url in &self.urls {
                let request = self.target.request_anonymous(Method::GET, url.clone());
                let answer = match fetch(ctx, request, ANSWER_CAP).await {
                    Ok(a) => a,
                    Err(e) => return Outcome::error(e),
                };
                let location = answer
                    .header(LOCATION.as_str())
                    .and_then(|l| url.join(l).ok());
                answers.insert(url.to_string(), answer.status.into());
                if refused(answer.status, location.as_ref(), self.login_url.as_ref()) {
                    // refused, as it should be
                } else if (200..300).contains(&answer.status) {
                    open.push(format!(
                        "{url} answered {} without credentials",
                        answer.status
                    ));
                } else {
                    odd.push(format!("{url} answered {}", answer.status));
                }
                if self.check_with_credentials {
                    let request = self.target.request(Method::GET, url.clone());
                    match fetch(ctx, request, ANSWER_CAP).await {
                        Ok(a) if (200..300).contains(&a.status) => {}
                        Ok(a) => control_failed.push(format!(
                            "{url} answered {} with the configured credentials",
                            a.status
                        )),
                        Err(e) => return Outcome::error(e),
                    }
                }
            }
            let outcome = if !open.is_empty() {
                Outcome::fail(open.join("; "))
            } else if !odd.is_empty() {
                Outcome::fail(format!(
                    "expected 401/403{}: {}",
                    if self.login_url.is_some() {
                        " or a redirect to the login URL"
                    } else {
                        ""
                    },
                    odd.join("; ")
                ))
            } else if !control_failed.is_empty() {
                Outcome::error(format!(
                    "positive control failed, so the refusals prove nothing: {}",
                    control_failed.join("; ")
                ))
            } else {
                Outcome::pass(format!(
                    "{} protected URL(s) refuse anonymous requests{}",
                    self.urls.len(),
                    if self.check_with_credentials {
                        " and admit the configured credentials"
                    } else {
                        ""
                    }
                ))
            };
            outcome
                .observed(open.len() as f64)
                .threshold(0.0)
                .evidence("anonymous_status", serde_json::Value::Object(answers))
        })
    }
}
