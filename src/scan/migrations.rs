//! Migration files and history rows of the tools the deployment kinds
//! understand (sqlx, Rails, Ecto, Flyway, Diesel, Alembic, Django): reading a
//! migrations directory, checksums as each tool computes them, and comparing
//! files with what a history table says was applied. Shared by
//! `pending_migrations` and `rollback_ready`; knows no database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

/// The migration tools understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Sqlx,
    Rails,
    Ecto,
    Flyway,
    Diesel,
    Alembic,
    /// Django: `<app>/migrations/NNNN_name.py` of every app under `dir`
    /// (or `dir` itself when it is one app's `migrations` directory),
    /// against `django_migrations` (`app`, `name`).
    Django,
}

impl Tool {
    pub fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Rails | Tool::Ecto => "schema_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Alembic => "alembic_version",
            Tool::Django => "django_migrations",
        }
    }
}

/// One migration file: its version and, where the tool keeps one, checksum.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationFile {
    pub version: String,
    pub name: String,
    pub checksum: Option<Vec<u8>>,
    /// Alembic: the revisions this one follows.
    pub parents: Vec<String>,
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| unreachable!("static regex: {e}")))
}

/// CRC-32 (IEEE), as Flyway uses.
pub fn crc32(data: &[u8], mut crc: u32) -> u32 {
    crc = !crc;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Flyway's checksum: CRC-32 over each line without its line break (BOM
/// removed), as a signed 32-bit integer.
pub fn flyway_checksum(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut crc = 0u32;
    for line in text.lines() {
        crc = crc32(line.trim_end_matches('\r').as_bytes(), crc);
    }
    crc as i32
}

/// Django's migration files: in `dir` when it is a `migrations`
/// directory, else in every `<app>/migrations` (with an `__init__.py`) at
/// most four levels under it, skipping hidden directories, virtualenvs and
/// `node_modules`. The version is `<app label>.<name>` as
/// `django_migrations` stores it; the label is the app's directory name
/// (Django's default; an `AppConfig.label` of its own is not read).
fn django_migrations(dir: &Path) -> Result<Vec<MigrationFile>, String> {
    static NAME: OnceLock<Regex> = OnceLock::new();
    let mut dirs = Vec::new();
    if dir.file_name().is_some_and(|n| n == "migrations") {
        dirs.push(dir.to_path_buf());
    } else {
        let mut stack = vec![(dir.to_path_buf(), 0)];
        while let Some((d, depth)) = stack.pop() {
            let entries =
                std::fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
            for e in entries.filter_map(|e| e.ok()) {
                let name = e.file_name().to_string_lossy().into_owned();
                if !e.file_type().is_ok_and(|t| t.is_dir())
                    || name.starts_with('.')
                    || matches!(
                        name.as_str(),
                        "node_modules" | "venv" | "site-packages" | "__pycache__"
                    )
                {
                    continue;
                }
                if name == "migrations" && e.path().join("__init__.py").is_file() {
                    dirs.push(e.path());
                } else if depth < 4 {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
    }
    let mut out = Vec::new();
    for migrations in dirs {
        let app = migrations
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entries = std::fs::read_dir(&migrations)
            .map_err(|e| format!("cannot read {}: {e}", migrations.display()))?;
        for e in entries.filter_map(|e| e.ok()) {
            let file = e.file_name().to_string_lossy().into_owned();
            if let Some(c) = regex(&NAME, r"^(\d{4}_\w+)\.py$").captures(&file) {
                let relative = e.path();
                let relative = relative.strip_prefix(dir).unwrap_or(&relative);
                out.push(MigrationFile {
                    version: format!("{app}.{}", &c[1]),
                    name: relative.display().to_string(),
                    checksum: None,
                    parents: Vec::new(),
                });
            }
        }
    }
    sort_by_version(&mut out);
    Ok(out)
}

/// Reads the migration files of `tool` in `dir`, sorted by name.
pub fn read_migrations(dir: &Path, tool: Tool) -> Result<Vec<MigrationFile>, String> {
    if tool == Tool::Django {
        return django_migrations(dir);
    }
    static SQLX: OnceLock<Regex> = OnceLock::new();
    static RAILS: OnceLock<Regex> = OnceLock::new();
    static ECTO: OnceLock<Regex> = OnceLock::new();
    static FLYWAY: OnceLock<Regex> = OnceLock::new();
    static DIESEL: OnceLock<Regex> = OnceLock::new();
    static REVISION: OnceLock<Regex> = OnceLock::new();
    static DOWN: OnceLock<Regex> = OnceLock::new();
    static QUOTED: OnceLock<Regex> = OnceLock::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
    };
    let mut out = Vec::new();
    for name in names {
        let file = |version: &str, checksum: Option<Vec<u8>>| MigrationFile {
            version: version.to_owned(),
            name: name.clone(),
            checksum,
            parents: Vec::new(),
        };
        match tool {
            Tool::Sqlx => {
                if name.ends_with(".down.sql") {
                    continue;
                }
                if let Some(c) = regex(&SQLX, r"^(\d+)_.+?(\.up)?\.sql$").captures(&name) {
                    let text = read(&name)?;
                    let digest = ring::digest::digest(&ring::digest::SHA384, text.as_bytes());
                    out.push(file(&c[1], Some(digest.as_ref().to_vec())));
                }
            }
            Tool::Rails => {
                if let Some(c) = regex(&RAILS, r"^(\d+)_\w+\.rb$").captures(&name) {
                    out.push(file(&c[1], None));
                }
            }
            Tool::Ecto => {
                if let Some(c) = regex(&ECTO, r"^(\d+)_\w+\.exs$").captures(&name) {
                    out.push(file(&c[1], None));
                }
            }
            Tool::Flyway => {
                if let Some(c) = regex(&FLYWAY, r"^V([0-9._]+)__.+\.sql$").captures(&name) {
                    let checksum = flyway_checksum(&read(&name)?);
                    out.push(file(
                        &c[1].replace('_', "."),
                        Some(checksum.to_be_bytes().to_vec()),
                    ));
                }
            }
            Tool::Diesel => {
                if let Some(c) =
                    regex(&DIESEL, r"^(\d{4}-\d{2}-\d{2}-\d{6}|\d+)_\w+$").captures(&name)
                {
                    if dir.join(&name).join("up.sql").is_file() {
                        out.push(file(&c[1].replace('-', ""), None));
                    }
                }
            }
            Tool::Alembic => {
                if !name.ends_with(".py") {
                    continue;
                }
                let text = read(&name)?;
                let Some(rev) = regex(
                    &REVISION,
                    r#"(?m)^revision\s*(?::\s*\w+\s*)?=\s*['"]([^'"]+)['"]"#,
                )
                .captures(&text) else {
                    continue;
                };
                let parents = regex(&DOWN, r"(?m)^down_revision\s*(?::[^=\n]+)?=\s*(.+)$")
                    .captures(&text)
                    .map(|d| {
                        regex(&QUOTED, r#"['"]([^'"]+)['"]"#)
                            .captures_iter(&d[1])
                            .map(|q| q[1].to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut f = file(&rev[1], None);
                f.parents = parents;
                out.push(f);
            }
            Tool::Django => {}
        }
    }
    if tool != Tool::Alembic {
        sort_by_version(&mut out);
    }
    Ok(out)
}

/// Oldest first: by the version's numeric parts, then by file name.
fn sort_by_version(files: &mut [MigrationFile]) {
    files.sort_by(|a, b| {
        version_key(&a.version)
            .cmp(&version_key(&b.version))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// Numeric parts of a version (`1.10` after `1.9`).
fn version_key(version: &str) -> Vec<u128> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().unwrap_or(u128::MAX))
        .collect()
}

/// One row of a history table.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub version: String,
    pub success: bool,
    pub checksum: Option<Vec<u8>>,
}

/// What comparing files with history found.
#[derive(Debug, Default, PartialEq)]
pub struct Comparison {
    pub pending: Vec<String>,
    pub failed: Vec<String>,
    pub checksum_mismatch: Vec<String>,
    pub unknown_applied: Vec<String>,
}

/// Compares files with history rows (Alembic: rows are the current heads).
pub fn compare(files: &[MigrationFile], applied: &[Applied], tool: Tool) -> Comparison {
    let mut c = Comparison::default();
    if tool == Tool::Alembic {
        let by_rev: HashMap<&str, &MigrationFile> =
            files.iter().map(|f| (f.version.as_str(), f)).collect();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<String> = Vec::new();
        for head in applied {
            if by_rev.contains_key(head.version.as_str()) {
                stack.push(head.version.clone());
            } else {
                c.unknown_applied.push(head.version.clone());
            }
        }
        while let Some(rev) = stack.pop() {
            if done.insert(rev.clone()) {
                if let Some(f) = by_rev.get(rev.as_str()) {
                    stack.extend(f.parents.iter().cloned());
                }
            }
        }
        c.pending = files
            .iter()
            .filter(|f| !done.contains(&f.version))
            .map(|f| f.name.clone())
            .collect();
        return c;
    }
    // Django: rows of apps with no migrations here (django.contrib's,
    // installed packages') are neither pending nor unknown.
    let apps: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.version.split_once('.').map(|(app, _)| app))
        .collect();
    let applied: Vec<&Applied> = applied
        .iter()
        .filter(|a| {
            tool != Tool::Django
                || a.version
                    .split_once('.')
                    .is_some_and(|(app, _)| apps.contains(app))
        })
        .collect();
    let rows: BTreeMap<&str, &Applied> = applied.iter().map(|a| (a.version.as_str(), *a)).collect();
    for f in files {
        match rows.get(f.version.as_str()) {
            None => c.pending.push(f.name.clone()),
            Some(a) => {
                if !a.success {
                    c.failed.push(f.name.clone());
                }
                if let (Some(want), Some(got)) = (&f.checksum, &a.checksum) {
                    if want != got {
                        c.checksum_mismatch.push(f.name.clone());
                    }
                }
            }
        }
    }
    let known: BTreeSet<&str> = files.iter().map(|f| f.version.as_str()).collect();
    for a in applied {
        if !known.contains(a.version.as_str()) {
            c.unknown_applied.push(a.version.clone());
            if !a.success {
                c.failed.push(a.version.clone());
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789", 0), 0xCBF4_3926);
    }

    #[test]
    fn flyway_checksum_ignores_line_endings_and_bom() {
        let unix = flyway_checksum("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n");
        let dos =
            flyway_checksum("\u{feff}CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n");
        assert_eq!(unix, dos);
        assert_ne!(unix, flyway_checksum("CREATE TABLE a (id bigint);\n"));
    }

    #[test]
    fn reads_each_tools_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for (name, body) in [
            ("20240101000000_init.sql", "CREATE TABLE a ();"),
            ("20240102000000_more.up.sql", "CREATE TABLE b ();"),
            ("20240102000000_more.down.sql", "DROP TABLE b;"),
            ("20240101120000_create_users.rb", ""),
            ("20240101120000_create_users.exs", ""),
            ("V1__init.sql", "x"),
            ("V1_1__more.sql", "y"),
            ("a1b2_first.py", "revision = 'a1b2'\ndown_revision = None\n"),
            (
                "c3d4_second.py",
                "revision: str = \"c3d4\"\ndown_revision: Union[str, None] = 'a1b2'\n",
            ),
            ("README.md", ""),
        ] {
            std::fs::write(p.join(name), body).unwrap();
        }
        std::fs::create_dir(p.join("2024-01-01-120000_create_users")).unwrap();
        std::fs::write(p.join("2024-01-01-120000_create_users/up.sql"), "").unwrap();
        let versions = |tool| -> Vec<String> {
            read_migrations(p, tool)
                .unwrap()
                .into_iter()
                .map(|f| f.version)
                .collect()
        };
        assert_eq!(versions(Tool::Sqlx), ["20240101000000", "20240102000000"]);
        assert_eq!(versions(Tool::Rails), ["20240101120000"]);
        assert_eq!(versions(Tool::Ecto), ["20240101120000"]);
        assert_eq!(versions(Tool::Flyway), ["1", "1.1"]);
        assert_eq!(versions(Tool::Diesel), ["20240101120000"]);
        let alembic = read_migrations(p, Tool::Alembic).unwrap();
        assert_eq!(alembic[1].version, "c3d4");
        assert_eq!(alembic[1].parents, ["a1b2"]);
    }

    #[test]
    fn alembic_pending_follows_the_revision_graph() {
        let f = |v: &str, parents: &[&str]| MigrationFile {
            version: v.into(),
            name: format!("{v}.py"),
            checksum: None,
            parents: parents.iter().map(|p| p.to_string()).collect(),
        };
        let files = [f("a", &[]), f("b", &["a"]), f("c", &["b"])];
        let head = |v: &str| Applied {
            version: v.into(),
            success: true,
            checksum: None,
        };
        assert_eq!(
            compare(&files, &[head("b")], Tool::Alembic).pending,
            ["c.py"]
        );
        assert!(compare(&files, &[head("c")], Tool::Alembic)
            .pending
            .is_empty());
        assert_eq!(compare(&files, &[], Tool::Alembic).pending.len(), 3);
    }
}
