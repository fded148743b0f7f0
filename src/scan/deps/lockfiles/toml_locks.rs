//! The TOML lockfiles: `Cargo.lock`, `poetry.lock` and `uv.lock`, whose
//! `[[package]]` tables name each resolved package.

use crate::scan::deps::Package;

/// The `[[package]]` tables of a TOML lockfile.
fn package_tables(text: &str) -> Result<Vec<toml::Value>, String> {
    let mut doc: toml::Table =
        toml::from_str(text).map_err(|e| format!("invalid TOML: {}", e.message()))?;
    match doc.remove("package") {
        Some(toml::Value::Array(list)) => Ok(list),
        _ => Err("no [[package]] entries".into()),
    }
}

/// `[[package]]` tables with `name` and `version` (Cargo.lock, poetry.lock).
pub(super) fn toml_packages(text: &str) -> Result<Vec<Package>, String> {
    package_tables(text)?
        .iter()
        .map(|p| {
            let get = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            Ok(Package {
                name: get("name").ok_or("a [[package]] without a name")?,
                version: get("version").ok_or("a [[package]] without a version")?,
                alias: None,
            })
        })
        .collect()
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
