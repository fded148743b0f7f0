//! The terminal table of `check`: one line per check, state coloured on a TTY.

use crate::checks::State;
use crate::engine::CheckRecord;

use super::{gate_line, Gate, PhaseReport, Summary};

fn colour(state: State) -> &'static str {
    match state {
        State::Pass => "\x1b[32m",
        State::Warn => "\x1b[33m",
        State::Fail => "\x1b[31m",
        State::Error => "\x1b[35m",
        State::Unknown => "\x1b[90m",
    }
}

/// Renders the table; `colour_states` adds ANSI colours to the state column.
/// A phase run lists its items, in the seed's order, above the checks; the
/// last line is the gate's verdict.
pub fn render_table(
    records: &[CheckRecord],
    gate: Gate,
    colour_states: bool,
    phase: Option<&PhaseReport<'_>>,
) -> String {
    let paint = |state: State| {
        let text = format!("{:<7}", state.as_str().to_uppercase());
        if colour_states {
            format!("{}{text}\x1b[0m", colour(state))
        } else {
            text
        }
    };
    let mut head = String::new();
    if let Some(p) = phase {
        let width = p.items.iter().map(|i| i.id.len()).max().unwrap_or(4).max(4);
        head.push_str(&format!(
            "{:<7}  {:<width$}  CHECKS / NOTE\n",
            "STATE", "ITEM"
        ));
        for i in p.items {
            let mut detail = match &i.note {
                Some(note) => note.clone(),
                None => i.checks.join(", "),
            };
            if let Some(w) = &i.waiver {
                detail = format!("[{}] {detail}", w.note());
            }
            head.push_str(&format!("{}  {:<width$}  {detail}\n", paint(i.state), i.id));
        }
        head.push('\n');
    }
    let name_width = records
        .iter()
        .map(|r| r.meta.name().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = head;
    out.push_str(&format!(
        "{:<7}  {:<name_width$}  {:<11}  {:>8}  MESSAGE\n",
        "STATE", "CHECK", "CATEGORY", "TIME"
    ));
    for r in records {
        let state = r.state();
        let mut message = r
            .outcome
            .as_ref()
            .map_or("not evaluated", |o| &*o.message)
            .replace('\n', " ");
        if state != State::Pass {
            if let Some(w) = r.active_waiver(crate::clock::unix_now()) {
                message = format!("[{}] {message}", w.note());
            }
        }
        let state_cell = paint(state);
        out.push_str(&format!(
            "{state_cell}  {:<name_width$}  {:<11}  {:>7}ms  {message}\n",
            r.meta.name(),
            r.meta.category().as_str(),
            r.duration.as_millis(),
        ));
    }
    out.push_str(&format!(
        "\n{}\n{}\n",
        Summary::of(records).line(),
        gate_line(records, gate, phase)
    ));
    out
}
