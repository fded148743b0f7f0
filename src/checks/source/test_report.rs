//! Kind `test_report`: JUnit XML reports (one or many files) show no failures
//! or errors, at least `min_tests` tests, and the newest report is younger
//! than `max_age`. No report, or one that is not JUnit XML, is `error`.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{mtime, read_text, resolve_path};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::clock::unix_now;
use crate::config::{format_duration, ConfigDuration, TargetType};

pub const KIND: KindInfo = KindInfo {
    item: Some("deployment.test_all_systems"),
    unit: "count",
    summary: "JUnit XML: no failures or errors, enough tests, recent",
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"- **Passes** with no `<failure>`/`<error>` test case, at least `min_tests` cases that ran (skipped cases verify nothing and do not count), a fresh report. **Fails** naming the first failing cases, too few tests run (an all-skipped report fails) or a stale report. **Errors** when nothing matches or a file is not JUnit XML."#,
    ..KindInfo::new(
        "test_report",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_min_tests() -> u64 {
    1
}
const fn default_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(86_400))
}

/// Params of the `test_report` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Glob patterns of report files, relative to the path target
    /// (`target/nextest/ci/junit.xml`, `reports/*.xml`).
    pub reports: Vec<String>,
    /// At least this many test cases in total. Default 1.
    #[serde(default = "default_min_tests")]
    pub min_tests: u64,
    /// The newest report must be younger than this. Default 1d.
    #[serde(default = "default_max_age")]
    pub max_age: ConfigDuration,
}

#[derive(Debug)]
struct TestReport {
    patterns: Vec<String>,
    min_tests: u64,
    max_age: std::time::Duration,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.reports.is_empty() {
        return Err(ParamError::new(
            "params.reports",
            "list at least one report path or glob",
        ));
    }
    let mut patterns = Vec::new();
    for (i, r) in params.reports.iter().enumerate() {
        let full = resolve_path(input, Some(&PathBuf::from(r)), "reports")?;
        let text = full.display().to_string();
        glob::Pattern::new(&text).map_err(|e| {
            ParamError::new(format!("params.reports[{i}]"), format!("invalid glob: {e}"))
        })?;
        patterns.push(text);
    }
    Ok(Arc::new(TestReport {
        patterns,
        min_tests: params.min_tests,
        max_age: params.max_age.0,
    }))
}

/// Totals of one or more reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    /// Names of failing or erroring test cases (first ones).
    pub failing: Vec<String>,
}

/// Counts test cases and their failures in a JUnit XML document.
pub fn parse_junit(xml: &str, totals: &mut Totals) -> Result<(), String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    if !matches!(root.tag_name().name(), "testsuites" | "testsuite") {
        return Err(format!(
            "not a JUnit report (root element <{}>)",
            root.tag_name().name()
        ));
    }
    for case in root.descendants().filter(|n| n.has_tag_name("testcase")) {
        totals.tests += 1;
        let child = |name: &str| case.children().any(|c| c.has_tag_name(name));
        let name = || {
            format!(
                "{}{}",
                case.attribute("classname")
                    .map(|c| format!("{c}::"))
                    .unwrap_or_default(),
                case.attribute("name").unwrap_or("?")
            )
        };
        if child("failure") {
            totals.failures += 1;
            if totals.failing.len() < 10 {
                totals.failing.push(name());
            }
        } else if child("error") {
            totals.errors += 1;
            if totals.failing.len() < 10 {
                totals.failing.push(name());
            }
        } else if child("skipped") {
            totals.skipped += 1;
        }
    }
    Ok(())
}

impl Check for TestReport {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let patterns = self.patterns.clone();
            ctx.trace(format!("reading JUnit reports {}", patterns.join(", ")));
            let read = tokio::task::spawn_blocking(
                move || -> Result<(Vec<String>, Totals, i64), String> {
                    let mut files = Vec::new();
                    for p in &patterns {
                        let matches =
                            glob::glob(p).map_err(|e| format!("invalid glob {p}: {e}"))?;
                        for m in matches {
                            let path = m.map_err(|e| {
                                format!("cannot read {}: {}", e.path().display(), e.error())
                            })?;
                            if path.is_file() && !files.contains(&path) {
                                files.push(path);
                            }
                        }
                    }
                    if files.is_empty() {
                        return Err(format!("no JUnit report matches {}", patterns.join(", ")));
                    }
                    let mut totals = Totals::default();
                    let mut newest = i64::MIN;
                    for f in &files {
                        let text = read_text(f, 64 * 1024 * 1024)?;
                        parse_junit(&text, &mut totals)
                            .map_err(|e| format!("{}: {e}", f.display()))?;
                        newest = newest.max(mtime(f)?);
                    }
                    Ok((
                        files.iter().map(|f| f.display().to_string()).collect(),
                        totals,
                        newest,
                    ))
                },
            )
            .await;
            let (files, t, newest) = match read {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Outcome::error(e),
                Err(e) => return Outcome::error(format!("reading reports failed: {e}")),
            };
            let age = (unix_now() - newest).max(0);
            let mut problems = Vec::new();
            if t.failures + t.errors > 0 {
                problems.push(format!(
                    "{} failure(s) and {} error(s): {}",
                    t.failures,
                    t.errors,
                    t.failing.join(", ")
                ));
            }
            // Skipped tests verified nothing: only tests that ran count.
            let ran = t.tests.saturating_sub(t.skipped);
            if ran < self.min_tests {
                problems.push(format!(
                    "only {ran} test(s) ran ({} skipped), minimum {}",
                    t.skipped, self.min_tests
                ));
            }
            if age as u64 > self.max_age.as_secs() {
                problems.push(format!(
                    "newest report is {} old, limit {}",
                    format_duration(std::time::Duration::from_secs(age as u64 / 60 * 60)),
                    format_duration(self.max_age)
                ));
            }
            let outcome = if problems.is_empty() {
                Outcome::pass(format!(
                    "{} test(s) passed ({} skipped) in {} report(s)",
                    t.tests - t.skipped,
                    t.skipped,
                    files.len()
                ))
            } else {
                Outcome::fail(problems.join("; "))
            };
            outcome
                .observed((t.failures + t.errors) as f64)
                .threshold(0.0)
                .evidence("reports", files)
                .evidence("totals", json!({"tests": t.tests, "failures": t.failures, "errors": t.errors, "skipped": t.skipped}))
                .evidence("failing", t.failing)
                .evidence("newest_report_age_seconds", age)
        })
    }
}
