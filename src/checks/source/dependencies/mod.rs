//! Dependency data behind `dependency_vulnerabilities`: lockfile parsers
//! (`lockfiles`), each ecosystem's version ordering (`versions`) and the
//! local OSV / RustSec advisory database (`advisories`). Reads files only.

pub mod advisories;
pub mod lockfiles;
pub mod sync;
pub mod versions;
