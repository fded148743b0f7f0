//! Finding waivers of `dependency_vulnerabilities`: the config's
//! `waivers[].finding.advisory` (with an optional package) and the entries of
//! the ignore files teams keep for osv-scanner and Trivy, each a waiver with
//! a reason, an owner and an expiry. An entry of an ignore file without an
//! expiry holds for `global.waivers_max_duration` from the file's date, and
//! one reaching further is cut there: both say so in their reason.

use std::path::{Path, PathBuf};

use crate::clock::date_of;
use crate::config::{FindingSpec, Waiver};
use crate::scan::deps::advisories::Advisory;
use crate::scan::deps::ignores::{read_ignore_file, Ignored, IGNORE_FILES};
use crate::scan::deps::Package;

/// The finding waivers one scan applies.
#[derive(Debug, Default)]
pub(super) struct AdvisoryWaivers {
    waivers: Vec<Waiver>,
    /// Trivy's `paths` per waiver (same index); empty for every lockfile.
    paths: Vec<Vec<String>>,
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
            let dated = crate::files::mtime(&file).unwrap_or_else(|_| crate::clock::unix_now());
            for entry in read_ignore_file(&file)? {
                let paths = entry.paths.clone();
                out.waivers.push(from_entry(entry, &file, dated, max));
                out.paths.push(paths);
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
        package: &Package,
        lockfile: &str,
        now: i64,
    ) -> Option<&Waiver> {
        self.waivers.iter().zip(&self.paths).find_map(|(w, paths)| {
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
            (named && in_package && in_lockfile && w.active_at(now)).then_some(w)
        })
    }
}

/// An ignore-file entry as a waiver: owned by the file, expiring when it
/// says, else (and at the latest) `max` after the file's date.
fn from_entry(entry: Ignored, file: &Path, dated: i64, max: std::time::Duration) -> Waiver {
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
                " (its expiry is cut to waivers_max_duration from the file's date, {})",
                date_of(dated)
            ),
        ),
        None => (
            latest,
            format!(
                " (no expiry in {name}: it holds waivers_max_duration from the file's date, {})",
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
