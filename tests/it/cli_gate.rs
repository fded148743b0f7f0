//! The gate's verdict in the reports (table, Markdown), the one exit-code
//! table, suggestions for typos, and what `validate` and `--category` make
//! of a check's item and problems.

use crate::cli::check;
use crate::support::{run_cli, stderr, stdout, ConfigDir};

/// The Markdown report (a CI job summary or a pull-request comment): the
/// verdict first, what fails the gate next, every check folded away; a
/// target's text cannot break the table or add a link. The table ends with
/// the same verdict line, which names a waived failure as let through.
#[test]
fn markdown_report_and_table_say_the_gate_verdict_and_why() {
    let expires =
        prodready_exporter::clock::date_of(prodready_exporter::clock::unix_now() + 30 * 86400);
    let hostile = r#"
checks:
  - name: good
    kind: command
    params: { argv: ["true"] }
  - name: bad
    kind: command
    category: security
    params: { argv: ["sh", "-c", "echo 'a|b ![x](http://evil.example/) <img src=x>' >&2; exit 3"] }
  - name: waived
    kind: command
    params: { argv: ["false"] }
waivers:
  - check: waived
    reason: known, tracked in OPS-1
    owner: team-a
    expires: "EXPIRES"
"#
    .replace("EXPIRES", &expires);
    let dir = ConfigDir::new(&hostile);
    let md = dir.path("summary.md");
    let out = check(&dir, &["--output", &format!("markdown={}", md.display())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let table = stdout(&out);
    let verdict = table.lines().last().unwrap();
    assert!(
        verdict.starts_with("gate: FAILED (fail-on fail; 1 failing check(s) let through by waivers): 1 fail(s) it: bad"),
        "{table}"
    );
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("## prodready: gate FAILED\n"), "{text}");
    let failing = text.split("### Checks that fail the gate").nth(1).unwrap();
    let failing = failing.split("<details>").next().unwrap();
    assert!(
        failing.contains("| **fail** | `bad` | security |"),
        "{text}"
    );
    assert!(
        !failing.contains("`good`") && !failing.contains("`waived`"),
        "{text}"
    );
    // Escaped: the pipe stays in its cell, no image, no link, no HTML.
    assert!(
        text.contains("a\\|b \\!\\[x\\](http&#58;//evil.example/) &lt;img src=x&gt;"),
        "{text}"
    );
    assert!(!text.contains("![x]") && !text.contains("<img"), "{text}");
    // Every row of every table has the header's four cells.
    for line in text
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains('`'))
    {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 5, "{line}");
    }
    assert!(
        text.contains(&format!(
            "*waived until {expires} by team-a&#58; known, tracked in OPS-1*"
        )),
        "{text}"
    );

    let passing = ConfigDir::new(
        "checks:\n  - name: good\n    kind: command\n    params: { argv: [\"true\"] }\n",
    );
    let out = check(&passing, &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("## prodready: gate passed\n\ngate: PASSED (fail-on fail)"),
        "{text}"
    );
    assert!(!text.contains("### Checks that fail the gate"), "{text}");
}

/// One exit-code table for every subcommand: 0 fine, 1 a verdict that
/// failed (the gate, --require-coverage), 2 a bad config or bad usage; a
/// mistyped flag or subcommand gets a suggestion.
#[test]
fn exit_codes_are_one_table_and_typos_get_suggestions() {
    let bad = ConfigDir::new("checks:\n  - { name: a, kind: nosuchkind }\n");
    let arg = format!("--config.file={}", bad.config_path().display());
    for command in ["validate", "check"] {
        let out = run_cli(&[command, &arg], &[]);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("nosuchkind"), "{}", stderr(&out));
    }
    let out = run_cli(&["--web.listen-adress", ":1"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a similar argument exists: '--web.listen-address'"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&["chek"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("'check'"), "{}", stderr(&out));
}

/// A check that names a checklist item takes that item's category unless it
/// sets one: `--category deployment` runs the pre-deploy backup check.
#[test]
fn a_check_takes_the_category_of_the_item_it_names() {
    let backups = tempfile::tempdir().unwrap();
    std::fs::write(backups.path().join("predeploy-1.sql.gz"), vec![1u8; 2048]).unwrap();
    let dir = ConfigDir::new(&format!(
        "checks:\n  - {{ name: backup_before_deploy, kind: backup_freshness, item: deployment.backup_database, params: {{ dir: \"{0}\", pattern: \"predeploy-*.sql.gz\", max_age: 1h, min_size: 1KiB }} }}\n  - {{ name: nightly, kind: backup_freshness, params: {{ dir: \"{0}\", max_age: 1h, min_size: 1KiB }} }}\n  - {{ name: pinned, kind: backup_freshness, item: deployment.backup_database, category: operations, params: {{ dir: \"{0}\", max_age: 1h, min_size: 1KiB }} }}\n",
        backups.path().display()
    ));
    let out = check(&dir, &["--category", "deployment", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["backup_before_deploy"], "{doc}");
    assert_eq!(doc["checks"][0]["category"], "deployment");
}

/// `validate` reports every problem of one check: a bad name does not hide
/// an unknown param.
#[test]
fn validate_reports_every_problem_of_a_check() {
    let bad = ConfigDir::new(
        "checks:\n  - { name: Bad-Name, kind: command, params: { argv: [\"true\"], bogus: 1 } }\n",
    );
    let arg = format!("--config.file={}", bad.config_path().display());
    let out = run_cli(&["validate", &arg], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("field name: must match"), "{err}");
    assert!(err.contains("bogus"), "{err}");
    assert!(err.contains("2 problem(s) found."), "{err}");
}

/// Files a check reads at every evaluation (a schema, a baseline) that do
/// not exist: `validate` says so by check and param, the config stays valid.
#[test]
fn validate_notes_files_a_check_will_not_find() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("app.json"), "{}").unwrap();
    std::fs::write(tree.path().join("there.schema.json"), "{}").unwrap();
    let dir = ConfigDir::new(&format!(
        r#"
targets:
  app: {{ path: "{}" }}
checks:
  - {{ name: configs, kind: config_schema, target: app, params: {{ files: [{{ path: app.json, schema: there.schema.json }}, {{ path: app.json, schema: gone.schema.json }}] }} }}
"#,
        tree.path().display()
    ));
    let config = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["validate", &config], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "note: check configs: params.files[1].schema: {} does not exist",
            tree.path().join("gone.schema.json").display()
        )),
        "{text}"
    );
    assert_eq!(text.matches("does not exist").count(), 1, "{text}");
}
