//! SARIF 2.1.0 logs other tools wrote (Semgrep, CodeQL, Trivy, Checkov,
//! Bandit, ESLint, gitleaks ...), read into what a check judges: per run the
//! tool, its results with level, `security-severity`, rule, message,
//! location and suppressions, the run's end time, its commit and whether the
//! tool says it succeeded. Streamed from the reader: each result is handed
//! to the caller as it is read and nothing per result is kept here, so
//! memory is bounded by what the caller keeps, not by the log's size.

use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
        message: r.message.and_then(|m| m.text).unwrap_or_default(),
        file: physical
            .and_then(|p| p.artifact_location.as_ref())
            .and_then(|a| a.uri.clone()),
        line: physical
            .and_then(|p| p.region.as_ref())
            .and_then(|r| r.start_line),
        suppressed: r.suppressions.as_deref().and_then(Suppressed::of),
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

// === The streaming reader: serde seeds that hand results over one by one ===

struct Log {
    version: Option<String>,
    runs: Option<Vec<RunSummary>>,
}

struct LogSeed<'e, 'a> {
    each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = Log;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Log, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = Log;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF log (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Log, A::Error> {
        let mut log = Log {
            version: None,
            runs: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => log.version = map.next_value()?,
                "runs" => {
                    log.runs = Some(map.next_value_seed(RunsSeed {
                        each: &mut *self.each,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(log)
    }
}

struct RunsSeed<'e, 'a> {
    each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for RunsSeed<'_, '_> {
    type Value = Vec<RunSummary>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<RunSummary>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RunsSeed<'_, '_> {
    type Value = Vec<RunSummary>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of runs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<RunSummary>, A::Error> {
        let mut runs = Vec::new();
        while let Some(run) = seq.next_element_seed(RunSeed {
            index: runs.len(),
            each: &mut *self.each,
        })? {
            runs.push(run);
        }
        Ok(runs)
    }
}

struct RunSeed<'e, 'a> {
    index: usize,
    each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for RunSeed<'_, '_> {
    type Value = RunSummary;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RunSummary, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_, '_> {
    type Value = RunSummary;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF run (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RunSummary, A::Error> {
        let mut driver: Option<Driver> = None;
        // Results read before the run's tool, waiting for its rules.
        let mut early: Vec<ResultEntry> = Vec::new();
        let mut results = 0u64;
        let (mut invocations, mut provenance) = (Vec::new(), Vec::new());
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => driver = Some(map.next_value::<Tool>()?.driver),
                "results" => {
                    let seed = ResultsSeed {
                        index: self.index,
                        driver: driver.as_ref(),
                        early: &mut early,
                        each: &mut *self.each,
                    };
                    results += map.next_value_seed(seed)?;
                }
                "invocations" => {
                    invocations = map
                        .next_value::<Option<Vec<Invocation>>>()?
                        .unwrap_or_default()
                }
                "versionControlProvenance" => {
                    provenance = map
                        .next_value::<Option<Vec<Provenance>>>()?
                        .unwrap_or_default()
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let driver = driver.ok_or_else(|| serde::de::Error::missing_field("tool"))?;
        let name = driver.tool_name();
        let rules = driver.rules.as_deref().unwrap_or_default();
        for r in early {
            (self.each)(self.index, &name, finding_of(r, rules));
        }
        Ok(summarize(driver, results, invocations, provenance))
    }
}

struct ResultsSeed<'e, 'a, 'r> {
    index: usize,
    driver: Option<&'r Driver>,
    early: &'r mut Vec<ResultEntry>,
    each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_, '_> {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_, '_> {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of results")
    }
    fn visit_unit<E>(self) -> Result<u64, E> {
        Ok(0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut n = 0u64;
        let name = self.driver.map(Driver::tool_name);
        while let Some(r) = seq.next_element::<ResultEntry>()? {
            n += 1;
            match (self.driver, &name) {
                (Some(driver), Some(name)) => (self.each)(
                    self.index,
                    name,
                    finding_of(r, driver.rules.as_deref().unwrap_or_default()),
                ),
                _ => self.early.push(r),
            }
        }
        Ok(n)
    }
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

impl Driver {
    fn tool_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "(unnamed tool)".into())
    }
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
#[path = "sarif_tests.rs"]
mod tests;
