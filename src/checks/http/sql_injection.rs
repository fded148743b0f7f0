//! Kind `sql_injection` (opt-in params): classic probe strings in one query
//! parameter at a time, against a benign baseline. Fails on a 5xx, on a
//! database error signature in the body, or when a true/false boolean pair
//! answers the way an injectable query does (true = baseline, false differs).

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::signatures::db_errors;
use super::{fetch, http_target, Fetched, DEFAULT_BODY_CAP};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::targets::HttpTarget;

pub const KIND: KindInfo = KindInfo {
    item: Some("security.sql_injection"),
    unit: "count",
    summary: "probe strings in configured parameters: no 5xx, no DB error, no boolean difference",
    side_effects: true,
    target: TargetNeed::Required(&[TargetType::Http]),
    doc: r#"- **Sends** GETs with the parameter set to: the benign value (baseline), quote-breaking probes (`'`, `"`, `')--`, backtick), and true/false boolean pairs in string and numeric form (`' AND '1'='1` / `' AND '1'='2`, `AND 1=1` / `AND 1=2`). No time-based probes.
- **Passes** when no probe causes a 5xx or a database error message and no boolean pair behaves like an injectable query.
- **Fails** on a 5xx, a database error signature in the body (PostgreSQL, MySQL/MariaDB, SQLite, MSSQL, Oracle; tested with examples), or when the true probe answers like the baseline (same status, body length within 5%) while the false one does not.
- **Errors** when the baseline (the benign value) does not answer 2xx: a 401/403/404/5xx baseline means the probes would not reach the query, so nothing can be told."#,
    ..KindInfo::new(
        "sql_injection",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

fn default_value() -> String {
    "1".into()
}

/// One parameter to probe.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// URL relative to the target (its other query parameters are kept).
    pub url: String,
    /// The query parameter that receives the probes.
    pub param: String,
    /// A benign value for the baseline. Default "1".
    #[serde(default = "default_value")]
    pub value: String,
}

/// Params of the `sql_injection` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Parameters to probe (opt-in: nothing else is sent).
    pub params: Vec<Target>,
}

#[derive(Debug)]
struct SqlInjection {
    target: Arc<HttpTarget>,
    params: Vec<(reqwest::Url, String, String)>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.params.is_empty() {
        return Err(ParamError::new(
            "params.params",
            "list at least one parameter",
        ));
    }
    let target = http_target(input)?;
    let mut list = Vec::new();
    for (i, p) in params.params.iter().enumerate() {
        let url = target
            .resolve(&p.url)
            .map_err(|m| ParamError::new(format!("params.params[{i}].url"), m))?;
        if p.param.is_empty() {
            return Err(ParamError::new(
                format!("params.params[{i}].param"),
                "must not be empty",
            ));
        }
        list.push((url, p.param.clone(), p.value.clone()));
    }
    Ok(Arc::new(SqlInjection {
        target,
        params: list,
    }))
}

/// Probes that break quoting; any DB error or 5xx they cause is a finding.
pub fn breaking_probes(value: &str) -> Vec<String> {
    vec![
        format!("{value}'"),
        format!("{value}\""),
        format!("{value}')--"),
        format!("{value}`"),
    ]
}

/// Boolean pairs (true, false) for string and numeric contexts.
pub fn boolean_pairs(value: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("{value}' AND '1'='1"),
            format!("{value}' AND '1'='2"),
        ),
        (format!("{value} AND 1=1"), format!("{value} AND 1=2")),
    ]
}

/// Two answers look alike: same status and body length within 5%.
pub fn similar(a: &Fetched, b: &Fetched) -> bool {
    if a.status != b.status {
        return false;
    }
    let (la, lb) = (a.body.len() as f64, b.body.len() as f64);
    let largest = la.max(lb);
    largest == 0.0 || (la - lb).abs() / largest <= 0.05
}

impl SqlInjection {
    async fn ask(
        &self,
        ctx: &Context,
        url: &reqwest::Url,
        param: &str,
        value: &str,
    ) -> Result<Fetched, String> {
        let mut url = url.clone();
        let others: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != param)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .append_pair(param, value);
        fetch(ctx, self.target.request(Method::GET, url), DEFAULT_BODY_CAP).await
    }
}

impl Check for SqlInjection {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut findings = Vec::new();
            let mut evidence = Vec::new();
            for (url, param, value) in &self.params {
                let baseline = match self.ask(ctx, url, param, value).await {
                    Ok(a) => a,
                    Err(e) => return Outcome::error(e),
                };
                if !(200..300).contains(&baseline.status) {
                    return Outcome::error(format!(
                        "{url} answered {} to the benign value {param}={value:?}: cannot tell, the probes would not reach the query (the baseline must answer 2xx; check the URL and the target's credentials)",
                        baseline.status
                    ));
                }
                for probe in breaking_probes(value) {
                    let answer = match self.ask(ctx, url, param, &probe).await {
                        Ok(a) => a,
                        Err(e) => return Outcome::error(e),
                    };
                    let db_error = db_errors().find(&answer.text());
                    if answer.status >= 500 {
                        findings.push(format!(
                            "{param}={probe:?} at {url}: status {}",
                            answer.status
                        ));
                    }
                    if let Some(db) = db_error {
                        findings.push(format!(
                            "{param}={probe:?} at {url}: {db} error message in the body"
                        ));
                    }
                    evidence.push(json!({"param": param, "probe": probe, "status": answer.status, "db_error": db_error}));
                }
                for (yes, no) in boolean_pairs(value) {
                    let (t, f) = match (
                        self.ask(ctx, url, param, &yes).await,
                        self.ask(ctx, url, param, &no).await,
                    ) {
                        (Ok(t), Ok(f)) => (t, f),
                        (Err(e), _) | (_, Err(e)) => return Outcome::error(e),
                    };
                    let injectable = similar(&t, &baseline) && !similar(&f, &baseline);
                    if injectable {
                        findings.push(format!(
                            "{param} at {url}: {yes:?} answers like the baseline but {no:?} does not (boolean injection)"
                        ));
                    }
                    evidence.push(json!({
                        "param": param, "true_probe": yes, "false_probe": no,
                        "baseline": [baseline.status, baseline.body.len()],
                        "true": [t.status, t.body.len()], "false": [f.status, f.body.len()],
                    }));
                }
            }
            let outcome = if findings.is_empty() {
                Outcome::pass(format!(
                    "{} parameter(s) show no sign of SQL injection",
                    self.params.len()
                ))
            } else {
                Outcome::fail(findings.join("; "))
            };
            outcome
                .observed(findings.len() as f64)
                .threshold(0.0)
                .evidence("probes", evidence)
        })
    }
}
