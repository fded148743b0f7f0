//! Checks over HTTP(S): one file per kind; what they share (bounded body
//! reads, error descriptions without URLs, status matchers) is `toolkit`.

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str = r#"All of these need an `http` target and only contact its origin (scheme, host,
port): URLs in params are relative to the target. They share one client per
target (connection reuse, no proxies, redirects followed only where a kind says
so), the check's hard timeout, and a cap on every body read (1 MiB unless a
kind says otherwise), so a server that streams forever cannot grow memory.
Any request that cannot be made (refused, reset, DNS, TLS failure, timeout)
makes the check `error`, except where a row below says otherwise."#;

pub mod asset_optimization;
pub mod authentication;
pub mod authorization;
pub mod cache_headers;
pub mod cdn;
pub mod compression;
pub mod cors;
#[allow(clippy::module_inception)]
pub mod http;
pub mod https_redirect;
pub mod input_validation;
pub mod rate_limiting;
pub mod security_headers;
pub mod signatures;
pub mod sql_injection;
pub mod tls_certificate;
mod toolkit;

pub use toolkit::*;
