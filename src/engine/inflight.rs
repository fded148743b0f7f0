//! Evaluations in flight, by planned check (its id, never its name: a run of
//! a check a reload replaced is not shared with the new one): a check never
//! runs twice at once.
//! A second caller (the scheduler, `/probe`) that asks while one runs waits
//! for it and shares its result; if the running one is dropped (its caller
//! went away), a waiter takes over and runs the check itself.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use super::{evaluate, Evaluation, Plan, PlannedCheck};

#[derive(Debug, Default)]
pub struct InFlight {
    running: Mutex<HashMap<u64, watch::Receiver<Option<Evaluation>>>>,
}

enum Role {
    Lead(watch::Sender<Option<Evaluation>>),
    Follow(watch::Receiver<Option<Evaluation>>),
}

/// Removes the lead's entry when its evaluation ends or is dropped.
struct Leading<'a> {
    inflight: &'a InFlight,
    id: u64,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let mut running = self
            .inflight
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.remove(&self.id);
    }
}

impl InFlight {
    /// Evaluates `planned`, or shares the evaluation already running.
    pub async fn evaluate(&self, planned: &PlannedCheck, plan: &Plan) -> Evaluation {
        let id = planned.id;
        loop {
            let role = {
                let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
                match running.get(&id) {
                    Some(rx) => Role::Follow(rx.clone()),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        running.insert(id, rx);
                        Role::Lead(tx)
                    }
                }
            };
            match role {
                Role::Lead(tx) => {
                    let _leading = Leading { inflight: self, id };
                    let evaluation = evaluate(planned, &plan.semaphore, &plan.redactor).await;
                    let _ = tx.send(Some(evaluation.clone()));
                    return evaluation;
                }
                Role::Follow(mut rx) => {
                    if let Ok(done) = rx.wait_for(Option::is_some).await {
                        if let Some(evaluation) = done.clone() {
                            return evaluation;
                        }
                    }
                    // The lead was dropped before it finished: take over.
                }
            }
        }
    }
}
