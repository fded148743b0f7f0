//! Kind `sarif_report`: the verdicts of the scanners a team already runs
//! (Semgrep, CodeQL, Trivy, Grype, Checkov, Bandit, ESLint, gitleaks ...) as
//! checklist evidence, from the SARIF 2.1.0 logs they write. Results are
//! counted by level and `security-severity` against limits; a log that is
//! old, for another commit, from a failed run or not SARIF at all is never
//! `pass`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::checks::http::{fetch, DEFAULT_BODY_CAP};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::clock::unix_now;
use crate::config::{ConfigDuration, TargetType, Waiver};
use crate::scan::sarif::{read_sarif_each, Level, RunSummary, SecuritySeverity};
use crate::targets::HttpTarget;

mod runs;
mod tally;
use runs::{run_facts, RunFacts};
use tally::Tally;

/// What every process kind shares (see `process::FAMILY_DOC`); this one has
/// its own doc below.
pub const KIND: KindInfo = KindInfo {
    programs: &[(
        "git",
        "the checkout's HEAD and the commit that last wrote a log, when `commit` is checked",
    )],
    unit: "count",
    summary: "SARIF 2.1.0 logs of other scanners: results within limits, fresh, for this commit",
    findings: Some("rule"),
    target: TargetNeed::Optional(&[TargetType::Path, TargetType::Http]),
    doc: r#"- **Reads** SARIF 2.1.0 logs: `files` (paths or globs, relative to the `path` target) or `url` on an `http` target (fetched with the target's credentials and TLS, at most `max_size`). Set the check's `item` to the checklist item the scanner evidences (`security.dependencies` for Trivy/Grype/osv-scanner, `security.secrets` for gitleaks, `security.sql_injection` or `security.input_validation` for Semgrep/CodeQL rules ...). Read as a stream into what is judged, so a 200 MB log is not held twice.
- **Judges** every result by its level (`error`, `warning`, `note`, `none`: the result's, else its rule's `defaultConfiguration`, else `warning`; a result whose `kind` is not `fail` is `none`) and, where the tool gives one, its `security-severity` (on the result or its rule, as GitHub code scanning reads it: critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0). `max` limits the count per level and per severity (default `{error: 0, critical: 0, high: 0}`; levels and severities not listed are unlimited). `include_rules` / `exclude_rules` (`*` wildcards) choose the rules counted. A result with a suppression whose status is `accepted`, or an `external` one without a status, counts as waived, never as absent: it is listed in `waived_findings` with its justification, like results a config waiver names (`finding: { rule, location }`, the location `path` or `path:line`). Any suppression `rejected` or `underReview` means not suppressed. An `inSource` suppression without a status (`nosemgrep`, `# nosec`: written into the code, possibly by the change under review) counts unless `in_source_suppressions: true`, and is listed in `in_source_suppressed`. Logs are streamed: each result is judged as it is read and only counts, the 50 worst results and the first 500 waived or in-source-suppressed ones are kept (`waived_findings_omitted`, `in_source_suppressed_omitted` count the rest), so memory does not grow with the log.
- **Passes** when every count is within its limit and the log is fresh and for this commit. **Fails** over a limit, listing the worst results (rule, message, file and line, tool). **Errors** when no file matches, a file is not SARIF (truncated, another version, JSON that is not a SARIF log: the message says which), the run is older than `max_age` or dated more than a minute in the future (its `invocations[].endTimeUtc`, else the file's modification time or the answer's `Last-Modified`), a run's `versionControlProvenance[].revisionId` names another commit than `revision` (or, with `source_tree`, the HEAD of that git work tree: "report is for commit X, tree is at Y"), or the tool says it failed (`executionSuccessful: false`, a notification at level `error`). **Warns** on a run with no result and no rule (a tool that looked at nothing says so that way) unless `empty_ok: true`.
- **Evidence:** each tool's name and version, counts per level and per severity, the worst results, the runs' commits and end times, `waived_findings`. Observed value: results over the limits' levels. `check --format sarif` carries the results through, each with the tool that found it."#,
    ..KindInfo::new(
        "sarif_report",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

fn default_max() -> BTreeMap<String, u64> {
    [("error", 0), ("critical", 0), ("high", 0)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}
const fn default_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(7 * 86_400))
}
const fn default_max_size() -> u64 {
    512 * 1024 * 1024
}

/// Params of the `sarif_report` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// SARIF files or globs, relative to the path target
    /// (`reports/*.sarif`). With a path target or none.
    #[serde(default)]
    pub files: Vec<String>,
    /// The log's URL (a path on the http target, or absolute on its origin).
    #[serde(default)]
    pub url: Option<String>,
    /// Most results allowed per level (`error`, `warning`, `note`, `none`)
    /// and per security severity (`critical`, `high`, `medium`, `low`).
    /// Default `{error: 0, critical: 0, high: 0}`; what is not listed is
    /// unlimited.
    #[serde(default = "default_max")]
    pub max: BTreeMap<String, u64>,
    /// Count only results of these rules (`*` wildcards). Default: all.
    #[serde(default)]
    pub include_rules: Vec<String>,
    /// Do not count results of these rules (`*` wildcards).
    #[serde(default)]
    pub exclude_rules: Vec<String>,
    /// Runs older than this are `error`. Default 7d.
    #[serde(default = "default_max_age")]
    pub max_age: ConfigDuration,
    /// The commit the logs must be for (`${GIT_COMMIT}`).
    #[serde(default)]
    pub revision: Option<String>,
    /// A directory in the git work tree the logs must be for: its HEAD is
    /// the expected commit (relative to the path target).
    #[serde(default)]
    pub source_tree: Option<PathBuf>,
    /// How a run without `versionControlProvenance` (gitleaks, Trivy,
    /// Semgrep and Bandit write none) is tied to the expected commit
    /// (`revision` or `source_tree`): `error` (default: a log that cannot
    /// show it is for this commit is no evidence for it) or `file_commit`
    /// (the log file is committed, unchanged, by the expected commit).
    #[serde(default)]
    pub without_provenance: WithoutProvenance,
    /// The tool is known to write runs without results or rules when it
    /// finds nothing: such a run passes instead of `warn`.
    #[serde(default)]
    pub empty_ok: bool,
    /// Largest log read (bytes). Default 512 MiB.
    #[serde(default = "default_max_size")]
    pub max_size: u64,
    /// Count results suppressed in the source without a review status
    /// (`nosemgrep`, `# nosec`: written into the code, possibly by the change
    /// under review) as waived. Default false: they count, and are listed
    /// apart as `in_source_suppressed`.
    #[serde(default)]
    pub in_source_suppressions: bool,
}

/// See `Params::without_provenance`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithoutProvenance {
    #[default]
    Error,
    FileCommit,
}

#[derive(Debug, Clone)]
enum Source {
    Files(Vec<String>),
    Url(Arc<HttpTarget>, String),
}

#[derive(Debug, Clone)]
struct SarifReport {
    source: Source,
    levels: Vec<(Level, u64)>,
    severities: Vec<(SecuritySeverity, u64)>,
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
    max_age: std::time::Duration,
    revision: Option<String>,
    source_tree: Option<PathBuf>,
    empty_ok: bool,
    max_size: u64,
    in_source_suppressions: bool,
    without_provenance: WithoutProvenance,
    waivers: Vec<Waiver>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let (mut levels, mut severities) = (Vec::new(), Vec::new());
    for (key, limit) in &params.max {
        if let Some(l) = Level::ALL.into_iter().find(|l| l.as_str() == key) {
            levels.push((l, *limit));
        } else if let Some(s) = SecuritySeverity::ALL
            .into_iter()
            .find(|s| s.as_str() == key)
        {
            severities.push((s, *limit));
        } else {
            return Err(ParamError::param(
                "max",
                format!("unknown key {key:?}; use error, warning, note, none, critical, high, medium or low"),
            ));
        }
    }
    let patterns = |list: &[String], field: &str| -> Result<Vec<glob::Pattern>, ParamError> {
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                glob::Pattern::new(p).map_err(|e| {
                    ParamError::param(&format!("{field}[{i}]"), format!("invalid pattern: {e}"))
                })
            })
            .collect()
    };
    let http = input.target.and_then(|t| t.as_http()).cloned();
    let source = match (&params.url, params.files.is_empty(), http) {
        (Some(url), true, Some(target)) => Source::Url(target, url.clone()),
        (Some(_), _, None) => {
            return Err(ParamError::param(
                "url",
                "needs an http target; with a path target use `files`",
            ))
        }
        (None, false, None) => {
            let mut files = Vec::new();
            for (i, f) in params.files.iter().enumerate() {
                let full = super::source::resolve_path(input, Some(&PathBuf::from(f)), "files")?;
                let text = full.display().to_string();
                glob::Pattern::new(&text).map_err(|e| {
                    ParamError::param(&format!("files[{i}]"), format!("invalid glob: {e}"))
                })?;
                files.push(text);
            }
            Source::Files(files)
        }
        (None, _, Some(_)) => {
            return Err(ParamError::param(
                "url",
                "name the log's URL on the http target",
            ))
        }
        _ => {
            return Err(ParamError::param(
                "files",
                "name the SARIF files (or `url` with an http target), not both",
            ))
        }
    };
    let source_tree = params
        .source_tree
        .as_deref()
        .map(|p| super::source::resolve_path(input, Some(p), "source_tree"))
        .transpose()?;
    Ok(Arc::new(SarifReport {
        source,
        levels,
        severities,
        include: patterns(&params.include_rules, "include_rules")?,
        exclude: patterns(&params.exclude_rules, "exclude_rules")?,
        max_age: params.max_age.0,
        in_source_suppressions: params.in_source_suppressions,
        without_provenance: params.without_provenance,
        revision: params.revision.filter(|r| !r.trim().is_empty()),
        source_tree,
        empty_ok: params.empty_ok,
        max_size: params.max_size,
        waivers: input.spec.waivers.clone(),
    }))
}

/// One log read: where from, its runs, and the time to judge its age by
/// when a run gives none.
struct Read {
    origin: String,
    runs: Vec<RunSummary>,
    dated: Option<i64>,
    /// The file it was read from (`None` for a URL).
    path: Option<PathBuf>,
}

fn read_files(
    this: &SarifReport,
    patterns: &[String],
    tally: &mut Tally,
) -> Result<Vec<Read>, String> {
    let max_size = this.max_size;
    let mut files: Vec<PathBuf> = Vec::new();
    for p in patterns {
        for m in glob::glob(p).map_err(|e| format!("invalid glob {p}: {e}"))? {
            let path =
                m.map_err(|e| format!("cannot read {}: {}", e.path().display(), e.error()))?;
            if path.is_file() && !files.contains(&path) {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        return Err(format!("no SARIF file matches {}", patterns.join(", ")));
    }
    files
        .iter()
        .map(|f| {
            let located = |e: String| format!("{}: {e}", f.display());
            let file = std::fs::File::open(f).map_err(|e| located(format!("cannot open: {e}")))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            if size > max_size {
                return Err(located(format!("{size} bytes, over max_size {max_size}")));
            }
            Ok(Read {
                origin: f.display().to_string(),
                runs: read_sarif_each(file, &mut |_, tool, f| tally.add(this, tool, f))
                    .map_err(located)?,
                dated: crate::files::mtime(f).ok(),
                path: Some(f.to_path_buf()),
            })
        })
        .collect()
}

fn judge(this: &SarifReport, reads: Vec<Read>, tally: Tally, expected: Option<String>) -> Outcome {
    let now = unix_now();
    let RunFacts {
        problems,
        tools,
        empty,
        commits,
        ended,
    } = run_facts(this, reads, expected.as_deref(), now);
    let over = tally.over_limits(this);
    let worst = tally.worst_json();
    let shown = tally.shown(5);
    let Tally {
        levels,
        severities,
        limited,
        waived,
        waived_total,
        in_source,
        in_source_total,
        ..
    } = tally;
    let tool_names: Vec<String> = tools
        .iter()
        .map(|t| match (t["name"].as_str(), t["version"].as_str()) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            (n, _) => n.unwrap_or_default().to_owned(),
        })
        .collect();
    let (state, message) = if !problems.is_empty() {
        (State::Error, problems.join("; "))
    } else if !over.is_empty() {
        (
            State::Fail,
            format!(
                "{}: over the limits: {}: {}",
                tool_names.join(", "),
                over.join(", "),
                shown.join("; ")
            ),
        )
    } else if !empty.is_empty() && !this.empty_ok {
        (State::Warn, format!("empty run(s) with no result and no rule: {} (a tool that checked nothing looks the same; set empty_ok if this tool writes empty runs)", empty.join(", ")))
    } else {
        let counts: Vec<String> = levels
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(l, n)| format!("{n} {}", l.as_str()))
            .collect();
        (
            State::Pass,
            format!(
                "{}: {} within limits{}",
                tool_names.join(", "),
                if counts.is_empty() {
                    "no result".to_owned()
                } else {
                    counts.join(", ")
                },
                if waived_total == 0 {
                    String::new()
                } else {
                    format!(" ({waived_total} waived)")
                }
            ),
        )
    };
    Outcome::new(state, message)
        .observed(limited as f64)
        .threshold(0.0)
        .evidence("tools", tools)
        .evidence(
            "levels",
            levels
                .iter()
                .map(|(l, n)| (l.as_str().to_owned(), json!(n)))
                .collect::<serde_json::Map<_, _>>(),
        )
        .evidence(
            "severities",
            severities
                .iter()
                .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
                .collect::<serde_json::Map<_, _>>(),
        )
        .evidence("results", worst)
        .evidence(
            "waived_findings_omitted",
            waived_total - waived.len() as u64,
        )
        .evidence("waived_findings", waived)
        .evidence(
            "in_source_suppressed_omitted",
            in_source_total - in_source.len() as u64,
        )
        .evidence("in_source_suppressed", in_source)
        .evidence("commits", commits)
        .evidence("expected_commit", expected)
        .evidence("run_ended", ended)
}

/// What a log is read from: files matching the patterns, or a fetched body.
enum Fetched {
    Files(Vec<String>),
    Body {
        origin: String,
        body: Vec<u8>,
        dated: Option<i64>,
    },
}

impl SarifReport {
    /// The log to read: the patterns, or the body of the URL fetched.
    async fn fetch(&self, ctx: &Context) -> Result<Fetched, String> {
        let (target, url) = match &self.source {
            Source::Files(patterns) => {
                ctx.trace(format!("reading SARIF logs {}", patterns.join(", ")));
                return Ok(Fetched::Files(patterns.clone()));
            }
            Source::Url(target, url) => (target, url),
        };
        let url = target.resolve(url)?;
        let answer = fetch(
            ctx,
            target.request(reqwest::Method::GET, url),
            self.max_size.max(DEFAULT_BODY_CAP),
        )
        .await?;
        if answer.status != 200 {
            return Err(format!(
                "{} {} answered {}: no log to judge",
                answer.method, answer.url, answer.status
            ));
        }
        if answer.truncated {
            return Err(format!(
                "{}: the log is larger than max_size {}",
                answer.url, self.max_size
            ));
        }
        Ok(Fetched::Body {
            origin: answer.url.to_string(),
            dated: answer
                .header("last-modified")
                .and_then(crate::clock::parse_http_date),
            body: answer.body,
        })
    }

    /// Reads and judges the logs; blocking work (files, parsing, every
    /// result), so it runs off the async workers.
    fn read_and_judge(
        &self,
        fetched: Fetched,
        expected: Option<String>,
    ) -> Result<Outcome, String> {
        let mut tally = Tally::new(unix_now());
        let reads = match fetched {
            Fetched::Files(patterns) => read_files(self, &patterns, &mut tally)?,
            Fetched::Body {
                origin,
                body,
                dated,
            } => {
                let runs =
                    read_sarif_each(body.as_slice(), &mut |_, tool, f| tally.add(self, tool, f))
                        .map_err(|e| format!("{origin}: {e}"))?;
                vec![Read {
                    origin,
                    runs,
                    dated,
                    path: None,
                }]
            }
        };
        Ok(judge(self, reads, tally, expected))
    }
}

impl Check for SarifReport {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let expected = match (&self.revision, &self.source_tree) {
                (Some(r), _) => Some(r.trim().to_owned()),
                (None, Some(dir)) => match crate::git::head_of(dir) {
                    Ok(h) => Some(h),
                    Err(e) => return Outcome::error(e),
                },
                (None, None) => None,
            };
            let fetched = match self.fetch(ctx).await {
                Ok(fetched) => fetched,
                Err(e) => return Outcome::error(e),
            };
            let this = self.clone();
            crate::checks::blocking::run_blocking(move |_| this.read_and_judge(fetched, expected))
                .await
                .and_then(|judged| judged)
                .unwrap_or_else(Outcome::error)
        })
    }
}
