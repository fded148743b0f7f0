//! The npm registry's lockfiles: `package-lock.json` and
//! `npm-shrinkwrap.json` (v1, v2, v3), `yarn.lock` (v1 and berry),
//! `pnpm-lock.yaml` (v5, v6, v9) and Bun's text `bun.lock` (v0, v1). An alias (`string-width-cjs` installed
//! from `npm:string-width@4.2.0`) is read under the package it resolves to;
//! local, workspace, git and tarball entries are listed as unjudged.

use serde_json::Value;

use crate::scan::deps::{parse_json, Package, Read};

/// `name@version` of an `npm:` alias specifier (`npm:string-width@4.2.0`).
fn npm_alias(spec: &str) -> Option<(&str, &str)> {
    let real = spec.strip_prefix("npm:")?;
    let at = real.char_indices().skip(1).find(|(_, c)| *c == '@')?.0;
    Some((&real[..at], &real[at + 1..]))
}

/// Whether a version is a registry version (not a path, URL or git ref).
fn registry_version(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_digit())
}

/// `pnpm-lock.yaml`, lockfile versions 5 (`/name/1.0.0_peer`), 6
/// (`/name@1.0.0(peer@2.0.0)`) and 9 (`name@1.0.0`): the keys of
/// `packages`, which name the real package of an alias. Entries that are no
/// registry version (`link:`, `file:`, git, tarball URLs) are unjudged.
pub(super) fn pnpm_lock(text: &str) -> Result<Read, String> {
    let doc: Value = crate::yaml::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let version = doc
        .get("lockfileVersion")
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .ok_or("no lockfileVersion; is this a pnpm-lock.yaml?")?;
    let v5 = version.starts_with('5');
    let mut read = Read::default();
    let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
        // A project without dependencies has no `packages` section.
        return Ok(read);
    };
    for raw in packages.keys() {
        let key = raw.strip_prefix('/').unwrap_or(raw);
        // Peer dependencies: `(peer@1.0.0)` since v6, `_peer@1.0.0` in v5.
        let key = key.split('(').next().unwrap_or(key);
        let split = if v5 && raw.starts_with('/') {
            key.rsplit_once('/')
        } else if v5 {
            None
        } else {
            // A scoped name starts with `@`: the version's `@` is a later one.
            key.char_indices()
                .skip(1)
                .find(|(_, c)| *c == '@')
                .map(|(i, _)| (&key[..i], &key[i + 1..]))
        };
        let version = split.map(|(_, v)| {
            if v5 {
                v.split('_').next().unwrap_or(v)
            } else {
                v
            }
        });
        match (split, version) {
            (Some((name, _)), Some(version)) if registry_version(version) => {
                read.packages.push(Package::new(name, version));
            }
            _ => read.unjudged.push(format!(
                "{raw} (not a registry version: local, git or tarball source)"
            )),
        }
    }
    Ok(read)
}

/// `package-lock.json` / `npm-shrinkwrap.json`: v2/v3 `packages` (an
/// entry's `name` is the real package of an alias installed under its
/// path), or v1's nested `dependencies` (`npm:real@version` aliases).
pub(super) fn package_lock(text: &str) -> Result<Read, String> {
    let doc = parse_json(text)?;
    let mut read = Read::default();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            if key.is_empty() {
                continue;
            }
            let installed = match key.rfind("node_modules/") {
                Some(i) => &key[i + "node_modules/".len()..],
                None => {
                    read.unjudged
                        .push(format!("{key} (local workspace package)"));
                    continue;
                }
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                read.unjudged.push(format!(
                    "{installed} (linked to {}: a local package)",
                    entry.get("resolved").and_then(Value::as_str).unwrap_or("?")
                ));
                continue;
            }
            let Some(version) = entry.get("version").and_then(Value::as_str) else {
                read.unjudged.push(format!("{installed} (no version)"));
                continue;
            };
            if !registry_version(version) {
                read.unjudged
                    .push(format!("{installed}@{version} (not a registry version)"));
                continue;
            }
            let real = entry.get("name").and_then(Value::as_str);
            read.packages.push(Package {
                name: real.unwrap_or(installed).to_owned(),
                version: version.to_owned(),
                alias: real
                    .filter(|r| *r != installed)
                    .map(|_| installed.to_owned()),
            });
        }
        return Ok(read);
    }
    fn walk(deps: &serde_json::Map<String, Value>, read: &mut Read) {
        for (name, entry) in deps {
            match entry.get("version").and_then(Value::as_str) {
                Some(v) => match npm_alias(v) {
                    Some((real, version)) => read.packages.push(Package {
                        name: real.to_owned(),
                        version: version.to_owned(),
                        alias: Some(name.clone()),
                    }),
                    None if registry_version(v) => read.packages.push(Package::new(name, v)),
                    None => read
                        .unjudged
                        .push(format!("{name}@{v} (not a registry version)")),
                },
                None => read.unjudged.push(format!("{name} (no version)")),
            }
            if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
                walk(nested, read);
            }
        }
    }
    match doc.get("dependencies").and_then(Value::as_object) {
        Some(deps) => walk(deps, &mut read),
        None => return Err("neither \"packages\" nor \"dependencies\" found".into()),
    }
    Ok(read)
}

/// One `yarn.lock` entry being read.
#[derive(Default)]
struct YarnEntry {
    /// The first specifier of the key (`string-width-cjs@npm:string-width@4.2.0`).
    spec: String,
    version: Option<String>,
    /// Berry's `resolution: "string-width@npm:4.2.0"`.
    resolution: Option<String>,
    /// v1's `resolved "https://..."` or `resolved "git+..."`.
    resolved: Option<String>,
}

impl YarnEntry {
    fn finish(self, read: &mut Read) {
        let Some(at) = self
            .spec
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '@')
            .map(|(i, _)| i)
        else {
            read.unjudged
                .push(format!("{} (no version range)", self.spec));
            return;
        };
        let installed = &self.spec[..at];
        let range = &self.spec[at + 1..];
        // Berry names the package it resolved to; v1 an alias in the range.
        let real = match &self.resolution {
            Some(r) => r
                .char_indices()
                .skip(1)
                .find(|(_, c)| *c == '@')
                .map(|(i, _)| &r[..i]),
            None => npm_alias(range).map(|(real, _)| real),
        }
        .unwrap_or(installed);
        let local = self.resolution.as_deref().is_some_and(|r| {
            [
                "@workspace:",
                "@file:",
                "@link:",
                "@portal:",
                "@patch:",
                "@exec:",
            ]
            .iter()
            .any(|p| r.contains(p))
                || r.contains("@https:")
                || r.contains("@git")
        }) || range.starts_with("file:")
            || range.starts_with("link:")
            || self
                .resolved
                .as_deref()
                .is_some_and(|r| r.starts_with("git") || r.starts_with("file:"));
        match self.version {
            Some(v) if !local && registry_version(&v) && v != "0.0.0-use.local" => {
                read.packages.push(Package {
                    name: real.to_owned(),
                    version: v,
                    alias: (real != installed).then(|| installed.to_owned()),
                })
            }
            Some(v) => read.unjudged.push(format!(
                "{} at {v} (local, workspace, git or tarball source)",
                self.spec
            )),
            None => read.unjudged.push(format!("{} (no version)", self.spec)),
        }
    }
}

pub(super) fn yarn_lock(text: &str) -> Result<Read, String> {
    let mut read = Read::default();
    let mut current: Option<YarnEntry> = None;
    let unquote = |v: &str| v.trim().trim_matches('"').to_owned();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') && line.trim_end().ends_with(':') {
            if let Some(entry) = current.take() {
                entry.finish(&mut read);
            }
            let first = line
                .trim_end()
                .trim_end_matches(':')
                .split(',')
                .next()
                .unwrap_or_default();
            let spec = first.trim().trim_matches('"');
            if spec != "__metadata" {
                current = Some(YarnEntry {
                    spec: spec.to_owned(),
                    ..YarnEntry::default()
                });
            }
            continue;
        }
        let (Some(entry), false) = (current.as_mut(), line.starts_with("    ")) else {
            continue;
        };
        let t = line.trim();
        if let Some(v) = t
            .strip_prefix("version ")
            .or_else(|| t.strip_prefix("version: "))
        {
            entry.version = Some(unquote(v));
        } else if let Some(r) = t.strip_prefix("resolution: ") {
            entry.resolution = Some(unquote(r));
        } else if let Some(r) = t.strip_prefix("resolved ") {
            entry.resolved = Some(unquote(r));
        }
    }
    if let Some(entry) = current.take() {
        entry.finish(&mut read);
    }
    if read.packages.is_empty()
        && read.unjudged.is_empty()
        && !text.trim().is_empty()
        && !text.contains("__metadata")
    {
        return Err("no package entries found; is this a yarn.lock?".into());
    }
    Ok(read)
}

/// Bun's text lockfile `bun.lock` (Bun 1.1.39 and later; JSON with
/// trailing commas): each entry of `packages` is keyed by where it is
/// installed (`string-width-cjs`, `foo/bar` for a nested copy) and its first
/// element is the resolution, `name@version` of the real package. Workspace,
/// `file:`, `link:`, git and tarball resolutions are unjudged. The binary
/// `bun.lockb` is not read: `bun install --save-text-lockfile` writes this one.
pub(super) fn bun_lock(text: &str) -> Result<Read, String> {
    let doc = parse_json(&without_trailing_commas(text))?;
    match doc.get("lockfileVersion").and_then(Value::as_u64) {
        Some(0 | 1) => {}
        Some(v) => {
            return Err(format!(
                "lockfileVersion {v} is not one this reader knows (0, 1)"
            ))
        }
        None => return Err("no lockfileVersion: not a bun.lock".into()),
    }
    let packages = doc
        .get("packages")
        .and_then(Value::as_object)
        .ok_or("no \"packages\" object")?;
    let mut read = Read::default();
    for (key, entry) in packages {
        let installed = installed_name(key);
        let Some(resolution) = entry.get(0).and_then(Value::as_str) else {
            read.unjudged.push(format!("{key} (no resolution)"));
            continue;
        };
        // `@scope/name@1.0.0`: the version follows the last `@` past the scope.
        let Some(at) = resolution
            .char_indices()
            .skip(1)
            .filter(|(_, c)| *c == '@')
            .map(|(i, _)| i)
            .last()
        else {
            read.unjudged
                .push(format!("{key}: {resolution} (no version)"));
            continue;
        };
        let (name, version) = (&resolution[..at], &resolution[at + 1..]);
        if !registry_version(version) {
            read.unjudged
                .push(format!("{installed}@{version} (not a registry version)"));
            continue;
        }
        read.packages.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            alias: (name != installed).then(|| installed.to_owned()),
        });
    }
    Ok(read)
}

/// The package name at the end of a `bun.lock` key: `parent/child` gives
/// `child`, and a scope stays with its name (`parent/@scope/name`).
fn installed_name(key: &str) -> &str {
    let mut slashes = key.rmatch_indices('/').map(|(i, _)| i);
    let Some(last) = slashes.next() else {
        return key;
    };
    let start = slashes.next().map_or(0, |i| i + 1);
    if key[start..].starts_with('@') {
        &key[start..]
    } else {
        &key[last + 1..]
    }
}

/// JSON with the trailing commas Bun writes (`, }` and `, ]`) removed,
/// outside strings only.
fn without_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut pending_comma: Option<String> = None;
    for c in text.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if let Some(held) = pending_comma.as_mut() {
            if c.is_whitespace() {
                held.push(c);
                continue;
            }
            let held = pending_comma.take().unwrap_or_default();
            if c == '}' || c == ']' {
                out.push_str(&held[1..]);
            } else {
                out.push_str(&held);
            }
        }
        match c {
            ',' => pending_comma = Some(",".to_owned()),
            '"' => {
                in_string = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if let Some(held) = pending_comma {
        out.push_str(&held);
    }
    out
}
