//! The dependency scanner: lockfile readers (`lockfiles`, one file per
//! format family), SBOMs (`sbom`), each ecosystem's version ordering
//! (`versions`), the local OSV / RustSec advisory database (`advisories`)
//! and its download (`sync`, behind `advisories sync`). Knows nothing of
//! checks, the engine or the config: `dependency_vulnerabilities` adapts it.

pub mod advisories;
pub mod lockfiles;
pub mod sbom;
pub mod sync;
pub mod versions;

use serde_json::Value;

/// One resolved dependency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Package {
    pub name: String,
    pub version: String,
}

/// A JSON lockfile or SBOM document; the error gives the line.
fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON at line {}: {e}", e.line()))
}
