//! The check model: states, outcomes, the `Check` trait, the kind-authoring
//! API (`kind`) and one module per family with one file per kind. A check
//! only gathers evidence from `targets` and judges it; it never touches the
//! engine, the result store, metrics or the web layer.

pub mod blocking;
pub mod deployment;
pub mod http;
mod kind;
pub mod kubernetes;
pub mod monitoring;
pub mod mysql;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod sarif_report;
pub mod source;
pub mod window;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};

pub use crate::vocab::{Category, Cause, Severity, State};
pub use kind::{
    parse_params, require_ratio, BuildInput, EvidenceSource, KindInfo, ParamError, TargetNeed,
};

/// A boxed future, so that `Check` stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one evaluation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub state: State,
    /// The measured number (days left, count, ratio, seconds ...), when there is one.
    pub observed: Option<f64>,
    /// The limit `observed` was compared with.
    pub threshold: Option<f64>,
    /// One line for humans: why this state.
    pub message: String,
    /// Structured facts behind the state, shown on the status page and in the API.
    pub evidence: Map<String, Value>,
    /// The class of reason the alerts act on apart from the check, when the
    /// check knows it (`Outcome::insufficient_data`); an `error`'s target
    /// fault is read off its message when the result is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

impl Outcome {
    pub fn new(state: State, message: impl Into<String>) -> Self {
        Outcome {
            state,
            observed: None,
            threshold: None,
            message: message.into(),
            evidence: Map::new(),
            cause: None,
        }
    }

    pub fn pass(message: impl Into<String>) -> Self {
        Self::new(State::Pass, message)
    }

    pub fn warn(message: impl Into<String>) -> Self {
        Self::new(State::Warn, message)
    }

    pub fn fail(message: impl Into<String>) -> Self {
        Self::new(State::Fail, message)
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(State::Error, message)
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(State::Unknown, message)
    }

    /// `unknown` because the system saw too little traffic or time to judge
    /// (a first sample, too few lookups or calls, statistics too young): it
    /// shows with its reason but pages nobody. `unknown` for any other reason
    /// (never ran, nothing to judge in what was configured) still alerts.
    pub fn insufficient_data(message: impl Into<String>) -> Self {
        Outcome {
            cause: Some(Cause::InsufficientData),
            ..Self::new(State::Unknown, message)
        }
    }

    pub fn observed(mut self, value: f64) -> Self {
        self.observed = Some(value);
        self
    }

    pub fn threshold(mut self, value: f64) -> Self {
        self.threshold = Some(value);
        self
    }

    pub fn threshold_opt(mut self, value: Option<f64>) -> Self {
        self.threshold = value;
        self
    }

    pub fn evidence(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_owned(), value.into());
        self
    }
}

/// Collapses a check's `Result<Outcome, Outcome>` (an early-return `error`
/// outcome on the `Err` side) into the outcome.
pub fn settle(result: Result<Outcome, Outcome>) -> Outcome {
    match result {
        Ok(o) | Err(o) => o,
    }
}

/// Per-evaluation context handed to a check: its name and a trace that
/// `/probe?debug=true` shows.
#[derive(Debug, Clone)]
pub struct Context {
    pub check: Arc<str>,
    trace: Arc<Mutex<Vec<String>>>,
}

impl Context {
    pub fn new(check: &str) -> Self {
        Context {
            check: Arc::from(check),
            trace: Arc::default(),
        }
    }

    /// Records one step of the evaluation (request sent, answer received ...).
    /// Not logged here: the engine logs the steps at debug level once the
    /// redactor has passed over them (a step names URLs, which may carry
    /// credentials).
    pub fn trace(&self, line: impl Into<String>) {
        let line = line.into();
        if let Ok(mut lines) = self.trace.lock() {
            lines.push(line);
        }
    }

    pub fn trace_lines(&self) -> Vec<String> {
        self.trace.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// One configured check, built and validated from its params.
pub trait Check: Send + Sync + fmt::Debug {
    /// Gathers evidence from the live system and judges it. Must not panic on
    /// anything a target answers; the engine enforces the timeout.
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome>;

    /// Secret values this check handles (read when it is built), which the
    /// engine then removes from every output, including other checks'.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }

    /// What this configured check does beyond reading, when its params make
    /// it act on its target although its kind does not (`KindInfo::
    /// side_effects`): an `http` check that sends `POST` or a body. `/probe`
    /// runs such a check only when it opts in (`probe: true`).
    fn side_effects(&self) -> Option<String> {
        None
    }
}
