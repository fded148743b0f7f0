//! The engine owns the current plan, runs it on schedule and writes results
//! to the store. Reload swaps the plan atomically; a bad config never replaces
//! a running one. Nothing here renders output.

pub mod gate;
pub mod inflight;
pub mod kinds;
pub mod plan;
mod resolve;
pub mod run_once;
pub mod shard;
pub mod store;

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::checks::{Context, Outcome, State};
use crate::clock::unix_seconds;
use crate::config::{format_duration, ConfigErrors};
use crate::redact::Redactor;
pub use gate::{FailOn, Gate, ItemResult, ItemRun, Verdict};
pub use inflight::InFlight;
pub use plan::{load_plan, load_plan_reusing, Plan, PlannedCheck};
pub use run_once::{run_once, run_phase, Order};
pub use shard::Shard;
pub use store::{CheckMeta, CheckRecord, Store};

/// One finished evaluation, already redacted.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub outcome: Outcome,
    pub duration: Duration,
    pub finished: SystemTime,
    /// Steps the check recorded (for `/probe?debug=true`).
    pub trace: Vec<String>,
}

/// Aborts a spawned task when dropped: dropping a `JoinHandle` alone does not.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs one check under its timeout and the global concurrency limit. A hung
/// check is abandoned at its timeout; a panicking check becomes `error`.
pub async fn evaluate(
    planned: &PlannedCheck,
    semaphore: &Semaphore,
    redactor: &Redactor,
) -> Evaluation {
    let _permit = semaphore.acquire().await;
    let started = Instant::now();
    let ctx = Context::new(&planned.spec.name);
    let timeout = planned.spec.timeout;
    let task = {
        let check = planned.check.clone();
        let ctx = ctx.clone();
        tokio::spawn(async move { check.evaluate(&ctx).await })
    };
    // Cancelling this evaluation (reload, shutdown) must stop the check too.
    let _abort = AbortOnDrop(task.abort_handle());
    let mut outcome = match tokio::time::timeout(timeout, task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(join_error)) => Outcome::error(format!(
            "the check crashed ({}); this is a bug, please report it",
            if join_error.is_panic() {
                "panic"
            } else {
                "cancelled"
            }
        )),
        Err(_) => Outcome::error(format!("timed out after {}", format_duration(timeout))),
    };
    let duration = started.elapsed();
    if outcome.observed.is_some_and(|v| !v.is_finite()) {
        outcome.observed = None;
    }
    if outcome.threshold.is_some_and(|v| !v.is_finite()) {
        outcome.threshold = None;
    }
    outcome.message = redactor.redact(&outcome.message);
    // Evidence keys too: `cors`, `authentication` and `authorization` key
    // their evidence by URL.
    redactor.redact_map(&mut outcome.evidence);
    Evaluation {
        outcome,
        duration,
        finished: SystemTime::now(),
        trace: ctx
            .trace_lines()
            .iter()
            .map(|l| redactor.redact(l))
            .collect(),
    }
}

/// A random fraction in [0, 1) for jitter.
fn random_fraction(seed: &str, round: u64) -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(seed.as_bytes());
    hasher.write_u64(round);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The plan in force, shared by the engine and every check task: tasks read
/// the current plan's concurrency limit and redactor on each run, so a check
/// kept across a reload follows the new ones.
pub type PlanCell = Arc<RwLock<Arc<Plan>>>;

fn current(cell: &PlanCell) -> Arc<Plan> {
    cell.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Evaluates one check forever on its interval (with +-5% jitter).
async fn run_forever(
    planned: Arc<PlannedCheck>,
    cell: PlanCell,
    store: Arc<Store>,
    shared: Arc<SchedulerShared>,
    first_spread: Duration,
) {
    let spec = &planned.spec;
    // Spread the first round so checks do not all start at once.
    let mut due = tokio::time::Instant::now()
        + first_spread
            .min(spec.interval)
            .mul_f64(random_fraction(&spec.name, 0));
    tokio::time::sleep_until(due).await;
    let mut round = 0u64;
    loop {
        round += 1;
        let started = tokio::time::Instant::now();
        let plan = current(&cell);
        // Boxed so that an idle check's task stays small: the evaluation's
        // state is allocated only while it runs.
        let evaluation = Box::pin(shared.inflight.evaluate(&planned, &plan)).await;
        drop(plan);
        // How late the evaluation began (after waiting for a concurrency
        // slot) against its schedule.
        let began = tokio::time::Instant::now()
            .checked_sub(evaluation.duration)
            .unwrap_or(started);
        shared
            .lateness
            .observe(began.saturating_duration_since(due).as_secs_f64());
        let state = evaluation.outcome.state;
        debug!(check = %spec.name, state = %state, duration_ms = evaluation.duration.as_millis() as u64, "Check evaluated.");
        let previous = store.record(&spec.name, planned.id, &evaluation);
        if previous != Some(state) {
            let from = previous.map_or("none", State::as_str);
            if matches!(state, State::Fail | State::Error) {
                warn!(check = %spec.name, from, to = %state, reason = %evaluation.outcome.message, "Check state changed.");
            } else {
                info!(check = %spec.name, from, to = %state, reason = %evaluation.outcome.message, "Check state changed.");
            }
        }
        let factor = 0.95 + 0.1 * random_fraction(&spec.name, round);
        due = started + spec.interval.mul_f64(factor);
        tokio::time::sleep_until(due).await;
    }
}

/// One scheduled check's task; dropping it aborts the task.
#[derive(Debug)]
struct Running {
    planned: Arc<PlannedCheck>,
    _task: AbortOnDrop,
}

impl std::fmt::Debug for AbortOnDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AbortOnDrop")
    }
}

/// What `Scheduler::apply` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Checks whose task kept running (schedule, pools and results kept).
    pub kept: usize,
    /// Checks started, new or changed.
    pub started: usize,
    /// Checks stopped, removed or changed.
    pub stopped: usize,
}

/// Runs one task per scheduled check. Applying a new plan starts only the
/// checks that are new or changed and stops only those removed or changed.
#[derive(Debug, Default)]
pub struct Scheduler {
    tasks: Mutex<HashMap<String, Running>>,
    pub shared: Arc<SchedulerShared>,
}

/// What every check task shares.
#[derive(Debug)]
pub struct SchedulerShared {
    /// Shared with `/probe`, so that a check never runs twice at once.
    pub inflight: InFlight,
    /// How late evaluations begin against their schedule, in seconds.
    pub lateness: prometheus_client::metrics::histogram::Histogram,
}

impl Default for SchedulerShared {
    fn default() -> Self {
        SchedulerShared {
            inflight: InFlight::default(),
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

impl Scheduler {
    pub fn apply(&self, cell: &PlanCell, store: &Arc<Store>) -> Applied {
        let plan = current(cell);
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let mut old = std::mem::take(&mut *tasks);
        let mut applied = Applied::default();
        let starting = plan
            .checks
            .iter()
            .filter(|c| !c.spec.gate_only)
            .filter(|c| {
                old.get(&c.spec.name)
                    .is_none_or(|r| !Arc::ptr_eq(&r.planned, c))
            })
            .count();
        let spread = first_round_spread(starting);
        // Gate-only checks run in `check` runs, never on a schedule.
        for planned in plan.checks.iter().filter(|c| !c.spec.gate_only) {
            let name = &planned.spec.name;
            match old.remove(name) {
                // The plan took this very check over from the previous one.
                Some(running) if Arc::ptr_eq(&running.planned, planned) => {
                    applied.kept += 1;
                    tasks.insert(name.clone(), running);
                }
                other => {
                    applied.stopped += usize::from(other.is_some());
                    applied.started += 1;
                    let handle = tokio::spawn(run_forever(
                        planned.clone(),
                        cell.clone(),
                        store.clone(),
                        self.shared.clone(),
                        spread,
                    ));
                    tasks.insert(
                        name.clone(),
                        Running {
                            planned: planned.clone(),
                            _task: AbortOnDrop(handle.abort_handle()),
                        },
                    );
                }
            }
        }
        // What is left was removed; dropping it aborts the tasks, including
        // in-flight evaluations.
        applied.stopped += old.len();
        applied
    }

    pub fn stop(&self) {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Outcome of the last reload attempt.
#[derive(Debug, Default)]
pub struct ReloadStatus {
    successful: AtomicBool,
    success_timestamp_bits: AtomicU64,
}

impl ReloadStatus {
    fn mark(&self, ok: bool) {
        self.successful.store(ok, Ordering::Relaxed);
        if ok {
            let now = unix_seconds(SystemTime::now());
            self.success_timestamp_bits
                .store(now.to_bits(), Ordering::Relaxed);
        }
    }

    pub fn successful(&self) -> bool {
        self.successful.load(Ordering::Relaxed)
    }

    pub fn success_timestamp(&self) -> f64 {
        f64::from_bits(self.success_timestamp_bits.load(Ordering::Relaxed))
    }
}

/// The running daemon's core: plan, scheduler, store and reload state.
#[derive(Debug)]
pub struct Engine {
    config_file: PathBuf,
    /// This replica's share of the checks, when the fleet is sharded.
    shard: Option<Shard>,
    plan: PlanCell,
    pub store: Arc<Store>,
    scheduler: Scheduler,
    pub reload_status: ReloadStatus,
    /// Held while a reload runs; holds the last reload's result, which
    /// callers whose request it covered are given (coalescing).
    reload_lock: tokio::sync::Mutex<Option<Result<usize, ConfigErrors>>>,
    /// Reload requests so far, and the count a running reload covers.
    reload_requests: AtomicU64,
    reload_covered: AtomicU64,
    /// `--web.config.file` and the web config file in force (chosen at start).
    web_config: std::sync::OnceLock<(Option<PathBuf>, Option<PathBuf>)>,
}

impl Engine {
    /// Records the `--web.config.file` flag and the web config file the
    /// listeners were started with: a reload that would choose another web
    /// config (one appearing where none was, another file, none any more)
    /// is refused, since it needs a restart.
    pub fn set_web_config(&self, flag: Option<PathBuf>, in_use: Option<PathBuf>) {
        let _ = self.web_config.set((flag, in_use));
    }

    pub fn new(config_file: &Path, mut plan: Plan, shard: Option<Shard>) -> Arc<Engine> {
        if let Some(shard) = shard {
            plan.retain_shard(shard);
        }
        plan.release_params();
        let store = Arc::new(Store::new());
        store.set_checks(
            plan.checks
                .iter()
                .map(|c| CheckMeta::from_planned(c))
                .collect(),
        );
        let engine = Engine {
            config_file: config_file.to_owned(),
            shard,
            plan: Arc::new(RwLock::new(Arc::new(plan))),
            store,
            scheduler: Scheduler::default(),
            reload_status: ReloadStatus::default(),
            reload_lock: tokio::sync::Mutex::new(None),
            reload_requests: AtomicU64::new(0),
            reload_covered: AtomicU64::new(0),
            web_config: std::sync::OnceLock::new(),
        };
        engine.reload_status.mark(true);
        Arc::new(engine)
    }

    pub fn plan(&self) -> Arc<Plan> {
        current(&self.plan)
    }

    /// The scheduler's lateness histogram (`/metrics`).
    pub fn lateness(&self) -> &prometheus_client::metrics::histogram::Histogram {
        &self.scheduler.shared.lateness
    }

    /// Starts evaluating the current plan.
    pub fn start(&self) {
        self.scheduler.apply(&self.plan, &self.store);
    }

    /// Stops every check task (in-flight evaluations are cancelled).
    pub fn stop(&self) {
        self.scheduler.stop();
    }

    /// Re-reads the config file. On error the running plan stays and the
    /// reload status says so.
    /// Requests that arrive while a reload runs are coalesced: the next
    /// reload reads the file once for all of them.
    pub async fn reload(&self) -> Result<usize, ConfigErrors> {
        let request = self.reload_requests.fetch_add(1, Ordering::SeqCst) + 1;
        let mut last = self.reload_lock.lock().await;
        if self.reload_covered.load(Ordering::SeqCst) >= request {
            // A reload that started after this request read the file.
            if let Some(result) = last.as_ref() {
                debug!("Reload coalesced with one that just ran.");
                return result.clone();
            }
        }
        self.reload_covered.store(
            self.reload_requests.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
        let result = self.reload_now().await;
        *last = Some(result.clone());
        result
    }

    async fn reload_now(&self) -> Result<usize, ConfigErrors> {
        let file = self.config_file.clone();
        let running = self.plan();
        // The file and every file it names are what the running plan was
        // built from (the environment cannot change): nothing to read.
        let inputs = running.config.inputs.clone();
        let same_file = file.clone();
        let was = running.clone();
        let unchanged = tokio::task::spawn_blocking(move || {
            inputs.unchanged(&same_file) && was.files_unchanged()
        })
        .await
        .unwrap_or(false);
        if unchanged {
            self.reload_status.mark(true);
            info!(
                checks = running.checks.len(),
                "Config unchanged; nothing restarted."
            );
            return Ok(running.checks.len());
        }
        let built = tokio::task::spawn_blocking(move || load_plan_reusing(&file, Some(&running)))
            .await
            .unwrap_or_else(|e| {
                Err(ConfigErrors(vec![crate::config::ConfigError {
                    file: self.config_file.display().to_string(),
                    place: String::new(),
                    field: String::new(),
                    message: format!("loading the config failed: {e}"),
                }]))
            });
        let built = built.map(|mut plan| {
            plan.release_params();
            if let Some(shard) = self.shard {
                plan.retain_shard(shard);
            }
            plan
        });
        let built = built.and_then(|plan| match self.web_config.get() {
            Some((flag, in_use)) if plan.config.web_config_file(flag.as_deref()) != *in_use => {
                let shown = |f: &Option<PathBuf>| {
                    f.as_ref()
                        .map_or_else(|| "none".to_owned(), |p| p.display().to_string())
                };
                Err(ConfigErrors(vec![crate::config::ConfigError {
                    file: self.config_file.display().to_string(),
                    place: "web".into(),
                    field: "config_file".into(),
                    message: format!(
                        "the web config in force is {}; the reloaded config chooses {}: changing it (TLS, authentication) needs a restart, so this reload is refused and the running config stays",
                        shown(in_use),
                        shown(&plan.config.web_config_file(flag.as_deref()))
                    ),
                }]))
            }
            _ => Ok(plan),
        });
        match built {
            Ok(plan) if plan.same_as(&self.plan()) => {
                // Nothing changed (secret files included): keep every
                // check's schedule, pools and results.
                self.reload_status.mark(true);
                info!(
                    checks = plan.checks.len(),
                    "Config unchanged; nothing restarted."
                );
                Ok(plan.checks.len())
            }
            Ok(plan) => {
                let count = plan.checks.len();
                if plan.config.web.listen_address != self.plan().config.web.listen_address {
                    warn!(
                        listen_address = %plan.config.web.listen_address,
                        "Changing web.listen_address needs a restart; keeping the current one."
                    );
                }
                let plan = Arc::new(plan);
                self.store.set_checks(
                    plan.checks
                        .iter()
                        .map(|c| CheckMeta::from_planned(c))
                        .collect(),
                );
                *self.plan.write().unwrap_or_else(|e| e.into_inner()) = plan;
                let applied = self.scheduler.apply(&self.plan, &self.store);
                self.reload_status.mark(true);
                info!(
                    checks = count,
                    kept = applied.kept,
                    started = applied.started,
                    stopped = applied.stopped,
                    "Config reloaded."
                );
                Ok(count)
            }
            Err(errors) => {
                self.reload_status.mark(false);
                for e in &errors.0 {
                    warn!(error = %e, "Config reload rejected; keeping the running config.");
                }
                Err(errors)
            }
        }
    }

    /// Reloads the config when a `file_sd_configs` file is added, removed or
    /// changed, looking every `refresh_interval` (the shortest of the
    /// entries). A change that fails to load is logged once (by the reload)
    /// and the running config stays until the files change again.
    pub async fn watch_target_files(self: Arc<Self>) {
        let mut attempted = None;
        loop {
            let every = self.plan().config.inputs.target_refresh();
            // Without target files, look again later: a reload may add some.
            tokio::time::sleep(every.unwrap_or(Duration::from_secs(10))).await;
            let inputs = self.plan().config.inputs.clone();
            let Ok(Some(now)) =
                tokio::task::spawn_blocking(move || inputs.target_files_changed()).await
            else {
                continue;
            };
            if attempted.as_ref() == Some(&now) {
                continue;
            }
            attempted = Some(now);
            info!("Target files changed; reloading the config.");
            let _ = self.reload().await;
        }
    }

    /// Evaluates one configured check now, outside the schedule, or shares
    /// its evaluation already running. Past `deadline` (the scrape timeout)
    /// the answer is an error.
    pub async fn probe(
        &self,
        name: &str,
        deadline: Option<Duration>,
    ) -> Result<(CheckMeta, Evaluation), ProbeRefusal> {
        let plan = self.plan();
        let planned = plan.check(name).ok_or(ProbeRefusal::NoSuchCheck)?.clone();
        if planned.spec.gate_only {
            return Err(ProbeRefusal::GateOnly);
        }
        if planned.kind.side_effects && !planned.spec.probe {
            return Err(ProbeRefusal::SideEffects(planned.kind.name));
        }
        let shared = self.scheduler.shared.inflight.evaluate(&planned, &plan);
        let evaluation = match deadline {
            None => shared.await,
            Some(limit) => match tokio::time::timeout(limit, shared).await {
                Ok(evaluation) => evaluation,
                Err(_) => Evaluation {
                    outcome: Outcome::error(format!(
                        "timed out after {} (the scrape timeout)",
                        format_duration(limit)
                    )),
                    duration: limit,
                    finished: SystemTime::now(),
                    trace: Vec::new(),
                },
            },
        };
        Ok((CheckMeta::from_planned(&planned), evaluation))
    }
}

/// Why `/probe` does not run a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeRefusal {
    NoSuchCheck,
    /// The check runs only in the gate (`gate_only`): never on demand.
    GateOnly,
    /// Its kind acts on the target (a command, bursts, injection strings)
    /// and the check does not opt in with `probe: true`.
    SideEffects(&'static str),
}
