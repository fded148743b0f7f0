//! The bundled Grafana dashboards and alert rules, end to end (their lint is
//! in `mixin.rs`): a run of the real exporter scraped by a real
//! Prometheus (loading alerts/prodready.rules.yml with shortened `for:`)
//! that routes through a real Alertmanager to a webhook served here. A check
//! passes, breaks for real, the right alert arrives, and it resolves after
//! the fix; every dashboard query returns data from that Prometheus.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use serde_json::Value;

use crate::support::certs::{leaf_params, TestPki, LOCAL};
use crate::support::nginx::Nginx;
use crate::support::prometheus::{start_alertmanager, start_prometheus};
use crate::support::{Exporter, TestApp};

fn dashboards() -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()));
            out.push((path, doc));
        }
    }
    assert!(
        out.len() >= 2,
        "expected the overview and check detail dashboards"
    );
    out
}

/// Collects what Alertmanager posts to the webhook.
async fn webhook() -> (TestApp, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let store = seen.clone();
    let app = TestApp::start(axum::Router::new().route(
        "/hook",
        post(move |body: axum::Json<Value>| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(body.0);
                "ok"
            }
        }),
    ))
    .await;
    (app, seen)
}

fn has_alert(seen: &Arc<Mutex<Vec<Value>>>, name: &str, status: &str) -> Option<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .flat_map(|m| m["alerts"].as_array().cloned().unwrap_or_default())
        .find(|a| a["labels"]["alertname"] == name && a["status"] == status)
}

fn get_json(url: &str) -> Value {
    let out = std::process::Command::new("curl")
        .args(["-s", url])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn query(prom: &str, expr: &str) -> Value {
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-G",
            &format!("{prom}/api/v1/query"),
            "--data-urlencode",
            &format!("query={expr}"),
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

async fn wait_until(what: &str, within: Duration, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_fire_and_resolve_end_to_end_and_dashboards_return_data() {
    let (hook, seen) = webhook().await;
    let pki = TestPki::new();
    let cert = pki.leaf("site", leaf_params(LOCAL, -1, 10));
    let site = Nginx::start(1, |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {}; ssl_certificate_key {}; return 200; }}\n",
            p[0],
            cert.cert.display(),
            cert.key.display()
        )
    });
    // Two instances with the same config and check names (prod and staging):
    // the check breaks on prod only, staging keeps passing.
    let config = |marker: &Path| {
        format!(
            r#"
global: {{ interval: 1s, timeout: 1s }}
targets:
  site: {{ http: {{ url: "https://127.0.0.1:{port}", tls: {{ ca_file: "{ca}" }} }} }}
checks:
  - {{ name: release_marker, kind: command, severity: critical, params: {{ argv: ["test", "-f", "{marker}"] }} }}
  - {{ name: site_tls, kind: tls_certificate, target: site, severity: critical, params: {{ min_days_left: 3 }} }}
waivers:
  - {{ item: operations.backup, reason: "backups move to the new cluster", owner: team-ops, expires: "{expires}" }}
"#,
            port = site.port(0),
            ca = pki.ca_file.display(),
            marker = marker.display(),
            expires = crate::support::tree::date_in(10),
        )
    };
    let marker = tempfile::NamedTempFile::new().unwrap();
    let marker_path = marker.path().to_owned();
    let staging_marker = tempfile::NamedTempFile::new().unwrap();
    let exporter = Exporter::start(&config(&marker_path));
    let staging = Exporter::start(&config(staging_marker.path()));
    let am = start_alertmanager(&format!(
        "route: {{ receiver: hook, group_by: [alertname, check], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }}\nreceivers:\n  - name: hook\n    webhook_configs: [{{ url: \"http://{}/hook\", send_resolved: true }}]\n",
        hook.addr
    ));
    // The bundled rules with every `for:` shortened to 2s.
    let rules: String = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("alerts/prodready.rules.yml"),
    )
    .unwrap()
    .lines()
    .map(|l| {
        if l.trim_start().starts_with("for:") {
            "        for: 2s".to_owned()
        } else {
            l.to_owned()
        }
    })
    .collect::<Vec<_>>()
    .join("\n");
    let prom = start_prometheus(
        &format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\nalerting:\n  alertmanagers:\n    - static_configs: [{{ targets: [\"127.0.0.1:{}\"] }}]\nrule_files: [\"{{dir}}/rules/*.yml\"]\nscrape_configs:\n  - job_name: prodready\n    static_configs: [{{ targets: [\"{}\", \"{}\"] }}]\n",
            am.port, exporter.addr, staging.addr
        ),
        &[("prodready", rules.as_str())],
    );
    let prom_url = prom.url();
    let success = |v: &Value| {
        v.pointer("/data/result/0/value/1")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    wait_until(
        "the check to pass in Prometheus",
        Duration::from_secs(30),
        || {
            success(&query(
                &prom_url,
                "prodready_check_success{check=\"release_marker\"}",
            ))
            .as_deref()
                == Some("1")
        },
    )
    .await;
    // Give the regression rule some history of passing, then break the target for real.
    tokio::time::sleep(Duration::from_secs(3)).await;
    std::fs::remove_file(&marker_path).unwrap();
    wait_until(
        "ProdreadyCheckFailingCritical at the webhook",
        Duration::from_secs(60),
        || has_alert(&seen, "ProdreadyCheckFailingCritical", "firing").is_some(),
    )
    .await;
    let alert = has_alert(&seen, "ProdreadyCheckFailingCritical", "firing").unwrap();
    assert_eq!(alert["labels"]["check"], "release_marker");
    assert_eq!(alert["labels"]["instance"], exporter.addr.as_str());
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["category"], "deployment");
    assert_eq!(alert["labels"]["job"], "prodready");
    assert_eq!(
        alert["annotations"]["summary"],
        "Critical readiness check release_marker is failing"
    );
    assert!(alert["annotations"]["runbook_url"]
        .as_str()
        .unwrap()
        .ends_with("#check-failing"));
    wait_until(
        "ProdreadyCheckRegressed at the webhook",
        Duration::from_secs(30),
        || has_alert(&seen, "ProdreadyCheckRegressed", "firing").is_some(),
    )
    .await;
    // The TLS check's certificate has 10 days left: the warning tier fires, not the critical one.
    wait_until(
        "ProdreadyTlsCertificateExpiringSoon",
        Duration::from_secs(30),
        || has_alert(&seen, "ProdreadyTlsCertificateExpiringSoon", "firing").is_some(),
    )
    .await;
    let tls = has_alert(&seen, "ProdreadyTlsCertificateExpiringSoon", "firing").unwrap();
    assert_eq!(tls["labels"]["target"], "site");
    assert!(has_alert(&seen, "ProdreadyTlsCertificateExpiryCritical", "firing").is_none());
    // Staging never failed: no failing or regression alert names it.
    let staging_alerts: Vec<Value> = seen
        .lock()
        .unwrap()
        .iter()
        .flat_map(|m| m["alerts"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["labels"]["instance"] == staging.addr.as_str())
        .filter(|a| {
            let name = a["labels"]["alertname"].as_str().unwrap_or_default();
            name.starts_with("ProdreadyCheckFailing") || name == "ProdreadyCheckRegressed"
        })
        .collect();
    assert!(staging_alerts.is_empty(), "{staging_alerts:?}");
    // Every rule evaluates with two instances sharing check names (no
    // many-to-many join errors).
    let rules = get_json(&format!("{prom_url}/api/v1/rules"));
    let all: Vec<Value> = rules
        .pointer("/data/groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(all.len() >= 15, "{rules}");
    let unhealthy: Vec<&Value> = all.iter().filter(|r| r["health"] != "ok").collect();
    assert!(unhealthy.is_empty(), "{unhealthy:#?}");

    // While the check fails, every dashboard query must parse, and every
    // panel return data (the observed-vs-threshold panel holds one query
    // pair per unit, of which only the check's answers).
    for (path, doc) in dashboards() {
        for panel in doc["panels"].as_array().unwrap() {
            let mut answered = 0;
            for t in panel["targets"].as_array().unwrap() {
                let resolved = t["expr"]
                    .as_str()
                    .unwrap()
                    .replace("$job", "prodready")
                    .replace("$instance", ".+")
                    .replace("$check", "site_tls")
                    // Grafana's: at least four scrape intervals.
                    .replace("$__rate_interval", "1m");
                let answer = query(&prom_url, &resolved);
                assert_eq!(
                    answer["status"],
                    "success",
                    "{}: {resolved}: {answer}",
                    path.display()
                );
                if answer
                    .pointer("/data/result")
                    .and_then(Value::as_array)
                    .is_some_and(|r| !r.is_empty())
                {
                    answered += 1;
                }
            }
            assert!(
                answered > 0,
                "{}: no data for panel {}",
                path.display(),
                panel["title"]
            );
        }
    }

    // Fix the target: the alert resolves.
    std::fs::write(&marker_path, "").unwrap();
    wait_until(
        "ProdreadyCheckFailingCritical to resolve",
        Duration::from_secs(60),
        || has_alert(&seen, "ProdreadyCheckFailingCritical", "resolved").is_some(),
    )
    .await;
    drop(exporter);
}
