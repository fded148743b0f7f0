//! The bundled Alertmanager example (deploy/alertmanager/alertmanager.yml):
//! `amtool` routes every kind of alert where the file says, and a real
//! Alertmanager running it inhibits exactly what each inhibit rule names
//! (and nothing with other `equal` labels).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::prometheus::start_alertmanager;
use crate::support::{repo_root, require_binary, run_tool};

fn config() -> String {
    std::fs::read_to_string(repo_root().join("deploy/alertmanager/alertmanager.yml")).unwrap()
}

#[test]
fn every_route_sends_its_alerts_to_the_receiver_it_names() {
    let file = repo_root().join("deploy/alertmanager/alertmanager.yml");
    let (ok, out) = run_tool(
        Command::new(require_binary("amtool"))
            .arg("check-config")
            .arg(&file),
    );
    assert!(ok, "{out}");
    for (labels, receiver) in [
        (
            &[
                "alertname=ProdreadyTargetDown",
                "severity=critical",
                "target=web",
            ][..],
            "readiness-page",
        ),
        (
            &[
                "alertname=ProdreadyCheckFailingCritical",
                "severity=critical",
                "category=security",
            ],
            "readiness-page",
        ),
        (
            &["alertname=ProdreadyExporterDown", "severity=critical"],
            "readiness-page",
        ),
        (
            &[
                "alertname=ProdreadyCheckFailing",
                "severity=warning",
                "category=security",
            ],
            "security-team",
        ),
        (
            &[
                "alertname=ProdreadyCheckFailing",
                "severity=warning",
                "category=performance",
            ],
            "readiness-tickets",
        ),
        (
            &[
                "alertname=ProdreadyCheckError",
                "severity=warning",
                "category=operations",
            ],
            "readiness-tickets",
        ),
        (
            &[
                "alertname=ProdreadyWaiverExpired",
                "severity=warning",
                "category=security",
            ],
            "readiness-default",
        ),
        (
            &["alertname=ProdreadyWaiverExpiringSoon", "severity=info"],
            "readiness-default",
        ),
        (&["alertname=Other"], "readiness-default"),
    ] {
        let (ok, out) = run_tool(
            Command::new(require_binary("amtool"))
                .args(["config", "routes", "test", "--config.file"])
                .arg(&file)
                .arg(format!("--verify.receivers={receiver}"))
                .args(labels),
        );
        assert!(ok, "{labels:?} -> {out}");
    }
    // The test can fail.
    let (ok, _) = run_tool(
        Command::new(require_binary("amtool"))
            .args(["config", "routes", "test", "--config.file"])
            .arg(&file)
            .arg("--verify.receivers=readiness-tickets")
            .arg("severity=critical"),
    );
    assert!(!ok);
}

fn alert(labels: Value) -> Value {
    json!({ "labels": labels, "annotations": {}, "startsAt": "2026-01-01T00:00:00Z" })
}

fn am(url: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-X", method, &format!("{url}{path}")]);
    if let Some(body) = body {
        cmd.args([
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ]);
    }
    let out = cmd.output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Each inhibit rule: a source, a target it silences (same `equal`
/// labels) and a look-alike it must not (one `equal` label differs, or a
/// name outside its matchers).
#[test]
fn every_inhibit_rule_silences_what_it_names_and_nothing_else() {
    let server = start_alertmanager(
        &config().replace("http://127.0.0.1:9095/hooks/", "http://127.0.0.1:9/hooks/"),
    );
    let url = server.url();
    let base = |name: &str, extra: Value| {
        let mut labels = json!({ "alertname": name, "job": "prodready", "instance": "px:9718" });
        for (k, v) in extra.as_object().unwrap() {
            labels[k] = v.clone();
        }
        labels
    };
    // (alert, expected suppressed)
    let cases = [
        // The exporter down silences everything of its instance.
        (
            base("ProdreadyExporterDown", json!({ "severity": "critical" })),
            false,
        ),
        (
            base(
                "ProdreadyTargetDown",
                json!({ "target": "site", "reason": "tls", "severity": "critical" }),
            ),
            true,
        ),
        (
            base(
                "ProdreadyCheckFailingCritical",
                json!({ "check": "site_tls", "target": "site", "severity": "critical" }),
            ),
            true,
        ),
        (
            json!({ "alertname": "ProdreadyCheckFailing", "job": "prodready", "instance": "other:9718", "check": "a", "severity": "warning" }),
            false,
        ),
    ];
    let inhibited = post_and_read(&url, &cases);
    assert_states(&cases, &inhibited);

    // A second Alertmanager for the other rules (the first holds an
    // ExporterDown that would silence them all).
    drop(server);
    let server = start_alertmanager(
        &config().replace("http://127.0.0.1:9095/hooks/", "http://127.0.0.1:9/hooks/"),
    );
    let url = server.url();
    let cases = [
        // A target down silences its checks' errors, not another target's.
        (
            base(
                "ProdreadyTargetDown",
                json!({ "target": "site", "reason": "tls", "severity": "critical" }),
            ),
            false,
        ),
        (
            base(
                "ProdreadyCheckError",
                json!({ "check": "site_home", "target": "site", "severity": "warning" }),
            ),
            true,
        ),
        (
            base(
                "ProdreadyCheckUnknown",
                json!({ "check": "site_cors", "target": "site", "severity": "warning" }),
            ),
            true,
        ),
        (
            base(
                "ProdreadyCheckError",
                json!({ "check": "db_idx", "target": "db", "severity": "warning" }),
            ),
            false,
        ),
        // A failing check of that target fails on its own merits: not silenced.
        (
            base(
                "ProdreadyCheckFailing",
                json!({ "check": "site_api", "target": "site", "severity": "warning" }),
            ),
            false,
        ),
        // The critical TLS expiry silences the same check's failure and warning tier.
        (
            base(
                "ProdreadyTlsCertificateExpiryCritical",
                json!({ "check": "site_tls", "target": "site", "severity": "critical" }),
            ),
            false,
        ),
        (
            base(
                "ProdreadyCheckFailingCritical",
                json!({ "check": "site_tls", "target": "site", "severity": "critical" }),
            ),
            true,
        ),
        (
            base(
                "ProdreadyTlsCertificateExpiringSoon",
                json!({ "check": "site_tls", "target": "site", "severity": "warning" }),
            ),
            true,
        ),
        // The warning tier silences a warning failure, never a critical one.
        (
            base(
                "ProdreadyTlsCertificateExpiringSoon",
                json!({ "check": "api_tls", "target": "api", "severity": "warning" }),
            ),
            false,
        ),
        (
            base(
                "ProdreadyCheckFailing",
                json!({ "check": "api_tls", "target": "api", "severity": "warning" }),
            ),
            true,
        ),
        (
            base(
                "ProdreadyTlsCertificateExpiringSoon",
                json!({ "check": "edge_tls", "target": "edge", "severity": "warning" }),
            ),
            false,
        ),
        (
            base(
                "ProdreadyCheckFailingCritical",
                json!({ "check": "edge_tls", "target": "edge", "severity": "critical" }),
            ),
            false,
        ),
        // A critical failure silences its own warning, not another check's.
        (
            base(
                "ProdreadyCheckFailingCritical",
                json!({ "check": "backups", "target": "", "severity": "critical" }),
            ),
            false,
        ),
        (
            base(
                "ProdreadyCheckWarning",
                json!({ "check": "backups", "severity": "info" }),
            ),
            true,
        ),
        (
            base(
                "ProdreadyCheckWarning",
                json!({ "check": "leak", "severity": "info" }),
            ),
            false,
        ),
    ];
    let inhibited = post_and_read(&url, &cases);
    assert_states(&cases, &inhibited);
}

/// Posts the alerts and reads back, per alert (by its labels), whether
/// Alertmanager holds it suppressed by an inhibition.
fn post_and_read(url: &str, cases: &[(Value, bool)]) -> Vec<bool> {
    let alerts: Vec<Value> = cases.iter().map(|(l, _)| alert(l.clone())).collect();
    am(url, "POST", "/api/v2/alerts", Some(&Value::Array(alerts)));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = am(url, "GET", "/api/v2/alerts", None);
        let listed = listed.as_array().cloned().unwrap_or_default();
        if listed.len() == cases.len() {
            return cases
                .iter()
                .map(|(labels, _)| {
                    let found = listed
                        .iter()
                        .find(|a| {
                            labels.as_object().unwrap().iter().all(|(k, v)| {
                                // An empty label is no label in Alertmanager.
                                (v == "" && a["labels"].get(k).is_none()) || a["labels"][k] == *v
                            })
                        })
                        .unwrap_or_else(|| panic!("{labels} not listed"));
                    !found["status"]["inhibitedBy"]
                        .as_array()
                        .is_none_or(Vec::is_empty)
                })
                .collect();
        }
        assert!(Instant::now() < deadline, "alerts not listed: {listed:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn assert_states(cases: &[(Value, bool)], inhibited: &[bool]) {
    let wrong: Vec<String> = cases
        .iter()
        .zip(inhibited)
        .filter(|((_, expected), got)| expected != *got)
        .map(|((labels, expected), _)| format!("{labels}: expected inhibited={expected}"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
