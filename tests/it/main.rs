//! One integration test binary (links once on a 2-core machine), with a
//! module per area. Tests start the real exporter binary and real servers on
//! loopback ports.

mod advisories_sync;
mod alerting_e2e;
mod alertmanager_config;
mod alerts;
mod browser;
mod bundled_config;
mod cli;
mod core_kinds;
mod daemon;
mod daemon_reload;
mod dependencies_kind;
mod deployment_kinds;
mod docs;
mod fault_matrix;
mod gate;
mod http_app_kinds;
mod http_kinds;
mod http_transport;
mod ignore_files;
mod leak_harness;
mod metrics_lint;
mod migrations_kind;
mod mixin;
mod mysql_kinds;
mod openapi;
mod ops_kinds;
mod packaging;
mod postgres_kinds;
mod redaction;
mod redis_kinds;
mod sarif;
mod sarif_report;
mod secrets_gitleaks;
mod secrets_kind;
mod secrets_walk;
mod snapshots;
mod source_kinds;
mod support;
mod targets;
mod version_order;
mod waivers;
mod web_flags;
mod web_reload;
mod web_security;
