//! CPU time per `https_redirect` and `tls_certificate` evaluation against a
//! local nginx (an HTTP vhost redirecting to an HTTPS vhost with
//! an rcgen ECDSA P-256 certificate and HSTS). Prints figures; asserts
//! nothing about speed. Run: `cargo bench --bench http_tls_cpu [-- N]`.

mod support;
use support::require_binary;

#[allow(dead_code)]
#[path = "../tests/it/support/certs.rs"]
mod certs;
#[allow(dead_code)]
#[path = "../tests/it/support/nginx.rs"]
mod nginx;

use std::time::Instant;

use prodready_exporter::config::Config;
use prodready_exporter::engine::{evaluate, Plan};

/// utime + stime of this process in seconds (all threads).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat; index 11 and 12 after the command name.
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let n: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(300);
    let pki = certs::TestPki::new();
    let cert = pki.leaf("bench", certs::leaf_params(certs::LOCAL, -1, 90));
    let site = nginx::Nginx::start(2, |dir, p| {
        std::fs::write(dir.join("www/index.html"), "<h1>bench</h1>").unwrap();
        format!(
            "server {{ listen 127.0.0.1:{http}; return 301 https://127.0.0.1:{https}$request_uri; }}\n\
             server {{ listen 127.0.0.1:{https} ssl; ssl_certificate {crt}; ssl_certificate_key {key}; root {www};\n\
               add_header Strict-Transport-Security \"max-age=31536000\" always; }}\n",
            http = p[0],
            https = p[1],
            crt = cert.cert.display(),
            key = cert.key.display(),
            www = dir.join("www").display()
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.yaml");
    std::fs::write(
        &file,
        format!(
            "targets:\n  site: {{ http: {{ url: \"https://127.0.0.1:{}\", tls: {{ ca_file: \"{}\" }} }} }}\n\
             checks:\n  - {{ name: redirect, kind: https_redirect, target: site, params: {{ http_port: {} }} }}\n\
             \x20 - {{ name: tls, kind: tls_certificate, target: site }}\n",
            site.port(1),
            pki.ca_file.display(),
            site.port(0)
        ),
    )
    .unwrap();
    let plan = Plan::build(Config::load(&file).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "machine: {} cores; {n} sequential evaluations per kind",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut total_cpu = 0.0;
    for planned in &plan.checks {
        runtime.block_on(async {
            for _ in 0..10 {
                let e = evaluate(planned, &plan.semaphore, &plan.redactor).await;
                assert_eq!(e.outcome.state.as_str(), "pass", "{}", e.outcome.message);
            }
            let cpu0 = cpu_seconds();
            let t0 = Instant::now();
            for _ in 0..n {
                evaluate(planned, &plan.semaphore, &plan.redactor).await;
            }
            let cpu = cpu_seconds() - cpu0;
            let wall = t0.elapsed().as_secs_f64();
            total_cpu += cpu / n as f64;
            println!(
                "{:<16} cpu {:.3} ms/evaluation, wall {:.3} ms/evaluation",
                planned.kind.name,
                cpu * 1000.0 / n as f64,
                wall * 1000.0 / n as f64
            );
        });
    }
    println!(
        "https_redirect + tls_certificate: {:.3} ms CPU per pair",
        total_cpu * 1000.0
    );
}
