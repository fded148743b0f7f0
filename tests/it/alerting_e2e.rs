//! Alerts a team can page on, end to end: the real exporter scraped by a
//! real Prometheus loading the rules rendered from the mixin (every `for:`
//! but ProdreadyExporterDown's shortened to 2s), routed by a real
//! Alertmanager running the bundled example config
//! (deploy/alertmanager/alertmanager.yml, its timers shortened) to a webhook
//! served here.
//!
//! 1. An expired certificate on a target with six checks: at most 2 firing
//!    notifications, naming the cause and listing the affected checks.
//! 2. The exporter stopped: ProdreadyExporterDown notified within 2 minutes
//!    (its default `for:`), and no alert resolved while it is down.
//! 3. Started again with the fault fixed: the resolutions arrive.
//! 4. Throughout, an idle Redis and PostgreSQL notify nobody.
//!
//! Every dashboard query answers from that Prometheus meanwhile; the
//! notification counts are printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use serde_json::Value;

use crate::support::certs::{leaf_params, CertFiles, TestPki, LOCAL};
use crate::support::nginx::{free_ports, Nginx};
use crate::support::postgres::Postgres;
use crate::support::prometheus::{start_alertmanager, start_prometheus};
use crate::support::redis::Redis;
use crate::support::{repo_root, require_binary, run_ok, ConfigDir, Exporter, TestApp, BIN};

/// One notification Alertmanager posted, with when it arrived.
#[derive(Debug, Clone)]
struct Notification {
    at: Instant,
    receiver: String,
    body: Value,
}

impl Notification {
    fn status(&self) -> &str {
        self.body["status"].as_str().unwrap_or_default()
    }

    fn alerts(&self) -> Vec<&Value> {
        self.body["alerts"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    fn names(&self) -> Vec<String> {
        self.alerts()
            .iter()
            .map(|a| {
                format!(
                    "{}:{}",
                    a["labels"]["alertname"].as_str().unwrap_or("?"),
                    a["status"]
                )
            })
            .collect()
    }
}

type Seen = Arc<Mutex<Vec<Notification>>>;

/// Collects what Alertmanager posts to /hooks/{receiver}.
async fn webhook() -> (TestApp, Seen) {
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let app = TestApp::start(axum::Router::new().route(
        "/hooks/{receiver}",
        post(
            move |axum::extract::Path(receiver): axum::extract::Path<String>,
                  body: axum::Json<Value>| {
                let store = store.clone();
                async move {
                    store.lock().unwrap().push(Notification {
                        at: Instant::now(),
                        receiver,
                        body: body.0,
                    });
                    "ok"
                }
            },
        ),
    ))
    .await;
    (app, seen)
}

/// The alert named `name` with `status` in any notification since `since`.
fn alert_since(seen: &Seen, since: Instant, name: &str, status: &str) -> Option<(Instant, Value)> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|n| n.at >= since)
        .find_map(|n| {
            n.alerts()
                .into_iter()
                .find(|a| a["labels"]["alertname"] == name && a["status"] == status)
                .map(|a| (n.at, a.clone()))
        })
}

fn query(prom: &str, expr: &str) -> Value {
    let out = Command::new("curl")
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

fn results(answer: &Value) -> Vec<Value> {
    answer
        .pointer("/data/result")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

async fn wait_until(what: &str, within: Duration, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The site: HTTPS with `cert`, on `port`.
fn site(port: u16, cert: &CertFiles) -> Nginx {
    let (crt, key) = (
        cert.cert.display().to_string(),
        cert.key.display().to_string(),
    );
    Nginx::start_on(vec![port], move |_, p| {
        format!(
            "server {{ listen 127.0.0.1:{} ssl; ssl_certificate {crt}; ssl_certificate_key {key};\n\
             location = /health {{ return 200 \"ok\"; }}\n location / {{ return 200 \"home\"; }} }}\n",
            p[0]
        )
    })
}

/// The bundled rules, rendered from the mixin with every `for:` but
/// ProdreadyExporterDown's (default 1m) at 2s.
fn rules() -> String {
    let fast = [
        "failingCriticalFor",
        "failingWarningFor",
        "failingInfoFor",
        "errorFor",
        "targetDownFor",
        "warningFor",
        "unknownFor",
        "coverageDroppedFor",
        "scoreDroppedFor",
        "resultsStaleFor",
        "configReloadFailedFor",
        "tlsExpiryWarningFor",
        "tlsExpiryCriticalFor",
        "waiverExpiringFor",
        "waiverExpiredFor",
    ]
    .map(|k| format!("{k}: '2s'"))
    .join(", ");
    let mixin = format!("((import 'mixin/mixin.libsonnet') + {{ _config+:: {{ {fast} }} }})");
    let out = run_ok(
        Command::new(require_binary("jsonnet"))
            .args(["-e", &format!("{{ groups: {mixin}.prometheusRules.groups + {mixin}.prometheusAlerts.groups }}")])
            .current_dir(repo_root()),
    );
    // JSON is YAML.
    String::from_utf8(out.stdout).unwrap()
}

/// The bundled Alertmanager example with its receivers at `hook` and its
/// timers shortened (a group waits 5s, a changed group 10s): the wait
/// absorbs the second or two between two rule groups' evaluations under load,
/// as 30s does in production.
fn alertmanager_config(hook: &str) -> String {
    std::fs::read_to_string(repo_root().join("deploy/alertmanager/alertmanager.yml"))
        .unwrap()
        .replace(
            "http://127.0.0.1:9095/hooks/",
            &format!("http://{hook}/hooks/"),
        )
        .replace("group_wait: 30s", "group_wait: 5s")
        .replace("group_interval: 5m", "group_interval: 10s")
}

/// The exporter on a fixed port, so that Prometheus finds it again after a restart.
fn exporter_on(port: u16, config: &str) -> Exporter {
    let config = ConfigDir::new(config);
    let mut cmd = Command::new(BIN);
    cmd.arg(format!("--config.file={}", config.config_path().display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    Exporter::spawn(cmd, config)
}

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

/// Every dashboard query parses, and every panel returns data.
fn dashboards_answer(prom: &str) {
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
                let answer = query(prom, &resolved);
                assert_eq!(
                    answer["status"],
                    "success",
                    "{}: {resolved}: {answer}",
                    path.display()
                );
                if !results(&answer).is_empty() {
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
}

#[tokio::test(flavor = "multi_thread")]
async fn one_cause_pages_once_and_a_dead_exporter_resolves_nothing() {
    let (hook, seen) = webhook().await;
    let pki = TestPki::new();
    let expired = pki.leaf("expired", leaf_params(LOCAL, -30, -1));
    let valid = pki.leaf("valid", leaf_params(LOCAL, -1, 90));
    let site_port = free_ports(1)[0];
    let mut nginx = Some(site(site_port, &valid));
    let redis = Redis::start(&[]);
    let pg = Postgres::start_with(None, "", "");
    let config = format!(
        r#"
global: {{ interval: 2s, timeout: 2s }}
targets:
  site: {{ http: {{ url: "https://127.0.0.1:{site_port}", tls: {{ ca_file: "{ca}" }} }} }}
  cache: {{ redis: {{ url: "{redis}" }} }}
  db: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:{pg}/postgres" }} }}
checks:
  - {{ name: site_tls, kind: tls_certificate, target: site, severity: critical }}
  - {{ name: site_home, kind: http, target: site, severity: critical }}
  - {{ name: site_health, kind: http, target: site, params: {{ url: /health, body_regex: "^ok$" }} }}
  - {{ name: site_api, kind: http, target: site, params: {{ url: /api/v1/status }} }}
  - {{ name: site_fast, kind: http, target: site, severity: info, params: {{ max_latency: 2s }} }}
  - {{ name: site_cors, kind: cors, target: site, params: {{ urls: [/] }} }}
  - {{ name: cache_hits, kind: redis_hit_ratio, target: cache }}
  - {{ name: db_hits, kind: postgres_cache_hit_ratio, target: db }}
waivers:
  - {{ item: operations.backup, reason: "backups move to the new cluster", owner: team-ops, expires: "{expires}" }}
"#,
        ca = pki.ca_file.display(),
        redis = redis.url(),
        pg = pg.port,
        expires = crate::support::tree::date_in(10),
    );
    let exporter_port = free_ports(1)[0];
    let mut exporter = Some(exporter_on(exporter_port, &config));
    let am = start_alertmanager(&alertmanager_config(&hook.addr));
    let prom = start_prometheus(
        &format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\nalerting:\n  alertmanagers:\n    - static_configs: [{{ targets: [\"127.0.0.1:{}\"] }}]\nrule_files: [\"{{dir}}/rules/*.yml\"]\nscrape_configs:\n  - job_name: prodready\n    static_configs: [{{ targets: [\"127.0.0.1:{exporter_port}\"] }}]\n",
            am.port
        ),
        &[("prodready", rules().as_str())],
    );
    let prom_url = prom.url();

    // The site passes first (so that its breaking is a regression)...
    wait_until(
        "the site's checks to pass in Prometheus",
        Duration::from_secs(60),
        || {
            results(&query(
                &prom_url,
                "prodready_check_success{check=~\"site_.*\"} == 1",
            ))
            .len()
                == 6
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // 1. ...then its certificate expires: one alert for the target, one for
    // the certificate, in at most two notifications.
    drop(nginx.take());
    nginx = Some(site(site_port, &expired));
    let started = Instant::now();
    wait_until("ProdreadyTargetDown", Duration::from_secs(90), || {
        alert_since(&seen, started, "ProdreadyTargetDown", "firing").is_some()
    })
    .await;
    wait_until(
        "ProdreadyTlsCertificateExpiryCritical",
        Duration::from_secs(60),
        || {
            alert_since(
                &seen,
                started,
                "ProdreadyTlsCertificateExpiryCritical",
                "firing",
            )
            .is_some()
        },
    )
    .await;
    // Let every group that could still change flush (group_interval 10s).
    tokio::time::sleep(Duration::from_secs(15)).await;
    let (_, down) = alert_since(&seen, started, "ProdreadyTargetDown", "firing").unwrap();
    assert_eq!(down["labels"]["target"], "site");
    assert_eq!(down["labels"]["reason"], "tls");
    assert_eq!(down["labels"]["severity"], "critical");
    let description = down["annotations"]["description"].as_str().unwrap();
    for check in [
        "site_home",
        "site_health",
        "site_api",
        "site_fast",
        "site_cors",
    ] {
        assert!(
            description.contains(check),
            "{check} not listed: {description}"
        );
    }
    let first: Vec<Notification> = seen.lock().unwrap().clone();
    let firing = first.iter().filter(|n| n.status() == "firing").count();
    println!(
        "expired certificate: {firing} firing notification(s) in {:.0}s: {:?}",
        started.elapsed().as_secs_f64(),
        first
            .iter()
            .map(|n| (n.receiver.clone(), n.names()))
            .collect::<Vec<_>>()
    );
    assert!(
        firing <= 2,
        "{firing} notifications for one cause: {first:#?}"
    );
    for n in &first {
        for name in n.names() {
            assert!(
                name.starts_with("ProdreadyTargetDown")
                    || name.starts_with("ProdreadyTlsCertificateExpiryCritical"),
                "notified {name}: {n:#?}"
            );
        }
    }
    // Rules are healthy (the ALERTS read-back included), and the checks the
    // quiet systems could not judge ran often enough to have alerted.
    let rules = query(&prom_url, "count(ALERTS)");
    assert_eq!(rules["status"], "success");
    let health = Command::new("curl")
        .args(["-s", &format!("{prom_url}/api/v1/rules")])
        .output()
        .unwrap();
    let health: Value = serde_json::from_slice(&health.stdout).unwrap();
    let unhealthy: Vec<Value> = health
        .pointer("/data/groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["health"] != "ok")
        .collect();
    assert!(unhealthy.is_empty(), "{unhealthy:#?}");
    let quiet = results(&query(
        &prom_url,
        "prodready_check_insufficient_data{check=\"cache_hits\"} == 1 and on (job, instance, check) prodready_check_runs_total >= 3",
    ));
    assert_eq!(
        quiet.len(),
        1,
        "the idle Redis check is not judged quiet: {quiet:?}"
    );
    dashboards_answer(&prom_url);

    // 2. Stop the exporter: ProdreadyExporterDown within 2 minutes, and no
    // alert resolved meanwhile.
    let stopped = Instant::now();
    drop(exporter.take());
    wait_until("ProdreadyExporterDown", Duration::from_secs(120), || {
        alert_since(&seen, stopped, "ProdreadyExporterDown", "firing").is_some()
    })
    .await;
    let (at, _) = alert_since(&seen, stopped, "ProdreadyExporterDown", "firing").unwrap();
    println!(
        "exporter down: notified after {:.0}s",
        (at - stopped).as_secs_f64()
    );
    assert!(at - stopped < Duration::from_secs(120));
    tokio::time::sleep(Duration::from_secs(12)).await;
    let resolved: Vec<Vec<String>> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n.at >= stopped && n.alerts().iter().any(|a| a["status"] == "resolved"))
        .map(Notification::names)
        .collect();
    assert!(
        resolved.is_empty(),
        "resolved while the exporter was down: {resolved:?}"
    );
    for name in [
        "ProdreadyTargetDown",
        "ProdreadyTlsCertificateExpiryCritical",
    ] {
        let firing = results(&query(
            &prom_url,
            &format!("ALERTS{{alertname=\"{name}\", alertstate=\"firing\"}}"),
        ));
        assert_eq!(
            firing.len(),
            1,
            "{name} not held while the exporter is down"
        );
    }

    // 3. Fix the certificate and start the exporter again: the resolutions.
    drop(nginx.take());
    nginx = Some(site(site_port, &valid));
    let restarted = Instant::now();
    exporter = Some(exporter_on(exporter_port, &config));
    for name in [
        "ProdreadyExporterDown",
        "ProdreadyTargetDown",
        "ProdreadyTlsCertificateExpiryCritical",
    ] {
        wait_until(&format!("{name} resolved"), Duration::from_secs(60), || {
            alert_since(&seen, restarted, name, "resolved").is_some()
        })
        .await;
    }
    let all = seen.lock().unwrap().clone();
    println!(
        "notifications: {} firing, {} resolved, in {:.0}s; after the restart: {:?}",
        all.iter().filter(|n| n.status() == "firing").count(),
        all.iter().filter(|n| n.status() == "resolved").count(),
        started.elapsed().as_secs_f64(),
        all.iter()
            .filter(|n| n.at >= restarted)
            .map(|n| (n.receiver.clone(), n.names()))
            .collect::<Vec<_>>()
    );
    // 4. The idle systems never notified.
    for n in &all {
        for a in n.alerts() {
            let check = a["labels"]["check"].as_str().unwrap_or_default();
            assert!(
                !matches!(check, "cache_hits" | "db_hits"),
                "an idle system paged: {n:#?}"
            );
        }
    }
    drop(exporter);
    drop(nginx);
}
