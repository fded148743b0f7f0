//! Dependency data behind `dependency_vulnerabilities`: lockfile parsers
//! (`lockfiles`), SBOMs (`sbom`), each ecosystem's version ordering
//! (`versions`), the local OSV / RustSec advisory database (`advisories`)
//! and its download (`sync`).

pub mod advisories;
pub mod lockfiles;
pub mod sbom;
pub mod sync;
pub mod versions;
