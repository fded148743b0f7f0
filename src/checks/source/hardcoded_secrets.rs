//! Kind `hardcoded_secrets`: scans a source tree with the secret scanner
//! (`crate::scan::secrets`). Findings report file, line, rule id and a
//! fingerprint, never the secret itself.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use serde_json::json;

use crate::checks::blocking::run_blocking;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::{ByteSize, TargetType};

use super::resolve_path;
use crate::scan::secrets::gitleaks;
use crate::scan::secrets::{compile_rule_set, CustomRule, Finding, RuleError, Scanner};

pub const KIND: KindInfo = KindInfo {
    programs: &[(
        "git",
        "`git ls-files` in a checkout: tracked files are scanned even when .gitignore names them",
    )],
    item: Some("security.secrets"),
    unit: "count",
    summary: "secrets committed in a source tree (gitleaks-style rules)",
    findings: Some("secret"),
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"- **Reads:** every file under `dir` (parallel walk with the `ignore` crate, scanning hidden files such as `.env`, skipping `.git`, never following symlinks), skipping binaries (a NUL byte in the first 8 KiB) and files over the cap. Inside a git work tree the tree's own `.gitignore` files skip *untracked* files only (counted in `skipped_gitignored`); a file git tracks is scanned even when a pattern matches it (a committed file is shipped; counted in `tracked_gitignored`), as `git ls-files` tells (run with the repository's `core.fsmonitor` off). When git cannot list the tracked files of a work tree, a clean scan is `warn` (see `on_unscanned`), not `pass`. A keyword prefilter (Aho-Corasick) picks the rules worth running per file; each rule's regex runs over the whole file, so patterns spanning lines (PEM blocks, continued curl commands, XML values on the next line) match, each finding reported at the line where its match starts; its `secret_group` is the secret, an entropy floor (the secret's entropy must exceed it) and placeholder filters drop `changeme`, `${VAR}`, `{{ var }}`, `<...>` values; generic rules (an id holding `generic`) need a digit in the secret and yield to a specific rule on the same line whose secret holds theirs, as in gitleaks.
- **Built-in rules** (142, written from each provider's documented token format, each with examples and negative examples a test runs; measured on a seeded labelled corpus of 3,495 secrets over 233 token types in 34 syntaxes and 650 clean files: see docs/benchmarks.md): AWS (every access-key prefix, secret keys next to their name, Bedrock API keys), GitHub (every `gh*_` type, `github_pat_`), GitLab (every `gl*-` type, routable PATs, runner registration, pipeline trigger, OAuth application secrets), Slack (bot, user, app-level, refresh, configuration tokens, webhooks), Stripe (secret and restricted keys, webhook secrets), Google (API keys, OAuth client secrets and access tokens, service-account JSON), Azure (Entra ID client secrets, storage account keys, SAS signatures), JWTs (signed, unsigned, base64-wrapped), private keys as PEM blocks with a real body (also as `\n`-escaped JSON strings, split across string concatenation, with `Proc-Type`/`DEK-Info` headers, or base64-encoded whole; an elided or placeholder body is no key), PKCS#12 files by name, curl `-u`/`--user` and `Authorization` / `X-API-Key` headers (lines continued with `\` too), connection strings (`scheme+driver://user:pass@`, user-less `redis://:pw@`, JDBC `password=`, ADO.NET and libpq `Password=`), Kubernetes Secret manifests (`data` and `stringData` values), fixed-prefix tokens of package and container registries, AI APIs, observability, payments, messaging and SaaS tools, and generic assignments of passwords, secrets, tokens, API keys and credentials across the syntaxes code uses (`.env`, YAML, JSON, INI, TOML, properties, Python, JS/TS, Go `var x string =` and backticks, make `?=` / `::=`, PHP `.=`, `System.setProperty`, XML elements, attributes and values on the next line, Dockerfile, Terraform, C#, Ruby `||=`, Rust, Kotlin, command-line flags). `name value` config lines (`requirepass`, `masterauth`, `db_password x`) and JSON escaped inside a string literal are read too. Placeholders and published examples never count: `${...}`, `#{...}`, `$(...)`, `{{ ... }}`, `<...>`, `%s`, `{password}`, masks (`xxxx`, `****`, `####`), `changeme`, AWS' `...EXAMPLE` keys, Stripe's documented test key, jwt.io's sample token.
- **gitleaks rules:** `gitleaks_config` reads gitleaks' TOML config so a team keeps one rule set: `[[rules]]` (`id`, `regex`, `secretGroup` (unset or 0: the first capture group that matched something, else the whole match, as gitleaks), `entropy`, `keywords`, `path` (the rule applies to matching paths; a rule with `path` and no `regex` reports the file itself, binaries included), `[[rules.allowlists]]` or the older `[rules.allowlist]` (not both), composite rules: `[[rules.required]]` (`id`, `withinLines`, `withinColumns`: the rule reports only where each required rule also matches that close) and `skipReport` for auxiliary rules), global `[[allowlists]]` or `[allowlist]` (not both; `targetRules` narrows one to some rules, each of which must exist), allowlist criteria (at least one) `paths`, `regexes` (on `regexTarget` `secret` (default), `match` or `line`: every line of the match), `stopwords`, `commits` (never met by a working tree: with `condition = "AND"` such an allowlist allows nothing; in a history scan an `OR` allowlist allows what its commits introduced, as `gitleaks git` does), `condition` `OR` (default) / `AND`, and `[extend]`: without `useDefault = true` the config's rules are the only ones; with it the built-in rules stay, standing in for gitleaks' default config (gitleaks' default ids such as `generic-api-key`, `github-pat`, `aws-access-token` name the built-in rule covering the same secret, in `disabledRules`, rule extensions and `targetRules`); `path` extends another config, relative to this file's directory, followed two levels deep as gitleaks does (a deeper `[extend]` is not followed); a rule with the id of a base rule extends it as in gitleaks (what it sets replaces, its keywords, allowlists and required rules add). A config holding only allowlists on `useDefault = true` is the default rules with those allowlists. gitleaks' own default config loads unmodified. Unknown keys are errors, not ignored. Regexes are read with Go RE2's meaning: `\d \w \s \b` are ASCII, a `{` that starts no repetition is a literal, large rules compile. `.gitleaksignore` at the root of `dir` (or `gitleaks_ignore`) drops findings by gitleaks fingerprint (`file:rule-id:line` or `commit:file:rule-id:line`, the file relative to `dir`, matched exactly; the commit is compared in a history scan only); matches whose lines carry `gitleaks:allow` are not reported. Both are counted in the evidence (`gitleaksignored`, `inline_allowed`) and in the pass message ("no secrets in 4875 file(s); 3 ignored by .gitleaksignore"); findings `.gitleaksignore` drops are listed in `waived_findings` with it as their source (so reports show them suppressed and `prodready_check_waived_findings` counts them), `gitleaks:allow` lines are counted there (`waived_findings_omitted`).
- **History** (`history: {}`): instead of the tree, every blob reachable from the refs (default: every local branch and tag, and HEAD, so a detached CI checkout is scanned; `refs` takes full names or prefixes ending in `/`), read from the object database with gitoxide (packs and loose objects; git is not run, the repository's config is not read). Each unique blob is scanned once with the same rules, allowlists, gitleaks config, `gitleaks:allow` and size cap as the tree scan. A finding belongs to the commit that introduced it: the secret is in that commit's version of the file and in no parent's (a file edited around a key does not report it again; a pure rename introduces nothing; a merge is named only for content no parent had, such as a conflict resolved with a new line, which `git log -p` does not show). Each finding names the commit, its date, file, line and rule, whether HEAD's tree still holds the secret (`in_tip`, at any path) and the newest commit that took it out of the file (`removed_in`): "removed in <commit>, still in history: rotate it". Fingerprints are gitleaks' `commit:file:rule:line`, or with `fingerprint_key_file` the tree scan's `file:rule:hash`, so one waiver or baseline entry covers a secret in the tree and in history. `.gitleaksignore` entries with a commit (`commit:file:rule:line`) ignore that commit's finding only; entries without one ignore it in every commit. **Incremental:** the check keeps the commits it processed and what each blob held (rule, line and a keyed hash of each secret, never the secret) and reads only what is new on the next run; with `global.state_dir` that is kept in a file (`secrets-history-<check>.json`, owner-only) across restarts, discarded when the params, rules or key files change. Commits no ref reaches any more (a force-push, a deleted branch) drop out with their findings. **Bounds** for a gate: `max_commits` (the newest N by committer time), `since` (a date or a duration such as `90d`), `baseline_commit` (only commits not reachable from it: the target branch); a cut scan says "scanned 3 of 8 commits" in its message. **Warns** when the history is cut short (a shallow clone's boundary, as CI's `fetch-depth: 1` makes, or parent commits missing) or blobs and trees could not be read (over `max_file_size`, binary, missing), naming the counts; submodule entries are counted (`submodules`), not followed; directories deeper than 200 levels are not followed (counted as missing trees). **Errors** when `dir` is no repository gitoxide can read, no ref matches, or no commit is left within the bounds.
- **Passes** with no finding outside the allowlist, baseline and `.gitleaksignore`. **Fails** listing file, line and rule; the evidence has each finding's fingerprint, stable across runs and machines and holding nothing of the secret: by default gitleaks' `path:rule:line` (it changes when the line moves); with `fingerprint_key_file` (required with `allowlist.baseline` and secret waivers) `path:rule:hash`, a truncated HMAC-SHA256 of rule and secret under that key, which follows the secret when lines move and cannot be used to test guesses of it. The secret itself never appears. Observed value: findings.
- **Warns** (never passes) when nothing was found but some files were not scanned (over `max_file_size`, binary, unreadable): a secret there would go unseen; the counts are in the evidence. `on_unscanned: error` makes that an error; exclude intended files (images, dumps) with `allowlist.paths`.
- **Errors** when `dir` is missing or not a directory, no file at all was scanned, or the `.gitleaksignore` cannot be read or holds a line that is no fingerprint; a gitleaks config that cannot be read or compiled is a config error naming the file, rule and line."#,
    files: &["gitleaks_config", "gitleaks_ignore", "fingerprint_key_file"],
    reads: &["allowlist.baseline", "gitleaks_ignore"],
    ..KindInfo::new(
        "hardcoded_secrets",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// What to ignore.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// Regexes on the path relative to the scanned root.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes on the line holding the finding.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// A file of finding fingerprints (one per line, `#` comments) to accept.
    #[serde(default)]
    pub baseline: Option<PathBuf>,
}

const fn default_max_file_size() -> ByteSize {
    ByteSize(1024 * 1024)
}

/// Params of the `hardcoded_secrets` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Tree to scan. Default: the path target.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Files larger than this are skipped (and counted). Default 1MiB.
    #[serde(default = "default_max_file_size")]
    pub max_file_size: ByteSize,
    /// More rules, added to the built-in ones.
    #[serde(default)]
    pub rules: Vec<CustomRule>,
    /// Built-in rule ids to turn off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// A gitleaks config (TOML): its rules replace the built-in ones, or
    /// join them with `[extend] useDefault = true` (see the kind's doc).
    /// Read when the config loads.
    #[serde(default)]
    pub gitleaks_config: Option<PathBuf>,
    /// gitleaks' ignore file of finding fingerprints (`file:rule-id:line`,
    /// `commit:file:rule-id:line`). Default: `.gitleaksignore` at the root of
    /// `dir`, when there is one. Read on every run.
    #[serde(default)]
    pub gitleaks_ignore: Option<PathBuf>,
    #[serde(default)]
    pub allowlist: Allowlist,
    /// File holding the secret key fingerprints are keyed with (at least 16
    /// bytes; keep it like a password, and give the gate and the daemon the
    /// same file). Required with `allowlist.baseline`. Without it
    /// fingerprints are gitleaks' `path:rule:line`.
    #[serde(default)]
    pub fingerprint_key_file: Option<PathBuf>,
    /// State when no secret was found but some files were not scanned (over
    /// `max_file_size`, binary, unreadable): `warn` (default) or `error`.
    /// Never `pass`: a secret in those files would go unseen.
    #[serde(default)]
    pub on_unscanned: Unscanned,
    /// Scan the repository's history (every blob the refs reach) instead
    /// of the tree: see the kind's doc.
    #[serde(default)]
    pub history: Option<history::HistoryParams>,
}

/// What partial evidence yields; only stricter than `warn` can be chosen.
#[derive(Debug, Default, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unscanned {
    #[default]
    Warn,
    Error,
}

#[derive(Debug)]
struct HardcodedSecrets {
    root: PathBuf,
    scanner: Arc<Scanner>,
    baseline: Option<PathBuf>,
    /// Configured `.gitleaksignore` (must exist) or `None`: the root's, if any.
    gitleaks_ignore: Option<PathBuf>,
    on_unscanned: State,
    /// The config's waivers of this check's findings (secret fingerprints).
    waivers: Vec<crate::config::Waiver>,
    /// Set: the check scans the history, not the tree.
    history: Option<history::HistoryScan>,
}

mod history;

/// The fingerprint key from its file; errors never quote the file's content.
fn read_key(file: &std::path::Path) -> Result<Vec<u8>, ParamError> {
    let field = "params.fingerprint_key_file";
    let bytes = std::fs::read(file)
        .map_err(|e| ParamError::new(field, format!("cannot read {}: {e}", file.display())))?;
    let key = bytes.trim_ascii().to_vec();
    if key.len() < 16 {
        return Err(ParamError::new(
            field,
            format!(
                "{} holds {} byte(s); a key needs at least 16 (e.g. `head -c 32 /dev/urandom | base64`)",
                file.display(),
                key.len()
            ),
        ));
    }
    Ok(key)
}

impl From<RuleError> for ParamError {
    fn from(e: RuleError) -> ParamError {
        ParamError::new(e.field, e.message)
    }
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let gitleaks = params
        .gitleaks_config
        .as_deref()
        .map(|p| -> Result<_, ParamError> {
            let path = resolve_path(input, Some(p), "gitleaks_config")?;
            gitleaks::load(&path).map_err(|e| ParamError::new("params.gitleaks_config", e))
        })
        .transpose()?;
    let (rules, allowlists) = compile_rule_set(&params.rules, &params.disable_rules, gitleaks)?;
    let compile_all = |field: &str, list: &[String]| -> Result<Vec<Regex>, ParamError> {
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p).map_err(|e| {
                    ParamError::new(
                        format!("params.allowlist.{field}[{i}]"),
                        format!("invalid regex: {e}"),
                    )
                })
            })
            .collect()
    };
    let scanner = Scanner::new(
        rules,
        compile_all("paths", &params.allowlist.paths)?,
        compile_all("regexes", &params.allowlist.regexes)?,
        params.max_file_size.0,
    )
    .map_err(|e| ParamError::new("params", e))?
    .with_allowlists(allowlists);
    let baseline = params
        .allowlist
        .baseline
        .as_deref()
        .map(|b| resolve_path(input, Some(b), "allowlist.baseline"))
        .transpose()?;
    let scanner = match &params.fingerprint_key_file {
        Some(file) => scanner.with_fingerprint_key(&read_key(file)?),
        None if baseline.is_some() => {
            return Err(ParamError::new(
                "params.allowlist.baseline",
                "needs params.fingerprint_key_file: fingerprints are keyed, and a baseline only matches fingerprints made with the key it was written with",
            ))
        }
        None => scanner,
    };
    Ok(Arc::new(HardcodedSecrets {
        root: resolve_path(input, params.dir.as_deref(), "dir")?,
        scanner: Arc::new(scanner),
        baseline,
        gitleaks_ignore: params
            .gitleaks_ignore
            .as_deref()
            .map(|p| resolve_path(input, Some(p), "gitleaks_ignore"))
            .transpose()?,
        on_unscanned: match params.on_unscanned {
            Unscanned::Warn => State::Warn,
            Unscanned::Error => State::Error,
        },
        waivers: input.spec.waivers.clone(),
        history: params
            .history
            .map(|h| history::HistoryScan::new(h, input))
            .transpose()?,
    }))
}

impl HardcodedSecrets {
    /// The waiver holding at `now` for a finding, by its fingerprint.
    fn waiver_of(&self, f: &Finding, now: i64) -> Option<&crate::config::Waiver> {
        self.waivers.iter().find(|w| {
            w.active_at(now)
                && w.finding
                    .as_ref()
                    .and_then(|s| s.secret.as_deref())
                    .is_some_and(|fp| fp == f.fingerprint)
        })
    }
}

impl HardcodedSecrets {
    /// The state from what is left after the allowlists and waivers, the
    /// files scanned and those not (`dropped`: what left the count, for the
    /// message).
    fn verdict(
        &self,
        findings: &[Finding],
        files: u64,
        stats: &crate::scan::secrets::ScanStats,
        dropped: &str,
    ) -> Outcome {
        let skipped_large = stats.skipped_large.load(Ordering::Relaxed);
        let skipped_binary = stats.skipped_binary.load(Ordering::Relaxed);
        let unreadable = stats.errors.load(Ordering::Relaxed);
        let unscanned = skipped_large + skipped_binary + unreadable;
        let git_unreadable = stats.git_unreadable.lock().ok().and_then(|g| g.clone());
        if !findings.is_empty() {
            let shown: Vec<String> = findings
                .iter()
                .take(5)
                .map(|f| match f.line {
                    0 => format!("{} ({})", f.file, f.rule),
                    line => format!("{}:{line} ({})", f.file, f.rule),
                })
                .collect();
            Outcome::fail(format!(
                "{} secret(s) found: {}{}",
                findings.len(),
                shown.join(", "),
                if findings.len() > 5 { ", ..." } else { "" }
            ))
        } else if files == 0 {
            Outcome::error(format!(
            "no file was scanned under {} ({unscanned} skipped or unreadable): nothing was verified",
            self.root.display()
        ))
        } else if let Some(why) = git_unreadable {
            Outcome::new(
            self.on_unscanned,
            format!(
                "no secrets in {files} scanned file(s){dropped}, but git could not list the tracked files ({why}): gitignored files were skipped without knowing whether they are shipped"
            ),
        )
        } else if unscanned > 0 {
            Outcome::new(
            self.on_unscanned,
            format!(
                "no secrets in {files} scanned file(s){dropped}, but {unscanned} file(s) were not scanned ({skipped_large} over max_file_size, {skipped_binary} binary, {unreadable} unreadable): a secret there would go unseen; exclude them with allowlist.paths if that is intended"
            ),
        )
        } else {
            Outcome::pass(format!(
                "no secrets in {files} file(s) under {}{dropped}",
                self.root.display(),
            ))
        }
    }
}

impl HardcodedSecrets {
    /// The fingerprints the baseline file accepts.
    fn accepted(&self) -> Result<HashSet<String>, String> {
        let Some(b) = &self.baseline else {
            return Ok(HashSet::new());
        };
        let text = super::read_text(b, 16 * 1024 * 1024).map_err(|e| format!("baseline: {e}"))?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect())
    }

    /// The ignore file as the evidence names it: relative to the root.
    fn ignore_source(&self, file: Option<&std::path::Path>) -> String {
        file.map_or_else(
            || ".gitleaksignore".to_owned(),
            |f| {
                f.strip_prefix(&self.root)
                    .unwrap_or(f)
                    .display()
                    .to_string()
            },
        )
    }

    /// The `.gitleaksignore` in force (the param's, or the tree's own) and
    /// its entries.
    fn ignore_entries(&self) -> Result<(Option<PathBuf>, Vec<gitleaks::IgnoreEntry>), String> {
        let ignore_file = self
            .gitleaks_ignore
            .clone()
            .or_else(|| Some(self.root.join(".gitleaksignore")).filter(|p| p.is_file()));
        let Some(file) = &ignore_file else {
            return Ok((None, Vec::new()));
        };
        // read_text's errors name the file; the parser's name the line.
        let entries = super::read_text(file, 16 * 1024 * 1024).and_then(|text| {
            gitleaks::parse_ignore(&text).map_err(|e| format!("{}: {e}", file.display()))
        })?;
        Ok((ignore_file, entries))
    }

    /// Findings sorted into what counts and what left the count: baselined,
    /// dropped by the ignore file (listed as waived, with its source: the
    /// tree is partly written by the change under review, docs/reference.md
    /// "What the scanned tree can change"), waived by a waiver.
    fn sort<F: Listed>(
        &self,
        findings: Vec<F>,
        accepted: &HashSet<String>,
        ignored_entries: &[gitleaks::IgnoreEntry],
        ignore_source: &str,
    ) -> Sorted<F> {
        let total = findings.len();
        let findings: Vec<F> = findings
            .into_iter()
            .filter(|f| !accepted.contains(&f.finding().fingerprint))
            .collect();
        let baselined = total - findings.len();
        let (ignored, findings): (Vec<F>, Vec<F>) = findings.into_iter().partition(|f| {
            ignored_entries
                .iter()
                .any(|e| e.ignores_in(f.finding(), f.commit()))
        });
        let now = crate::clock::unix_now();
        let (waived, findings): (Vec<F>, Vec<F>) = findings
            .into_iter()
            .partition(|f| self.waiver_of(f.finding(), now).is_some());
        let with = |f: &F, waiver: serde_json::Value| {
            let mut entry = f.json();
            if let Some(map) = entry.as_object_mut() {
                map.insert("waiver".into(), waiver);
            }
            entry
        };
        let waived: Vec<serde_json::Value> = waived
            .iter()
            .filter_map(|f| Some(with(f, self.waiver_of(f.finding(), now)?.view(now))))
            .chain(ignored.iter().map(|f| {
                with(f, json!({"source": ignore_source, "owner": ignore_source, "reason": format!("ignored by {ignore_source}, a file of the scanned tree")}))
            }))
            .collect();
        Sorted {
            findings,
            waived,
            baselined,
            gitleaksignored: ignored.len(),
        }
    }
}

/// What left the count, for the pass message: ` (2 baselined; 1 waived)`.
fn dropped_note(counts: &[(usize, String)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// What sorts a scan's findings: the baseline's fingerprints and the
/// ignore file's entries, with where they come from.
struct Sorting<'a> {
    accepted: &'a HashSet<String>,
    entries: &'a [gitleaks::IgnoreEntry],
    /// The ignore file as the evidence names it.
    source: &'a str,
    file: Option<&'a std::path::Path>,
}

/// A finding as the allowlists, the ignore file and the reports see it.
trait Listed {
    fn finding(&self) -> &Finding;
    /// The commit that introduced it (a history finding).
    fn commit(&self) -> Option<&str> {
        None
    }
    /// Its entry in the evidence.
    fn json(&self) -> serde_json::Value {
        let f = self.finding();
        json!({"file": f.file, "line": f.line, "rule": f.rule, "fingerprint": f.fingerprint})
    }
}

impl Listed for Finding {
    fn finding(&self) -> &Finding {
        self
    }
}

/// A scan's findings sorted by `HardcodedSecrets::sort`.
struct Sorted<F> {
    findings: Vec<F>,
    /// Waived and ignore-file findings, each with what waived it.
    waived: Vec<serde_json::Value>,
    baselined: usize,
    gitleaksignored: usize,
}

impl Check for HardcodedSecrets {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let accepted = match self.accepted() {
                Ok(a) => a,
                Err(e) => return Outcome::error(e),
            };
            let (ignore_file, ignored_entries) = match self.ignore_entries() {
                Ok(i) => i,
                Err(e) => return Outcome::error(e),
            };
            let ignore_source = self.ignore_source(ignore_file.as_deref());
            if let Some(history) = &self.history {
                let sorting = Sorting {
                    accepted: &accepted,
                    entries: &ignored_entries,
                    source: &ignore_source,
                    file: ignore_file.as_deref(),
                };
                return self.evaluate_history(history, ctx, sorting).await;
            }
            ctx.trace(format!("scanning {}", self.root.display()));
            let scanner = self.scanner.clone();
            let root = self.root.clone();
            let started = std::time::Instant::now();
            let scanned = run_blocking(move |cancel| scanner.scan_tree(&root, cancel)).await;
            let (findings, stats) = match scanned {
                Ok(Ok(r)) => r,
                Ok(Err(e)) | Err(e) => return Outcome::error(e),
            };
            let Sorted {
                findings,
                waived,
                baselined,
                gitleaksignored,
            } = self.sort(findings, &accepted, &ignored_entries, &ignore_source);
            let inline_allowed = stats.inline_allowed.load(Ordering::Relaxed);
            let config_waived = waived.len() - gitleaksignored;
            let dropped = dropped_note(&[
                (baselined, "baselined".to_owned()),
                (gitleaksignored, format!("ignored by {ignore_source}")),
                (
                    inline_allowed as usize,
                    "allowed inline by gitleaks:allow".to_owned(),
                ),
                (config_waived, "waived".to_owned()),
            ]);
            let files = stats.files.load(Ordering::Relaxed);
            // Every finding: the JSON and SARIF reports list them all (the
            // status page shows the first few with the total).
            let listed: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| json!({"file": f.file, "line": f.line, "rule": f.rule, "fingerprint": f.fingerprint}))
                .collect();
            let finished = started.elapsed().as_secs_f64();
            let count = findings.len();
            let finish = |outcome: Outcome| {
                outcome
                    .observed(count as f64)
                    .threshold(0.0)
                    .evidence("root", self.root.display().to_string())
                    .evidence("findings", listed.clone())
                    .evidence("waived_findings", waived.clone())
                    // gitleaks:allow lines are counted, not listed.
                    .evidence("waived_findings_omitted", inline_allowed)
                    .evidence("files_scanned", files)
                    .evidence("bytes_scanned", stats.bytes.load(Ordering::Relaxed))
                    .evidence(
                        "skipped_binary",
                        stats.skipped_binary.load(Ordering::Relaxed),
                    )
                    .evidence(
                        "skipped_too_large",
                        stats.skipped_large.load(Ordering::Relaxed),
                    )
                    .evidence("unreadable", stats.errors.load(Ordering::Relaxed))
                    .evidence(
                        "skipped_gitignored",
                        stats.skipped_ignored.load(Ordering::Relaxed),
                    )
                    .evidence(
                        "tracked_gitignored",
                        stats.tracked_ignored.load(Ordering::Relaxed),
                    )
                    .evidence("baselined", baselined)
                    .evidence("gitleaksignored", gitleaksignored)
                    .evidence("inline_allowed", inline_allowed)
                    .evidence(
                        "gitleaks_ignore_file",
                        ignore_file.as_ref().map(|f| f.display().to_string()),
                    )
                    .evidence("scan_seconds", finished)
            };
            finish(self.verdict(&findings, files, &stats, &dropped))
        })
    }
}
