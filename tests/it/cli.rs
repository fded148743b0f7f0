//! The `check` gate and `validate`: exit codes, report formats, messages.

use crate::support::{run_cli, stderr, stdout, validate, ConfigDir};

pub(crate) fn check(dir: &ConfigDir, extra: &[&str]) -> std::process::Output {
    let config = format!("--config.file={}", dir.config_path().display());
    let mut args = vec!["check", config.as_str()];
    args.extend_from_slice(extra);
    run_cli(&args, &[])
}

const MIXED: &str = r#"
checks:
  - name: good
    kind: command
    params: { argv: ["true"] }
  - name: bad
    kind: command
    category: security
    params: { argv: ["sh", "-c", "echo 'oops <&> broke' >&2; exit 3"] }
"#;

#[test]
fn check_exit_codes_follow_fail_on() {
    let passing = ConfigDir::new(
        "checks:\n  - name: good\n    kind: command\n    params: { argv: [\"true\"] }\n",
    );
    let out = check(&passing, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 pass, 0 warn, 0 fail"));

    let mixed = ConfigDir::new(MIXED);
    let out = check(&mixed, &[]);
    assert_eq!(out.status.code(), Some(1));
    let table = stdout(&out);
    assert!(
        table.contains("FAIL")
            && table.contains("bad")
            && table.contains("exited 3 (expected 0): oops <&> broke"),
        "{table}"
    );
    // Not a TTY: no colour codes.
    assert!(!table.contains('\x1b'));
    // Only `good` selected: passes.
    assert_eq!(check(&mixed, &["--check", "good"]).status.code(), Some(0));
    // A fail does not fail a gate that only stops on errors.
    assert_eq!(
        check(&mixed, &["--fail-on", "error"]).status.code(),
        Some(0)
    );
    // Category filter.
    assert_eq!(
        check(&mixed, &["--category", "security"]).status.code(),
        Some(1)
    );
    assert_eq!(
        check(&mixed, &["--category", "deployment"]).status.code(),
        Some(0)
    );

    let unverifiable = ConfigDir::new("checks:\n  - name: gone\n    kind: command\n    params: { argv: [\"/nonexistent/tool\"] }\n");
    let out = check(&unverifiable, &["--fail-on", "error"]);
    assert_eq!(out.status.code(), Some(1), "an error must fail every gate");

    let out = check(&mixed, &["--check", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no check named \"nope\""));

    let broken = ConfigDir::new("checks:\n  - name: x\n    kind: nope\n");
    assert_eq!(check(&broken, &[]).status.code(), Some(2));

    // A selection that holds nothing cannot pass.
    let out = check(&mixed, &["--category", "operations"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no checks selected"),
        "{}",
        stderr(&out)
    );
    let empty = ConfigDir::new("checks: []\n");
    assert_eq!(check(&empty, &[]).status.code(), Some(2));
}

/// A page without assets: `asset_optimization` has nothing to judge and says
/// `unknown`.
#[tokio::test(flavor = "multi_thread")]
async fn unknown_fails_the_gate_unless_allowed() {
    let app = crate::support::TestApp::start(axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html("<html><body>hi</body></html>") }),
    ))
    .await;
    let dir = ConfigDir::new(&format!(
        "targets:\n  app: {{ http: {{ url: \"http://{}\" }} }}\nchecks:\n  - {{ name: assets, kind: asset_optimization, target: app }}\n",
        app.addr
    ));
    let run = |extra: &'static [&'static str]| {
        let dir = dir.config_path();
        tokio::task::spawn_blocking(move || {
            let config = format!("--config.file={}", dir.display());
            let mut args = vec!["check", config.as_str(), "--format", "json"];
            args.extend_from_slice(extra);
            run_cli(&args, &[])
        })
    };
    let out = run(&[]).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["checks"][0]["state"], "unknown");
    assert_eq!(doc["gate"]["passed"], false);
    let out = run(&["--allow-unknown"]).await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(&["--allow-unknown", "--fail-on", "warn"])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn junit_report_is_valid_xml_with_one_testcase_per_check() {
    let mixed = ConfigDir::new(MIXED);
    let out = check(&mixed, &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    let doc =
        roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("invalid XML: {e}\n{xml}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].attribute("name"), Some("good"));
    assert!(cases[0].children().all(|c| !c.has_tag_name("failure")));
    let failure = cases[1]
        .children()
        .find(|c| c.has_tag_name("failure"))
        .expect("failure element");
    assert!(failure.text().unwrap().contains("oops <&> broke"));
    assert_eq!(cases[1].attribute("classname"), Some("prodready.security"));
    // Each case has its start time and the check's facts as properties.
    for case in &cases {
        let stamp = case.attribute("timestamp").expect("timestamp");
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{stamp}"
        );
        let property = |name: &str| {
            case.descendants()
                .find(|p| p.has_tag_name("property") && p.attribute("name") == Some(name))
                .and_then(|p| p.attribute("value"))
        };
        assert_eq!(property("kind"), Some("command"), "{xml}");
        assert!(property("state").is_some(), "{xml}");
    }
}

#[test]
fn json_report_has_gate_and_summary() {
    let mixed = ConfigDir::new(MIXED);
    let out = check(&mixed, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["gate"]["passed"], false);
    assert_eq!(doc["gate"]["fail_on"], "fail");
    assert_eq!(doc["summary"]["pass"], 1);
    assert_eq!(doc["summary"]["fail"], 1);
    assert_eq!(doc["checks"][1]["state"], "fail");
    assert_eq!(doc["checks"][1]["observed"], 3.0);
}

#[test]
fn deployment_gate_runs_in_config_order_and_fails_fast() {
    let dir = ConfigDir::new("");
    let log = dir.path("order.log");
    let step = |name: &str, code: i32| {
        format!(
            "  - name: {name}\n    kind: command\n    category: deployment\n    params: {{ argv: [\"sh\", \"-c\", \"sleep 0.1; echo {name} >> {}; exit {code}\"] }}\n",
            log.display()
        )
    };
    let config = format!(
        "checks:\n{}{}{}{}",
        step("tests_passed", 0),
        step("migrations_applied", 0),
        step("configs_valid", 1),
        step("backup_taken", 0)
    );
    dir.write_config(&config);
    let out = check(&dir, &["--category", "deployment", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "tests_passed\nmigrations_applied\nconfigs_valid\nbackup_taken\n"
    );

    std::fs::remove_file(&log).unwrap();
    let out = check(
        &dir,
        &[
            "--category",
            "deployment",
            "--fail-fast",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "tests_passed\nmigrations_applied\nconfigs_valid\n"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let states: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pass", "pass", "fail", "unknown"]);
    assert!(doc["checks"][3]["message"]
        .as_str()
        .unwrap()
        .contains("--fail-fast"));
}

#[test]
fn validate_accepts_a_good_config() {
    let (code, out) = validate(
        r#"
global: { interval: 30s, timeout: 5s, concurrency: 4 }
targets:
  site: { http: { url: "https://127.0.0.1:8443", basic_auth: { username: u, password: p4ssword } } }
  backups: { path: /var/backups }
checks:
  - { name: site_up, kind: http, target: site, params: { url: /health, expected_status: [200, "3xx"] } }
  - { name: recent_backup, kind: backup_freshness, target: backups, params: { max_age: 1d } }
"#,
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK (2 checks, 2 targets)"), "{out}");
}

#[test]
fn validate_names_each_problem_with_file_check_and_field() {
    let cases: &[(&str, &[&str])] = &[
        (
            "checks:\n  - { name: a, kind: tls_certifcate }\n",
            &["check \"a\" (checks[0]): field kind: unknown kind \"tls_certifcate\"; valid kinds:", "backup_freshness", "env_secret"],
        ),
        (
            "checks:\n  - { name: a, kind: command, params: { argv: [\"true\"] } }\n  - { name: a, kind: command, params: { argv: [\"true\"] } }\n",
            &["check \"a\" (checks[1]): field name: duplicate check name \"a\""],
        ),
        (
            "targets:\n  web: { http: { url: \"http://127.0.0.1\" } }\nchecks:\n  - { name: a, kind: http, target: wbe }\n",
            &["field target: unknown target \"wbe\"; defined targets: web"],
        ),
        (
            "checks:\n  - { name: a, kind: command, interval: 5 minutes, params: { argv: [\"true\"] } }\n",
            &["check \"a\" (checks[0]): field interval:", "invalid duration \"5 minutes\""],
        ),
        (
            "global: { timeout: 10 }\n",
            &["global: field timeout: duration 10 has no unit; write e.g. 10s"],
        ),
        (
            "checks:\n  - { name: a, kind: backup_freshness, params: { dir: /tmp, max_age: 1d, max_agee: 2d } }\n",
            &["field params.max_agee: unknown field `max_agee`"],
        ),
        (
            "checks:\n  - { name: a, kind: http, params: { url: \"http://127.0.0.1\", body_regex: \"(\" } }\n",
            &["field params.body_regex: invalid regex"],
        ),
        (
            "checks:\n  - { name: Bad-Name, kind: command, params: { argv: [\"true\"] } }\n",
            &["field name: must match [a-z][a-z0-9_]*"],
        ),
        (
            "chekcs: []\n",
            &["field chekcs: unknown top-level key"],
        ),
        (
            "targets:\n  db: { postgres: { url: \"postgres://x@127.0.0.1/db\" } }\nchecks:\n  - { name: a, kind: http, target: db }\n",
            &["target \"db\" is a postgres target, but kind http needs a http target"],
        ),
        (
            "checks:\n  - { name: a, kind: command, params: { argv: [\"true\"] }, timeout: 2m, interval: 1m }\n",
            &["field timeout: timeout 2m is longer than the interval 1m"],
        ),
        (
            "targets:\n  s: { http: { url: \"http://127.0.0.1\", bearer_token_file: /nonexistent/token } }\n",
            &["target \"s\": field bearer_token_file: cannot read secret file /nonexistent/token"],
        ),
        (
            "checks:\n  - { name: a, kind: command, params: { argv: [\"${UNSET_FOR_TEST_XYZ}\"] } }\n",
            &["line 2", "environment variable UNSET_FOR_TEST_XYZ is not set"],
        ),
        (
            "checks: [ { name: a\n",
            &["invalid YAML"],
        ),
        (
            "targets:\n  prom: { prometheus: { url: \"http://127.0.0.1:1\" } }\nchecks:\n  - { name: a, kind: promql, target: prom, params: { query: \"sum(\", op: \">\", threshold: 0 } }\n  - { name: b, kind: capacity, target: prom, params: { usage: \"disk_used\", limit: \"disk_size bytes\" } }\n",
            &["check \"a\" (checks[0]): field params.query: invalid PromQL: unclosed left parenthesis", "check \"b\" (checks[1]): field params.limit: invalid PromQL"],
        ),
        (
            "targets:\n  db: { postgres: { url: \"postgres://m@127.0.0.1:1/db\" } }\nchecks:\n  - { name: a, kind: postgres_replication, target: db, params: { min_replicas: 0 } }\n",
            &["field params.min_replicas: must be at least 1"],
        ),
        (
            "checks:\n  - { name: a, kind: command, item: security.ssl_http, params: { argv: [\"true\"] } }\n",
            &["field item: unknown checklist item \"security.ssl_http\"; valid items: security.ssl_https,", "step.rollback_ready"],
        ),
    ];
    for (config, expected) in cases {
        let (code, out) = validate(config, &[]);
        assert_eq!(code, 2, "config accepted:\n{config}\n{out}");
        assert!(out.contains("config.yaml"), "file not named: {out}");
        for e in *expected {
            assert!(
                out.contains(e),
                "expected {e:?} in:\n{out}\nfor config:\n{config}"
            );
        }
    }
}

#[test]
fn validate_reports_every_problem_at_once() {
    let (code, out) = validate(
        "global: { concurrency: 0 }\nchecks:\n  - { name: a, kind: nope }\n  - { name: b, kind: command, params: {} }\n  - { name: c, kind: http, target: missing }\n",
        &[],
    );
    assert_eq!(code, 2);
    assert!(out.contains("4 problem(s) found."), "{out}");
    for e in [
        "concurrency: must be at least 1",
        "unknown kind \"nope\"",
        "field params: missing field `argv`",
        "unknown target \"missing\"",
    ] {
        assert!(out.contains(e), "missing {e:?} in {out}");
    }
}

#[test]
fn env_expansion_and_overrides_apply() {
    let (code, out) = validate(
        "checks:\n  - { name: a, kind: command, interval: \"${IVL}\", params: { argv: [\"true\"] } }\n",
        &[("IVL", "90s"), ("PRODREADY_GLOBAL__CONCURRENCY", "0")],
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("global: field concurrency: must be at least 1"),
        "{out}"
    );
    let (code, out) = validate(
        "checks:\n  - { name: a, kind: command, interval: \"${IVL}\", params: { argv: [\"true\"] } }\n",
        &[("IVL", "90s")],
    );
    assert_eq!(code, 0, "{out}");
}

/// The config is read by a real YAML library: merge keys apply, dotted keys
/// (a header named `X.Tenant.Id`) stay keys, a second document is an error;
/// overrides reach nested keys.
#[test]
fn the_config_is_yaml_with_merge_keys_and_nested_overrides() {
    let config = "x-defaults: &defaults { interval: 45s, timeout: 5s }\nchecks:\n  - { <<: *defaults, name: a, kind: command, params: { argv: [\"true\"] } }\ntargets:\n  web: { http: { url: \"http://127.0.0.1:1\", headers: { X.Tenant.Id: acme } } }\n";
    let (code, out) = validate(config, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = validate(&format!("x-anchors: {{}}\nextra: 1\n{config}"), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("1 problem(s) found."), "{out}");
    assert!(out.contains("field extra: unknown top-level key"), "{out}");
    let nested = "checks:\n  - { name: a, kind: command, params: { argv: [\"true\"] } }\n";
    let (code, out) = validate(nested, &[("PRODREADY_WEB__RATE_LIMIT__BURST", "x")]);
    assert_eq!(code, 2);
    assert!(out.contains("web: field rate_limit"), "{out}");
    let (code, out) = validate(
        &format!("global: {{ interval: 30s }}\n{nested}"),
        &[("PRODREADY_GLOBAL__INTERVAL__X", "1")],
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("PRODREADY_GLOBAL__INTERVAL__X: cannot override"),
        "{out}"
    );
    let (code, out) = validate(&format!("{nested}---\nchecks: []\n"), &[]);
    assert_eq!(code, 2);
    assert!(out.contains("invalid YAML"), "{out}");
}

#[test]
fn bundled_config_and_its_commented_examples_validate() {
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/config.yaml");
    let out = run_cli(&["validate", &format!("--config.file={bundled}")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let text = std::fs::read_to_string(bundled).unwrap();
    let start = text
        .find("# targets:")
        .expect("commented examples in config.yaml");
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "low-privilege-token").unwrap();
    let examples: String = text[start..]
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .or_else(|| l.strip_prefix('#'))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace(
            "/run/secrets/low_priv_token",
            &token.path().display().to_string(),
        );
    let (code, out) = validate(&examples, &[]);
    assert_eq!(code, 0, "{out}\n{examples}");
    assert!(out.contains("OK (44 checks, 9 targets)"), "{out}");
}

#[test]
fn validate_reports_checklist_coverage() {
    let config = "checks:
  - { name: tls, kind: env_secret, params: { variable: HOME } }
  - { name: smoke, kind: command, item: step.smoke_tests, params: { argv: [\"true\"] } }
  - { name: tool, kind: command, params: { argv: [\"true\"] } }
";
    let (code, out) = validate(config, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checklist: 2 of 41 items covered"), "{out}");
    assert!(
        out.contains("uncovered items: security.ssl_https,"),
        "{out}"
    );
    assert!(
        !out.contains("step.smoke_tests,") && !out.contains("security.secret_keys"),
        "{out}"
    );
    let dir = ConfigDir::new(config);
    let out = run_cli(
        &[
            "validate",
            &format!("--config.file={}", dir.config_path().display()),
            "--require-coverage",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("39 checklist item(s) are covered by no check"));
}

/// examples/full.yaml covers every checklist item and validates as is.
#[test]
fn the_full_example_covers_all_41_items() {
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/full.yaml");
    let out = run_cli(
        &[
            "validate",
            &format!("--config.file={full}"),
            "--require-coverage",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("checklist: 41 of 41 items covered"));
}

/// One run writes several reports: the table to stdout, JSON and JUnit to files.
#[test]
fn one_run_writes_several_report_formats() {
    let dir = ConfigDir::new(MIXED);
    let json = dir.path("report.json");
    let junit = dir.path("junit.xml");
    let out = check(
        &dir,
        &[
            "--output",
            &format!("json={}", json.display()),
            "--output",
            &format!("junit={}", junit.display()),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("STATE    CHECK"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["gate"]["passed"], false);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(parsed.root_element().attribute("tests"), Some("2"));
    let bad = check(&dir, &["--output", "xml=report.xml"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("is not a report format"));
}

/// `--version` in the Prometheus exporters' form, and the same facts on
/// `prodready_build_info`.
#[test]
fn version_is_printed_as_prometheus_exporters_print_it() {
    let out = run_cli(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("prodready-exporter, version ")
            && lines[0].contains("(branch: ")
            && lines[0].contains(", revision: "),
        "{text}"
    );
    assert!(lines[1].trim_start().starts_with("build date:"), "{text}");
    assert!(lines[2].trim_start().starts_with("rust version:"), "{text}");
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        [
            "platform:",
            &format!(
                "linux/{}",
                if cfg!(target_arch = "x86_64") {
                    "amd64"
                } else {
                    std::env::consts::ARCH
                }
            )
        ]
    );
}

/// `--log.level` wins over RUST_LOG; RUST_LOG applies only without it, and
/// the log says which one was used.
#[test]
fn log_level_is_authoritative_over_rust_log() {
    let dir = ConfigDir::new(crate::support::ONE_PASSING_CHECK);
    let arg = format!("--config.file={}", dir.config_path().display());
    let debug = [("RUST_LOG", "prodready_exporter=debug")];
    let out = run_cli(&["check", &arg, "--log.level=warn"], &debug);
    let logs = stderr(&out);
    assert!(
        logs.contains("RUST_LOG is ignored: --log.level is given"),
        "{logs}"
    );
    assert!(!logs.contains("level=debug"), "{logs}");
    let out = run_cli(&["check", &arg], &debug);
    let logs = stderr(&out);
    assert!(logs.contains("Log filter from RUST_LOG"), "{logs}");
    assert!(logs.contains("level=debug"), "{logs}");
    let out = run_cli(&["check", &arg], &[]);
    assert!(!stderr(&out).contains("RUST_LOG"), "{}", stderr(&out));
}

/// `check --help` lists the gate's flags only; the daemon's (`--web.*`,
/// `--shard.*`) are on the top-level help, where they apply.
#[test]
fn check_help_shows_only_the_gates_flags() {
    let check = stdout(&run_cli(&["check", "--help"], &[]));
    assert!(
        check.contains("--fail-on") && check.contains("--phase"),
        "{check}"
    );
    assert!(
        !check.contains("--web.") && !check.contains("--shard."),
        "{check}"
    );
    assert!(check.contains("--config.file") && check.contains("--log.level"));
    let top = stdout(&run_cli(&["--help"], &[]));
    assert!(
        top.contains("--web.listen-address") && top.contains("--shard.count"),
        "{top}"
    );
}
