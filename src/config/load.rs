//! Loading a config file: YAML read by `crate::yaml` into one tree,
//! `PRODREADY_*` overrides applied to it, `${VAR}` expansion, section by
//! section deserialization and the structural validation of check entries.
//! Collects every problem found.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::errors::{from_value, ConfigErrors, Problems};
use super::file_sd::{load_file_sd, matched_files, Discovered, FileStamp};
use super::labels::{check_label_names, check_labels};
use super::schema::{
    check_place, CheckEntry, CheckSpec, FileSdConfig, Global, TargetSelection, TargetSpec, Web,
};
use super::secrets::resolve_target_secrets;
use super::{expand, format_duration, process_env, ENV_PREFIX};
use crate::redact::Redactor;

/// A loaded, structurally valid configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub global: Global,
    pub web: Web,
    pub targets: BTreeMap<String, TargetSpec>,
    /// Each target's `labels` (from `targets:` or `file_sd_configs`).
    pub target_labels: BTreeMap<String, BTreeMap<String, String>>,
    pub checks: Vec<CheckSpec>,
    /// Accepted risks (`waivers:`), expired ones included.
    pub waivers: Vec<super::Waiver>,
    /// Every secret read while loading, to be kept out of all output.
    pub redactor: Redactor,
    /// What the config was read from, to tell cheaply whether a reload
    /// would read anything new.
    pub inputs: Inputs,
}

/// The config file's content digest and the version (modification time and
/// size) of every file the config names in a `*_file` key (secrets, CA
/// files, keys, baselines). The process environment does not change while
/// the daemon runs, so equal inputs load to an equal config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    digest: Vec<u8>,
    files: Vec<FileStamp>,
    /// The `file_sd_configs` patterns, the files they matched and the
    /// shortest `refresh_interval` of the entries.
    target_patterns: Vec<PathBuf>,
    target_files: Vec<FileStamp>,
    target_refresh: Option<Duration>,
}

impl Inputs {
    fn digest(text: &[u8]) -> Vec<u8> {
        ring::digest::digest(&ring::digest::SHA256, text)
            .as_ref()
            .to_vec()
    }

    fn of(digest: Vec<u8>, tree: &serde_json::Map<String, Value>) -> Inputs {
        fn walk(value: &Value, out: &mut Vec<PathBuf>) {
            match value {
                Value::Object(map) => {
                    for (key, v) in map {
                        match v {
                            Value::String(path) if key.ends_with("_file") && !path.is_empty() => {
                                out.push(PathBuf::from(path));
                            }
                            other => walk(other, out),
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut paths = Vec::new();
        for value in tree.values() {
            walk(value, &mut paths);
        }
        paths.sort();
        paths.dedup();
        Inputs {
            digest,
            files: paths
                .into_iter()
                .map(|p| {
                    let stamp = crate::files::version(&p);
                    (p, stamp)
                })
                .collect(),
            target_patterns: Vec::new(),
            target_files: Vec::new(),
            target_refresh: None,
        }
    }

    /// How often the target files are to be looked at; `None` without any.
    pub fn target_refresh(&self) -> Option<Duration> {
        self.target_refresh
    }

    /// The target files (`file_sd_configs`) as they are now, when they
    /// differ from those loaded: matched files added, removed or changed.
    pub fn target_files_changed(&self) -> Option<Vec<FileStamp>> {
        if self.target_patterns.is_empty() {
            return None;
        }
        let now = matched_files(&self.target_patterns);
        (now != self.target_files).then_some(now)
    }

    /// Whether `file` and the files named in it are still what was loaded.
    /// False when nothing was recorded (a config that failed to load).
    pub fn unchanged(&self, file: &Path) -> bool {
        !self.digest.is_empty()
            && std::fs::read(file).is_ok_and(|text| Self::digest(&text) == self.digest)
            && self
                .files
                .iter()
                .all(|(path, stamp)| crate::files::version(path) == *stamp)
            && self.target_files_changed().is_none()
    }
}

/// `PRODREADY_<SECTION>__<KEY>[__<KEY>...]=value` sets that (lowercased)
/// path of the config: `true`/`false` and numbers are read as such, anything
/// else as a string. Variables with the prefix but without `__` are not
/// overrides (`PRODREADY_ADVISORY_DB`).
fn apply_env_overrides(
    tree: &mut serde_json::Map<String, Value>,
    env: &[(String, String)],
    problems: &mut Problems,
) {
    let prefix = format!("{ENV_PREFIX}_");
    let mut overrides: Vec<&(String, String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix) && k.contains("__"))
        .collect();
    overrides.sort();
    for (name, raw) in overrides {
        let path: Vec<String> = name[prefix.len()..]
            .split("__")
            .map(str::to_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            problems.push("", "", format!("{name}: an empty key in the override path"));
            continue;
        }
        let value = match raw.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => raw
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    raw.parse::<f64>()
                        .ok()
                        .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                })
                .unwrap_or_else(|| Value::String(raw.clone())),
        };
        if let Err(e) = set_path(tree, &path, value) {
            problems.push("", "", format!("{name}: cannot override: {e}"));
        }
    }
}

fn set_path(
    node: &mut serde_json::Map<String, Value>,
    path: &[String],
    value: Value,
) -> Result<(), String> {
    let Some((key, rest)) = path.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        node.insert(key.clone(), value);
        return Ok(());
    }
    let child = node
        .entry(key.clone())
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if child.is_null() {
        *child = Value::Object(serde_json::Map::new());
    }
    match child.as_object_mut() {
        Some(map) => set_path(map, rest, value),
        None => Err(format!("`{key}` is not a mapping")),
    }
}

impl Config {
    /// The web config file in force: `--web.config.file` when given, else
    /// `web.config_file` when set. It is chosen at start; a reload that
    /// would choose another is refused (see `Engine::reload`).
    pub fn web_config_file(&self, flag: Option<&Path>) -> Option<PathBuf> {
        flag.map(Path::to_owned).or_else(|| {
            Some(&self.web.config_file)
                .filter(|f| !f.is_empty())
                .map(PathBuf::from)
        })
    }

    /// Reads, expands and validates `file`, with `PRODREADY_*` overrides from
    /// the process environment.
    pub fn load(file: &Path) -> Result<Config, ConfigErrors> {
        Self::load_with_env(file, &process_env())
    }

    /// As `load`, with an explicit environment (for tests and reloads).
    pub fn load_with_env(file: &Path, env: &[(String, String)]) -> Result<Config, ConfigErrors> {
        let (config, problems) = Self::load_partial(file, env);
        let redactor = config.redactor.clone();
        problems.into_result(config, &redactor)
    }

    /// Loads what can be loaded and returns it with every problem found, so
    /// that later phases (building checks) can report their problems too.
    pub(crate) fn load_partial(file: &Path, env: &[(String, String)]) -> (Config, Problems) {
        let mut problems = Problems::new(file);
        let Some((raw_digest, tree)) = read_tree(file, env, &mut problems) else {
            return (Config::empty(file), problems);
        };
        let mut config = Config::empty(file);
        config.inputs = Inputs::of(raw_digest, &tree);
        for key in tree.keys() {
            // `x-...` keys hold YAML anchors for merge keys, as in Compose files.
            if !key.starts_with("x-")
                && !matches!(
                    key.as_str(),
                    "global" | "web" | "targets" | "file_sd_configs" | "checks" | "waivers"
                )
            {
                problems.push(
                    "",
                    key,
                    "unknown top-level key; expected one of global, web, targets, file_sd_configs, checks, waivers (or x-<name> for YAML anchors)",
                );
            }
        }
        if let Some(v) = tree.get("global").filter(|v| !v.is_null()) {
            match from_value::<Global>(v) {
                Ok(g) => config.global = g,
                Err((path, msg)) => problems.push("global", &path, msg),
            }
        }
        check_label_names(
            config
                .global
                .labels
                .keys()
                .chain(config.global.series_labels.iter()),
            "global",
            "labels",
            &mut problems,
        );
        if config.global.concurrency == 0 {
            problems.push("global", "concurrency", "must be at least 1");
        }
        if let Some(v) = tree.get("web").filter(|v| !v.is_null()) {
            match from_value::<Web>(v) {
                Ok(w) => config.web = w,
                Err((path, msg)) => problems.push("web", &path, msg),
            }
        }
        match tree.get("targets") {
            None | Some(Value::Null) => {}
            Some(Value::Object(targets)) => config.load_targets(targets, &mut problems),
            Some(_) => problems.push("", "targets", "must be a mapping of target name to target"),
        }
        match tree.get("file_sd_configs") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => config.load_file_sd_configs(items, &mut problems),
            Some(_) => problems.push("", "file_sd_configs", "must be a list"),
        }
        match tree.get("checks") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                let mut seen = HashSet::new();
                for (index, value) in items.iter().enumerate() {
                    if let Some(spec) =
                        validate_check(value, index, &config.global, &mut seen, &mut problems)
                    {
                        config.checks.push(spec);
                    }
                }
            }
            Some(_) => problems.push("", "checks", "must be a list of checks"),
        }
        if let Some(v) = tree.get("waivers") {
            config.waivers = super::waivers::load(
                v,
                config.global.waivers_max_duration,
                crate::clock::unix_now(),
                &mut problems,
            );
        }
        (config, problems)
    }

    /// The targets of the config's `targets` mapping, with their labels and
    /// `*_file` secrets.
    fn load_targets(&mut self, targets: &serde_json::Map<String, Value>, problems: &mut Problems) {
        for (name, value) in targets {
            let place = format!("target {name:?}");
            let mut value = value.clone();
            if let Some(labels) = value.as_object_mut().and_then(|m| m.remove("labels")) {
                match from_value::<BTreeMap<String, String>>(&labels) {
                    Ok(labels) => {
                        check_label_names(labels.keys(), &place, "labels", problems);
                        self.target_labels.insert(name.clone(), labels);
                    }
                    Err((path, msg)) => {
                        let field = if path.is_empty() {
                            "labels".to_owned()
                        } else {
                            format!("labels.{path}")
                        };
                        problems.push(&place, &field, msg);
                    }
                }
            }
            match from_value::<TargetSpec>(&value) {
                Ok(mut spec) => {
                    resolve_target_secrets(&mut spec, &place, problems, &mut self.redactor);
                    self.targets.insert(name.clone(), spec);
                }
                Err((path, msg)) => problems.push(&place, &path, msg),
            }
        }
    }

    /// The targets that `file_sd_configs`' files list, and what to watch.
    fn load_file_sd_configs(&mut self, items: &[Value], problems: &mut Problems) {
        let base = self.file.parent().unwrap_or(Path::new("."));
        let mut discovered = Discovered {
            targets: &mut self.targets,
            labels: &mut self.target_labels,
            problems,
            redactor: &mut self.redactor,
        };
        for (index, value) in items.iter().enumerate() {
            match from_value::<FileSdConfig>(value) {
                Ok(sd) => {
                    let (patterns, files) = load_file_sd(base, index, &sd, &mut discovered);
                    self.inputs.target_patterns.extend(patterns);
                    self.inputs.target_files.extend(files);
                    let every = sd.refresh_interval.0;
                    self.inputs.target_refresh =
                        Some(self.inputs.target_refresh.map_or(every, |t| t.min(every)));
                }
                Err((path, msg)) => {
                    discovered
                        .problems
                        .push(&format!("file_sd_configs[{index}]"), &path, msg)
                }
            }
        }
        self.inputs.target_files.sort();
        self.inputs.target_files.dedup();
    }

    fn empty(file: &Path) -> Config {
        Config {
            file: file.to_owned(),
            global: Global::default(),
            web: Web::default(),
            targets: BTreeMap::new(),
            target_labels: BTreeMap::new(),
            checks: Vec::new(),
            waivers: Vec::new(),
            redactor: Redactor::new(),
            inputs: Inputs::default(),
        }
    }
}

fn valid_check_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// A check's interval and timeout, the global ones where it sets none.
fn check_timing(
    raw: &CheckEntry,
    global: &Global,
    place: &str,
    problems: &mut Problems,
) -> (Duration, Duration) {
    let interval = raw.interval.unwrap_or(global.interval).0;
    let timeout = raw.timeout.unwrap_or(global.timeout).0;
    if interval < Duration::from_secs(1) {
        problems.push(place, "interval", "must be at least 1s");
    }
    if timeout.is_zero() {
        problems.push(place, "timeout", "must be longer than 0s");
    }
    if timeout > interval {
        problems.push(
            place,
            "timeout",
            format!(
                "timeout {} is longer than the interval {}; shorten it or raise the interval",
                format_duration(timeout),
                format_duration(interval)
            ),
        );
    }
    (interval, timeout)
}

/// Which targets a check runs on: `targets` or `target_selector` (a single
/// `target` stays in the spec); at most one of the three.
fn target_selection(
    raw: &mut CheckEntry,
    place: &str,
    problems: &mut Problems,
) -> Option<TargetSelection> {
    match (&raw.target, raw.targets.take(), raw.target_selector.take()) {
        (_, None, None) => None,
        (None, Some(names), None) => {
            if names.is_empty() {
                problems.push(place, "targets", "list at least one target");
            }
            let mut listed = HashSet::new();
            for (i, name) in names.iter().enumerate() {
                if !listed.insert(name) {
                    problems.push(
                        place,
                        &format!("targets[{i}]"),
                        format!("target {name:?} is listed twice"),
                    );
                }
            }
            Some(TargetSelection::Names(names))
        }
        (None, None, Some(selector)) => {
            if selector.is_empty() {
                problems.push(
                    place,
                    "target_selector",
                    "name at least one label (env: prod)",
                );
            }
            Some(TargetSelection::Labels(selector))
        }
        _ => {
            problems.push(
                place,
                "target",
                "set one of target, targets and target_selector",
            );
            None
        }
    }
}

fn validate_check(
    value: &Value,
    index: usize,
    global: &Global,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<CheckSpec> {
    let given_name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let place = check_place(&given_name, index);
    let mut raw = match from_value::<CheckEntry>(value) {
        Ok(raw) => raw,
        Err((path, msg)) => {
            problems.push(&place, &path, msg);
            return None;
        }
    };
    if !valid_check_name(&raw.name) {
        problems.push(
            &place,
            "name",
            "must match [a-z][a-z0-9_]* (it becomes the `check` label)",
        );
    }
    if !seen.insert(raw.name.clone()) {
        problems.push(
            &place,
            "name",
            format!("duplicate check name {:?}", raw.name),
        );
    }
    // A bad or repeated name is reported, and the check is still built so
    // that its kind reports its params' problems too (the config stays
    // invalid); what the build itself needs (labels, timing, targets) stops it.
    let after_name = problems.errors.len();
    check_label_names(raw.labels.keys(), &place, "labels", problems);
    let (interval, timeout) = check_timing(&raw, global, &place, problems);
    let selection = target_selection(&mut raw, &place, problems);
    if problems.errors.len() > after_name {
        return None;
    }
    let (labels, series_labels) = check_labels(global, None, &raw.labels);
    Some(CheckSpec {
        name: raw.name,
        kind: raw.kind,
        target: raw.target,
        selection,
        own_labels: raw.labels,
        severity: raw.severity.unwrap_or_default(),
        category: raw.category,
        interval,
        timeout,
        description: raw.description,
        item: raw.item,
        gate_only: raw.gate_only,
        probe: raw.probe,
        series_labels,
        labels,
        params: super::Params::new(if raw.params.is_null() {
            Value::Object(serde_json::Map::new())
        } else {
            raw.params
        }),
        index,
        waivers: Vec::new(),
        waivers_max_duration: global.waivers_max_duration.0,
    })
}

/// The config file's YAML tree, with `${VAR}` expanded and `PRODREADY_*`
/// overrides applied, and the digest of its raw text; `None` when it cannot
/// be read (the problems say why).
fn read_tree(
    file: &Path,
    env: &[(String, String)],
    problems: &mut Problems,
) -> Option<(Vec<u8>, serde_json::Map<String, Value>)> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            problems.push("", "", format!("cannot read config file: {e}"));
            return None;
        }
    };
    let raw_digest = Inputs::digest(text.as_bytes());
    let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let text = match expand::expand_env(&text, lookup) {
        Ok(t) => t,
        Err(missing) => {
            for (line, name) in missing {
                problems.push(
                    &format!("line {line}"),
                    "",
                    format!(
                        "environment variable {name} is not set; set it or write ${{{name}:-default}}"
                    ),
                );
            }
            return None;
        }
    };
    let mut tree = match crate::yaml::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Null) => serde_json::Map::new(),
        Ok(_) => {
            problems.push(
                "",
                "",
                "the config must be a YAML mapping with global, web, targets and checks",
            );
            return None;
        }
        Err(e) => {
            problems.push("", "", format!("invalid YAML: {e}"));
            return None;
        }
    };
    apply_env_overrides(&mut tree, env, problems);
    Some((raw_digest, tree))
}
