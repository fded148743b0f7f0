//! The artifact kinds against trees built in temp dirs: docs, drill records,
//! config schemas, JUnit reports, releases.

use std::time::{Duration, SystemTime};

use crate::support::tree::{age, run_on_repo, today, write};
use crate::support::{assert_state, by, run_checks, run_ok};

#[test]
fn documentation_requires_files_headings_and_recent_reviews() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let today = today();
    write(
        d,
        "README.md",
        format!("---\nlast_reviewed: {today}\n---\n# Shop\n## Installation\n## Usage\n"),
    );
    write(d, "docs/runbooks/database.md", "# Database failover\n");
    write(
        d,
        "docs/incident-response.md",
        "---\nlast_reviewed: 2024-01-01\n---\n# Incident response\n## Escalation\n",
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: docs_ok, kind: documentation, target: repo, params: { required: [{ path: README.md, headings: [Installation, usage] }, { path: docs/runbooks }] } }
  - { name: docs_bad, kind: documentation, target: repo, params: { required: [{ path: README.md, headings: [Rollback] }, { path: docs/incident-response.md }, { path: docs/capacity.md }] } }
"#,
    );
    r.expect_states(&[
        ("docs_ok", "pass", "2 document(s) present"),
        (
            "docs_bad",
            "fail",
            "README.md lacks heading(s) \"Rollback\"",
        ),
    ]);
    let bad = &by(&r, "docs_bad").message;
    assert!(
        bad.contains(
            "docs/incident-response.md last reviewed 2024-01-01 (last_reviewed front matter)"
        ),
        "{bad}"
    );
    assert!(bad.contains("docs/capacity.md is missing"), "{bad}");
    assert_eq!(by(&r, "docs_ok").doc["source"], "measured");
}

#[test]
fn attestation_judges_drill_records() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let today = today();
    write(d, "drills/restore.yaml", format!("drill: restore_test\nperformed_at: {today}\nowner: alice\nevidence_url: https://wiki.example.com/drills/42\n"));
    write(d, "drills/failover.yaml", "drill: failover_drill\nperformed_at: 2024-01-01\nowner: bob\nevidence_url: https://wiki.example.com/drills/7\n");
    write(d, "drills/broken.yaml", "performed_at: [unclosed\n");
    write(
        d,
        "drills/incomplete.yaml",
        "drill: capacity_review\nperformed_at: 2026-01-01\n",
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: restore_drill, kind: attestation, target: repo, params: { file: drills/restore.yaml, max_age: 90d, drill: restore_test } }
  - { name: failover_drill, kind: attestation, target: repo, params: { file: drills/failover.yaml, max_age: 90d } }
  - { name: never_drilled, kind: attestation, target: repo, params: { file: drills/rollback.yaml, max_age: 90d } }
  - { name: broken_record, kind: attestation, target: repo, params: { file: drills/broken.yaml, max_age: 90d } }
  - { name: incomplete_record, kind: attestation, target: repo, params: { file: drills/incomplete.yaml, max_age: 900d } }
"#,
    );
    r.expect_states(&[
        ("restore_drill", "pass", "restore_test performed"),
        (
            "failover_drill",
            "fail",
            "failover_drill last performed 2024-01-01 by bob",
        ),
        ("never_drilled", "fail", "the drill was never recorded"),
        ("broken_record", "fail", "cannot be parsed"),
        ("incomplete_record", "fail", "lacks owner, evidence_url"),
    ]);
    assert_eq!(by(&r, "restore_drill").doc["source"], "attestation");
}

#[test]
fn config_schema_validates_files_and_required_env_without_echoing_values() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "config/app.yaml",
        "port: 8080\ndatabase:\n  url: postgres://app:VerySecret-771@db/app\n",
    );
    write(
        d,
        "config/bad.json",
        "{\"port\": \"eighty\", \"database\": {\"url\": \"VerySecret-771\"}}",
    );
    write(
        d,
        "config/app.toml",
        "port = 8080\n[database]\nurl = \"x\"\n",
    );
    write(
        d,
        "config/schema.json",
        r#"{"type": "object", "required": ["port", "database"], "properties": {"port": {"type": "integer"}, "database": {"type": "object", "required": ["url"]}}}"#,
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: schema_ok, kind: config_schema, target: repo, params: { files: [{ path: config/app.yaml, schema: config/schema.json }, { path: config/app.toml, schema: config/schema.json }], required_env: [PATH] } }
  - { name: schema_bad, kind: config_schema, target: repo, params: { files: [{ path: config/bad.json, schema: config/schema.json }], required_env: [UNSET_VAR_FOR_TEST_8812] } }
"#,
    );
    r.expect_states(&[
        ("schema_ok", "pass", "2 file(s) valid"),
        ("schema_bad", "fail", "/port: violates `type`"),
    ]);
    let schema_bad = by(&r, "schema_bad");
    assert!(
        schema_bad.message.contains("UNSET_VAR_FOR_TEST_8812"),
        "{}",
        schema_bad.message
    );
    assert!(
        !schema_bad.doc.to_string().contains("VerySecret-771")
            && !schema_bad.message.contains("eighty")
    );
}

#[test]
fn test_report_reads_junit_files() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "reports/unit.xml",
        r#"<?xml version="1.0"?><testsuites><testsuite name="unit" tests="3"><testcase classname="cart" name="adds"/><testcase classname="cart" name="removes"/><testcase classname="cart" name="slow"><skipped/></testcase></testsuite></testsuites>"#,
    );
    write(
        d,
        "failing/junit.xml",
        r#"<testsuite name="it" tests="2"><testcase classname="api" name="login"><failure message="401">expected 200</failure></testcase><testcase classname="api" name="logout"/></testsuite>"#,
    );
    write(d, "notxml/junit.xml", "this is not xml");
    write(
        d,
        "skipped/junit.xml",
        r#"<testsuite tests="2"><testcase name="a"><skipped/></testcase><testcase name="b"><skipped/></testcase></testsuite>"#,
    );
    write(
        d,
        "stale/junit.xml",
        r#"<testsuite tests="1"><testcase name="ok"/></testsuite>"#,
    );
    age(&d.join("stale/junit.xml"), Duration::from_secs(3 * 86_400));
    let r = run_on_repo(
        d,
        r#"
  - { name: tests_ok, kind: test_report, target: repo, params: { reports: ["reports/*.xml"], min_tests: 2 } }
  - { name: tests_failing, kind: test_report, target: repo, params: { reports: [failing/junit.xml] } }
  - { name: tests_missing, kind: test_report, target: repo, params: { reports: ["nowhere/*.xml"] } }
  - { name: tests_garbage, kind: test_report, target: repo, params: { reports: [notxml/junit.xml] } }
  - { name: tests_stale, kind: test_report, target: repo, params: { reports: [stale/junit.xml] } }
  - { name: tests_all_skipped, kind: test_report, target: repo, params: { reports: [skipped/junit.xml] } }
"#,
    );
    r.expect_states(&[
        ("tests_ok", "pass", "2 test(s) passed (1 skipped)"),
        (
            "tests_failing",
            "fail",
            "1 failure(s) and 0 error(s): api::login",
        ),
        ("tests_missing", "error", "no JUnit report matches"),
        ("tests_garbage", "error", "not XML"),
        ("tests_stale", "fail", "newest report is 3d old"),
        (
            "tests_all_skipped",
            "fail",
            "only 0 test(s) ran (2 skipped), minimum 1",
        ),
    ]);
}

#[test]
fn rollback_ready_needs_a_previous_release_and_a_down_migration() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (rel, days) in [("releases/2026-11-01", 20), ("releases/2026-11-20", 5)] {
        std::fs::create_dir_all(d.join(rel)).unwrap();
        let f = std::fs::File::open(d.join(rel)).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
            .unwrap();
    }
    std::fs::create_dir_all(d.join("one_release/v1")).unwrap();
    write(
        d,
        "migrations/20240101000000_users.up.sql",
        "CREATE TABLE users ();",
    );
    write(
        d,
        "migrations/20240101000000_users.down.sql",
        "DROP TABLE users;",
    );
    write(
        d,
        "irreversible/20240101000000_users.sql",
        "CREATE TABLE users ();",
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: rollback_ok, kind: rollback_ready, target: repo, params: { releases_dir: releases, migrations: { dir: migrations, tool: sqlx } } }
  - { name: rollback_single, kind: rollback_ready, target: repo, params: { releases_dir: one_release } }
  - { name: rollback_irreversible, kind: rollback_ready, target: repo, params: { releases_dir: releases, migrations: { dir: irreversible, tool: sqlx } } }
"#,
    );
    r.expect_states(&[
        (
            "rollback_ok",
            "pass",
            "2 release(s) present (newest 2026-11-20, previous 2026-11-01); newest migration",
        ),
        ("rollback_single", "fail", "1 release(s)"),
        (
            "rollback_irreversible",
            "fail",
            "has no down/revert migration",
        ),
    ]);
}

#[test]
fn documentation_falls_back_to_the_last_git_commit() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "RUNBOOK.md", "# Runbook\n");
    let git = |args: &[&str]| {
        run_ok(
            std::process::Command::new("git")
                .current_dir(d)
                .args(args)
                .env("GIT_AUTHOR_DATE", "2023-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2023-01-01T00:00:00Z"),
        );
    };
    git(&["init", "-q"]);
    git(&["add", "RUNBOOK.md"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "-m",
        "runbook",
    ]);
    let r = run_checks(
        &format!("checks:\n  - {{ name: d, kind: documentation, params: {{ dir: \"{}\", required: [{{ path: RUNBOOK.md }}] }} }}\n", d.display()),
        &[],
    );
    assert_state(
        by(&r, "d"),
        "fail",
        "RUNBOOK.md last reviewed 2023-01-01 (last git commit)",
    );
}
