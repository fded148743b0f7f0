//! Finding waivers of `dependency_vulnerabilities`: the config's
//! `waivers[].finding.advisory` (with an optional package) and the entries of
//! the ignore files teams keep for osv-scanner and Trivy, each a waiver with
//! a reason, an owner and an expiry. An entry of an ignore file without an
//! expiry holds for `global.waivers_max_duration` from the file's date, and
//! one reaching further is cut there: both say so in their reason. The
//! file's date is one a change cannot move: the commit that last changed it
//! in its repository; outside a repository (or with uncommitted changes)
//! its modification time, refused when it lies in the future.

use std::path::{Path, PathBuf};

use crate::clock::date_of;
use crate::config::{FindingSpec, Waiver};
use crate::scan::deps::advisories::Advisory;
use crate::scan::deps::ignores::{read_ignore_file, Ignored, IGNORE_FILES};
use crate::scan::deps::sbom::purl_parts;
use crate::scan::deps::versions::Ecosystem;
use crate::scan::deps::Package;

/// A package an ignore entry is limited to (Trivy's `purls`): ecosystem
/// (`None` for a package URL type no ecosystem here covers: it limits the
/// entry to packages this scan never judges), name, and version when the
/// package URL gives one.
type PurlLimit = (Option<Ecosystem>, String, Option<String>);

/// The finding waivers one scan applies.
#[derive(Debug, Default)]
pub(super) struct AdvisoryWaivers {
    waivers: Vec<Waiver>,
    /// Trivy's `paths` per waiver (same index); empty for every lockfile.
    paths: Vec<Vec<String>>,
    /// Trivy's `purls` per waiver (same index); empty for every package.
    purls: Vec<Vec<PurlLimit>>,
    /// The ignore files read, for the evidence.
    pub files: Vec<String>,
}

impl AdvisoryWaivers {
    /// The config's advisory waivers, and the ignore files: those named, or
    /// `osv-scanner.toml` and `.trivyignore.yaml` at `root` when present.
    pub fn load(
        config: &[Waiver],
        root: &Path,
        named: &[PathBuf],
        max: std::time::Duration,
    ) -> Result<AdvisoryWaivers, String> {
        let mut out = AdvisoryWaivers::default();
        for w in config
            .iter()
            .filter(|w| w.finding.as_ref().is_some_and(|f| f.advisory.is_some()))
        {
            out.waivers.push(w.clone());
            out.paths.push(Vec::new());
            out.purls.push(Vec::new());
        }
        let files: Vec<PathBuf> = if named.is_empty() {
            IGNORE_FILES
                .iter()
                .map(|n| root.join(n))
                .filter(|p| p.is_file())
                .collect()
        } else {
            named.to_vec()
        };
        for file in files {
            let dated = file_date(&file)?;
            for entry in read_ignore_file(&file)? {
                let paths = entry.paths.clone();
                let mut purls = Vec::new();
                for purl in &entry.purls {
                    let limit =
                        match purl_parts(purl).map_err(|e| format!("{}: {e}", entry.place))? {
                            Some((eco, name, version)) => (Some(eco), name, version),
                            None => (None, purl.clone(), None),
                        };
                    purls.push(limit);
                }
                out.waivers.push(from_entry(entry, &file, dated, max));
                out.paths.push(paths);
                out.purls.push(purls);
            }
            out.files.push(file.display().to_string());
        }
        Ok(out)
    }

    /// The waiver holding at `now` for `advisory` in `package` of the
    /// lockfile at `lockfile` (relative to the root).
    pub fn find(
        &self,
        advisory: &Advisory,
        eco: Ecosystem,
        package: &Package,
        lockfile: &str,
        now: i64,
    ) -> Option<&Waiver> {
        let entries = self.waivers.iter().zip(&self.paths).zip(&self.purls);
        entries
            .map(|((w, paths), purls)| (w, paths, purls))
            .find_map(|(w, paths, purls)| {
                let f = w.finding.as_ref()?;
                let named = advisory.is_named(f.advisory.as_deref()?);
                let in_package = f.package.as_deref().is_none_or(|p| {
                    p.eq_ignore_ascii_case(&package.name)
                        || package
                            .alias
                            .as_deref()
                            .is_some_and(|a| a.eq_ignore_ascii_case(p))
                });
                let in_lockfile = paths.is_empty() || paths.iter().any(|p| p == lockfile);
                let in_purls = purls.is_empty()
                    || purls.iter().any(|(e, name, version)| {
                        *e == Some(eco)
                            && name.eq_ignore_ascii_case(&package.name)
                            && version.as_deref().is_none_or(|v| v == package.version)
                    });
                (named && in_package && in_lockfile && in_purls && w.active_at(now)).then_some(w)
            })
    }
}

/// The date an ignore file's entries are capped from, and what it is: the
/// commit that last changed the file (a fresh checkout re-dates files, and a
/// change can set any modification time), else its modification time, which
/// must not lie in the future.
fn file_date(file: &Path) -> Result<(i64, &'static str), String> {
    if crate::git::is_modified(file) == Some(false) {
        if let Some(commit) = crate::git::last_commit(file) {
            return Ok((commit.time, "the commit that last changed it"));
        }
    }
    let now = crate::clock::unix_now();
    let mtime = crate::files::mtime(file).unwrap_or(now);
    if mtime > now + crate::clock::FUTURE_TOLERANCE_SECONDS {
        return Err(format!(
            "{} is dated {} in the future: the expiry of its entries cannot be anchored to it (commit it, or fix its date)",
            file.display(),
            date_of(mtime)
        ));
    }
    Ok((mtime, "its modification time"))
}

/// An ignore-file entry as a waiver: owned by the file, expiring when it
/// says, else (and at the latest) `max` after the file's date.
fn from_entry(
    entry: Ignored,
    file: &Path,
    (dated, what): (i64, &str),
    max: std::time::Duration,
) -> Waiver {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ignore file")
        .to_owned();
    let latest = dated + max.as_secs() as i64;
    let (expires_at, note) = match entry.until {
        Some(t) if t <= latest => (t, String::new()),
        Some(_) => (
            latest,
            format!(
                " (its expiry is cut to waivers_max_duration from the file's date, {}, {what})",
                date_of(dated)
            ),
        ),
        None => (
            latest,
            format!(
                " (no expiry in {name}: it holds waivers_max_duration from the file's date, {}, {what})",
                date_of(dated)
            ),
        ),
    };
    let reason = entry
        .reason
        .unwrap_or_else(|| format!("no reason given in {name}"));
    Waiver {
        name: format!("{name}:{}", entry.id).to_lowercase(),
        check: None,
        item: None,
        finding: Some(FindingSpec {
            advisory: Some(entry.id),
            package: None,
            secret: None,
            rule: None,
            location: None,
        }),
        reason: format!("{reason}{note}"),
        owner: name,
        expires: date_of(expires_at - 1),
        expires_at,
        source: entry.place,
    }
}
