//! The `kubernetes_*` kinds on manifest directories built in temp dirs, and
//! on a kustomization rendered by the real `kubectl kustomize`.

use crate::support::tree::write;
use crate::support::{assert_state, by, require_binary, run_checks};

const GOOD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: front } }
    spec:
      securityContext: { runAsNonRoot: true, runAsUser: 10001 }
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm: { topologyKey: kubernetes.io/hostname, labelSelector: { matchLabels: { app: web } } }
      containers:
        - name: app
          image: registry.example/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          resources: { requests: { cpu: 250m, memory: 256Mi }, limits: { memory: 512Mi } }
          readinessProbe: { httpGet: { path: /ready, port: 8080 } }
          livenessProbe: { tcpSocket: { port: 8080 } }
          lifecycle: { preStop: { exec: { command: [sleep, "5"] } } }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: web, namespace: shop }
spec: { selector: { matchLabels: { app: web } } }
"#;

/// Related objects in another file, one as JSON and two in a `List`.
const GOOD_JSON: &str = r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
  "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}"#;
const GOOD_LIST: &str = r#"
apiVersion: v1
kind: List
items:
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: { name: web, namespace: shop }
    spec: { minAvailable: 2, selector: { matchExpressions: [{ key: app, operator: In, values: [web] }] } }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: default-deny, namespace: shop }
    spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
"#;

const BAD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  revisionHistoryLimit: 0
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: app
          image: web:latest
          readinessProbe: { httpGet: { path: /health, port: 8080 } }
          livenessProbe: { httpGet: { path: /health, port: 8080 } }
          securityContext: { privileged: true }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web } }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec: { maxUnavailable: 0, selector: { matchLabels: { app: web } } }
"#;

const KINDS: [&str; 6] = [
    "failover",
    "capacity",
    "probes",
    "rollout",
    "drain",
    "pod_security",
];

fn checks_on(dir: &std::path::Path, prefix: &str) -> String {
    KINDS
        .iter()
        .map(|k| {
            format!(
                "  - {{ name: {prefix}_{k}, kind: kubernetes_{k}, params: {{ dir: \"{}\" }} }}\n",
                dir.display()
            )
        })
        .collect()
}

#[test]
fn kubernetes_kinds_pass_a_ready_workload_and_fail_a_bare_one() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "good/web.yaml", GOOD);
    write(t.path(), "good/svc/web.json", GOOD_JSON);
    write(t.path(), "good/policies.yml", GOOD_LIST);
    write(t.path(), "bad/all.yaml", BAD);
    let config = format!(
        "checks:\n{}{}",
        checks_on(&t.path().join("good"), "good"),
        checks_on(&t.path().join("bad"), "bad")
    );
    let r = run_checks(&config, &[]);
    for k in KINDS {
        let good = by(&r, &format!("good_{k}"));
        assert_state(good, "pass", "1 workload(s) in 3 file(s)");
        assert_eq!(good.doc["evidence"]["other_objects"]["ServiceMonitor"], 1);
    }
    let rules_of = |name: &str| -> Vec<String> {
        by(&r, name).doc["evidence"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_state(
        by(&r, "bad_failover"),
        "fail",
        "Deployment/web: 1 replica(s), need at least 2 (replicas.minimum)",
    );
    assert_eq!(
        rules_of("bad_failover"),
        ["replicas.minimum", "pdb.blocks-drain"]
    );
    assert_state(
        by(&r, "bad_capacity"),
        "fail",
        "container app: no cpu or memory request",
    );
    assert_state(
        by(&r, "bad_probes"),
        "fail",
        "readinessProbe and livenessProbe are identical",
    );
    assert_eq!(rules_of("bad_rollout"), ["image.tag", "rollout.history"]);
    assert_state(
        by(&r, "bad_drain"),
        "fail",
        "terminationGracePeriodSeconds 2, need at least 10",
    );
    assert!(rules_of("bad_drain").contains(&"drain.prestop".to_owned()));
    let security = rules_of("bad_pod_security");
    for rule in [
        "security.privileged",
        "security.run-as-non-root",
        "security.privilege-escalation",
        "security.capabilities",
        "security.read-only-root",
        "security.network-policy",
    ] {
        assert!(security.contains(&rule.to_owned()), "{rule}: {security:?}");
    }
    let finding = &by(&r, "bad_pod_security").doc["evidence"]["findings"][0];
    assert_eq!(finding["workload"], "Deployment/web");
    assert!(finding["fix"].as_str().unwrap().len() > 10, "{finding}");
}

/// A kustomization is rendered by the real kubectl (its name prefix and
/// namespace show in the findings); kubectl missing or failing is `error`.
#[test]
fn kustomizations_are_rendered_by_kubectl() {
    require_binary("kubectl");
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "base/deploy.yaml", BAD);
    write(
        t.path(),
        "base/kustomization.yaml",
        "resources: [deploy.yaml]\n",
    );
    write(
        t.path(),
        "prod/kustomization.yaml",
        "resources: [../base]\nnamePrefix: prod-\nnamespace: shop\npatches:\n  - target: { kind: Deployment, name: web }\n    patch: |-\n      - op: add\n        path: /spec/replicas\n        value: 3\n",
    );
    write(
        t.path(),
        "broken/kustomization.yaml",
        "resources: [missing.yaml]\n",
    );
    let prod = t.path().join("prod");
    let config = format!(
        "checks:\n  - {{ name: prod_failover, kind: kubernetes_failover, params: {{ dir: \"{}\" }} }}\n  - {{ name: no_kubectl, kind: kubernetes_failover, params: {{ dir: \"{}\", kubectl: /nonexistent/kubectl }} }}\n  - {{ name: broken, kind: kubernetes_probes, params: {{ dir: \"{}\" }} }}\n",
        prod.display(),
        prod.display(),
        t.path().join("broken").display()
    );
    let r = run_checks(&config, &[]);
    let failover = by(&r, "prod_failover");
    // The patch gave 3 replicas: only the PDB that blocks drains is left.
    assert_state(
        failover,
        "warn",
        "Deployment/prod-web: PodDisruptionBudget/prod-web allows no pod to be evicted",
    );
    assert_eq!(failover.doc["evidence"]["findings"][0]["namespace"], "shop");
    assert!(failover.doc["evidence"]["rendered_with"]
        .as_str()
        .unwrap()
        .ends_with("kustomize"));
    assert_state(
        by(&r, "no_kubectl"),
        "error",
        "/nonexistent/kubectl is not installed",
    );
    assert_state(by(&r, "broken"), "error", "kustomize");
}

/// Waivers take a rule's findings on one workload out of the count; what
/// cannot be read keeps a check from passing; no workload is an error.
#[test]
fn waivers_unreadable_files_and_empty_directories() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "bad/all.yaml", BAD);
    write(t.path(), "mixed/web.yaml", GOOD);
    write(t.path(), "mixed/broken.yaml", "kind: [unclosed\n");
    write(
        t.path(),
        "mixed/chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    write(
        t.path(),
        "empty/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: b }\n",
    );
    let expires =
        prodready_exporter::clock::date_of(prodready_exporter::clock::unix_now() + 30 * 86400);
    let config = format!(
        r#"checks:
  - {{ name: waived_failover, kind: kubernetes_failover, params: {{ dir: "{bad}" }} }}
  - {{ name: other_location, kind: kubernetes_failover, params: {{ dir: "{bad}" }} }}
  - {{ name: mixed, kind: kubernetes_probes, params: {{ dir: "{mixed}" }} }}
  - {{ name: empty, kind: kubernetes_probes, params: {{ dir: "{empty}" }} }}
waivers:
  - {{ check: waived_failover, finding: {{ rule: replicas.minimum, location: Deployment/web }}, reason: canary, owner: team-a, expires: "{expires}" }}
  - {{ check: other_location, finding: {{ rule: replicas.minimum, location: Deployment/api }}, reason: other, owner: team-a, expires: "{expires}" }}
"#,
        bad = t.path().join("bad").display(),
        mixed = t.path().join("mixed").display(),
        empty = t.path().join("empty").display(),
    );
    let r = run_checks(&config, &[]);
    let waived = by(&r, "waived_failover");
    assert_state(waived, "warn", "pdb.blocks-drain");
    assert_eq!(
        waived.doc["evidence"]["waived_findings"][0]["rule"],
        "replicas.minimum"
    );
    assert_state(by(&r, "other_location"), "fail", "replicas.minimum");
    let mixed = by(&r, "mixed");
    assert_state(mixed, "warn", "not verified");
    assert!(
        mixed.message.contains("broken.yaml: invalid YAML"),
        "{}",
        mixed.message
    );
    assert!(
        mixed
            .message
            .contains("chart/templates/deploy.yaml: a Helm template, not rendered"),
        "{}",
        mixed.message
    );
    assert_state(by(&r, "empty"), "error", "no workload");
}

/// The bundled `deploy/kubernetes` (a kustomization, rendered by kubectl)
/// passes its own checks; the one finding it keeps is waived with its
/// reason: one exporter per shard is the design.
#[test]
fn the_bundled_manifests_pass_their_own_checks() {
    require_binary("kubectl");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let expires =
        prodready_exporter::clock::date_of(prodready_exporter::clock::unix_now() + 60 * 86400);
    let config = format!(
        "checks:\n{}waivers:\n  - {{ check: self_failover, finding: {{ rule: replicas.minimum, location: StatefulSet/prodready-exporter }}, owner: maintainers, expires: \"{expires}\", reason: \"one exporter per shard by design: a restart rebuilds its state in one round and ProdreadyExporterDown pages; raise replicas with --shard.count to split checks\" }}\n",
        checks_on(&dir, "self")
    );
    let r = run_checks(&config, &[]);
    for k in KINDS {
        let result = by(&r, &format!("self_{k}"));
        assert_state(result, "pass", "1 workload(s) in 1 file(s)");
    }
    assert_eq!(
        by(&r, "self_failover").doc["evidence"]["waived_findings"][0]["rule"],
        "replicas.minimum"
    );
}
