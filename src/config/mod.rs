//! Typed configuration: the file's shape (`schema`), loading (`load`: YAML
//! read by `crate::yaml`, `PRODREADY_*` overrides, `${VAR}` expansion), user
//! labels (`labels`), `file_sd` targets (`file_sd`), `*_file` secrets
//! (`secrets`) and problems (`errors`). It collects every problem it finds
//! instead of stopping at the first, and knows no check kinds: the plan
//! resolves kinds and validates params (see `engine::plan`).

mod errors;
mod expand;
mod file_sd;
mod labels;
mod load;
mod params;
mod schema;
mod secrets;
pub mod units;
pub mod waivers;

pub(crate) use errors::{from_value, Problems};
pub use errors::{ConfigError, ConfigErrors};
pub use labels::check_labels;
pub use load::Config;
pub use params::Params;
pub use schema::{
    BasicAuth, CheckEntry, CheckSpec, DatabaseTargetSpec, FileSdConfig, Global, HttpTargetSpec,
    Secret, TargetSelection, TargetSpec, TargetType, TlsSpec, Web,
};
pub use secrets::is_sensitive_header;
pub use units::{format_duration, parse_duration, ByteSize, ConfigDuration};
pub use waivers::{
    active_check_waiver, end_of_day, shown_waiver, FindingSpec, Waiver, WaiverEntry,
};

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
