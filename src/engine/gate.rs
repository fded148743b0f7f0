//! The pre-deployment gate, in one place: which states fail it
//! (`--fail-on`, `--allow-unknown`), which items (`--allow-uncovered`, items a
//! stopped phase never ran), where a phase stops, and the verdict of a run.
//! The CLI maps flags to a `Gate` and the verdict to an exit code; the
//! runner asks it where to stop; renderers only read it.

use serde::Serialize;

use super::CheckRecord;
use crate::config::{active_check_waiver, Waiver};
use crate::vocab::State;

/// The lowest state that fails a gate run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Warn,
    Fail,
    Error,
}

impl FailOn {
    /// Whether a state reaches this level on [`State::rank`]'s ladder (pass <
    /// warn < unknown < fail < error): an `error` (nothing verified) reaches
    /// every level; an `unknown` let through by `--allow-unknown` only `warn`.
    fn reached_by(self, state: State) -> bool {
        let floor = match self {
            FailOn::Warn => State::Warn,
            FailOn::Fail => State::Fail,
            FailOn::Error => State::Error,
        };
        state.rank() >= floor.rank()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Warn => "warn",
            FailOn::Fail => "fail",
            FailOn::Error => "error",
        }
    }
}

/// What fails a gate run: states at or above `fail_on`; `unknown` (nothing
/// verified: the seed's rule is every item `:ok`) unless allowed; in a
/// phase, an item no check covers unless allowed, and always an item the
/// phase never ran because it stopped before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gate {
    pub fail_on: FailOn,
    /// `--allow-unknown`: an `unknown` check counts like a `warn`.
    pub allow_unknown: bool,
    /// `--allow-uncovered`: an item no check covers is let through.
    pub allow_uncovered: bool,
    /// The time waivers are judged at (Unix seconds, the run's start): a
    /// waiver holding then lets its check or item through.
    #[serde(skip)]
    pub now: i64,
}

/// How a phase dealt with one checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRun {
    /// Its checks ran; the item's state is the worst of theirs.
    Ran,
    /// No check covers it.
    Uncovered,
    /// The phase stopped at an earlier item: nothing about it is known.
    NotRun,
}

/// What a phase run found for one checklist item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub id: &'static str,
    pub title: &'static str,
    pub state: State,
    pub run: ItemRun,
    /// The checks that evidence the item, in config order.
    pub checks: Vec<String>,
    /// Why the item has this state when no check says it (uncovered, not run).
    pub note: Option<String>,
    /// The waiver letting the item through: its own, or, when every check
    /// of it that fails the gate is waived, the first of theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<crate::config::Waiver>,
}

/// The gate's answer for a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// No check ran and no item failed: a gate that checks nothing cannot pass.
    NothingChecked,
}

impl Gate {
    /// Whether a check (or a covered item) in this state fails the gate.
    pub fn fails(self, state: State) -> bool {
        if state == State::Unknown && !self.allow_unknown {
            return true;
        }
        self.fail_on.reached_by(state)
    }

    /// Whether a check's record fails the gate: its state does and no
    /// waiver of it holds at the gate's `now`. A waiver never changes the
    /// state; it lets the check through until it expires.
    pub fn fails_record(self, record: &CheckRecord) -> bool {
        self.fails_unwaived(record.state(), record.active_waiver(self.now))
    }

    /// Whether `state` fails the gate with `waiver` (the check's own,
    /// holding at `now`) absent.
    fn fails_unwaived(self, state: State, waiver: Option<&Waiver>) -> bool {
        self.fails(state) && waiver.is_none()
    }

    /// The waiver that lets a failing state through, when the state fails
    /// the gate and `waiver` (the check's own, holding at `now`) is there:
    /// what reports show as a waived failure (JUnit `<skipped>`).
    pub fn waived_failure(self, state: State, waiver: Option<&Waiver>) -> Option<&Waiver> {
        waiver.filter(|_| self.fails(state))
    }

    /// Whether an evaluation of a check with `waivers` stops a fail-fast
    /// run: its state fails the gate and no check waiver holds at `now`.
    pub fn stops_fail_fast(self, state: State, waivers: &[Waiver]) -> bool {
        self.fails_unwaived(state, active_check_waiver(waivers, self.now))
    }

    /// The state and note of a phase item no check covers: `unknown` when
    /// the gate allows uncovered items, else `fail`.
    pub fn uncovered_item(self) -> (State, &'static str) {
        if self.allow_uncovered {
            (
                State::Unknown,
                "covered by no check (allowed by --allow-uncovered)",
            )
        } else {
            (
                State::Fail,
                "covered by no check: add a check for it or set `item:` on one",
            )
        }
    }

    /// An item is waived by its checks when every check of it that fails
    /// the gate has a check waiver holding at `now` (`failing` holds one
    /// entry per failing check: its waiver, or `None`): the first waiver
    /// lets it through.
    pub fn item_waived_by_checks(self, failing: Vec<Option<Waiver>>) -> Option<Waiver> {
        failing
            .into_iter()
            .collect::<Option<Vec<Waiver>>>()
            .and_then(|all| all.into_iter().next())
    }

    /// Whether a phase item fails the gate. An item the phase never ran
    /// fails whatever `--allow-unknown` says: its checks were not skipped for
    /// lack of data but because an earlier item failed.
    pub fn fails_item(self, item: &ItemResult) -> bool {
        match item.run {
            ItemRun::Ran => self.fails(item.state) && item.waiver.is_none(),
            ItemRun::Uncovered => !self.allow_uncovered && item.waiver.is_none(),
            ItemRun::NotRun => true,
        }
    }

    /// The stop rule of a phase: it stops at the first item the gate fails,
    /// so `--fail-on error` runs on past a `fail`.
    pub fn stops_phase(self, item: &ItemResult) -> bool {
        self.fails_item(item)
    }

    /// The verdict over a run's check records and, for a phase, its items.
    pub fn verdict(self, records: &[CheckRecord], items: Option<&[ItemResult]>) -> Verdict {
        let items = items.unwrap_or_default();
        if records.iter().any(|r| self.fails_record(r)) || items.iter().any(|i| self.fails_item(i))
        {
            Verdict::Failed
        } else if records.is_empty() {
            Verdict::NothingChecked
        } else {
            Verdict::Passed
        }
    }

    /// Whether the run passes the gate.
    pub fn passes(self, records: &[CheckRecord], items: Option<&[ItemResult]>) -> bool {
        self.verdict(records, items) == Verdict::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(fail_on: FailOn) -> Gate {
        Gate {
            fail_on,
            allow_unknown: false,
            allow_uncovered: false,
            now: 0,
        }
    }

    fn item(state: State, run: ItemRun) -> ItemResult {
        ItemResult {
            id: "deployment.backup_database",
            title: "Back up the database",
            state,
            run,
            checks: vec!["db_backup".into()],
            note: None,
            waiver: None,
        }
    }

    #[test]
    fn fail_on_ladder() {
        assert!(gate(FailOn::Warn).fails(State::Warn));
        assert!(!gate(FailOn::Fail).fails(State::Warn));
        assert!(gate(FailOn::Fail).fails(State::Fail));
        assert!(gate(FailOn::Fail).fails(State::Error));
        assert!(!gate(FailOn::Error).fails(State::Fail));
        assert!(gate(FailOn::Error).fails(State::Error));
        assert!(!gate(FailOn::Warn).fails(State::Pass));
    }

    #[test]
    fn unknown_fails_unless_allowed_and_then_counts_like_warn() {
        for fail_on in [FailOn::Warn, FailOn::Fail, FailOn::Error] {
            assert!(gate(fail_on).fails(State::Unknown));
        }
        let lenient = |fail_on| Gate {
            allow_unknown: true,
            ..gate(fail_on)
        };
        assert!(!lenient(FailOn::Fail).fails(State::Unknown));
        assert!(!lenient(FailOn::Error).fails(State::Unknown));
        assert!(lenient(FailOn::Warn).fails(State::Unknown));
    }

    #[test]
    fn a_phase_stops_where_the_gate_fails_not_at_any_non_pass() {
        let failing = item(State::Fail, ItemRun::Ran);
        assert!(gate(FailOn::Fail).stops_phase(&failing));
        assert!(!gate(FailOn::Error).stops_phase(&failing));
        assert!(!gate(FailOn::Fail).stops_phase(&item(State::Warn, ItemRun::Ran)));
        assert!(gate(FailOn::Warn).stops_phase(&item(State::Warn, ItemRun::Ran)));
    }

    #[test]
    fn an_item_not_run_fails_whatever_allow_unknown_says() {
        let lenient = Gate {
            fail_on: FailOn::Error,
            allow_unknown: true,
            allow_uncovered: true,
            now: 0,
        };
        let not_run = item(State::Unknown, ItemRun::NotRun);
        assert!(lenient.fails_item(&not_run));
        assert!(!lenient.fails_item(&item(State::Unknown, ItemRun::Ran)));
        assert_eq!(lenient.verdict(&[], Some(&[not_run])), Verdict::Failed);
    }

    #[test]
    fn uncovered_items_fail_unless_allowed() {
        let uncovered = item(State::Fail, ItemRun::Uncovered);
        assert!(gate(FailOn::Error).fails_item(&uncovered));
        let allowed = Gate {
            allow_uncovered: true,
            ..gate(FailOn::Fail)
        };
        assert!(!allowed.fails_item(&uncovered));
        // Nothing ran and nothing failed: no verdict to give.
        assert_eq!(
            allowed.verdict(&[], Some(&[uncovered])),
            Verdict::NothingChecked
        );
    }

    /// The rules the runner and the reporters ask: an uncovered item's
    /// state, an item waived only when every failing check is, a waiver that
    /// lets a failing state through (and not a passing one).
    #[test]
    fn item_and_waiver_rules() {
        let strict = gate(FailOn::Fail);
        assert_eq!(strict.uncovered_item().0, State::Fail);
        let lenient = Gate {
            allow_uncovered: true,
            ..strict
        };
        assert_eq!(lenient.uncovered_item().0, State::Unknown);
        let w = crate::config::Waiver {
            name: "w".into(),
            check: Some("c".into()),
            item: None,
            finding: None,
            reason: "r".into(),
            owner: "o".into(),
            expires: "2099-01-01".into(),
            expires_at: i64::MAX,
            source: "config".into(),
        };
        assert!(strict
            .item_waived_by_checks(vec![Some(w.clone()), None])
            .is_none());
        assert_eq!(
            strict
                .item_waived_by_checks(vec![Some(w.clone())])
                .map(|w| w.name),
            Some("w".to_owned())
        );
        assert!(strict.waived_failure(State::Fail, Some(&w)).is_some());
        assert!(strict.waived_failure(State::Pass, Some(&w)).is_none());
        assert!(!strict.stops_fail_fast(State::Fail, std::slice::from_ref(&w)));
        assert!(strict.stops_fail_fast(State::Fail, &[]));
        assert!(!strict.stops_fail_fast(State::Warn, &[]));
    }
}
