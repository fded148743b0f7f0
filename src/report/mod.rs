//! Renders results for people and tools: the JSON view shared by the API and
//! the `check` command, the terminal table, JUnit XML, SARIF and Markdown. Renderers only read
//! records; they never run checks.

mod format;
mod junit;
mod markdown;
mod sarif;
mod table;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::State;
pub use crate::clock::rfc3339;
use crate::engine::CheckRecord;
pub use format::{format_named, format_names, ReportFormat, RunReport, FORMATS};
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use sarif::render_sarif;

pub use table::render_table;

use crate::engine::ItemResult;
pub use crate::engine::{FailOn, Gate};

/// One check as the JSON API and `check --format json` show it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckView {
    pub name: String,
    pub kind: &'static str,
    pub category: &'static str,
    pub severity: &'static str,
    pub target: String,
    pub unit: &'static str,
    /// `measured` (read off a live system) or `attestation` (self-reported).
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub state: State,
    pub message: String,
    /// The class of reason the alerts act on apart from the check:
    /// `unreachable`, `tls` or `auth` (an `error` caused by its target,
    /// alerted once per target), `insufficient_data` (an `unknown` for a
    /// system too quiet to judge, which pages nobody). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<crate::vocab::Cause>,
    pub observed: Option<f64>,
    pub threshold: Option<f64>,
    pub evidence: Map<String, Value>,
    pub last_run: Option<String>,
    pub last_success: Option<String>,
    pub duration_seconds: Option<f64>,
    pub runs: u64,
    pub errors: u64,
    /// The checklist item the check evidences ("" for none).
    pub item: &'static str,
    /// States of the last evaluations, oldest first.
    pub history: Vec<State>,
    /// The check's own waiver (the one holding now, else the latest to
    /// expire): it never changes `state`; while `active` the gate lets the
    /// check through and the failure alerts leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Value>,
}

impl CheckView {
    pub fn from_record(r: &CheckRecord) -> CheckView {
        let outcome = r.outcome.as_ref();
        CheckView {
            name: r.meta.name().to_owned(),
            kind: r.meta.kind(),
            category: r.meta.category().as_str(),
            severity: r.meta.severity().as_str(),
            target: r.meta.target().to_owned(),
            unit: r.meta.unit(),
            source: r.meta.source(),
            description: r.meta.description().map(str::to_owned),
            state: r.state(),
            message: outcome
                .map_or_else(|| "not evaluated yet".to_owned(), |o| o.message.to_string()),
            cause: outcome.and_then(|o| o.cause),
            observed: outcome.and_then(|o| o.observed),
            threshold: outcome.and_then(|o| o.threshold),
            evidence: outcome.map(|o| o.evidence()).unwrap_or_default(),
            last_run: r.last_run.map(rfc3339),
            last_success: r.last_success.map(rfc3339),
            duration_seconds: r.last_run.map(|_| r.duration.as_secs_f64()),
            runs: r.runs,
            errors: r.errors,
            item: r.meta.item(),
            history: r.history.iter().collect(),
            waiver: shown_waiver(r.meta.waivers(), crate::clock::unix_now()),
        }
    }
}

/// The waiver to show for a check (see `config::shown_waiver`), as JSON;
/// `waivers` are the check's own (`CheckMeta::waivers`, no finding's).
fn shown_waiver<'a>(
    waivers: impl Iterator<Item = &'a crate::config::Waiver> + Clone,
    now: i64,
) -> Option<Value> {
    crate::config::shown_waiver(waivers, now).map(|w| w.view(now))
}

/// Counts of checks per state, in `State::ALL` order.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub error: usize,
    pub unknown: usize,
}

impl Summary {
    pub fn of(records: &[CheckRecord]) -> Summary {
        let mut s = Summary::default();
        for r in records {
            match r.state() {
                State::Pass => s.pass += 1,
                State::Warn => s.warn += 1,
                State::Fail => s.fail += 1,
                State::Error => s.error += 1,
                State::Unknown => s.unknown += 1,
            }
        }
        s
    }

    pub fn line(&self) -> String {
        format!(
            "{} pass, {} warn, {} fail, {} error, {} unknown",
            self.pass, self.warn, self.fail, self.error, self.unknown
        )
    }
}

/// The gate's verdict in one line, as the table and the Markdown report end
/// with it: what decided it (the checks and items that fail it, or the
/// failures waivers let through), so that a waived `fail` and a passing
/// gate are never read as a contradiction.
pub fn gate_line(records: &[CheckRecord], gate: Gate, phase: Option<&PhaseReport<'_>>) -> String {
    let items = phase.map(|p| p.items);
    let failing: Vec<&str> = records
        .iter()
        .filter(|r| gate.fails_record(r))
        .map(|r| r.meta.name())
        .chain(
            items
                .unwrap_or_default()
                .iter()
                .filter(|i| gate.fails_item(i))
                .map(|i| i.id),
        )
        .collect();
    let waived = records
        .iter()
        .filter(|r| {
            gate.waived_failure(r.state(), r.active_waiver(gate.now))
                .is_some()
        })
        .count();
    let waived = match waived {
        0 => String::new(),
        n => format!("; {n} failing check(s) let through by waivers"),
    };
    let rule = format!(
        "fail-on {}{}",
        gate.fail_on.as_str(),
        if gate.allow_unknown {
            ", unknown allowed"
        } else {
            ""
        }
    );
    match gate.verdict(records, items) {
        crate::engine::Verdict::Passed => format!("gate: PASSED ({rule}{waived})"),
        crate::engine::Verdict::NothingChecked => {
            "gate: FAILED: no check ran, and a gate that checks nothing cannot pass".to_owned()
        }
        crate::engine::Verdict::Failed => format!(
            "gate: FAILED ({rule}{waived}): {} fail(s) it: {}",
            failing.len(),
            failing.join(", ")
        ),
    }
}

/// The items of a `check --phase` run, in the seed's order.
#[derive(Debug, Clone, Copy)]
pub struct PhaseReport<'a> {
    /// `pre-deploy` or `post-deploy`.
    pub phase: &'a str,
    pub items: &'a [ItemResult],
}

/// The `check --format json` document.
pub fn render_json(records: &[CheckRecord], gate: Gate, phase: Option<&PhaseReport<'_>>) -> String {
    let checks: Vec<CheckView> = records.iter().map(CheckView::from_record).collect();
    let passed = gate.passes(records, phase.map(|p| p.items));
    let mut doc = serde_json::json!({
        "checks": checks,
        "summary": Summary::of(records),
        "gate": {
            "fail_on": gate.fail_on,
            "allow_unknown": gate.allow_unknown,
            "allow_uncovered": gate.allow_uncovered,
            "passed": passed,
        },
    });
    if let (Some(p), Some(map)) = (phase, doc.as_object_mut()) {
        map.insert("phase".into(), p.phase.into());
        map.insert(
            "items".into(),
            serde_json::to_value(p.items).unwrap_or_default(),
        );
    }
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
