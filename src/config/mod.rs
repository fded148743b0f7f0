//! Typed configuration: loading (`config` crate, YAML + `PRODREADY_*` env
//! overrides), `${VAR}` expansion, `*_file` secrets and structural validation.
//! It collects every problem it finds instead of stopping at the first; check
//! params are validated later by each kind's builder (see `engine::plan`).

mod expand;
pub mod units;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::checks::{Category, Severity};
use crate::redact::Redactor;
pub use units::{format_duration, parse_duration, ByteSize, ConfigDuration};

/// Environment variables with this prefix and a `__` section separator
/// override config keys: `PRODREADY_GLOBAL__CONCURRENCY=4` sets
/// `global.concurrency`. Variables without `__` are ignored.
pub const ENV_PREFIX: &str = "PRODREADY";

/// The process environment, read in this one place.
#[allow(clippy::disallowed_methods)]
pub(crate) fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// One problem in a config file, naming where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// `check "web_tls" (checks[2])`, `target "db"`, `global` ...
    pub place: String,
    /// `params.min_days_left`, `interval` ... (empty when the whole place is wrong)
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.place.is_empty() {
            write!(f, ": {}", self.place)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in one config; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors for one file.
#[derive(Debug)]
pub(crate) struct Problems {
    file: String,
    pub(crate) errors: Vec<ConfigError>,
}

impl Problems {
    pub(crate) fn new(file: &Path) -> Self {
        Problems {
            file: file.display().to_string(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, place: &str, field: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            place: place.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub(crate) fn into_result<T>(self, value: T, redactor: &Redactor) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors(
                self.errors
                    .into_iter()
                    .map(|mut e| {
                        e.message = redactor.redact(&e.message);
                        e.field = redactor.redact(&e.field);
                        e
                    })
                    .collect(),
            ))
        }
    }
}

/// Deserializes `value` into `T`, reporting the failing field's path.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize::<_, T>(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        (path, e.into_inner().to_string())
    })
}

const fn default_interval() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(60))
}
const fn default_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(10))
}
const fn default_concurrency() -> usize {
    16
}
fn default_listen_address() -> String {
    "0.0.0.0:9718".into()
}

/// `global:` defaults for every check.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Global {
    /// Default interval between two evaluations of a check.
    #[serde(default = "default_interval")]
    pub interval: ConfigDuration,
    /// Default hard cap on one evaluation; past it the check is `error`.
    #[serde(default = "default_timeout")]
    pub timeout: ConfigDuration,
    /// Most checks evaluated at the same time.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            interval: default_interval(),
            timeout: default_timeout(),
            concurrency: default_concurrency(),
        }
    }
}

/// `web:` the exporter's own HTTP server.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Web {
    #[serde(default = "default_listen_address")]
    pub listen_address: String,
    /// Reserved for an exporter-toolkit style web config (TLS, basic auth);
    /// not supported yet, so it must stay empty.
    #[serde(default)]
    pub config_file: String,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen_address: default_listen_address(),
            config_file: String::new(),
        }
    }
}

/// Basic auth credentials for an HTTP target.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    /// Read the password from this file (trailing newline removed).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// TLS settings for talking to an HTTP target.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// PEM file with extra CA certificates to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification (never for production targets).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// An HTTP(S) service: a web app, Prometheus, Alertmanager, Loki.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpTargetSpec {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    pub tls: TlsSpec,
}

/// A database or cache reached by URL.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseTargetSpec {
    pub url: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Connections the target's pool may hold open (PostgreSQL, MySQL). Default 2.
    #[serde(default)]
    pub pool_size: Option<u32>,
    /// Server-side limit on each statement (PostgreSQL, MySQL). Default 5s.
    #[serde(default)]
    pub statement_timeout: Option<ConfigDuration>,
}

/// A named live system that checks refer to by name.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum TargetSpec {
    Http(HttpTargetSpec),
    Prometheus(HttpTargetSpec),
    Alertmanager(HttpTargetSpec),
    Loki(HttpTargetSpec),
    Postgres(DatabaseTargetSpec),
    Mysql(DatabaseTargetSpec),
    Redis(DatabaseTargetSpec),
    /// A directory on this machine (a source tree, a backup directory).
    Path(PathBuf),
}

/// The kinds of target, for matching checks with targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    Http,
    Prometheus,
    Alertmanager,
    Loki,
    Postgres,
    Mysql,
    Redis,
    Path,
}

impl TargetType {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Http => "http",
            TargetType::Prometheus => "prometheus",
            TargetType::Alertmanager => "alertmanager",
            TargetType::Loki => "loki",
            TargetType::Postgres => "postgres",
            TargetType::Mysql => "mysql",
            TargetType::Redis => "redis",
            TargetType::Path => "path",
        }
    }

    /// Prometheus, Alertmanager and Loki targets are HTTP services too, so
    /// generic HTTP checks may use them.
    pub fn satisfies(self, wanted: TargetType) -> bool {
        self == wanted
            || (wanted == TargetType::Http
                && matches!(
                    self,
                    TargetType::Prometheus | TargetType::Alertmanager | TargetType::Loki
                ))
    }
}

impl TargetSpec {
    pub fn target_type(&self) -> TargetType {
        match self {
            TargetSpec::Http(_) => TargetType::Http,
            TargetSpec::Prometheus(_) => TargetType::Prometheus,
            TargetSpec::Alertmanager(_) => TargetType::Alertmanager,
            TargetSpec::Loki(_) => TargetType::Loki,
            TargetSpec::Postgres(_) => TargetType::Postgres,
            TargetSpec::Mysql(_) => TargetType::Mysql,
            TargetSpec::Redis(_) => TargetType::Redis,
            TargetSpec::Path(_) => TargetType::Path,
        }
    }

    pub fn as_http(&self) -> Option<&HttpTargetSpec> {
        match self {
            TargetSpec::Http(h)
            | TargetSpec::Prometheus(h)
            | TargetSpec::Alertmanager(h)
            | TargetSpec::Loki(h) => Some(h),
            _ => None,
        }
    }
}

/// One check entry as the file states it. Its `kind` stays a name until the
/// plan resolves it; the kind's builder checks its params.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    pub name: String,
    pub kind: String,
    pub target: Option<String>,
    pub severity: Severity,
    /// The category written in the file; the plan defaults it from the kind.
    pub category: Option<Category>,
    pub interval: Duration,
    pub timeout: Duration,
    pub description: Option<String>,
    pub params: Value,
    /// Position in the config file (`checks[index]`), kept for ordered output.
    pub index: usize,
}

impl CheckSpec {
    /// How errors refer to this check.
    pub fn place(&self) -> String {
        check_place(&self.name, self.index)
    }
}

fn check_place(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("checks[{index}]")
    } else {
        format!("check {name:?} (checks[{index}])")
    }
}

/// A check as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: String,
    kind: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    interval: Option<ConfigDuration>,
    #[serde(default)]
    timeout: Option<ConfigDuration>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    params: Value,
}

/// A loaded, structurally valid configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub global: Global,
    pub web: Web,
    pub targets: BTreeMap<String, TargetSpec>,
    pub checks: Vec<CheckSpec>,
    /// Every secret read while loading, to be kept out of all output.
    pub redactor: Redactor,
}

impl Config {
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
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                problems.push("", "", format!("cannot read config file: {e}"));
                return (Config::empty(file), problems);
            }
        };
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
                return (Config::empty(file), problems);
            }
        };
        let prefix = format!("{ENV_PREFIX}_");
        let overrides: config::Map<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && k.contains("__"))
            .cloned()
            .collect();
        let built = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Yaml))
            .add_source(
                config::Environment::with_prefix(ENV_PREFIX)
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(overrides)),
            )
            .build()
            .and_then(|c| c.try_deserialize::<Value>());
        let tree = match built {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => serde_json::Map::new(),
            Ok(_) => {
                problems.push(
                    "",
                    "",
                    "the config must be a YAML mapping with global, web, targets and checks",
                );
                return (Config::empty(file), problems);
            }
            Err(e) => {
                problems.push("", "", format!("invalid YAML: {e}"));
                return (Config::empty(file), problems);
            }
        };
        let mut config = Config::empty(file);
        for key in tree.keys() {
            if !matches!(key.as_str(), "global" | "web" | "targets" | "checks") {
                problems.push(
                    "",
                    key,
                    "unknown top-level key; expected one of global, web, targets, checks",
                );
            }
        }
        if let Some(v) = tree.get("global").filter(|v| !v.is_null()) {
            match from_value::<Global>(v) {
                Ok(g) => config.global = g,
                Err((path, msg)) => problems.push("global", &path, msg),
            }
        }
        if config.global.concurrency == 0 {
            problems.push("global", "concurrency", "must be at least 1");
        }
        if let Some(v) = tree.get("web").filter(|v| !v.is_null()) {
            match from_value::<Web>(v) {
                Ok(w) => config.web = w,
                Err((path, msg)) => problems.push("web", &path, msg),
            }
        }
        if !config.web.config_file.is_empty() {
            problems.push(
                "web",
                "config_file",
                "a web config file (TLS, basic auth) is not supported yet; leave it empty and put a reverse proxy in front",
            );
        }
        match tree.get("targets") {
            None | Some(Value::Null) => {}
            Some(Value::Object(targets)) => {
                for (name, value) in targets {
                    let place = format!("target {name:?}");
                    match from_value::<TargetSpec>(value) {
                        Ok(mut spec) => {
                            resolve_target_secrets(
                                &mut spec,
                                &place,
                                &mut problems,
                                &mut config.redactor,
                            );
                            config.targets.insert(name.clone(), spec);
                        }
                        Err((path, msg)) => problems.push(&place, &path, msg),
                    }
                }
            }
            Some(_) => problems.push("", "targets", "must be a mapping of target name to target"),
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
        (config, problems)
    }

    fn empty(file: &Path) -> Config {
        Config {
            file: file.to_owned(),
            global: Global::default(),
            web: Web::default(),
            targets: BTreeMap::new(),
            checks: Vec::new(),
            redactor: Redactor::new(),
        }
    }
}

fn valid_check_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
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
    let raw = match from_value::<RawCheck>(value) {
        Ok(raw) => raw,
        Err((path, msg)) => {
            problems.push(&place, &path, msg);
            return None;
        }
    };
    let before = problems.errors.len();
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
    let interval = raw.interval.unwrap_or(global.interval).0;
    let timeout = raw.timeout.unwrap_or(global.timeout).0;
    if interval < Duration::from_secs(1) {
        problems.push(&place, "interval", "must be at least 1s");
    }
    if timeout.is_zero() {
        problems.push(&place, "timeout", "must be longer than 0s");
    }
    if timeout > interval {
        problems.push(
            &place,
            "timeout",
            format!(
                "timeout {} is longer than the interval {}; shorten it or raise the interval",
                format_duration(timeout),
                format_duration(interval)
            ),
        );
    }
    if problems.errors.len() > before {
        return None;
    }
    Some(CheckSpec {
        name: raw.name,
        kind: raw.kind,
        target: raw.target,
        severity: raw.severity.unwrap_or_default(),
        category: raw.category,
        interval,
        timeout,
        description: raw.description,
        params: if raw.params.is_null() {
            Value::Object(serde_json::Map::new())
        } else {
            raw.params
        },
        index,
    })
}

/// Reads `*_file` secrets into their fields and registers every secret with
/// the redactor, so that none can leak through later output.
fn resolve_target_secrets(
    spec: &mut TargetSpec,
    place: &str,
    problems: &mut Problems,
    redactor: &mut Redactor,
) {
    match spec {
        TargetSpec::Http(h)
        | TargetSpec::Prometheus(h)
        | TargetSpec::Alertmanager(h)
        | TargetSpec::Loki(h) => {
            redactor.add_url_password(&h.url);
            if let Some(auth) = &mut h.basic_auth {
                read_secret_file(
                    &mut auth.password,
                    auth.password_file.as_deref(),
                    place,
                    "basic_auth.password_file",
                    problems,
                );
                if let Some(p) = &auth.password {
                    redactor.add(p);
                }
            }
            read_secret_file(
                &mut h.bearer_token,
                h.bearer_token_file.as_deref(),
                place,
                "bearer_token_file",
                problems,
            );
            if let Some(t) = &h.bearer_token {
                redactor.add(t);
            }
            for (name, value) in &h.headers {
                if is_sensitive_header(name) {
                    redactor.add(value);
                    if let Some((_, credential)) = value.split_once(' ') {
                        redactor.add(credential);
                    }
                }
            }
        }
        TargetSpec::Postgres(d) | TargetSpec::Mysql(d) | TargetSpec::Redis(d) => {
            redactor.add_url_password(&d.url);
            read_secret_file(
                &mut d.password,
                d.password_file.as_deref(),
                place,
                "password_file",
                problems,
            );
            if let Some(p) = &d.password {
                redactor.add(p);
            }
        }
        TargetSpec::Path(_) => {}
    }
}

/// Header names whose values are credentials.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || name == "cookie"
        || name == "proxy-authorization"
        || ["token", "key", "secret", "auth", "session", "password"]
            .iter()
            .any(|w| name.contains(w))
}

fn read_secret_file(
    slot: &mut Option<String>,
    file: Option<&Path>,
    place: &str,
    field: &str,
    problems: &mut Problems,
) {
    let Some(file) = file else { return };
    if slot.is_some() {
        let inline = field.trim_end_matches("_file");
        problems.push(
            place,
            field,
            format!("set either {inline} or {field}, not both"),
        );
        return;
    }
    match std::fs::read_to_string(file) {
        Ok(text) => *slot = Some(text.trim_end_matches(['\r', '\n']).to_owned()),
        Err(e) => problems.push(
            place,
            field,
            format!("cannot read secret file {}: {e}", file.display()),
        ),
    }
}
