//! A plan is a config turned into runnable checks: targets built once and
//! shared, every check built (and its params validated) by its kind.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::checks::{BuildInput, Check};
use crate::config::{CheckSpec, Config, ConfigErrors, Problems};
use crate::redact::Redactor;
use crate::targets::{build_targets, default_client, Target};

/// A check ready to run.
#[derive(Debug)]
pub struct PlannedCheck {
    pub spec: CheckSpec,
    pub check: Arc<dyn Check>,
}

/// Everything the engine runs for one config generation.
#[derive(Debug)]
pub struct Plan {
    pub config: Config,
    pub checks: Vec<Arc<PlannedCheck>>,
    pub targets: BTreeMap<String, Target>,
    /// Bounds the checks evaluated at once (global.concurrency).
    pub semaphore: Arc<Semaphore>,
    pub redactor: Redactor,
}

impl Plan {
    /// Builds every target and check, collecting every error.
    pub fn build(config: Config) -> Result<Plan, ConfigErrors> {
        let problems = Problems::new(&config.file);
        Self::build_after(config, problems)
    }

    /// Builds what a partially valid config holds, adding to its problems.
    fn build_after(config: Config, mut problems: Problems) -> Result<Plan, ConfigErrors> {
        let (targets, target_errors) = build_targets(&config.targets);
        for (name, field, message) in target_errors {
            problems.push(&format!("target {name:?}"), &field, message);
        }
        let http_client = match default_client() {
            Ok(c) => c,
            Err(e) => {
                problems.push("", "", e);
                return problems.into_result(Self::empty(config), &Redactor::new());
            }
        };
        let mut redactor = config.redactor.clone();
        let mut checks = Vec::with_capacity(config.checks.len());
        for spec in &config.checks {
            let target = spec.target.as_ref().and_then(|t| targets.get(t));
            if spec.target.is_some() && target.is_none() {
                // The target itself failed to build; its error is reported above.
                continue;
            }
            let input = BuildInput {
                spec,
                target,
                http_client: &http_client,
            };
            match (spec.kind.build)(&input) {
                Ok(check) => {
                    for secret in check.secrets() {
                        redactor.add(&secret);
                    }
                    checks.push(Arc::new(PlannedCheck {
                        spec: spec.clone(),
                        check,
                    }));
                }
                Err((field, message)) => problems.push(&spec.place(), &field, message),
            }
        }
        // The planned checks own their specs; the config's copies are not needed.
        let mut config = config;
        config.checks = Vec::new();
        let plan = Plan {
            semaphore: Arc::new(Semaphore::new(config.global.concurrency.max(1))),
            redactor: redactor.clone(),
            config,
            checks,
            targets,
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
        }
    }

    pub fn check(&self, name: &str) -> Option<&Arc<PlannedCheck>> {
        self.checks.iter().find(|c| c.spec.name == name)
    }
}

/// Loads and builds a config file in one step, reporting every problem of
/// both phases together.
pub fn load_plan(file: &std::path::Path) -> Result<Plan, ConfigErrors> {
    let (config, problems) = Config::load_partial(file, &crate::config::process_env());
    Plan::build_after(config, problems)
}
