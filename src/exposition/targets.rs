//! The families of causes, apart from the checks they stop: each target's
//! health (one series per target, its fault counted by class), and the
//! checks that are `unknown` only because the system was too quiet to judge.
//! Alerts page on a target once, not on each check it stops, and never on a
//! quiet system (mixin/alerts).

use std::collections::BTreeMap;

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use super::Row;
use crate::vocab::{Cause, State};

/// `prodready_target_up` and `prodready_target_error_checks` for every
/// target some check names, and `prodready_check_insufficient_data` for the
/// checks it holds for.
pub(super) fn encode_causes(
    e: &mut DescriptorEncoder,
    rows: &[Row],
) -> Result<(), std::fmt::Error> {
    let mut faults: BTreeMap<&str, [u64; Cause::TARGET_FAULTS.len()]> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.meta.target().is_empty()) {
        let counts = faults.entry(r.meta.target()).or_default();
        let fault = r.cause.filter(|_| r.state == State::Error);
        if let Some(i) = fault.and_then(|c| Cause::TARGET_FAULTS.iter().position(|f| *f == c)) {
            counts[i] += 1;
        }
    }
    if !faults.is_empty() {
        let mut m = e.encode_descriptor(
            "prodready_target_up",
            "0 when the latest run of some check of the target could not reach it, complete a TLS handshake or log in (prodready_target_error_checks says which); else 1",
            None,
            MetricType::Gauge,
        )?;
        for (target, counts) in &faults {
            let up = i64::from(counts.iter().all(|n| *n == 0));
            ConstGauge::new(up).encode(m.encode_family(&[("target", *target)])?)?;
        }
        let mut m = e.encode_descriptor(
            "prodready_target_error_checks",
            "Checks of the target in state error because of the target, by reason: unreachable, tls, auth",
            None,
            MetricType::Gauge,
        )?;
        for (target, counts) in &faults {
            for (cause, n) in Cause::TARGET_FAULTS.iter().zip(counts) {
                let labels = [("target", *target), ("reason", cause.as_str())];
                ConstGauge::new(*n as i64).encode(m.encode_family(&labels)?)?;
            }
        }
    }
    let quiet: Vec<&Row> = rows
        .iter()
        .filter(|r| r.state == State::Unknown && r.cause == Some(Cause::InsufficientData))
        .collect();
    if !quiet.is_empty() {
        let mut m = e.encode_descriptor(
            "prodready_check_insufficient_data",
            "1 while the check is unknown only because the system saw too little traffic or time to judge; present only then",
            None,
            MetricType::Gauge,
        )?;
        for r in quiet {
            ConstGauge::new(1i64).encode(m.encode_family(&[("check", r.meta.name())])?)?;
        }
    }
    Ok(())
}
