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
