//! Kind `backup_freshness`: the newest file matching a pattern in a directory
//! must be younger than `max_age` and at least `min_size` bytes. No matching
//! file fails; a directory that cannot be read is an error (nothing verified).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::checks::blocking::{run_blocking, Cancel};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ByteSize, ConfigDuration, TargetType};

pub const KIND: KindInfo = KindInfo {
    item: Some("operations.backup"),
    unit: "seconds",
    summary: "age and size of the newest backup file matching a pattern",
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"The newest file matching a pattern in a directory.

- **Reads:** the directory listing and each matching regular file's size and modification time (not recursive).
- **Passes** when the newest matching file is younger than `max_age` and at least `min_size`. Observed value: its age in seconds; threshold: `max_age`.
- **Fails** when no file matches, or the newest is older than the start of the run minus `newer_than_start` (set for the pre-deployment backup: it must be taken for this deploy), or too old, too small (default minimum 1 KiB: an empty or truncated dump is no backup), or dated more than a minute in the future (its age cannot be trusted: clock skew or a touched file).
- **Errors** when the directory does not exist or cannot be read (nothing was verified)."#,
    ..KindInfo::new(
        "backup_freshness",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Clock skew tolerated before a modification time in the future is
/// distrusted.
const FUTURE_TOLERANCE: Duration =
    Duration::from_secs(crate::clock::FUTURE_TOLERANCE_SECONDS.unsigned_abs());

fn default_pattern() -> String {
    "*".into()
}
const fn default_min_size() -> ByteSize {
    ByteSize(1024)
}

/// Params of the `backup_freshness` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Directory holding the backups; relative paths resolve against the
    /// target's path. Default: the target's path.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// File name pattern (`*.sql.gz`, `db-????-??-??.dump`). Default `*`.
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// The newest matching file must be younger than this.
    pub max_age: ConfigDuration,
    /// The newest matching file must be at least this big. Default 1KiB.
    #[serde(default = "default_min_size")]
    pub min_size: ByteSize,
    /// For the pre-deployment backup: the newest file must also be newer
    /// than the start of this run (a `check --phase pre-deploy` gate) minus
    /// this margin, i.e. taken for this deploy. Unset: only `max_age` counts.
    #[serde(default)]
    pub newer_than_start: Option<ConfigDuration>,
}

#[derive(Debug)]
struct BackupFreshness {
    dir: PathBuf,
    pattern: glob::Pattern,
    max_age: Duration,
    min_size: u64,
    newer_than_start: Option<Duration>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let base = input.target.and_then(|t| t.as_path());
    let dir = match (base, params.dir) {
        (Some(base), Some(dir)) => base.join(dir),
        (None, Some(dir)) => dir,
        (Some(base), None) => base.clone(),
        (None, None) => {
            return Err(ParamError::new(
                "params.dir",
                "required when the check has no path target",
            ))
        }
    };
    let pattern = glob::Pattern::new(&params.pattern)
        .map_err(|e| ParamError::new("params.pattern", format!("invalid pattern: {e}")))?;
    Ok(Arc::new(BackupFreshness {
        dir,
        pattern,
        max_age: params.max_age.0,
        min_size: params.min_size.0,
        newer_than_start: params.newer_than_start.map(|m| m.0),
    }))
}

/// The newest regular file whose name matches.
#[derive(Debug)]
struct NewestBackup {
    path: PathBuf,
    modified: SystemTime,
    size: u64,
}

fn newest_backup(
    dir: &Path,
    pattern: &glob::Pattern,
    cancel: &Cancel,
) -> Result<(Option<NewestBackup>, usize), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
    let mut newest: Option<NewestBackup> = None;
    let mut matched = 0;
    for entry in entries {
        if cancel.is_cancelled() {
            return Err(format!(
                "listing {} was stopped: nobody waits for it any more",
                dir.display()
            ));
        }
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !pattern.matches(name) {
            continue;
        }
        let path = entry.path();
        let meta =
            std::fs::metadata(&path).map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
        if !meta.is_file() {
            continue;
        }
        matched += 1;
        let modified = meta
            .modified()
            .map_err(|e| format!("no modification time for {}: {e}", path.display()))?;
        if newest.as_ref().is_none_or(|n| modified > n.modified) {
            newest = Some(NewestBackup {
                path,
                modified,
                size: meta.len(),
            });
        }
    }
    Ok((newest, matched))
}

impl Check for BackupFreshness {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            ctx.trace(format!(
                "listing {} for {}",
                self.dir.display(),
                self.pattern
            ));
            let dir = self.dir.clone();
            let pattern = self.pattern.clone();
            let listed = run_blocking(move |cancel| newest_backup(&dir, &pattern, cancel)).await;
            let (newest, matched) = match listed {
                Ok(Ok(found)) => found,
                Ok(Err(reason)) | Err(reason) => return Outcome::error(reason),
            };
            let max_age = self.max_age.as_secs_f64();
            let Some(newest) = newest else {
                return Outcome::fail(format!(
                    "no file matching {} in {}",
                    self.pattern,
                    self.dir.display()
                ))
                .threshold(max_age)
                .evidence("dir", self.dir.display().to_string())
                .evidence("matching_files", 0);
            };
            let path = newest.path.display().to_string();
            let age = match SystemTime::now().duration_since(newest.modified) {
                Ok(age) => age,
                Err(e) if e.duration() > FUTURE_TOLERANCE => {
                    return Outcome::fail(format!(
                        "newest backup {path} is dated {} in the future: its age cannot be trusted (clock skew or a touched file)",
                        format_duration(Duration::from_secs(e.duration().as_secs()))
                    ))
                    .threshold(max_age)
                    .evidence("dir", self.dir.display().to_string())
                    .evidence("newest_file", path)
                    .evidence("matching_files", matched);
                }
                Err(_) => Duration::ZERO,
            };
            let shown_age = format_duration(Duration::from_secs(age.as_secs()));
            let mut problems = Vec::new();
            if age > self.max_age {
                problems.push(format!(
                    "is {shown_age} old (limit {})",
                    format_duration(self.max_age)
                ));
            }
            if let Some(margin) = self.newer_than_start {
                let since = crate::clock::process_start()
                    .checked_sub(margin)
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                if newest.modified < since {
                    problems.push(format!(
                        "was taken before this run started (margin {}): no backup for this deploy",
                        format_duration(margin)
                    ));
                }
            }
            if newest.size < self.min_size {
                problems.push(format!(
                    "is {} bytes (minimum {})",
                    newest.size, self.min_size
                ));
            }
            let outcome = if problems.is_empty() {
                Outcome::pass(format!(
                    "newest backup {path} is {shown_age} old, {} bytes",
                    newest.size
                ))
            } else {
                Outcome::fail(format!("newest backup {path} {}", problems.join(" and ")))
            };
            outcome
                .observed(age.as_secs_f64())
                .threshold(max_age)
                .evidence("dir", self.dir.display().to_string())
                .evidence("newest_file", path)
                .evidence("newest_size_bytes", newest.size)
                .evidence("newest_age_seconds", age.as_secs())
                .evidence("matching_files", matched)
        })
    }
}
