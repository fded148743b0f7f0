//! The bundled alert rules: promtool finds them valid, their unit tests pass
//! (and a wrong expectation fails), every runbook link points at a section
//! of docs/runbooks.md that exists, they pass mixtool's lint rules, and
//! their joins match on the cluster under showMultiCluster.

use std::process::Command;

use serde_json::Value;

use crate::mixin::{render, rules_of};
use crate::support::{repo_root, require_binary, run_tool};

fn promtool(args: &[&str]) -> (bool, String) {
    run_tool(
        Command::new(require_binary("promtool"))
            .args(args)
            .current_dir(repo_root()),
    )
}

#[test]
fn rules_are_valid_and_their_unit_tests_pass() {
    let (ok, out) = promtool(&["check", "rules", "alerts/prodready.rules.yml"]);
    assert!(ok && out.contains("SUCCESS: 19 rules found"), "{out}");
    let (ok, out) = promtool(&["test", "rules", "alerts/tests/prodready_test.yml"]);
    assert!(ok && out.contains("SUCCESS"), "{out}");
}

#[test]
fn a_wrong_expectation_makes_the_unit_tests_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("alerts/prodready.rules.yml"),
        dir.path().join("prodready.rules.yml"),
    )
    .unwrap();
    let tests = std::fs::read_to_string(repo_root().join("alerts/tests/prodready_test.yml"))
        .unwrap()
        .replace("../prodready.rules.yml", "prodready.rules.yml")
        .replacen("severity: critical", "severity: page", 1);
    let file = dir.path().join("wrong_test.yml");
    std::fs::write(&file, tests).unwrap();
    let (ok, out) = promtool(&["test", "rules", &file.display().to_string()]);
    assert!(!ok && out.contains("FAILED"), "{out}");
}

/// GitHub-style heading anchors of a Markdown file.
fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
                    ' ' => Some('-'),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_alert_links_an_existing_runbook_section() {
    let rules = std::fs::read_to_string(repo_root().join("alerts/prodready.rules.yml")).unwrap();
    let runbooks = std::fs::read_to_string(repo_root().join("docs/runbooks.md")).unwrap();
    let known = anchors(&runbooks);
    let mut alerts = 0;
    for line in rules.lines() {
        if line.trim_start().starts_with("- alert:") {
            alerts += 1;
        }
        if let Some(url) = line.trim().strip_prefix("runbook_url: ") {
            let url = url.trim_matches('"').trim_end_matches("{{ end }}");
            if url.starts_with("{{ $externalURL }}") {
                // ProdreadyExporterDown: Prometheus' own page, not a runbook section.
                continue;
            }
            let anchor = url.rsplit('#').next().unwrap();
            assert!(
                known.iter().any(|a| a == anchor),
                "runbook anchor #{anchor} is not a section of docs/runbooks.md ({known:?})"
            );
        }
    }
    assert_eq!(
        rules.matches("runbook_url:").count(),
        alerts,
        "every alert needs a runbook_url"
    );
}

/// Every alert's `runbook_url`, expanded for an exporter that is running,
/// resolves: the exporter serves its runbooks at /runbooks with the
/// section's anchor.
#[tokio::test]
async fn every_runbook_url_resolves_against_a_running_exporter() {
    let exporter = crate::support::Exporter::start(crate::support::ONE_PASSING_CHECK);
    let rules = std::fs::read_to_string(repo_root().join("alerts/prodready.rules.yml")).unwrap();
    let mut followed = 0;
    for line in rules.lines() {
        let Some(url) = line.trim().strip_prefix("runbook_url: ") else {
            continue;
        };
        if url.contains("{{ $externalURL }}") {
            continue;
        }
        // The templates Prometheus expands with the alert's instance label.
        let url = url
            .trim_matches('"')
            .replace(
                "{{ with $labels.instance }}http://{{ . }}",
                &format!("http://{}", exporter.addr),
            )
            .replace("{{ end }}", "")
            .replace("{{ $labels.instance }}", &exporter.addr);
        assert!(!url.contains("{{"), "unexpanded template in {url}");
        let (page, anchor) = url.split_once('#').unwrap();
        let (status, body) = crate::support::get(page).await;
        assert_eq!(status, 200, "{url}");
        assert!(
            body.contains(&format!("id=\"{anchor}\"")),
            "{url}: no section #{anchor}"
        );
        followed += 1;
    }
    assert_eq!(followed, 16);
}

/// Under showMultiCluster every join of the alerts matches on the cluster
/// label too: two clusters with the same job and instance never meet.
#[test]
fn multi_cluster_alert_joins_match_on_the_cluster() {
    let alerts = render(
        "{ showMultiCluster: true, clusterLabel: 'k8s_cluster' }",
        "prometheusAlerts",
    );
    for r in rules_of(&alerts) {
        let expr = r["expr"].as_str().unwrap();
        for join in expr.match_indices("on (").map(|(i, _)| &expr[i..]) {
            assert!(
                join.starts_with("on (k8s_cluster, job, instance"),
                "{}: {}",
                r["alert"],
                &join[..join.find(')').unwrap() + 1]
            );
        }
    }
}

/// mixtool's lint rules for alerts (monitoring-mixins/mixtool, lint.go:
/// the guidelines of monitoring.mixins.dev), transcribed here because
/// mixtool needs Go 1.21+, which is not installable on this machine: a
/// CamelCase name; a static `severity` of critical, warning or info; a
/// templated description; a summary without templates that is a sentence
/// (capital first, period last). And ours: a `for` on every alert.
fn mixtool_findings(alerts: &Value) -> Vec<String> {
    let camel = regex::Regex::new(r"^([A-Z]+[a-z0-9]+)+$").unwrap();
    let template = regex::Regex::new(r"\{\{.+\}\}").unwrap();
    let sentence = regex::Regex::new(r"^[A-Z].+\.$").unwrap();
    let mut findings = Vec::new();
    for r in rules_of(alerts) {
        let Some(name) = r["alert"].as_str() else {
            continue;
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        if !camel.is_match(name) {
            findings.push(format!("[alert-name-camelcase] {name}"));
        }
        let severity = text(&r["labels"]["severity"]);
        if !matches!(severity.as_str(), "critical" | "warning" | "info") {
            findings.push(format!("[alert-severity-rule] {name}: '{severity}'"));
        }
        match r["annotations"]["description"].as_str() {
            None => findings.push(format!("[alert-description-missing-rule] {name}")),
            Some(d) if !template.is_match(d) => {
                findings.push(format!("[alert-description-templating] {name}"))
            }
            Some(_) => {}
        }
        match r["annotations"]["summary"].as_str() {
            None => findings.push(format!("[alert-summary-missing-rule] {name}")),
            Some(s) => {
                if template.is_match(s) {
                    findings.push(format!("[alert-summary-templating] {name}"));
                }
                if !sentence.is_match(s) {
                    findings.push(format!("[alert-summary-style] {name}: '{s}'"));
                }
            }
        }
        if r["for"].as_str().is_none_or(str::is_empty) {
            findings.push(format!("[for] {name}"));
        }
    }
    findings
}

#[test]
fn alerts_pass_mixtools_lint_rules() {
    for overrides in [
        "{}",
        "{ showMultiCluster: true, grafanaExternalURL: 'https://g.example' }",
    ] {
        let findings = mixtool_findings(&render(overrides, "prometheusAlerts"));
        assert!(findings.is_empty(), "{overrides}: {findings:#?}");
    }
    // The lint catches what it is for.
    let bad = serde_json::json!({ "groups": [{ "rules": [
        { "alert": "checkDown", "labels": { "severity": "{{ $labels.severity }}" },
          "annotations": { "summary": "Check {{ $labels.check }} is down", "description": "static" } },
    ]}]});
    let findings = mixtool_findings(&bad);
    for rule in [
        "alert-name-camelcase",
        "alert-severity-rule",
        "alert-description-templating",
        "alert-summary-templating",
        "alert-summary-style",
        "[for]",
    ] {
        assert!(
            findings.iter().any(|f| f.contains(rule)),
            "{rule}: {findings:?}"
        );
    }
}
