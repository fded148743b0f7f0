//! Kind `prometheus_rules`: alerting rules loaded, healthy, with runbook_url; an Alertmanager is connected.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::targets::HttpTarget;

use super::{one, NEED};
use crate::checks::monitoring::api::{api_json, list_at};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.alerting"),
    unit: "count",
    summary: "alerting rules loaded, healthy, with runbook_url; an Alertmanager is connected",
    target: NEED,
    doc: r#"- **Reads:** `GET /api/v1/rules?type=alert` and `GET /api/v1/alertmanagers`.
- **Passes** when enough alerting rules are loaded, the groups are present, no rule has `health: err`, every alerting rule has a `runbook_url` annotation, and Prometheus has an active Alertmanager. **Fails** listing each problem (failing rules with their `lastError`). Observed value: unhealthy rules + rules without runbook."#,
    ..KindInfo::new(
        "prometheus_rules",
        Category::Operations,
        build_rules,
        <RulesParams as schemars::JsonSchema>::json_schema,
    )
};

/// Params of the `prometheus_rules` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesParams {
    /// Alerting rules required. Default 1.
    #[serde(default = "one")]
    pub min_rules: usize,
    /// Rule groups that must be loaded.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Every alerting rule needs a `runbook_url` annotation. Default true.
    #[serde(default = "default_true")]
    pub require_runbook_url: bool,
    /// Opt-in: GET each distinct runbook URL (at most 20) and require 2xx.
    #[serde(default)]
    pub check_runbook_urls: bool,
    /// Prometheus must have an active Alertmanager. Default true.
    #[serde(default = "default_true")]
    pub require_alertmanager: bool,
}

const fn default_true() -> bool {
    true
}

#[derive(Debug)]
struct Rules {
    target: Arc<HttpTarget>,
    params: RulesParams,
    client: reqwest::Client,
}

fn build_rules(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: RulesParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Rules {
        target: http_target(input)?,
        params,
        client: input.http_client.clone(),
    }))
}

/// The alerting rules of the groups Prometheus answered with.
#[derive(Default)]
struct Alerting {
    rules: usize,
    /// `name: lastError` of the rules failing to evaluate.
    unhealthy: Vec<String>,
    no_runbook: Vec<String>,
    /// Every distinct runbook URL.
    runbooks: Vec<String>,
}

fn alerting_rules(groups: &[Value]) -> Alerting {
    let mut found = Alerting::default();
    for g in groups {
        for r in g
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if r.get("type").and_then(Value::as_str) != Some("alerting") {
                continue;
            }
            found.rules += 1;
            let name = r
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            if r.get("health").and_then(Value::as_str) == Some("err") {
                let err = r
                    .get("lastError")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                found.unhealthy.push(format!(
                    "{name}: {}",
                    err.chars().take(160).collect::<String>()
                ));
            }
            match r
                .pointer("/annotations/runbook_url")
                .and_then(Value::as_str)
                .filter(|u| !u.trim().is_empty())
            {
                Some(u) => {
                    if !found.runbooks.iter().any(|x| x == u) {
                        found.runbooks.push(u.to_owned());
                    }
                }
                None => found.no_runbook.push(name),
            }
        }
    }
    found
}

impl Rules {
    async fn judge(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let doc = api_json(
            ctx,
            &self.target,
            "/api/v1/rules",
            &[("type", "alert".to_owned())],
        )
        .await?;
        let groups = list_at(&doc, "/api/v1/rules", "/data/groups")?;
        let Alerting {
            rules,
            unhealthy,
            no_runbook,
            runbooks,
        } = alerting_rules(groups);
        let loaded: Vec<&str> = groups
            .iter()
            .filter_map(|g| g.get("name").and_then(Value::as_str))
            .collect();
        let missing_groups: Vec<&String> = self
            .params
            .groups
            .iter()
            .filter(|g| !loaded.contains(&g.as_str()))
            .collect();
        let mut problems = Vec::new();
        if rules < self.params.min_rules {
            problems.push(format!(
                "{rules} alerting rule(s) loaded, need {}",
                self.params.min_rules
            ));
        }
        if !missing_groups.is_empty() {
            let names: Vec<String> = missing_groups.iter().map(|g| format!("{g:?}")).collect();
            problems.push(format!("rule group(s) not loaded: {}", names.join(", ")));
        }
        if !unhealthy.is_empty() {
            problems.push(format!(
                "{} rule(s) failing to evaluate: {}",
                unhealthy.len(),
                unhealthy.join("; ")
            ));
        }
        if self.params.require_runbook_url && !no_runbook.is_empty() {
            problems.push(format!(
                "alert(s) without runbook_url: {}",
                no_runbook.join(", ")
            ));
        }
        if self.params.check_runbook_urls {
            for url in runbooks.iter().take(20) {
                ctx.trace(format!("GET runbook {url}"));
                let ok = match self.client.get(url).send().await {
                    Ok(r) => r.status().is_success(),
                    Err(_) => false,
                };
                if !ok {
                    problems.push(format!("runbook {url} does not answer 2xx"));
                }
            }
        }
        let mut alertmanagers = 0;
        if self.params.require_alertmanager {
            let am = api_json(ctx, &self.target, "/api/v1/alertmanagers", &[]).await?;
            alertmanagers =
                list_at(&am, "/api/v1/alertmanagers", "/data/activeAlertmanagers")?.len();
            if alertmanagers == 0 {
                problems
                    .push("Prometheus has no active Alertmanager: alerts go nowhere".to_owned());
            }
        }
        let outcome = if problems.is_empty() {
            Outcome::pass(format!(
                "{rules} alerting rule(s) in {} group(s), all healthy with runbooks{}",
                groups.len(),
                if self.params.require_alertmanager {
                    format!("; {alertmanagers} Alertmanager(s)")
                } else {
                    String::new()
                }
            ))
        } else {
            Outcome::fail(problems.join("; "))
        };
        Ok(outcome
            .observed((unhealthy.len() + no_runbook.len()) as f64)
            .threshold(0.0)
            .evidence("alerting_rules", rules)
            .evidence("groups", loaded)
            .evidence("unhealthy", unhealthy)
            .evidence("without_runbook_url", no_runbook)
            .evidence("active_alertmanagers", alertmanagers))
    }
}

impl Check for Rules {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.judge(ctx).await) })
    }
}
