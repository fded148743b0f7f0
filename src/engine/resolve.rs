//! Resolving a config entry: its kind (from the kind table), its targets
//! (named, listed or selected by labels, each matched with what the kind
//! reads) and its checklist item, with problems that name the check, the
//! field and the valid choices.

use std::collections::BTreeMap;

use super::kinds::{kind_names, lookup_kind};
use crate::checklist::{item_ids, lookup_item, Item};
use crate::checks::{BoxFuture, Check, Context, KindInfo, Outcome, TargetNeed};
use crate::config::{
    check_labels, CheckSpec, Config, Problems, TargetSelection, TargetSpec, TargetType,
};

/// What one config entry plans to.
pub(super) enum Expansion {
    /// Checks whose target (if any) is known to suit the kind.
    Checks(Vec<CheckSpec>),
    /// A `target_selector` that matched no target the kind reads: one
    /// check, planned so that it shows (and alerts) as `error` with this
    /// message rather than vanishing.
    NoTarget(Box<CheckSpec>, String),
}

/// The checks an entry stands for: itself when it has one target or none
/// (its labels merged with its target's), else one per target it names or
/// selects, named `<check>:<target>`. Targets that do not suit `kind` are
/// reported, and the checks for them left out.
pub(super) fn expand(
    mut spec: CheckSpec,
    kind: &'static KindInfo,
    config: &Config,
    problems: &mut Problems,
) -> Expansion {
    let place = spec.place();
    let Some(selection) = spec.selection.take() else {
        let before = problems.errors.len();
        let target = spec.target.as_deref();
        check_target(kind, target, &config.targets, &place, "target", problems);
        if problems.errors.len() != before {
            return Expansion::Checks(Vec::new());
        }
        if let Some(target) = &spec.target {
            (spec.labels, spec.series_labels) = check_labels(
                &config.global,
                config.target_labels.get(target),
                &spec.own_labels,
            );
        }
        return Expansion::Checks(vec![spec]);
    };
    let names: Vec<&String> = match &selection {
        TargetSelection::Names(names) => names
            .iter()
            .enumerate()
            .filter(|(i, name)| {
                let before = problems.errors.len();
                let field = format!("targets[{i}]");
                check_target(kind, Some(name), &config.targets, &place, &field, problems);
                problems.errors.len() == before
            })
            .map(|(_, name)| name)
            .collect(),
        TargetSelection::Labels(wanted) => {
            let (TargetNeed::Optional(types) | TargetNeed::Required(types)) = kind.target else {
                problems.push(
                    &place,
                    "target_selector",
                    format!("kind {} does not use a target; remove it", kind.name),
                );
                return Expansion::Checks(Vec::new());
            };
            let names: Vec<&String> = config
                .targets
                .iter()
                .filter(|(_, target)| types.iter().any(|t| target.target_type().satisfies(*t)))
                .filter(|(name, _)| {
                    config
                        .target_labels
                        .get(*name)
                        .is_some_and(|labels| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
                })
                .map(|(name, _)| name)
                .collect();
            if names.is_empty() {
                let wanted: Vec<String> =
                    wanted.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                let message = format!(
                    "target_selector {{{}}} matches no {} target; nothing was evaluated",
                    wanted.join(", "),
                    type_list(types)
                );
                spec.selection = Some(selection);
                return Expansion::NoTarget(Box::new(spec), message);
            }
            names
        }
    };
    Expansion::Checks(
        names
            .into_iter()
            .map(|target| {
                let (labels, series_labels) = check_labels(
                    &config.global,
                    config.target_labels.get(target),
                    &spec.own_labels,
                );
                CheckSpec {
                    name: format!("{}:{target}", spec.name),
                    target: Some(target.clone()),
                    labels,
                    series_labels,
                    ..spec.clone()
                }
            })
            .collect(),
    )
}

/// The check of an entry whose selector matched no target.
#[derive(Debug)]
pub(super) struct NoTarget(pub(super) String);

impl Check for NoTarget {
    fn evaluate<'a>(&'a self, _ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { Outcome::error(self.0.clone()) })
    }
}

/// The checklist item a check evidences: the one it names (which must
/// exist), else its kind's.
pub(super) fn resolve_item(
    spec: &CheckSpec,
    kind: &KindInfo,
    problems: &mut Problems,
) -> Result<Option<&'static Item>, ()> {
    match &spec.item {
        Some(id) => match lookup_item(id) {
            Some(item) => Ok(Some(item)),
            None => {
                problems.push(
                    &spec.place(),
                    "item",
                    format!(
                        "unknown checklist item {id:?}; valid items: {}",
                        item_ids().join(", ")
                    ),
                );
                Err(())
            }
        },
        None => Ok(kind.item.and_then(lookup_item)),
    }
}

/// Finds a check's kind; an unknown kind is reported with the valid ones.
pub(super) fn resolve_kind(spec: &CheckSpec, problems: &mut Problems) -> Option<&'static KindInfo> {
    let kind = lookup_kind(&spec.kind);
    if kind.is_none() {
        problems.push(
            &spec.place(),
            "kind",
            format!(
                "unknown kind {:?}; valid kinds: {}",
                spec.kind,
                kind_names().join(", ")
            ),
        );
    }
    kind
}

/// Matches a check's `target` (or one of its `targets`) with what the kind needs.
pub(super) fn check_target(
    kind: &KindInfo,
    target: Option<&str>,
    targets: &BTreeMap<String, TargetSpec>,
    place: &str,
    field: &str,
    problems: &mut Problems,
) {
    let wanted = match (kind.target, target) {
        (TargetNeed::None, None) | (TargetNeed::Optional(_), None) => return,
        (TargetNeed::None, Some(_)) => {
            problems.push(
                place,
                field,
                format!("kind {} does not use a target; remove it", kind.name),
            );
            return;
        }
        (TargetNeed::Required(t), None) => {
            problems.push(
                place,
                field,
                format!(
                    "kind {} needs a {} target; add `target: <name>`",
                    kind.name,
                    type_list(t)
                ),
            );
            return;
        }
        (TargetNeed::Optional(t) | TargetNeed::Required(t), Some(_)) => t,
    };
    let name = target.unwrap_or_default();
    match targets.get(name) {
        None => {
            let mut known: Vec<&str> = targets.keys().map(String::as_str).collect();
            known.sort_unstable();
            problems.push(
                place,
                field,
                format!(
                    "unknown target {name:?}; defined targets: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        }
        Some(spec) if !wanted.iter().any(|w| spec.target_type().satisfies(*w)) => problems.push(
            place,
            field,
            format!(
                "target {name:?} is a {} target, but kind {} needs a {} target",
                spec.target_type().as_str(),
                kind.name,
                type_list(wanted)
            ),
        ),
        Some(_) => {}
    }
}

/// `http`, `http or postgres` ...
pub(super) fn type_list(types: &[TargetType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.join(" or ")
}
