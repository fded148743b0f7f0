//! The ignore files teams already keep for their dependency scanners:
//! osv-scanner's `osv-scanner.toml` (`[[IgnoredVulns]]` with `id`,
//! `ignoreUntil`, `reason`), Trivy's `.trivyignore.yaml`
//! (`vulnerabilities:` with `id`, `paths`, `purls`, `statement`,
//! `expired_at`) and Trivy's plain `.trivyignore` (one id a line, `#`
//! comments, an optional `exp:YYYY-MM-DD`). Read as entries; what they are
//! worth (an expiry, an owner) is the check's to decide.

use std::path::Path;

use serde_json::Value;

use crate::files::read_text;

/// One ignored vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The advisory id or alias it names.
    pub id: String,
    /// Trivy's `paths`: the lockfiles (relative to the scanned root) it is
    /// limited to; empty for every lockfile.
    pub paths: Vec<String>,
    /// Trivy's `purls`: the packages it is limited to (a package URL
    /// without a version names every version); empty for every package.
    pub purls: Vec<String>,
    pub reason: Option<String>,
    /// Unix time it stops holding, when the file gives one.
    pub until: Option<i64>,
    /// `osv-scanner.toml:3` (the entry's place, for the evidence).
    pub place: String,
}

/// The names this module reads, at the root of a scanned tree.
pub const IGNORE_FILES: &[&str] = &["osv-scanner.toml", ".trivyignore.yaml", ".trivyignore"];

/// Reads an ignore file by its name (`osv-scanner.toml`, `*.toml`:
/// osv-scanner's; `.trivyignore.yaml`, `*.yaml`, `*.yml`: Trivy's; any
/// other name: Trivy's plain `.trivyignore`).
pub fn read_ignore_file(path: &Path) -> Result<Vec<Ignored>, String> {
    let text = read_text(path, 4 * 1024 * 1024)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    parse_ignore(name, &text).map_err(|e| format!("{}: {e}", path.display()))
}

/// An ignore file's text, read by its file name.
pub fn parse_ignore(name: &str, text: &str) -> Result<Vec<Ignored>, String> {
    if name.ends_with(".toml") {
        osv_scanner(text, name)
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        trivy(text, name)
    } else {
        trivy_plain(text, name)
    }
}

/// Trivy's plain `.trivyignore`: an id a line (`CVE-2023-2650`), `#`
/// comments, and after the id an optional `exp:2024-06-30` (the entry stops
/// holding on that date, as Trivy reads it). Lines of other findings
/// (misconfigurations, secrets) are kept too: they name no advisory and so
/// waive none.
fn trivy_plain(text: &str, name: &str) -> Result<Vec<Ignored>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let mut words = line.split_whitespace();
        let Some(id) = words.next() else {
            continue;
        };
        let place = format!("{name}:{}", i + 1);
        let mut until = None;
        for word in words {
            match word.strip_prefix("exp:") {
                Some(date) => {
                    until = Some(
                        crate::clock::parse_timestamp(date)
                            .ok_or_else(|| format!("{place}: exp:{date} is no date"))?,
                    )
                }
                None => return Err(format!("{place}: {word:?} is neither an id nor exp:DATE")),
            }
        }
        out.push(Ignored {
            id: id.to_owned(),
            paths: Vec::new(),
            purls: Vec::new(),
            reason: None,
            until,
            place,
        });
    }
    Ok(out)
}

fn osv_scanner(text: &str, name: &str) -> Result<Vec<Ignored>, String> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("invalid TOML: {}", e.message()))?;
    let mut out = Vec::new();
    for (i, entry) in doc
        .get("IgnoredVulns")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let place = format!("{name} IgnoredVulns[{i}]");
        let id = entry
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("{place} has no id"))?;
        let until = match entry.get("ignoreUntil") {
            None => None,
            Some(v) => {
                let text = match v {
                    toml::Value::Datetime(d) => d.to_string(),
                    toml::Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                Some(
                    crate::clock::parse_timestamp(&text)
                        .ok_or_else(|| format!("{place}: ignoreUntil {text:?} is no date"))?,
                )
            }
        };
        out.push(Ignored {
            id: id.to_owned(),
            paths: Vec::new(),
            purls: Vec::new(),
            reason: entry
                .get("reason")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            until,
            place,
        });
    }
    Ok(out)
}

fn trivy(text: &str, name: &str) -> Result<Vec<Ignored>, String> {
    let doc: Value = crate::yaml::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let mut out = Vec::new();
    for (i, entry) in doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let place = format!("{name} vulnerabilities[{i}]");
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{place} has no id"))?;
        let until = match entry.get("expired_at") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                Some(
                    crate::clock::parse_timestamp(&text)
                        .ok_or_else(|| format!("{place}: expired_at {text:?} is no date"))?,
                )
            }
        };
        let list = |key: &str| -> Vec<String> {
            entry
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        };
        out.push(Ignored {
            id: id.to_owned(),
            paths: list("paths"),
            purls: list("purls"),
            reason: entry
                .get("statement")
                .and_then(Value::as_str)
                .map(str::to_owned),
            until,
            place,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_osv_scanner_and_trivy_entries() {
        let osv = "[[IgnoredVulns]]\nid = \"GO-2022-0968\"\nignoreUntil = 2022-11-09\nreason = \"no fix yet\"\n\n[[IgnoredVulns]]\nid = \"GHSA-aaaa\"\n\n[[PackageOverrides]]\nname = \"x\"\nignore = true\n";
        let read = osv_scanner(osv, "osv-scanner.toml").unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].id, "GO-2022-0968");
        assert_eq!(read[0].until, crate::clock::parse_timestamp("2022-11-09"));
        assert_eq!(read[0].reason.as_deref(), Some("no fix yet"));
        assert_eq!(read[1].until, None);
        let trivy_text = "vulnerabilities:\n  - id: CVE-2022-40897\n    paths:\n      - \"web/package-lock.json\"\n    statement: Accept the risk\n    expired_at: 2023-09-01\n  - id: CVE-2023-2650\n    purls: [\"pkg:npm/lodash\"]\nmisconfigurations:\n  - id: AVD-DS-0001\n";
        let read = trivy(trivy_text, ".trivyignore.yaml").unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].paths, ["web/package-lock.json"]);
        assert_eq!(read[1].purls, ["pkg:npm/lodash"]);
        assert_eq!(read[0].until, crate::clock::parse_timestamp("2023-09-01"));
        assert!(trivy("vulnerabilities:\n  - statement: x\n", "t.yaml")
            .unwrap_err()
            .contains("vulnerabilities[0] has no id"));
        assert!(osv_scanner(
            "[[IgnoredVulns]]\nid = \"x\"\nignoreUntil = \"soon\"\n",
            "o.toml"
        )
        .unwrap_err()
        .contains("ignoreUntil"));
        let plain = parse_ignore(
            ".trivyignore",
            "# accepted\nCVE-2023-2650\n\nGHSA-aaaa-bbbb-cccc exp:2024-06-30 # until the fix\nAVD-DS-0002\n",
        )
        .unwrap();
        let ids: Vec<&str> = plain.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2023-2650", "GHSA-aaaa-bbbb-cccc", "AVD-DS-0002"]);
        assert_eq!(plain[1].until, crate::clock::parse_timestamp("2024-06-30"));
        assert_eq!(plain[1].place, ".trivyignore:4");
        assert!(parse_ignore(".trivyignore", "CVE-1 exp:soon\n")
            .unwrap_err()
            .contains(".trivyignore:1: exp:soon is no date"));
    }
}
