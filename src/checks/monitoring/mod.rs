//! Kinds that read the HTTP APIs of monitoring systems: Prometheus
//! (`prometheus_targets`, `prometheus_rules`, `promql`, `memory_growth`,
//! `capacity`), Alertmanager (`alertmanager`) and Loki (`loki_recent_logs`). Every answer
//! is untrusted: bad JSON, an error status, a huge body or a timeout is
//! `error` with the reason, and bodies are read with a cap.

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str = r#"Targets of type `prometheus`, `alertmanager` and `loki` (HTTP targets with
the same options: headers, basic auth, bearer token, TLS). Every API answer is
untrusted input: a non-2xx status (with the API's own `error` text), invalid
JSON, `status != "success"`, a body over 16 MiB or a timeout is `error` with
the reason. Tested against Prometheus 2.42 and Alertmanager 0.25 (Debian 12)."#;

pub mod alertmanager;
pub mod api;
pub mod capacity;
pub mod loki_recent_logs;
pub mod memory_growth;
pub mod promql;
mod query;
pub mod rules;
pub mod targets;

use query::{default_window, one, NEED};
pub use query::{instant_query, range_samples, require_promql, series_name, Series};
