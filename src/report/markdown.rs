//! GitHub-flavoured Markdown for a CI job summary (`--output
//! markdown=$GITHUB_STEP_SUMMARY`) or a pull-request comment: the gate's
//! verdict first, then what fails it and why, then every check folded
//! away. Every cell that holds text from a target is escaped and capped
//! (`escape::markdown_cell`).

use crate::checks::State;
use crate::engine::CheckRecord;
use crate::escape::markdown_cell;

use super::{gate_line, Gate, PhaseReport, Summary};

/// Characters of a message shown in a cell.
const MESSAGE_CAP: usize = 400;

/// The Markdown report of one run.
pub fn render_markdown(
    records: &[CheckRecord],
    gate: Gate,
    phase: Option<&PhaseReport<'_>>,
) -> String {
    let passed = gate.passes(records, phase.map(|p| p.items));
    let mut out = format!(
        "## prodready: gate {}\n\n{}  \n{}\n\n",
        if passed { "passed" } else { "FAILED" },
        // Our own words and check names ([a-z0-9_], intraword `_` is no
        // emphasis in GFM): nothing of a target's answer.
        gate_line(records, gate, phase),
        Summary::of(records).line()
    );
    if let Some(p) = phase {
        let failing: Vec<_> = p.items.iter().filter(|i| gate.fails_item(i)).collect();
        if !failing.is_empty() {
            out.push_str(&format!("### Items of {} that fail the gate\n\n", p.phase));
            out.push_str("| State | Item | Why |\n|---|---|---|\n");
            for i in failing {
                let why = i.note.clone().unwrap_or_else(|| i.checks.join(", "));
                out.push_str(&format!(
                    "| {} | `{}` | {} |\n",
                    state_cell(i.state),
                    i.id,
                    markdown_cell(&why, MESSAGE_CAP)
                ));
            }
            out.push('\n');
        }
    }
    let failing: Vec<&CheckRecord> = records.iter().filter(|r| gate.fails_record(r)).collect();
    if !failing.is_empty() {
        out.push_str("### Checks that fail the gate\n\n");
        table(&mut out, &failing, gate);
        out.push('\n');
    }
    let all: Vec<&CheckRecord> = records.iter().collect();
    out.push_str(&format!(
        "<details><summary>All {} check(s)</summary>\n\n",
        all.len()
    ));
    table(&mut out, &all, gate);
    out.push_str("\n</details>\n");
    out
}

/// One row per check: state (and the waiver letting it through), name,
/// category, message.
fn table(out: &mut String, records: &[&CheckRecord], gate: Gate) {
    out.push_str("| State | Check | Category | Message |\n|---|---|---|---|\n");
    for r in records {
        let state = r.state();
        let message = r.outcome.as_ref().map_or("not evaluated", |o| &*o.message);
        let mut cell = markdown_cell(message, MESSAGE_CAP);
        if let Some(w) = gate.waived_failure(state, r.active_waiver(gate.now)) {
            cell = format!("*{}* {cell}", markdown_cell(&w.note(), MESSAGE_CAP));
        }
        out.push_str(&format!(
            "| {} | `{}` | {} | {cell} |\n",
            state_cell(state),
            r.meta.name(),
            r.meta.category().as_str(),
        ));
    }
}

/// The state in words (colour-blind safe), bold where it is not a pass.
fn state_cell(state: State) -> String {
    match state {
        State::Pass => "pass".to_owned(),
        other => format!("**{}**", other.as_str()),
    }
}
