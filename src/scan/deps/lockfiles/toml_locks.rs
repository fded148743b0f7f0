//! The TOML lockfiles: `Cargo.lock`, `poetry.lock` and `uv.lock`, whose
//! `[[package]]` tables name each resolved package.

use crate::scan::deps::{Package, Read};

/// The `[[package]]` tables of a TOML lockfile.
fn package_tables(text: &str) -> Result<Vec<toml::Value>, String> {
    let mut doc: toml::Table =
        toml::from_str(text).map_err(|e| format!("invalid TOML: {}", e.message()))?;
    match doc.remove("package") {
        Some(toml::Value::Array(list)) => Ok(list),
        _ => Err("no [[package]] entries".into()),
    }
}

/// `Cargo.lock`: a package from a registry has a `registry+` or `sparse+`
/// `source`; one without a source is the workspace's own (path) package and
/// one from git no registry version: both are unjudged.
pub(super) fn cargo_lock(text: &str) -> Result<Read, String> {
    sourced(text, |p| match p.get("source").and_then(|s| s.as_str()) {
        None => Some("a workspace or path package"),
        Some(s) if s.starts_with("registry+") || s.starts_with("sparse+") => None,
        Some(_) => Some("a git source, not a registry version"),
    })
}

/// The crates a Cargo workspace consists of: the manifest's `[package]`
/// and the packages of its `[workspace] members` (globs as cargo reads
/// them). Empty when there is no manifest next to the lockfile.
pub(super) fn workspace_crates(manifest: &std::path::Path) -> Vec<String> {
    let read = |path: &std::path::Path| -> Option<toml::Table> {
        toml::from_str(&crate::files::read_text(path, 1024 * 1024).ok()?).ok()
    };
    let name_of = |table: &toml::Table| {
        table
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned)
    };
    let Some(root) = read(manifest) else {
        return Vec::new();
    };
    let mut names: Vec<String> = name_of(&root).into_iter().collect();
    let dir = manifest.parent().unwrap_or(std::path::Path::new("."));
    let members = root
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    for pattern in members.iter().filter_map(|m| m.as_str()) {
        let full = dir.join(pattern).join("Cargo.toml");
        for path in glob::glob(&full.to_string_lossy())
            .into_iter()
            .flatten()
            .flatten()
        {
            names.extend(read(&path).as_ref().and_then(name_of));
        }
    }
    names
}

/// `poetry.lock`: a `[package.source]` of type `git`, `directory`, `file`
/// or `url` is no registry version (unjudged); `legacy` (a mirror) is one.
pub(super) fn poetry_lock(text: &str) -> Result<Read, String> {
    sourced(text, |p| {
        let kind = p
            .get("source")
            .and_then(|s| s.get("type"))
            .and_then(|t| t.as_str());
        matches!(kind, Some("git" | "directory" | "file" | "url"))
            .then_some("a git, directory, file or URL source, not a registry version")
    })
}

/// The packages of a TOML lockfile, those `local` says why not to judge
/// listed as unjudged.
fn sourced(
    text: &str,
    local: impl Fn(&toml::Value) -> Option<&'static str>,
) -> Result<Read, String> {
    let mut read = Read::default();
    for table in package_tables(text)? {
        let p = package_of(&table)?;
        match local(&table) {
            Some(why) => read
                .unjudged
                .push(format!("{}@{} ({why})", p.name, p.version)),
            None => read.packages.push(p),
        }
    }
    Ok(read)
}

/// The `name` and `version` of a `[[package]]` table.
fn package_of(p: &toml::Value) -> Result<Package, String> {
    let get = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Package {
        name: get("name").ok_or("a [[package]] without a name")?,
        version: get("version").ok_or("a [[package]] without a version")?,
        alias: None,
    })
}

/// Every `[[package]]` table's name and version, whatever its source.
#[cfg(test)]
pub(super) fn toml_packages(text: &str) -> Result<Vec<Package>, String> {
    package_tables(text)?.iter().map(package_of).collect()
}

/// `uv.lock`: `[[package]]` tables; the project itself (a `virtual` or
/// `editable` source) may have no version and is not a dependency.
pub(super) fn uv_lock(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    for p in package_tables(text)? {
        let name = p
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or("a [[package]] without a name")?;
        let own = p
            .get("source")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("virtual") || s.contains_key("editable"));
        match p.get("version").and_then(|v| v.as_str()) {
            Some(version) if !own => out.push(Package {
                name: name.to_owned(),
                version: version.to_owned(),
                alias: None,
            }),
            Some(_) => {}
            None if own => {}
            None => return Err(format!("package {name:?} has no version")),
        }
    }
    Ok(out)
}
