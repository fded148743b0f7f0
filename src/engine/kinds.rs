//! The table of every check kind, grouped by family: the one place that
//! knows them all. The plan resolves a check's `kind` string here and the
//! docs are generated from it; adding a kind means adding its module under
//! `checks/` and one line below.

use crate::checks::{
    deployment, http, kubernetes, monitoring, mysql, postgres, process, redis, sarif_report,
    source, KindInfo,
};

const SARIF_FAMILY_DOC: &str = "Verdicts of the scanners a team already runs in CI, read from the SARIF 2.1.0 logs they write, from a `path` target or an `http` target (with its credentials and TLS). An old log, a log for another commit or of a failed run, and a file that is not SARIF are `error`, never `pass`.";

/// Kinds documented together, with what they share.
#[derive(Debug)]
pub struct Family {
    pub title: &'static str,
    pub doc: &'static str,
    pub kinds: &'static [&'static KindInfo],
    /// More of the family's docs, generated from its data (a rules table).
    pub appendix: Option<fn() -> String>,
}

pub static FAMILIES: &[Family] = &[
    Family {
        title: "HTTP and TLS kinds",
        doc: http::FAMILY_DOC,
        appendix: None,
        kinds: &[
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
        ],
    },
    Family {
        title: "Database and cache kinds",
        doc: postgres::FAMILY_DOC,
        appendix: None,
        kinds: &[
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
        ],
    },
    Family {
        title: "Source, file and artifact kinds",
        doc: source::FAMILY_DOC,
        appendix: None,
        kinds: &[
            &source::hardcoded_secrets::KIND,
            &source::dependency_vulnerabilities::KIND,
            &source::documentation::KIND,
            &source::attestation::KIND,
            &source::config_schema::KIND,
            &source::test_report::KIND,
            &source::rollback_ready::KIND,
            &source::backup_freshness::KIND,
            &source::env_secret::KIND,
        ],
    },
    Family {
        title: "Other scanners' reports",
        doc: SARIF_FAMILY_DOC,
        appendix: None,
        kinds: &[&sarif_report::KIND],
    },
    Family {
        title: "Operations kinds (Prometheus, Alertmanager, Loki APIs)",
        doc: monitoring::FAMILY_DOC,
        appendix: None,
        kinds: &[
            &monitoring::targets::KIND,
            &monitoring::rules::KIND,
            &monitoring::promql::KIND,
            &monitoring::memory_growth::KIND,
            &monitoring::capacity::KIND,
            &monitoring::alertmanager::KIND,
            &monitoring::loki_recent_logs::KIND,
        ],
    },
    Family {
        title: "Deployment step kinds",
        doc: deployment::FAMILY_DOC,
        appendix: None,
        kinds: &[
            &deployment::deployed_version::KIND,
            &deployment::connections_drained::KIND,
        ],
    },
    Family {
        title: "Kubernetes manifest kinds",
        doc: kubernetes::FAMILY_DOC,
        appendix: Some(kubernetes::rules_table),
        kinds: &[
            &kubernetes::failover::KIND,
            &kubernetes::capacity::KIND,
            &kubernetes::probes::KIND,
            &kubernetes::rollout::KIND,
            &kubernetes::drain::KIND,
            &kubernetes::pod_security::KIND,
        ],
    },
    Family {
        title: "Process kinds",
        doc: process::FAMILY_DOC,
        appendix: None,
        kinds: &[&process::command::KIND],
    },
];

/// Every kind, family by family.
pub fn all_kinds() -> impl Iterator<Item = &'static KindInfo> {
    FAMILIES.iter().flat_map(|f| f.kinds.iter().copied())
}

pub fn lookup_kind(name: &str) -> Option<&'static KindInfo> {
    all_kinds().find(|k| k.name == name)
}

/// Every kind name, sorted, for error messages.
pub fn kind_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = all_kinds().map(|k| k.name).collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_unique() {
        let names = kind_names();
        let mut deduped = names.clone();
        deduped.dedup();
        assert_eq!(names, deduped);
    }

    /// Every kind module under `src/checks/` is in the table (nothing counts
    /// kinds by hand): a `KIND` declared but not registered fails here.
    #[test]
    fn every_kind_module_is_registered() {
        fn declared(dir: &std::path::Path, found: &mut usize) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    declared(&path, found);
                } else if std::fs::read_to_string(&path)
                    .unwrap()
                    .contains("pub const KIND: KindInfo")
                {
                    *found += 1;
                }
            }
        }
        let mut found = 0;
        declared(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks"),
            &mut found,
        );
        assert!(found > 0);
        assert_eq!(all_kinds().count(), found);
    }

    /// `KindInfo::new` leaves the summary and the doc empty: every kind
    /// writes its own.
    #[test]
    fn every_kind_has_a_summary_and_a_doc() {
        for kind in all_kinds() {
            assert!(!kind.summary.is_empty(), "{}: no summary", kind.name);
            assert!(!kind.doc.is_empty(), "{}: no doc", kind.name);
        }
    }

    #[test]
    fn every_default_item_is_in_the_checklist() {
        for kind in all_kinds() {
            if let Some(id) = kind.item {
                assert!(
                    crate::checklist::lookup_item(id).is_some(),
                    "{}: {id}",
                    kind.name
                );
            }
        }
    }
}
