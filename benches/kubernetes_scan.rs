//! The `kubernetes_*` kinds' work on a large manifest directory: N
//! Deployments, each with a Service, a PodDisruptionBudget and a
//! NetworkPolicy, in files of 100 workloads; read, joined and judged under
//! every aspect's rules. Prints figures; asserts nothing.
//! Usage: cargo bench --bench kubernetes_scan [-- WORKLOADS]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use prodready_exporter::scan::kubernetes::{judge, load, workloads, Aspect, Limits, Render};
use prodready_exporter::scan::Cancel;

fn main() {
    let n: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1_000);
    let dir = tempfile::tempdir().expect("temp dir");
    for file in 0..n.div_ceil(100) {
        let mut text = String::new();
        for i in file * 100..((file + 1) * 100).min(n) {
            let _ = write!(
                text,
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{ name: app-{i}, namespace: ns-{ns} }}\nspec:\n  replicas: {replicas}\n  selector: {{ matchLabels: {{ app: app-{i} }} }}\n  template:\n    metadata: {{ labels: {{ app: app-{i} }} }}\n    spec:\n      containers:\n        - name: app\n          image: registry.example/app-{i}:1.{i}\n          resources: {{ requests: {{ cpu: 100m, memory: 128Mi }}, limits: {{ memory: 256Mi }} }}\n          readinessProbe: {{ httpGet: {{ path: /ready, port: 8080 }} }}\n          livenessProbe: {{ tcpSocket: {{ port: 8080 }} }}\n          securityContext: {{ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {{ drop: [ALL] }} }}\n---\napiVersion: v1\nkind: Service\nmetadata: {{ name: app-{i}, namespace: ns-{ns} }}\nspec: {{ selector: {{ app: app-{i} }}, ports: [{{ port: 80 }}] }}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{ name: app-{i}, namespace: ns-{ns} }}\nspec: {{ maxUnavailable: 1, selector: {{ matchLabels: {{ app: app-{i} }} }} }}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{ name: app-{i}, namespace: ns-{ns} }}\nspec: {{ podSelector: {{ matchLabels: {{ app: app-{i} }} }} }}\n---\n",
                ns = i % 20,
                replicas = 1 + i % 3,
            );
        }
        std::fs::write(dir.path().join(format!("apps-{file:03}.yaml")), text).expect("write");
    }
    let render = Render {
        kubectl: "kubectl".into(),
        timeout: Duration::from_secs(30),
    };
    for run in 1..=3 {
        let started = Instant::now();
        let read = load(dir.path(), &render, &Cancel::new()).expect("load");
        let loaded = started.elapsed();
        let found = workloads(&read.objects);
        let joined = started.elapsed() - loaded;
        let mut findings = 0;
        let judging = Instant::now();
        for aspect in Aspect::ALL {
            findings += judge(&found, aspect, &Limits::default()).len();
        }
        let judged = judging.elapsed();
        println!(
            "run {run}: {} objects in {} files read in {:.0} ms; {} workloads joined in {:.0} ms; 6 aspects judged in {:.0} ms ({findings} findings); total {:.0} ms",
            read.objects.len(),
            read.files,
            loaded.as_secs_f64() * 1e3,
            found.len(),
            joined.as_secs_f64() * 1e3,
            judged.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3,
        );
    }
}
