//! Source and artifact kinds: they read files on this machine (a source tree,
//! lockfiles, docs, drill records, test reports, release directories) and
//! never contact a network service. Paths resolve against the check's `path`
//! target when it has one.

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str = r#"These read files on the exporter's machine only (a checkout, a release
directory, reports); they never contact a network service. Paths are relative
to the check's `path` target when it has one. Bad input (a truncated or binary
lockfile, malformed advisory JSON, an unreadable directory) is `error` naming
the file and the reason; never a panic, never a silent pass."#;

pub mod attestation;
pub mod backup_freshness;
pub mod config_schema;
pub mod dependencies;
pub mod dependency_vulnerabilities;
pub mod documentation;
pub mod env_secret;
pub mod hardcoded_secrets;
pub mod rollback_ready;
pub mod secrets;
pub mod test_report;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::checks::{BuildInput, ParamError};

/// Resolves `path` against the check's path target (absolute paths stay).
pub fn resolve_path(
    input: &BuildInput<'_>,
    path: Option<&Path>,
    field: &str,
) -> Result<PathBuf, ParamError> {
    let base = input.target.and_then(|t| t.as_path());
    match (base, path) {
        (Some(b), Some(p)) => Ok(b.join(p)),
        (None, Some(p)) => Ok(p.to_owned()),
        (Some(b), None) => Ok(b.clone()),
        (None, None) => Err(ParamError::new(
            format!("params.{field}"),
            "required when the check has no path target",
        )),
    }
}

/// A file's modification time in Unix seconds.
pub fn mtime(path: &Path) -> Result<i64, String> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        })
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))
}

/// Reads a text file of at most `cap` bytes, with errors naming the path.
pub fn read_text(path: &Path, cap: u64) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if meta.len() > cap {
        return Err(format!(
            "{} is {} bytes, over the {cap}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text (binary?)", path.display()))
}
