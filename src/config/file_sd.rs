//! `file_sd_configs`: targets listed in files of Prometheus' `file_sd`
//! format (`[{targets: [host:port], labels: {...}}]`, JSON or YAML), each
//! address made into a target from the entry's template. The files matched
//! and their versions are recorded, so the daemon reloads when they change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use super::errors::{without_values, Problems};
use super::labels::check_label_names;
use super::schema::{FileSdConfig, TargetSpec, ADDRESS_PLACEHOLDER};
use super::secrets::resolve_target_secrets;
use crate::redact::Redactor;

/// A file and its version when it was read (`None`: unreadable).
pub type FileStamp = (PathBuf, Option<(SystemTime, u64)>);

/// Largest file_sd file read, in bytes.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One target group of a file_sd file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Where the targets of `file_sd_configs` go while a config loads.
pub(crate) struct Discovered<'a> {
    pub targets: &'a mut BTreeMap<String, TargetSpec>,
    pub labels: &'a mut BTreeMap<String, BTreeMap<String, String>>,
    pub problems: &'a mut Problems,
    pub redactor: &'a mut Redactor,
}

/// A pattern of `files`, resolved against the config file's directory.
/// Wildcards are allowed in the file name only, as in Prometheus.
fn resolve_pattern(base: &Path, pattern: &str) -> Result<PathBuf, String> {
    if pattern.is_empty() {
        return Err("is empty".into());
    }
    let path = base.join(pattern);
    let wild = |s: &str| s.contains(['*', '?', '[']);
    if path
        .parent()
        .is_some_and(|dir| wild(&dir.to_string_lossy()))
    {
        return Err(format!(
            "{pattern:?} has a wildcard in a directory; only the file name may have one (targets/*.json)"
        ));
    }
    glob::Pattern::new(&path.to_string_lossy())
        .map_err(|e| format!("{pattern:?} is not a valid pattern: {e}"))?;
    Ok(path)
}

/// The files the patterns match now, sorted, each with its version.
pub fn matched_files(patterns: &[PathBuf]) -> Vec<FileStamp> {
    let mut files: Vec<PathBuf> = patterns
        .iter()
        .filter_map(|p| glob::glob(&p.to_string_lossy()).ok())
        .flat_map(|paths| paths.filter_map(Result::ok))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.dedup();
    files
        .into_iter()
        .map(|p| {
            let version = crate::files::version(&p);
            (p, version)
        })
        .collect()
}

/// An address as file_sd lists it: `host`, `host:port` or `[v6]:port`.
/// Nothing that could change the URL's origin or credentials (`@`, `/`,
/// `?`, `#`, spaces) is accepted.
fn address_problem(address: &str) -> Option<&'static str> {
    let (host_ok, port) = if let Some(rest) = address.strip_prefix('[') {
        let Some((v6, tail)) = rest.split_once(']') else {
            return Some("has an unclosed [");
        };
        let port = match tail {
            "" => None,
            tail => match tail.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Some("has text after ]"),
            },
        };
        let ok = !v6.is_empty()
            && v6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'));
        (ok, port)
    } else {
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (address, None),
        };
        let ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        (ok, port)
    };
    if !host_ok {
        return Some("must be host, host:port or [ipv6]:port (letters, digits, . - _)");
    }
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Some("has a port that is not a number from 0 to 65535");
    }
    None
}

/// Reads one file's groups.
fn read_groups(file: &Path) -> Result<Vec<Group>, String> {
    let size = std::fs::metadata(file)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "has {size} bytes, more than the {MAX_FILE_BYTES} read"
        ));
    }
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    match file.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text)
            .map_err(|e| format!("invalid file_sd JSON: {}", without_values(&e.to_string()))),
        Some("yml" | "yaml") => {
            crate::yaml::from_str(&text).map_err(|e| format!("invalid file_sd YAML: {e}"))
        }
        _ => Err("must end in .json, .yml or .yaml".into()),
    }
}

/// Loads the targets of `file_sd_configs[index]`: each address becomes a
/// target named after it. Returns the resolved patterns and the files read
/// (stamped before reading), for watching.
pub(crate) fn load_file_sd(
    base: &Path,
    index: usize,
    sd: &FileSdConfig,
    out: &mut Discovered<'_>,
) -> (Vec<PathBuf>, Vec<FileStamp>) {
    let place = format!("file_sd_configs[{index}]");
    let mut patterns = Vec::new();
    if sd.files.is_empty() {
        out.problems
            .push(&place, "files", "list at least one file or pattern");
    }
    for (i, pattern) in sd.files.iter().enumerate() {
        match resolve_pattern(base, pattern) {
            Ok(p) => patterns.push(p),
            Err(e) => out.problems.push(&place, &format!("files[{i}]"), e),
        }
    }
    if sd.refresh_interval.0 < std::time::Duration::from_secs(1) {
        out.problems
            .push(&place, "refresh_interval", "must be at least 1s");
    }
    check_label_names(sd.labels.keys(), &place, "labels", out.problems);
    let mut template = sd.target.clone();
    if template.with_address("example:1").is_none() {
        out.problems.push(
            &place,
            "target",
            format!("the target's url (or path) must contain {ADDRESS_PLACEHOLDER}, where each address goes"),
        );
        return (patterns, Vec::new());
    }
    // Secret files are read once for all addresses.
    resolve_target_secrets(&mut template, &place, out.problems, out.redactor);
    let files = matched_files(&patterns);
    for (file, _) in &files {
        let shown = file.display().to_string();
        let groups = match read_groups(file) {
            Ok(g) => g,
            Err(e) => {
                out.problems.push(&place, &format!("file {shown}"), e);
                continue;
            }
        };
        for (g, group) in groups.into_iter().enumerate() {
            let at = format!("file {shown}: [{g}]");
            let mut labels = sd.labels.clone();
            labels.extend(group.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            check_label_names(
                group.labels.keys(),
                &place,
                &format!("{at}.labels"),
                out.problems,
            );
            for (t, address) in group.targets.iter().enumerate() {
                let field = format!("{at}.targets[{t}]");
                if let Some(why) = address_problem(address) {
                    out.problems.push(&place, &field, format!("address {why}"));
                    continue;
                }
                if out.targets.contains_key(address) {
                    out.problems.push(
                        &place,
                        &field,
                        format!("target {address:?} is defined twice (in targets: or another file_sd group)"),
                    );
                    continue;
                }
                let Some(spec) = template.with_address(address) else {
                    continue;
                };
                if let Some(url) = spec.url() {
                    out.redactor.add_url_password(url);
                }
                out.labels.insert(address.clone(), labels.clone());
                out.targets.insert(address.clone(), spec);
            }
        }
    }
    (patterns, files)
}

#[cfg(test)]
mod tests {
    use super::address_problem;

    #[test]
    fn addresses_cannot_change_origin_or_credentials() {
        for ok in [
            "shop.internal",
            "shop.internal:443",
            "10.0.0.1:9100",
            "[::1]:8080",
            "[::1]",
            "a_b-c",
        ] {
            assert_eq!(address_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "user:pw@host",
            "host/path",
            "host?x=1",
            "host#x",
            "host :80",
            "host:http",
            "host:70000",
            "[::1",
            "[zz]:80",
            "[::1]x",
            "evil.com@shop",
        ] {
            assert!(address_problem(bad).is_some(), "{bad}");
        }
    }
}
