//! What `sarif_report` keeps of the results it reads, one at a time as the
//! reader hands them over: counts per level and severity, the worst results
//! (at most `WORST`), and the waived and in-source-suppressed ones (listed up
//! to `LISTED`, counted in full). Memory is bounded by this, not by the log.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::SarifReport;
use crate::config::Waiver;
use crate::scan::sarif::{Finding, Level, SecuritySeverity, Suppressed};

/// Results kept for the evidence (`results`) and the message.
pub(super) const WORST: usize = 50;
/// Waived and in-source-suppressed results listed in the evidence; more
/// are counted.
const LISTED: usize = 500;

#[derive(Debug)]
pub(super) struct Tally {
    now: i64,
    pub levels: BTreeMap<Level, u64>,
    pub severities: BTreeMap<SecuritySeverity, u64>,
    /// Counted results at a level or severity with a limit.
    pub limited: u64,
    /// The worst counted results with their tool, worst first.
    pub worst: Vec<(Finding, String)>,
    pub waived: Vec<Value>,
    pub waived_total: u64,
    /// In-source suppressions without a review status, counted (the check
    /// did not opt in to them) and listed apart.
    pub in_source: Vec<Value>,
    pub in_source_total: u64,
}

/// Worst first: by severity, then level.
fn rank(f: &Finding) -> (u8, Level) {
    (f.severity.map_or(9, |s| s as u8), f.level)
}

impl Tally {
    pub fn new(now: i64) -> Tally {
        Tally {
            now,
            levels: Level::ALL.into_iter().map(|l| (l, 0)).collect(),
            severities: SecuritySeverity::ALL.into_iter().map(|s| (s, 0)).collect(),
            limited: 0,
            worst: Vec::new(),
            waived: Vec::new(),
            waived_total: 0,
            in_source: Vec::new(),
            in_source_total: 0,
        }
    }

    /// The levels and severities over the check's limits, each `n level
    /// (limit max)`.
    pub fn over_limits(&self, this: &SarifReport) -> Vec<String> {
        let over =
            |name: &str, n: u64, max: u64| (n > max).then(|| format!("{n} {name} (limit {max})"));
        let levels = this.levels.iter().filter_map(|(l, max)| {
            over(l.as_str(), self.levels.get(l).copied().unwrap_or(0), *max)
        });
        let severities = this.severities.iter().filter_map(|(s, max)| {
            over(
                s.as_str(),
                self.severities.get(s).copied().unwrap_or(0),
                *max,
            )
        });
        levels.chain(severities).collect()
    }

    /// The worst counted results, as the evidence lists them.
    pub fn worst_json(&self) -> Vec<Value> {
        self.worst
            .iter()
            .map(|(f, tool)| {
                let fingerprints: serde_json::Map<String, Value> = f
                    .fingerprints
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect();
                json!({"rule": f.rule, "level": f.level.as_str(), "severity": f.severity.map(SecuritySeverity::as_str),
                       "message": f.message.chars().take(300).collect::<String>(), "file": f.file, "line": f.line, "tool": tool,
                       "uri_base_id": f.uri_base_id, "score": f.score, "fingerprints": fingerprints})
            })
            .collect()
    }

    /// The first `n` worst results, one phrase each, for the message.
    pub fn shown(&self, n: usize) -> Vec<String> {
        self.worst
            .iter()
            .take(n)
            .map(|(f, tool)| match (&f.file, f.line) {
                (Some(file), Some(line)) => format!("{} at {file}:{line} ({tool})", f.rule),
                (Some(file), None) => format!("{} at {file} ({tool})", f.rule),
                _ => format!("{} ({tool})", f.rule),
            })
            .collect()
    }

    /// Judges one result of `tool`'s run.
    pub fn add(&mut self, this: &SarifReport, tool: &str, f: Finding) {
        if !counted(this, &f.rule) {
            return;
        }
        let now = self.now;
        let config = waiver_of(&this.waivers, &f, now);
        let report = match &f.suppressed {
            Some(Suppressed::InSource(j)) if !this.in_source_suppressions => {
                self.in_source_total += 1;
                if self.in_source.len() < LISTED {
                    self.in_source.push(json!({"rule": f.rule, "file": f.file, "line": f.line, "tool": tool, "justification": j}));
                }
                None
            }
            Some(Suppressed::InSource(j)) => Some((j, "an in-source suppression")),
            Some(Suppressed::Accepted(j)) => Some((j, "the report's suppression")),
            None => None,
        };
        if config.is_some() || report.is_some() {
            self.waived_total += 1;
            if self.waived.len() < LISTED {
                let waiver = match (config, report) {
                    (Some(w), _) => w.view(now),
                    (None, Some((j, source))) => json!({"justification": j, "source": source}),
                    (None, None) => Value::Null,
                };
                self.waived.push(json!({"rule": f.rule, "file": f.file, "line": f.line, "tool": tool, "waiver": waiver}));
            }
            return;
        }
        *self.levels.entry(f.level).or_default() += 1;
        if let Some(s) = f.severity {
            *self.severities.entry(s).or_default() += 1;
        }
        if this.levels.iter().any(|(l, _)| *l == f.level)
            || f.severity
                .is_some_and(|s| this.severities.iter().any(|(x, _)| *x == s))
        {
            self.limited += 1;
        }
        // Keep the worst WORST, in order (a stable insert: the first of
        // equals stays first, as a sort of every result would have it).
        if self.worst.len() == WORST && self.worst.last().is_some_and(|(w, _)| rank(w) <= rank(&f))
        {
            return;
        }
        let at = self.worst.partition_point(|(w, _)| rank(w) <= rank(&f));
        self.worst.insert(at, (f, tool.to_owned()));
        self.worst.truncate(WORST);
    }
}

/// Whether `rule` is counted under the include/exclude patterns.
pub(super) fn counted(this: &SarifReport, rule: &str) -> bool {
    (this.include.is_empty() || this.include.iter().any(|p| p.matches(rule)))
        && !this.exclude.iter().any(|p| p.matches(rule))
}

/// The config waiver holding at `now` for a finding: its rule, and its
/// location when the waiver names one (`path` or `path:line`).
pub(super) fn waiver_of<'a>(waivers: &'a [Waiver], f: &Finding, now: i64) -> Option<&'a Waiver> {
    waivers.iter().find(|w| {
        let Some(spec) = w.finding.as_ref() else {
            return false;
        };
        let at = |loc: &str| match loc.rsplit_once(':') {
            Some((file, line)) if line.chars().all(|c| c.is_ascii_digit()) => {
                f.file.as_deref() == Some(file)
                    && f.line.map(|l| l.to_string()).as_deref() == Some(line)
            }
            _ => f.file.as_deref() == Some(loc),
        };
        w.active_at(now)
            && spec.rule.as_deref() == Some(f.rule.as_str())
            && spec.location.as_deref().is_none_or(at)
    })
}
