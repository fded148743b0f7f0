//! Kind `authorization`: privileged URLs answer 403/404 to a low-privilege credential.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;

use super::{fetch, http_target, resolve_urls};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{is_sensitive_header, TargetType};
use crate::targets::HttpTarget;

use super::ANSWER_CAP;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.authorization"),
    unit: "count",
    summary: "privileged URLs answer 403/404 to a low-privilege credential",
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Reads:** each URL twice: with the target's own (privileged) credentials as a positive control, then with the low-privilege credential of the params.
- **Passes** when each URL answers 2xx to the target's credentials and 403 or 404 to the low-privilege one.
- **Fails** on a 2xx to the low-privilege credential (naming the URL) or another status.
- **Errors** on 401 (the low-privilege credential itself is rejected, so authorization was not tested), and when the positive control does not answer 2xx ("cannot tell": a wrong URL or a target without a privileged credential would otherwise pass on its 403/404)."#,
    files: &["credential.bearer_token_file", "credential.password_file"],
    ..KindInfo::new(
        "authorization",
        Category::Security,
        build_authorization,
        <AuthorizationParams as schemars::JsonSchema>::json_schema,
    )
};

/// A credential for `authorization`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    #[serde(default)]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Extra headers (e.g. a session cookie).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// Params of the `authorization` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationParams {
    /// Privileged URLs, relative to the target.
    pub urls: Vec<String>,
    /// The low-privilege credential (used instead of the target's).
    pub credential: Credential,
}

fn read_secret(
    inline: Option<String>,
    file: Option<PathBuf>,
    field: &str,
) -> Result<Option<String>, ParamError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(ParamError::new(
            format!("params.credential.{field}_file"),
            format!("set either {field} or {field}_file, not both"),
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map(|t| Some(t.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|e| {
                ParamError::new(
                    format!("params.credential.{field}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            }),
        (None, None) => Ok(None),
    }
}

struct Authorization {
    target: Arc<HttpTarget>,
    urls: Vec<reqwest::Url>,
    bearer_token: Option<String>,
    basic: Option<(String, Option<String>)>,
    headers: Vec<(String, String)>,
}

/// The credential is a secret: Debug names the URLs only.
impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("target", &self.target.display_url)
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

fn build_authorization(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: AuthorizationParams = parse_params(&input.spec.params)?;
    if params.urls.is_empty() {
        return Err(ParamError::new(
            "params.urls",
            "list at least one privileged URL",
        ));
    }
    let target = http_target(input)?;
    let urls = resolve_urls(&target, "urls", &params.urls)?;
    let c = params.credential;
    let bearer_token = read_secret(c.bearer_token, c.bearer_token_file, "bearer_token")?;
    let password = read_secret(c.password, c.password_file, "password")?;
    let basic = c.username.map(|u| (u, password));
    if bearer_token.is_none() && basic.is_none() && c.headers.is_empty() {
        return Err(ParamError::new(
            "params.credential",
            "set bearer_token(_file), username/password(_file) or headers",
        ));
    }
    Ok(Arc::new(Authorization {
        target,
        urls,
        bearer_token,
        basic,
        headers: c.headers.into_iter().collect(),
    }))
}

impl Check for Authorization {
    fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = self.bearer_token.iter().cloned().collect();
        if let Some((_, Some(p))) = &self.basic {
            s.push(p.clone());
        }
        for (name, value) in &self.headers {
            if is_sensitive_header(name) {
                s.push(value.clone());
            }
        }
        s
    }

    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut allowed = Vec::new();
            let mut odd = Vec::new();
            let mut rejected_credential = Vec::new();
            let mut undetermined = Vec::new();
            let mut answers = serde_json::Map::new();
            for url in &self.urls {
                // Positive control: with the target's own (privileged)
                // credentials the URL must answer 2xx, else a 403/404 to the
                // low-privilege credential proves nothing.
                let baseline = match fetch(
                    ctx,
                    self.target.request(Method::GET, url.clone()),
                    ANSWER_CAP,
                )
                .await
                {
                    Ok(a) => a.status,
                    Err(e) => return Outcome::error(e),
                };
                if !(200..300).contains(&baseline) {
                    undetermined.push(format!(
                        "{url} answered {baseline} to the target's own credentials"
                    ));
                    answers.insert(url.to_string(), serde_json::json!({"baseline": baseline}));
                    continue;
                }
                let mut request = self.target.request_anonymous(Method::GET, url.clone());
                if let Some(token) = &self.bearer_token {
                    request = request.bearer_auth(token);
                }
                if let Some((user, password)) = &self.basic {
                    request = request.basic_auth(user, password.as_deref());
                }
                for (name, value) in &self.headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                let answer = match fetch(ctx, request, ANSWER_CAP).await {
                    Ok(a) => a,
                    Err(e) => return Outcome::error(e),
                };
                answers.insert(
                    url.to_string(),
                    serde_json::json!({"baseline": baseline, "low_privilege": answer.status}),
                );
                match answer.status {
                    403 | 404 => {}
                    401 => rejected_credential.push(url.to_string()),
                    s if (200..300).contains(&s) => allowed.push(format!(
                        "{url} answered {s} to the low-privilege credential"
                    )),
                    s => odd.push(format!("{url} answered {s}")),
                }
            }
            let outcome = if !allowed.is_empty() {
                Outcome::fail(allowed.join("; "))
            } else if !rejected_credential.is_empty() {
                Outcome::error(format!(
                    "the low-privilege credential itself is rejected (401) at {}; fix it so the check can test authorization",
                    rejected_credential.join(", ")
                ))
            } else if !odd.is_empty() {
                Outcome::fail(format!("expected 403 or 404: {}", odd.join("; ")))
            } else if !undetermined.is_empty() {
                Outcome::error(format!(
                    "cannot tell: {}; the baseline must answer 2xx (give the target a privileged credential and check the URLs)",
                    undetermined.join("; ")
                ))
            } else {
                Outcome::pass(format!(
                    "{} privileged URL(s) refuse the low-privilege credential",
                    self.urls.len()
                ))
            };
            outcome
                .observed(allowed.len() as f64)
                .threshold(0.0)
                .evidence("status", serde_json::Value::Object(answers))
        })
    }
}
