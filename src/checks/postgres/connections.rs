//! Kind `postgres_connections`: connections in use against `max_connections`,
//! sessions idle in a transaction for too long and, when a PgBouncer admin
//! URL is given, clients waiting for a server connection (`SHOW POOLS`).

use std::str::FromStr;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Row};

use super::{col, pg_target, require_grant, rows, Grant};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{format_duration, ConfigDuration, TargetType};
use crate::redact::mask_url_passwords;
use crate::targets::{describe_sql_error, PgTarget};

pub const KIND: KindInfo = KindInfo {
    item: Some("performance.database_pooling"),
    unit: "ratio",
    summary: "connections used vs max_connections, idle in transaction, PgBouncer waiting clients",
    target: TargetNeed::Required(&[TargetType::Postgres]),
    doc: r#"- **Needs:** `pg_read_all_stats` (in `pg_monitor`): other roles' session states.
- **Reads:** `pg_stat_activity` (client backends; sessions `idle in transaction` longer than the age), `max_connections`, `superuser_reserved_connections`; with a PgBouncer URL, `SHOW POOLS` (`cl_waiting`) over the admin console (simple query protocol, one short connection per evaluation).
- **Passes** under every limit. Observed value: the usage ratio. **Fails** at or above `max_ratio`, on too many idle-in-transaction sessions, or on waiting PgBouncer clients."#,
    ..KindInfo::new(
        "postgres_connections",
        Category::Performance,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_ratio() -> f64 {
    0.8
}
const fn default_idle_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(60))
}

/// Params of the `postgres_connections` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Fail when connections / (max_connections - reserved) reach this. Default 0.8.
    #[serde(default = "default_max_ratio")]
    pub max_ratio: f64,
    /// Sessions idle in a transaction longer than this count. Default 60s.
    #[serde(default = "default_idle_age")]
    pub idle_in_transaction_age: ConfigDuration,
    /// Fail when more sessions than this are idle in a transaction. Default 0.
    #[serde(default)]
    pub max_idle_in_transaction: i64,
    /// PgBouncer admin console URL (`postgres://user@host:6432/pgbouncer`);
    /// PgBouncer needs `ignore_startup_parameters = extra_float_digits`.
    #[serde(default)]
    pub pgbouncer_admin_url: Option<String>,
    /// Fail when more PgBouncer clients than this are waiting. Default 0.
    #[serde(default)]
    pub max_waiting_clients: i64,
}

struct Connections {
    target: Arc<PgTarget>,
    params: Params,
    pgbouncer: Option<(PgConnectOptions, String)>,
}

/// The PgBouncer URL may hold a password: Debug shows it masked.
impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("target", &self.target.display_url)
            .field(
                "pgbouncer",
                &self.pgbouncer.as_ref().map(|(_, shown)| shown),
            )
            .finish_non_exhaustive()
    }
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    crate::checks::require_ratio("max_ratio", params.max_ratio)?;
    let pgbouncer = match &params.pgbouncer_admin_url {
        None => None,
        Some(url) => {
            let shown = mask_url_passwords(url);
            let options = PgConnectOptions::from_str(url).map_err(|e| {
                ParamError::new(
                    "params.pgbouncer_admin_url".to_owned(),
                    format!("invalid URL {shown:?}: {e}"),
                )
            })?;
            Some((options.application_name("prodready-exporter"), shown))
        }
    };
    Ok(Arc::new(Connections {
        target: pg_target(input)?,
        params,
        pgbouncer,
    }))
}

const USAGE_SQL: &str = "
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::bigint AS used,
       current_setting('max_connections')::bigint AS max,
       current_setting('superuser_reserved_connections')::bigint AS reserved,
       (SELECT count(*) FROM pg_stat_activity
         WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
           AND now() - state_change > make_interval(secs => $1))::bigint AS idle_in_tx";

impl Check for Connections {
    fn secrets(&self) -> Vec<String> {
        self.params
            .pgbouncer_admin_url
            .as_deref()
            .and_then(|u| reqwest::Url::parse(u).ok())
            .and_then(|u| u.password().map(str::to_owned))
            .into_iter()
            .collect()
    }

    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.run(ctx).await) })
    }
}

impl Connections {
    async fn waiting_clients(
        &self,
        ctx: &Context,
    ) -> Result<Option<(i64, Vec<serde_json::Value>)>, Outcome> {
        let Some((options, shown)) = &self.pgbouncer else {
            return Ok(None);
        };
        ctx.trace(format!("SHOW POOLS on {shown}"));
        let mut conn = options.connect().await.map_err(|e| {
            Outcome::error(format!(
                "cannot connect to PgBouncer {shown}: {}",
                describe_sql_error(&e)
            ))
        })?;
        let pools = sqlx::raw_sql("SHOW POOLS")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| {
                Outcome::error(format!(
                    "SHOW POOLS on {shown} failed: {}",
                    describe_sql_error(&e)
                ))
            })?;
        let mut waiting = 0;
        let mut evidence = Vec::new();
        for p in &pools {
            let text = |name: &str| -> String {
                p.try_get::<String, _>(name)
                    .or_else(|_| p.try_get::<i64, _>(name).map(|v| v.to_string()))
                    .or_else(|_| p.try_get::<i32, _>(name).map(|v| v.to_string()))
                    .unwrap_or_default()
            };
            let w: i64 = text("cl_waiting").parse().unwrap_or(0);
            waiting += w;
            evidence.push(json!({"database": text("database"), "user": text("user"), "cl_active": text("cl_active"), "cl_waiting": w}));
        }
        Ok(Some((waiting, evidence)))
    }

    async fn run(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        let pool = self.target.ready_pool().await.map_err(Outcome::error)?;
        require_grant(
            &pool,
            Grant::ReadAllStats,
            "other roles' sessions would show no state and idle transactions would go unseen",
        )
        .await?;
        ctx.trace(format!(
            "querying pg_stat_activity on {}",
            self.target.display_url
        ));
        let r = rows(
            &pool,
            "pg_stat_activity",
            sqlx::query(USAGE_SQL).bind(self.params.idle_in_transaction_age.0.as_secs_f64()),
        )
        .await?;
        let Some(r) = r.first() else {
            return Err(Outcome::error("pg_stat_activity returned no row"));
        };
        let used: i64 = col(r, "used")?;
        let max: i64 = col(r, "max")?;
        let reserved: i64 = col(r, "reserved")?;
        let idle: i64 = col(r, "idle_in_tx")?;
        let usable = (max - reserved).max(1);
        let ratio = used as f64 / usable as f64;
        let mut problems = Vec::new();
        if ratio >= self.params.max_ratio {
            problems.push(format!(
                "{used} of {usable} usable connections in use ({:.0}%, limit {:.0}%)",
                ratio * 100.0,
                self.params.max_ratio * 100.0
            ));
        }
        if idle > self.params.max_idle_in_transaction {
            problems.push(format!(
                "{idle} session(s) idle in a transaction for more than {}",
                format_duration(self.params.idle_in_transaction_age.0)
            ));
        }
        let bouncer = self.waiting_clients(ctx).await?;
        if let Some((waiting, _)) = &bouncer {
            if *waiting > self.params.max_waiting_clients {
                problems.push(format!(
                    "{waiting} PgBouncer client(s) waiting for a server connection"
                ));
            }
        }
        let outcome = if problems.is_empty() {
            Outcome::pass(format!(
                "{used} of {usable} usable connections in use ({:.0}%), {idle} idle in transaction{}",
                ratio * 100.0,
                bouncer.as_ref().map_or(String::new(), |(w, _)| format!(", {w} PgBouncer clients waiting"))
            ))
        } else {
            Outcome::fail(problems.join("; "))
        };
        let mut outcome = outcome
            .observed(ratio)
            .threshold(self.params.max_ratio)
            .evidence("connections", used)
            .evidence("max_connections", max)
            .evidence("superuser_reserved_connections", reserved)
            .evidence("idle_in_transaction", idle);
        if let Some((waiting, pools)) = bouncer {
            outcome = outcome
                .evidence("pgbouncer_waiting_clients", waiting)
                .evidence("pgbouncer_pools", pools);
        }
        Ok(outcome)
    }
}
