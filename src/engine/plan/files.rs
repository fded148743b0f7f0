//! The files a plan's checks name in their params: those read while
//! built (`KindInfo::files`, digested for reloads) and those read at every
//! evaluation (`KindInfo::reads`, which `validate` notes when missing),
//! resolved against a check's path target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{CheckSpec, TargetSpec};

use super::Plan;

impl Plan {
    /// The files checks read at every evaluation (`KindInfo::reads`) that
    /// do not exist, as `check NAME: params.FIELD: PATH does not exist`.
    /// Needs the params: a one-shot command's plan (not released).
    pub fn missing_read_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.checks {
            let Some(params) = c.spec.params.value() else {
                continue;
            };
            let base = path_base(&c.spec, &self.config.targets);
            for field in c.kind.reads {
                for (place, path) in param_paths(params, field) {
                    let path = PathBuf::from(path);
                    let path = match base.filter(|_| path.is_relative()) {
                        Some(base) => base.join(&path),
                        None => path,
                    };
                    if !path.exists() {
                        out.push(format!(
                            "check {}: params.{place}: {} does not exist",
                            c.spec.name,
                            path.display()
                        ));
                    }
                }
            }
        }
        out
    }
}

/// The directory of a check's path target, against which its relative
/// file params are read.
pub(super) fn path_base<'a>(
    spec: &CheckSpec,
    targets: &'a BTreeMap<String, TargetSpec>,
) -> Option<&'a Path> {
    match targets.get(spec.target.as_ref()?)? {
        TargetSpec::Path(dir) => Some(dir.as_path()),
        _ => None,
    }
}

/// The files a check's kind declares it reads while built (`KindInfo::files`),
/// as its params name them (relative ones against its path target's
/// directory too). A check of an unknown kind reads none.
pub(super) fn check_files(spec: &CheckSpec, base: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Some(kind) = crate::engine::kinds::lookup_kind(&spec.kind) else {
        return out;
    };
    // Only the specs of a config being loaded are read here, whose params
    // the plan has not released yet.
    let Some(params) = spec.params.value() else {
        return out;
    };
    for field in kind.files {
        for (_, path) in param_paths(params, field) {
            let path = PathBuf::from(path);
            if let Some(base) = base.filter(|_| path.is_relative()) {
                out.push(base.join(&path));
            }
            out.push(path);
        }
    }
    out
}

/// The non-empty strings a dotted param path names, with where each is
/// (`files[1].schema`): `[]` steps into every element of a list, and a
/// list of strings at the end of the path gives each of its strings.
fn param_paths(params: &serde_json::Value, field: &str) -> Vec<(String, String)> {
    let mut at: Vec<(String, &serde_json::Value)> = vec![(String::new(), params)];
    for segment in field.split('.') {
        let (key, each) = match segment.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (segment, false),
        };
        let mut next = Vec::new();
        for (place, v) in at {
            let place = if place.is_empty() {
                key.to_owned()
            } else {
                format!("{place}.{key}")
            };
            match (v.get(key), each) {
                (Some(serde_json::Value::Array(items)), true) => next.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| (format!("{place}[{i}]"), item)),
                ),
                (Some(found), false) => next.push((place, found)),
                _ => {}
            }
        }
        at = next;
    }
    at.into_iter()
        .flat_map(|(place, v)| match v {
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| Some((format!("{place}[{i}]"), item.as_str()?.to_owned())))
                .collect(),
            _ => v
                .as_str()
                .map(|p| (place, p.to_owned()))
                .into_iter()
                .collect::<Vec<_>>(),
        })
        .filter(|(_, p)| !p.is_empty())
        .collect()
}
