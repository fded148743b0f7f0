//! Redis kinds: `redis_persistence`, `redis_replication`, `redis_hit_ratio`
//! and `redis_memory`. Each reads `INFO` (and `CONFIG GET save` where it
//! must) over the target's shared connection manager and never writes.

pub mod hit_ratio;
pub mod memory;
pub mod persistence;
pub mod replication;

use std::collections::HashMap;
use std::sync::Arc;

use crate::checks::{BuildInput, Context, Outcome, ParamError, TargetNeed};
use crate::config::TargetType;
use crate::targets::{describe_redis_error, RedisTarget};

pub(super) const NEED: TargetNeed = TargetNeed::Required(&[TargetType::Redis]);

pub(super) fn redis_target(input: &BuildInput<'_>) -> Result<Arc<RedisTarget>, ParamError> {
    input
        .target
        .and_then(|t| t.as_redis())
        .cloned()
        .ok_or_else(|| ParamError::new("target", "needs a redis target"))
}

/// Parses `INFO` output into key -> value.
pub fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub(super) async fn info(
    target: &RedisTarget,
    ctx: &Context,
    section: &str,
) -> Result<HashMap<String, String>, Outcome> {
    let mut conn = target.connection().await.map_err(Outcome::error)?;
    ctx.trace(format!("INFO {section} on {}", target.display_url));
    let text: String = redis::cmd("INFO")
        .arg(section)
        .query_async(&mut conn)
        .await
        .map_err(|e| {
            Outcome::error(format!(
                "INFO {section} failed: {}{}",
                describe_redis_error(&e),
                acl_hint(&e, "+info")
            ))
        })?;
    Ok(parse_info(&text))
}

/// How to grant a command an ACL user was refused (`NOPERM`).
pub(super) fn acl_hint(error: &redis::RedisError, grant: &str) -> String {
    if error.to_string().contains("NOPERM") || error.code() == Some("NOPERM") {
        format!(" (the ACL user lacks it: ACL SETUSER <user> {grant})")
    } else {
        String::new()
    }
}

/// A field the check cannot judge without: its absence is an `error`, never
/// a default.
pub(super) fn field<'a>(map: &'a HashMap<String, String>, key: &str) -> Result<&'a str, Outcome> {
    map.get(key)
        .map(String::as_str)
        .ok_or_else(|| Outcome::error(format!("INFO has no field {key}: cannot tell its state")))
}

pub(super) fn num(map: &HashMap<String, String>, key: &str) -> Result<f64, Outcome> {
    map.get(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| Outcome::error(format!("INFO has no numeric field {key}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_sections() {
        let i = parse_info("# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0\r\n");
        assert_eq!(i["role"], "master");
        assert_eq!(
            i["slave0"],
            "ip=127.0.0.1,port=7001,state=online,offset=42,lag=0"
        );
        assert!(!i.contains_key("# Replication"));
    }
}
