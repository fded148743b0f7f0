//! The kind-authoring API: what a kind declares about itself (`KindInfo`),
//! what its builder receives (`BuildInput`) and how it reports bad params
//! (`ParamError`). The table of every kind lives in `engine::kinds`.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{Category, Check};
use crate::config::{CheckSpec, TargetType};
use crate::targets::Target;

/// Whether a kind reads a named target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetNeed {
    None,
    /// May name a target of one of these types.
    Optional(&'static [TargetType]),
    /// Must name a target of one of these types.
    Required(&'static [TargetType]),
}

/// Where a kind's evidence comes from, shown in the JSON API and status page
/// so that self-reported evidence is told apart from measured evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceSource {
    /// Read off a live system by the check.
    Measured,
    /// A record people wrote about something they did (a drill).
    Attestation,
}

impl EvidenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::Measured => "measured",
            EvidenceSource::Attestation => "attestation",
        }
    }
}

/// What the builder of a kind gets: the check entry and its target, already
/// matched with the kind's `TargetNeed` by the plan.
#[derive(Debug)]
pub struct BuildInput<'a> {
    /// The entry, with the waivers that cover it (`spec.waivers`).
    pub spec: &'a CheckSpec,
    pub target: Option<&'a Target>,
    /// Client for checks that reach HTTP URLs without a named target.
    pub http_client: &'a reqwest::Client,
    /// `global.state_dir`: where a check may keep state across restarts.
    pub state_dir: Option<&'a std::path::Path>,
}

/// A problem with a check's params: the field it is in and what is wrong,
/// without the offending value (which may be a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// `params.expected_status[1]`, `target` ...
    pub field: String,
    pub message: String,
}

impl ParamError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ParamError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An error in `params.<path>`.
    pub fn param(path: &str, message: impl Into<String>) -> Self {
        Self::new(format!("params.{path}"), message)
    }
}

/// Static facts about a kind of check. A kind states what differs from
/// `KindInfo::new`'s defaults and takes the rest with struct update syntax:
///
/// ```ignore
/// const KIND: KindInfo = KindInfo {
///     unit: "ratio",
///     summary: "...",
///     doc: "...",
///     ..KindInfo::new("redis_hit_ratio", Category::Performance, build, <Params as JsonSchema>::json_schema)
/// };
/// ```
///
/// A new attribute gets its default in `new` and is written only by the
/// kinds that differ from it.
pub struct KindInfo {
    pub name: &'static str,
    pub category: Category,
    /// The checklist item (`checklist::ITEMS`) a check of this kind evidences
    /// unless it names another with `item:`. `None` for general tools
    /// (`http`, `promql`, `command`) that evidence what their check says.
    pub item: Option<&'static str>,
    /// Unit of the observed value (`seconds`, `bytes`, `ratio`, `count` ...).
    pub unit: &'static str,
    /// One line on what it measures.
    pub summary: &'static str,
    /// Markdown for docs/kinds.md: what it reads, when it passes, fails and
    /// errors, and what it needs to be allowed to see.
    pub doc: &'static str,
    /// Measured from a live system, or self-reported by people.
    pub source: EvidenceSource,
    /// Evaluating it does more than read: runs a command, sends bursts or
    /// injection strings. `/probe` runs such a check only when the check
    /// opts in (`probe: true`).
    pub side_effects: bool,
    /// The field of `waivers[].finding` that names one of its findings
    /// (`advisory`, `secret`, `rule`): a finding waiver takes that finding
    /// out of the count that decides the state. `None`: no finding waivers.
    pub findings: Option<&'static str>,
    /// The params that name files the check reads while it is built
    /// (secrets, CA, schemas, configs), as dotted paths into `params`
    /// (`credential.password_file`); a param holding a list names each of
    /// its items. The engine digests exactly these, so a reload rebuilds the
    /// check when one of them changes. Files read at each evaluation are not
    /// listed: every run reads them anew.
    pub files: &'static [&'static str],
    /// Params naming files the check reads at every evaluation (`[]` for
    /// each element of a list: `files[].schema`). `validate` notes those
    /// that do not exist: the check would be `error` until they do.
    pub reads: &'static [&'static str],
    /// Programs a check of this kind runs besides what its params name,
    /// each with when: `("kubectl", "to render a kustomization")`. They
    /// must be on `PATH` where the exporter runs (a container image needs
    /// them installed); docs/kinds.md lists them.
    pub programs: &'static [(&'static str, &'static str)],
    pub target: TargetNeed,
    pub build: fn(&BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError>,
    /// JSON Schema of the kind's `params` (its `Params` struct), from which
    /// docs/kinds.md and docs/config.schema.json are generated.
    pub params: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

impl KindInfo {
    /// A kind with what every kind must say (name, category, builder,
    /// params schema) and the defaults of everything else: no checklist
    /// item, unit `count`, measured, read-only, no finding waivers, no
    /// programs run, no target.
    pub const fn new(
        name: &'static str,
        category: Category,
        build: fn(&BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError>,
        params: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    ) -> KindInfo {
        KindInfo {
            name,
            category,
            item: None,
            unit: "count",
            summary: "",
            doc: "",
            source: EvidenceSource::Measured,
            side_effects: false,
            findings: None,
            files: &[],
            reads: &[],
            programs: &[],
            target: TargetNeed::None,
            build,
            params,
        }
    }
}

impl fmt::Debug for KindInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KindInfo")
            .field("name", &self.name)
            .finish()
    }
}

impl PartialEq for KindInfo {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// Deserializes a check's `params` into the kind's `Params` struct; errors
/// carry the field path (`params.expected_status[1]`).
pub fn parse_params<P: DeserializeOwned>(params: &crate::config::Params) -> Result<P, ParamError> {
    let Some(params) = params.value() else {
        // The plan builds every check before it releases params.
        return Err(ParamError::new(
            "params",
            "already released after the check was built; this is a bug, please report it",
        ));
    };
    crate::config::from_value::<P>(params).map_err(|(path, message)| {
        if path.is_empty() {
            ParamError::new("params", message)
        } else {
            ParamError::param(&path, message)
        }
    })
}

/// Checks that a ratio param lies in 0..=1.
pub fn require_ratio(field: &str, value: f64) -> Result<(), ParamError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::param(field, "must be between 0 and 1"))
    }
}
