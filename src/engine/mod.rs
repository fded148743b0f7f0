//! The engine owns the current plan, runs it on schedule and writes results
//! to the store. Reload swaps the plan atomically; a bad config never replaces
//! a running one. Nothing here renders output.

pub mod gate;
pub mod inflight;
pub mod kinds;
pub mod plan;
mod resolve;
pub mod run_once;
mod schedule;
pub mod shard;
pub mod store;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::checks::{Context, Outcome};
use crate::clock::unix_seconds;
use crate::config::{format_duration, ConfigErrors};
use crate::redact::Redactor;
pub use gate::{FailOn, Gate, ItemResult, ItemRun, Verdict};
pub use inflight::InFlight;
pub use plan::{load_plan, load_plan_reusing, Plan, PlannedCheck};
pub use run_once::{run_once, run_phase, Order};
pub use schedule::{first_round_spread, Applied, Scheduler, SchedulerShared};
pub use shard::Shard;
pub use store::{CheckMeta, CheckRecord, History, Store, StoredOutcome};

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
        Err(_) => Outcome::error(match ctx.trace_lines().last() {
            // The step it was at: "connecting to ...", "scanning ...".
            Some(step) => format!("timed out after {} at: {step}", format_duration(timeout)),
            None => format!("timed out after {}", format_duration(timeout)),
        }),
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
    let trace: Vec<String> = ctx
        .trace_lines()
        .iter()
        .map(|l| crate::redact::mask_url_passwords(&redactor.redact(l)))
        .collect();
    if tracing::enabled!(tracing::Level::DEBUG) {
        for step in &trace {
            tracing::debug!(check = %planned.spec.name, step = %step, "Check step.");
        }
    }
    Evaluation {
        outcome,
        duration,
        finished: SystemTime::now(),
        trace,
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
        store.set_checks(plan.checks.iter().map(CheckMeta::from_planned).collect());
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
                self.store
                    .set_checks(plan.checks.iter().map(CheckMeta::from_planned).collect());
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
        if !planned.spec.probe {
            if planned.kind.side_effects {
                return Err(ProbeRefusal::SideEffects(format!(
                    "kind {} acts on its target (commands, bursts or injection strings)",
                    planned.kind.name
                )));
            }
            if let Some(what) = planned.check.side_effects() {
                return Err(ProbeRefusal::SideEffects(format!(
                    "check {name} {what}, which may change what its target holds"
                )));
            }
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
    /// What the check does beyond reading.
    SideEffects(String),
}
