//! What `sarif_report` reads off a log's runs besides their results: a
//! failed run, its age (stale, or dated ahead), the commit it is for (and a
//! run naming none when one is expected), empty runs, the tools.

use std::path::Path;

use serde_json::json;

use super::{Read, SarifReport, WithoutProvenance};
use crate::clock::rfc3339_unix;
use crate::config::format_duration;

/// What the logs' runs say beside their results.
#[derive(Default)]
pub(super) struct RunFacts {
    /// Why the logs are no evidence (failed, stale, dated ahead, another
    /// commit, no commit when one is expected).
    pub problems: Vec<String>,
    pub tools: Vec<serde_json::Value>,
    /// Logs without runs, and runs with no result and no rule.
    pub empty: Vec<String>,
    pub commits: Vec<String>,
    pub ended: Vec<String>,
}

pub(super) fn run_facts(
    this: &SarifReport,
    reads: Vec<Read>,
    expected: Option<&str>,
    now: i64,
) -> RunFacts {
    let mut facts = RunFacts::default();
    for read in reads {
        if read.runs.is_empty() {
            facts.empty.push(format!("{} (no run)", read.origin));
        }
        for run in read.runs {
            let name = match &run.version {
                Some(v) => format!("{} {v}", run.tool),
                None => run.tool.clone(),
            };
            facts
                .tools
                .push(json!({"name": run.tool, "version": run.version, "log": read.origin}));
            let problems = &mut facts.problems;
            problems.extend(run.failures.iter().map(|f| format!("{name}: {f}")));
            match run.ended.or(read.dated) {
                Some(t) if t > now + crate::clock::FUTURE_TOLERANCE_SECONDS => {
                    problems.push(format!(
                        "{name}: the run is dated {} in the future ({}): its age cannot be trusted (clock skew or a forged date)",
                        format_duration(std::time::Duration::from_secs((t - now) as u64 / 60 * 60)),
                        rfc3339_unix(t),
                    ));
                    facts.ended.push(rfc3339_unix(t));
                }
                Some(t) => {
                    let age = (now - t).max(0) as u64;
                    if age > this.max_age.as_secs() {
                        problems.push(format!(
                            "{name}: the run ended {} ago ({}), older than max_age {}: it says nothing about the current code",
                            format_duration(std::time::Duration::from_secs(age / 60 * 60)),
                            rfc3339_unix(t),
                            format_duration(this.max_age)
                        ));
                    }
                    facts.ended.push(rfc3339_unix(t));
                }
                None => problems.push(format!(
                    "{name}: no end time in the run and no date for {}: its age is unknown",
                    read.origin
                )),
            }
            if let (Some(expected), true) = (expected, run.revisions.is_empty()) {
                problems.extend(untied(this, &read.origin, read.path.as_deref(), expected));
            }
            if let Some(expected) = expected {
                for r in &run.revisions {
                    if !r.eq_ignore_ascii_case(expected) {
                        problems.push(format!(
                            "{name}: report is for commit {r}, tree is at {expected}"
                        ));
                    }
                }
            }
            facts.commits.extend(run.revisions.iter().cloned());
            if run.results == 0 && run.rules == 0 {
                facts.empty.push(format!("{name} in {}", read.origin));
            }
        }
    }
    facts
}

/// Why a run that names no commit is not tied to `expected`, if it is not.
fn untied(this: &SarifReport, origin: &str, path: Option<&Path>, expected: &str) -> Option<String> {
    let why = match (this.without_provenance, path) {
        (WithoutProvenance::Error, _) => format!("it cannot show it is for {expected}; set without_provenance: file_commit to tie a committed log by its own commit"),
        (WithoutProvenance::FileCommit, None) => "a log fetched by URL has no commit of its own".to_owned(),
        (WithoutProvenance::FileCommit, Some(path)) => crate::git::committed_by(path, expected).err()?,
    };
    Some(format!(
        "{origin} names no commit (no versionControlProvenance): {why}"
    ))
}
