//! Kind `attestation`: a YAML record of a human drill (restore test,
//! failover drill, capacity review, rollback rehearsal) with `performed_at`,
//! `owner` and `evidence_url`. Fresh within `max_age` passes; missing,
//! unparseable, incomplete, future-dated or stale fails. Results carry
//! `source: attestation`: self-reported, not measured.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::{read_text, resolve_path};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, EvidenceSource, KindInfo,
    Outcome, ParamError, TargetNeed,
};
use crate::clock::{date_of, parse_timestamp, unix_now};
use crate::config::{format_duration, ConfigDuration, TargetType};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.disaster_recovery"),
    unit: "seconds",
    summary: "a recorded human drill (restore, failover, capacity review) is recent",
    source: EvidenceSource::Attestation,
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"A record of a human drill (restore test, failover drill, capacity review, rollback rehearsal):
```yaml
drill: restore_test
performed_at: 2026-11-01T10:00:00Z      # or 2026-11-01
owner: alice
evidence_url: https://wiki.example.com/drills/42
```
- **Passes** when the record is complete and `performed_at` is within `max_age`. Observed value: its age in seconds. **Fails** when the file is missing, unparseable, lacks `performed_at`/`owner`/`evidence_url`, names another drill, is dated in the future, or is stale.
- Its results carry `"source": "attestation"` in the JSON API and "self-reported attestation" on the status page, so self-reported evidence is told apart from measured evidence (every other kind is `measured`)."#,
    ..KindInfo::new(
        "attestation",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Params of the `attestation` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The record (YAML), relative to the path target.
    pub file: PathBuf,
    /// The drill must have been performed within this. Required.
    pub max_age: ConfigDuration,
    /// When set, the record's `drill` field must equal it (e.g. `restore_test`).
    #[serde(default)]
    pub drill: Option<String>,
}

#[derive(Debug)]
struct Attestation {
    file: PathBuf,
    max_age: std::time::Duration,
    drill: Option<String>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    Ok(Arc::new(Attestation {
        file: resolve_path(input, Some(&params.file), "file")?,
        max_age: params.max_age.0,
        drill: params.drill,
    }))
}

impl Check for Attestation {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let path = self.file.display().to_string();
            ctx.trace(format!("reading {path}"));
            if !self.file.exists() {
                return Outcome::fail(format!(
                    "no attestation at {path}: the drill was never recorded"
                ));
            }
            let record = match read_text(&self.file, 1024 * 1024)
                .and_then(|t| crate::yaml::from_str::<serde_json::Value>(&t))
            {
                Ok(serde_json::Value::Object(m)) => m,
                Ok(_) => {
                    return Outcome::fail(format!(
                        "{path} is not a YAML mapping with performed_at, owner and evidence_url"
                    ))
                }
                Err(e) => return Outcome::fail(format!("{path} cannot be parsed: {e}")),
            };
            let text = |k: &str| {
                record
                    .get(k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .filter(|v| !v.trim().is_empty())
            };
            let missing: Vec<&str> = ["performed_at", "owner", "evidence_url"]
                .into_iter()
                .filter(|k| text(k).is_none())
                .collect();
            if !missing.is_empty() {
                return Outcome::fail(format!("{path} lacks {}", missing.join(", ")));
            }
            let drill = text("drill").unwrap_or_else(|| "drill".to_owned());
            if let Some(expected) = &self.drill {
                if &drill != expected {
                    return Outcome::fail(format!(
                        "{path} records a {drill:?}, expected {expected:?}"
                    ));
                }
            }
            let performed_text = text("performed_at").unwrap_or_default();
            let Some(performed) = parse_timestamp(&performed_text) else {
                return Outcome::fail(format!("{path}: performed_at {performed_text:?} is not a date (write 2026-11-01 or 2026-11-01T10:00:00Z)"));
            };
            let owner = text("owner").unwrap_or_default();
            let evidence_url = text("evidence_url").unwrap_or_default();
            let age = unix_now() - performed;
            let base = |o: Outcome| {
                o.threshold(self.max_age.as_secs_f64())
                    .evidence("file", path.clone())
                    .evidence("drill", drill.clone())
                    .evidence("performed_at", date_of(performed))
                    .evidence("owner", owner.clone())
                    .evidence("evidence_url", evidence_url.clone())
            };
            if age < -300 {
                return base(Outcome::fail(format!(
                    "{path}: performed_at {} is in the future",
                    date_of(performed)
                )));
            }
            let age = age.max(0);
            let shown_age =
                format_duration(std::time::Duration::from_secs(age as u64 / 86_400 * 86_400));
            let outcome = if age as u64 > self.max_age.as_secs() {
                Outcome::fail(format!(
                    "{drill} last performed {} by {owner} ({shown_age} ago), older than {}",
                    date_of(performed),
                    format_duration(self.max_age)
                ))
            } else {
                let when = if age < 86_400 {
                    "today".to_owned()
                } else {
                    format!("{shown_age} ago")
                };
                Outcome::pass(format!(
                    "{drill} performed {} by {owner} ({when}, limit {}); evidence {evidence_url}",
                    date_of(performed),
                    format_duration(self.max_age)
                ))
            };
            base(outcome.observed(age as f64))
        })
    }
}
