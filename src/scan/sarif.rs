//! SARIF 2.1.0 logs other tools wrote (Semgrep, CodeQL, Trivy, Checkov,
//! Bandit, ESLint, gitleaks ...), read into what a check judges: per run the
//! tool, its results with level, `security-severity`, rule, message,
//! location and suppressions, the run's end time, its commit and whether the
//! tool says it succeeded. Deserialized straight from the reader into these
//! types (unknown fields skipped), so a large log is never held as text and
//! as a tree at once.

use std::io::Read;

use serde::{Deserialize, Deserializer};

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
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0.
    pub fn from_score(score: f64) -> Option<Severity> {
        match score {
            s if s >= 9.0 => Some(Severity::Critical),
            s if s >= 7.0 => Some(Severity::High),
            s if s >= 4.0 => Some(Severity::Medium),
            s if s > 0.0 => Some(Severity::Low),
            _ => None,
        }
    }
}

/// One result, as judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub level: Level,
    pub severity: Option<Severity>,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    /// How the report suppresses it, when it does.
    pub suppressed: Option<Suppressed>,
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
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub tool: String,
    pub version: Option<String>,
    pub findings: Vec<Finding>,
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

/// Reads a SARIF log. Errors say what is wrong: not JSON (with the line), a
/// truncated file, not SARIF, or another SARIF version.
pub fn read_sarif(reader: impl Read) -> Result<Vec<RunSummary>, String> {
    let log: Log = serde_json::from_reader(std::io::BufReader::new(reader)).map_err(|e| {
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
    Ok(runs.into_iter().map(summarize).collect())
}

fn summarize(run: Run) -> RunSummary {
    let driver = run.tool.driver;
    let rules = driver.rules.unwrap_or_default();
    let rule_of = |r: &ResultEntry| -> Option<&RuleDesc> {
        let index = r.rule_index.or(r.rule.as_ref().and_then(|d| d.index));
        let id = r
            .rule_id
            .as_deref()
            .or(r.rule.as_ref().and_then(|d| d.id.as_deref()));
        index.and_then(|i| rules.get(i)).or_else(|| {
            rules
                .iter()
                .find(|d| d.id.is_some() && d.id.as_deref() == id)
        })
    };
    let mut findings = Vec::new();
    for r in run.results.unwrap_or_default() {
        let desc = rule_of(&r);
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
        let suppressed = r.suppressions.as_deref().and_then(Suppressed::of);
        findings.push(Finding {
            rule,
            level,
            severity: score.and_then(Severity::from_score).filter(|_| failing),
            message: r.message.and_then(|m| m.text).unwrap_or_default(),
            file: physical
                .and_then(|p| p.artifact_location.as_ref())
                .and_then(|a| a.uri.clone()),
            line: physical
                .and_then(|p| p.region.as_ref())
                .and_then(|r| r.start_line),
            suppressed,
        });
    }
    let mut failures = Vec::new();
    let mut ended = None;
    for inv in run.invocations.unwrap_or_default() {
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
        tool: driver.name.unwrap_or_else(|| "(unnamed tool)".into()),
        version: driver.semantic_version.or(driver.version),
        findings,
        rules: rules.len(),
        ended,
        revisions: run
            .version_control_provenance
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.revision_id)
            .collect(),
        failures,
    }
}

#[derive(Deserialize)]
struct Log {
    version: Option<String>,
    runs: Option<Vec<Run>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Option<Vec<ResultEntry>>,
    invocations: Option<Vec<Invocation>>,
    version_control_provenance: Option<Vec<Provenance>>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: Option<String>,
    version: Option<String>,
    semantic_version: Option<String>,
    rules: Option<Vec<RuleDesc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleDesc {
    id: Option<String>,
    default_configuration: Option<Configuration>,
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Deserialize)]
struct Properties {
    #[serde(rename = "security-severity", default, deserialize_with = "score")]
    security_severity: Option<f64>,
}

/// A `security-severity` written as a string (`"9.8"`, the convention) or
/// a number; anything else is no score.
fn score<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_f64(),
        _ => None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultEntry {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    rule: Option<RuleRef>,
    kind: Option<String>,
    level: Option<String>,
    message: Option<Message>,
    locations: Option<Vec<Location>>,
    suppressions: Option<Vec<Suppression>>,
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct RuleRef {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Deserialize)]
struct Message {
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<Physical>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Option<Artifact>,
    region: Option<Region>,
}

#[derive(Deserialize)]
struct Artifact {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<u64>,
}

#[derive(Deserialize)]
struct Suppression {
    kind: Option<String>,
    status: Option<String>,
    justification: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: Option<bool>,
    end_time_utc: Option<String>,
    tool_execution_notifications: Option<Vec<Notification>>,
}

#[derive(Deserialize)]
struct Notification {
    level: Option<String>,
    message: Option<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provenance {
    revision_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_severities_suppressions_and_bad_input() {
        let log = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "semanticVersion": "1.2.3", "rules": [
            {"id": "r1", "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "9.8"}},
            {"id": "r2", "properties": {"security-severity": 5.0}}]}},
          "invocations": [{"executionSuccessful": true, "endTimeUtc": "2026-12-01T10:00:00Z"}],
          "versionControlProvenance": [{"repositoryUri": "x", "revisionId": "abc"}],
          "results": [
            {"ruleId": "r1", "message": {"text": "m1"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.py"}, "region": {"startLine": 3}}}]},
            {"ruleIndex": 1, "level": "note", "message": {"text": "m2"}},
            {"ruleId": "r2", "kind": "pass", "message": {"text": "ok"}},
            {"ruleId": "r1", "suppressions": [{"kind": "inSource", "status": "accepted", "justification": "test data"}]},
            {"ruleId": "r1", "suppressions": [{"kind": "external", "status": "rejected"}]}
          ]}]}"#;
        let runs = read_sarif(log.as_bytes()).unwrap();
        let r = &runs[0];
        assert_eq!(
            (r.tool.as_str(), r.version.as_deref()),
            ("t", Some("1.2.3"))
        );
        assert_eq!(r.revisions, ["abc"]);
        assert_eq!(
            r.ended,
            crate::clock::parse_timestamp("2026-12-01T10:00:00Z")
        );
        let f = &r.findings;
        assert_eq!(
            (f[0].level, f[0].severity),
            (Level::Error, Some(Severity::Critical))
        );
        assert_eq!(
            (f[0].file.as_deref(), f[0].line),
            (Some("src/a.py"), Some(3))
        );
        assert_eq!(
            (f[1].rule.as_str(), f[1].level, f[1].severity),
            ("r2", Level::Note, Some(Severity::Medium))
        );
        assert_eq!((f[2].level, f[2].severity), (Level::None, None));
        assert_eq!(
            f[3].suppressed,
            Some(Suppressed::Accepted("test data".into()))
        );
        assert_eq!(f[4].suppressed, None);
        assert!(read_sarif(&log.as_bytes()[..200])
            .unwrap_err()
            .starts_with("truncated"));
        assert!(read_sarif(r#"{"version": "2.0.0", "runs": []}"#.as_bytes())
            .unwrap_err()
            .contains("SARIF version 2.0.0"));
        assert!(
            read_sarif(r#"{"name": "app", "version": "1.0.0"}"#.as_bytes())
                .unwrap_err()
                .contains("no `runs`")
        );
        let failed = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "invocations": [{"executionSuccessful": false, "toolExecutionNotifications": [{"level": "error", "message": {"text": "parser crashed"}}]}]}]}"#;
        assert_eq!(read_sarif(failed.as_bytes()).unwrap()[0].failures.len(), 2);
    }
}
