//! Kind `rollback_ready`: a previous release is still there to roll back to
//! (at least `min_releases` entries in a releases directory), and the newest
//! migration has a down/revert counterpart where the tool supports one.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::{mtime, read_text, resolve_path};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;
use crate::scan::migrations::{read_migrations, Tool};

pub const KIND: KindInfo = KindInfo {
    item: Some("deployment.verify_rollback_plan"),
    unit: "count",
    summary: "a previous release is kept, and the newest migration can be reverted",
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"- **Passes** when at least `min_releases` releases are present and the newest migration can be reverted: sqlx `.down.sql` beside a `.up.sql`, Diesel non-empty `down.sql`, Flyway `U<version>__*.sql`, Rails/Ecto `def down`/`def change`, Alembic a `downgrade()` that does something, Django every `RunPython`/`RunSQL` given its reverse (a second argument, `reverse_code=`, `reverse_sql=`; the other operations Django reverses itself; the newest is the highest-numbered migration of any app). **Fails** otherwise. **Errors** when the releases directory cannot be read."#,
    ..KindInfo::new(
        "rollback_ready",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

fn default_pattern() -> String {
    "*".into()
}
const fn default_min_releases() -> usize {
    2
}

/// Where the migrations are, to check the newest has a way back.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Migrations {
    pub dir: PathBuf,
    pub tool: Tool,
}

/// Params of the `rollback_ready` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Directory of releases (directories or artifacts), relative to the path target.
    pub releases_dir: PathBuf,
    /// Release name pattern (`app-*.tar.gz`, `20*`). Default `*`.
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// Releases that must be present (current + previous). Default 2.
    #[serde(default = "default_min_releases")]
    pub min_releases: usize,
    /// Check that the newest migration has a down migration.
    #[serde(default)]
    pub migrations: Option<Migrations>,
}

#[derive(Debug)]
struct RollbackReady {
    releases: PathBuf,
    pattern: glob::Pattern,
    min_releases: usize,
    migrations: Option<(PathBuf, Tool)>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let pattern = glob::Pattern::new(&params.pattern)
        .map_err(|e| ParamError::new("params.pattern", format!("invalid pattern: {e}")))?;
    let migrations = params
        .migrations
        .map(|m| resolve_path(input, Some(&m.dir), "migrations.dir").map(|d| (d, m.tool)))
        .transpose()?;
    Ok(Arc::new(RollbackReady {
        releases: resolve_path(input, Some(&params.releases_dir), "releases_dir")?,
        pattern,
        min_releases: params.min_releases.max(1),
        migrations,
    }))
}

/// Whether Django can reverse a migration: every `RunPython` and `RunSQL`
/// in it is given its reverse (a second argument or `reverse_code=` /
/// `reverse_sql=`); the other operations Django reverses itself.
fn django_reversible(text: &str) -> bool {
    ["RunPython(", "RunSQL("].iter().all(|call| {
        text.match_indices(call).all(|(at, _)| {
            // The call's arguments, split at its top-level commas.
            let mut args = vec![String::new()];
            let mut depth = 0i32;
            for c in text[at + call.len()..].chars() {
                match c {
                    ')' | ']' | '}' if depth == 0 => break,
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    ',' if depth == 0 => {
                        args.push(String::new());
                        continue;
                    }
                    _ => {}
                }
                if let Some(last) = args.last_mut() {
                    last.push(c);
                }
            }
            let args: Vec<&str> = args
                .iter()
                .map(|a| a.trim())
                .filter(|a| !a.is_empty())
                .collect();
            args.iter().any(|a| a.starts_with("reverse_"))
                || args.get(1).is_some_and(|a| !a.contains('='))
        })
    })
}

/// Whether the newest migration can be reverted; `Err` explains why not.
pub fn newest_has_down(dir: &std::path::Path, tool: Tool) -> Result<String, String> {
    let files = read_migrations(dir, tool)?;
    let newest = files
        .last()
        .ok_or_else(|| format!("no {tool:?} migration in {}", dir.display()))?;
    let name = newest.name.clone();
    let body = |file: &std::path::Path| read_text(file, 8 * 1024 * 1024).unwrap_or_default();
    let ok = match tool {
        Tool::Sqlx => {
            let down = dir.join(name.replace(".up.sql", ".down.sql"));
            name.ends_with(".up.sql") && down.is_file()
        }
        Tool::Diesel => !body(&dir.join(&name).join("down.sql")).trim().is_empty(),
        Tool::Flyway => std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok()).any(|e| {
                    e.file_name().to_str().is_some_and(|f| {
                        f.starts_with(&format!("U{}__", newest.version))
                            || f.starts_with(&format!("U{}__", newest.version.replace('.', "_")))
                    })
                })
            })
            .unwrap_or(false),
        Tool::Rails | Tool::Ecto => {
            let text = body(&dir.join(&name));
            text.contains("def down") || text.contains("def change")
        }
        Tool::Django => django_reversible(&body(&dir.join(&name))),
        Tool::Alembic => {
            let text = body(&dir.join(&name));
            text.split("def downgrade").nth(1).is_some_and(|rest| {
                rest.lines()
                    .skip(1)
                    .take_while(|l| {
                        l.starts_with(' ') || l.starts_with('\t') || l.trim().is_empty()
                    })
                    .any(|l| {
                        let t = l.trim();
                        !t.is_empty()
                            && t != "pass"
                            && !t.starts_with('#')
                            && !t.starts_with("\"\"\"")
                    })
            })
        }
    };
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "the newest migration {name} has no down/revert migration"
        ))
    }
}

impl Check for RollbackReady {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            ctx.trace(format!("listing {}", self.releases.display()));
            let entries = match std::fs::read_dir(&self.releases) {
                Ok(e) => e,
                Err(e) => {
                    return Outcome::error(format!("cannot read {}: {e}", self.releases.display()))
                }
            };
            let mut releases: Vec<(i64, String)> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    self.pattern
                        .matches(&name)
                        .then(|| (mtime(&e.path()).unwrap_or(0), name))
                })
                .collect();
            releases.sort();
            let names: Vec<String> = releases.iter().rev().map(|(_, n)| n.clone()).collect();
            let mut problems = Vec::new();
            if releases.len() < self.min_releases {
                problems.push(format!(
                    "{} release(s) matching {} in {}, need {} to roll back to a previous one",
                    releases.len(),
                    self.pattern,
                    self.releases.display(),
                    self.min_releases
                ));
            }
            let mut migration_note = None;
            if let Some((dir, tool)) = &self.migrations {
                match newest_has_down(dir, *tool) {
                    Ok(name) => {
                        migration_note = Some(format!("newest migration {name} can be reverted"))
                    }
                    Err(e) => problems.push(e),
                }
            }
            let outcome = if problems.is_empty() {
                Outcome::pass(format!(
                    "{} release(s) present (newest {}, previous {}){}",
                    releases.len(),
                    names.first().map_or("-", String::as_str),
                    names.get(1).map_or("-", String::as_str),
                    migration_note.map_or(String::new(), |n| format!("; {n}"))
                ))
            } else {
                Outcome::fail(problems.join("; "))
            };
            outcome
                .observed(releases.len() as f64)
                .threshold(self.min_releases as f64)
                .evidence("releases", names)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::django_reversible;

    #[test]
    fn django_migrations_reverse_unless_code_or_sql_lacks_its_reverse() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/migrations/django"
        );
        let read = |f: &str| std::fs::read_to_string(format!("{fixture}/{f}")).unwrap();
        // Written by makemigrations: operations Django reverses itself.
        assert!(django_reversible(&read(
            "orders/migrations/0002_placed_at.py"
        )));
        // A RunPython without reverse_code cannot be unapplied.
        assert!(!django_reversible(&read(
            "billing/migrations/0002_backfill.py"
        )));
        for reversible in [
            "migrations.RunPython(forwards, backwards)",
            "migrations.RunPython(forwards, migrations.RunPython.noop)",
            "migrations.RunPython(code=forwards, reverse_code=backwards)",
            "migrations.RunSQL(\"UPDATE a SET b = 1\", reverse_sql=\"UPDATE a SET b = 0\")",
        ] {
            assert!(django_reversible(reversible), "{reversible}");
        }
        for one_way in [
            "migrations.RunPython(forwards)",
            "migrations.RunPython(forwards, elidable=True)",
            "migrations.RunSQL(\"UPDATE a SET b = f(1, 2)\")",
        ] {
            assert!(!django_reversible(one_way), "{one_way}");
        }
    }
}
