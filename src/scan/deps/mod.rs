//! The dependency scanner: lockfile readers (`lockfiles`, one file per
//! format family), SBOMs (`sbom`), each ecosystem's version ordering
//! (`versions`), the local OSV / RustSec advisory database (`advisories`)
//! and its download (`sync`, behind `advisories sync`), and lockfiles
//! judged against it (`audit`). Knows nothing of
//! checks, the engine or the config: `dependency_vulnerabilities` adapts it.

pub mod advisories;
pub mod audit;
pub mod ignores;
pub mod lockfiles;
pub mod sbom;
pub mod sync;
pub mod versions;

use serde_json::Value;

/// One resolved dependency, under the name of the package it resolves to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The name it is installed under when that differs (an npm alias such
    /// as `string-width-cjs` for `string-width`): advisories are looked up
    /// by `name`, the evidence shows both.
    pub alias: Option<String>,
}

impl Package {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            alias: None,
        }
    }

    /// `name@version`, with the alias it is installed under.
    pub fn shown(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}@{} (as {alias})", self.name, self.version),
            None => format!("{}@{}", self.name, self.version),
        }
    }
}

/// What a lockfile lists: the packages judged under their registry names,
/// and the entries no advisory can speak for (local, git or tarball sources,
/// unpinned requirements, lines that cannot be read), each with why.
#[derive(Debug, Default)]
pub struct Read {
    pub packages: Vec<Package>,
    pub unjudged: Vec<String>,
}

impl From<Vec<Package>> for Read {
    fn from(packages: Vec<Package>) -> Read {
        Read {
            packages,
            unjudged: Vec::new(),
        }
    }
}

/// A JSON lockfile or SBOM document; the error gives the line.
fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON at line {}: {e}", e.line()))
}
