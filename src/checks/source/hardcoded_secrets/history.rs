//! `hardcoded_secrets` with `history:`: the scanner over every blob the
//! repository's refs reach (`crate::scan::secrets::history`), incremental
//! through a state kept in memory and, with `global.state_dir`, on disk.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::json;

use super::{dropped_note, HardcodedSecrets, Listed, Sorted, Sorting};
use crate::checks::blocking::run_blocking;
use crate::checks::{BuildInput, Context, Outcome, ParamError, State as CheckState};
use crate::scan::secrets::history::state::{self, State};
use crate::scan::secrets::history::{History, HistoryFinding, Options, Report};
use crate::scan::secrets::Finding;

/// `params.history`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Refs whose history is scanned: full names (`refs/heads/main`) or
    /// prefixes ending in `/` (`refs/remotes/origin/`). Default: every
    /// local branch and tag, and HEAD.
    #[serde(default)]
    pub refs: Vec<String>,
    /// Only the newest this many commits (by committer time); the evidence
    /// says when it cut the scan.
    #[serde(default)]
    pub max_commits: Option<usize>,
    /// Only commits made since: a date (`2026-01-31`, RFC 3339) or a
    /// duration back from each run (`90d`).
    #[serde(default)]
    pub since: Option<String>,
    /// Only commits not reachable from this commit (full hex id) or ref:
    /// in a gate, the target branch, so the scan covers what the change adds.
    #[serde(default)]
    pub baseline_commit: Option<String>,
}

/// When `since` starts.
#[derive(Debug, Clone, Copy)]
enum Since {
    At(i64),
    Back(std::time::Duration),
}

fn parse_since(text: &str) -> Result<Since, String> {
    if let Ok(d) = crate::config::parse_duration(text) {
        return Ok(Since::Back(d));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Since::At(t.timestamp()));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Since::At(t.and_utc().timestamp()))
        .ok_or_else(|| {
            format!("{text:?} is neither a date (2026-01-31, RFC 3339) nor a duration (90d)")
        })
}

/// A history check's settings and what it keeps between runs.
#[derive(Debug)]
pub(super) struct HistoryScan {
    options: Options,
    since: Option<Since>,
    state: Arc<Mutex<Option<State>>>,
    state_file: Option<PathBuf>,
    /// What the kept state depends on (params, rules, key files).
    digest: String,
}

impl HistoryScan {
    pub(super) fn new(params: HistoryParams, input: &BuildInput<'_>) -> Result<Self, ParamError> {
        let since = params
            .since
            .as_deref()
            .map(parse_since)
            .transpose()
            .map_err(|e| ParamError::new("params.history.since", e))?;
        if params.max_commits == Some(0) {
            return Err(ParamError::new(
                "params.history.max_commits",
                "0 would scan nothing; leave it out to scan every commit",
            ));
        }
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        digest.update(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(p) = input.spec.params.value() {
            digest.update(p.to_string().as_bytes());
        }
        for spec in crate::scan::secrets::rules::all() {
            digest.update(spec.id.as_bytes());
            digest.update(spec.regex.as_bytes());
        }
        for field in ["gitleaks_config", "fingerprint_key_file"] {
            let file = input
                .spec
                .params
                .value()
                .and_then(|p| p.get(field))
                .and_then(|v| v.as_str());
            if let Some(Ok(path)) =
                file.map(|f| super::resolve_path(input, Some(f.as_ref()), field))
            {
                digest.update(&std::fs::read(path).unwrap_or_default());
            }
        }
        let digest: String = digest
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(HistoryScan {
            options: Options {
                refs: params.refs,
                max_commits: params.max_commits,
                since: None,
                baseline: params.baseline_commit,
            },
            since,
            state: Arc::new(Mutex::new(None)),
            state_file: input.state_dir.map(|d| state::file_in(d, &input.spec.name)),
            digest,
        })
    }

    /// The options of a run now (`since` as a duration moves with time).
    fn options_now(&self) -> Options {
        let mut options = self.options.clone();
        options.since = self.since.map(|s| match s {
            Since::At(t) => t,
            Since::Back(d) => crate::clock::unix_now() - d.as_secs() as i64,
        });
        options
    }
}

/// A history finding with the tree finding's fields the sorting reads.
struct Found {
    finding: Finding,
    history: HistoryFinding,
}

fn date(time: i64) -> String {
    chrono::DateTime::from_timestamp(time, 0)
        .map_or_else(|| time.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

impl Listed for Found {
    fn finding(&self) -> &Finding {
        &self.finding
    }

    fn commit(&self) -> Option<&str> {
        Some(&self.history.commit)
    }

    fn json(&self) -> serde_json::Value {
        let h = &self.history;
        json!({"commit": h.commit, "date": date(h.time), "file": h.file, "line": h.line,
               "rule": h.rule, "fingerprint": h.fingerprint, "in_tip": h.in_tip,
               "removed_in": h.removed_in})
    }
}

/// How a finding reads in the message.
fn describe(h: &HistoryFinding) -> String {
    let place = match h.line {
        0 => format!("{} ({})", h.file, h.rule),
        line => format!("{}:{line} ({})", h.file, h.rule),
    };
    let added = format!("added in {} on {}", short(&h.commit), date(h.time));
    match (&h.removed_in, h.in_tip) {
        (_, true) => format!("{place} {added}, still in the tip"),
        (Some(r), false) => format!(
            "{place} {added}, removed in {}, still in history: rotate it",
            short(r)
        ),
        (None, false) => {
            format!("{place} {added}, not in HEAD's tree but still in history: rotate it")
        }
    }
}

/// Runs the scan with the kept state (loading it from its file on the
/// first run), then keeps the state again; a state that cannot be read or
/// written costs a full scan, never a verdict (said in `state_error`).
fn scan_with_state(
    scan: (Arc<crate::scan::secrets::Scanner>, Options, PathBuf),
    kept: Arc<Mutex<Option<State>>>,
    file: Option<PathBuf>,
    digest: String,
    cancel: &crate::scan::Cancel,
) -> Result<(Report, Option<String>), String> {
    let (scanner, options, root) = scan;
    let mut guard = kept
        .lock()
        .map_err(|_| "an earlier history scan panicked".to_owned())?;
    let mut problem = None;
    let mut state = match (guard.take(), &file) {
        (Some(s), _) => s,
        (None, Some(f)) => match state::load(f, &digest) {
            Ok(Some(s)) => s,
            Ok(None) => State::new(&digest)?,
            Err(e) => {
                problem = Some(e);
                State::new(&digest)?
            }
        },
        (None, None) => State::new(&digest)?,
    };
    let history = History {
        scanner: &scanner,
        options: &options,
    };
    let report = history.scan(&root, &mut state, cancel);
    if let Some(f) = &file {
        if let Err(e) = state::save(f, &state) {
            problem = Some(e);
        }
    }
    *guard = Some(state);
    Ok((report?, problem))
}

impl HardcodedSecrets {
    pub(super) async fn evaluate_history(
        &self,
        h: &HistoryScan,
        ctx: &Context,
        sorting: Sorting<'_>,
    ) -> Outcome {
        ctx.trace(format!("scanning the history of {}", self.root.display()));
        let scan = (self.scanner.clone(), h.options_now(), self.root.clone());
        let (kept, file, digest) = (h.state.clone(), h.state_file.clone(), h.digest.clone());
        let started = std::time::Instant::now();
        let scanned =
            run_blocking(move |cancel| scan_with_state(scan, kept, file, digest, cancel)).await;
        let (report, state_error) = match scanned {
            Ok(Ok(r)) => r,
            Ok(Err(e)) | Err(e) => return Outcome::error(e),
        };
        let found: Vec<Found> = report
            .findings
            .iter()
            .map(|f| Found {
                finding: Finding {
                    file: f.file.clone(),
                    line: f.line,
                    rule: f.rule.clone(),
                    fingerprint: f.fingerprint.clone(),
                },
                history: f.clone(),
            })
            .collect();
        let Sorted {
            findings,
            waived,
            baselined,
            gitleaksignored,
        } = self.sort(found, sorting.accepted, sorting.entries, sorting.source);
        let dropped = dropped_note(&[
            (baselined, "baselined".to_owned()),
            (gitleaksignored, format!("ignored by {}", sorting.source)),
            (
                report.inline_allowed as usize,
                "allowed inline by gitleaks:allow".to_owned(),
            ),
            (waived.len() - gitleaksignored, "waived".to_owned()),
        ]);
        let listed: Vec<serde_json::Value> = findings.iter().map(Listed::json).collect();
        self.history_verdict(&report, &findings, &dropped)
            .observed(findings.len() as f64)
            .threshold(0.0)
            .evidence("root", self.root.display().to_string())
            .evidence("findings", listed)
            .evidence("waived_findings", waived)
            .evidence("waived_findings_omitted", report.inline_allowed)
            .evidence("refs", report.refs.clone())
            .evidence("head", report.head.clone())
            .evidence("commits_total", report.commits_total)
            .evidence("commits_scanned", report.commits_selected)
            .evidence("commits_read", report.commits_read)
            .evidence("blobs_read", report.blobs_read)
            .evidence("bytes_read", report.bytes_read)
            .evidence("skipped_too_large", report.too_large)
            .evidence("skipped_binary", report.binary)
            .evidence("missing_blobs", report.missing_blobs)
            .evidence("missing_trees", report.missing_trees)
            .evidence("missing_commits", report.missing_commits)
            .evidence("shallow_boundary", report.shallow)
            .evidence("submodules", report.submodules)
            .evidence("baselined", baselined)
            .evidence("gitleaksignored", gitleaksignored)
            .evidence(
                "gitleaks_ignore_file",
                sorting.file.map(|f| f.display().to_string()),
            )
            .evidence(
                "state_file",
                h.state_file.as_ref().map(|f| f.display().to_string()),
            )
            .evidence("state_error", state_error)
            .evidence("scan_seconds", started.elapsed().as_secs_f64())
    }

    fn history_verdict(&self, r: &Report, findings: &[Found], dropped: &str) -> Outcome {
        let cut = (r.commits_selected < r.commits_total).then(|| {
            format!(
                "; scanned {} of {} commits (max_commits/since)",
                r.commits_selected, r.commits_total
            )
        });
        let cut = cut.unwrap_or_default();
        if !findings.is_empty() {
            let shown: Vec<String> = findings
                .iter()
                .take(5)
                .map(|f| describe(&f.history))
                .collect();
            return Outcome::fail(format!(
                "{} secret(s) in git history: {}{}",
                findings.len(),
                shown.join("; "),
                if findings.len() > 5 { "; ..." } else { "" }
            ));
        }
        if r.commits_selected == 0 {
            return Outcome::error(format!(
                "no commit to scan in {} ({} reachable, none within since/baseline_commit): nothing was verified",
                self.root.display(),
                r.commits_total
            ));
        }
        let mut gaps = Vec::new();
        if r.shallow > 0 || r.missing_commits > 0 {
            gaps.push(format!(
                "the history is cut short ({} shallow boundary commit(s), {} parent commit(s) missing): commits before them were not scanned; fetch the whole history (`git fetch --unshallow`, CI `fetch-depth: 0`)",
                r.shallow, r.missing_commits
            ));
        }
        let unread = r.too_large + r.binary + r.missing_blobs + r.missing_trees as usize;
        if unread > 0 {
            gaps.push(format!(
                "{unread} object(s) were not scanned ({} over max_file_size, {} binary, {} blob(s) and {} tree(s) missing from the object database): a secret there would go unseen",
                r.too_large, r.binary, r.missing_blobs, r.missing_trees
            ));
        }
        let summary = format!(
            "no secrets in {} commit(s) of {} ref(s){dropped}{cut}",
            r.commits_selected,
            r.refs.len()
        );
        if gaps.is_empty() {
            Outcome::pass(summary)
        } else {
            let state = match self.on_unscanned {
                CheckState::Error => CheckState::Error,
                _ => CheckState::Warn,
            };
            Outcome::new(state, format!("{summary}, but {}", gaps.join("; ")))
        }
    }
}
