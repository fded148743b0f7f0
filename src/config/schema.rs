//! The shape of `config.yaml`: typed sections with documented fields and
//! defaults. Pure data: nothing here reads files or knows a check kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::params::Params;
use super::ConfigDuration;
use crate::vocab::{Category, Severity};

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
    ":9718".into()
}

/// `global:` defaults for every check.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
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
    /// Labels of every check (`env: prod`, `team: platform`), shown on
    /// `prodready_check_info`; a check's own `labels` override them.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Label names also put on `prodready_check_state` and
    /// `prodready_check_success`, so Alertmanager can route by them without
    /// joins (`[team]`). Keep the list short: each adds to every series.
    #[serde(default)]
    pub series_labels: Vec<String>,
    /// The longest a waiver may run from today (`expires`); a longer one is
    /// a config error.
    #[serde(default = "super::waivers::default_max_duration")]
    pub waivers_max_duration: ConfigDuration,
    /// A directory where checks keep what lets their next run do less
    /// (the history scan's objects already read), across restarts. Made
    /// when missing; files in it are readable by the owner only. Unset:
    /// kept in memory only.
    #[serde(default)]
    pub state_dir: Option<std::path::PathBuf>,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            interval: default_interval(),
            timeout: default_timeout(),
            concurrency: default_concurrency(),
            labels: BTreeMap::new(),
            series_labels: Vec::new(),
            waivers_max_duration: super::waivers::default_max_duration(),
            state_dir: None,
        }
    }
}

/// `web:` the exporter's own HTTP server.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Web {
    /// Where the HTTP server listens: `host:port`, `[::1]:port`, or `:port`
    /// for every address, IPv6 and IPv4 (default `:9718`).
    #[serde(default = "default_listen_address")]
    pub listen_address: String,
    /// An exporter-toolkit web config file (TLS, client certificates, bcrypt
    /// basic auth, response headers, rate limit), as for Prometheus'
    /// exporters; `--web.config.file` overrides it. Empty: plain HTTP, open.
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

/// A credential read from the config (a password, a token). Its `Debug`
/// prints `[redacted]`, so no debug output of a config or target shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that sends it to its target.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A credential; prefer the matching *_file field or ${VAR}.",
        })
    }
}

/// Basic auth credentials for an HTTP target.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: Option<Secret>,
    /// Read the password from this file (trailing newline removed).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// TLS settings for talking to an HTTP target.
#[derive(Debug, Clone, Deserialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// PEM file with extra CA certificates to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification (never for production targets).
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// PEM client certificate (chain) presented to the target, for targets
    /// that require mutual TLS; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// An HTTP(S) service: a web app, Prometheus, Alertmanager, Loki.
#[derive(Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpTargetSpec {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    pub tls: TlsSpec,
    /// Send this target's requests through an HTTP proxy
    /// (`http://[user:password@]proxy:3128`). Off by default: only the
    /// target itself is contacted.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// Use the proxy that HTTP_PROXY / HTTPS_PROXY / NO_PROXY in the
    /// exporter's environment name. Off by default.
    #[serde(default)]
    pub proxy_from_environment: bool,
}

/// A database or cache reached by URL.
#[derive(Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseTargetSpec {
    pub url: String,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Connections the target's pool may hold open (PostgreSQL, MySQL). Default 2.
    #[serde(default)]
    pub pool_size: Option<u32>,
    /// Server-side limit on each statement (PostgreSQL, MySQL). Default 5s.
    #[serde(default)]
    pub statement_timeout: Option<ConfigDuration>,
    /// TLS of a `rediss://` Redis target: `ca_file` (the CAs to trust
    /// instead of the system's), `cert_file`/`key_file` (a client
    /// certificate for `tls-auth-clients`), `insecure_skip_verify`.
    /// PostgreSQL and MySQL take TLS settings in their URL (`sslmode`,
    /// `sslrootcert`, `ssl-mode`, `ssl-ca`).
    #[serde(default)]
    pub tls: Option<TlsSpec>,
}

// URLs can carry credentials and headers can be credentials: Debug shows
// the URL masked and header names only.
impl std::fmt::Debug for HttpTargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTargetSpec")
            .field("url", &crate::redact::mask_url_passwords(&self.url))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("basic_auth", &self.basic_auth)
            .field("bearer_token", &self.bearer_token)
            .field("bearer_token_file", &self.bearer_token_file)
            .field("tls", &self.tls)
            .field(
                "proxy_url",
                &self
                    .proxy_url
                    .as_deref()
                    .map(crate::redact::mask_url_passwords),
            )
            .field("proxy_from_environment", &self.proxy_from_environment)
            .finish()
    }
}

impl std::fmt::Debug for DatabaseTargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseTargetSpec")
            .field("url", &crate::redact::mask_url_passwords(&self.url))
            .field("password", &self.password)
            .field("password_file", &self.password_file)
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// A named live system that checks refer to by name.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
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

impl TargetSpec {
    /// The files building this target reads (TLS CA, client certificate and
    /// key, credential files): a reload rebuilds the target when one of
    /// their contents changed, even if the spec did not.
    pub fn read_files(&self) -> Vec<&Path> {
        fn tls_files(tls: &TlsSpec) -> Vec<&Path> {
            [&tls.ca_file, &tls.cert_file, &tls.key_file]
                .into_iter()
                .flatten()
                .map(PathBuf::as_path)
                .collect()
        }
        match self {
            TargetSpec::Http(h)
            | TargetSpec::Prometheus(h)
            | TargetSpec::Alertmanager(h)
            | TargetSpec::Loki(h) => {
                let mut files = tls_files(&h.tls);
                files.extend(h.bearer_token_file.as_deref());
                files.extend(
                    h.basic_auth
                        .as_ref()
                        .and_then(|b| b.password_file.as_deref()),
                );
                files
            }
            TargetSpec::Postgres(d) | TargetSpec::Mysql(d) | TargetSpec::Redis(d) => {
                let mut files = d.tls.as_ref().map(tls_files).unwrap_or_default();
                files.extend(d.password_file.as_deref());
                files
            }
            TargetSpec::Path(_) => Vec::new(),
        }
    }
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

impl TargetSpec {
    /// The URL of a target reached by one (every type but `path`).
    pub fn url(&self) -> Option<&str> {
        match self {
            TargetSpec::Postgres(d) | TargetSpec::Mysql(d) | TargetSpec::Redis(d) => Some(&d.url),
            other => other.as_http().map(|h| h.url.as_str()),
        }
    }

    /// This spec with `{address}` replaced by `address` in its URL (or
    /// path): the target a `file_sd_configs` template makes of one address.
    /// `None` when the template has no `{address}`.
    pub fn with_address(&self, address: &str) -> Option<TargetSpec> {
        let mut spec = self.clone();
        let place = match &mut spec {
            TargetSpec::Http(h)
            | TargetSpec::Prometheus(h)
            | TargetSpec::Alertmanager(h)
            | TargetSpec::Loki(h) => &mut h.url,
            TargetSpec::Postgres(d) | TargetSpec::Mysql(d) | TargetSpec::Redis(d) => &mut d.url,
            TargetSpec::Path(p) => {
                let text = p.to_str()?;
                if !text.contains(ADDRESS_PLACEHOLDER) {
                    return None;
                }
                *p = PathBuf::from(text.replace(ADDRESS_PLACEHOLDER, address));
                return Some(spec);
            }
        };
        if !place.contains(ADDRESS_PLACEHOLDER) {
            return None;
        }
        *place = place.replace(ADDRESS_PLACEHOLDER, address);
        Some(spec)
    }
}

/// Where a `file_sd_configs` template takes the address.
pub const ADDRESS_PLACEHOLDER: &str = "{address}";

const fn default_refresh_interval() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(10))
}

/// `file_sd_configs:` targets listed in files of Prometheus' `file_sd`
/// format, so inventory tooling can generate them. Each address becomes a
/// target named after it, made from `target` with the address in place of
/// `{address}`, labelled with `labels` and its group's labels; checks pick
/// them with `target_selector`. The files are re-read when they change.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// Files in Prometheus' file_sd format: a list of
    /// `{targets: [host:port ...], labels: {name: value}}`, JSON (`.json`)
    /// or YAML (`.yml`, `.yaml`). `*` and `?` in the file name (not in
    /// directories) match several files. Relative to the config file.
    pub files: Vec<String>,
    /// The target each address becomes, written as an entry of `targets:`
    /// with `{address}` where the address goes:
    /// `{ http: { url: "https://{address}/" } }`. Its credentials go to
    /// every address of these files.
    pub target: TargetSpec,
    /// Labels of every target from these files; a group's own labels
    /// override them.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How often the files are looked at for changes (their modification
    /// time and size); a change reloads the config. Default 10s.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: ConfigDuration,
}

/// A check's targets when it names more than one: each becomes a check of
/// its own, named `<check>:<target>`.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSelection {
    /// `targets: [a, b]`, in this order.
    Names(Vec<String>),
    /// `target_selector: {env: prod}`: every target with these labels whose
    /// type the kind reads, in name order.
    Labels(BTreeMap<String, String>),
}

/// One check entry as the file states it. Its `kind` stays a name until the
/// plan resolves it; the kind's builder checks its params.
#[derive(Clone, PartialEq)]
pub struct CheckSpec {
    pub name: String,
    pub kind: String,
    pub target: Option<String>,
    /// Several targets (`targets`, `target_selector`); the plan turns the
    /// entry into one check per target. `None` for one or no target.
    pub selection: Option<TargetSelection>,
    /// The check's own `labels`, before `global.labels` and its target's
    /// labels are merged in (`labels`).
    pub own_labels: BTreeMap<String, String>,
    pub severity: Severity,
    /// The category written in the file; the plan defaults it from the kind.
    pub category: Option<Category>,
    /// The checklist item written in the file; the plan defaults it from
    /// the kind and validates it.
    pub item: Option<String>,
    /// Evaluated only by `check` (the gate), never by the daemon.
    pub gate_only: bool,
    /// `/probe` may run it although its kind has side effects.
    pub probe: bool,
    /// `global.labels` merged with the check's own.
    pub labels: BTreeMap<String, String>,
    /// The `global.series_labels` with this check's values ("" when unset),
    /// in the allow-list's order.
    pub series_labels: Vec<(String, String)>,
    pub interval: Duration,
    pub timeout: Duration,
    pub description: Option<String>,
    pub params: Params,
    /// Position in the config file (`checks[index]`), kept for ordered output.
    pub index: usize,
    /// The waivers covering this check or one of its findings, set by the
    /// plan (part of the check's identity: a changed finding waiver rebuilds
    /// the check that judges with it).
    pub waivers: Vec<super::Waiver>,
    /// `global.waivers_max_duration`: how long an ignore-file entry without
    /// an expiry holds from the file's date.
    pub waivers_max_duration: Duration,
}

/// Params can hold credentials (an authorization check's token, a URL with
/// a password): Debug names their keys only.
impl std::fmt::Debug for CheckSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&String> = self
            .params
            .value()
            .and_then(serde_json::Value::as_object)
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        f.debug_struct("CheckSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("target", &self.target)
            .field("index", &self.index)
            .field("params", &keys)
            .finish_non_exhaustive()
    }
}

impl CheckSpec {
    /// How errors refer to this check.
    pub fn place(&self) -> String {
        check_place(&self.name, self.index)
    }
}

pub(crate) fn check_place(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("checks[{index}]")
    } else {
        format!("check {name:?} (checks[{index}])")
    }
}

/// One entry of `checks:` as written, before validation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckEntry {
    /// Unique name matching `[a-z][a-z0-9_]*`; it becomes the `check` label.
    pub name: String,
    /// The check kind (see docs/kinds.md).
    pub kind: String,
    /// The name of an entry of `targets:` the kind reads, when it needs one.
    #[serde(default)]
    pub target: Option<String>,
    /// Several targets by name, instead of `target`: the check is evaluated
    /// once per target, each a check of its own named `<name>:<target>`.
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    /// Instead of `target`: every target (from `targets:` or
    /// `file_sd_configs`) whose labels include all of these and whose type
    /// the kind reads, each a check of its own named `<name>:<target>`.
    /// When none matches, the check is `error`.
    #[serde(default)]
    pub target_selector: Option<BTreeMap<String, String>>,
    /// `critical`, `warning` (default) or `info`; copied into alerts.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Overrides the kind's default category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Time between evaluations. Default: `global.interval`.
    #[serde(default)]
    pub interval: Option<ConfigDuration>,
    /// Hard cap on one evaluation, at most the interval. Default: `global.timeout`.
    #[serde(default)]
    pub timeout: Option<ConfigDuration>,
    /// Free text shown on the status page.
    #[serde(default)]
    pub description: Option<String>,
    /// The checklist item this check evidences (`security.ssl_https`,
    /// `step.smoke_tests` ...). Default: the kind's own item (see
    /// docs/kinds.md); general kinds (`http`, `promql`, `command`) have none.
    #[serde(default)]
    pub item: Option<String>,
    /// Evaluate only in `check` runs (the deployment gate), never in the
    /// daemon: for checks meaningful only around a deploy (`test_report`,
    /// a deployed version), so nothing alerts on them between deploys. The
    /// daemon lists them as `unknown` with no runs.
    #[serde(default)]
    pub gate_only: bool,
    /// Let `/probe` run this check on demand although its kind has side
    /// effects (`command`, `input_validation`, `sql_injection`,
    /// `rate_limiting`): without it `/probe` refuses such a check (403), so
    /// an unauthenticated request cannot run a deploy step or a burst.
    #[serde(default)]
    pub probe: bool,
    /// Labels for routing and grouping (`team: payments`), added to
    /// `global.labels`; shown on `prodready_check_info`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The kind's own parameters (see docs/kinds.md).
    #[serde(default)]
    pub params: Value,
}
