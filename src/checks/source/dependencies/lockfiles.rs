//! Lockfile parsers: Cargo.lock, package-lock.json (v1, v2, v3), yarn.lock
//! (v1 and berry), pnpm-lock.yaml, poetry.lock, uv.lock, requirements.txt
//! (pinned `==` lines), go.mod (with go.sum for modules before Go 1.17),
//! Gemfile.lock, mix.lock, composer.lock, gradle.lockfile and NuGet's
//! packages.lock.json. Each returns the
//! resolved packages or an error naming the file and the reason.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::sbom::{is_sbom_name, parse_sbom};
use super::versions::{compare, Ecosystem};
use crate::checks::source::read_text;

/// One resolved dependency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Package {
    pub name: String,
    pub version: String,
}

/// Lockfile names this kind understands, with their ecosystem.
pub const LOCKFILES: &[(&str, Ecosystem)] = &[
    ("Cargo.lock", Ecosystem::CratesIo),
    ("package-lock.json", Ecosystem::Npm),
    ("yarn.lock", Ecosystem::Npm),
    ("pnpm-lock.yaml", Ecosystem::Npm),
    ("poetry.lock", Ecosystem::PyPI),
    ("uv.lock", Ecosystem::PyPI),
    ("requirements.txt", Ecosystem::PyPI),
    ("go.mod", Ecosystem::Go),
    ("Gemfile.lock", Ecosystem::RubyGems),
    ("mix.lock", Ecosystem::Hex),
    ("composer.lock", Ecosystem::Packagist),
    ("gradle.lockfile", Ecosystem::Maven),
    ("packages.lock.json", Ecosystem::NuGet),
];

/// Accepted when named explicitly, read as the lockfile next to them: `go.sum`
/// lists every version Go looked at, not the ones it selected, so the
/// module's `go.mod` decides.
const ALIASES: &[(&str, &str)] = &[("go.sum", "go.mod")];

/// The lockfile name a file is read as (`go.sum` reads its `go.mod`).
fn lockfile_name(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    Some(
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, target)| target),
    )
}

/// The ecosystem of a lockfile name listed in [`LOCKFILES`].
fn listed(name: &str) -> Option<Ecosystem> {
    LOCKFILES.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

fn ecosystem_of(path: &Path) -> Option<Ecosystem> {
    listed(lockfile_name(path)?)
}

fn is_sbom(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_sbom_name)
}

/// Whether a file found in a tree is read as a lockfile or an SBOM (an
/// alias such as `go.sum` is read only when named: its own lockfile is found).
pub fn is_dependency_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    name.and_then(listed).is_some() || is_sbom(path)
}

/// The ecosystems a dependency file speaks for; an SBOM is read for them
/// (and says none when it cannot be read: the check reports why).
pub fn ecosystems_of(path: &Path) -> Vec<Ecosystem> {
    if is_sbom(path) {
        return parse_lockfile(path)
            .map(|d| d.groups.into_iter().map(|(e, _)| e).collect())
            .unwrap_or_default();
    }
    ecosystem_of(path).into_iter().collect()
}

/// Largest lockfile read.
const MAX_LOCKFILE: u64 = 64 * 1024 * 1024;

/// The packages of one lockfile or SBOM, by ecosystem.
#[derive(Debug, Default)]
pub struct Dependencies {
    pub groups: Vec<(Ecosystem, Vec<Package>)>,
    /// SBOM components no ecosystem here can judge (see [`super::sbom::Sbom::unjudged`]).
    pub unjudged: Vec<String>,
}

/// Parses a lockfile by its file name, or an SBOM.
pub fn parse_lockfile(path: &Path) -> Result<Dependencies, String> {
    let located = |e: String| format!("{}: {e}", path.display());
    if is_sbom(path) {
        let text = read_text(path, MAX_LOCKFILE)?;
        let sbom = parse_sbom(&text).map_err(located)?;
        return Ok(Dependencies {
            groups: sbom
                .groups
                .into_iter()
                .map(|(e, list)| (e, sorted(list)))
                .collect(),
            unjudged: sbom.unjudged,
        });
    }
    let eco =
        ecosystem_of(path).ok_or_else(|| located("not a known lockfile or SBOM name".into()))?;
    let name = lockfile_name(path).unwrap_or_default();
    let path = path.with_file_name(name);
    let text = read_text(&path, MAX_LOCKFILE)?;
    let packages = if name == "go.mod" {
        let sum = path.with_file_name("go.sum");
        let sum = sum
            .exists()
            .then(|| read_text(&sum, MAX_LOCKFILE))
            .transpose()?;
        go_mod(&text, sum.as_deref()).map(sorted)
    } else {
        parse_lockfile_text(name, &text)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Dependencies {
        groups: vec![(eco, packages)],
        unjudged: Vec::new(),
    })
}

/// A JSON lockfile or SBOM document; the error gives the line.
pub(super) fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON at line {}: {e}", e.line()))
}

fn sorted(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort();
    packages.dedup();
    packages
}

/// Parses a lockfile's text by its file name (`Cargo.lock`, `yarn.lock` ...),
/// sorted and without duplicates.
pub fn parse_lockfile_text(name: &str, text: &str) -> Result<Vec<Package>, String> {
    let packages = match name {
        "Cargo.lock" | "poetry.lock" => toml_packages(text)?,
        "package-lock.json" => package_lock(text)?,
        "yarn.lock" => yarn_lock(text)?,
        "pnpm-lock.yaml" => pnpm_lock(text)?,
        "uv.lock" => uv_lock(text)?,
        "requirements.txt" => requirements(text),
        "go.mod" => go_mod(text, None)?,
        "Gemfile.lock" => gemfile_lock(text)?,
        "mix.lock" => mix_lock(text)?,
        "composer.lock" => composer_lock(text)?,
        "gradle.lockfile" => gradle_lockfile(text)?,
        "packages.lock.json" => nuget_lock(text)?,
        _ => return Err("not a known lockfile name".into()),
    };
    Ok(sorted(packages))
}

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
fn toml_packages(text: &str) -> Result<Vec<Package>, String> {
    package_tables(text)?
        .iter()
        .map(|p| {
            let get = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            Ok(Package {
                name: get("name").ok_or("a [[package]] without a name")?,
                version: get("version").ok_or("a [[package]] without a version")?,
            })
        })
        .collect()
}

/// `uv.lock`: `[[package]]` tables; the project itself (a `virtual` or
/// `editable` source) may have no version and is not a dependency.
fn uv_lock(text: &str) -> Result<Vec<Package>, String> {
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
            }),
            Some(_) => {}
            None if own => {}
            None => return Err(format!("package {name:?} has no version")),
        }
    }
    Ok(out)
}

/// `pnpm-lock.yaml`, lockfile versions 5 (`/name/1.0.0_peer`), 6
/// (`/name@1.0.0(peer@2.0.0)`) and 9 (`name@1.0.0`): the keys of
/// `packages`. Entries that are no registry version (`link:`, `file:`,
/// tarball URLs) are not packages of the registry and are left out.
fn pnpm_lock(text: &str) -> Result<Vec<Package>, String> {
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

fn package_lock(text: &str) -> Result<Vec<Package>, String> {
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

fn yarn_lock(text: &str) -> Result<Vec<Package>, String> {
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

fn requirements(text: &str) -> Vec<Package> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9.!+_-]+)",
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter_map(|l| re.captures(l))
        .map(|c| Package {
            name: c[1].to_owned(),
            version: c[2].to_owned(),
        })
        .collect()
}

/// A go.mod `replace`: the module (and version, when given) replaced, and the
/// module and version it is replaced by (`None`: a local directory).
type Replace = (String, Option<String>, Option<(String, String)>);

/// The modules a Go build selects, from `go.mod`. Since Go 1.17 (`go 1.17`
/// or later) go.mod requires every module the build needs, indirect ones
/// included, at the version minimal version selection picked. Before that it
/// lists only direct requirements, so `go.sum` fills in: its lines without
/// `/go.mod` are the modules whose source was downloaded, and the highest
/// such version of a module is the one selected. `replace` directives are
/// applied; a module replaced by a local directory is no registry version.
fn go_mod(text: &str, go_sum: Option<&str>) -> Result<Vec<Package>, String> {
    let mut go_version: Option<Vec<u64>> = None;
    let mut required: Vec<(String, String)> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    let mut block: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (verb, rest) = match &block {
            Some(_) if line == ")" => {
                block = None;
                continue;
            }
            Some(verb) => (verb.clone(), line),
            None => {
                let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(verb.to_owned());
                    continue;
                }
                (verb.to_owned(), rest)
            }
        };
        let fields: Vec<&str> = rest
            .split_whitespace()
            .map(|f| f.trim_matches('"'))
            .collect();
        let bad = || format!("line {}: cannot read `{verb} {rest}`", n + 1);
        match verb.as_str() {
            "go" => {
                // `go 1.21.0`, `go 1.22rc1`: the numbers lead.
                let numbers = rest
                    .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .next()
                    .unwrap_or_default();
                go_version = Some(
                    numbers
                        .split('.')
                        .map(|p| p.parse().ok())
                        .collect::<Option<_>>()
                        .ok_or_else(bad)?,
                );
            }
            "require" => match fields.as_slice() {
                [module, version] => required.push(((*module).to_owned(), (*version).to_owned())),
                _ => return Err(bad()),
            },
            "replace" => {
                let arrow = fields.iter().position(|f| *f == "=>").ok_or_else(bad)?;
                let (old, new) = fields.split_at(arrow);
                let new = &new[1..];
                let old_version = old.get(1).map(|v| (*v).to_owned());
                let target = match new {
                    [module, version] => Some(((*module).to_owned(), (*version).to_owned())),
                    [_path] => None,
                    _ => return Err(bad()),
                };
                let module = old.first().ok_or_else(bad)?;
                replaces.push(((*module).to_owned(), old_version, target));
            }
            _ => {}
        }
    }
    if block.is_some() {
        return Err("a `(` block is not closed".into());
    }
    let go_version = go_version.ok_or("no `go` directive; is this a go.mod?")?;
    if go_version < vec![1, 17] {
        let sum = go_sum.ok_or_else(|| {
            format!(
                "go.mod says `go {}`: before Go 1.17 go.mod lists only direct requirements, and there is no go.sum next to it to read the others from",
                go_version.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
            )
        })?;
        for (module, version) in go_sum_selected(sum)? {
            keep_highest(&mut required, &module, &version);
        }
    }
    let mut out = Vec::new();
    for (module, version) in required {
        let replace = replaces
            .iter()
            .find(|(m, v, _)| *m == module && v.as_ref().is_none_or(|v| *v == version));
        match replace {
            Some((_, _, None)) => {}
            Some((_, _, Some((name, version)))) => out.push(Package {
                name: name.clone(),
                version: version.clone(),
            }),
            None => out.push(Package {
                name: module,
                version,
            }),
        }
    }
    Ok(out)
}

/// Per module, the highest version whose source go.sum holds a hash of.
fn go_sum_selected(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(module), Some(version), Some(hash)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "go.sum line {} is not `module version hash`",
                n + 1
            ));
        };
        if !hash.starts_with("h1:") {
            return Err(format!("go.sum line {} has no h1: hash", n + 1));
        }
        if version.ends_with("/go.mod") {
            continue;
        }
        keep_highest(&mut out, module, version);
    }
    Ok(out)
}

/// Records `module` at `version`, or raises its recorded version to it:
/// minimal version selection picks the highest version required.
fn keep_highest(modules: &mut Vec<(String, String)>, module: &str, version: &str) {
    match modules.iter_mut().find(|(m, _)| m == module) {
        Some(entry) => {
            if compare(Ecosystem::Go, version, &entry.1) == Some(std::cmp::Ordering::Greater) {
                entry.1 = version.to_owned();
            }
        }
        None => modules.push((module.to_owned(), version.to_owned())),
    }
}

/// `composer.lock`: `packages` and `packages-dev`, each with `name` and
/// `version` (a branch such as `dev-main` is kept: it cannot be compared, so
/// the check reports it as not verified rather than passing it).
fn composer_lock(text: &str) -> Result<Vec<Package>, String> {
    let doc = parse_json(text)?;
    let mut out = Vec::new();
    let mut sections = 0;
    for key in ["packages", "packages-dev"] {
        let Some(list) = doc.get(key) else { continue };
        sections += 1;
        for (i, p) in list
            .as_array()
            .ok_or_else(|| format!("\"{key}\" is not a list"))?
            .iter()
            .enumerate()
        {
            let get = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
            out.push(Package {
                name: get("name").ok_or_else(|| format!("{key}[{i}] has no name"))?,
                version: get("version").ok_or_else(|| format!("{key}[{i}] has no version"))?,
            });
        }
    }
    if sections == 0 {
        return Err("no \"packages\" list; is this a composer.lock?".into());
    }
    Ok(out)
}

/// NuGet's `packages.lock.json`: per target framework, each package's
/// `resolved` version; `Project` entries (other projects of the solution)
/// have none and are no packages of the registry.
fn nuget_lock(text: &str) -> Result<Vec<Package>, String> {
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
            });
        }
    }
    Ok(out)
}

/// `gradle.lockfile`: `group:artifact:version=configurations` lines; `empty=`
/// names configurations without dependencies.
fn gradle_lockfile(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let coordinates = line.split('=').next().unwrap_or_default();
        let mut parts = coordinates.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(group), Some(artifact), Some(version), None)
                if !group.is_empty() && !artifact.is_empty() && !version.is_empty() =>
            {
                out.push(Package {
                    name: format!("{group}:{artifact}"),
                    version: version.to_owned(),
                });
            }
            _ => {
                return Err(format!(
                    "line {} is not `group:artifact:version=configurations`",
                    n + 1
                ))
            }
        }
    }
    Ok(out)
}

fn gemfile_lock(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    let mut in_specs = false;
    for line in text.lines() {
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        if !line.starts_with(' ') {
            in_specs = false;
        }
        if in_specs && line.starts_with("    ") && !line.starts_with("     ") {
            let t = line.trim();
            if let Some((name, rest)) = t.split_once(" (") {
                let version = rest.trim_end_matches(')');
                // Platform gems: `nokogiri (1.13.10-x86_64-linux)`.
                let version = version.split('-').next().unwrap_or(version);
                out.push(Package {
                    name: name.to_owned(),
                    version: version.to_owned(),
                });
            }
        }
    }
    if out.is_empty() && !text.contains("GEM") {
        return Err("no GEM specs found; is this a Gemfile.lock?".into());
    }
    Ok(out)
}

fn mix_lock(text: &str) -> Result<Vec<Package>, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#""[^"]+":\s*\{:hex,\s*:([A-Za-z0-9_]+),\s*"([^"]+)""#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let out: Vec<Package> = re
        .captures_iter(text)
        .map(|c| Package {
            name: c[1].to_owned(),
            version: c[2].to_owned(),
        })
        .collect();
    if out.is_empty() && text.contains(":hex") {
        return Err("hex entries could not be read".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: Vec<Package>) -> Vec<String> {
        let mut v: Vec<String> = v
            .into_iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn parses_pnpm_lockfiles_of_each_version() {
        let v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      lodash:\n        specifier: ^4.17.0\n        version: 4.17.20\npackages:\n  lodash@4.17.20:\n    resolution: {integrity: sha512-x}\n  '@babel/core@7.24.0':\n    resolution: {integrity: sha512-y}\n  react-dom@18.2.0(react@18.2.0):\n    resolution: {integrity: sha512-z}\n  local@file:../local:\n    resolution: {directory: ../local}\nsnapshots:\n  lodash@4.17.20: {}\n";
        assert_eq!(
            names(pnpm_lock(v9).unwrap()),
            ["@babel/core@7.24.0", "lodash@4.17.20", "react-dom@18.2.0"]
        );
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /lodash@4.17.15:\n    resolution: {integrity: sha512-x}\n    dev: false\n  /@scope/pkg@1.2.3(peer@2.0.0):\n    resolution: {integrity: sha512-y}\n";
        assert_eq!(
            names(pnpm_lock(v6).unwrap()),
            ["@scope/pkg@1.2.3", "lodash@4.17.15"]
        );
        let v5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.15:\n    resolution: {integrity: sha512-x}\n  /@scope/pkg/1.2.3_peer@2.0.0:\n    resolution: {integrity: sha512-y}\n";
        assert_eq!(
            names(pnpm_lock(v5).unwrap()),
            ["@scope/pkg@1.2.3", "lodash@4.17.15"]
        );
        assert!(pnpm_lock("packages: {}\n")
            .unwrap_err()
            .contains("lockfileVersion"));
        assert!(pnpm_lock("lockfileVersion: '9.0'\n").unwrap().is_empty());
    }

    #[test]
    fn parses_uv_lockfiles_without_the_project_itself() {
        let lock = "version = 1\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n\n[[package]]\nname = \"requests\"\nversion = \"2.25.1\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"tool\"\nsource = { virtual = \"tools\" }\n";
        assert_eq!(names(uv_lock(lock).unwrap()), ["requests@2.25.1"]);
        assert!(
            uv_lock("version = 1\n[[package]]\nname = \"x\"\nsource = { registry = \"r\" }\n")
                .unwrap_err()
                .contains("no version")
        );
    }

    #[test]
    fn go_mod_gives_the_selected_versions() {
        // Go 1.17+: go.mod lists every module of the build; go.sum's other
        // versions (looked at, not selected) are not packages.
        let gomod = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text v0.3.7\n\tgithub.com/a/b v1.2.0 // indirect\n\tgithub.com/local/x v0.1.0\n)\n\nrequire gopkg.in/yaml.v3 v3.0.0\n\nreplace github.com/a/b v1.2.0 => github.com/fork/b v1.2.1\nreplace github.com/local/x => ../x\n";
        let gosum = "golang.org/x/text v0.3.0/go.mod h1:a=\ngolang.org/x/text v0.3.7 h1:b=\n";
        assert_eq!(
            names(go_mod(gomod, Some(gosum)).unwrap()),
            [
                "github.com/fork/b@v1.2.1",
                "golang.org/x/text@v0.3.7",
                "gopkg.in/yaml.v3@v3.0.0"
            ]
        );
        // Before 1.17 go.sum completes the list with the highest version
        // whose source was downloaded.
        let old = "module example.com/app\ngo 1.16\nrequire golang.org/x/text v0.3.5\n";
        let sum = "golang.org/x/text v0.3.5 h1:a=\ngolang.org/x/text v0.3.7 h1:b=\ngolang.org/x/net v0.1.0/go.mod h1:c=\ngolang.org/x/net v0.0.9 h1:d=\n";
        assert_eq!(
            names(go_mod(old, Some(sum)).unwrap()),
            ["golang.org/x/net@v0.0.9", "golang.org/x/text@v0.3.7"]
        );
        assert!(go_mod(old, None).unwrap_err().contains("no go.sum"));
    }

    #[test]
    fn parses_nuget_lockfiles_without_projects() {
        let lock = r#"{"version": 1, "dependencies": {"net8.0": {"Newtonsoft.Json": {"type": "Direct", "requested": "[12.0.1, )", "resolved": "12.0.1", "contentHash": "x"}, "System.Text.Json": {"type": "Transitive", "resolved": "8.0.0"}, "Shared": {"type": "Project", "dependencies": {"Newtonsoft.Json": "[12.0.1, )"}}}, "net6.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "12.0.1"}}}}"#;
        assert_eq!(
            names(sorted(nuget_lock(lock).unwrap())),
            ["Newtonsoft.Json@12.0.1", "System.Text.Json@8.0.0"]
        );
        assert!(nuget_lock(r#"{"version": 1}"#).is_err());
        assert!(
            nuget_lock(r#"{"dependencies": {"net8.0": {"A": {"type": "Direct"}}}}"#)
                .unwrap_err()
                .contains("A has no resolved version")
        );
    }

    #[test]
    fn parses_composer_and_gradle_lockfiles() {
        let composer = r#"{"_readme": [], "packages": [{"name": "symfony/http-kernel", "version": "v5.4.20"}, {"name": "acme/lib", "version": "dev-main"}], "packages-dev": [{"name": "phpunit/phpunit", "version": "9.6.3"}]}"#;
        assert_eq!(
            names(composer_lock(composer).unwrap()),
            [
                "acme/lib@dev-main",
                "phpunit/phpunit@9.6.3",
                "symfony/http-kernel@v5.4.20"
            ]
        );
        let gradle = "# This is a Gradle generated file for dependency locking.\n# Manual edits can break the build and are not advised.\n# This file is expected to be part of source control.\ncom.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\norg.apache.logging.log4j:log4j-core:2.14.1=runtimeClasspath\nempty=annotationProcessor\n";
        assert_eq!(
            names(gradle_lockfile(gradle).unwrap()),
            [
                "com.google.guava:guava@31.1-jre",
                "org.apache.logging.log4j:log4j-core@2.14.1"
            ]
        );
    }

    #[test]
    fn parses_each_format() {
        assert_eq!(
            names(
                toml_packages("version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\n")
                    .unwrap()
            ),
            ["time@0.1.45"]
        );
        let v3 = r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15"}, "node_modules/a/node_modules/@scope/b": {"version": "1.0.0"}, "node_modules/linked": {"link": true}}}"#;
        assert_eq!(
            names(package_lock(v3).unwrap()),
            ["@scope/b@1.0.0", "lodash@4.17.15"]
        );
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {"lodash": {"version": "4.17.15", "dependencies": {"x": {"version": "1.0.0"}}}}}"#;
        assert_eq!(
            names(package_lock(v1).unwrap()),
            ["lodash@4.17.15", "x@1.0.0"]
        );
        let yarn = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.8.3\":\n  version \"7.8.3\"\n  resolved \"x\"\n\nlodash@^4.17.15:\n  version \"4.17.15\"\n";
        assert_eq!(
            names(yarn_lock(yarn).unwrap()),
            ["@babel/code-frame@7.8.3", "lodash@4.17.15"]
        );
        let req = "# pinned\nDjango==3.2.1 ; python_version >= '3.8'\nrequests[socks]==2.25.1 \\\n    --hash=sha256:abc\nflask>=2.0\n-r other.txt\n";
        assert_eq!(
            names(requirements(req)),
            ["Django@3.2.1", "requests@2.25.1"]
        );
        let gem = "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n";
        assert_eq!(
            names(gemfile_lock(gem).unwrap()),
            ["nokogiri@1.13.10", "rack@2.2.3"]
        );
        let mix = "%{\n  \"plug\": {:hex, :plug, \"1.14.0\", \"abc\", [:mix], [], \"hexpm\", \"def\"},\n}\n";
        assert_eq!(names(mix_lock(mix).unwrap()), ["plug@1.14.0"]);
    }

    #[test]
    fn bad_input_is_an_error_not_a_silent_pass() {
        assert!(package_lock("{\"packages\": {\"node_modules/a\": {\"version\"").is_err());
        assert!(toml_packages("[[package]\nname=").is_err());
        assert!(go_mod("module x\ngo 1.21\nrequire (\n  a v1\n", None).is_err());
        assert!(go_mod("module x\nrequire a\n", None).is_err());
        assert!(go_mod("module x\n", None).is_err());
        assert!(go_mod("module x\ngo 1.16\n", Some("only-one-field\n")).is_err());
        assert!(composer_lock("{\"packages\": [{\"name\": \"a/b\"}]}").is_err());
        assert!(composer_lock("{}").is_err());
        assert!(gradle_lockfile("com.example:lib=runtimeClasspath\n").is_err());
        assert!(yarn_lock("this is not a lockfile at all").is_err());
    }
}
