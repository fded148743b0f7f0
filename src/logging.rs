//! Log setup: tracing-subscriber to stderr, logfmt (default) or JSON. The
//! level is `--log.level` when given (it wins over `RUST_LOG`); else
//! `RUST_LOG` when set (and the log says so); else `info`. Messages that carry outside
//! input are redacted before they are logged.

use std::fmt;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::clock::rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    fn directive(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

/// Installs the global subscriber; a second call is a no-op. `level` is
/// `--log.level` as given (`None`: not on the command line).
pub fn init(level: Option<LogLevel>, format: LogFormat) {
    let own =
        |level: LogLevel| EnvFilter::new(format!("warn,prodready_exporter={}", level.directive()));
    #[allow(clippy::disallowed_methods)]
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (filter, note) = match (level, &rust_log) {
        (Some(level), Some(_)) => (
            own(level),
            Some("RUST_LOG is ignored: --log.level is given"),
        ),
        (Some(level), None) => (own(level), None),
        (None, Some(text)) => match EnvFilter::try_new(text) {
            Ok(filter) => (
                filter,
                Some("Log filter from RUST_LOG (no --log.level given)."),
            ),
            Err(_) => (
                own(LogLevel::Info),
                Some("RUST_LOG cannot be read as a log filter; logging at info"),
            ),
        },
        (None, None) => (own(LogLevel::Info), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Logfmt => builder.event_format(Logfmt).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let (Ok(()), Some(note)) = (installed, note) {
        tracing::warn!(rust_log = rust_log.as_deref().unwrap_or_default(), "{note}");
    }
}

/// Quotes a logfmt value when it needs it.
fn logfmt_value(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '"', '=', '\n', '\t', '\\']) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Default)]
struct LogfmtFields {
    message: Option<String>,
    rest: String,
}

impl Visit for LogfmtFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.rest
                .push_str(&format!(" {}={}", field.name(), logfmt_value(value)));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let now = SystemTime::now();
        let millis = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_millis())
            .unwrap_or(0);
        let ts = rfc3339(now).replace('Z', &format!(".{millis:03}Z"));
        let mut fields = LogfmtFields::default();
        event.record(&mut fields);
        write!(
            writer,
            "ts={ts} level={} target={}",
            meta.level().as_str().to_ascii_lowercase(),
            meta.target()
        )?;
        if let Some(message) = fields.message {
            write!(writer, " msg={}", logfmt_value(&message))?;
        }
        writeln!(writer, "{}", fields.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(logfmt_value("plain"), "plain");
        assert_eq!(logfmt_value("two words"), "\"two words\"");
        assert_eq!(logfmt_value("a\"b\nc"), "\"a\\\"b\\nc\"");
        assert_eq!(logfmt_value(""), "\"\"");
    }
}
