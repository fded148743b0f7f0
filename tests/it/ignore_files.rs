//! The dependency scanners' ignore files in a scanned tree waive what they
//! name and no further: Trivy's `purls` narrow an entry to its packages,
//! plain `.trivyignore` is read, and an entry without expiry is capped from
//! a date the change cannot move (the commit that last changed the file;
//! a modification time in the future is refused).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::tree::{date_in, git, git_init, write};
use crate::support::{run_cli, stdout, ConfigDir};

/// One advisory (critical) affecting both left-pad and right-pad 1.0.0.
fn advisory_db() -> tempfile::TempDir {
    let db = tempfile::tempdir().unwrap();
    write(
        db.path(),
        "npm/GHSA-cccc.json",
        format!(
            r#"{{"id": "GHSA-cccc", "aliases": ["CVE-2026-0003"], "modified": "{}T00:00:00Z", "database_specific": {{"severity": "CRITICAL"}}, "affected": [{{"package": {{"ecosystem": "npm", "name": "left-pad"}}, "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "9.0.0"}}]}}]}}, {{"package": {{"ecosystem": "npm", "name": "right-pad"}}, "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "9.0.0"}}]}}]}}]}}"#,
            date_in(0)
        ),
    );
    db
}

fn tree() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    write(
        tree.path(),
        "package-lock.json",
        r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/left-pad": {"version": "1.0.0"}, "node_modules/right-pad": {"version": "1.0.0"}}}"#,
    );
    tree
}

/// The check's result (JSON) on `tree`.
fn run(tree: &Path, db: &Path) -> serde_json::Value {
    let dir = ConfigDir::new(&format!(
        "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: \"{}\", advisory_db: \"{}\" }} }}\n",
        tree.display(),
        db.display()
    ));
    let out = run_cli(
        &[
            "check",
            &format!("--config.file={}", dir.config_path().display()),
            "--format",
            "json",
        ],
        &[],
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    doc["checks"][0].clone()
}

fn waived_packages(deps: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = deps["evidence"]["waived_findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| w["package"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// Commits everything in `dir`, dated `days` from today (negative: ago).
fn commit_dated(dir: &Path, days: i64) {
    git(dir, &["add", "-A"]);
    let date = format!("{}T12:00:00Z", date_in(days));
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["commit", "-qm", "ignore file"])
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn trivy_purls_narrow_an_entry_and_plain_trivyignore_is_read() {
    let db = advisory_db();
    let t = tree();
    // Narrowed to left-pad: right-pad's finding stays.
    write(
        t.path(),
        ".trivyignore.yaml",
        format!(
            "vulnerabilities:\n  - id: CVE-2026-0003\n    purls: [\"pkg:npm/left-pad\"]\n    statement: not reachable\n    expired_at: {}\n",
            date_in(10)
        ),
    );
    let deps = run(t.path(), db.path());
    assert_eq!(deps["state"], "fail", "{deps}");
    assert_eq!(waived_packages(&deps), ["left-pad"], "{deps}");
    assert!(
        deps["message"].as_str().unwrap().contains("right-pad"),
        "{deps}"
    );
    // A version in the package URL narrows it to that version.
    write(
        t.path(),
        ".trivyignore.yaml",
        format!(
            "vulnerabilities:\n  - id: CVE-2026-0003\n    purls: [\"pkg:npm/left-pad@2.0.0\", \"pkg:npm/right-pad@1.0.0\"]\n    expired_at: {}\n",
            date_in(10)
        ),
    );
    assert_eq!(waived_packages(&run(t.path(), db.path())), ["right-pad"]);
    // Plain .trivyignore: an id a line, with Trivy's exp: date.
    std::fs::remove_file(t.path().join(".trivyignore.yaml")).unwrap();
    write(
        t.path(),
        ".trivyignore",
        format!(
            "# accepted until the upgrade\nGHSA-cccc exp:{}\n",
            date_in(5)
        ),
    );
    let deps = run(t.path(), db.path());
    assert_eq!(deps["state"], "pass", "{deps}");
    assert_eq!(waived_packages(&deps), ["left-pad", "right-pad"]);
    // Expired there, it waives nothing.
    write(
        t.path(),
        ".trivyignore",
        format!("GHSA-cccc exp:{}\n", date_in(-2)),
    );
    assert_eq!(run(t.path(), db.path())["state"], "fail");
}

#[test]
fn an_entry_without_expiry_is_capped_from_a_date_the_change_cannot_move() {
    let db = advisory_db();
    // Outside a repository: a modification time in the future is refused.
    let t = tree();
    write(
        t.path(),
        "osv-scanner.toml",
        "[[IgnoredVulns]]\nid = \"GHSA-cccc\"\n",
    );
    let file = std::fs::File::options()
        .write(true)
        .open(t.path().join("osv-scanner.toml"))
        .unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(72 * 365 * 86_400))
        .unwrap();
    let deps = run(t.path(), db.path());
    assert_eq!(deps["state"], "error", "{deps}");
    assert!(
        deps["message"].as_str().unwrap().contains("in the future"),
        "{deps}"
    );

    // In a repository: the commit that last changed the file dates it. The
    // entry was committed 120 days ago; a fresh checkout's mtime is today,
    // which would hold it 90 days more.
    let t = tree();
    git_init(t.path());
    write(
        t.path(),
        "osv-scanner.toml",
        "[[IgnoredVulns]]\nid = \"GHSA-cccc\"\n",
    );
    commit_dated(t.path(), -120);
    let deps = run(t.path(), db.path());
    assert_eq!(
        deps["state"], "fail",
        "a 120-day-old entry without expiry still waived: {deps}"
    );
    assert!(waived_packages(&deps).is_empty(), "{deps}");
    // Committed 10 days ago, it holds, and says from which date.
    write(
        t.path(),
        "osv-scanner.toml",
        "[[IgnoredVulns]]\nid = \"GHSA-cccc\"\nreason = \"vendored\"\n",
    );
    commit_dated(t.path(), -10);
    let deps = run(t.path(), db.path());
    assert_eq!(deps["state"], "pass", "{deps}");
    let reason = deps["evidence"]["waived_findings"][0]["waiver"]["reason"].to_string();
    assert!(reason.contains(&date_in(-10)), "{reason}");
    assert!(
        reason.contains("the commit that last changed it"),
        "{reason}"
    );
}
