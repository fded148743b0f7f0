//! The table of every check kind: the one place that knows them all. The
//! plan resolves a check's `kind` string here; adding a kind means adding
//! its module under `checks/` and one line below.

use crate::checks::{
    alertmanager, command, http, loki_recent_logs, mysql, postgres, prometheus, redis, source,
    KindInfo,
};

pub static KINDS: &[&KindInfo] = &[
    &http::http::KIND,
    &http::https_redirect::KIND,
    &http::tls_certificate::KIND,
    &http::security_headers::KIND,
    &http::cors::KIND,
    &http::rate_limiting::KIND,
    &http::authentication::KIND,
    &http::authorization::KIND,
    &http::input_validation::KIND,
    &http::sql_injection::KIND,
    &http::compression::KIND,
    &http::cache_headers::KIND,
    &http::cdn::KIND,
    &http::asset_optimization::KIND,
    &postgres::indexes::KIND,
    &postgres::slow_queries::KIND,
    &postgres::n_plus_one::KIND,
    &postgres::connections::KIND,
    &postgres::cache_hit_ratio::KIND,
    &postgres::replication::KIND,
    &postgres::wal_archiving::KIND,
    &postgres::pending_migrations::KIND,
    &mysql::connections::KIND,
    &mysql::indexes::KIND,
    &mysql::slow_queries::KIND,
    &mysql::replication::KIND,
    &redis::persistence::KIND,
    &redis::replication::KIND,
    &redis::hit_ratio::KIND,
    &redis::memory::KIND,
    &source::hardcoded_secrets::KIND,
    &source::dependency_vulnerabilities::KIND,
    &source::documentation::KIND,
    &source::attestation::KIND,
    &source::config_schema::KIND,
    &source::test_report::KIND,
    &source::rollback_ready::KIND,
    &prometheus::targets::KIND,
    &prometheus::rules::KIND,
    &prometheus::promql::KIND,
    &prometheus::memory_growth::KIND,
    &prometheus::capacity::KIND,
    &alertmanager::KIND,
    &loki_recent_logs::KIND,
    &source::backup_freshness::KIND,
    &source::env_secret::KIND,
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
