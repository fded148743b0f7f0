//! The result store: the last evaluation of every configured check. Written by
//! the scheduler, read by every reader; a reader never waits on a live system,
//! only on a short lock around memory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::Evaluation;
use super::PlannedCheck;
use crate::checks::{Category, Outcome, Severity, State};

/// Static facts about a configured check: a handle on the planned check
/// (one pointer, every fact read from it), so the store copies no name,
/// label or waiver of its own.
#[derive(Clone)]
pub struct CheckMeta(Arc<PlannedCheck>);

impl CheckMeta {
    pub fn from_planned(planned: &Arc<PlannedCheck>) -> Self {
        CheckMeta(planned.clone())
    }

    pub fn name(&self) -> &str {
        &self.0.spec.name
    }

    /// The planned check's id (see `PlannedCheck::id`).
    pub fn check_id(&self) -> u64 {
        self.0.id
    }

    pub fn kind(&self) -> &'static str {
        self.0.kind.name
    }

    pub fn category(&self) -> Category {
        self.0.category
    }

    pub fn severity(&self) -> Severity {
        self.0.spec.severity
    }

    /// Target name ("" when the check has none).
    pub fn target(&self) -> &str {
        self.0.spec.target.as_deref().unwrap_or_default()
    }

    pub fn unit(&self) -> &'static str {
        self.0.kind.unit
    }

    /// `measured` or `attestation`.
    pub fn source(&self) -> &'static str {
        self.0.kind.source.as_str()
    }

    /// The checklist item it evidences ("" for none).
    pub fn item(&self) -> &'static str {
        self.0.item.map_or("", |i| i.id)
    }

    /// Evaluated only by `check` runs, never by the daemon.
    pub fn gate_only(&self) -> bool {
        self.0.spec.gate_only
    }

    /// User labels, all on `prodready_check_info`.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .spec
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The allow-listed user labels, also on the state series.
    pub fn series_labels(&self) -> &[(String, String)] {
        &self.0.spec.series_labels
    }

    pub fn description(&self) -> Option<&str> {
        self.0.spec.description.as_deref()
    }

    pub fn interval(&self) -> Duration {
        self.0.spec.interval
    }

    pub fn index(&self) -> usize {
        self.0.spec.index
    }

    /// Waivers of the check itself (not of one finding), expired included.
    pub fn waivers(&self) -> impl Iterator<Item = &crate::config::Waiver> + Clone {
        self.0.spec.waivers.iter().filter(|w| w.finding.is_none())
    }

    /// The waiver that lets this check through at `now`, if one holds.
    pub fn active_waiver(&self, now: i64) -> Option<&crate::config::Waiver> {
        crate::config::active_check_waiver(&self.0.spec.waivers, now)
    }
}

/// The same planned check.
impl PartialEq for CheckMeta {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for CheckMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckMeta")
            .field("name", &self.name())
            .field("check_id", &self.check_id())
            .finish_non_exhaustive()
    }
}

/// A check with its latest result and counters.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    /// A pointer: readers copy it, not the strings.
    pub meta: CheckMeta,
    /// `None` until the first evaluation ends.
    pub outcome: Option<StoredOutcome>,
    pub last_run: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub duration: Duration,
    pub runs: u64,
    pub errors: u64,
    /// The states of the last `HISTORY` evaluations.
    pub history: History,
}

/// An outcome as the store keeps it: the evidence as compact JSON text,
/// parsed again when a reader asks for it (status page, API, reports). A
/// one-key evidence map kept as a map costs a 550-byte B-tree leaf per
/// check; its text, tens of bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOutcome {
    pub state: State,
    pub observed: Option<f64>,
    pub threshold: Option<f64>,
    pub message: Box<str>,
    /// The evidence map as JSON text; `None` when empty.
    evidence: Option<Box<str>>,
    /// How many entries `evidence.waived_findings` lists, when it is there.
    pub waived_findings: Option<u64>,
    /// The check's own cause, or the target fault its `error` message reports.
    pub cause: Option<crate::vocab::Cause>,
}

impl StoredOutcome {
    pub fn new(outcome: &Outcome) -> Self {
        let evidence = (!outcome.evidence.is_empty())
            .then(|| serde_json::to_string(&outcome.evidence).ok())
            .flatten()
            .map(String::into_boxed_str);
        StoredOutcome {
            state: outcome.state,
            observed: outcome.observed,
            threshold: outcome.threshold,
            message: outcome.message.as_str().into(),
            evidence,
            waived_findings: Self::waived_findings_of(outcome),
            cause: outcome.cause.or_else(|| {
                (outcome.state == State::Error)
                    .then(|| crate::vocab::Cause::of_error_message(&outcome.message))
                    .flatten()
            }),
        }
    }

    /// How many findings an outcome lists as waived, when it lists any.
    pub fn waived_findings_of(outcome: &Outcome) -> Option<u64> {
        let list = outcome.evidence.get("waived_findings")?.as_array()?;
        // Kinds list a bounded number and count the rest.
        let omitted = outcome
            .evidence
            .get("waived_findings_omitted")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        Some(list.len() as u64 + omitted)
    }

    pub fn has_evidence(&self) -> bool {
        self.evidence.is_some()
    }

    /// The evidence map (parsed from the text this store wrote).
    pub fn evidence(&self) -> serde_json::Map<String, serde_json::Value> {
        self.evidence
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }

    /// The outcome as the check returned it.
    pub fn to_outcome(&self) -> Outcome {
        Outcome {
            state: self.state,
            observed: self.observed,
            threshold: self.threshold,
            message: self.message.to_string(),
            evidence: self.evidence(),
            cause: self.cause,
        }
    }
}

/// The states of the last `HISTORY` evaluations, three bits each in one
/// word (a queue of 20 states would cost a 32-byte allocation and its
/// header per check).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    packed: u64,
    len: u8,
}

impl History {
    const BITS: u32 = 3;
    const MASK: u64 = 0b111;

    /// A state's code: its place in `State::ALL`.
    pub fn push(&mut self, state: State) {
        let code = State::ALL
            .iter()
            .position(|s| *s == state)
            // Every state is in ALL; one that were not would read back as
            // unknown (no code of ALL), never as pass.
            .map_or(Self::MASK, |i| i as u64);
        let kept = (1u64 << (Self::BITS * HISTORY as u32)) - 1;
        self.packed = ((self.packed << Self::BITS) & kept) | code;
        self.len = (self.len + 1).min(HISTORY as u8);
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = State> + ExactSizeIterator + '_ {
        (0..u32::from(self.len)).rev().map(move |age| {
            let code = ((self.packed >> (age * Self::BITS)) & Self::MASK) as usize;
            State::ALL.get(code).copied().unwrap_or(State::Unknown)
        })
    }
}

/// Evaluations whose states each record keeps (status page, JSON API).
pub const HISTORY: usize = 20;

impl CheckRecord {
    fn new(meta: CheckMeta) -> Self {
        CheckRecord {
            meta,
            outcome: None,
            last_run: None,
            last_success: None,
            duration: Duration::ZERO,
            runs: 0,
            errors: 0,
            history: History::default(),
        }
    }

    pub fn state(&self) -> State {
        self.outcome.as_ref().map_or(State::Unknown, |o| o.state)
    }

    /// The waiver that lets this check through at `now`, if one holds.
    pub fn active_waiver(&self, now: i64) -> Option<&crate::config::Waiver> {
        self.meta.active_waiver(now)
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
        self.outcome = Some(StoredOutcome::new(&evaluation.outcome));
        self.history.push(evaluation.outcome.state);
    }
}

/// The records in config order, with an index by name: one vector of
/// exactly the checks' size instead of a hash table of records (whose spare
/// capacity held up to twice their size).
#[derive(Debug, Default)]
struct Table {
    /// In config order (index, then name: the checks one entry makes over
    /// several targets share its index).
    records: Vec<CheckRecord>,
    /// Positions in `records`, sorted by check name.
    by_name: Vec<u32>,
    /// Scheduled checks not evaluated yet.
    pending: usize,
}

impl Table {
    fn new(mut records: Vec<CheckRecord>) -> Table {
        records.sort_by(|a, b| {
            (a.meta.index(), &a.meta.name()).cmp(&(b.meta.index(), &b.meta.name()))
        });
        let mut by_name: Vec<u32> = (0..records.len() as u32).collect();
        by_name.sort_by(|&a, &b| {
            records[a as usize]
                .meta
                .name()
                .cmp(records[b as usize].meta.name())
        });
        let pending = records
            .iter()
            .filter(|r| r.runs == 0 && !r.meta.gate_only())
            .count();
        Table {
            records,
            by_name,
            pending,
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        let found = self
            .by_name
            .binary_search_by(|&i| self.records[i as usize].meta.name().cmp(name))
            .ok()?;
        Some(self.by_name[found] as usize)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut CheckRecord> {
        let at = self.position(name)?;
        self.records.get_mut(at)
    }
}

/// The latest results, by check name.
#[derive(Debug, Default)]
pub struct Store {
    table: RwLock<Table>,
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

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the store hold exactly these checks: results of checks that stay
    /// are kept, checks that were removed vanish at once.
    pub fn set_checks(&self, metas: Vec<CheckMeta>) {
        let mut table = self.write();
        let old = std::mem::take(&mut *table);
        // Where each check was, found before any record is moved out.
        let positions: Vec<Option<usize>> = metas.iter().map(|m| old.position(m.name())).collect();
        let mut old_records: Vec<Option<CheckRecord>> = old.records.into_iter().map(Some).collect();
        let mut records = Vec::with_capacity(metas.len());
        for (meta, at) in metas.into_iter().zip(positions) {
            let previous = at.and_then(|i| old_records[i].take());
            // A check taken over unchanged keeps its results; a rebuilt one
            // (another spec, `gate_only` switched, a changed file) keeps only
            // its counters (they never go back): no result of the old check
            // speaks for the new one.
            let record = match previous {
                Some(mut r) if r.meta.check_id() == meta.check_id() => {
                    r.meta = meta;
                    r
                }
                Some(old) => CheckRecord {
                    runs: old.runs,
                    errors: old.errors,
                    ..CheckRecord::new(meta)
                },
                None => CheckRecord::new(meta),
            };
            records.push(record);
        }
        *table = Table::new(records);
        self.structure_generation.fetch_add(1, Ordering::SeqCst);
        self.update_ready(&table);
    }

    /// Stores an evaluation of the planned check `check_id` (ignored when
    /// that check was removed or rebuilt by a reload meanwhile).
    pub fn record(&self, name: &str, check_id: u64, evaluation: &Evaluation) -> Option<State> {
        let mut table = self.write();
        let record = table
            .get_mut(name)
            .filter(|r| r.meta.check_id() == check_id)?;
        let previous = record.outcome.as_ref().map(|o| o.state);
        let first = record.runs == 0 && !record.meta.gate_only();
        record.apply(evaluation);
        if first {
            table.pending = table.pending.saturating_sub(1);
        }
        self.results_generation.fetch_add(1, Ordering::SeqCst);
        self.update_ready(&table);
        previous
    }

    fn update_ready(&self, table: &Table) {
        if !self.first_round_done.load(Ordering::Relaxed) && table.pending == 0 {
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
        self.read().records.iter().map(f).collect()
    }

    pub fn get(&self, name: &str) -> Option<CheckRecord> {
        let table = self.read();
        let at = table.position(name)?;
        table.records.get(at).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    /// A check named `web` as planned check `check_id`.
    fn meta(check_id: u64) -> CheckMeta {
        named("web", check_id)
    }

    /// A check named `name` as planned check `check_id`.
    fn named(name: &str, check_id: u64) -> CheckMeta {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(
            &file,
            format!("checks:\n  - {{ name: {name}, kind: http, params: {{ url: \"http://127.0.0.1:1/\" }} }}\n"),
        )
        .unwrap();
        let plan = super::super::load_plan(&file).unwrap();
        let built = &plan.checks[0];
        CheckMeta::from_planned(&Arc::new(PlannedCheck {
            id: check_id,
            spec: built.spec.clone(),
            kind: built.kind,
            category: built.category,
            item: built.item,
            check: built.check.clone(),
        }))
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

    #[test]
    fn history_keeps_the_last_twenty_states_oldest_first() {
        let mut history = History::default();
        assert!(history.is_empty());
        let states = [
            State::Pass,
            State::Warn,
            State::Fail,
            State::Error,
            State::Unknown,
        ];
        let pushed: Vec<State> = (0..27).map(|i| states[i % 5]).collect();
        for s in &pushed {
            history.push(*s);
        }
        assert_eq!(history.len(), HISTORY);
        let kept: Vec<State> = history.iter().collect();
        assert_eq!(kept, pushed[pushed.len() - HISTORY..]);
        let mut short = History::default();
        short.push(State::Fail);
        short.push(State::Pass);
        assert_eq!(short.iter().collect::<Vec<_>>(), [State::Fail, State::Pass]);
    }

    #[test]
    fn a_stored_outcome_gives_back_what_the_check_returned() {
        let mut outcome = Outcome::fail("2 findings").observed(2.0).threshold(0.0);
        outcome
            .evidence
            .insert("root".into(), serde_json::json!("/srv/app"));
        outcome.evidence.insert(
            "waived_findings".into(),
            serde_json::json!([{"rule": "aws"}, {"rule": "gcp"}, {"rule": "x"}]),
        );
        let stored = StoredOutcome::new(&outcome);
        assert!(stored.has_evidence());
        assert_eq!(stored.waived_findings, Some(3));
        assert_eq!(stored.to_outcome(), outcome);
        let bare = StoredOutcome::new(&Outcome::pass("ok"));
        assert!(!bare.has_evidence());
        assert_eq!(bare.waived_findings, None);
        assert!(bare.evidence().is_empty());
    }

    /// A reload keeps every kept check's results, whatever the order of
    /// the checks in the file against the order of their names.
    #[test]
    fn a_reload_keeps_the_results_of_every_kept_check() {
        let store = Store::new();
        let order = ["m", "b", "z", "a", "q"];
        let metas = || {
            order
                .iter()
                .enumerate()
                .map(|(i, n)| named(n, i as u64 + 1))
        };
        store.set_checks(metas().collect());
        for (i, name) in order.iter().enumerate() {
            store.record(name, i as u64 + 1, &evaluation(Outcome::pass("ok")));
        }
        store.set_checks(metas().collect());
        for name in order {
            let record = store.get(name).expect(name);
            assert_eq!(record.state(), State::Pass, "{name} lost its result");
            assert_eq!(record.runs, 1);
        }
        assert!(store.get("nope").is_none());
    }
}
