//! The monitoring mixin (mixin/): the committed rule file, dashboards and
//! PrometheusRule are what `scripts/gen-mixin.sh` renders from it; its
//! sources are formatted; the rendered YAML passes yamllint and promtool's
//! `--lint=all`; the dashboards follow dashboard-linter's rules (written
//! here: the linter cannot be installed on this machine), for the default
//! `_config` and for a multi-cluster one; `_config` reaches every rule.
//! The alerts' own lint (mixtool's rules, cluster joins) is in `alerts.rs`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{repo_root, require_binary, run_ok, run_tool};

const GENERATED: &[&str] = &[
    "alerts/prodready.rules.yml",
    "grafana/dashboards/prodready-overview.json",
    "grafana/dashboards/prodready-check-detail.json",
    "deploy/kubernetes/prometheusrule.yaml",
    "deploy/kubernetes/dashboards/prodready-overview.json",
    "deploy/kubernetes/dashboards/prodready-check-detail.json",
];

/// Evaluates `expr` (Jsonnet) with the repository as import path; `overrides`
/// is merged into the mixin's `_config`.
pub fn render(overrides: &str, field: &str) -> Value {
    let expr = format!("((import 'mixin/mixin.libsonnet') + {{ _config+:: {overrides} }}).{field}");
    let out = run_ok(
        Command::new(require_binary("jsonnet"))
            .args(["-e", &expr])
            .current_dir(repo_root()),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn committed_files_are_what_the_mixin_renders() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("bash")
            .arg(repo_root().join("scripts/gen-mixin.sh"))
            .arg(dir.path()),
    );
    for file in GENERATED {
        let fresh = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let committed = std::fs::read_to_string(repo_root().join(file)).unwrap();
        assert!(
            fresh == committed,
            "{file} differs from what mixin/ renders: run scripts/gen-mixin.sh and commit it"
        );
    }
    // The PrometheusRule carries the very groups promtool tests.
    let yaml = |f: &str| {
        prodready_exporter::yaml::from_str::<Value>(
            &std::fs::read_to_string(repo_root().join(f)).unwrap(),
        )
        .unwrap()
    };
    let rule = yaml("deploy/kubernetes/prometheusrule.yaml");
    assert_eq!(rule["kind"], "PrometheusRule");
    assert_eq!(
        rule["spec"]["groups"],
        yaml("alerts/prodready.rules.yml")["groups"]
    );
    let rules = render("{}", "prometheusRules");
    let alerts = render("{}", "prometheusAlerts");
    let groups: Vec<Value> = [&rules, &alerts]
        .iter()
        .flat_map(|g| g["groups"].as_array().unwrap().clone())
        .collect();
    assert_eq!(rule["spec"]["groups"], Value::Array(groups));
}

fn mixin_sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![repo_root().join("mixin")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|x| x == "libsonnet" || x == "jsonnet")
            {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn mixin_sources_are_jsonnetfmt_formatted() {
    let sources = mixin_sources();
    assert!(sources.len() >= 6, "{sources:?}");
    let (ok, out) = run_tool(
        Command::new(require_binary("jsonnetfmt"))
            .arg("--test")
            .args(&sources),
    );
    assert!(
        ok,
        "not formatted (run jsonnetfmt -i mixin/**/*.libsonnet): {out}"
    );
    // --test fails on a file that is not.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.libsonnet");
    std::fs::write(&bad, "{a:1,\n   b:2}\n").unwrap();
    let (ok, _) = run_tool(
        Command::new(require_binary("jsonnetfmt"))
            .arg("--test")
            .arg(&bad),
    );
    assert!(!ok);
}

#[test]
fn rendered_yaml_passes_yamllint_and_promtool_lint() {
    let (ok, out) = run_tool(
        Command::new(require_binary("yamllint"))
            .args(["--strict", "-c", ".yamllint.yml", "alerts", "deploy"])
            .current_dir(repo_root()),
    );
    assert!(ok, "yamllint: {out}");
    let (ok, out) = run_tool(
        Command::new(require_binary("promtool"))
            .args(["check", "rules", "--lint=all", "--lint-fatal"])
            .arg("alerts/prodready.rules.yml")
            .current_dir(repo_root()),
    );
    assert!(ok && out.contains("SUCCESS: 19 rules found"), "{out}");
    // A trailing space is what yamllint caught in the sed-made PrometheusRule.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "spec:\n  groups: [] \n").unwrap();
    let (ok, out) = run_tool(
        Command::new(require_binary("yamllint"))
            .args(["--strict", "-c"])
            .arg(repo_root().join(".yamllint.yml"))
            .arg(&bad),
    );
    assert!(!ok && out.contains("trailing-spaces"), "{out}");
}

/// Every metric selector of a PromQL expression: (metric name, the text
/// inside its braces, or None where it has none).
fn selectors(expr: &str) -> Vec<(String, Option<String>)> {
    let re = regex::Regex::new(r"\b(prodready_[a-z_]+|up)\b(\{[^}]*\})?").unwrap();
    re.captures_iter(expr)
        .map(|c| {
            (
                c[1].to_owned(),
                c.get(2)
                    .map(|m| m.as_str().trim_matches(['{', '}']).to_owned()),
            )
        })
        .collect()
}

/// Grafana's unit ids the dashboards may use.
const UNITS: &[&str] = &[
    "none",
    "short",
    "percentunit",
    "s",
    "ops",
    "bytes",
    "dateTimeFromNow",
];

/// dashboard-linter's rules, as they apply to a Prometheus dashboard.
fn lint_dashboard(name: &str, doc: &Value, multi_cluster: bool) {
    assert!(
        doc["uid"].as_str().is_some_and(|u| !u.is_empty()),
        "{name}: uid"
    );
    assert!(
        doc["schemaVersion"].as_u64().unwrap_or(0) >= 39,
        "{name}: schemaVersion"
    );
    assert!(
        doc["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{name}: description"
    );
    // Provisioned dashboards are not edited in place.
    assert_eq!(doc["editable"], false, "{name}: editable");
    // template-datasource-rule, template-job-rule, template-instance-rule,
    // template-on-time-change-reload-rule.
    let vars = doc["templating"]["list"].as_array().unwrap();
    let var = |n: &str| vars.iter().find(|v| v["name"] == n);
    let ds = var("datasource").unwrap_or_else(|| panic!("{name}: no datasource variable"));
    assert_eq!(ds["type"], "datasource", "{name}");
    assert_eq!(ds["query"], "prometheus", "{name}");
    let mut scoped = vec!["job", "instance"];
    if multi_cluster {
        scoped.insert(0, "cluster");
    }
    assert_eq!(
        var("cluster").is_some(),
        multi_cluster,
        "{name}: cluster variable only with showMultiCluster"
    );
    for n in &scoped {
        let v = var(n).unwrap_or_else(|| panic!("{name}: no {n} variable"));
        assert_eq!(v["type"], "query", "{name}: {n}");
        assert_eq!(v["datasource"]["uid"], "${datasource}", "{name}: {n}");
        assert_eq!(v["multi"], true, "{name}: {n} multi");
        assert_eq!(v["includeAll"], true, "{name}: {n} includeAll");
        assert_eq!(v["refresh"], 2, "{name}: {n} reloads on time change");
    }
    let text = doc.to_string();
    assert!(
        !text.contains("\"uid\":\"prometheus\"") && !text.contains("\"uid\":\"P"),
        "{name}: hard-coded datasource uid"
    );
    let mut ids = std::collections::HashSet::new();
    for p in doc["panels"].as_array().unwrap() {
        let title = p["title"].as_str().unwrap_or("?");
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "{name}: duplicate panel id {title}"
        );
        // panel-title-description-rule
        assert!(!title.is_empty() && title != "?", "{name}: untitled panel");
        assert!(
            p["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}: {title} has no description"
        );
        // panel-units-rule: a unit Grafana knows, also in overrides.
        let unit = p["fieldConfig"]["defaults"]["unit"].as_str().unwrap_or("");
        assert!(UNITS.contains(&unit), "{name}: {title} unit {unit:?}");
        for o in p["fieldConfig"]["overrides"].as_array().unwrap() {
            for prop in o["properties"].as_array().unwrap() {
                if prop["id"] == "unit" {
                    let u = prop["value"].as_str().unwrap_or("");
                    assert!(UNITS.contains(&u), "{name}: {title} override unit {u:?}");
                }
            }
        }
        // panel-datasource-rule
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "{name}: {title} datasource"
        );
        let g = &p["gridPos"];
        let (x, w, h) = (
            g["x"].as_u64().unwrap(),
            g["w"].as_u64().unwrap(),
            g["h"].as_u64().unwrap(),
        );
        assert!(w > 0 && h > 0 && x + w <= 24, "{name}: {title} gridPos {g}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{name}: {title} has no query");
        for t in targets {
            assert_eq!(
                t["datasource"]["uid"], "${datasource}",
                "{name}: {title} target datasource"
            );
            let expr = t["expr"].as_str().unwrap_or("");
            assert!(!expr.trim().is_empty(), "{name}: {title} empty expr");
            // target-job-rule, target-instance-rule (and the cluster).
            for (metric, inside) in selectors(expr) {
                let inside = inside.unwrap_or_default();
                for n in &scoped {
                    let label = if *n == "cluster" { "cluster" } else { n };
                    assert!(
                        inside.contains(&format!("{label}=~\"${n}\"")),
                        "{name}: {title}: {metric} is not scoped by ${n}: {expr}"
                    );
                }
            }
            // target-rate-interval-rule, target-counter-agg-rule.
            let windowed = ["rate(", "irate(", "increase("]
                .iter()
                .any(|f| expr.contains(f));
            assert!(
                !windowed || expr.contains("[$__rate_interval]"),
                "{name}: {title}: a fixed rate window: {expr}"
            );
            if expr.contains("_total") {
                assert!(windowed, "{name}: {title}: a counter not rated: {expr}");
            }
            // A series is an instance of a cluster: grouping or joining
            // by instance names the cluster too.
            if multi_cluster {
                for by in ["by (", "on ("] {
                    for (i, _) in expr.match_indices(by) {
                        let list = &expr[i + by.len()..];
                        let list = &list[..list.find(')').unwrap()];
                        assert!(
                            !list.contains("instance") || list.starts_with("cluster, "),
                            "{name}: {title}: grouping by instance without the cluster: {expr}"
                        );
                    }
                }
            }
        }
    }
}

fn committed_dashboards() -> Vec<(String, Value)> {
    let dir = repo_root().join("grafana/dashboards");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                doc,
            ));
        }
    }
    out
}

#[test]
fn dashboards_follow_the_linter_rules() {
    let committed = committed_dashboards();
    assert_eq!(committed.len(), 2);
    for (name, doc) in &committed {
        lint_dashboard(name, doc, false);
    }
    let multi = render("{ showMultiCluster: true }", "grafanaDashboards");
    for (name, doc) in multi.as_object().unwrap() {
        lint_dashboard(name, doc, true);
    }
}

#[test]
#[should_panic(expected = "is not scoped by $instance")]
fn the_dashboard_lint_catches_an_unscoped_query() {
    let (name, mut doc) = committed_dashboards().remove(0);
    doc["panels"][0]["targets"][0]["expr"] = Value::from("prodready_score_ratio{job=~\"$job\"}");
    lint_dashboard(&name, &doc, false);
}

/// The observed-vs-threshold panel shows each check in its own unit: one
/// query pair per unit, an override per query.
#[test]
fn observed_values_are_shown_in_the_checks_unit() {
    let doc = committed_dashboards()
        .into_iter()
        .find(|(n, _)| n == "prodready-check-detail.json")
        .unwrap()
        .1;
    let panel = doc["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "Observed value vs threshold")
        .unwrap();
    let units: std::collections::BTreeMap<String, String> = panel["fieldConfig"]["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["matcher"]["options"].as_str().unwrap().to_owned(),
                o["properties"][0]["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for t in panel["targets"].as_array().unwrap() {
        let id = t["refId"].as_str().unwrap();
        let expr = t["expr"].as_str().unwrap();
        let unit = &units[id];
        let expected = match unit.as_str() {
            "s" => "unit=\"seconds\"",
            "bytes" => "unit=\"bytes\"",
            "percentunit" => "unit=\"ratio\"",
            _ => "unit!~\"bytes|ratio|seconds\"",
        };
        assert!(expr.contains(expected), "{id} ({unit}): {expr}");
    }
    assert_eq!(units.len(), 8);
}

pub fn rules_of(alerts: &Value) -> Vec<Value> {
    alerts["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .collect()
}

/// `_config` reaches every rule: the selector scopes every series, the
/// runbook and dashboard links follow the external URLs, `for:` and the
/// thresholds follow their keys (and the descriptions say so); durations
/// take any Prometheus duration; promtool accepts the result.
#[test]
fn config_reaches_every_rule() {
    let overrides = "{ prodreadySelector: 'job=\"readiness\"', exporterExternalURL: 'https://ops.example/prodready/', \
         grafanaExternalURL: 'https://grafana.example', failingCriticalFor: '1h30m', tlsExpiryWarningMarginDays: 10, \
         regressionWindow: '36h' }";
    let alerts = render(overrides, "prometheusAlerts");
    let recording = render(overrides, "prometheusRules");
    let rules = rules_of(&alerts);
    assert_eq!(rules.len(), 17);
    for r in rules.iter().chain(&rules_of(&recording)) {
        let name = r["alert"].as_str().or(r["record"].as_str()).unwrap();
        for (metric, inside) in selectors(r["expr"].as_str().unwrap()) {
            assert!(
                inside.is_some_and(|i| i.contains("job=\"readiness\"")),
                "{name}: {metric} not scoped"
            );
        }
        assert!(!r.to_string().contains("job=\\\"prodready\\\""), "{name}");
        if r["record"].is_string() {
            continue;
        }
        let runbook = r["annotations"]["runbook_url"].as_str().unwrap();
        if name == "ProdreadyExporterDown" {
            // Readable while the exporter is down: never the exporter.
            assert_eq!(runbook, "{{ $externalURL }}/targets");
        } else {
            assert!(
                runbook.starts_with("https://ops.example/prodready/runbooks#"),
                "{name}: {runbook}"
            );
        }
        if let Some(d) = r["annotations"]["dashboard_url"].as_str() {
            assert!(
                d.starts_with("https://grafana.example/d/prodready-"),
                "{name}: {d}"
            );
        }
    }
    let rule = |n: &str| rules.iter().find(|r| r["alert"] == n).unwrap();
    let critical = rule("ProdreadyCheckFailingCritical");
    assert_eq!(critical["for"], "1h30m");
    assert!(critical["annotations"]["description"]
        .as_str()
        .unwrap()
        .contains("for 1 hour 30 minutes"));
    assert!(rule("ProdreadyTlsCertificateExpiringSoon")["expr"]
        .as_str()
        .unwrap()
        .contains("prodready_check_threshold_value{job=\"readiness\"} + 10 * 86400)"));
    assert!(rules_of(&recording)[0]["expr"]
        .as_str()
        .unwrap()
        .contains("< bool 129600"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.yml");
    // JSON is YAML: promtool reads the rendered object as it is.
    std::fs::write(&file, alerts.to_string()).unwrap();
    let (ok, out) = run_tool(
        Command::new(require_binary("promtool"))
            .args(["check", "rules", "--lint=all", "--lint-fatal"])
            .arg(&file),
    );
    assert!(ok, "{out}");
}

/// A duration that is not a Prometheus duration stops the render, naming it.
#[test]
fn a_bad_duration_stops_the_render() {
    let expr = "((import 'mixin/mixin.libsonnet') + { _config+:: { errorFor: '15 min' } }).prometheusAlerts";
    let (ok, out) = run_tool(
        Command::new(require_binary("jsonnet"))
            .args(["-e", expr])
            .current_dir(repo_root()),
    );
    assert!(
        !ok && out.contains("not a Prometheus duration: \"15 min\""),
        "{out}"
    );
}

/// Dashboards carry the name prefix, and their file keys are prefixed so
/// that they do not collide in a shared Grafana sidecar ConfigMap; no
/// default links a host the user did not name.
#[test]
fn dashboards_are_prefixed_and_defaults_name_no_host() {
    let dashboards = render("{ dashboardNamePrefix: 'Team / ' }", "grafanaDashboards");
    for (key, doc) in dashboards.as_object().unwrap() {
        assert!(key.starts_with("prodready-"), "{key}");
        assert!(
            doc["title"].as_str().unwrap().starts_with("Team / "),
            "{key}"
        );
    }
    let rendered = render("{}", "prometheusAlerts").to_string();
    assert!(!rendered.contains("localhost"), "a default names localhost");
    assert!(
        !rendered.contains("dashboard_url"),
        "dashboard_url without grafanaExternalURL"
    );
    let jb: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("mixin/jsonnetfile.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(jb["version"], 1);
}

/// The default runbook pattern links the exporter that raised the alert;
/// ProdreadyExporterDown links the scrape state on the Prometheus that
/// raised it (readable while the exporter is down), or the page
/// `exporterDownRunbookURL` names, and carries its steps in `runbook`.
#[test]
fn default_runbook_links_follow_the_instance() {
    let rules = rules_of(&render("{}", "prometheusAlerts"));
    for r in &rules {
        let url = r["annotations"]["runbook_url"].as_str().unwrap();
        if r["alert"] == "ProdreadyExporterDown" {
            assert_eq!(url, "{{ $externalURL }}/targets");
            assert!(r["annotations"]["runbook"]
                .as_str()
                .unwrap()
                .contains("journalctl -u prodready-exporter"));
        } else {
            assert!(
                url.starts_with("http://{{ $labels.instance }}/runbooks#"),
                "{url}"
            );
        }
    }
    let wiki = rules_of(&render(
        "{ exporterDownRunbookURL: 'https://wiki.example/prodready-down' }",
        "prometheusAlerts",
    ));
    let down = wiki
        .iter()
        .find(|r| r["alert"] == "ProdreadyExporterDown")
        .unwrap();
    assert_eq!(
        down["annotations"]["runbook_url"],
        "https://wiki.example/prodready-down"
    );
}
