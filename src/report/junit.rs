//! JUnit XML for CI systems, written by quick-junit: one testcase per check;
//! states that fail the gate become <failure> (or <error> for the error
//! state), an unknown the gate lets through becomes <skipped>.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::checks::State;
use crate::engine::CheckRecord;

use super::{Gate, PhaseReport};
use crate::engine::ItemRun;

/// The JUnit report, through quick-junit: one suite, one case per check with
/// its timestamp, duration and properties (kind, severity, target, item,
/// state, source); a state that fails the gate is a `<failure>` (an `error`
/// state an `<error>`), an `unknown` the gate lets through is `<skipped>`,
/// and in a phase run each checklist item no check covers is a failed case.
pub fn render_junit(
    records: &[CheckRecord],
    gate: Gate,
    phase: Option<&PhaseReport<'_>>,
) -> String {
    let started = records
        .iter()
        .filter_map(|r| {
            r.last_run
                .map(|end| end.checked_sub(r.duration).unwrap_or(end))
        })
        .min()
        .unwrap_or_else(std::time::SystemTime::now);
    let total: std::time::Duration = records.iter().map(|r| r.duration).sum();
    let mut suite = TestSuite::new("prodready");
    suite.set_timestamp(timestamp(started));
    suite.set_time(total);
    suite.add_property(Property::new(
        "prodready.version",
        env!("CARGO_PKG_VERSION"),
    ));
    suite.add_property(Property::new("gate.fail_on", gate.fail_on.as_str()));
    suite.add_property(Property::new(
        "gate.allow_unknown",
        gate.allow_unknown.to_string(),
    ));
    if let Some(p) = phase {
        suite.add_property(Property::new("gate.phase", p.phase));
    }
    for r in records {
        suite.add_test_case(check_case(r, gate));
    }
    for case in item_cases(gate, phase) {
        suite.add_test_case(case);
    }
    let mut report = Report::new("prodready");
    report.set_timestamp(timestamp(started)).set_time(total);
    report.add_test_suite(suite);
    match report.to_string() {
        Ok(mut xml) => {
            if !xml.ends_with('\n') {
                xml.push('\n');
            }
            xml
        }
        // Serializing into memory fails only on a bug; say so in the report.
        Err(e) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"prodready\" tests=\"1\" failures=\"0\" errors=\"1\"><testsuite name=\"prodready\" tests=\"1\" failures=\"0\" errors=\"1\"><testcase name=\"junit\"><error message=\"{}\"/></testcase></testsuite></testsuites>\n",
            crate::escape::markup(&e.to_string())
        ),
    }
}

/// One check's case: a state that fails the gate is a `<failure>` (an
/// `error` an `<error>`), a waived one or an `unknown` the gate lets
/// through is `<skipped>`.
fn check_case(r: &CheckRecord, gate: Gate) -> TestCase {
    let state = r.state();
    let message = r.outcome.as_ref().map_or("not evaluated", |o| &*o.message);
    let waiver = gate.waived_failure(state, r.active_waiver(gate.now));
    let status = match state {
        // A waived check is let through: skipped, with who and why.
        _ if waiver.is_some() => {
            let mut status = TestCaseStatus::skipped();
            let note = waiver.map(|w| w.note()).unwrap_or_default();
            status
                .set_message(format!("{state}, {note}"))
                .set_type("waived")
                .set_description(message);
            status
        }
        State::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(message)
                .set_type("error")
                .set_description(message);
            status
        }
        s if gate.fails(s) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(message)
                .set_type(s.as_str())
                .set_description(message);
            status
        }
        State::Unknown => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(message);
            status
        }
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(r.meta.name(), status);
    case.set_classname(format!("prodready.{}", r.meta.category().as_str()))
        .set_time(r.duration);
    if let Some(start) = started_at(r) {
        case.set_timestamp(timestamp(start));
    }
    if matches!(state, State::Pass | State::Warn) && !gate.fails(state) {
        case.set_system_out(format!("{state}: {message}"));
    }
    for (name, value) in [
        ("kind", r.meta.kind()),
        ("severity", r.meta.severity().as_str()),
        ("target", r.meta.target()),
        ("item", r.meta.item()),
        ("source", r.meta.source()),
        ("state", state.as_str()),
    ] {
        if !value.is_empty() {
            case.add_property(Property::new(name, value));
        }
    }
    case
}

/// Items that fail the gate on their own: uncovered ones, and those a
/// stopped phase never ran (their checks, if any, are skipped cases).
fn item_cases(gate: Gate, phase: Option<&PhaseReport<'_>>) -> Vec<TestCase> {
    phase
        .map_or(&[][..], |p| p.items)
        .iter()
        .filter(|i| i.run != ItemRun::Ran && gate.fails_item(i))
        .map(|i| {
            let note = i.note.as_deref().unwrap_or("not covered");
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(note)
                .set_type(match i.run {
                    ItemRun::NotRun => "not_run",
                    _ => "uncovered",
                })
                .set_description(format!("{}: {note}", i.title));
            let mut case = TestCase::new(format!("item:{}", i.id), status);
            case.set_classname("prodready.checklist")
                .set_time(std::time::Duration::ZERO);
            case
        })
        .collect()
}

/// When a check's last evaluation began.
fn started_at(r: &CheckRecord) -> Option<std::time::SystemTime> {
    r.last_run
        .map(|end| end.checked_sub(r.duration).unwrap_or(end))
}

/// A time as quick-junit takes it (UTC).
fn timestamp(t: std::time::SystemTime) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::<chrono::Utc>::from(t).fixed_offset()
}
