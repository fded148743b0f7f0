//! SARIF 2.1.0 logs other tools wrote (Semgrep, CodeQL, Trivy, Checkov,
//! Bandit, ESLint, gitleaks ...), read into what a check judges: per run the
//! tool, its results with level, `security-severity`, rule, message,
//! location and suppressions, the run's end time, its commit and whether the
//! tool says it succeeded. Streamed from the reader: each result is handed
//! to the caller as it is read and nothing per result is kept here, so
//! memory is bounded by what the caller keeps, not by the log's size.

use std::io::Read;

use serde::de::DeserializeSeed;

/// A result's level, as SARIF defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warning,
    Note,
    None,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Error, Level::Warning, Level::Note, Level::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
            Level::None => "none",
        }
    }

    fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// GitHub code scanning's reading of a `security-severity` score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecuritySeverity {
    Critical,
    High,
    Medium,
    Low,
}

impl SecuritySeverity {
    pub const ALL: [SecuritySeverity; 4] = [
        SecuritySeverity::Critical,
        SecuritySeverity::High,
        SecuritySeverity::Medium,
        SecuritySeverity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecuritySeverity::Critical => "critical",
            SecuritySeverity::High => "high",
            SecuritySeverity::Medium => "medium",
            SecuritySeverity::Low => "low",
        }
    }

    /// critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0.
    pub fn from_score(score: f64) -> Option<SecuritySeverity> {
        match score {
            s if s >= 9.0 => Some(SecuritySeverity::Critical),
            s if s >= 7.0 => Some(SecuritySeverity::High),
            s if s >= 4.0 => Some(SecuritySeverity::Medium),
            s if s > 0.0 => Some(SecuritySeverity::Low),
            _ => None,
        }
    }
}

/// One result, as judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub level: Level,
    pub severity: Option<SecuritySeverity>,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    /// How the report suppresses it, when it does.
    pub suppressed: Option<Suppressed>,
    /// Its own `partialFingerprints` (string values, at most 8).
    pub fingerprints: Vec<(String, String)>,
    /// Its location's `uriBaseId` (`%SRCROOT%`, `SRCROOT` ...).
    pub uri_base_id: Option<String>,
    /// Its `security-severity` score (0 to 10), its rule's if it has none.
    pub score: Option<f64>,
}

/// A result's suppression as the report states it (SARIF 2.1.0 §3.35).
#[derive(Debug, Clone, PartialEq)]
pub enum Suppressed {
    /// Accepted: a suppression with status `accepted`, or an `external` one
    /// (kept in a system of record) without a status. The justification.
    Accepted(String),
    /// An `inSource` suppression without a status (`nosemgrep`, `# nosec`):
    /// written into the code, possibly by the change under review itself.
    InSource(String),
}

impl Suppressed {
    /// Any suppression `rejected` or `underReview` means not suppressed;
    /// else an accepted one, else an in-source one without a status.
    fn of(list: &[Suppression]) -> Option<Suppressed> {
        if list
            .iter()
            .any(|s| matches!(s.status.as_deref(), Some("rejected" | "underReview")))
        {
            return None;
        }
        let justification = |s: &Suppression, default: &str| {
            s.justification
                .clone()
                .unwrap_or_else(|| default.to_owned())
        };
        if let Some(s) = list.iter().find(|s| {
            s.status.as_deref() == Some("accepted")
                || (s.status.is_none() && s.kind.as_deref() != Some("inSource"))
        }) {
            return Some(Suppressed::Accepted(justification(
                s,
                "suppressed in the report",
            )));
        }
        list.iter()
            .find(|s| s.status.is_none())
            .map(|s| Suppressed::InSource(justification(s, "suppressed in the source")))
    }

    pub fn justification(&self) -> &str {
        match self {
            Suppressed::Accepted(j) | Suppressed::InSource(j) => j,
        }
    }
}

/// One run of one tool.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunSummary {
    pub tool: String,
    pub version: Option<String>,
    /// Results it holds (each handed to the caller of `read_sarif_each`).
    pub results: u64,
    /// Rules the tool declared (an empty run without rules may have run none).
    pub rules: usize,
    /// The latest `invocations[].endTimeUtc` (Unix seconds).
    pub ended: Option<i64>,
    /// `versionControlProvenance[].revisionId` values.
    pub revisions: Vec<String>,
    /// Why the tool says the run failed (`executionSuccessful: false`,
    /// notifications at level `error`).
    pub failures: Vec<String>,
}

/// What `read_sarif_each` hands over with each result: the run's place in
/// the log and its tool's name.
pub type OnResult<'a> = dyn FnMut(usize, &str, Finding) + 'a;

/// Reads a SARIF log, its runs' results counted and dropped. Errors say
/// what is wrong: not JSON (with the line), a truncated file, not SARIF, or
/// another SARIF version.
pub fn read_sarif(reader: impl Read) -> Result<Vec<RunSummary>, String> {
    read_sarif_each(reader, &mut |_, _, _| {})
}

/// Reads a SARIF log, handing each result to `each` as it is read (after the
/// run's rules, which results refer to; results written before their tool
/// wait for it). On an error the results handed over so far mean nothing.
pub fn read_sarif_each(
    reader: impl Read,
    each: &mut OnResult<'_>,
) -> Result<Vec<RunSummary>, String> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let log = LogSeed { each }
        .deserialize(&mut de)
        .and_then(|log| de.end().map(|()| log));
    let log = log.map_err(|e| {
        if e.is_eof() {
            format!("truncated: the JSON ends early (line {})", e.line())
        } else {
            format!("not a SARIF log: {e}")
        }
    })?;
    // A log has `runs`; `version` alone is any JSON document's (package.json).
    let runs = log
        .runs
        .ok_or_else(|| "not a SARIF log: no `runs`".to_owned())?;
    match log.version.as_deref() {
        Some("2.1.0") => {}
        Some(v) => return Err(format!("SARIF version {v}; only 2.1.0 is read")),
        None => return Err("not a SARIF log: no `version`".into()),
    }
    Ok(runs)
}

/// A result judged against its run's rules.
fn finding_of(r: ResultEntry, rules: &[RuleDesc]) -> Finding {
    let index = r.rule_index.or(r.rule.as_ref().and_then(|d| d.index));
    let id = r
        .rule_id
        .as_deref()
        .or(r.rule.as_ref().and_then(|d| d.id.as_deref()));
    let desc = index.and_then(|i| rules.get(i)).or_else(|| {
        rules
            .iter()
            .find(|d| d.id.is_some() && d.id.as_deref() == id)
    });
    let rule = r
        .rule_id
        .clone()
        .or_else(|| r.rule.as_ref().and_then(|d| d.id.clone()))
        .or_else(|| desc.and_then(|d| d.id.clone()))
        .unwrap_or_else(|| "(no rule)".into());
    // A result whose kind is not `fail` (pass, review, informational ...)
    // has level none, as SARIF defines it.
    let failing = r.kind.as_deref().is_none_or(|k| k == "fail");
    let level = if failing {
        r.level
            .as_deref()
            .or(desc.and_then(|d| d.default_configuration.as_ref()?.level.as_deref()))
            .and_then(Level::parse)
            .unwrap_or(Level::Warning)
    } else {
        Level::None
    };
    let score = r
        .properties
        .as_ref()
        .and_then(|p| p.security_severity)
        .or(desc.and_then(|d| d.properties.as_ref()?.security_severity));
    let physical = r
        .locations
        .as_ref()
        .and_then(|l| l.first())
        .and_then(|l| l.physical_location.as_ref());
    Finding {
        rule,
        level,
        severity: score
            .and_then(SecuritySeverity::from_score)
            .filter(|_| failing),
        score: score.filter(|s| (0.0..=10.0).contains(s)),
        uri_base_id: physical
            .and_then(|p| p.artifact_location.as_ref())
            .and_then(|a| a.uri_base_id.clone()),
        message: r.message.and_then(|m| m.text).unwrap_or_default(),
        file: physical
            .and_then(|p| p.artifact_location.as_ref())
            .and_then(|a| a.uri.clone()),
        line: physical
            .and_then(|p| p.region.as_ref())
            .and_then(|r| r.start_line),
        suppressed: r.suppressions.as_deref().and_then(Suppressed::of),
        fingerprints: r
            .partial_fingerprints
            .into_iter()
            .chain(r.fingerprints)
            .take(8)
            .collect(),
    }
}

/// The run's facts besides its results.
fn summarize(
    driver: Driver,
    results: u64,
    invocations: Vec<Invocation>,
    provenance: Vec<Provenance>,
) -> RunSummary {
    let mut failures = Vec::new();
    let mut ended = None;
    for inv in invocations {
        if inv.execution_successful == Some(false) {
            failures.push("the tool reports executionSuccessful: false".to_owned());
        }
        for n in inv.tool_execution_notifications.unwrap_or_default() {
            if n.level.as_deref() == Some("error") {
                let text = n.message.and_then(|m| m.text).unwrap_or_default();
                failures.push(format!("the tool reports an error: {text}"));
            }
        }
        if let Some(t) = inv
            .end_time_utc
            .as_deref()
            .and_then(crate::clock::parse_timestamp)
        {
            ended = Some(ended.map_or(t, |e: i64| e.max(t)));
        }
    }
    RunSummary {
        tool: driver.tool_name(),
        version: driver.semantic_version.or(driver.version),
        results,
        rules: driver.rules.as_ref().map_or(0, Vec::len),
        ended,
        revisions: provenance
            .into_iter()
            .filter_map(|v| v.revision_id)
            .collect(),
        failures,
    }
}

mod reader;

use reader::{Driver, Invocation, LogSeed, Provenance, ResultEntry, RuleDesc, Suppression};

#[cfg(test)]
#[path = "sarif_tests.rs"]
mod tests;
