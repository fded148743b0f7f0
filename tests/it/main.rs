//! One integration test binary (links once on a 2-core machine), with a
//! module per area. Tests start the real exporter binary and real servers on
//! loopback ports.

mod alerts;
mod browser;
mod cli;
mod daemon;
mod dashboards;
mod db_kinds;
mod docs;
mod http_kinds;
mod kinds;
mod metrics_lint;
mod ops_kinds;
mod secrets;
mod source_kinds;
mod support;
