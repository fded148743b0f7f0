//! The npm registry's lockfiles: `package-lock.json` (v1, v2, v3),
//! `yarn.lock` (v1 and berry) and `pnpm-lock.yaml` (v5, v6, v9).

use serde_json::Value;

use crate::scan::deps::{parse_json, Package};

/// `pnpm-lock.yaml`, lockfile versions 5 (`/name/1.0.0_peer`), 6
/// (`/name@1.0.0(peer@2.0.0)`) and 9 (`name@1.0.0`): the keys of
/// `packages`. Entries that are no registry version (`link:`, `file:`,
/// tarball URLs) are not packages of the registry and are left out.
pub(super) fn pnpm_lock(text: &str) -> Result<Vec<Package>, String> {
    let doc: Value = crate::yaml::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let version = doc
        .get("lockfileVersion")
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .ok_or("no lockfileVersion; is this a pnpm-lock.yaml?")?;
    let v5 = version.starts_with('5');
    let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
        // A project without dependencies has no `packages` section.
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for key in packages.keys() {
        let key = key.strip_prefix('/').unwrap_or(key);
        // Peer dependencies: `(peer@1.0.0)` since v6, `_peer@1.0.0` in v5.
        let key = key.split('(').next().unwrap_or(key);
        let split = if v5 {
            key.rsplit_once('/')
        } else {
            // A scoped name starts with `@`: the version's `@` is a later one.
            key.char_indices()
                .skip(1)
                .filter(|(_, c)| *c == '@')
                .last()
                .map(|(i, _)| (&key[..i], &key[i + 1..]))
        };
        let Some((name, version)) = split else {
            return Err(format!("package key {key:?} has no version"));
        };
        let version = if v5 {
            version.split('_').next().unwrap_or(version)
        } else {
            version
        };
        if !version.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        out.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
        });
    }
    Ok(out)
}

pub(super) fn package_lock(text: &str) -> Result<Vec<Package>, String> {
    let doc = parse_json(text)?;
    let mut out = Vec::new();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            if key.is_empty() || entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = match key.rfind("node_modules/") {
                Some(i) => key[i + "node_modules/".len()..].to_owned(),
                None => continue,
            };
            if let Some(version) = entry.get("version").and_then(Value::as_str) {
                out.push(Package {
                    name,
                    version: version.to_owned(),
                });
            }
        }
        return Ok(out);
    }
    fn walk(deps: &serde_json::Map<String, Value>, out: &mut Vec<Package>) {
        for (name, entry) in deps {
            if let Some(version) = entry.get("version").and_then(Value::as_str) {
                out.push(Package {
                    name: name.clone(),
                    version: version.to_owned(),
                });
            }
            if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
                walk(nested, out);
            }
        }
    }
    match doc.get("dependencies").and_then(Value::as_object) {
        Some(deps) => walk(deps, &mut out),
        None => return Err("neither \"packages\" nor \"dependencies\" found".into()),
    }
    Ok(out)
}

pub(super) fn yarn_lock(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') && line.trim_end().ends_with(':') {
            let first = line
                .trim_end()
                .trim_end_matches(':')
                .split(',')
                .next()
                .unwrap_or_default();
            let spec = first.trim().trim_matches('"');
            if spec == "__metadata" {
                current = None;
                continue;
            }
            let at = spec
                .char_indices()
                .skip(1)
                .find(|(_, c)| *c == '@')
                .map(|(i, _)| i);
            current = at.map(|i| spec[..i].to_owned());
            continue;
        }
        let t = line.trim();
        let version = t
            .strip_prefix("version ")
            .or_else(|| t.strip_prefix("version: "))
            .map(|v| v.trim().trim_matches('"').to_owned());
        if let (Some(name), Some(version)) = (&current, version) {
            out.push(Package {
                name: name.clone(),
                version,
            });
        }
    }
    if out.is_empty() && !text.trim().is_empty() && !text.contains("__metadata") {
        return Err("no package entries found; is this a yarn.lock?".into());
    }
    Ok(out)
}
