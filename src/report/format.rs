//! The report formats of `check`, one trait and one registry: a format has a
//! name (what `--format` and `--output NAME=FILE` take), a line of help, and
//! renders a run. Adding a format is one type here and one line in
//! `FORMATS` (docs/development.md, "Adding a report format").

use std::path::Path;

use super::{render_json, render_junit, render_sarif, render_table, Gate, PhaseReport};
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

/// One report format.
pub trait ReportFormat: Sync + std::fmt::Debug {
    /// What `--format` and `--output NAME=FILE` take.
    fn name(&self) -> &'static str;
    /// One line for `--help` and the docs.
    fn help(&self) -> &'static str;
    fn render(&self, run: &RunReport<'_>) -> String;
}

#[derive(Debug)]
struct Table;
impl ReportFormat for Table {
    fn name(&self) -> &'static str {
        "table"
    }
    fn help(&self) -> &'static str {
        "a table for a terminal (states coloured on a terminal)"
    }
    fn render(&self, run: &RunReport<'_>) -> String {
        render_table(run.records, run.colour, run.phase)
    }
}

#[derive(Debug)]
struct Json;
impl ReportFormat for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn help(&self) -> &'static str {
        "the JSON API's view of every check, the gate and the summary"
    }
    fn render(&self, run: &RunReport<'_>) -> String {
        render_json(run.records, run.gate, run.phase)
    }
}

#[derive(Debug)]
struct Junit;
impl ReportFormat for Junit {
    fn name(&self) -> &'static str {
        "junit"
    }
    fn help(&self) -> &'static str {
        "JUnit XML for CI systems: one test case per check"
    }
    fn render(&self, run: &RunReport<'_>) -> String {
        render_junit(run.records, run.gate, run.phase)
    }
}

#[derive(Debug)]
struct Sarif;
impl ReportFormat for Sarif {
    fn name(&self) -> &'static str {
        "sarif"
    }
    fn help(&self) -> &'static str {
        "SARIF 2.1.0 for code-scanning UIs"
    }
    fn render(&self, run: &RunReport<'_>) -> String {
        render_sarif(run.records, run.config_file, run.cwd)
    }
}

/// Every format, in the order `--help` lists them.
pub static FORMATS: &[&dyn ReportFormat] = &[&Table, &Json, &Junit, &Sarif];

/// The format named `name` (case-insensitive).
pub fn format_named(name: &str) -> Option<&'static dyn ReportFormat> {
    FORMATS
        .iter()
        .copied()
        .find(|f| f.name().eq_ignore_ascii_case(name))
}

/// The names, for error messages: `table, json, junit, sarif`.
pub fn format_names() -> String {
    FORMATS
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_found_by_its_name_once() {
        for f in FORMATS {
            assert!(std::ptr::addr_eq(
                format_named(&f.name().to_uppercase()).unwrap(),
                *f
            ));
            assert!(!f.help().is_empty());
        }
        assert!(format_named("xml").is_none());
        assert_eq!(format_names(), "table, json, junit, sarif");
    }
}
