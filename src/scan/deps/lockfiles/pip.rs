//! Python's pip files: requirements files as pip reads them (`-r` includes,
//! `-c` constraints, `\` continuations, environment markers, `--hash`
//! options, extras, comments), and Pipenv's `Pipfile.lock` (`default` and
//! `develop`). Only an exact pin (`==`, `===`, or a constraint pinning an
//! unpinned requirement) is a version; every other line that names a
//! package (a range, a bare name, a URL, an editable checkout) is unjudged.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::scan::deps::{parse_json, Package, Read};

/// How deep `-r`/`-c` includes are followed (pip has no limit; a cycle or a
/// runaway chain is an error here, not a hang).
const MAX_INCLUDE_DEPTH: usize = 8;

/// One requirement line after pip's own preprocessing.
#[derive(Debug, PartialEq, Eq)]
enum Line<'t> {
    Include {
        constraint: bool,
        file: &'t str,
    },
    Pinned {
        name: String,
        version: String,
    },
    /// Names a package without pinning it (a range, a bare name).
    Unpinned {
        name: String,
        spec: String,
    },
    /// Installs something no registry version describes.
    Other(String),
    Ignored,
}

/// A PEP 503 normalised name (`Flask_Login` and `flask-login` are one).
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// pip's logical lines, as pip joins them: a line ending in `\` continues
/// into the next (the backslash dropped, nothing added between them),
/// unless it is a comment line; comments (a `#` at the start or after
/// whitespace) are removed after joining, so a comment ending in `\`
/// after a requirement swallows the next line as pip does.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let is_comment = |l: &str| l.trim_start().starts_with('#');
    let mut out = Vec::new();
    let mut joined: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        if !line.ends_with('\\') || is_comment(line) {
            match joined.take() {
                Some((start, mut head)) => {
                    head.push_str(line);
                    out.push((start, strip_comment(&head)));
                }
                None => out.push((n + 1, strip_comment(line))),
            }
        } else {
            joined
                .get_or_insert_with(|| (n + 1, String::new()))
                .1
                .push_str(line.trim_matches('\\'));
        }
    }
    if let Some((start, head)) = joined {
        out.push((start, strip_comment(&head)));
    }
    out
}

/// A line without its comment: from a `#` at the start or after whitespace.
fn strip_comment(line: &str) -> String {
    let bytes = line.as_bytes();
    let cut = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    cut.map_or(line, |i| &line[..i]).trim().to_owned()
}

fn classify(line: &str) -> Line<'_> {
    let line = line.trim();
    if line.is_empty() {
        return Line::Ignored;
    }
    for (flag, constraint) in [
        ("-r", false),
        ("--requirement", false),
        ("-c", true),
        ("--constraint", true),
    ] {
        if let Some(rest) = line.strip_prefix(flag) {
            if rest.starts_with([' ', '=', '\t']) {
                let file = rest.trim_start_matches(['=', ' ', '\t']).trim();
                return Line::Include { constraint, file };
            }
        }
    }
    if line.starts_with("-e") || line.starts_with("--editable") {
        return Line::Other(line.to_owned());
    }
    if line.starts_with('-') {
        // --index-url, --hash on its own line, -f ...: options, no package.
        return Line::Ignored;
    }
    // Drop environment markers and per-requirement options.
    let spec = line.split(';').next().unwrap_or(line);
    let spec = spec.split(" --").next().unwrap_or(spec).trim();
    if spec.contains("://")
        || spec.contains(" @ ")
        || spec.starts_with('.')
        || spec.starts_with('/')
    {
        return Line::Other(spec.to_owned());
    }
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    if name.is_empty() {
        return Line::Other(spec.to_owned());
    }
    let mut rest = spec[name_end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    let pin = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.contains([',', '*', '<', '>', '!', '~']));
    match pin {
        // What pip refuses as a version (`3.0.0#comment`, `'1.0'`): not
        // read as one.
        Some(version)
            if !version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '_' | '-'))
                || !version.starts_with(|c: char| c.is_ascii_alphanumeric()) =>
        {
            Line::Other(format!("{spec} (a version pip refuses)"))
        }
        Some(version) => Line::Pinned {
            name: name.to_owned(),
            version: version.to_owned(),
        },
        None => Line::Unpinned {
            name: name.to_owned(),
            spec: spec.to_owned(),
        },
    }
}

/// What a requirements file and its includes hold.
#[derive(Default)]
struct Collected {
    read: Read,
    /// From `-c` files: normalised name -> pinned version.
    constraints: BTreeMap<String, String>,
    unpinned: Vec<(String, String, String)>,
}

fn collect(
    text: &str,
    shown: &str,
    dir: Option<&Path>,
    constraint: bool,
    depth: usize,
    out: &mut Collected,
) -> Result<(), String> {
    for (n, line) in logical_lines(text) {
        match classify(&line) {
            Line::Ignored => {}
            Line::Include {
                constraint: c,
                file,
            } => {
                let Some(dir) = dir else {
                    out.read.unjudged.push(format!(
                        "{shown}:{n}: include {file} (not followed: no file location)"
                    ));
                    continue;
                };
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(format!(
                        "{shown}:{n}: includes nested deeper than {MAX_INCLUDE_DEPTH} (a cycle?)"
                    ));
                }
                let path = dir.join(file);
                let text = crate::files::read_text_bom(&path, 16 * 1024 * 1024)
                    .map_err(|e| format!("{shown}:{n}: {e}"))?;
                let inner = path.display().to_string();
                collect(
                    &text,
                    &inner,
                    path.parent(),
                    constraint || c,
                    depth + 1,
                    out,
                )?;
            }
            Line::Pinned { name, version } if constraint => {
                out.constraints.insert(normalise(&name), version);
            }
            Line::Pinned { name, version } => out.read.packages.push(Package::new(name, version)),
            Line::Unpinned { .. } if constraint => {}
            Line::Unpinned { name, spec } => {
                out.unpinned.push((format!("{shown}:{n}"), name, spec))
            }
            Line::Other(_) if constraint => {}
            Line::Other(what) if what.ends_with(')') => {
                out.read.unjudged.push(format!("{shown}:{n}: {what}"))
            }
            Line::Other(what) => out
                .read
                .unjudged
                .push(format!("{shown}:{n}: {what} (not a registry version)")),
        }
    }
    Ok(())
}

fn finish(mut c: Collected) -> Read {
    for (at, name, spec) in c.unpinned {
        // `bleach[css]` beside `bleach==6.3.0`: the pin decides the version.
        let pinned_here = c
            .read
            .packages
            .iter()
            .any(|p| normalise(&p.name) == normalise(&name));
        if pinned_here {
            continue;
        }
        match c.constraints.get(&normalise(&name)) {
            Some(version) => c.read.packages.push(Package::new(name, version.clone())),
            None => c.read.unjudged.push(format!(
                "{at}: {spec} (not pinned: which version is installed is unknown)"
            )),
        }
    }
    c.read
}

/// A requirements file's text alone (includes are listed, not followed).
pub(super) fn requirements(text: &str) -> Result<Read, String> {
    let mut c = Collected::default();
    collect(text, "requirements", None, false, 0, &mut c)?;
    Ok(finish(c))
}

/// A requirements file and everything it includes, relative to its directory.
pub(super) fn requirements_file(path: &Path, text: &str) -> Result<Read, String> {
    let mut c = Collected::default();
    let shown = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    collect(text, &shown, path.parent(), false, 0, &mut c)?;
    Ok(finish(c))
}

/// Pipenv's `Pipfile.lock`: `default` and `develop`, each package's
/// `version` (`==1.2.3`); git, path and file entries are unjudged.
pub(super) fn pipfile_lock(text: &str) -> Result<Read, String> {
    let doc = parse_json(text)?;
    let mut read = Read::default();
    let mut sections = 0;
    for section in ["default", "develop"] {
        let Some(entries) = doc.get(section).and_then(Value::as_object) else {
            continue;
        };
        sections += 1;
        for (name, entry) in entries {
            match entry.get("version").and_then(Value::as_str) {
                Some(v) if v.starts_with("==") => {
                    read.packages
                        .push(Package::new(name, v.trim_start_matches('=').trim()));
                }
                _ => {
                    let source = ["git", "path", "file", "editable"]
                        .into_iter()
                        .find(|k| entry.get(*k).is_some())
                        .unwrap_or("no pinned version");
                    read.unjudged.push(format!(
                        "{section}: {name} ({source}: not a registry version)"
                    ));
                }
            }
        }
    }
    if sections == 0 {
        return Err("neither \"default\" nor \"develop\" found; is this a Pipfile.lock?".into());
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(read: &Read) -> Vec<String> {
        let mut v: Vec<String> = read.packages.iter().map(|p| p.shown()).collect();
        v.sort();
        v
    }

    #[test]
    fn pip_reads_continuations_markers_hashes_and_extras() {
        let text = "# pinned by pip-compile\nrequests[socks]==2.31.0 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\nurllib3==1.26.5 ; python_version < \"3.10\"\nDjango===4.2.1  # LTS\n--index-url https://pypi.org/simple\n";
        let read = requirements(text).unwrap();
        assert_eq!(
            shown(&read),
            ["Django@4.2.1", "requests@2.31.0", "urllib3@1.26.5"]
        );
        assert!(read.unjudged.is_empty(), "{:?}", read.unjudged);
    }

    /// The shapes pip reads differently from a naive reader.
    #[test]
    fn continuations_comments_extras_and_refused_versions_as_pip_reads_them() {
        let text = "bar == 4.5\\\n.6\nfoo==1.0 # see notes \\\ninvented==9\n# a comment \\\nkept==2.0\nbleach==6.3.0\nbleach[css]\nJinja2==3.0.0#comment\nquoted=='1.0'\n";
        let read = requirements(text).unwrap();
        assert_eq!(
            shown(&read),
            ["bar@4.5.6", "bleach@6.3.0", "foo@1.0", "kept@2.0"]
        );
        assert_eq!(read.unjudged.len(), 2, "{:#?}", read.unjudged);
        assert!(
            read.unjudged
                .iter()
                .all(|u| u.contains("a version pip refuses")),
            "{:#?}",
            read.unjudged
        );
    }

    #[test]
    fn unpinned_and_non_registry_lines_are_unjudged_not_dropped() {
        let text = "flask>=2.0\ncryptography~=41.0\nnumpy==1.26.*\njinja2\n-e git+https://example.com/x.git#egg=x\nmylib @ https://example.com/mylib.whl\n./local-pkg\n";
        let read = requirements(text).unwrap();
        assert!(read.packages.is_empty(), "{:?}", read.packages);
        assert_eq!(read.unjudged.len(), 7, "{:#?}", read.unjudged);
        assert!(
            read.unjudged[0].contains("flask>=2.0")
                || read
                    .unjudged
                    .iter()
                    .any(|u| u.contains("flask>=2.0 (not pinned"))
        );
    }

    #[test]
    fn includes_and_constraints_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("requirements")).unwrap();
        std::fs::write(
            d.join("requirements/base.txt"),
            "flask\nitsdangerous==2.1.2\n",
        )
        .unwrap();
        std::fs::write(d.join("constraints.txt"), "flask==2.0.1\nwerkzeug==2.0.2\n").unwrap();
        let top = d.join("requirements.txt");
        let text = "-r requirements/base.txt\n-c constraints.txt\nwerkzeug\n";
        std::fs::write(&top, text).unwrap();
        let read = requirements_file(&top, text).unwrap();
        assert_eq!(
            shown(&read),
            ["flask@2.0.1", "itsdangerous@2.1.2", "werkzeug@2.0.2"]
        );
        assert!(read.unjudged.is_empty(), "{:?}", read.unjudged);
        // A cycle is an error naming where, not a hang.
        std::fs::write(d.join("a.txt"), "-r b.txt\n").unwrap();
        std::fs::write(d.join("b.txt"), "-r a.txt\n").unwrap();
        let err = requirements_file(&d.join("a.txt"), "-r b.txt\n").unwrap_err();
        assert!(err.contains("deeper than"), "{err}");
    }

    #[test]
    fn pipfile_locks_read_default_and_develop() {
        let text = r#"{"_meta": {"hash": {"sha256": "x"}}, "default": {"requests": {"hashes": ["sha256:a"], "version": "==2.31.0"}, "mylib": {"git": "https://example.com/mylib.git", "ref": "abc"}}, "develop": {"pytest": {"version": "==7.4.0"}}}"#;
        let read = pipfile_lock(text).unwrap();
        assert_eq!(shown(&read), ["pytest@7.4.0", "requests@2.31.0"]);
        assert_eq!(read.unjudged.len(), 1);
        assert!(read.unjudged[0].contains("mylib (git"));
        assert!(pipfile_lock("{}").is_err());
    }
}
