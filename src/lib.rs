//! prodready-exporter: evaluates a production-readiness checklist against live
//! systems and exposes every check as Prometheus metrics.
//!
//! Data flows one way: config -> plan (checks built per kind) -> scheduler ->
//! result store -> readers (metrics, status page, JSON API, CLI report).
#![forbid(unsafe_code)]
// A panic in the daemon is an outage: nothing outside tests unwraps.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod build_info;
pub mod checklist;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod config;
mod daemon;
pub mod docs;
pub mod engine;
mod escape;
pub mod exposition;
mod files;
mod git;
mod logging;
mod redact;
mod report;
pub mod scan;
pub mod targets;
mod vocab;
pub mod web;
pub mod yaml;
