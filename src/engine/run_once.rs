//! The one-shot runner behind `check`: evaluates a selection of a plan's
//! checks once, concurrently under the plan's own semaphore or one by one in
//! config order, and returns the results in a fresh store.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{evaluate, CheckMeta, Evaluation, Plan, Store};
use crate::checks::{Outcome, State};

/// How a one-shot run proceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Every selected check at once, bounded by `global.concurrency`.
    Concurrent,
    /// One by one in config order; with `fail_fast`, the checks after the
    /// first one whose state `stops` are recorded as `unknown` (skipped).
    Sequential { fail_fast: bool },
}

/// Evaluates the checks at `selected` (indexes into `plan.checks`) once.
pub async fn run_once(
    plan: &Arc<Plan>,
    selected: &[usize],
    order: Order,
    stops: impl Fn(State) -> bool,
) -> Store {
    let store = Store::new();
    store.set_checks(
        selected
            .iter()
            .filter_map(|&i| plan.checks.get(i))
            .map(|c| CheckMeta::from_planned(c))
            .collect(),
    );
    match order {
        Order::Sequential { fail_fast } => {
            let mut stopped = false;
            for planned in selected.iter().filter_map(|&i| plan.checks.get(i)) {
                if stopped {
                    let skipped = Evaluation {
                        outcome: Outcome::unknown("skipped: an earlier check failed (--fail-fast)"),
                        duration: Duration::ZERO,
                        finished: SystemTime::now(),
                        trace: Vec::new(),
                    };
                    store.record(&planned.spec.name, &skipped);
                    continue;
                }
                let evaluation = evaluate(planned, &plan.semaphore, &plan.redactor).await;
                if fail_fast && stops(evaluation.outcome.state) {
                    stopped = true;
                }
                store.record(&planned.spec.name, &evaluation);
            }
        }
        Order::Concurrent => {
            let mut tasks = tokio::task::JoinSet::new();
            for &i in selected {
                let plan = plan.clone();
                tasks.spawn(async move {
                    let planned = plan.checks.get(i)?;
                    let evaluation = evaluate(planned, &plan.semaphore, &plan.redactor).await;
                    Some((planned.spec.name.clone(), evaluation))
                });
            }
            while let Some(joined) = tasks.join_next().await {
                if let Ok(Some((name, evaluation))) = joined {
                    store.record(&name, &evaluation);
                }
            }
        }
    }
    store
}
