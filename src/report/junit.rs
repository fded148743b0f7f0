//! JUnit XML for CI systems: one testcase per check; states that fail the gate
//! become <failure> (or <error> for the error state), unknown becomes <skipped>.

use crate::checks::State;
use crate::engine::CheckRecord;

use super::{Gate, PhaseReport, Summary};

/// Escapes text for XML and HTML content and attribute values; drops the
/// control characters XML 1.0 forbids.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render_junit(
    records: &[CheckRecord],
    gate: Gate,
    phase: Option<&PhaseReport<'_>>,
) -> String {
    let summary = Summary::of(records);
    // Items no check covers fail the phase: they appear as failed cases.
    let uncovered: Vec<&crate::engine::ItemResult> = phase
        .map_or(&[][..], |p| p.items)
        .iter()
        .filter(|i| i.checks.is_empty() && gate.fails(i.state))
        .collect();
    let failures = records
        .iter()
        .filter(|r| {
            r.state() != State::Error && gate.fails(r.state()) && r.state() != State::Unknown
        })
        .count();
    let errors = summary.error;
    let skipped = records
        .iter()
        .filter(|r| r.state() == State::Unknown && !gate.fails(State::Unknown))
        .count();
    let unknown_failures = records
        .iter()
        .filter(|r| r.state() == State::Unknown && gate.fails(State::Unknown))
        .count();
    let total_time: f64 = records.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"prodready\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total_time:.3}\">\n",
        records.len() + uncovered.len(),
        failures + unknown_failures + uncovered.len(),
    ));
    out.push_str(&format!(
        "  <testsuite name=\"prodready\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total_time:.3}\">\n",
        records.len() + uncovered.len(),
        failures + unknown_failures + uncovered.len(),
    ));
    for r in records {
        let state = r.state();
        let message = escape_markup(
            r.outcome
                .as_ref()
                .map_or("not evaluated", |o| o.message.as_str()),
        );
        out.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"prodready.{}\" time=\"{:.3}\">",
            escape_markup(&r.meta.name),
            r.meta.category.as_str(),
            r.duration.as_secs_f64()
        ));
        match state {
            State::Error => out.push_str(&format!(
                "\n      <error message=\"{message}\" type=\"error\">{message}</error>\n    "
            )),
            s if gate.fails(s) => out.push_str(&format!(
                "\n      <failure message=\"{message}\" type=\"{s}\">{message}</failure>\n    "
            )),
            State::Unknown => {
                out.push_str(&format!("\n      <skipped message=\"{message}\"/>\n    "))
            }
            s => out.push_str(&format!(
                "\n      <system-out>{s}: {message}</system-out>\n    "
            )),
        }
        out.push_str("</testcase>\n");
    }
    for i in uncovered {
        let note = escape_markup(i.note.as_deref().unwrap_or("not covered"));
        out.push_str(&format!(
            "    <testcase name=\"item:{}\" classname=\"prodready.checklist\" time=\"0.000\">\n      <failure message=\"{note}\" type=\"uncovered\">{}: {note}</failure>\n    </testcase>\n",
            escape_markup(i.id),
            escape_markup(i.title),
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape_markup("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&#39;"
        );
    }
}
