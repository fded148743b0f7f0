//! `go.mod`, with `go.sum` for modules before Go 1.17, and the standard
//! library as the `toolchain` (else `go`) directive selects it.

use crate::scan::deps::versions::{compare, Ecosystem};
use crate::scan::deps::{Package, Read};

/// The Go version a go.mod without a `go` directive is read as: "If the go
/// directive is missing, go 1.16 is assumed" (the Go modules reference).
const DEFAULT_GO: &str = "1.16";

/// A Go version as OSV writes the standard library's (`1.22.3`; `1.21` is
/// `1.21.0`), from `1.22.3`, `go1.22.3` or `1.21rc1` (the numbers lead).
fn osv_go_version(text: &str) -> Option<String> {
    match go_numbers(text)?.as_slice() {
        [major, minor] => Some(format!("{major}.{minor}.0")),
        [major, minor, patch] => Some(format!("{major}.{minor}.{patch}")),
        _ => None,
    }
}

/// The numbers that lead a Go version (`1.21.0`, `go1.22rc1` -> 1, 22).
fn go_numbers(text: &str) -> Option<Vec<u64>> {
    text.trim()
        .trim_start_matches("go")
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap_or_default()
        .split('.')
        .map(|p| p.parse().ok())
        .collect()
}

/// A go.mod `replace`: the module (and version, when given) replaced, and the
/// module and version it is replaced by (`None`: a local directory).
type Replace = (String, Option<String>, Option<(String, String)>);

/// The modules a Go build selects, from `go.mod`. Since Go 1.17 (`go 1.17`
/// or later) go.mod requires every module the build needs, indirect ones
/// included, at the version minimal version selection picked. Before that it
/// lists only direct requirements, so `go.sum` fills in: before graph
/// pruning go.sum holds a hash of every module version in the module graph
/// (the `/go.mod` lines), and minimal version selection picks each module's
/// highest, as `go list -m all` lists it (whether or not a package of it is
/// built, which only the source hash would say). `replace` directives are
/// applied; a module replaced by a local directory is no registry version.
pub(super) fn go_mod(text: &str, go_sum: Option<&str>) -> Result<Read, String> {
    let mut go_version: Option<Vec<u64>> = None;
    let mut go_text: Option<String> = None;
    let mut toolchain: Option<String> = None;
    let mut read = Read::default();
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
            "toolchain" => toolchain = Some(rest.to_owned()),
            "go" => {
                go_text = Some(rest.to_owned());
                go_version = Some(go_numbers(rest).ok_or_else(bad)?);
            }
            // One odd requirement is listed, not a reason to read nothing.
            "require" => match fields.as_slice() {
                [module, version] => required.push(((*module).to_owned(), (*version).to_owned())),
                _ => read.unjudged.push(bad()),
            },
            "replace" => match replace(&fields) {
                Some(r) => replaces.push(r),
                None => read.unjudged.push(bad()),
            },
            _ => {}
        }
    }
    if block.is_some() {
        return Err("a `(` block is not closed".into());
    }
    if go_text.is_none() && required.is_empty() && !text.contains("module ") {
        return Err("no `module` or `go` directive; is this a go.mod?".into());
    }
    let go_version = go_version.unwrap_or_else(|| vec![1, 16]);
    if go_version < vec![1, 17] {
        match go_sum {
            Some(sum) => {
                for (module, version) in go_sum_selected(sum, &mut read.unjudged) {
                    keep_highest(&mut required, &module, &version);
                }
            }
            None => read.unjudged.push(format!(
                "indirect requirements: go.mod says `go {}` (before Go 1.17 it lists only direct requirements) and there is no go.sum next to it to read the others from",
                go_version.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
            )),
        }
    }
    // The standard library is a package with advisories of its own.
    let selected = toolchain
        .as_deref()
        .or(go_text.as_deref())
        .unwrap_or(DEFAULT_GO);
    match osv_go_version(selected) {
        Some(v) => read.packages.push(Package::new("stdlib", v)),
        None => read
            .unjudged
            .push(format!("stdlib (cannot read the Go version {selected:?})")),
    }
    let mut out = Vec::new();
    for (module, version) in required {
        let replace = replaces
            .iter()
            .find(|(m, v, _)| *m == module && v.as_ref().is_none_or(|v| *v == version));
        match replace {
            Some((_, _, None)) => read.unjudged.push(format!(
                "{module}@{version} (replaced by a local directory)"
            )),
            Some((_, _, Some((name, version)))) => out.push(Package {
                name: name.clone(),
                version: version.clone(),
                alias: None,
            }),
            None => out.push(Package {
                name: module,
                version,
                alias: None,
            }),
        }
    }
    read.packages.extend(out);
    Ok(read)
}

/// A `replace` directive's fields (`old [version] => new [version]`).
fn replace(fields: &[&str]) -> Option<Replace> {
    let arrow = fields.iter().position(|f| *f == "=>")?;
    let (old, new) = fields.split_at(arrow);
    let target = match &new[1..] {
        [module, version] => Some(((*module).to_owned(), (*version).to_owned())),
        [_path] => None,
        _ => return None,
    };
    let old_version = old.get(1).map(|v| (*v).to_owned());
    Some(((*old.first()?).to_owned(), old_version, target))
}

/// Per module, the highest version go.sum holds a hash of (its source or
/// its go.mod: both say the version is in the module graph).
/// A line that is not `module version h1:hash` is listed in `odd`.
fn go_sum_selected(text: &str, odd: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(module), Some(version), Some(hash)) = (parts.next(), parts.next(), parts.next())
        else {
            odd.push(format!("go.sum line {}: not `module version hash`", n + 1));
            continue;
        };
        if !hash.starts_with("h1:") {
            odd.push(format!("go.sum line {}: no h1: hash", n + 1));
            continue;
        }
        keep_highest(&mut out, module, version.trim_end_matches("/go.mod"));
    }
    out
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
