//! The result store: the last evaluation of every configured check. Written by
//! the scheduler, read by every reader; a reader never waits on a live system,
//! only on a short lock around memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use super::Evaluation;
use super::PlannedCheck;
use crate::checks::{Category, Outcome, Severity, State};

/// Static facts about a configured check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckMeta {
    pub name: String,
    /// The planned check's id (see `PlannedCheck::id`).
    pub check_id: u64,
    pub kind: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Target name ("" when the check has none).
    pub target: String,
    pub unit: &'static str,
    /// `measured` or `attestation`.
    pub source: &'static str,
    /// The checklist item it evidences ("" for none).
    pub item: &'static str,
    /// Evaluated only by `check` runs, never by the daemon.
    pub gate_only: bool,
    /// User labels, all on `prodready_check_info`.
    pub labels: Vec<(String, String)>,
    /// The allow-listed user labels, also on the state series.
    pub series_labels: Vec<(String, String)>,
    pub description: Option<String>,
    pub interval: Duration,
    pub index: usize,
    /// Waivers of the check itself (not of one finding), expired included.
    pub waivers: Vec<crate::config::Waiver>,
}

impl CheckMeta {
    pub fn from_planned(planned: &PlannedCheck) -> Self {
        let spec = &planned.spec;
        CheckMeta {
            name: spec.name.clone(),
            check_id: planned.id,
            kind: planned.kind.name,
            category: planned.category,
            severity: spec.severity,
            target: spec.target.clone().unwrap_or_default(),
            unit: planned.kind.unit,
            source: planned.kind.source.as_str(),
            item: planned.item.map_or("", |i| i.id),
            gate_only: spec.gate_only,
            labels: spec.labels.clone().into_iter().collect(),
            series_labels: spec.series_labels.clone(),
            description: spec.description.clone(),
            interval: spec.interval,
            index: spec.index,
            waivers: spec
                .waivers
                .iter()
                .filter(|w| w.finding.is_none())
                .cloned()
                .collect(),
        }
    }
}

/// A check with its latest result and counters.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    /// Shared, so that readers copy a pointer, not the strings.
    pub meta: std::sync::Arc<CheckMeta>,
    /// `None` until the first evaluation ends.
    pub outcome: Option<Outcome>,
    pub last_run: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub duration: Duration,
    pub runs: u64,
    pub errors: u64,
    /// The states of the last `HISTORY` evaluations, oldest first.
    pub history: std::collections::VecDeque<State>,
}

/// Evaluations whose states each record keeps (status page, JSON API).
pub const HISTORY: usize = 20;

impl CheckRecord {
    fn new(meta: CheckMeta) -> Self {
        CheckRecord {
            meta: std::sync::Arc::new(meta),
            outcome: None,
            last_run: None,
            last_success: None,
            duration: Duration::ZERO,
            runs: 0,
            errors: 0,
            history: std::collections::VecDeque::new(),
        }
    }

    pub fn state(&self) -> State {
        self.outcome.as_ref().map_or(State::Unknown, |o| o.state)
    }

    /// The waiver that lets this check through at `now`, if one holds.
    pub fn active_waiver(&self, now: i64) -> Option<&crate::config::Waiver> {
        crate::config::active_check_waiver(&self.meta.waivers, now)
    }

    /// Applies one evaluation.
    pub fn apply(&mut self, evaluation: &Evaluation) {
        self.runs += 1;
        if evaluation.outcome.state == State::Error {
            self.errors += 1;
        }
        if evaluation.outcome.state == State::Pass {
            self.last_success = Some(evaluation.finished);
        }
        self.last_run = Some(evaluation.finished);
        self.duration = evaluation.duration;
        self.outcome = Some(evaluation.outcome.clone());
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(evaluation.outcome.state);
    }
}

/// The latest results, keyed by check name.
#[derive(Debug, Default)]
pub struct Store {
    records: RwLock<HashMap<String, CheckRecord>>,
    first_round_done: AtomicBool,
    /// Bumped when the set of checks changes (reload).
    structure_generation: AtomicU64,
    /// Bumped on every stored evaluation.
    results_generation: AtomicU64,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the store hold exactly these checks: results of checks that stay
    /// are kept, checks that were removed vanish at once.
    pub fn set_checks(&self, metas: Vec<CheckMeta>) {
        let mut records = self.records.write().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::with_capacity(metas.len());
        for meta in metas {
            // A check taken over unchanged keeps its results; a rebuilt one
            // (another spec, `gate_only` switched, a changed file) keeps only
            // its counters (they never go back): no result of the old check
            // speaks for the new one.
            let record = match records.remove(&meta.name) {
                Some(mut r) if r.meta.check_id == meta.check_id => {
                    r.meta = std::sync::Arc::new(meta);
                    r
                }
                Some(old) => CheckRecord {
                    runs: old.runs,
                    errors: old.errors,
                    ..CheckRecord::new(meta)
                },
                None => CheckRecord::new(meta),
            };
            next.insert(record.meta.name.clone(), record);
        }
        *records = next;
        self.structure_generation.fetch_add(1, Ordering::SeqCst);
        self.update_ready(&records);
    }

    /// Stores an evaluation of the planned check `check_id` (ignored when
    /// that check was removed or rebuilt by a reload meanwhile).
    pub fn record(&self, name: &str, check_id: u64, evaluation: &Evaluation) -> Option<State> {
        let mut records = self.records.write().unwrap_or_else(|e| e.into_inner());
        let record = records
            .get_mut(name)
            .filter(|r| r.meta.check_id == check_id)?;
        let previous = record.outcome.as_ref().map(|o| o.state);
        record.apply(evaluation);
        self.results_generation.fetch_add(1, Ordering::SeqCst);
        self.update_ready(&records);
        previous
    }

    fn update_ready(&self, records: &HashMap<String, CheckRecord>) {
        if !self.first_round_done.load(Ordering::Relaxed)
            && records.values().all(|r| r.runs > 0 || r.meta.gate_only)
        {
            self.first_round_done.store(true, Ordering::Relaxed);
        }
    }

    /// (structure, results) generations, for caches of rendered output.
    pub fn generations(&self) -> (u64, u64) {
        (
            self.structure_generation.load(Ordering::SeqCst),
            self.results_generation.load(Ordering::SeqCst),
        )
    }

    /// True once every check of the first config has been evaluated once.
    pub fn first_round_done(&self) -> bool {
        self.first_round_done.load(Ordering::Relaxed)
    }

    /// Every record, in config order (then by name).
    pub fn snapshot(&self) -> Vec<CheckRecord> {
        self.map_sorted(CheckRecord::clone)
    }

    /// Applies `f` to every record in config order, under one short read lock.
    pub fn map_sorted<T>(&self, f: impl Fn(&CheckRecord) -> T) -> Vec<T> {
        let records = self.records.read().unwrap_or_else(|e| e.into_inner());
        let mut sorted: Vec<&CheckRecord> = records.values().collect();
        // The checks one entry makes over several targets share its index.
        sorted.sort_by(|a, b| (a.meta.index, &a.meta.name).cmp(&(b.meta.index, &b.meta.name)));
        sorted.into_iter().map(f).collect()
    }

    pub fn get(&self, name: &str) -> Option<CheckRecord> {
        let records = self.records.read().unwrap_or_else(|e| e.into_inner());
        records.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    fn meta(check_id: u64) -> CheckMeta {
        CheckMeta {
            name: "web".into(),
            check_id,
            kind: "http",
            category: crate::vocab::Category::Operations,
            severity: crate::vocab::Severity::Warning,
            target: String::new(),
            unit: "",
            source: "measured",
            item: "",
            gate_only: false,
            labels: Vec::new(),
            series_labels: Vec::new(),
            description: None,
            interval: Duration::from_secs(60),
            index: 0,
            waivers: Vec::new(),
        }
    }

    fn evaluation(outcome: Outcome) -> Evaluation {
        Evaluation {
            outcome,
            duration: Duration::ZERO,
            finished: SystemTime::now(),
            trace: Vec::new(),
        }
    }

    /// Results belong to the planned check: a rebuilt check starts without
    /// the old one's state, and a run of the old one that ends late never
    /// writes into the new one.
    #[test]
    fn results_belong_to_the_planned_check_not_the_name() {
        let store = Store::new();
        store.set_checks(vec![meta(1)]);
        store.record("web", 1, &evaluation(Outcome::pass("200")));
        assert_eq!(store.snapshot()[0].state(), State::Pass);
        // A reload rebuilt it (say, now gate_only or expecting 500).
        store.set_checks(vec![meta(2)]);
        let record = &store.snapshot()[0];
        assert_eq!(record.state(), State::Unknown);
        assert_eq!(record.runs, 1, "counters never go back");
        // The old plan's run finishing now is dropped.
        assert_eq!(
            store.record("web", 1, &evaluation(Outcome::pass("200"))),
            None
        );
        assert_eq!(store.snapshot()[0].state(), State::Unknown);
        store.record("web", 2, &evaluation(Outcome::fail("got 200, want 500")));
        assert_eq!(store.snapshot()[0].state(), State::Fail);
        // Taken over unchanged: results stay.
        store.set_checks(vec![meta(2)]);
        assert_eq!(store.snapshot()[0].state(), State::Fail);
    }
}
