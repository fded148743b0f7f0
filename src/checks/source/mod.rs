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
pub mod dependency_vulnerabilities;
mod dependency_waivers;
pub mod documentation;
pub mod env_secret;
pub mod hardcoded_secrets;
pub mod rollback_ready;
pub mod test_report;

use std::path::{Path, PathBuf};

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

pub use crate::files::{mtime, read_text};
