//! SARIF 2.1.0 for code-scanning UIs: one result per check (its state as
//! `pass` or `fail`), and one per finding of the kinds that point into files:
//! a possible secret (`hardcoded_secrets`, at its file and line, with its
//! keyed fingerprint) and a vulnerable package (`dependency_vulnerabilities`,
//! at its lockfile, one result per advisory). Messages are the redacted ones
//! the checks produced; no secret value is ever part of a finding.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use percent_encoding::AsciiSet;
use serde_json::{json, Value};

use crate::checks::{Outcome, Severity, State};
use crate::engine::CheckRecord;

/// A relative path in a URI: its `/` separators stay.
const URI_PATH: &AsciiSet = &crate::escape::URI_COMPONENT.remove(b'/');

/// Where relative locations are anchored: the gate's working directory.
const SRCROOT: &str = "%SRCROOT%";

/// The SARIF log of one gate run. `config_file` locates the results of
/// checks that have no file of their own; `cwd` anchors relative paths.
pub fn render_sarif(records: &[CheckRecord], config_file: &Path, cwd: &Path) -> String {
    let mut log = Log {
        rules: BTreeMap::new(),
        results: Vec::new(),
        cwd,
    };
    // Each check's result at its own line of the config file, so code
    // scanning never merges two checks of one kind.
    let config_text = std::fs::read_to_string(config_file).unwrap_or_default();
    let check_lines = check_lines(&config_text);
    let now = crate::clock::unix_now();
    for r in records {
        let line = check_lines.get(r.meta.name()).copied().flatten();
        let config_location = location(cwd, config_file, line);
        log.check_result(r, &config_location, now);
        let Some(outcome) = r.outcome.as_ref().map(|o| o.to_outcome()) else {
            continue;
        };
        // Findings in files: under the scanned root (other tools' results
        // carry their own locations).
        let root = outcome
            .evidence
            .get("root")
            .and_then(Value::as_str)
            .map(PathBuf::from);
        let Some(root) = root.or_else(|| (r.meta.kind() == "sarif_report").then(PathBuf::new))
        else {
            continue;
        };
        match r.meta.kind() {
            "hardcoded_secrets" => log.secrets(r, &outcome, &root),
            "dependency_vulnerabilities" => log.advisories(r, &outcome, &root),
            "sarif_report" => log.carried(r, &outcome),
            _ => {}
        }
    }
    log.finish()
}

/// A SARIF log being written: its rules by id and its results.
struct Log<'a> {
    rules: BTreeMap<String, Value>,
    results: Vec<Value>,
    cwd: &'a Path,
}

impl Log<'_> {
    /// The check's own result, located at the config file.
    fn check_result(&mut self, r: &CheckRecord, config_location: &Value, now: i64) {
        let kind = crate::engine::kinds::lookup_kind(r.meta.kind());
        let category = r.meta.category().as_str();
        let rule = self
            .rules
            .entry(r.meta.kind().to_owned())
            .or_insert_with(|| {
                let summary = kind.map_or(r.meta.kind(), |k| k.summary);
                json!({
                    "id": r.meta.kind(),
                    "name": r.meta.kind(),
                    "shortDescription": { "text": summary },
                    "fullDescription": { "text": format!(
                        "Check kind {} ({category}): {summary}. What it reads, when it passes, fails and errs: the help.",
                        r.meta.kind()
                    ) },
                    "help": {
                        "text": format!("{summary}. See docs/kinds.md#{} of prodready-exporter.", r.meta.kind()),
                        "markdown": kind.map_or_else(String::new, |k| k.doc.to_owned()),
                    },
                    "properties": { "category": category, "tags": [category, "prodready"] },
                })
            });
        // Security checks get a score code scanning ranks by: the most
        // severe check of the kind.
        if category == "security" {
            let score = security_score(r.meta.severity());
            let kept = rule["properties"]["security-severity"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            if score > kept {
                rule["properties"]["security-severity"] = json!(format!("{score:.1}"));
            }
        }
        let state = r.state();
        let message = r.outcome.as_ref().map_or("not evaluated", |o| &*o.message);
        let (kind_of_result, level) = match state {
            State::Pass => ("pass", "none"),
            State::Warn => ("fail", "warning"),
            // An error or unknown state verified nothing: it fails, as in the gate.
            State::Fail | State::Error | State::Unknown => ("fail", "error"),
        };
        let mut result = json!({
            "ruleId": r.meta.kind(),
            "kind": kind_of_result,
            "level": level,
            "message": { "text": format!("{} ({}): {message}", r.meta.name(), state) },
            "locations": [config_location],
            "partialFingerprints": { "prodreadyCheck/v1": r.meta.name() },
            "properties": { "check": r.meta.name(), "state": state.as_str(), "severity": r.meta.severity().as_str() },
        });
        if state != State::Pass {
            if let Some(w) = r.active_waiver(now) {
                result["suppressions"] = suppression(&w.note());
            }
        }
        self.results.push(result);
    }

    /// `hardcoded_secrets`' findings, one result each, by file and line.
    fn secrets(&mut self, r: &CheckRecord, outcome: &Outcome, root: &Path) {
        let level = severity_level(r.meta.severity());
        for f in findings(outcome, "findings").chain(findings(outcome, "waived_findings")) {
            let (Some(file), Some(line), Some(rule)) = (
                f.get("file").and_then(Value::as_str),
                f.get("line").and_then(Value::as_u64),
                f.get("rule").and_then(Value::as_str),
            ) else {
                continue;
            };
            let id = format!("hardcoded_secrets/{rule}");
            self.rules.entry(id.clone()).or_insert_with(|| {
                json!({
                    "id": id,
                    "name": rule,
                    "shortDescription": { "text": format!("A possible {rule} secret in a file") },
                    "fullDescription": { "text": format!("A value the {rule} rule of hardcoded_secrets matched, in a file (or a commit) of the scanned tree. The secret itself is never reported.") },
                    "help": { "text": "Rotate the secret (it is in every clone), remove it from the file and read it from the environment or a secret store; a false positive can be waived by its fingerprint." },
                    "properties": { "category": "security", "tags": ["security", "secret"], "security-severity": "8.5" },
                })
            });
            let mut result = json!({
                "ruleId": id,
                "kind": "fail",
                "level": level,
                "message": { "text": format!("A possible {rule} secret (check {})", r.meta.name()) },
                "locations": [location(self.cwd, &root.join(file), Some(line))],
            });
            if let Some(fp) = f.get("fingerprint").and_then(Value::as_str) {
                result["partialFingerprints"] = json!({ "prodreadySecret/v1": fp });
            }
            if let Some(commit) = f.get("commit").and_then(Value::as_str) {
                // A history finding: the commit that introduced it.
                result["properties"] = json!({ "commit": commit, "inTip": f.get("in_tip") });
            }
            waive(&mut result, f);
            self.results.push(result);
        }
    }

    /// `dependency_vulnerabilities`' findings, one result per (package,
    /// advisory), at the lockfile.
    fn advisories(&mut self, r: &CheckRecord, outcome: &Outcome, root: &Path) {
        let level = severity_level(r.meta.severity());
        for v in findings(outcome, "vulnerable").chain(findings(outcome, "waived_findings")) {
            let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
            let (lockfile, package, version) = (text("lockfile"), text("package"), text("version"));
            for advisory in v
                .get("advisories")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let severity = text("severity");
                self.rules.entry(advisory.to_owned()).or_insert_with(|| {
                    let mut rule = json!({
                        "id": advisory,
                        "name": advisory,
                        "shortDescription": { "text": format!("Advisory {advisory}") },
                        "fullDescription": { "text": format!("A package version affected by {advisory}, as its OSV record's ranges say.") },
                        "help": { "text": format!("Upgrade to a version outside {advisory}'s affected ranges (the record lists the fixed versions), or waive the finding with a reason and an expiry.") },
                        "helpUri": format!("https://osv.dev/vulnerability/{advisory}"),
                        "properties": { "category": "security", "tags": ["security", "dependency", "vulnerability"] },
                    });
                    if let Some(score) = advisory_score(severity) {
                        rule["properties"]["security-severity"] = json!(format!("{score:.1}"));
                    }
                    rule
                });
                let mut result = json!({
                    "ruleId": advisory,
                    "kind": "fail",
                    "level": level,
                    "message": { "text": format!(
                        "{package}@{version} ({}) is affected by {advisory}, severity {} (check {})",
                        text("ecosystem"), text("severity"), r.meta.name()
                    ) },
                    "locations": [location(self.cwd, &root.join(lockfile), None)],
                    "partialFingerprints": { "prodreadyAdvisory/v1": format!(
                        "{lockfile}:{}/{package}@{version}:{advisory}", text("ecosystem")
                    ) },
                });
                waive(&mut result, v);
                self.results.push(result);
            }
        }
    }

    /// `sarif_report`'s results: other tools' results, carried through with
    /// the tool named.
    fn carried(&mut self, r: &CheckRecord, outcome: &Outcome) {
        for (f, waived) in findings(outcome, "results")
            .map(|f| (f, false))
            .chain(findings(outcome, "waived_findings").map(|f| (f, true)))
        {
            let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default();
            let (tool, rule) = (text("tool"), text("rule"));
            let id = format!("{tool}/{rule}");
            let entry = self.rules.entry(id.clone()).or_insert_with(|| {
                json!({
                    "id": id,
                    "name": rule,
                    "shortDescription": { "text": format!("{tool} rule {rule}") },
                    "fullDescription": { "text": format!("Rule {rule} of {tool}, carried from {tool}'s SARIF log by a sarif_report check.") },
                    "help": { "text": format!("See {tool}'s documentation of rule {rule}.") },
                    "properties": { "tags": ["carried", tool] },
                })
            });
            // The tool's own score, kept: the highest of the rule's results.
            if let Some(score) = f.get("score").and_then(Value::as_f64) {
                let kept = entry["properties"]["security-severity"]
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok());
                if kept.is_none_or(|k| score > k) {
                    entry["properties"]["security-severity"] = json!(format!("{score:.1}"));
                }
            }
            let place = format!(
                "{tool}/{rule}:{}:{}",
                text("file"),
                f.get("line").and_then(Value::as_u64).unwrap_or(0)
            );
            let mut result = json!({
                "ruleId": id,
                "kind": "fail",
                "partialFingerprints": { "prodreadyCarried/v1": place },
                "level": if waived { "note" } else { ingested_level(text("level")) },
                "message": { "text": format!("{tool}: {} (check {})", text("message"), r.meta.name()) },
                "properties": { "tool": tool, "check": r.meta.name() },
            });
            // The tool's own fingerprints travel with ours.
            if let Some(own) = f.get("fingerprints").and_then(Value::as_object) {
                for (k, v) in own {
                    result["partialFingerprints"][k] = v.clone();
                }
            }
            if let Some(file) = f.get("file").and_then(Value::as_str) {
                let mut artifact = json!({ "uri": file });
                // A relative location keeps its base (ours is the working
                // directory, `%SRCROOT%`, as the tools' usually is).
                if let Some(base) = f.get("uri_base_id").and_then(Value::as_str) {
                    artifact["uriBaseId"] = json!(base);
                }
                let mut physical = json!({ "artifactLocation": artifact });
                if let Some(line) = f.get("line").and_then(Value::as_u64) {
                    physical["region"] = json!({ "startLine": line });
                }
                result["locations"] = json!([{ "physicalLocation": physical }]);
            }
            waive(&mut result, f);
            self.results.push(result);
        }
    }

    /// The log as pretty JSON.
    fn finish(self) -> String {
        let rules: Vec<Value> = self.rules.into_values().collect();
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "prodready-exporter",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                } },
                "originalUriBaseIds": { SRCROOT: { "uri": directory_uri(self.cwd) } },
                "invocations": [{
                    "executionSuccessful": true,
                    "endTimeUtc": crate::clock::rfc3339(std::time::SystemTime::now()),
                }],
                "results": self.results,
            }],
        });
        let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// A carried-through result's level, as SARIF allows it.
fn ingested_level(level: &str) -> &'static str {
    match level {
        "error" => "error",
        "note" => "note",
        "none" => "none",
        _ => "warning",
    }
}

/// The entries of an evidence list (`findings`, `waived_findings` ...).
fn findings<'a>(
    outcome: &'a crate::checks::Outcome,
    key: &str,
) -> impl Iterator<Item = &'a Value> + 'a {
    outcome
        .evidence
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// SARIF's record of accepted risk: an external suppression, accepted, with
/// the waiver's justification.
fn suppression(justification: &str) -> Value {
    json!([{ "kind": "external", "status": "accepted", "justification": justification }])
}

/// Marks a finding's result suppressed when its evidence carries a waiver.
fn waive(result: &mut Value, finding: &Value) {
    if let Some(w) = finding.get("waiver") {
        let text = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or_default();
        let justification = match text("expires") {
            // An ignore file of the scanned tree: no expiry of its own.
            "" => format!("waived by {}: {}", text("owner"), text("reason")),
            expires => crate::config::waivers::note(expires, text("owner"), text("reason")),
        };
        result["suppressions"] = suppression(&justification);
    }
}

/// The 1-based line of each check's entry (`name: <check>`) in the config
/// text, read in one pass; `None` for a name on more than one line.
fn check_lines(config: &str) -> HashMap<&str, Option<u64>> {
    let mut lines: HashMap<&str, Option<u64>> = HashMap::new();
    for (i, line) in config.lines().enumerate() {
        let mut named: Vec<&str> = line
            .split("name:")
            .skip(1)
            .filter_map(|after| {
                let value = after.trim_start();
                let value = value.strip_prefix(['"', '\'']).unwrap_or(value);
                let end = value
                    .find(['"', '\'', ',', '}', ' ', '\t', '#'])
                    .unwrap_or(value.len());
                Some(&value[..end]).filter(|name| !name.is_empty())
            })
            .collect();
        named.dedup();
        for name in named {
            lines
                .entry(name)
                .and_modify(|at| *at = None)
                .or_insert(Some(i as u64 + 1));
        }
    }
    lines
}

/// code scanning's `security-severity` of a check of category security.
fn security_score(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 9.0,
        Severity::Warning => 6.0,
        Severity::Info => 3.0,
    }
}

/// An advisory's `security-severity`: its CVSS score, or its level's.
fn advisory_score(severity: &str) -> Option<f64> {
    if let Ok(score) = severity.parse::<f64>() {
        return Some(score).filter(|s| (0.0..=10.0).contains(s));
    }
    match severity.to_ascii_lowercase().as_str() {
        "critical" => Some(9.5),
        "high" => Some(8.0),
        "moderate" | "medium" => Some(5.5),
        "low" => Some(3.0),
        _ => None,
    }
}

/// critical -> error, warning -> warning, info -> note.
fn severity_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A file's location: relative to `%SRCROOT%` (the working directory) when
/// it lies under it, else an absolute `file://` URI.
fn location(cwd: &Path, path: &Path, line: Option<u64>) -> Value {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    let artifact = match absolute.strip_prefix(cwd) {
        Ok(relative) => json!({ "uri": encode_path(relative), "uriBaseId": SRCROOT }),
        Err(_) => json!({ "uri": format!("file://{}", encode_path(&absolute)) }),
    };
    let mut physical = json!({ "artifactLocation": artifact });
    if let Some(line) = line.filter(|l| *l > 0) {
        physical["region"] = json!({ "startLine": line });
    }
    json!({ "physicalLocation": physical })
}

/// A path as a URI path: percent-encoded, `/` kept.
fn encode_path(path: &Path) -> String {
    percent_encoding::utf8_percent_encode(&path.to_string_lossy(), URI_PATH).to_string()
}

/// `file:///dir/` of a directory.
fn directory_uri(dir: &Path) -> String {
    let mut uri = format!("file://{}", encode_path(dir));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_is_located_at_the_one_line_that_names_it() {
        let config = "checks:\n  - { name: web, kind: http }\n  - name: \"web2\"\n    kind: http\n  - { name: web_more, kind: http }\n";
        let line_of_check =
            |config: &str, check: &str| check_lines(config).get(check).copied().flatten();
        assert_eq!(line_of_check(config, "web"), Some(2));
        assert_eq!(line_of_check(config, "web2"), Some(3));
        assert_eq!(line_of_check(config, "web_more"), Some(5));
        assert_eq!(line_of_check(config, "absent"), None);
        // Named twice (a comment, a copy): no line rather than a wrong one.
        assert_eq!(line_of_check("# name: a\n- name: a\n", "a"), None);
        assert_eq!(advisory_score("CRITICAL"), Some(9.5));
        assert_eq!(advisory_score("7.5"), Some(7.5));
        assert_eq!(advisory_score("unknown"), None);
    }

    #[test]
    fn locations_are_relative_to_the_working_directory_when_they_can_be() {
        let cwd = Path::new("/work/app");
        assert_eq!(
            location(cwd, Path::new("/work/app/src/my file.rs"), Some(7)),
            json!({ "physicalLocation": {
                "artifactLocation": { "uri": "src/my%20file.rs", "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": 7 },
            } })
        );
        assert_eq!(
            location(cwd, Path::new("/etc/app/config.yaml"), None),
            json!({ "physicalLocation": { "artifactLocation": { "uri": "file:///etc/app/config.yaml" } } })
        );
        assert_eq!(directory_uri(cwd), "file:///work/app/");
    }
}
