//! The one-shot runner behind `check`: evaluates a selection of a plan's
//! checks once, concurrently under the plan's own semaphore or one by one in
//! config order, or a gate phase item by item in the seed's order, and
//! returns the results in a fresh store. Where to stop is the gate's call.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::gate::{Gate, ItemResult, ItemRun};
use super::{evaluate, CheckMeta, Evaluation, Plan, PlannedCheck, Store};
use crate::checklist::{item_state, phase_items, Phase};
use crate::checks::{Outcome, State};
use crate::config::{active_check_waiver, Waiver};

/// How a one-shot run proceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Every selected check at once, bounded by `global.concurrency`.
    Concurrent,
    /// One by one in config order; with `fail_fast`, the checks after the
    /// first one the gate fails are recorded as `unknown` (skipped).
    Sequential { fail_fast: bool },
}

/// Evaluates the checks at `selected` (indexes into `plan.checks`) once.
pub async fn run_once(plan: &Arc<Plan>, selected: &[usize], order: Order, gate: Gate) -> Store {
    let store = Store::new();
    store.set_checks(
        selected
            .iter()
            .filter_map(|&i| plan.checks.get(i))
            .map(CheckMeta::from_planned)
            .collect(),
    );
    match order {
        Order::Sequential { fail_fast } => {
            let mut stopped = false;
            for planned in selected.iter().filter_map(|&i| plan.checks.get(i)) {
                if stopped {
                    let why = "skipped: an earlier check failed (--fail-fast)";
                    store.record(&planned.spec.name, planned.id, &skipped(why.to_owned()));
                    continue;
                }
                let evaluation = evaluate(planned, &plan.semaphore, &plan.redactor).await;
                if fail_fast
                    && gate.stops_fail_fast(evaluation.outcome.state, &planned.spec.waivers)
                {
                    stopped = true;
                }
                store.record(&planned.spec.name, planned.id, &evaluation);
            }
        }
        Order::Concurrent => {
            let mut tasks = tokio::task::JoinSet::new();
            for &i in selected {
                let plan = plan.clone();
                tasks.spawn(async move {
                    let planned = plan.checks.get(i)?;
                    let evaluation = evaluate(planned, &plan.semaphore, &plan.redactor).await;
                    Some((planned.spec.name.clone(), planned.id, evaluation))
                });
            }
            while let Some(joined) = tasks.join_next().await {
                if let Ok(Some((name, id, evaluation))) = joined {
                    store.record(&name, id, &evaluation);
                }
            }
        }
    }
    store
}

/// Runs a gate phase the seed's way: its items in order, each item's checks
/// in config order, stopping at the first item the gate fails (its later
/// items are not run, their checks skipped as `unknown`). An item no check
/// covers is `fail` unless the gate allows uncovered items.
pub async fn run_phase(plan: &Arc<Plan>, phase: Phase, gate: Gate) -> (Store, Vec<ItemResult>) {
    let store = Store::new();
    let mut selected: Vec<&Arc<PlannedCheck>> = Vec::new();
    let mut items = Vec::new();
    for item in phase_items(phase) {
        let checks: Vec<&Arc<PlannedCheck>> = plan
            .checks
            .iter()
            .filter(|c| c.item.is_some_and(|i| i.id == item.id))
            .collect();
        selected.extend(checks.iter().copied());
        items.push((item, checks));
    }
    store.set_checks(
        selected
            .iter()
            .map(|c| CheckMeta::from_planned(c))
            .collect(),
    );
    let mut results = Vec::new();
    let mut stopped: Option<&'static str> = None;
    for (item, checks) in items {
        let names: Vec<String> = checks.iter().map(|c| c.spec.name.clone()).collect();
        let result = if let Some(at) = stopped {
            for c in &checks {
                store.record(
                    &c.spec.name,
                    c.id,
                    &skipped(format!("skipped: the phase stopped at item {at}")),
                );
            }
            ItemResult {
                id: item.id,
                title: item.title,
                state: State::Unknown,
                run: ItemRun::NotRun,
                checks: names,
                note: Some(format!("not run: the phase stopped at item {at}")),
                waiver: None,
            }
        } else if checks.is_empty() {
            let (state, note) = gate.uncovered_item();
            ItemResult {
                id: item.id,
                title: item.title,
                state,
                run: ItemRun::Uncovered,
                checks: names,
                note: Some(note.to_owned()),
                waiver: item_waiver(plan, item.id, gate.now),
            }
        } else {
            let mut states = Vec::new();
            // The waivers of the checks that fail the gate; one missing
            // (`None`) and the item is not waived by its checks.
            let mut check_waivers: Vec<Option<Waiver>> = Vec::new();
            for c in &checks {
                let evaluation = evaluate(c, &plan.semaphore, &plan.redactor).await;
                states.push(evaluation.outcome.state);
                if gate.fails(evaluation.outcome.state) {
                    check_waivers.push(active_check_waiver(&c.spec.waivers, gate.now).cloned());
                }
                store.record(&c.spec.name, c.id, &evaluation);
            }
            let by_checks = gate.item_waived_by_checks(check_waivers);
            ItemResult {
                id: item.id,
                title: item.title,
                state: item_state(states),
                run: ItemRun::Ran,
                checks: names,
                note: None,
                waiver: item_waiver(plan, item.id, gate.now).or(by_checks),
            }
        };
        if stopped.is_none() && gate.stops_phase(&result) {
            stopped = Some(item.id);
        }
        results.push(result);
    }
    (store, results)
}

fn skipped(why: String) -> Evaluation {
    Evaluation {
        outcome: Outcome::unknown(why),
        duration: Duration::ZERO,
        finished: SystemTime::now(),
        trace: Vec::new(),
    }
}

/// The waiver of checklist item `id` holding at `now`, if any.
fn item_waiver(plan: &Plan, id: &str, now: i64) -> Option<Waiver> {
    plan.config
        .waivers
        .iter()
        .find(|w| w.item.as_deref() == Some(id) && w.active_at(now))
        .cloned()
}
