//! Lockfile parsers: Cargo.lock, package-lock.json (v1, v2, v3), yarn.lock
//! (v1 and berry), poetry.lock, requirements.txt (pinned `==` lines), go.sum,
//! Gemfile.lock and mix.lock. Each returns the resolved packages or an error
//! naming the file and the reason.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::versions::Ecosystem;
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
    ("go.sum", Ecosystem::Go),
    ("Gemfile.lock", Ecosystem::RubyGems),
    ("mix.lock", Ecosystem::Hex),
];

pub fn ecosystem_of(path: &Path) -> Option<Ecosystem> {
    let name = path.file_name()?.to_str()?;
    LOCKFILES.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// Largest lockfile read.
const MAX_LOCKFILE: u64 = 64 * 1024 * 1024;

/// Parses a lockfile by its file name.
pub fn parse_lockfile(path: &Path) -> Result<(Ecosystem, Vec<Package>), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let eco = ecosystem_of(path)
        .ok_or_else(|| format!("{}: not a known lockfile name", path.display()))?;
    let text = read_text(path, MAX_LOCKFILE)?;
    let packages =
        parse_lockfile_text(name, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((eco, packages))
}

/// Parses a lockfile's text by its file name (`Cargo.lock`, `yarn.lock` ...),
/// sorted and without duplicates.
pub fn parse_lockfile_text(name: &str, text: &str) -> Result<Vec<Package>, String> {
    let mut packages = match name {
        "Cargo.lock" | "poetry.lock" => toml_packages(text)?,
        "package-lock.json" => package_lock(text)?,
        "yarn.lock" => yarn_lock(text)?,
        "pnpm-lock.yaml" => pnpm_lock(text)?,
        "uv.lock" => uv_lock(text)?,
        "requirements.txt" => requirements(text),
        "go.sum" => go_sum(text)?,
        "Gemfile.lock" => gemfile_lock(text)?,
        "mix.lock" => mix_lock(text)?,
        _ => return Err("not a known lockfile name".into()),
    };
    packages.sort();
    packages.dedup();
    Ok(packages)
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
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("invalid JSON at line {}: {e}", e.line()))?;
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

fn go_sum(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(module), Some(version), Some(hash)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("line {} is not `module version hash`", n + 1));
        };
        if !hash.starts_with("h1:") {
            return Err(format!("line {} has no h1: hash", n + 1));
        }
        out.push(Package {
            name: module.to_owned(),
            version: version.trim_end_matches("/go.mod").to_owned(),
        });
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
        let gosum = "golang.org/x/text v0.3.7 h1:abc=\ngolang.org/x/text v0.3.7/go.mod h1:def=\n";
        assert_eq!(
            names(go_sum(gosum).unwrap()),
            ["golang.org/x/text@v0.3.7", "golang.org/x/text@v0.3.7"]
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
        assert!(go_sum("only-one-field\n").is_err());
        assert!(yarn_lock("this is not a lockfile at all").is_err());
    }
}
