//! `/metrics` encoding: the metrics contract (docs/design.md section 4), built at
//! scrape time from a snapshot of the result store, so a check removed by a
//! reload disappears at once. Labels are fixed and low-cardinality: check
//! names, categories, severities and states only; messages never become labels.

mod gzip;
mod incremental;
mod process;
mod targets;

pub use gzip::IncrementalGzip;
pub use incremental::{Incremental, TextPage};

use std::fmt::Write as _;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::checklist::{item_states, Item, ITEMS};
use crate::checks::{Category, State};
use crate::clock::unix_seconds;
use crate::engine::{CheckMeta, CheckRecord, Engine, Evaluation};

/// `Content-Type` of the Prometheus text format.
pub const PROMETHEUS_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// `Content-Type` of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Exposition format chosen from the scrape's `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Prometheus,
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => PROMETHEUS_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// What the metrics need of one check.
#[derive(Debug, Clone)]
struct Row {
    meta: CheckMeta,
    state: State,
    observed: Option<f64>,
    threshold: Option<f64>,
    duration: Option<f64>,
    last_run: Option<f64>,
    last_success: f64,
    runs: u64,
    errors: u64,
    /// Findings a finding waiver took out of the count (`waived_findings`).
    waived_findings: Option<u64>,
    /// The class of reason for its state, when there is one (`vocab::Cause`).
    cause: Option<crate::vocab::Cause>,
}

impl Row {
    fn from_record(r: &CheckRecord) -> Row {
        Row {
            meta: r.meta.clone(),
            state: r.state(),
            observed: r.outcome.as_ref().and_then(|o| o.observed),
            threshold: r.outcome.as_ref().and_then(|o| o.threshold),
            duration: r.last_run.map(|_| r.duration.as_secs_f64()),
            last_run: r.last_run.map(unix_seconds),
            last_success: r.last_success.map_or(0.0, unix_seconds),
            runs: r.runs,
            errors: r.errors,
            waived_findings: r.outcome.as_ref().and_then(|o| o.waived_findings),
            cause: r.outcome.as_ref().and_then(|o| o.cause),
        }
    }
}

/// Reads one optional number of a row.
type RowValue = fn(&Row) -> Option<f64>;

/// Which families a snapshot encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The whole page (or, without daemon facts, `/probe`'s check families).
    All,
    /// Only the per-check families, every one of them (see `incremental`).
    Rows,
    /// Only what is not per check: scores, checklist, waivers, the daemon.
    Globals,
}

/// Everything one scrape encodes.
#[derive(Debug)]
struct Snapshot {
    rows: Vec<Row>,
    /// `None` for `/probe`, which encodes only the check families.
    daemon: Option<DaemonFacts>,
    part: Part,
}

#[derive(Debug)]
struct DaemonFacts {
    /// Every configured waiver, and the time their activity is judged at.
    waivers: Vec<crate::config::Waiver>,
    now: i64,
    reload_successful: bool,
    reload_success_timestamp: f64,
    /// Every check has run once since the start (`/-/ready`).
    first_round_completed: bool,
    lateness: prometheus_client::metrics::histogram::Histogram,
    process: process::ProcessFacts,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let e = &mut encoder;
        if self.part != Part::Globals {
            self.encode_rows(e)?;
        }
        let (Some(daemon), false) = (&self.daemon, self.part == Part::Rows) else {
            return Ok(());
        };
        let mut m = e.encode_descriptor(
            "prodready_category_score_ratio",
            "Passing checks / evaluated checks (pass, warn, fail, error) per category",
            None,
            MetricType::Gauge,
        )?;
        for category in Category::ALL {
            if let Some(score) = score(self.rows.iter().filter(|r| r.meta.category() == category)) {
                let labels = vec![("category", category.as_str().to_owned())];
                ConstGauge::new(score).encode(m.encode_family(&labels)?)?;
            }
        }
        if let Some(overall) = score(self.rows.iter()) {
            let m = e.encode_descriptor(
                "prodready_score_ratio",
                "Passing checks / evaluated checks (pass, warn, fail, error) over all categories",
                None,
                MetricType::Gauge,
            )?;
            ConstGauge::new(overall).encode(m)?;
        }

        targets::encode_causes(e, &self.rows)?;
        encode_checklist(e, &self.rows)?;
        encode_waivers(e, &self.rows, &daemon.waivers, daemon.now)?;

        let m = e.encode_descriptor(
            "prodready_config_last_reload_successful",
            "1 when the last config (re)load succeeded, else 0",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(i64::from(daemon.reload_successful)).encode(m)?;
        let m = e.encode_descriptor(
            "prodready_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful config (re)load",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(daemon.reload_success_timestamp).encode(m)?;
        let m = e.encode_descriptor(
            "prodready_first_round_completed",
            "1 once every check has run since the exporter started (as /-/ready); until then a state may be a restart's, not a verdict",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(i64::from(daemon.first_round_completed)).encode(m)?;
        let m = e.encode_descriptor(
            "prodready_scheduler_lateness_seconds",
            "How late scheduled evaluations began against their schedule (waiting for a concurrency slot included)",
            None,
            MetricType::Histogram,
        )?;
        daemon.lateness.encode(m)?;

        let mut m = e.encode_descriptor(
            "prodready_build_info",
            "Version of prodready-exporter; always 1",
            None,
            MetricType::Gauge,
        )?;
        let labels = vec![
            ("version", env!("CARGO_PKG_VERSION").to_owned()),
            ("revision", crate::build_info::REVISION.to_owned()),
            ("branch", crate::build_info::BRANCH.to_owned()),
            ("rustc", crate::build_info::RUSTC.to_owned()),
            ("os", crate::build_info::OS.to_owned()),
            ("arch", crate::build_info::ARCH.to_owned()),
        ];
        ConstGauge::new(1i64).encode(m.encode_family(&labels)?)?;
        daemon.process.encode(e)?;
        Ok(())
    }
}

/// A check's series labels; they borrow from the row: no string is copied
/// per series.
fn check_labels(r: &Row) -> Vec<(&str, &str)> {
    let mut labels: Vec<(&str, &str)> = Vec::with_capacity(4 + r.meta.series_labels().len());
    labels.push(("check", r.meta.name()));
    labels.push(("category", r.meta.category().as_str()));
    labels.push(("severity", r.meta.severity().as_str()));
    labels.extend(
        r.meta
            .series_labels()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    labels
}

fn only_check(r: &Row) -> [(&str, &str); 1] {
    [("check", r.meta.name())]
}

impl Snapshot {
    /// The per-check families (for `/probe`, only its check's state and values).
    fn encode_rows(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let probe = self.daemon.is_none() && self.part == Part::All;
        self.encode_states(e)?;
        self.encode_values(e, probe)?;
        if probe {
            return Ok(());
        }
        self.encode_static(e)?;
        self.encode_counters(e)
    }

    /// Each check's state: `prodready_check_success` and `prodready_check_state`.
    fn encode_states(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut m = e.encode_descriptor(
            "prodready_check_success",
            "1 when the check's last state is pass, else 0",
            None,
            MetricType::Gauge,
        )?;
        for r in &self.rows {
            let labels = check_labels(r);
            ConstGauge::new(i64::from(r.state == State::Pass)).encode(m.encode_family(&labels)?)?;
        }

        let mut m = e.encode_descriptor(
            "prodready_check_state",
            "State of the check: 1 for the current state (pass, warn, fail, error, unknown), 0 for the others",
            None,
            MetricType::Gauge,
        )?;
        for r in &self.rows {
            let mut labels = check_labels(r);
            for state in State::ALL {
                labels.push(("state", state.as_str()));
                ConstGauge::new(i64::from(r.state == state)).encode(m.encode_family(&labels)?)?;
                labels.pop();
            }
        }
        Ok(())
    }

    /// What each check measured, its limit and timings, where it has them.
    fn encode_values(&self, e: &mut DescriptorEncoder, probe: bool) -> Result<(), std::fmt::Error> {
        // (name, help, value, on /probe): a probe's page has no last-run
        // timestamp (its result is not the stored one).
        let optional_families: [(&str, &str, RowValue, bool); 4] = [
            (
                "prodready_check_observed_value",
                "The value the check measured, in the unit named by the `unit` label of prodready_check_info (seconds, count, ratio, bytes ...)",
                |r| r.observed,
                true,
            ),
            (
                "prodready_check_threshold_value",
                "The limit the observed value was compared with",
                |r| r.threshold,
                true,
            ),
            (
                "prodready_check_duration_seconds",
                "Duration of the check's last evaluation",
                |r| r.duration,
                true,
            ),
            (
                "prodready_check_last_run_timestamp_seconds",
                "Unix time the check's last evaluation ended",
                |r| r.last_run,
                false,
            ),
        ];
        for (name, help, value, on_probe) in optional_families {
            if probe && !on_probe {
                continue;
            }
            let mut m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for r in &self.rows {
                if let Some(v) = value(r) {
                    ConstGauge::new(v).encode(m.encode_family(&only_check(r))?)?;
                }
            }
        }
        Ok(())
    }

    /// What the config says of each check: `prodready_check_info` and its interval.
    fn encode_static(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut m = e.encode_descriptor(
            "prodready_check_info",
            "Static facts about each configured check; always 1",
            None,
            MetricType::Gauge,
        )?;
        for r in &self.rows {
            let mut labels: Vec<(&str, &str)> = vec![
                ("check", r.meta.name()),
                ("kind", r.meta.kind()),
                ("category", r.meta.category().as_str()),
                ("severity", r.meta.severity().as_str()),
                ("target", r.meta.target()),
                ("unit", r.meta.unit()),
                ("item", r.meta.item()),
                ("source", r.meta.source()),
            ];
            labels.extend(r.meta.labels());
            ConstGauge::new(1i64).encode(m.encode_family(&labels)?)?;
        }

        let mut m = e.encode_descriptor(
            "prodready_check_interval_seconds",
            "Configured time between two evaluations of the check",
            None,
            MetricType::Gauge,
        )?;
        for r in &self.rows {
            ConstGauge::new(r.meta.interval().as_secs_f64())
                .encode(m.encode_family(&only_check(r))?)?;
        }
        Ok(())
    }

    /// Each check's history: its last success, runs and errors.
    fn encode_counters(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut m = e.encode_descriptor(
            "prodready_check_last_success_timestamp_seconds",
            "Unix time the check last passed; 0 if it never did",
            None,
            MetricType::Gauge,
        )?;
        for r in &self.rows {
            ConstGauge::new(r.last_success).encode(m.encode_family(&only_check(r))?)?;
        }

        for (name, help, value) in [
            (
                "prodready_check_runs",
                "Evaluations of the check since the exporter started",
                (|r: &Row| r.runs) as fn(&Row) -> u64,
            ),
            (
                "prodready_check_errors",
                "Evaluations of the check that ended in the error state",
                |r: &Row| r.errors,
            ),
        ] {
            let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
            for r in &self.rows {
                ConstCounter::new(value(r)).encode(m.encode_family(&only_check(r))?)?;
            }
        }
        Ok(())
    }
}

/// The checklist families: every one of the 41 items always present, so a
/// config that covers few items cannot show a perfect checklist score.
fn encode_checklist(e: &mut DescriptorEncoder, rows: &[Row]) -> Result<(), std::fmt::Error> {
    let items: Vec<(&Item, bool, State)> =
        item_states(rows.iter().map(|r| (r.meta.item(), r.state)))
            .into_iter()
            .map(|(item, state)| (item, state.is_some(), state.unwrap_or(State::Unknown)))
            .collect();
    let item_labels = |item: &Item| {
        vec![
            ("item", item.id.to_owned()),
            ("category", item.category.as_str().to_owned()),
        ]
    };
    let mut m = e.encode_descriptor(
        "prodready_checklist_item_covered",
        "1 when at least one configured check evidences the checklist item, else 0",
        None,
        MetricType::Gauge,
    )?;
    for (item, covered, _) in &items {
        ConstGauge::new(i64::from(*covered)).encode(m.encode_family(&item_labels(item))?)?;
    }
    let mut m = e.encode_descriptor(
        "prodready_checklist_item_state",
        "State of the checklist item: the worst state of its checks (unknown when uncovered); 1 for the current state, 0 for the other four",
        None,
        MetricType::Gauge,
    )?;
    for (item, _, state) in &items {
        for s in State::ALL {
            let mut labels = item_labels(item);
            labels.push(("state", s.as_str().to_owned()));
            ConstGauge::new(i64::from(*state == s)).encode(m.encode_family(&labels)?)?;
        }
    }
    let total = ITEMS.len() as f64;
    let covered = items.iter().filter(|(_, c, _)| *c).count() as f64;
    let passing = items
        .iter()
        .filter(|(_, c, s)| *c && *s == State::Pass)
        .count() as f64;
    let m = e.encode_descriptor(
        "prodready_checklist_coverage_ratio",
        "Checklist items evidenced by at least one check / all 41 items",
        None,
        MetricType::Gauge,
    )?;
    ConstGauge::new(covered / total).encode(m)?;
    let m = e.encode_descriptor(
        "prodready_checklist_score_ratio",
        "Checklist items whose checks all pass / all 41 items (uncovered items count as not passing)",
        None,
        MetricType::Gauge,
    )?;
    ConstGauge::new(passing / total).encode(m)?;
    Ok(())
}

/// The waiver families: which checks a waiver lets through now, when each
/// waiver expires, and the findings waived per check.
fn encode_waivers(
    e: &mut DescriptorEncoder,
    rows: &[Row],
    waivers: &[crate::config::Waiver],
    now: i64,
) -> Result<(), std::fmt::Error> {
    let mut m = e.encode_descriptor(
        "prodready_check_waived",
        "1 while a waiver lets the check through (its state is unchanged), 0 once its waivers expired; absent for checks no waiver names",
        None,
        MetricType::Gauge,
    )?;
    for r in rows.iter().filter(|r| r.meta.waivers().next().is_some()) {
        let active = r.meta.active_waiver(now).is_some();
        ConstGauge::new(i64::from(active)).encode(m.encode_family(&[("check", r.meta.name())])?)?;
    }
    let mut m = e.encode_descriptor(
        "prodready_waiver_expiry_timestamp_seconds",
        "Unix time a waiver stops holding (the midnight UTC after its `expires` date)",
        None,
        MetricType::Gauge,
    )?;
    for w in waivers {
        let labels = [
            ("waiver", w.name.as_str()),
            ("check", w.check.as_deref().unwrap_or_default()),
            ("item", w.item.as_deref().unwrap_or_default()),
            ("owner", w.owner.as_str()),
        ];
        ConstGauge::new(w.expires_at).encode(m.encode_family(&labels)?)?;
    }
    let mut m = e.encode_descriptor(
        "prodready_check_waived_findings",
        "Findings of the check's last evaluation that a finding waiver took out of the count",
        None,
        MetricType::Gauge,
    )?;
    for r in rows {
        if let Some(n) = r.waived_findings {
            ConstGauge::new(n as i64).encode(m.encode_family(&[("check", r.meta.name())])?)?;
        }
    }
    Ok(())
}

/// pass / (pass + warn + fail + error); `None` when nothing was evaluated.
fn score<'a>(rows: impl Iterator<Item = &'a Row>) -> Option<f64> {
    let (mut passed, mut evaluated) = (0u64, 0u64);
    for r in rows {
        if r.state.is_evaluated() {
            evaluated += 1;
            passed += u64::from(r.state == State::Pass);
        }
    }
    (evaluated > 0).then(|| passed as f64 / evaluated as f64)
}

fn encode(snapshot: Snapshot, format: Format) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(snapshot));
    let mut out = String::new();
    let result = match format {
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
        }
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
    };
    if let Err(e) = result {
        // Writing into a String cannot fail; keep the scrape valid regardless.
        out.clear();
        let _ = writeln!(out, "# encoding failed: {e}");
    }
    out
}

/// The full `/metrics` page.
pub fn render_metrics(engine: &Engine, format: Format) -> String {
    let rows = engine.store.map_sorted(Row::from_record);
    encode(
        Snapshot {
            rows,
            daemon: Some(daemon_facts(engine)),
            part: Part::All,
        },
        format,
    )
}

/// What the daemon's page says beside the checks.
fn daemon_facts(engine: &Engine) -> DaemonFacts {
    DaemonFacts {
        waivers: engine.plan().config.waivers.clone(),
        now: crate::clock::unix_now(),
        reload_successful: engine.reload_status.successful(),
        reload_success_timestamp: engine.reload_status.success_timestamp(),
        first_round_completed: engine.store.first_round_done(),
        lateness: engine.lateness().clone(),
        process: process::ProcessFacts::read(),
    }
}

/// The metrics of one `/probe` evaluation.
pub fn render_probe(meta: &CheckMeta, evaluation: &Evaluation, format: Format) -> String {
    let row = Row {
        meta: meta.clone(),
        state: evaluation.outcome.state,
        observed: evaluation.outcome.observed,
        threshold: evaluation.outcome.threshold,
        duration: Some(evaluation.duration.as_secs_f64()),
        last_run: Some(unix_seconds(evaluation.finished)),
        last_success: 0.0,
        runs: 1,
        errors: u64::from(evaluation.outcome.state == State::Error),
        waived_findings: crate::engine::StoredOutcome::waived_findings_of(&evaluation.outcome),
        cause: evaluation.outcome.cause,
    };
    encode(
        Snapshot {
            rows: vec![row],
            daemon: None,
            part: Part::All,
        },
        format,
    )
}
