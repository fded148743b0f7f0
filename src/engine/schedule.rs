//! The scheduler: runs the plan's checks on their intervals from one driver
//! task and a heap of due times. An idle check costs an entry in the heap and
//! one in a map, not a task of its own; a task exists only while a check
//! evaluates. Applying a new plan starts only the checks that are new or
//! changed and stops only those removed or changed (in-flight evaluations of
//! stopped checks are cancelled).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::{current, random_fraction, AbortOnDrop, PlanCell, PlannedCheck, Store};
use crate::checks::State;

/// What `Scheduler::apply` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Checks that kept their schedule (pools and results kept too).
    pub kept: usize,
    /// Checks started, new or changed.
    pub started: usize,
    /// Checks stopped, removed or changed.
    pub stopped: usize,
}

/// What every evaluation shares.
#[derive(Debug)]
pub struct SchedulerShared {
    /// Shared with `/probe`, so that a check never runs twice at once.
    pub inflight: super::InFlight,
    /// How late evaluations begin against their schedule, in seconds.
    pub lateness: prometheus_client::metrics::histogram::Histogram,
}

impl Default for SchedulerShared {
    fn default() -> Self {
        SchedulerShared {
            inflight: super::InFlight::default(),
            lateness: prometheus_client::metrics::histogram::Histogram::new(
                LATENESS_BUCKETS.iter().copied(),
            ),
        }
    }
}

/// Bucket bounds of `prodready_scheduler_lateness_seconds`.
const LATENESS_BUCKETS: [f64; 10] = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0];

/// How long the first round of `checks` checks is spread over: about a
/// thousand first evaluations a second (at least 0.1 s, at most 60 s, and
/// never more than a check's own interval), so a large config or a reload
/// that starts many checks causes no thundering herd.
pub fn first_round_spread(checks: usize) -> Duration {
    Duration::from_secs_f64((checks as f64 / 1000.0).clamp(0.1, 60.0))
}

/// One scheduled check.
struct Entry {
    planned: Arc<PlannedCheck>,
    /// Rounds begun so far (the jitter's seed).
    round: u64,
    /// The evaluation running now, if any; dropping the entry cancels it.
    running: Option<tokio::task::AbortHandle>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
        }
    }
}

/// The checks and when each is next due, by planned check id (a check a
/// reload replaced has a new id, so a stale heap item never matches it).
#[derive(Default)]
struct Slots {
    entries: HashMap<u64, Entry>,
    due: BinaryHeap<Reverse<(Instant, u64)>>,
}

#[derive(Default)]
struct Inner {
    slots: Mutex<Slots>,
    /// Wakes the driver when a due time earlier than its sleep is added.
    wake: Notify,
}

impl Inner {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Schedules check `id` at `at`, waking the driver if that is earlier
    /// than anything it waits for.
    fn schedule(&self, slots: &mut Slots, id: u64, at: Instant) {
        let earliest = slots.due.peek().is_none_or(|Reverse((next, _))| at < *next);
        slots.due.push(Reverse((at, id)));
        if earliest {
            self.wake.notify_one();
        }
    }
}

/// Runs the plan's checks. See the module docs.
#[derive(Default)]
pub struct Scheduler {
    inner: Arc<Inner>,
    driver: Mutex<Option<AbortOnDrop>>,
    pub shared: Arc<SchedulerShared>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("checks", &self.inner.slots().entries.len())
            .finish_non_exhaustive()
    }
}

/// What an evaluation task needs besides its check.
#[derive(Clone)]
struct Run {
    cell: PlanCell,
    store: Arc<Store>,
    shared: Arc<SchedulerShared>,
    inner: Arc<Inner>,
}

impl Scheduler {
    /// Makes the scheduled checks those of the plan in `cell`: checks the
    /// plan took over from the previous one keep their schedule and any
    /// evaluation in flight; the others start, spread over
    /// `first_round_spread`; checks no longer planned stop.
    pub fn apply(&self, cell: &PlanCell, store: &Arc<Store>) -> Applied {
        let plan = current(cell);
        let run = Run {
            cell: cell.clone(),
            store: store.clone(),
            shared: self.shared.clone(),
            inner: self.inner.clone(),
        };
        let mut applied = Applied::default();
        let mut slots = self.inner.slots();
        let mut old = std::mem::take(&mut slots.entries);
        // Gate-only checks run in `check` runs, never on a schedule.
        let scheduled = || plan.checks.iter().filter(|c| !c.spec.gate_only);
        // Ids are unique to a built check: one the plan took over keeps its
        // id, one it rebuilt has a new id.
        let starting = scheduled().filter(|c| !old.contains_key(&c.id)).count();
        let spread = first_round_spread(starting);
        let now = Instant::now();
        for planned in scheduled() {
            match old.remove(&planned.id) {
                // The plan took this very check over from the previous one:
                // its heap item stays valid.
                Some(entry) => {
                    applied.kept += 1;
                    slots.entries.insert(planned.id, entry);
                }
                None => {
                    applied.started += 1;
                    let at = now
                        + spread
                            .min(planned.spec.interval)
                            .mul_f64(random_fraction(&planned.spec.name, 0));
                    slots.entries.insert(
                        planned.id,
                        Entry {
                            planned: planned.clone(),
                            round: 0,
                            running: None,
                        },
                    );
                    self.inner.schedule(&mut slots, planned.id, at);
                }
            }
        }
        // What is left was removed or rebuilt; dropping it cancels in-flight
        // evaluations. Their heap items go too, so that reloads of checks
        // with long intervals do not pile them up until they come due.
        applied.stopped += old.len();
        if !old.is_empty() {
            let Slots { entries, due } = &mut *slots;
            due.retain(|Reverse((_, id))| entries.contains_key(id));
        }
        drop(slots);
        drop(old);
        let mut driver = self.driver.lock().unwrap_or_else(|e| e.into_inner());
        if driver.is_none() {
            *driver = Some(AbortOnDrop(tokio::spawn(drive(run)).abort_handle()));
        }
        applied
    }

    /// Stops every check (in-flight evaluations are cancelled) and the driver.
    pub fn stop(&self) {
        self.driver.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut slots = self.inner.slots();
        slots.entries.clear();
        slots.due.clear();
    }
}

/// Starts every check that is due, then sleeps until the next one is (or a
/// newly scheduled check is due earlier).
async fn drive(run: Run) {
    loop {
        let next = {
            let mut slots = run.inner.slots();
            let now = Instant::now();
            let mut next = None;
            while let Some(Reverse((at, id))) = slots.due.peek().copied() {
                if at > now {
                    next = Some(at);
                    break;
                }
                slots.due.pop();
                let Some(entry) = slots.entries.get_mut(&id) else {
                    // Stopped since it was scheduled.
                    continue;
                };
                entry.round += 1;
                let task = tokio::spawn(evaluate_round(
                    entry.planned.clone(),
                    run.clone(),
                    at,
                    entry.round,
                ));
                entry.running = Some(task.abort_handle());
            }
            next
        };
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = run.inner.wake.notified() => {}
                }
            }
            None => run.inner.wake.notified().await,
        }
    }
}

/// One evaluation of a due check: records its result, logs a change of
/// state and schedules the next round (interval with +-5% jitter).
async fn evaluate_round(planned: Arc<PlannedCheck>, run: Run, due: Instant, round: u64) {
    let spec = &planned.spec;
    let started = Instant::now();
    let plan = current(&run.cell);
    let evaluation = run.shared.inflight.evaluate(&planned, &plan).await;
    drop(plan);
    // How late the evaluation began (after waiting for a concurrency slot)
    // against its schedule.
    let began = Instant::now()
        .checked_sub(evaluation.duration)
        .unwrap_or(started);
    run.shared
        .lateness
        .observe(began.saturating_duration_since(due).as_secs_f64());
    let state = evaluation.outcome.state;
    debug!(check = %spec.name, state = %state, duration_ms = evaluation.duration.as_millis() as u64, "Check evaluated.");
    let previous = run.store.record(&spec.name, planned.id, &evaluation);
    if previous != Some(state) {
        let from = previous.map_or("none", State::as_str);
        if matches!(state, State::Fail | State::Error) {
            warn!(check = %spec.name, from, to = %state, reason = %evaluation.outcome.message, "Check state changed.");
        } else {
            info!(check = %spec.name, from, to = %state, reason = %evaluation.outcome.message, "Check state changed.");
        }
    }
    let factor = 0.95 + 0.1 * random_fraction(&spec.name, round);
    let mut next = started + spec.interval.mul_f64(factor);
    // A finding waiver the result leaned on acts at its expiry, not at the
    // next round (an hour later with a 1h interval): run again then.
    let now = crate::clock::unix_now();
    if let Some(deadline) = waiver_deadline(spec, &evaluation.outcome, now) {
        let until = Duration::from_secs(deadline.saturating_sub(now).unsigned_abs() + 1);
        next = next.min(Instant::now() + until);
    }
    let mut slots = run.inner.slots();
    // A check stopped meanwhile is gone (and this task is being cancelled).
    if let Some(entry) = slots.entries.get_mut(&planned.id) {
        // Done: forget the handle without cancelling.
        entry.running = None;
        run.inner.schedule(&mut slots, planned.id, next);
    }
}

/// When the earliest finding waiver a result leaned on stops holding (Unix
/// seconds, after `now`): the check's own finding waivers from the config,
/// and the waivers its evaluation lists as used (ignore-file entries among
/// them).
fn waiver_deadline(
    spec: &crate::config::CheckSpec,
    outcome: &crate::checks::Outcome,
    now: i64,
) -> Option<i64> {
    let config = spec
        .waivers
        .iter()
        .filter(|w| w.finding.is_some())
        .map(|w| w.expires_at);
    let used = outcome
        .evidence
        .get("waived_findings")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f["waiver"]["expires"].as_str())
        .filter_map(crate::config::end_of_day);
    config.chain(used).filter(|t| *t > now).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{load_plan, Engine};

    /// A result that leaned on a finding waiver is run again when the
    /// waiver stops holding.
    #[test]
    fn a_finding_waivers_expiry_is_a_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        let expires = crate::clock::date_of(crate::clock::unix_now() + 2 * 86_400);
        std::fs::write(
            &file,
            format!(
                "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: /tmp, advisory_db: /tmp }} }}\nwaivers:\n  - {{ check: deps, finding: {{ advisory: GHSA-x }}, reason: r, owner: o, expires: \"{expires}\" }}\n"
            ),
        )
        .unwrap();
        let plan = load_plan(&file).unwrap();
        let spec = &plan.checks[0].spec;
        let now = crate::clock::unix_now();
        let outcome = crate::checks::Outcome::pass("ok");
        let config_deadline = crate::config::end_of_day(&expires);
        assert_eq!(waiver_deadline(spec, &outcome, now), config_deadline);
        // An ignore-file waiver the evaluation used, expiring sooner.
        let sooner = crate::clock::date_of(now);
        let used = outcome.clone().evidence(
            "waived_findings",
            serde_json::json!([{ "waiver": { "expires": sooner } }]),
        );
        assert_eq!(
            waiver_deadline(spec, &used, now),
            crate::config::end_of_day(&sooner)
        );
        // Past deadlines are none.
        assert_eq!(waiver_deadline(spec, &outcome, now + 400 * 86_400), None);
    }

    fn engine_with(dir: &std::path::Path, checks: usize, interval: &str) -> Arc<Engine> {
        let file = dir.join("config.yaml");
        let entries: String = (0..checks)
            .map(|i| format!("  - {{ name: c{i}, kind: env_secret, params: {{ variable: PRODREADY_TEST_UNSET_{i} }} }}\n"))
            .collect();
        std::fs::write(
            &file,
            format!("global: {{ interval: {interval}, timeout: 1s }}\nchecks:\n{entries}"),
        )
        .unwrap();
        Engine::new(&file, load_plan(&file).unwrap(), None)
    }

    /// An idle check is an entry in the heap, not a task: after the first
    /// round of 500 checks, only the driver (and the runtime's own) remain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_checks_hold_no_task() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_with(dir.path(), 500, "1h");
        let before = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        engine.start();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !engine.store.first_round_done() {
            assert!(
                std::time::Instant::now() < deadline,
                "the first round did not end"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The last evaluations' tasks end right after they store.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let alive = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        assert!(
            alive <= before + 1,
            "{alive} tasks alive after the first round ({before} before start)"
        );
        assert_eq!(
            engine
                .store
                .snapshot()
                .iter()
                .filter(|r| r.runs == 1)
                .count(),
            500
        );
        engine.stop();
    }

    /// Applying a plan without some checks stops them: their heap items
    /// are skipped and they never run again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_removed_check_is_never_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_with(dir.path(), 3, "1s");
        let scheduler = Scheduler::default();
        let plan = engine.plan();
        let cell: PlanCell = Arc::new(std::sync::RwLock::new(plan.clone()));
        let applied = scheduler.apply(&cell, &engine.store);
        assert_eq!(
            applied,
            Applied {
                kept: 0,
                started: 3,
                stopped: 0
            }
        );
        // The same plan again: every check keeps its schedule.
        let applied = scheduler.apply(&cell, &engine.store);
        assert_eq!(
            applied,
            Applied {
                kept: 3,
                started: 0,
                stopped: 0
            }
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while engine.store.snapshot().iter().any(|r| r.runs < 2) {
            assert!(
                std::time::Instant::now() < deadline,
                "checks did not run every second"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A plan with none of them.
        let empty = dir.path().join("empty.yaml");
        std::fs::write(&empty, "checks: []\n").unwrap();
        *cell.write().unwrap() = Arc::new(load_plan(&empty).unwrap());
        let applied = scheduler.apply(&cell, &engine.store);
        assert_eq!(
            applied,
            Applied {
                kept: 0,
                started: 0,
                stopped: 3
            }
        );
        assert_eq!(
            scheduler.inner.slots().due.len(),
            0,
            "stale heap items kept"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let runs = |e: &Engine| e.store.snapshot().iter().map(|r| r.runs).sum::<u64>();
        let stopped_at = runs(&engine);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(runs(&engine), stopped_at, "a stopped check ran again");
        assert_eq!(scheduler.inner.slots().entries.len(), 0);
        scheduler.stop();
    }
}
