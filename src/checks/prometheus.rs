//! Kinds that read Prometheus' HTTP API: `prometheus_targets`,
//! `prometheus_rules`, `promql`, `memory_growth` and `capacity`. Every answer
//! is untrusted: bad JSON, an error status, a huge body or a timeout is
//! `error` with the reason, and bodies are read with a cap.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::http::{fetch, http_target};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::targets::HttpTarget;

const NEED: TargetNeed = TargetNeed::Required(&[TargetType::Prometheus]);
/// Largest API answer read.
pub const API_BODY_CAP: u64 = 16 * 1024 * 1024;

/// GETs a JSON API path; any failure is an `error` outcome saying why.
pub async fn api_json(
    ctx: &Context,
    target: &HttpTarget,
    path: &str,
    query: &[(&str, String)],
) -> Result<Value, Outcome> {
    let mut url = target.resolve(path).map_err(Outcome::error)?;
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let answer = fetch(ctx, target.request(Method::GET, url.clone()), API_BODY_CAP)
        .await
        .map_err(Outcome::error)?;
    let body = answer.text();
    let short: String = body.chars().take(300).collect();
    if answer.truncated {
        return Err(Outcome::error(format!(
            "{} answered more than {API_BODY_CAP} bytes",
            url.path()
        )));
    }
    let parsed: Result<Value, _> = serde_json::from_str(&body);
    if !(200..300).contains(&answer.status) {
        let reason = parsed
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or(short);
        return Err(Outcome::error(format!(
            "{} answered {}: {}",
            url.path(),
            answer.status,
            reason.trim()
        )));
    }
    let doc =
        parsed.map_err(|e| Outcome::error(format!("{} answered invalid JSON: {e}", url.path())))?;
    if let Some(status) = doc.get("status").and_then(Value::as_str) {
        if status != "success" {
            let reason = doc
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(Outcome::error(format!(
                "{} answered status {status}: {reason}",
                url.path()
            )));
        }
    }
    Ok(doc)
}

/// Runs an instant query; returns (labels, value) per series (a scalar as one
/// series without labels).
pub async fn instant_query(
    ctx: &Context,
    target: &HttpTarget,
    query: &str,
) -> Result<Vec<(BTreeMap<String, String>, f64)>, Outcome> {
    let doc = api_json(ctx, target, "/api/v1/query", &[("query", query.to_owned())]).await?;
    let data = doc
        .get("data")
        .ok_or_else(|| Outcome::error("query answer has no data"))?;
    let value_of = |pair: &Value| -> Option<f64> { pair.get(1)?.as_str()?.parse::<f64>().ok() };
    match data.get("resultType").and_then(Value::as_str) {
        Some("vector") => Ok(data
            .get("result")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let labels = s
                    .get("metric")?
                    .as_object()?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                Some((labels, value_of(s.get("value")?)?))
            })
            .collect()),
        Some("scalar") => Ok(data
            .get("result")
            .and_then(value_of)
            .map(|v| vec![(BTreeMap::new(), v)])
            .unwrap_or_default()),
        Some(other) => Err(Outcome::error(format!(
            "query returned a {other}; use an expression that returns an instant vector or scalar"
        ))),
        None => Err(Outcome::error("query answer has no resultType")),
    }
}

/// `{job="api", instance="x:9100"}` for messages.
pub fn series_name(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "{}".into();
    }
    let inner: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let name = labels.get("__name__").map_or("", String::as_str);
    format!("{name}{{{}}}", inner.join(", "))
}

// === prometheus_targets ===

pub const TARGETS: KindInfo = KindInfo {
    name: "prometheus_targets",
    category: Category::Operations,
    unit: "ratio",
    summary: "expected scrape jobs have enough targets and enough of them are up",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_targets,
};

const fn one() -> usize {
    1
}
const fn full() -> f64 {
    1.0
}

/// One expected job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedJob {
    pub job: String,
    /// Active targets required. Default 1.
    #[serde(default = "one")]
    pub min_targets: usize,
}

/// Params of the `prometheus_targets` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsParams {
    pub jobs: Vec<ExpectedJob>,
    /// Share of each job's targets that must be up. Default 1.0.
    #[serde(default = "full")]
    pub min_up_ratio: f64,
}

#[derive(Debug)]
struct Targets {
    target: Arc<HttpTarget>,
    params: TargetsParams,
}

fn build_targets(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: TargetsParams = parse_params(&input.spec.params)?;
    if params.jobs.is_empty() {
        return Err(("params.jobs".into(), "list at least one job".into()));
    }
    Ok(Arc::new(Targets {
        target: http_target(input)?,
        params,
    }))
}

impl Check for Targets {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let doc = api_json(
                        ctx,
                        &self.target,
                        "/api/v1/targets",
                        &[("state", "active".to_owned())],
                    )
                    .await?;
                    let active = doc
                        .pointer("/data/activeTargets")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let mut problems = Vec::new();
                    let mut worst = 1.0f64;
                    let mut down_list = Vec::new();
                    let mut per_job = serde_json::Map::new();
                    for expected in &self.params.jobs {
                        let of_job: Vec<&Value> = active
                            .iter()
                            .filter(|t| {
                                t.pointer("/labels/job").and_then(Value::as_str)
                                    == Some(expected.job.as_str())
                                    || t.get("scrapePool").and_then(Value::as_str)
                                        == Some(expected.job.as_str())
                            })
                            .collect();
                        let up = of_job
                            .iter()
                            .filter(|t| t.get("health").and_then(Value::as_str) == Some("up"))
                            .count();
                        let ratio = if of_job.is_empty() {
                            0.0
                        } else {
                            up as f64 / of_job.len() as f64
                        };
                        worst = worst.min(ratio);
                        for t in of_job
                            .iter()
                            .filter(|t| t.get("health").and_then(Value::as_str) != Some("up"))
                        {
                            down_list.push(json!({
                                "job": expected.job,
                                "instance": t.pointer("/labels/instance"),
                                "health": t.get("health"),
                                "lastError": t.get("lastError"),
                            }));
                        }
                        if of_job.len() < expected.min_targets {
                            problems.push(format!(
                                "job {:?} has {} active target(s), need {}",
                                expected.job,
                                of_job.len(),
                                expected.min_targets
                            ));
                        } else if ratio < self.params.min_up_ratio {
                            problems.push(format!(
                                "job {:?}: {up} of {} target(s) up",
                                expected.job,
                                of_job.len()
                            ));
                        }
                        per_job.insert(
                            expected.job.clone(),
                            json!({"targets": of_job.len(), "up": up}),
                        );
                    }
                    let outcome = if problems.is_empty() {
                        Outcome::pass(format!("{} job(s) present and up", self.params.jobs.len()))
                    } else {
                        Outcome::fail(problems.join("; "))
                    };
                    Ok(outcome
                        .observed(worst)
                        .threshold(self.params.min_up_ratio)
                        .evidence("jobs", Value::Object(per_job))
                        .evidence("down", down_list))
                }
                .await,
            )
        })
    }
}

// === prometheus_rules ===

pub const RULES: KindInfo = KindInfo {
    name: "prometheus_rules",
    category: Category::Operations,
    unit: "count",
    summary: "alerting rules loaded, healthy, with runbook_url; an Alertmanager is connected",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_rules,
};

/// Params of the `prometheus_rules` kind.
#[derive(Debug, Deserialize)]
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

impl Check for Rules {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let doc = api_json(
                        ctx,
                        &self.target,
                        "/api/v1/rules",
                        &[("type", "alert".to_owned())],
                    )
                    .await?;
                    let groups = doc
                        .pointer("/data/groups")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let mut rules = 0usize;
                    let mut unhealthy = Vec::new();
                    let mut no_runbook = Vec::new();
                    let mut runbooks: Vec<String> = Vec::new();
                    for g in &groups {
                        for r in g
                            .get("rules")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if r.get("type").and_then(Value::as_str) != Some("alerting") {
                                continue;
                            }
                            rules += 1;
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
                                unhealthy.push(format!(
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
                                    if !runbooks.iter().any(|x| x == u) {
                                        runbooks.push(u.to_owned());
                                    }
                                }
                                None => no_runbook.push(name),
                            }
                        }
                    }
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
                        let names: Vec<String> =
                            missing_groups.iter().map(|g| format!("{g:?}")).collect();
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
                        alertmanagers = am
                            .pointer("/data/activeAlertmanagers")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len);
                        if alertmanagers == 0 {
                            problems.push(
                                "Prometheus has no active Alertmanager: alerts go nowhere"
                                    .to_owned(),
                            );
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
                .await,
            )
        })
    }
}

// === promql ===

pub const PROMQL: KindInfo = KindInfo {
    name: "promql",
    category: Category::Operations,
    unit: "value",
    summary: "any instant PromQL query compared with a threshold",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_promql,
};

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    pub fn holds(self, v: f64, t: f64) -> bool {
        match self {
            Op::Gt => v > t,
            Op::Ge => v >= t,
            Op::Lt => v < t,
            Op::Le => v <= t,
            Op::Eq => v == t,
            Op::Ne => v != t,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// What an empty result means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnEmpty {
    #[default]
    Error,
    Unknown,
    Pass,
    Fail,
}

/// Params of the `promql` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromqlParams {
    pub query: String,
    /// The requirement: every series' value `op` threshold.
    pub op: Op,
    pub threshold: f64,
    /// State when the query returns nothing. Default error.
    #[serde(default)]
    pub on_empty: OnEmpty,
}

#[derive(Debug)]
struct Promql {
    target: Arc<HttpTarget>,
    params: PromqlParams,
}

fn build_promql(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: PromqlParams = parse_params(&input.spec.params)?;
    if params.query.trim().is_empty() {
        return Err(("params.query".into(), "must not be empty".into()));
    }
    Ok(Arc::new(Promql {
        target: http_target(input)?,
        params,
    }))
}

impl Check for Promql {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(
                async {
                    let p = &self.params;
                    let series = instant_query(ctx, &self.target, &p.query).await?;
                    let requirement = format!("{} {}", p.op.symbol(), p.threshold);
                    if series.is_empty() {
                        let message =
                            format!("the query returned no data (requirement {requirement})");
                        return Ok(match p.on_empty {
                            OnEmpty::Error => Outcome::error(message),
                            OnEmpty::Unknown => Outcome::unknown(message),
                            OnEmpty::Pass => Outcome::pass(message),
                            OnEmpty::Fail => Outcome::fail(message),
                        }
                        .threshold(p.threshold));
                    }
                    let failing: Vec<String> = series
                        .iter()
                        .filter(|(_, v)| !p.op.holds(*v, p.threshold))
                        .take(10)
                        .map(|(l, v)| format!("{} = {v}", series_name(l)))
                        .collect();
                    let first = failing
                        .first()
                        .and_then(|_| series.iter().find(|(_, v)| !p.op.holds(*v, p.threshold)))
                        .unwrap_or(&series[0]);
                    let outcome = if failing.is_empty() {
                        Outcome::pass(format!("{} series, all {requirement}", series.len()))
                    } else {
                        Outcome::fail(format!(
                            "{} of {} series not {requirement}: {}",
                            failing.len(),
                            series.len(),
                            failing.join(", ")
                        ))
                    };
                    Ok(outcome
                        .observed(first.1)
                        .threshold(p.threshold)
                        .evidence("series", series.len()))
                }
                .await,
            )
        })
    }
}

// === memory_growth ===

pub const MEMORY_GROWTH: KindInfo = KindInfo {
    name: "memory_growth",
    category: Category::Performance,
    unit: "bytes",
    summary: "resident memory trend over a window, projected over a horizon (suspect leak)",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_memory_growth,
};

fn default_metric() -> String {
    "process_resident_memory_bytes".into()
}
const fn default_window() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(6 * 3600))
}
const fn default_horizon() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(86_400))
}
const fn default_min_samples() -> u64 {
    10
}

/// Params of the `memory_growth` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryGrowthParams {
    /// Series selector, e.g. `{job="api"}`.
    #[serde(default)]
    pub selector: String,
    /// Memory metric. Default process_resident_memory_bytes.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Trend window. Default 6h.
    #[serde(default = "default_window")]
    pub window: ConfigDuration,
    /// Growth is projected over this. Default 1d.
    #[serde(default = "default_horizon")]
    pub horizon: ConfigDuration,
    /// Projected growth above this (bytes or `512MiB`) is a suspected leak.
    pub max_growth: crate::config::ByteSize,
    /// Fewer samples in the window than this is `unknown`. Default 10.
    #[serde(default = "default_min_samples")]
    pub min_samples: u64,
}

#[derive(Debug)]
struct MemoryGrowth {
    target: Arc<HttpTarget>,
    params: MemoryGrowthParams,
}

fn build_memory_growth(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: MemoryGrowthParams = parse_params(&input.spec.params)?;
    let selector_ok = params.selector.is_empty()
        || (params.selector.starts_with('{') && params.selector.ends_with('}'));
    if !selector_ok {
        return Err((
            "params.selector".into(),
            "must be a label selector like {job=\"api\"}".into(),
        ));
    }
    Ok(Arc::new(MemoryGrowth {
        target: http_target(input)?,
        params,
    }))
}

fn key(labels: &BTreeMap<String, String>) -> String {
    series_name(labels)
}

impl Check for MemoryGrowth {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let p = &self.params;
                let window = format_duration(p.window.0);
                let series = format!("{}{}", p.metric, p.selector);
                let samples = instant_query(ctx, &self.target, &format!("count_over_time({series}[{window}])")).await?;
                let slopes = instant_query(ctx, &self.target, &format!("deriv({series}[{window}])")).await?;
                // Restarts reset memory; a slope across a restart says nothing.
                let restarts = instant_query(
                    ctx,
                    &self.target,
                    &format!("changes(process_start_time_seconds{}[{window}])", p.selector),
                )
                .await
                .unwrap_or_default();
                let restarted: Vec<String> = restarts
                    .iter()
                    .filter(|(_, v)| *v > 0.0)
                    .map(|(l, _)| l.get("instance").cloned().unwrap_or_else(|| key(l)))
                    .collect();
                let enough: Vec<String> = samples.iter().filter(|(_, n)| *n >= p.min_samples as f64).map(|(l, _)| key(l)).collect();
                let horizon = p.horizon.0.as_secs_f64();
                let mut judged = Vec::new();
                for (labels, slope) in &slopes {
                    let instance = labels.get("instance").cloned().unwrap_or_else(|| key(labels));
                    if !enough.contains(&key(labels)) || restarted.contains(&instance) {
                        continue;
                    }
                    judged.push((key(labels), slope * horizon));
                }
                let limit = p.max_growth.0 as f64;
                let base = |o: Outcome| {
                    o.threshold(limit)
                        .evidence("series_with_enough_samples", enough.len())
                        .evidence("restarted_in_window", restarted.clone())
                };
                let Some(worst) = judged.iter().map(|(_, g)| *g).reduce(f64::max) else {
                    return Ok(base(Outcome::unknown(format!(
                        "not enough data: no {series} series with {} samples in {window} and no restart",
                        p.min_samples
                    ))));
                };
                let leaking: Vec<String> = judged
                    .iter()
                    .filter(|(_, g)| *g > limit)
                    .map(|(k, g)| format!("{k} +{:.0} MiB", g / 1048576.0))
                    .collect();
                let state = if leaking.is_empty() { State::Pass } else { State::Warn };
                let message = if leaking.is_empty() {
                    format!(
                        "{} series: largest projected growth {:.1} MiB over {} (limit {:.0} MiB)",
                        judged.len(),
                        worst / 1048576.0,
                        format_duration(p.horizon.0),
                        limit / 1048576.0
                    )
                } else {
                    format!(
                        "suspect leak: projected growth over {} above {:.0} MiB for {}",
                        format_duration(p.horizon.0),
                        limit / 1048576.0,
                        leaking.join(", ")
                    )
                };
                Ok(base(Outcome::new(state, message).observed(worst)))
            }
            .await)
        })
    }
}

// === capacity ===

pub const CAPACITY: KindInfo = KindInfo {
    name: "capacity",
    category: Category::Operations,
    unit: "seconds",
    summary: "time until a usage series reaches its limit (linear trend) vs a horizon",
    source: crate::checks::EvidenceSource::Measured,
    target: NEED,
    build: build_capacity,
};

/// A limit: a number, or a PromQL expression with the same labels as `usage`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    Number(f64),
    Query(String),
}

/// Params of the `capacity` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityParams {
    /// PromQL of the used amount (a gauge), e.g. `node_filesystem_size_bytes - node_filesystem_avail_bytes`.
    pub usage: String,
    /// The amount at which it is full.
    pub limit: Limit,
    /// Trend window. Default 6h.
    #[serde(default = "default_window")]
    pub window: ConfigDuration,
    /// Full sooner than this fails. Default 7d.
    #[serde(default = "default_capacity_horizon")]
    pub horizon: ConfigDuration,
}

const fn default_capacity_horizon() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(7 * 86_400))
}

#[derive(Debug)]
struct Capacity {
    target: Arc<HttpTarget>,
    params: CapacityParams,
}

fn build_capacity(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: CapacityParams = parse_params(&input.spec.params)?;
    Ok(Arc::new(Capacity {
        target: http_target(input)?,
        params,
    }))
}

impl Check for Capacity {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let p = &self.params;
                let window = format_duration(p.window.0);
                let usage = instant_query(ctx, &self.target, &p.usage).await?;
                if usage.is_empty() {
                    return Err(Outcome::error(format!("usage query returned no data: {}", p.usage)));
                }
                let slopes = instant_query(ctx, &self.target, &format!("deriv(({})[{window}:])", p.usage)).await?;
                let limits: Vec<(BTreeMap<String, String>, f64)> = match &p.limit {
                    Limit::Number(n) => vec![(BTreeMap::new(), *n)],
                    Limit::Query(q) => instant_query(ctx, &self.target, q).await?,
                };
                let limit_for = |labels: &BTreeMap<String, String>| -> Option<f64> {
                    if limits.len() == 1 {
                        return Some(limits[0].1);
                    }
                    limits.iter().find(|(l, _)| l.iter().all(|(k, v)| k == "__name__" || labels.get(k) == Some(v))).map(|(_, v)| *v)
                };
                let mut soonest: Option<(String, f64)> = None;
                let mut lines = Vec::new();
                for (labels, used) in &usage {
                    let Some(limit) = limit_for(labels) else { continue };
                    // deriv() drops the metric name; match on the other labels.
                    let same = |l: &BTreeMap<String, String>| {
                        l.iter().filter(|(k, _)| *k != "__name__").eq(labels.iter().filter(|(k, _)| *k != "__name__"))
                    };
                    let slope = slopes.iter().find(|(l, _)| same(l)).map_or(0.0, |(_, s)| *s);
                    let left = limit - used;
                    let eta = if left <= 0.0 { 0.0 } else if slope > 0.0 { left / slope } else { f64::INFINITY };
                    lines.push(json!({"series": series_name(labels), "used": used, "limit": limit, "per_second": slope, "seconds_until_full": if eta.is_finite() { json!(eta) } else { Value::Null }}));
                    if soonest.as_ref().is_none_or(|(_, s)| eta < *s) {
                        soonest = Some((series_name(labels), eta));
                    }
                }
                let Some((name, eta)) = soonest else {
                    return Err(Outcome::error("no usage series has a matching limit"));
                };
                let horizon = p.horizon.0.as_secs_f64();
                let outcome = if eta.is_infinite() {
                    Outcome::pass(format!("{} series not growing over {window}", usage.len()))
                } else if eta < horizon {
                    Outcome::fail(format!(
                        "{name} is full in {} at the {window} trend, sooner than {}",
                        format_duration(std::time::Duration::from_secs(eta as u64)),
                        format_duration(p.horizon.0)
                    ))
                } else {
                    Outcome::pass(format!(
                        "soonest full: {name} in {} (horizon {})",
                        format_duration(std::time::Duration::from_secs(eta as u64)),
                        format_duration(p.horizon.0)
                    ))
                };
                let outcome = if eta.is_finite() { outcome.observed(eta) } else { outcome };
                Ok(outcome.threshold(horizon).evidence("series", lines))
            }
            .await)
        })
    }
}
