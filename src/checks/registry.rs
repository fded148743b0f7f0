//! The registry of check kinds: kind name -> metadata and builder.
//! Adding a kind means adding its module and one line to `KINDS`.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    alertmanager, backup, command, env_secret, http, loki, mysql, postgres, prometheus, redis,
    source, Category, Check,
};
use crate::config::{CheckSpec, TargetType};
use crate::targets::Target;

/// Whether a kind reads a named target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetNeed {
    None,
    /// May name a target of one of these types.
    Optional(&'static [TargetType]),
    /// Must name a target of one of these types.
    Required(&'static [TargetType]),
}

/// Where a kind's evidence comes from, shown in the JSON API and status page
/// so that self-reported evidence is told apart from measured evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceSource {
    /// Read off a live system by the check.
    Measured,
    /// A record people wrote about something they did (a drill).
    Attestation,
}

impl EvidenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::Measured => "measured",
            EvidenceSource::Attestation => "attestation",
        }
    }
}

/// What the builder of a kind gets: the validated check entry and its target.
#[derive(Debug)]
pub struct BuildInput<'a> {
    pub spec: &'a CheckSpec,
    pub target: Option<&'a Target>,
    /// Client for checks that reach HTTP URLs without a named target.
    pub http_client: &'a reqwest::Client,
}

/// A problem with a check's params: `(field path, message)`.
pub type ParamError = (String, String);

/// Static facts about a kind of check.
pub struct KindInfo {
    pub name: &'static str,
    pub category: Category,
    /// Unit of the observed value (`seconds`, `bytes`, `ratio`, `count` ...).
    pub unit: &'static str,
    /// One line on what it measures.
    pub summary: &'static str,
    /// Measured from a live system, or self-reported by people.
    pub source: EvidenceSource,
    pub target: TargetNeed,
    pub build: fn(&BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError>,
}

impl fmt::Debug for KindInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KindInfo")
            .field("name", &self.name)
            .finish()
    }
}

impl PartialEq for KindInfo {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

static KINDS: &[&KindInfo] = &[
    &http::endpoint::KIND,
    &http::redirect::KIND,
    &http::tls::KIND,
    &http::headers::KIND,
    &http::cors::KIND,
    &http::rate_limit::KIND,
    &http::auth::AUTHENTICATION,
    &http::auth::AUTHORIZATION,
    &http::input_validation::KIND,
    &http::sql_injection::KIND,
    &http::compression::KIND,
    &http::cache::KIND,
    &http::cdn::KIND,
    &http::assets::KIND,
    &postgres::indexes::KIND,
    &postgres::slow_queries::KIND,
    &postgres::n_plus_one::KIND,
    &postgres::connections::KIND,
    &postgres::cache_hit::KIND,
    &postgres::replication::KIND,
    &postgres::wal_archiving::KIND,
    &postgres::migrations::KIND,
    &mysql::CONNECTIONS,
    &mysql::INDEXES,
    &mysql::SLOW_QUERIES,
    &mysql::REPLICATION,
    &redis::PERSISTENCE,
    &redis::REPLICATION,
    &redis::HIT_RATIO,
    &redis::MEMORY,
    &source::secrets::KIND,
    &source::dependencies::KIND,
    &source::documentation::KIND,
    &source::attestation::KIND,
    &source::config_schema::KIND,
    &source::test_report::KIND,
    &source::rollback::KIND,
    &prometheus::TARGETS,
    &prometheus::RULES,
    &prometheus::PROMQL,
    &prometheus::MEMORY_GROWTH,
    &prometheus::CAPACITY,
    &alertmanager::KIND,
    &loki::KIND,
    &backup::KIND,
    &env_secret::KIND,
    &command::KIND,
];

pub fn lookup_kind(name: &str) -> Option<&'static KindInfo> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// Every kind name, sorted, for error messages.
pub fn kind_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
    names.sort_unstable();
    names
}

/// Deserializes a check's `params` into the kind's `Params` struct; errors
/// carry the field path (`params.expected_status[1]`).
pub fn parse_params<P: DeserializeOwned>(params: &Value) -> Result<P, ParamError> {
    crate::config::from_value::<P>(params).map_err(|(path, message)| {
        let field = if path.is_empty() {
            "params".to_owned()
        } else {
            format!("params.{path}")
        };
        (field, message)
    })
}

/// Checks that a ratio param lies in 0..=1.
pub fn require_ratio(field: &str, value: f64) -> Result<(), ParamError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err((format!("params.{field}"), "must be between 0 and 1".into()))
    }
}
