//! `check --phase`: the gate's stop rule and verdict for each flag
//! combination, with real commands that log when they run.

use crate::support::{run_cli, stderr, stdout, ConfigDir, TestApp};

/// A pre-deploy/post-deploy config whose migrations item is `migrations`
/// (a check line), and whose backup and rollback steps exit with `later`.
struct Phases {
    dir: ConfigDir,
    app: TestApp,
}

impl Phases {
    async fn start() -> Phases {
        let app = TestApp::start(
            axum::Router::new()
                .route("/healthz", axum::routing::get(|| async { "ok" }))
                .route(
                    "/api/products",
                    axum::routing::get(|| async { "[{\"id\": 1}]" }),
                ),
        )
        .await;
        let dir = ConfigDir::new("");
        std::fs::create_dir_all(dir.path("reports")).unwrap();
        std::fs::write(
            dir.path("reports/junit.xml"),
            r#"<testsuite tests="2"><testcase name="a"/><testcase name="b"/></testsuite>"#,
        )
        .unwrap();
        Phases { dir, app }
    }

    /// A `command` check for `item` that logs its name and exits with `code`.
    fn step(&self, name: &str, item: &str, code: i32) -> String {
        format!(
            "  - {{ name: {name}, kind: command, item: {item}, params: {{ argv: [\"sh\", \"-c\", \"echo {name} >> {}; exit {code}\"] }} }}\n",
            self.dir.path("ran.log").display()
        )
    }

    fn config(&self, migrations: &str, later: i32) -> String {
        format!(
            "targets:\n  repo: {{ path: \"{}\" }}\n  app: {{ http: {{ url: \"http://{}\" }} }}\nchecks:\n  - {{ name: tests, kind: test_report, target: repo, params: {{ reports: [reports/junit.xml] }} }}\n{}{}{}{}  - {{ name: health, kind: http, target: app, item: step.healthcheck, params: {{ url: /healthz }} }}\n  - {{ name: smoke, kind: http, target: app, item: step.smoke_tests, params: {{ url: /api/products, body_regex: '\"id\"' }} }}\n",
            self.dir.dir.path().display(),
            self.app.addr,
            migrations,
            self.step("configs", "deployment.verify_configs", 0),
            self.step("backup", "deployment.backup_database", later),
            self.step("rollback_plan", "deployment.verify_rollback_plan", later),
        )
    }

    /// A migrations item that fails (a command exiting 1).
    fn failing_migrations(&self) -> String {
        self.step("migrations", "deployment.check_migrations", 1)
    }

    /// A migrations item that warns: the app advertises no rate limit.
    fn warning_migrations(&self) -> String {
        "  - { name: migrations, kind: rate_limiting, target: app, item: deployment.check_migrations, params: { url: /healthz } }\n".into()
    }

    async fn run(&self, config: String, extra: &[&str]) -> Run {
        let _ = std::fs::remove_file(self.dir.path("ran.log"));
        let path = self.dir.config_path();
        std::fs::write(&path, config).unwrap();
        let mut args: Vec<String> = vec![
            "check".into(),
            format!("--config.file={}", path.display()),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&args, &[])
        })
        .await
        .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        Run {
            code: out.status.code(),
            doc,
            ran: std::fs::read_to_string(self.dir.path("ran.log")).unwrap_or_default(),
        }
    }
}

struct Run {
    code: Option<i32>,
    doc: serde_json::Value,
    /// The command steps that ran, in order.
    ran: String,
}

impl Run {
    /// (item id, state, how it was run) in the seed's order.
    fn items(&self) -> Vec<(String, String, String)> {
        self.doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["state"].as_str().unwrap().to_owned(),
                    i["run"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn item(&self, id: &str) -> (String, String) {
        let (_, state, run) = self
            .items()
            .into_iter()
            .find(|(i, _, _)| i == id)
            .unwrap_or_else(|| panic!("no item {id} in {}", self.doc));
        (state, run)
    }
}

fn owned(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

/// The seed's order; the phase stops at the first item the gate fails and
/// the items after it are not run.
#[tokio::test(flavor = "multi_thread")]
async fn a_phase_runs_the_seed_order_and_stops_at_the_first_failing_item() {
    let p = Phases::start().await;
    let run = p
        .run(
            p.config(&p.failing_migrations(), 0),
            &["--phase", "pre-deploy"],
        )
        .await;
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.items(),
        owned(&[
            ("deployment.test_all_systems", "pass", "ran"),
            ("deployment.check_migrations", "fail", "ran"),
            ("deployment.verify_configs", "unknown", "not_run"),
            ("deployment.backup_database", "unknown", "not_run"),
            ("deployment.verify_rollback_plan", "unknown", "not_run"),
        ])
    );
    assert_eq!(run.ran, "migrations\n");

    let run = p
        .run(
            p.config(&p.step("migrations", "deployment.check_migrations", 0), 0),
            &["--phase", "pre-deploy"],
        )
        .await;
    assert_eq!(run.code, Some(0), "{}", run.doc);
    assert!(run
        .items()
        .iter()
        .all(|(_, s, r)| s == "pass" && r == "ran"));
    assert_eq!(run.ran, "migrations\nconfigs\nbackup\nrollback_plan\n");
}

/// Defect: `--phase --fail-on error` stopped at a `fail` and then failed the
/// gate on the skipped items; `check --fail-on error` alone passes the same
/// config. The phase runs on past what the gate lets through.
#[tokio::test(flavor = "multi_thread")]
async fn fail_on_error_runs_past_a_failing_item_and_passes_like_a_plain_check() {
    let p = Phases::start().await;
    let config = p.config(&p.failing_migrations(), 0);
    let run = p
        .run(
            config.clone(),
            &["--phase", "pre-deploy", "--fail-on", "error"],
        )
        .await;
    assert_eq!(run.code, Some(0), "{}", run.doc);
    assert_eq!(run.ran, "migrations\nconfigs\nbackup\nrollback_plan\n");
    assert_eq!(
        run.item("deployment.check_migrations"),
        ("fail".into(), "ran".into())
    );
    let plain = p.run(config, &["--fail-on", "error"]).await;
    assert_eq!(plain.code, run.code);

    // An `error` still stops the phase under --fail-on error.
    let erroring = "  - { name: migrations, kind: command, item: deployment.check_migrations, params: { argv: [\"/nonexistent/migrate\"] } }\n";
    let run = p
        .run(
            p.config(erroring, 0),
            &["--phase", "pre-deploy", "--fail-on", "error"],
        )
        .await;
    assert_eq!(run.code, Some(1), "{}", run.doc);
    assert_eq!(
        run.item("deployment.check_migrations"),
        ("error".into(), "ran".into())
    );
    assert_eq!(
        run.item("deployment.backup_database"),
        ("unknown".into(), "not_run".into())
    );
    assert_eq!(run.ran, "");
}

/// Defect: `--phase --allow-unknown` passed although the backup and rollback
/// items, which fail when run, never ran (a `warn` stopped the phase). Now a
/// warn the gate lets through does not stop it, and the failures count.
#[tokio::test(flavor = "multi_thread")]
async fn allow_unknown_never_lets_items_that_did_not_run_through() {
    let p = Phases::start().await;
    let config = p.config(&p.warning_migrations(), 1);
    let run = p
        .run(
            config.clone(),
            &["--phase", "pre-deploy", "--allow-unknown"],
        )
        .await;
    assert_eq!(run.code, Some(1), "{}", run.doc);
    assert_eq!(
        run.item("deployment.check_migrations"),
        ("warn".into(), "ran".into())
    );
    assert_eq!(
        run.item("deployment.backup_database"),
        ("fail".into(), "ran".into())
    );
    assert_eq!(
        run.item("deployment.verify_rollback_plan"),
        ("unknown".into(), "not_run".into())
    );
    assert_eq!(run.ran, "configs\nbackup\n");

    // --fail-on warn stops at the warn; the items after it fail the gate
    // as not run, whatever --allow-unknown says.
    let run = p
        .run(
            config,
            &[
                "--phase",
                "pre-deploy",
                "--allow-unknown",
                "--fail-on",
                "warn",
            ],
        )
        .await;
    assert_eq!(run.code, Some(1), "{}", run.doc);
    assert_eq!(
        run.item("deployment.verify_rollback_plan"),
        ("unknown".into(), "not_run".into())
    );
    assert_eq!(run.ran, "");
    assert_eq!(run.doc["gate"]["passed"], false);

    // With everything passing, --allow-unknown changes nothing.
    let good = p.step("migrations", "deployment.check_migrations", 0);
    let run = p
        .run(
            p.config(&good, 0),
            &["--phase", "pre-deploy", "--allow-unknown"],
        )
        .await;
    assert_eq!(run.code, Some(0), "{}", run.doc);
}

/// Post-deploy: `step.rollback_ready` has no check, so the gate fails naming
/// it, unless --allow-uncovered; a phase where nothing ran cannot pass.
#[tokio::test(flavor = "multi_thread")]
async fn uncovered_items_fail_unless_allowed() {
    let p = Phases::start().await;
    let config = p.config(&p.failing_migrations(), 0);
    let run = p.run(config.clone(), &["--phase", "post-deploy"]).await;
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.items(),
        owned(&[
            ("step.healthcheck", "pass", "ran"),
            ("step.smoke_tests", "pass", "ran"),
            ("step.rollback_ready", "fail", "uncovered"),
        ])
    );
    assert!(run.doc.to_string().contains("covered by no check"));
    let run = p
        .run(config, &["--phase", "post-deploy", "--allow-uncovered"])
        .await;
    assert_eq!(run.code, Some(0), "{}", run.doc);
    assert_eq!(
        run.item("step.rollback_ready"),
        ("unknown".into(), "uncovered".into())
    );

    // JUnit names an item the phase never ran as a failed case.
    let dir = &p.dir;
    std::fs::write(dir.config_path(), p.config(&p.failing_migrations(), 0)).unwrap();
    let out = run_cli(
        &[
            "check",
            &format!("--config.file={}", dir.config_path().display()),
            "--phase",
            "pre-deploy",
            "--format",
            "junit",
        ],
        &[],
    );
    let xml = stdout(&out);
    assert!(
        xml.contains("item:deployment.backup_database") && xml.contains("type=\"not_run\""),
        "{xml}"
    );
}
