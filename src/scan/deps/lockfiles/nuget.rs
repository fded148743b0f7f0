//! NuGet's `packages.lock.json`.

use serde_json::Value;

use crate::scan::deps::{parse_json, Package};

/// NuGet's `packages.lock.json`: per target framework, each package's
/// `resolved` version; `Project` entries (other projects of the solution)
/// have none and are no packages of the registry.
pub(super) fn nuget_lock(text: &str) -> Result<Vec<Package>, String> {
    let doc = parse_json(text)?;
    let frameworks = doc
        .get("dependencies")
        .and_then(Value::as_object)
        .ok_or("no \"dependencies\" object; is this a NuGet packages.lock.json?")?;
    let mut out = Vec::new();
    for (framework, packages) in frameworks {
        let packages = packages
            .as_object()
            .ok_or_else(|| format!("dependencies.{framework} is not an object"))?;
        for (name, entry) in packages {
            if entry.get("type").and_then(Value::as_str) == Some("Project") {
                continue;
            }
            let version = entry
                .get("resolved")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{framework}: {name} has no resolved version"))?;
            out.push(Package {
                name: name.clone(),
                version: version.to_owned(),
                alias: None,
            });
        }
    }
    Ok(out)
}
