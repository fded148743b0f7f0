//! The standard `process_*` metrics of Prometheus' client libraries (CPU,
//! memory, file descriptors, start time) for the exporter itself, read from
//! /proc through the procfs crate. A value that cannot be read is left out,
//! never reported as zero.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

/// What /proc says about this process right now.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProcessFacts {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub start_time_seconds: Option<f64>,
}

impl ProcessFacts {
    pub fn read() -> ProcessFacts {
        let Ok(me) = procfs::process::Process::myself() else {
            return ProcessFacts::default();
        };
        let mut facts = ProcessFacts::default();
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second() as f64;
            if ticks > 0.0 {
                facts.cpu_seconds = Some((stat.utime + stat.stime) as f64 / ticks);
                facts.start_time_seconds = procfs::boot_time_secs()
                    .ok()
                    .map(|boot| boot as f64 + stat.starttime as f64 / ticks);
            }
            facts.resident_bytes = Some(stat.rss.saturating_mul(procfs::page_size()));
            facts.virtual_bytes = Some(stat.vsize);
        }
        facts.open_fds = me.fd_count().ok().map(|n| n as u64);
        facts.max_fds = me
            .limits()
            .ok()
            .and_then(|l| match l.max_open_files.soft_limit {
                procfs::process::LimitValue::Value(v) => Some(v),
                procfs::process::LimitValue::Unlimited => None,
            });
        facts
    }

    pub fn encode(&self, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(v) = self.cpu_seconds {
            let m = e.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                MetricType::Counter,
            )?;
            ConstCounter::new(v).encode(m)?;
        }
        let gauges: [(&str, &str, Option<f64>); 5] = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                self.resident_bytes.map(|v| v as f64),
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                self.virtual_bytes.map(|v| v as f64),
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                self.open_fds.map(|v| v as f64),
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                self.max_fds.map(|v| v as f64),
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                self.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
                ConstGauge::new(v).encode(m)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_read() {
        let facts = ProcessFacts::read();
        assert!(facts.resident_bytes.is_some_and(|b| b > 1024 * 1024));
        assert!(facts.open_fds.is_some_and(|n| n >= 3));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let started = facts.start_time_seconds.unwrap();
        assert!(
            started <= now + 1.0 && started > now - 86_400.0,
            "{started} vs {now}"
        );
    }
}
