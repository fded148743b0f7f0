//! The vocabulary every layer shares: a check's `State`, its `Category` and
//! its `Severity`. A leaf below `config`: it imports nothing of the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The five states a check can be in. Only `Pass` certifies anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Evaluated, requirement met, with evidence.
    Pass,
    /// Evaluated, heuristic suspicion or soft threshold.
    Warn,
    /// Evaluated, requirement not met.
    Fail,
    /// Could not evaluate (unreachable, timeout, permission denied, parse failure).
    Error,
    /// Not evaluated yet, or not enough data.
    Unknown,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Pass,
        State::Warn,
        State::Fail,
        State::Error,
        State::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pass => "pass",
            State::Warn => "warn",
            State::Fail => "fail",
            State::Error => "error",
            State::Unknown => "unknown",
        }
    }

    /// Whether this state counts towards a score (everything but `unknown`).
    pub fn is_evaluated(self) -> bool {
        self != State::Unknown
    }

    /// The one ladder every reader orders states by (the worst of an item's
    /// checks, the gate's `--fail-on`): pass < warn < unknown < fail < error.
    /// `unknown` ranks above `warn`, since nothing was verified, and below
    /// `fail`, since nothing was found wanting either.
    pub fn rank(self) -> u8 {
        match self {
            State::Pass => 0,
            State::Warn => 1,
            State::Unknown => 2,
            State::Fail => 3,
            State::Error => 4,
        }
    }

    /// The worst of some states by [`State::rank`]; `None` when there are none.
    pub fn worst(states: impl IntoIterator<Item = State>) -> Option<State> {
        states.into_iter().max_by_key(|s| s.rank())
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checklist categories. A fixed set keeps the `category` label's cardinality low.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Security,
    Performance,
    Operations,
    Deployment,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Security,
        Category::Performance,
        Category::Operations,
        Category::Deployment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Performance => "performance",
            Category::Operations => "operations",
            Category::Deployment => "deployment",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a failing check matters; copied into alerts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    #[default]
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a check is in its state, when the reason is one the alerts act on
/// apart from the check: a fault of its target (one fact, alerted once per
/// target, whatever number of checks it stops), or a system too quiet to
/// judge (pages nobody).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// `error`: the target refused or dropped the connection, or its name
    /// did not resolve.
    Unreachable,
    /// `error`: the TLS handshake with the target failed (certificate
    /// expired, untrusted or for another name; protocol).
    Tls,
    /// `error`: the target rejected the configured credentials.
    Auth,
    /// `unknown`: the system saw too little traffic or time to judge
    /// (lookups, statement calls, samples, statistics age).
    InsufficientData,
}

impl Cause {
    /// The causes that are a fault of the target, as the `reason` label of
    /// `prodready_target_error_checks` spells them.
    pub const TARGET_FAULTS: [Cause; 3] = [Cause::Unreachable, Cause::Tls, Cause::Auth];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Unreachable => "unreachable",
            Cause::Tls => "tls",
            Cause::Auth => "auth",
            Cause::InsufficientData => "insufficient_data",
        }
    }

    /// The target fault an `error` message reports, from the phrases the
    /// shared clients write (`targets::databases`, `checks::http`):
    /// "TLS handshake failed" / "TLS failed", a rejected credential, then
    /// "connection failed" / "cannot connect to". `None`: the target
    /// answered (a refused query, a bad body, a timeout of the check).
    pub fn of_error_message(message: &str) -> Option<Cause> {
        const TLS: [&str; 3] = [
            "TLS handshake failed",
            "TLS failed",
            "invalid peer certificate",
        ];
        const AUTH: [&str; 5] = [
            "password authentication failed",
            "(SQLSTATE 28",
            "Access denied for user",
            "WRONGPASS",
            "NOAUTH",
        ];
        const UNREACHABLE: [&str; 2] = ["connection failed", "cannot connect to"];
        let has = |phrases: &[&str]| phrases.iter().any(|p| message.contains(p));
        if has(&TLS) {
            Some(Cause::Tls)
        } else if has(&AUTH) {
            Some(Cause::Auth)
        } else if has(&UNREACHABLE) {
            Some(Cause::Unreachable)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cause;

    #[test]
    fn target_faults_are_read_off_the_clients_messages() {
        for (message, cause) in [
            (
                "GET https://127.0.0.1:1/ failed: TLS handshake failed: invalid peer certificate: Expired",
                Some(Cause::Tls),
            ),
            ("GET http://127.0.0.1:1/ failed: connection failed: Connection refused (os error 111)", Some(Cause::Unreachable)),
            ("cannot connect to redis://127.0.0.1:1: Connection refused", Some(Cause::Unreachable)),
            ("cannot connect to postgres://m@127.0.0.1:1/a: TLS failed: received corrupt message", Some(Cause::Tls)),
            (
                "cannot connect to postgres://m@127.0.0.1:5/a: password authentication failed for user \"m\" (SQLSTATE 28P01)",
                Some(Cause::Auth),
            ),
            ("cannot connect to redis://127.0.0.1:1: WRONGPASS: invalid username-password pair", Some(Cause::Auth)),
            ("GET http://127.0.0.1:1/ answered 500", None),
            ("permission denied for view pg_stat_statements: grant pg_read_all_stats", None),
            ("timed out after 10s", None),
        ] {
            assert_eq!(Cause::of_error_message(message), cause, "{message}");
        }
    }
}
