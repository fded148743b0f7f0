//! The checklist itself: the 41 items of the seed (10 security, 9
//! performance, 10 operations, the 5 pre-deployment checks and the 7
//! deployment steps) in the seed's order, and how checks cover them. Items
//! are data; which kind evidences which item is declared by each kind
//! (`KindInfo::item`), and a check may name another item.

use crate::vocab::{Category, State};

/// Where an item belongs in a deployment gate run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the deploy: `check --phase pre-deploy`.
    PreDeploy,
    /// After the deploy: `check --phase post-deploy`.
    PostDeploy,
}

impl Phase {
    pub const ALL: [Phase; 2] = [Phase::PreDeploy, Phase::PostDeploy];

    /// The name `check --phase` takes and reports show.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::PreDeploy => "pre-deploy",
            Phase::PostDeploy => "post-deploy",
        }
    }
}

/// One item of the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// `security.ssl_https`, `deployment.check_migrations`, `step.drain` ...
    pub id: &'static str,
    pub category: Category,
    /// One line on what the item asks for.
    pub title: &'static str,
    /// The gate phase the item is run in, if any.
    pub phase: Option<Phase>,
}

const fn item(id: &'static str, category: Category, title: &'static str) -> Item {
    Item {
        id,
        category,
        title,
        phase: None,
    }
}

const fn phased(id: &'static str, title: &'static str, phase: Option<Phase>) -> Item {
    Item {
        id,
        category: Category::Deployment,
        title,
        phase,
    }
}

use Category::{Operations as Ops, Performance as Perf, Security as Sec};

/// Every item, in the seed's order.
pub static ITEMS: [Item; 41] = [
    item(
        "security.ssl_https",
        Sec,
        "HTTPS everywhere: redirects, HSTS, a valid certificate",
    ),
    item(
        "security.secret_keys",
        Sec,
        "Secret keys are set, long and not placeholders",
    ),
    item(
        "security.dependencies",
        Sec,
        "Dependencies have no known vulnerabilities",
    ),
    item(
        "security.secrets",
        Sec,
        "No secrets committed to the source tree",
    ),
    item(
        "security.cors",
        Sec,
        "CORS does not grant foreign origins credentialed access",
    ),
    item("security.rate_limiting", Sec, "Requests are rate limited"),
    item(
        "security.authentication",
        Sec,
        "Protected resources require authentication",
    ),
    item(
        "security.authorization",
        Sec,
        "Privileged resources refuse low-privilege users",
    ),
    item(
        "security.input_validation",
        Sec,
        "Malformed input is rejected without errors or stack traces",
    ),
    item(
        "security.sql_injection",
        Sec,
        "Parameters are not injectable into SQL",
    ),
    item(
        "performance.database_indexes",
        Perf,
        "Tables have the indexes their queries need",
    ),
    item("performance.n_plus_one", Perf, "No N+1 query patterns"),
    item("performance.caching", Perf, "Responses and data are cached"),
    item(
        "performance.asset_optimization",
        Perf,
        "Assets are compressed, minified and fingerprinted",
    ),
    item(
        "performance.cdn",
        Perf,
        "Static content is served through a CDN",
    ),
    item("performance.compression", Perf, "Responses are compressed"),
    item(
        "performance.database_pooling",
        Perf,
        "Database connections are pooled and not exhausted",
    ),
    item("performance.slow_queries", Perf, "No slow queries"),
    item(
        "performance.memory_leaks",
        Perf,
        "Memory does not grow without bound",
    ),
    item(
        "operations.monitoring",
        Ops,
        "Every service is scraped and up",
    ),
    item("operations.logging", Ops, "Logs arrive in the log store"),
    item(
        "operations.alerting",
        Ops,
        "Alerting rules are loaded and reach a receiver",
    ),
    item("operations.backup", Ops, "Backups are recent and complete"),
    item(
        "operations.disaster_recovery",
        Ops,
        "A restore has been drilled recently",
    ),
    item(
        "operations.failover",
        Ops,
        "Replicas are healthy and failover is drilled",
    ),
    item(
        "operations.capacity_planning",
        Ops,
        "Nothing runs full within the planning horizon",
    ),
    item(
        "operations.documentation",
        Ops,
        "Documentation exists and is reviewed",
    ),
    item("operations.runbooks", Ops, "Runbooks exist for the alerts"),
    item(
        "operations.incident_response",
        Ops,
        "An incident response process is documented",
    ),
    phased(
        "deployment.test_all_systems",
        "All test suites pass",
        Some(Phase::PreDeploy),
    ),
    phased(
        "deployment.check_migrations",
        "Migrations are consistent and ready to run",
        Some(Phase::PreDeploy),
    ),
    phased(
        "deployment.verify_configs",
        "Configuration files are valid",
        Some(Phase::PreDeploy),
    ),
    phased(
        "deployment.backup_database",
        "The database was backed up before the deploy",
        Some(Phase::PreDeploy),
    ),
    phased(
        "deployment.verify_rollback_plan",
        "A rollback is possible",
        Some(Phase::PreDeploy),
    ),
    phased("step.backup", "Create a database backup", None),
    phased("step.drain", "Drain traffic from the old release", None),
    phased("step.migrate", "Run the database migrations", None),
    phased("step.deploy", "Deploy the new release", None),
    phased(
        "step.healthcheck",
        "Verify the health checks pass",
        Some(Phase::PostDeploy),
    ),
    phased(
        "step.smoke_tests",
        "Run the smoke tests",
        Some(Phase::PostDeploy),
    ),
    phased(
        "step.rollback_ready",
        "Keep the rollback ready",
        Some(Phase::PostDeploy),
    ),
];

pub fn lookup_item(id: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.id == id)
}

/// Every item id, in the seed's order, for error messages.
pub fn item_ids() -> Vec<&'static str> {
    ITEMS.iter().map(|i| i.id).collect()
}

/// The items of a gate phase, in the seed's order.
pub fn phase_items(phase: Phase) -> impl Iterator<Item = &'static Item> {
    ITEMS.iter().filter(move |i| i.phase == Some(phase))
}

/// The state of an item from its checks' states: the worst of them by
/// [`State::rank`]; an item without checks is `unknown`.
pub fn item_state(states: impl IntoIterator<Item = State>) -> State {
    State::worst(states).unwrap_or(State::Unknown)
}

/// Every item, in seed order, with the state of its checks (`None` when no
/// check covers it), from the (item id, state) of each check.
pub fn item_states<'a>(
    checks: impl IntoIterator<Item = (&'a str, State)>,
) -> Vec<(&'static Item, Option<State>)> {
    let mut by_item: std::collections::HashMap<&str, Vec<State>> = std::collections::HashMap::new();
    for (item, state) in checks {
        if !item.is_empty() {
            by_item.entry(item).or_default().push(state);
        }
    }
    ITEMS
        .iter()
        .map(|item| (item, by_item.remove(item.id).map(item_state)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_the_seed_shape() {
        let count = |c: Category| ITEMS.iter().filter(|i| i.category == c).count();
        assert_eq!(count(Category::Security), 10);
        assert_eq!(count(Category::Performance), 9);
        assert_eq!(count(Category::Operations), 10);
        assert_eq!(count(Category::Deployment), 12);
        assert_eq!(phase_items(Phase::PreDeploy).count(), 5);
        let post: Vec<&str> = phase_items(Phase::PostDeploy).map(|i| i.id).collect();
        assert_eq!(
            post,
            [
                "step.healthcheck",
                "step.smoke_tests",
                "step.rollback_ready"
            ]
        );
        let mut ids = item_ids();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 41);
        for i in &ITEMS {
            let prefix = i.id.split('.').next().unwrap_or_default();
            assert!(
                prefix == i.category.as_str()
                    || (prefix == "step" && i.category == Category::Deployment),
                "{}",
                i.id
            );
        }
    }

    #[test]
    fn an_item_is_as_bad_as_its_worst_check() {
        assert_eq!(item_state([]), State::Unknown);
        assert_eq!(item_state([State::Pass, State::Pass]), State::Pass);
        assert_eq!(item_state([State::Pass, State::Warn]), State::Warn);
        assert_eq!(item_state([State::Pass, State::Unknown]), State::Unknown);
        assert_eq!(item_state([State::Fail, State::Error]), State::Error);
    }
}
