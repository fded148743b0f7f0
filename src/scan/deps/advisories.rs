//! A local advisory database: OSV JSON files (one per advisory, or the
//! per-ecosystem zip OSV publishes) and the RustSec advisory-db layout
//! (`crates/<name>/RUSTSEC-*.md` with a TOML front block). Loading reads
//! only local files; malformed advisories are reported, not skipped silently.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value;

use super::versions::{compare, cvss_base_score, Ecosystem};
use super::Package;
use crate::files::version as file_version;
use crate::files::{mtime, read_text};
use crate::scan::Cancel;

/// The advisory files of a directory with their modification times and
/// sizes: when this is unchanged, so is the database.
type FilesVersion = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

/// Databases already loaded, by directory. Shared by every check (and kept
/// across reloads): a database is read once, and again only when one of its
/// files changes, is added or is removed, never on every run.
static LOADED: Mutex<BTreeMap<PathBuf, (FilesVersion, Arc<AdvisoryDb>)>> =
    Mutex::new(BTreeMap::new());

fn is_advisory_file(name: &str) -> bool {
    name.ends_with(".json")
        || name.ends_with(".zip")
        || (name.starts_with("RUSTSEC-") && name.ends_with(".md"))
}

fn files_version(dir: &Path) -> FilesVersion {
    let mut version: FilesVersion = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(is_advisory_file))
        .map(|e| (e.path().to_owned(), file_version(e.path())))
        .collect();
    version.sort();
    version
}

/// Severity buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdvisorySeverity {
    Critical,
    High,
    Moderate,
    Low,
    Unknown,
}

impl AdvisorySeverity {
    pub const ALL: [AdvisorySeverity; 5] = [
        AdvisorySeverity::Critical,
        AdvisorySeverity::High,
        AdvisorySeverity::Moderate,
        AdvisorySeverity::Low,
        AdvisorySeverity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdvisorySeverity::Critical => "critical",
            AdvisorySeverity::High => "high",
            AdvisorySeverity::Moderate => "moderate",
            AdvisorySeverity::Low => "low",
            AdvisorySeverity::Unknown => "unknown",
        }
    }

    fn from_label(s: &str) -> Option<AdvisorySeverity> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Some(AdvisorySeverity::Critical),
            "high" => Some(AdvisorySeverity::High),
            "moderate" | "medium" => Some(AdvisorySeverity::Moderate),
            "low" => Some(AdvisorySeverity::Low),
            _ => None,
        }
    }

    fn from_score(score: f64) -> AdvisorySeverity {
        match score {
            s if s >= 9.0 => AdvisorySeverity::Critical,
            s if s >= 7.0 => AdvisorySeverity::High,
            s if s >= 4.0 => AdvisorySeverity::Moderate,
            s if s > 0.0 => AdvisorySeverity::Low,
            _ => AdvisorySeverity::Unknown,
        }
    }
}

/// How an advisory decides whether a version is affected.
#[derive(Debug, Clone)]
enum Rule {
    /// OSV `affected[]` entry: ranges (events) and explicit versions.
    Osv {
        ranges: Vec<Vec<(String, String)>>,
        versions: Vec<String>,
    },
    /// RustSec: affected unless a `patched` or `unaffected` requirement matches.
    RustSec { safe: Vec<semver::VersionReq> },
}

/// One advisory about one package.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    /// Its other ids (`CVE-...` of a `GHSA-...`): a waiver may name any.
    pub aliases: Vec<String>,
    pub severity: AdvisorySeverity,
    rule: Rule,
}

/// Advisories by (ecosystem, normalized package name).
#[derive(Debug, Default)]
pub struct AdvisoryDb {
    by_package: HashMap<(Ecosystem, String), Vec<Advisory>>,
    pub files: usize,
    pub advisories: usize,
    /// Unix time of the newest advisory: its `modified` date (OSV) or `date`
    /// (RustSec), so that a copy synced today from a mirror frozen a year ago
    /// is a year old; the files' modification times only when no advisory
    /// carries a date (see `dated`).
    pub newest: i64,
    /// Whether `newest` comes from the advisories' own dates.
    pub dated: bool,
    newest_modified: Option<i64>,
}

/// Whether an advisory applies to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Affected,
    NotAffected,
    /// The version cannot be ordered against the advisory's ranges in its
    /// ecosystem's scheme: nothing can be said.
    Undecidable,
}

impl Advisory {
    /// Whether `name` is its id or one of its aliases (case-insensitive).
    pub fn is_named(&self, name: &str) -> bool {
        self.id.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    pub fn judge(&self, eco: Ecosystem, version: &str) -> Verdict {
        match &self.rule {
            Rule::Osv { ranges, versions } => {
                if versions.iter().any(|v| v == version) {
                    return Verdict::Affected;
                }
                let mut undecidable = false;
                for events in ranges {
                    match osv_range_affects(eco, events, version) {
                        Some(true) => return Verdict::Affected,
                        Some(false) => {}
                        None => undecidable = true,
                    }
                }
                if undecidable {
                    Verdict::Undecidable
                } else {
                    Verdict::NotAffected
                }
            }
            Rule::RustSec { safe } => match semver::Version::parse(version) {
                Ok(v) if safe.iter().any(|req| req.matches(&v)) => Verdict::NotAffected,
                Ok(_) => Verdict::Affected,
                Err(_) => Verdict::Undecidable,
            },
        }
    }

    pub fn affects(&self, eco: Ecosystem, version: &str) -> bool {
        self.judge(eco, version) == Verdict::Affected
    }
}

/// OSV's algorithm: walk events in version order; introduced sets affected,
/// fixed (at or below the version) and last_affected (below it) clear it.
/// `None` when the version cannot be compared with an event.
fn osv_range_affects(eco: Ecosystem, events: &[(String, String)], version: &str) -> Option<bool> {
    let mut sorted: Vec<&(String, String)> = events.iter().collect();
    sorted.sort_by(|a, b| {
        if a.1 == "0" {
            return std::cmp::Ordering::Less;
        }
        if b.1 == "0" {
            return std::cmp::Ordering::Greater;
        }
        compare(eco, &a.1, &b.1).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut affected = false;
    for (kind, at) in sorted {
        let cmp = if at == "0" {
            Some(std::cmp::Ordering::Greater)
        } else {
            compare(eco, version, at)
        };
        let cmp = cmp?;
        match kind.as_str() {
            "introduced" if cmp != std::cmp::Ordering::Less => affected = true,
            "fixed" if cmp != std::cmp::Ordering::Less => affected = false,
            "last_affected" if cmp == std::cmp::Ordering::Greater => affected = false,
            "limit" if cmp != std::cmp::Ordering::Less => affected = false,
            _ => {}
        }
    }
    Some(affected)
}

fn osv_severity(doc: &Value) -> AdvisorySeverity {
    if let Some(s) = doc
        .pointer("/database_specific/severity")
        .and_then(Value::as_str)
        .and_then(AdvisorySeverity::from_label)
    {
        return s;
    }
    doc.get("severity")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("score").and_then(Value::as_str))
        .filter_map(cvss_base_score)
        .map(AdvisorySeverity::from_score)
        .min()
        .unwrap_or(AdvisorySeverity::Unknown)
}

impl AdvisoryDb {
    /// Adds one OSV advisory document.
    fn add_osv(&mut self, doc: &Value, origin: &str) -> Result<(), String> {
        let id = doc
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{origin}: OSV advisory without an id"))?;
        if let Some(at) = doc
            .get("modified")
            .and_then(Value::as_str)
            .and_then(crate::clock::parse_timestamp)
        {
            self.newest_modified = Some(self.newest_modified.map_or(at, |n| n.max(at)));
        }
        if doc.get("withdrawn").is_some_and(|w| !w.is_null()) {
            return Ok(());
        }
        let severity = osv_severity(doc);
        let aliases: Vec<String> = doc
            .get("aliases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let affected = doc
            .get("affected")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{origin}: {id} has no affected list"))?;
        for a in affected {
            let Some(eco) = a
                .pointer("/package/ecosystem")
                .and_then(Value::as_str)
                .and_then(Ecosystem::from_osv)
            else {
                continue;
            };
            let name = a
                .pointer("/package/name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{origin}: {id} names no package"))?;
            let mut ranges = Vec::new();
            for r in a
                .get("ranges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if r.get("type").and_then(Value::as_str) == Some("GIT") {
                    continue;
                }
                let events: Vec<(String, String)> =
                    r.get("events")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|e| {
                            e.as_object()?.iter().next().map(|(k, v)| {
                                (k.clone(), v.as_str().unwrap_or_default().to_owned())
                            })
                        })
                        .collect();
                ranges.push(events);
            }
            let versions = a
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            self.by_package
                .entry((eco, eco.normalize(name)))
                .or_default()
                .push(Advisory {
                    id: id.to_owned(),
                    aliases: aliases.clone(),
                    severity,
                    rule: Rule::Osv { ranges, versions },
                });
        }
        self.advisories += 1;
        Ok(())
    }

    /// Adds one RustSec advisory (Markdown with a ```toml block).
    fn add_rustsec(&mut self, text: &str, origin: &str) -> Result<(), String> {
        let start = text
            .find("```toml")
            .ok_or_else(|| format!("{origin}: no ```toml block"))?
            + "```toml".len();
        let end = text[start..]
            .find("```")
            .ok_or_else(|| format!("{origin}: unterminated ```toml block"))?
            + start;
        let doc: toml::Table = toml::from_str(&text[start..end])
            .map_err(|e| format!("{origin}: invalid TOML: {}", e.message()))?;
        let adv = doc
            .get("advisory")
            .and_then(|a| a.as_table())
            .ok_or_else(|| format!("{origin}: no [advisory] table"))?;
        let id = adv
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("{origin}: advisory without an id"))?;
        let package = adv
            .get("package")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("{origin}: advisory without a package"))?;
        if let Some(at) = adv
            .get("date")
            .and_then(|v| v.as_str())
            .and_then(crate::clock::parse_timestamp)
        {
            self.newest_modified = Some(self.newest_modified.map_or(at, |n| n.max(at)));
        }
        if adv.get("informational").is_some() || adv.get("withdrawn").is_some() {
            return Ok(());
        }
        let aliases: Vec<String> = adv
            .get("aliases")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let severity = adv
            .get("cvss")
            .and_then(|v| v.as_str())
            .and_then(cvss_base_score)
            .map_or(AdvisorySeverity::Unknown, AdvisorySeverity::from_score);
        let mut safe = Vec::new();
        if let Some(versions) = doc.get("versions").and_then(|v| v.as_table()) {
            for key in ["patched", "unaffected"] {
                for req in versions
                    .get(key)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                {
                    let text = req.as_str().unwrap_or_default();
                    safe.push(
                        semver::VersionReq::parse(text)
                            .map_err(|e| format!("{origin}: {key} requirement {text:?}: {e}"))?,
                    );
                }
            }
        }
        self.by_package
            .entry((Ecosystem::CratesIo, package.to_owned()))
            .or_default()
            .push(Advisory {
                id: id.to_owned(),
                aliases,
                severity,
                rule: Rule::RustSec { safe },
            });
        self.advisories += 1;
        Ok(())
    }

    pub(crate) fn add_zip(&mut self, path: &Path) -> Result<(), String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| format!("{}: not a zip archive: {e}", path.display()))?;
        for i in 0..zip.len() {
            let mut entry = zip
                .by_index(i)
                .map_err(|e| format!("{}: entry {i}: {e}", path.display()))?;
            let entry_name = entry
                .name()
                .map(|n| n.into_owned())
                .map_err(|e| format!("{}: entry {i}: {e}", path.display()))?;
            if !entry_name.ends_with(".json") {
                continue;
            }
            let origin = format!("{}!{entry_name}", path.display());
            let mut text = String::new();
            entry
                .by_ref()
                .take(16 * 1024 * 1024)
                .read_to_string(&mut text)
                .map_err(|e| format!("{origin}: {e}"))?;
            let doc: Value =
                serde_json::from_str(&text).map_err(|e| format!("{origin}: invalid JSON: {e}"))?;
            self.add_osv(&doc, &origin)?;
        }
        Ok(())
    }

    /// The database under `dir`, loaded once and reloaded only when its
    /// files change (see `LOADED`).
    pub fn load_cached(dir: &Path, cancel: &Cancel) -> Result<Arc<AdvisoryDb>, String> {
        let version = files_version(dir);
        let cached = LOADED
            .lock()
            .ok()
            .and_then(|loaded| loaded.get(dir).cloned())
            .filter(|(v, _)| *v == version)
            .map(|(_, db)| db);
        if let Some(db) = cached {
            return Ok(db);
        }
        let db = Arc::new(Self::load(dir, cancel)?);
        if let Ok(mut loaded) = LOADED.lock() {
            loaded.insert(dir.to_owned(), (version, db.clone()));
        }
        Ok(db)
    }

    /// Loads every advisory under `dir` (recursively); stops with an error
    /// when `cancel` says nobody waits any more.
    pub fn load(dir: &Path, cancel: &Cancel) -> Result<AdvisoryDb, String> {
        if !dir.is_dir() {
            return Err(format!(
                "advisory directory {} does not exist or is not a directory; fill it with `prodready-exporter advisories sync`",
                dir.display()
            ));
        }
        let mut db = AdvisoryDb {
            newest: i64::MIN,
            ..Default::default()
        };
        let walker = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .follow_links(false)
            .build();
        for entry in walker {
            if cancel.is_cancelled() {
                return Err(format!(
                    "loading {} was stopped: nobody waits for it any more",
                    dir.display()
                ));
            }
            let entry = entry.map_err(|e| format!("walking {}: {e}", dir.display()))?;
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let origin = path.display().to_string();
            if name.ends_with(".json") {
                let doc: Value = serde_json::from_str(&read_text(path, 16 * 1024 * 1024)?)
                    .map_err(|e| format!("{origin}: invalid JSON: {e}"))?;
                db.add_osv(&doc, &origin)?;
            } else if name.ends_with(".zip") {
                db.add_zip(path)?;
            } else if name.starts_with("RUSTSEC-") && name.ends_with(".md") {
                db.add_rustsec(&read_text(path, 1024 * 1024)?, &origin)?;
            } else {
                continue;
            }
            db.files += 1;
            db.newest = db.newest.max(mtime(path)?);
        }
        if db.files == 0 {
            return Err(format!(
                "no advisories (OSV .json/.zip or RUSTSEC-*.md) under {}",
                dir.display()
            ));
        }
        if let Some(modified) = db.newest_modified {
            db.newest = modified;
            db.dated = true;
        }
        Ok(db)
    }

    /// The advisories that affect a package version.
    pub fn matching(&self, eco: Ecosystem, package: &Package) -> Vec<&Advisory> {
        self.judged(eco, package).0
    }

    /// The advisories that affect a package version, and those its version
    /// cannot be compared with (unparsable in the ecosystem's scheme).
    pub fn judged(&self, eco: Ecosystem, package: &Package) -> (Vec<&Advisory>, Vec<&Advisory>) {
        let mut affected = Vec::new();
        let mut undecidable = Vec::new();
        for a in self
            .by_package
            .get(&(eco, eco.normalize(&package.name)))
            .into_iter()
            .flatten()
        {
            match a.judge(eco, &package.version) {
                Verdict::Affected => affected.push(a),
                Verdict::Undecidable => undecidable.push(a),
                Verdict::NotAffected => {}
            }
        }
        (affected, undecidable)
    }

    /// Whether the database holds any advisory for `eco`.
    pub fn covers(&self, eco: Ecosystem) -> bool {
        self.by_package.keys().any(|(e, _)| *e == eco)
    }
}

#[cfg(test)]
#[path = "advisories_tests.rs"]
mod tests;
