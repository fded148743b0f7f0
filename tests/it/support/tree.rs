//! Trees in temp dirs for the source kinds: write a file, age it, make a
//! git repository, copy fixtures, run checks on a `repo` path target.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::{run_checks, run_ok, Results};

pub fn write(root: &Path, rel: &str, body: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// Sets a file's modification time `by` into the past.
pub fn age(path: &Path, by: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

pub fn git_init(dir: &Path) {
    run_ok(
        std::process::Command::new(super::require_binary("git"))
            .args(["init", "-q"])
            .arg(dir),
    );
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs `checks` (YAML lines) against a `repo` path target at `dir`.
pub fn run_on_repo(dir: &Path, checks: &str) -> Results {
    run_checks(
        &format!(
            "targets:\n  repo: {{ path: \"{}\" }}\nchecks:\n{checks}",
            dir.display()
        ),
        &[],
    )
}

pub fn today() -> String {
    date_in(0)
}

/// The date (UTC, `2026-12-05`) `days` from today (negative: ago).
pub fn date_in(days: i64) -> String {
    prodready_exporter::clock::date_of(prodready_exporter::clock::unix_now() + days * 86_400)
}

/// Runs git in `dir` as a committer named t; returns its stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = run_ok(
        std::process::Command::new(super::require_binary("git"))
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
