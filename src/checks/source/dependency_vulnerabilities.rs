//! Kind `dependency_vulnerabilities`: resolved dependencies from lockfiles,
//! matched against a local advisory database (OSV and RustSec), with version
//! ranges evaluated in each ecosystem's own ordering. Counts by severity and
//! fails over the per-severity limits; a stale database is `warn`, no
//! lockfile is `error`. Nothing is downloaded.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::dependency_waivers::AdvisoryWaivers;
use super::resolve_path;
use crate::checks::blocking::{run_blocking, Cancel};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::clock::{date_of, unix_now};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::scan::deps::advisories::{AdvisoryDb, AdvisorySeverity};
use crate::scan::deps::audit::{audit, Audit, Vulnerable};
use crate::scan::deps::lockfiles::{ecosystems_of, find_lockfiles, parse_lockfile, Found};

pub const KIND: KindInfo = KindInfo {
    programs: &[(
        "git",
        "the commit an unmodified ignore file was last changed in, which caps its entries",
    )],
    item: Some("security.dependencies"),
    unit: "count",
    summary: "lockfiles against a local OSV/RustSec advisory database",
    findings: Some("advisory"),
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"- **Lockfiles:** `Cargo.lock` (registry packages; the workspace's own crates, from the `Cargo.toml` beside it, are the project; git and other path crates are unjudged), `package-lock.json` and `npm-shrinkwrap.json` (v1, v2, v3), `yarn.lock` (v1 and berry), `pnpm-lock.yaml` (v5, v6, v9), Bun's `bun.lock` (text lockfile v0 and v1; the binary `bun.lockb` is not read), `poetry.lock`, `uv.lock`, `Pipfile.lock` (`default` and `develop`), pip requirements files (`requirements*.txt` and `requirements/*.txt`, read as pip reads them: `-r` includes and `-c` constraints followed, `\` continuations, markers, hashes and extras; an exact `==`/`===` pin, or a constraint pinning the requirement, is a version), `go.mod` (Go 1.17+ lists every selected module; for older modules `go.sum` completes it with each module's highest version, as `go list -m all` lists the build; `replace` applied; a `go.sum` named in `lockfiles` reads its `go.mod`, since go.sum also lists versions Go did not select; the standard library is the package `stdlib` at the version of the `toolchain` directive, else the `go` directive, as OSV writes Go versions; without a `go` directive Go 1.16 is assumed, as Go does), `Gemfile.lock` (`GEM` specs; gems from `GIT`, `PATH` and plugin sources are unjudged), `mix.lock` (Hex packages of the public `hexpm` repository; other Hex repositories and `:git` entries are unjudged), `composer.lock` (`packages` and `packages-dev`; `path` repository packages are unjudged), `gradle.lockfile`, NuGet's `packages.lock.json` (every target framework; `Project` entries are not packages). An npm, yarn, pnpm or Bun alias (`string-width-cjs` installed from `npm:string-width@4.2.0`) is judged under the package it resolves to; the evidence names both (`installed_as`). Lockfiles are found in the whole tree down to `max_depth`, `.gitignore` or not: a gitignored lockfile may be tracked and shipped. Installed packages (`node_modules`) and build output (`target`) are not searched and are listed in `dirs_not_searched`; a lockfile behind a symbolic link, an entry that cannot be read and a directory whose contents lie deeper than `max_depth` are listed in `lockfiles_skipped` and make the check `warn` at best. One odd entry (a line, a requirement, a package without a version) is listed in `unjudged`, never a reason to read nothing.
- **Nothing dropped silently:** an entry no advisory can speak for (a local, workspace, git or tarball source, an unpinned requirement such as `flask>=2.0`, a go.mod module replaced by a directory, a line that cannot be read) is listed in `unjudged` and makes the result `warn` at best; one odd entry never makes the whole lockfile an error.
- **SBOMs** of the deployed artifact: CycloneDX JSON (`bom.json`, `*.cdx.json`, nested components; `metadata.component` is the artifact itself, components with `scope: excluded` are not in it) and SPDX 2.x JSON (`*.spdx.json`; the packages in `documentDescribes` are the artifact itself), found like lockfiles or named in `lockfiles`. Components are identified by package URL (`pkg:npm`, `pypi`, `cargo`, `golang`, `gem`, `hex`, `composer`, `maven`, `nuget`); a component with no package URL, no version or another type (`pkg:deb`) is listed in `unjudged`, never counted as safe.
- **Advisories:** OSV JSON files (one per advisory) and OSV's per-ecosystem `.zip` files anywhere under `advisory_db` (`prodready-exporter advisories sync` downloads OSV's zips for the lockfiles the check scans, verified and swapped in atomically), and the RustSec advisory-db layout (`crates/<name>/RUSTSEC-*.md`, `[versions] patched/unaffected`; informational and withdrawn advisories are skipped). OSV ranges follow the OSV algorithm (`introduced`, `fixed`, `last_affected`, `limit`, explicit `versions`) with each ecosystem's ordering: semver (crates.io, npm, Hex, Go), PEP 440 (PyPI by `pep440_rs`, names normalized), RubyGems (`Gem::Version`, by `gem_version`), Maven (`ComparableVersion` qualifiers: alpha < beta < milestone < rc < snapshot < release < sp < others by name < a number after the release such as `1.0-1`; checked pair by pair against Maven 3.8.7's own sort), Packagist (Composer's dev < alpha < beta < RC < stable < patch, build metadata dropped; other suffixes, more than four numbers and branches such as `dev-main` cannot be compared; checked pair by pair against Composer 2.5.5's own sort), NuGet (four numbers, SemVer pre-releases compared case-insensitively). Package names compare case-insensitively for NuGet and Packagist. Severity from `database_specific.severity`, else the base score of the CVSS v3.0, v3.1 or v4.0 vector (by the `cvss` crate; RustSec `cvss` too).
- **Passes** when every severity count is within `max` (0 for every severity not listed, `unknown` included) and the database is fresh. Observed value: vulnerable packages. Nothing is downloaded. The database is read once per process and again only when one of its files changes, is added or is removed (checks sharing a directory share one copy); a load or scan past the timeout stops at its next file.
- **Fails** over a limit, listing `name@version (advisory ids, severity)`.
- **Warns** when a package version cannot be compared with an advisory's ranges (unparsable in its ecosystem's scheme: not verified, listed in `undecidable`), an entry cannot be judged (`unjudged`), or the database is older than `max_db_age`: its age is that of the newest advisory's own date (OSV `modified`, RustSec `date`), so a copy synced today from a mirror frozen a year ago is a year old; only when no advisory carries a date do the files' modification times stand in (`advisory_db_age_from`).
- **Errors** when no lockfile is found, the lockfiles list no package, the database holds no advisory for a lockfile's ecosystem (an npm-only database says nothing about `Cargo.lock`), a lockfile or advisory cannot be parsed, or the database directory is missing."#,
    ..KindInfo::new(
        "dependency_vulnerabilities",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_db_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(7 * 86_400))
}
fn default_limits() -> BTreeMap<String, u64> {
    BTreeMap::new()
}
const fn default_max_depth() -> usize {
    6
}

/// Params of the `dependency_vulnerabilities` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Project root searched for lockfiles. Default: the path target.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Explicit lockfiles (relative to the root) instead of searching.
    #[serde(default)]
    pub lockfiles: Vec<PathBuf>,
    /// Local advisory database (OSV JSON / zip files, RustSec layout).
    pub advisory_db: PathBuf,
    /// Most vulnerable packages allowed per severity (critical, high,
    /// moderate, low, unknown). Every severity not listed allows 0, so an
    /// unrated (`unknown`) advisory fails like any other; raise a limit to
    /// tolerate some.
    #[serde(default = "default_limits")]
    pub max: BTreeMap<String, u64>,
    /// A database older than this is `warn`. Default 7d.
    #[serde(default = "default_max_db_age")]
    pub max_db_age: ConfigDuration,
    /// How deep to search for lockfiles. Default 6.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Ignore files of other scanners to read as finding waivers
    /// (osv-scanner's `osv-scanner.toml`; Trivy's `.trivyignore.yaml`, its
    /// `paths` and `purls` narrowing an entry to those lockfiles and
    /// packages; Trivy's plain `.trivyignore` with its `exp:` dates),
    /// relative to the root. Default: those three at the root, when
    /// present. An entry without expiry holds `global.waivers_max_duration`
    /// from the commit that last changed the file (else its modification
    /// time; one in the future is `error`).
    #[serde(default)]
    pub ignore_files: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
struct DependencyVulnerabilities {
    root: PathBuf,
    lockfiles: Vec<PathBuf>,
    advisory_db: PathBuf,
    max: BTreeMap<AdvisorySeverity, u64>,
    max_db_age: std::time::Duration,
    max_depth: usize,
    ignore_files: Vec<PathBuf>,
    /// The config's waivers of this check's findings (advisories).
    waivers: Vec<crate::config::Waiver>,
    waivers_max_duration: std::time::Duration,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    Ok(Arc::new(configure(input)?))
}

/// The check as its params and target describe it.
fn configure(input: &BuildInput<'_>) -> Result<DependencyVulnerabilities, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let mut max: BTreeMap<AdvisorySeverity, u64> =
        AdvisorySeverity::ALL.into_iter().map(|s| (s, 0)).collect();
    for (k, v) in &params.max {
        let sev = AdvisorySeverity::ALL
            .into_iter()
            .find(|s| s.as_str() == k)
            .ok_or_else(|| {
                ParamError::new(
                    "params.max".to_owned(),
                    format!("unknown severity {k:?}; use critical, high, moderate, low or unknown"),
                )
            })?;
        max.insert(sev, *v);
    }
    let root = resolve_path(input, params.dir.as_deref(), "dir")?;
    let ignore_files = params.ignore_files.iter().map(|l| root.join(l)).collect();
    Ok(DependencyVulnerabilities {
        lockfiles: params.lockfiles.iter().map(|l| root.join(l)).collect(),
        advisory_db: resolve_path(input, Some(&params.advisory_db), "advisory_db")?,
        root,
        max,
        max_db_age: params.max_db_age.0,
        max_depth: params.max_depth,
        ignore_files,
        waivers: input.spec.waivers.clone(),
        waivers_max_duration: input.spec.waivers_max_duration,
    })
}

impl DependencyVulnerabilities {
    /// The lockfiles to read now: those named, else those found (with
    /// what the search skipped).
    fn lockfiles_now(&self) -> Result<Found, String> {
        if self.lockfiles.is_empty() {
            find_lockfiles(&self.root, self.max_depth)
        } else {
            Ok(Found {
                files: self.lockfiles.clone(),
                ..Found::default()
            })
        }
    }
}

/// What `advisories sync` needs for a check of this kind: its advisory
/// database directory and the OSV ecosystems of the lockfiles it would scan
/// now (none when its tree cannot be read: the check itself says why).
pub fn sync_needs(input: &BuildInput<'_>) -> Result<(PathBuf, Vec<&'static str>), ParamError> {
    let check = configure(input)?;
    let mut ecosystems: Vec<&'static str> = check
        .lockfiles_now()
        .unwrap_or_default()
        .files
        .iter()
        .flat_map(|l| ecosystems_of(l))
        .map(|e| e.osv_name())
        .collect();
    ecosystems.sort_unstable();
    ecosystems.dedup();
    Ok((check.advisory_db, ecosystems))
}

fn scan(this: &DependencyVulnerabilities, cancel: &Cancel) -> Result<Outcome, String> {
    let Found {
        files: lockfiles,
        skipped,
        not_searched,
    } = this.lockfiles_now()?;
    if lockfiles.is_empty() {
        return Err(format!(
            "no lockfile found under {} (looked for {} and the SBOMs bom.json, *.cdx.json, *.spdx.json)",
            this.root.display(),
            crate::scan::deps::lockfiles::LOCKFILES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let db = AdvisoryDb::load_cached(&this.advisory_db, cancel)?;
    let now = unix_now();
    let waivers = AdvisoryWaivers::load(
        &this.waivers,
        &this.root,
        &this.ignore_files,
        this.waivers_max_duration,
    )?;
    let mut parsed = Vec::with_capacity(lockfiles.len());
    for lockfile in &lockfiles {
        let shown = lockfile.strip_prefix(&this.root).unwrap_or(lockfile);
        parsed.push((shown.display().to_string(), parse_lockfile(lockfile)?));
    }
    let found = audit(parsed, &db, |a, eco, p, shown| {
        waivers.find(a, eco, p, shown, now).map(|w| w.view(now))
    });
    if found.packages == 0 {
        return Err(nothing_checked(&lockfiles, &found.unjudged));
    }
    let mut counts: BTreeMap<AdvisorySeverity, u64> =
        AdvisorySeverity::ALL.into_iter().map(|s| (s, 0)).collect();
    for v in &found.vulnerable {
        *counts.entry(v.severity).or_default() += 1;
    }
    let db_age = (unix_now() - db.newest).max(0) as u64;
    let (state, message) = verdict(
        this,
        &found,
        &counts,
        &skipped,
        &db,
        db_age,
        lockfiles.len(),
    );
    let waived: Vec<serde_json::Value> = found
        .waived
        .iter()
        .map(|w| {
            let mut entry = w.finding.to_json();
            entry["waiver"] = w.waiver.clone();
            entry
        })
        .collect();
    Ok(Outcome::new(state, message)
        .observed(found.vulnerable.len() as f64)
        .evidence(
            "counts",
            counts
                .iter()
                .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
                .collect::<serde_json::Map<_, _>>(),
        )
        .evidence(
            "vulnerable",
            found
                .vulnerable
                .iter()
                .map(Vulnerable::to_json)
                .collect::<Vec<_>>(),
        )
        .evidence("root", this.root.display().to_string())
        .evidence(
            "lockfiles",
            lockfiles
                .iter()
                .map(|l| l.display().to_string())
                .collect::<Vec<_>>(),
        )
        .evidence("packages", found.packages)
        .evidence("undecidable", found.undecided)
        .evidence("unjudged", found.unjudged)
        .evidence("waived_findings", waived)
        .evidence("ignore_files", waivers.files)
        .evidence("lockfiles_skipped", skipped)
        .evidence("dirs_not_searched", not_searched)
        .evidence("ecosystems_without_advisories", found.uncovered)
        .evidence("advisory_files", db.files)
        .evidence("advisory_db_age_seconds", db_age)
        .evidence(
            "advisory_db_age_from",
            if db.dated {
                "advisory dates"
            } else {
                "file modification times"
            },
        ))
}

/// Why a tree of lockfiles gave no package to judge: which entries were
/// read, and why none of them can be judged.
fn nothing_checked(lockfiles: &[PathBuf], unjudged: &[String]) -> String {
    let why = if unjudged.is_empty() {
        String::new()
    } else {
        format!(
            "; {} entr(y/ies) were read but cannot be judged: {}",
            unjudged.len(),
            unjudged
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    format!(
        "the lockfile(s) {} list no package a registry advisory can speak for: nothing was checked{why}",
        lockfiles
            .iter()
            .map(|l| l.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The first ten vulnerable packages, as the failing message lists them.
fn worst_listed(vulnerable: &[Vulnerable]) -> Vec<String> {
    vulnerable
        .iter()
        .take(10)
        .map(|v| {
            format!(
                "{}@{} ({}, {})",
                v.package,
                v.version,
                v.advisories.join(" "),
                v.severity.as_str()
            )
        })
        .collect()
}

/// The state and message of an audit: over a limit fails; an ecosystem the
/// database does not cover is an error; anything not verified warns. The
/// message gives every reason the check did not pass, in that order (the
/// state is the first's), so a stale database is never hidden behind
/// another warning.
fn verdict(
    this: &DependencyVulnerabilities,
    found: &Audit<serde_json::Value>,
    counts: &BTreeMap<AdvisorySeverity, u64>,
    skipped: &[String],
    db: &AdvisoryDb,
    db_age: u64,
    lockfiles: usize,
) -> (State, String) {
    let count_of = |sev: &AdvisorySeverity| counts.get(sev).copied().unwrap_or(0);
    let over: Vec<String> = this
        .max
        .iter()
        .filter(|(sev, limit)| count_of(sev) > **limit)
        .map(|(sev, limit)| format!("{} {} (limit {limit})", count_of(sev), sev.as_str()))
        .collect();
    let mut reasons: Vec<(State, String)> = Vec::new();
    let first_ten = |list: &[String]| list.iter().take(10).cloned().collect::<Vec<_>>().join("; ");
    if !over.is_empty() {
        let listed = worst_listed(&found.vulnerable);
        reasons.push((
            State::Fail,
            format!(
                "vulnerable dependencies over the limits: {}: {}",
                over.join(", "),
                listed.join("; ")
            ),
        ));
    }
    if !found.uncovered.is_empty() {
        reasons.push((
            State::Error,
            format!(
                "the advisory database has no advisory for the ecosystem of {}: those packages were not checked (add that ecosystem's advisories to {})",
                found.uncovered.join(", "),
                this.advisory_db.display()
            ),
        ));
    }
    if !found.undecided.is_empty() {
        reasons.push((
            State::Warn,
            format!(
                "{} package version(s) cannot be compared with their advisories (unparsable in the ecosystem's version scheme), so they are not verified: {}",
                found.undecided.len(),
                first_ten(&found.undecided)
            ),
        ));
    }
    if !found.unjudged.is_empty() {
        reasons.push((
            State::Warn,
            format!(
                "{} entr(y/ies) cannot be judged against advisories (local, workspace, git or tarball sources, unpinned requirements, SBOM components without a usable package URL, unreadable lines), so they are not verified: {}",
                found.unjudged.len(),
                first_ten(&found.unjudged)
            ),
        ));
    }
    if !skipped.is_empty() {
        reasons.push((
            State::Warn,
            format!(
                "{} place(s) in the tree were not searched for lockfiles, so what they hold is not verified: {}",
                skipped.len(),
                first_ten(skipped)
            ),
        ));
    }
    if db_age > this.max_db_age.as_secs() {
        reasons.push((
            State::Warn,
            format!(
                "the advisory database is {} old (newest {} {}), limit {}; results may miss new advisories",
                format_duration(std::time::Duration::from_secs(db_age / 3600 * 3600)),
                if db.dated {
                    "advisory modified"
                } else {
                    "advisory file, no advisory carries a date:"
                },
                date_of(db.newest),
                format_duration(this.max_db_age)
            ),
        ));
    }
    if let Some((state, _)) = reasons.first() {
        let state = *state;
        let all: Vec<String> = reasons.into_iter().map(|(_, m)| m).collect();
        return (state, all.join("; also: "));
    }
    let count_text: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    (
        State::Pass,
        format!(
            "{} package(s) in {lockfiles} lockfile(s) checked against {} advisories: {}",
            found.packages,
            db.advisories,
            if count_text.is_empty() {
                "none vulnerable".to_owned()
            } else {
                format!("{} within limits", count_text.join(", "))
            }
        ),
    )
}

impl Check for DependencyVulnerabilities {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            ctx.trace(format!(
                "lockfiles under {}, advisories in {}",
                self.root.display(),
                self.advisory_db.display()
            ));
            let this = self.clone();
            match run_blocking(move |cancel| scan(&this, cancel)).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) | Err(e) => Outcome::error(e),
            }
        })
    }
}
