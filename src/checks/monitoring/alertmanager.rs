//! Kind `alertmanager`: `/api/v2/status` says the cluster is ready (or
//! disabled on a single node), every receiver the routing tree can reach has
//! at least one integration (a name-only receiver silently drops alerts),
//! and optionally a Watchdog-style always-firing alert is present.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::api::api_json;
use crate::checks::blocking::run_blocking;
use crate::checks::http::http_target;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.alerting"),
    unit: "count",
    summary: "cluster ready, every routed receiver has an integration, Watchdog firing",
    target: TargetNeed::Required(&[TargetType::Alertmanager]),
    doc: r#"- **Reads:** `GET /api/v2/status` (cluster status and the running config's `original` YAML) and, with `watchdog_alert`, `GET /api/v2/alerts?active=true`.
- **Passes** when the cluster is `ready` (or `disabled` on a single node), every receiver reachable from the routing tree has at least one `*_configs` integration, and the watchdog (if named) is active. **Fails** when the running config has no route reaching a receiver, naming receivers without integrations (they silently drop alerts), a missing watchdog, or another cluster status; **warns** while the cluster is `settling`. Observed value: routed receivers without integrations."#,
    ..KindInfo::new(
        "alertmanager",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Params of the `alertmanager` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Name of an always-firing alert that must be active (e.g. `Watchdog`).
    #[serde(default)]
    pub watchdog_alert: Option<String>,
}

#[derive(Debug)]
struct Alertmanager {
    target: Arc<HttpTarget>,
    watchdog: Option<String>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    Ok(Arc::new(Alertmanager {
        target: http_target(input)?,
        watchdog: params.watchdog_alert,
    }))
}

/// Receivers the routing tree can reach (root route and every child).
pub fn routed_receivers(route: &Value, out: &mut Vec<String>) {
    if let Some(r) = route.get("receiver").and_then(Value::as_str) {
        if !out.iter().any(|x| x == r) {
            out.push(r.to_owned());
        }
    }
    for child in route
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        routed_receivers(child, out);
    }
}

/// Receivers without any `*_configs` integration.
pub fn receivers_without_integrations(config: &Value) -> Vec<String> {
    config
        .get("receivers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| {
            !r.as_object().is_some_and(|m| {
                m.iter().any(|(k, v)| {
                    k.ends_with("_configs") && v.as_array().is_some_and(|a| !a.is_empty())
                })
            })
        })
        .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

impl Check for Alertmanager {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let result: Result<Outcome, Outcome> = async {
                let status = api_json(ctx, &self.target, "/api/v2/status", &[]).await?;
                let cluster = status.pointer("/cluster/status").and_then(Value::as_str).unwrap_or("unknown").to_owned();
                let peers = status.pointer("/cluster/peers").and_then(Value::as_array).map_or(0, Vec::len);
                let original = status
                    .pointer("/config/original")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Outcome::error("/api/v2/status has no config.original"))?;
                // Parsed off the async threads: a large or hostile document
                // costs CPU up to the YAML budget, and scrapes must not wait.
                let text = original.to_owned();
                let config = run_blocking(move |_| crate::yaml::from_str::<Value>(&text))
                    .await
                    .and_then(|parsed| parsed)
                    .map_err(|e| Outcome::error(format!("the running config cannot be parsed: {e}")))?;
                let mut reachable = Vec::new();
                if let Some(route) = config.get("route") {
                    routed_receivers(route, &mut reachable);
                }
                let empty = receivers_without_integrations(&config);
                let silent: Vec<String> = reachable.iter().filter(|r| empty.contains(r)).cloned().collect();
                let mut failures = Vec::new();
                let mut warnings = Vec::new();
                match cluster.as_str() {
                    "ready" | "disabled" => {}
                    "settling" => warnings.push("the cluster is still settling".to_owned()),
                    other => failures.push(format!("cluster status is {other:?}")),
                }
                if reachable.is_empty() {
                    failures.push("the running config has no route with a receiver: no alert reaches anyone".to_owned());
                }
                if !silent.is_empty() {
                    failures.push(format!(
                        "routed receiver(s) without any integration silently drop alerts: {}",
                        silent.join(", ")
                    ));
                }
                if let Some(name) = &self.watchdog {
                    let alerts = api_json(ctx, &self.target, "/api/v2/alerts", &[("active", "true".to_owned())]).await?;
                    let firing = alerts.as_array().into_iter().flatten().any(|a| {
                        a.pointer("/labels/alertname").and_then(Value::as_str) == Some(name.as_str())
                            && a.pointer("/status/state").and_then(Value::as_str) == Some("active")
                    });
                    if !firing {
                        failures.push(format!("the always-firing alert {name:?} is not active: the alerting pipeline may be broken"));
                    }
                }
                let (state, message) = if !failures.is_empty() {
                    (State::Fail, failures.into_iter().chain(warnings).collect::<Vec<_>>().join("; "))
                } else if !warnings.is_empty() {
                    (State::Warn, warnings.join("; "))
                } else {
                    (
                        State::Pass,
                        format!(
                            "cluster {cluster} ({peers} peer(s)); {} routed receiver(s), all with integrations{}",
                            reachable.len(),
                            self.watchdog.as_ref().map_or(String::new(), |w| format!("; {w} firing"))
                        ),
                    )
                };
                Ok(Outcome::new(state, message)
                    .observed(silent.len() as f64)
                    .threshold(0.0)
                    .evidence("cluster_status", cluster)
                    .evidence("peers", peers)
                    .evidence("routed_receivers", reachable)
                    .evidence("receivers_without_integrations", empty))
            }
            .await;
            crate::checks::settle(result)
        })
    }
}
