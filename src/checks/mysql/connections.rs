//! Kind `mysql_connections`: Threads_connected vs max_connections.

use std::sync::Arc;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};
use crate::targets::MySqlTarget;

use super::{mysql_target, pairs, show, value_of, NEED};

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.database_pooling"),
    unit: "ratio",
    summary: "Threads_connected vs max_connections",
    target: NEED,
    doc: r#"MariaDB and MySQL.
- **Needs:** a login only (global status and variables are visible to every account).
- **Reads:** `SHOW GLOBAL STATUS LIKE '%connect%'` (`Threads_connected`, `Max_used_connections`), `SHOW GLOBAL VARIABLES LIKE 'max_connections'`.
- **Passes** when the ratio is under `max_ratio` (observed); **fails** at or above it."#,
    ..KindInfo::new(
        "mysql_connections",
        Category::Performance,
        build_connections,
        <ConnectionsParams as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_ratio() -> f64 {
    0.8
}

/// Params of the `mysql_connections` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsParams {
    /// Fail when Threads_connected / max_connections reaches this. Default 0.8.
    #[serde(default = "default_max_ratio")]
    pub max_ratio: f64,
}

#[derive(Debug)]
struct Connections {
    target: Arc<MySqlTarget>,
    max_ratio: f64,
}

fn build_connections(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let p: ConnectionsParams = parse_params(&input.spec.params)?;
    crate::checks::require_ratio("max_ratio", p.max_ratio)?;
    Ok(Arc::new(Connections {
        target: mysql_target(input)?,
        max_ratio: p.max_ratio,
    }))
}

impl Check for Connections {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            crate::checks::settle(async {
                let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
                ctx.trace(format!("SHOW GLOBAL STATUS on {}", self.target.display_url));
                let status = pairs(&show(&pool, "SHOW GLOBAL STATUS LIKE '%connect%'").await?);
                let vars = pairs(&show(&pool, "SHOW GLOBAL VARIABLES LIKE 'max_connections'").await?);
                let (Some(used), Some(max)) = (value_of(&status, "Threads_connected"), value_of(&vars, "max_connections")) else {
                    return Err(Outcome::error("Threads_connected or max_connections is missing from the server's answer"));
                };
                let peak = value_of(&status, "Max_used_connections").unwrap_or(used);
                let ratio = used / max.max(1.0);
                let outcome = if ratio >= self.max_ratio {
                    Outcome::fail(format!(
                        "{used} of {max} connections in use ({:.0}%, limit {:.0}%)",
                        ratio * 100.0,
                        self.max_ratio * 100.0
                    ))
                } else {
                    Outcome::pass(format!("{used} of {max} connections in use ({:.0}%); peak {peak}", ratio * 100.0))
                };
                Ok(outcome
                    .observed(ratio)
                    .threshold(self.max_ratio)
                    .evidence("threads_connected", used)
                    .evidence("max_connections", max)
                    .evidence("max_used_connections", peak))
            }
            .await)
        })
    }
}
