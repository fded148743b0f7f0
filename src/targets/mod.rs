//! The live systems checks read, built once per config from `targets:` and
//! shared by every check that names them: HTTP clients, TLS settings,
//! PostgreSQL/MySQL pools and Redis connection managers. Building never
//! contacts a target; checks import this module, never the engine.

pub mod databases;
pub mod http;
pub mod tls;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use databases::{describe_redis_error, describe_sql_error, MySqlTarget, PgTarget, RedisTarget};
pub use http::{client_builder, default_client, HttpTarget};
pub use tls::{client_tls_config, system_roots, AcceptAnyCertificate};

use crate::config::TargetSpec;

/// A built target.
#[derive(Debug, Clone)]
pub enum Target {
    Http(Arc<HttpTarget>),
    Path(PathBuf),
    Postgres(Arc<PgTarget>),
    Mysql(Arc<MySqlTarget>),
    Redis(Arc<RedisTarget>),
}

impl Target {
    pub fn as_http(&self) -> Option<&Arc<HttpTarget>> {
        match self {
            Target::Http(h) => Some(h),
            _ => None,
        }
    }

    pub fn as_postgres(&self) -> Option<&Arc<PgTarget>> {
        match self {
            Target::Postgres(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_mysql(&self) -> Option<&Arc<MySqlTarget>> {
        match self {
            Target::Mysql(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_redis(&self) -> Option<&Arc<RedisTarget>> {
        match self {
            Target::Redis(r) => Some(r),
            _ => None,
        }
    }

    pub fn as_path(&self) -> Option<&PathBuf> {
        match self {
            Target::Path(p) => Some(p),
            _ => None,
        }
    }
}

/// A target that could not be built: `(target name, field, message)`.
pub type TargetError = (String, String, String);

/// Builds every target, collecting the errors of those that cannot be built.
pub fn build_targets(
    specs: &BTreeMap<String, TargetSpec>,
) -> (BTreeMap<String, Target>, Vec<TargetError>) {
    let mut built = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, spec) in specs {
        let target = match spec {
            TargetSpec::Path(p) => Target::Path(p.clone()),
            other => match other.as_http() {
                Some(http) => match http::build_http(http) {
                    Ok(t) => Target::Http(Arc::new(t)),
                    Err((field, msg)) => {
                        let prefix = other.target_type().as_str();
                        let field = if field.is_empty() {
                            prefix.to_owned()
                        } else {
                            format!("{prefix}.{field}")
                        };
                        errors.push((name.clone(), field, msg));
                        continue;
                    }
                },
                None => {
                    let built = match other {
                        TargetSpec::Postgres(d) => {
                            PgTarget::build(d).map(|t| Target::Postgres(Arc::new(t)))
                        }
                        TargetSpec::Mysql(d) => {
                            MySqlTarget::build(d).map(|t| Target::Mysql(Arc::new(t)))
                        }
                        TargetSpec::Redis(d) => {
                            RedisTarget::build(d).map(|t| Target::Redis(Arc::new(t)))
                        }
                        _ => Err((String::new(), "unsupported target".to_owned())),
                    };
                    match built {
                        Ok(t) => t,
                        Err((field, msg)) => {
                            let prefix = other.target_type().as_str();
                            errors.push((name.clone(), format!("{prefix}.{field}"), msg));
                            continue;
                        }
                    }
                }
            },
        };
        built.insert(name.clone(), target);
    }
    (built, errors)
}
