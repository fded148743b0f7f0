//! A plan is a config turned into runnable checks: targets built once and
//! shared, each check's kind resolved from the kind table (its target type
//! matched, its category defaulted) and the check built (its params
//! validated) by its kind.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::resolve::{expand, resolve_item, resolve_kind, Expansion, NoTarget};
use crate::checklist::Item;
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::config::Waiver;
use crate::config::{CheckSpec, Config, ConfigErrors, Problems, TargetSpec};
use crate::redact::Redactor;
use crate::targets::{build_targets, default_client, Target};

/// A check ready to run.
#[derive(Debug)]
pub struct PlannedCheck {
    /// Unique to this built check: a reload that takes a check over keeps
    /// it, one that rebuilds it gives a new one. Results and single-flight
    /// belong to it, never to a name.
    pub id: u64,
    pub spec: CheckSpec,
    pub kind: &'static KindInfo,
    /// The file's category, or the kind's default.
    pub category: Category,
    /// The checklist item the check evidences: the file's, or the kind's.
    pub item: Option<&'static Item>,
    pub check: Arc<dyn Check>,
}

/// Everything the engine runs for one config generation.
#[derive(Debug)]
pub struct Plan {
    pub config: Config,
    pub checks: Vec<Arc<PlannedCheck>>,
    /// The content digest of every file a target or check was built from
    /// (TLS material, credential files, gitleaks configs, schemas, keys):
    /// part of their identity, so a reload rebuilds what a changed file feeds.
    pub file_digests: BTreeMap<PathBuf, Option<Vec<u8>>>,
    pub targets: BTreeMap<String, Target>,
    /// Bounds the checks evaluated at once (global.concurrency).
    pub semaphore: Arc<Semaphore>,
    pub redactor: Redactor,
}

impl Plan {
    /// Builds every target and check, collecting every error.
    pub fn build(config: Config) -> Result<Plan, ConfigErrors> {
        let problems = Problems::new(&config.file);
        Self::build_after(config, problems, None)
    }

    /// Builds what a partially valid config holds, adding to its problems.
    /// With a `previous` plan (a reload), targets whose spec is unchanged
    /// keep their clients and pools, and checks whose entry and target are
    /// unchanged are taken over as they are (same `Arc`), so the scheduler
    /// keeps running them.
    fn build_after(
        mut config: Config,
        mut problems: Problems,
        previous: Option<&Plan>,
    ) -> Result<Plan, ConfigErrors> {
        let file_digests = digest_files(&config);
        let reuse = Reuse {
            previous,
            digests: &file_digests,
            specs: &config.targets,
        };
        let changed: BTreeMap<String, TargetSpec> = config
            .targets
            .iter()
            .filter(|(name, _)| reuse.kept_target(name).is_none())
            .map(|(name, spec)| (name.clone(), spec.clone()))
            .collect();
        let (mut targets, target_errors) = build_targets(&changed);
        for (name, field, message) in target_errors {
            problems.push(&format!("target {name:?}"), &field, message);
        }
        for name in config.targets.keys() {
            if let Some(target) = reuse.kept_target(name) {
                targets.insert(name.clone(), target.clone());
            }
        }
        let http_client = match default_client() {
            Ok(c) => c,
            Err(e) => {
                problems.push("", "", e);
                return problems.into_result(Self::empty(config), &Redactor::new());
            }
        };
        let mut planner = Planner {
            reuse,
            previous_checks: previous
                .map(|p| p.checks.iter().map(|c| (c.spec.name.as_str(), c)).collect())
                .unwrap_or_default(),
            targets: &targets,
            http_client: &http_client,
            redactor: config.redactor.clone(),
            checks: Vec::with_capacity(config.checks.len()),
            unkeyed: HashSet::new(),
        };
        // The planned checks take the specs over: moved, not copied (with
        // many checks a copy doubles the start-up peak, which the allocator
        // then keeps).
        let specs = std::mem::take(&mut config.checks);
        for spec in specs {
            let Some(kind) = resolve_kind(&spec, &mut problems) else {
                continue;
            };
            match expand(spec, kind, &config, &mut problems) {
                Expansion::Checks(owned_specs) => {
                    for owned in owned_specs {
                        planner.plan_one(owned, kind, &config, &mut problems);
                    }
                }
                Expansion::NoTarget(spec, message) => {
                    // A selector that matched nothing: the check stands, in error.
                    if let Ok(item) = resolve_item(&spec, kind, &mut problems) {
                        planner.checks.push(Arc::new(PlannedCheck {
                            id: next_check_id(),
                            category: category_of(&spec, kind, item),
                            spec: *spec,
                            kind,
                            item,
                            check: Arc::new(NoTarget(message)),
                        }));
                    }
                }
            }
        }
        let Planner {
            redactor,
            checks,
            unkeyed,
            ..
        } = planner;
        check_waivers(&config.waivers, &checks, &unkeyed, &mut problems);
        let plan = Plan {
            semaphore: Arc::new(Semaphore::new(config.global.concurrency.max(1))),
            redactor: redactor.clone(),
            config,
            checks,
            targets,
            file_digests,
        };
        problems.into_result(plan, &redactor)
    }

    fn empty(config: Config) -> Plan {
        Plan {
            semaphore: Arc::new(Semaphore::new(1)),
            redactor: config.redactor.clone(),
            config,
            checks: Vec::new(),
            targets: BTreeMap::new(),
            file_digests: BTreeMap::new(),
        }
    }

    /// Whether every file the plan was built from still holds what it held.
    pub fn files_unchanged(&self) -> bool {
        self.file_digests
            .iter()
            .all(|(path, digest)| crate::files::digest(path) == *digest)
    }

    /// Whether `other` was built from the same config: the same sections,
    /// targets (with the secrets read from files), the same files' contents,
    /// and the very same checks (a rebuilt check has a new id).
    pub fn same_as(&self, other: &Plan) -> bool {
        self.config.global == other.config.global
            && self.config.web == other.config.web
            && self.config.waivers == other.config.waivers
            && self.config.targets == other.config.targets
            && self.file_digests == other.file_digests
            && self.checks.len() == other.checks.len()
            && self
                .checks
                .iter()
                .zip(&other.checks)
                .all(|(a, b)| a.id == b.id)
    }

    /// The checklist items no check of this plan evidences, in seed order.
    pub fn uncovered_items(&self) -> Vec<&'static Item> {
        crate::checklist::ITEMS
            .iter()
            .filter(|item| {
                !self
                    .checks
                    .iter()
                    .any(|c| c.item.is_some_and(|i| i.id == item.id))
            })
            .collect()
    }

    /// For `advisories sync`: the advisory database directory and OSV
    /// ecosystems of every `dependency_vulnerabilities` check.
    pub fn advisory_needs(&self) -> Result<Vec<(PathBuf, Vec<&'static str>)>, String> {
        use crate::checks::source::dependency_vulnerabilities as deps;
        let http_client = default_client()?;
        let mut needs = Vec::new();
        for c in self
            .checks
            .iter()
            .filter(|c| c.kind.name == deps::KIND.name)
        {
            let input = BuildInput {
                spec: &c.spec,
                target: c.spec.target.as_ref().and_then(|t| self.targets.get(t)),
                http_client: &http_client,
                state_dir: self.config.global.state_dir.as_deref(),
            };
            needs.push(
                deps::sync_needs(&input)
                    .map_err(|e| format!("check {}: {}: {}", c.spec.name, e.field, e.message))?,
            );
        }
        Ok(needs)
    }

    /// Drops the params of the checks built for this plan, keeping their
    /// digests (a reload compares those): the daemon runs built checks and
    /// needs the JSON no more. Checks taken over from the previous plan
    /// released theirs then. One-shot commands (`advisories sync` reads
    /// the dependency checks' params) keep them.
    pub fn release_params(&mut self) {
        for planned in &mut self.checks {
            if let Some(planned) = Arc::get_mut(planned) {
                planned.spec.params.release();
            }
        }
    }

    pub fn check(&self, name: &str) -> Option<&Arc<PlannedCheck>> {
        self.checks.iter().find(|c| c.spec.name == name)
    }
}

/// The directory of a check's path target, against which its relative
/// file params resolve.
/// A check's category: the one its entry sets; else, when the entry names
/// a checklist item, that item's (a `backup_freshness` check put on
/// `deployment.backup_database` is a deployment check); else its kind's.
fn category_of(spec: &CheckSpec, kind: &KindInfo, item: Option<&'static Item>) -> Category {
    spec.category
        .or_else(|| spec.item.as_ref().and(item).map(|i| i.category))
        .unwrap_or(kind.category)
}

/// The content digest of every file a target or check is built from.
fn digest_files(config: &Config) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut digests: BTreeMap<PathBuf, Option<Vec<u8>>> = BTreeMap::new();
    for spec in config.targets.values() {
        for path in spec.read_files() {
            digests
                .entry(path.to_owned())
                .or_insert_with(|| crate::files::digest(path));
        }
    }
    for spec in &config.checks {
        for path in check_files(spec, path_base(spec, &config.targets)) {
            let digest = crate::files::digest(&path);
            digests.entry(path).or_insert(digest);
        }
    }
    digests
}

/// What a reload may take over from the plan before it.
struct Reuse<'a> {
    previous: Option<&'a Plan>,
    /// The digests of the files the new config reads.
    digests: &'a BTreeMap<PathBuf, Option<Vec<u8>>>,
    /// The new config's targets.
    specs: &'a BTreeMap<String, TargetSpec>,
}

impl<'a> Reuse<'a> {
    /// Whether the files `paths` hold what they held for the previous plan.
    fn same_files(&self, previous: &Plan, paths: &[PathBuf]) -> bool {
        paths
            .iter()
            .all(|p| previous.file_digests.get(p) == self.digests.get(p))
    }

    /// The previous plan's target `name`, when its spec and files are unchanged.
    fn kept_target(&self, name: &str) -> Option<&'a Target> {
        let previous = self.previous?;
        let spec = self.specs.get(name)?;
        let files: Vec<PathBuf> = spec.read_files().into_iter().map(Path::to_owned).collect();
        (previous.config.targets.get(name)? == spec && self.same_files(previous, &files))
            .then(|| previous.targets.get(name))
            .flatten()
    }
}

/// The checks of a plan being built, one expanded spec at a time.
struct Planner<'a> {
    reuse: Reuse<'a>,
    previous_checks: HashMap<&'a str, &'a Arc<PlannedCheck>>,
    targets: &'a BTreeMap<String, Target>,
    http_client: &'a reqwest::Client,
    redactor: Redactor,
    checks: Vec<Arc<PlannedCheck>>,
    /// Checks a secret waiver names whose fingerprints change with every
    /// process (no fingerprint key).
    unkeyed: HashSet<String>,
}

impl Planner<'_> {
    /// Plans one check: taken over from the previous plan when its entry,
    /// files and target are unchanged, else built by its kind.
    fn plan_one(
        &mut self,
        mut owned: CheckSpec,
        kind: &'static KindInfo,
        config: &Config,
        problems: &mut Problems,
    ) {
        let Ok(item) = resolve_item(&owned, kind, problems) else {
            return;
        };
        // Its own waivers, its findings', and its item's: an item
        // waiver lets every check of the item through.
        owned.waivers = config
            .waivers
            .iter()
            .filter(|w| {
                w.covers_check(&owned.name, owned.target.as_deref())
                    || w.item
                        .as_deref()
                        .is_some_and(|i| item.is_some_and(|it| it.id == i))
            })
            .cloned()
            .collect();
        // Read off the params here, before a check taken over by a reload
        // replaces its spec with one whose params were released.
        let secret_waived = config.waivers.iter().any(|w| {
            w.finding.as_ref().is_some_and(|f| f.secret.is_some())
                && w.covers_check(&owned.name, owned.target.as_deref())
        });
        if secret_waived
            && owned
                .params
                .value()
                .is_some_and(|p| p.get("fingerprint_key_file").is_none())
        {
            self.unkeyed.insert(owned.name.clone());
        }
        let target = owned.target.as_ref().and_then(|t| self.targets.get(t));
        if owned.target.is_some() && target.is_none() {
            // The target itself failed to build; its error is reported above.
            return;
        }
        if let Some(old) = self.unchanged(&owned, config) {
            for secret in old.check.secrets() {
                self.redactor.add(&secret);
            }
            self.checks.push(old);
            return;
        }
        let input = BuildInput {
            spec: &owned,
            target,
            http_client: self.http_client,
            state_dir: config.global.state_dir.as_deref(),
        };
        match (kind.build)(&input) {
            Ok(check) => {
                for secret in check.secrets() {
                    self.redactor.add(&secret);
                }
                self.checks.push(Arc::new(PlannedCheck {
                    id: next_check_id(),
                    category: category_of(&owned, kind, item),
                    spec: owned,
                    kind,
                    item,
                    check,
                }));
            }
            Err(ParamError { field, message }) => problems.push(&owned.place(), &field, message),
        }
    }

    /// The previous plan's check of this name, when its entry, the files it
    /// reads and its target are all unchanged.
    fn unchanged(&self, spec: &CheckSpec, config: &Config) -> Option<Arc<PlannedCheck>> {
        let previous = self.reuse.previous?;
        let old = self.previous_checks.get(spec.name.as_str())?;
        let files = check_files(spec, path_base(spec, &config.targets));
        (old.spec == *spec
            && self.reuse.same_files(previous, &files)
            && spec
                .target
                .as_deref()
                .is_none_or(|t| self.reuse.kept_target(t).is_some()))
        .then(|| Arc::clone(old))
    }
}

mod files;

use files::{check_files, path_base};

/// A fresh planned-check id.
fn next_check_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Plan {
    /// Keeps only the checks of `shard`.
    pub fn retain_shard(&mut self, shard: super::Shard) {
        self.checks.retain(|c| shard.contains(&c.spec.name));
    }
}

/// Loads and builds a config file in one step, reporting every problem of
/// both phases together.
pub fn load_plan(file: &std::path::Path) -> Result<Plan, ConfigErrors> {
    load_plan_reusing(file, None)
}

/// Loads the config for a reload: what is unchanged from `previous` is
/// taken over rather than rebuilt (see `Plan::build_after`).
pub fn load_plan_reusing(
    file: &std::path::Path,
    previous: Option<&Plan>,
) -> Result<Plan, ConfigErrors> {
    let (config, problems) = Config::load_partial(file, &crate::config::process_env());
    Plan::build_after(config, problems, previous)
}

#[cfg(test)]
mod debug_tests {
    /// No debug output of a plan (targets, checks, config) shows a secret:
    /// secrets live in types whose Debug prints `[redacted]` or are left out.
    #[test]
    fn a_plans_debug_output_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "FileTok-5521\n").unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                r#"
targets:
  web: {{ http: {{ url: "https://u:UrlPw-7731@127.0.0.1:1", bearer_token_file: "{}", headers: {{ X-Api-Key: HeaderKey-4410 }} }} }} # a test secret: gitleaks:allow
  basic: {{ http: {{ url: "https://127.0.0.1:1", basic_auth: {{ username: u, password: BasicPw-2290 }} }} }}
  db: {{ postgres: {{ url: "postgres://m@127.0.0.1:1/db", password: DbPw-8812 }} }}
  my: {{ mysql: {{ url: "mysql://m:MyPw-1177@127.0.0.1:1/db" }} }}  # gitleaks:allow
  cache: {{ redis: {{ url: "redis://127.0.0.1:1", password: RedisPw-6630 }} }}
checks:
  - {{ name: authz, kind: authorization, target: web, params: {{ urls: [/admin], credential: {{ bearer_token: LowTok-3391, username: low, password: LowPw-1143 }} }} }}
  - {{ name: conn, kind: postgres_connections, target: db, params: {{ pgbouncer_admin_url: "postgres://pgb:BouncerPw-5512@127.0.0.1:6432/pgbouncer" }} }}  # gitleaks:allow
  - {{ name: tool, kind: command, params: {{ argv: ["true"], env: {{ API_TOKEN: CmdTok-9904 }} }} }}
"#,
                token.display()
            ),
        )
        .unwrap();
        let plan = super::load_plan(&config).unwrap();
        let debug = format!("{plan:?}");
        for secret in [
            "FileTok-5521",
            "UrlPw-7731",
            "BasicPw-2290",
            "DbPw-8812",
            "MyPw-1177",
            "RedisPw-6630",
            "LowTok-3391",
            "LowPw-1143",
            "BouncerPw-5512",
            "HeaderKey-4410",
            "CmdTok-9904",
        ] {
            assert!(!debug.contains(secret), "Debug shows {secret}");
        }
    }
}

/// Every waiver names a check or item that exists, and a finding of the
/// kind its check judges (`advisory` for `dependency_vulnerabilities` ...);
/// a `secret` waiver, a check with a fingerprint key (`unkeyed` lists those
/// without).
fn check_waivers(
    waivers: &[Waiver],
    checks: &[Arc<PlannedCheck>],
    unkeyed: &HashSet<String>,
    problems: &mut Problems,
) {
    for (i, w) in waivers.iter().enumerate() {
        let place = format!("waivers[{i}]");
        if let Some(item) = &w.item {
            if !crate::checklist::ITEMS.iter().any(|it| it.id == item) {
                problems.push(
                    &place,
                    "item",
                    format!("{item:?} is no checklist item (see `prodready-exporter checklist`)"),
                );
            }
        }
        let Some(name) = &w.check else { continue };
        let covered: Vec<&Arc<PlannedCheck>> = checks
            .iter()
            .filter(|c| w.covers_check(&c.spec.name, c.spec.target.as_deref()))
            .collect();
        let Some(first) = covered.first() else {
            problems.push(
                &place,
                "check",
                format!("{name:?} names no configured check"),
            );
            continue;
        };
        let Some(finding) = &w.finding else { continue };
        let field = [
            ("advisory", &finding.advisory),
            ("secret", &finding.secret),
            ("rule", &finding.rule),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map_or("", |(f, _)| f);
        // Without a fingerprint key each process keys fingerprints anew: a
        // secret waiver would never match again.
        if field == "secret" && unkeyed.contains(&first.spec.name) {
            problems.push(
                &place,
                "finding.secret",
                format!("check {name:?} has no params.fingerprint_key_file: its fingerprints change with every process, so no waiver can name one"),
            );
        }
        if first.kind.findings != Some(field) {
            let judged = first
                .kind
                .findings
                .map_or("no findings a waiver can name".to_owned(), |f| {
                    format!("its findings are named by `{f}`")
                });
            problems.push(
                &place,
                &format!("finding.{field}"),
                format!("check {name:?} is a {} check: {judged}", first.kind.name),
            );
        }
    }
}

#[cfg(test)]
#[path = "plan_reuse_tests.rs"]
mod reuse_tests;
