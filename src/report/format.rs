//! The report formats of `check`, one registry: a format has a name (what
//! `--format` and `--output NAME=FILE` take), a line of help, and renders a
//! run. Adding a format is one entry in `FORMATS` (docs/development.md,
//! "Adding a report format").

use std::path::Path;

use super::{
    render_json, render_junit, render_markdown, render_sarif, render_table, Gate, PhaseReport,
};
use crate::engine::CheckRecord;

/// What every format renders from: one run of `check`.
#[derive(Debug)]
pub struct RunReport<'a> {
    pub records: &'a [CheckRecord],
    pub gate: Gate,
    /// The phase and its items, for `--phase` runs.
    pub phase: Option<&'a PhaseReport<'a>>,
    /// The config file (SARIF locates config findings in it).
    pub config_file: &'a Path,
    /// The working directory paths are made relative to.
    pub cwd: &'a Path,
    /// ANSI colours for a terminal (the table's states).
    pub colour: bool,
}

/// One report format, as the kinds are (`checks::KindInfo`): plain data
/// and a function, listed in `FORMATS`.
#[derive(Debug)]
pub struct ReportFormat {
    /// What `--format` and `--output NAME=FILE` take.
    pub name: &'static str,
    /// One line for `--help` and the docs.
    pub help: &'static str,
    pub render: fn(&RunReport<'_>) -> String,
}

/// Every format, in the order `--help` lists them.
pub static FORMATS: &[ReportFormat] = &[
    ReportFormat {
        name: "table",
        help: "a table for a terminal (states coloured on a terminal)",
        render: |run| render_table(run.records, run.gate, run.colour, run.phase),
    },
    ReportFormat {
        name: "json",
        help: "the JSON API's view of every check, the gate and the summary",
        render: |run| render_json(run.records, run.gate, run.phase),
    },
    ReportFormat {
        name: "junit",
        help: "JUnit XML for CI systems: one test case per check",
        render: |run| render_junit(run.records, run.gate, run.phase),
    },
    ReportFormat {
        name: "sarif",
        help: "SARIF 2.1.0 for code-scanning UIs",
        render: |run| render_sarif(run.records, run.config_file, run.cwd),
    },
    ReportFormat {
        name: "markdown",
        help: "GitHub-flavoured Markdown for job summaries and pull-request comments: the verdict, what fails, then every check",
        render: |run| render_markdown(run.records, run.gate, run.phase),
    },
];

/// The format named `name` (case-insensitive).
pub fn format_named(name: &str) -> Option<&'static ReportFormat> {
    FORMATS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The names, for error messages: `table, json, junit, sarif`.
pub fn format_names() -> String {
    FORMATS
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_found_by_its_name_once() {
        for f in FORMATS {
            assert!(std::ptr::eq(
                format_named(&f.name.to_uppercase()).unwrap(),
                f
            ));
            assert!(!f.help.is_empty());
        }
        assert!(format_named("xml").is_none());
        assert_eq!(format_names(), "table, json, junit, sarif, markdown");
    }
}
