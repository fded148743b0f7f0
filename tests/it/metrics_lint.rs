//! `promtool check metrics` on a live scrape covering every state and family.

use std::process::Command;
use std::time::Duration;

use crate::support::{require_binary, run_with_stdin, sample, Exporter};

fn promtool_check(metrics: &str) -> (bool, String) {
    let mut promtool = Command::new(require_binary("promtool"));
    promtool.args(["check", "metrics"]);
    run_with_stdin(promtool, metrics.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn live_metrics_pass_promtool_without_findings() {
    let exporter = Exporter::start(
        r#"
checks:
  - name: passes
    kind: command
    severity: critical
    params: { argv: ["true"] }
  - name: fails
    kind: command
    category: security
    params: { argv: ["false"] }
  - name: errors
    kind: command
    category: performance
    params: { argv: ["/nonexistent/binary"] }
  - name: backups
    kind: backup_freshness
    params: { dir: /nonexistent, max_age: 1d }
"#,
    );
    exporter.wait_ready(Duration::from_secs(10)).await;
    let metrics = exporter.metrics().await;
    for family in [
        "prodready_check_success",
        "prodready_check_state",
        "prodready_check_observed_value",
        "prodready_check_threshold_value",
        "prodready_check_info",
        "prodready_check_duration_seconds",
        "prodready_check_last_run_timestamp_seconds",
        "prodready_check_last_success_timestamp_seconds",
        "prodready_check_interval_seconds",
        "prodready_check_runs_total",
        "prodready_check_errors_total",
        "prodready_category_score_ratio",
        "prodready_score_ratio",
        "prodready_config_last_reload_successful",
        "prodready_config_last_reload_success_timestamp_seconds",
        "prodready_build_info",
    ] {
        assert!(
            metrics.contains(&format!("# TYPE {family} ")),
            "family {family} missing:\n{metrics}"
        );
    }
    // pass / (pass + fail + error): 1 of 4 evaluated.
    assert_eq!(sample(&metrics, "prodready_score_ratio "), Some(0.25));
    assert_eq!(
        sample(
            &metrics,
            r#"prodready_category_score_ratio{category="security"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &metrics,
            r#"prodready_check_last_success_timestamp_seconds{check="fails"}"#
        ),
        Some(0.0)
    );
    let (ok, findings) = promtool_check(&metrics);
    assert!(
        ok && findings.trim().is_empty(),
        "promtool findings:\n{findings}\n{metrics}"
    );
    // The page is streamed from the kept per-check lines, with its length
    // said up front (no chunked encoding), plain and gzip; the gzip page
    // holds the same families.
    for gzip in [false, true] {
        let mut request = crate::support::client().get(exporter.url("/metrics"));
        if gzip {
            request = request.header("Accept-Encoding", "gzip");
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        assert!(headers.get("transfer-encoding").is_none(), "{headers:?}");
        let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len(), length);
        let text = if gzip {
            assert_eq!(headers["content-encoding"], "gzip");
            let mut out = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
                .unwrap();
            out
        } else {
            String::from_utf8(body.to_vec()).unwrap()
        };
        assert!(text.contains("# TYPE prodready_check_state gauge"));
        assert!(text.ends_with('\n'));
    }
}

#[test]
fn promtool_really_reports_bad_metrics() {
    // Guards the test above: a lint that cannot fail proves nothing.
    let (ok, findings) =
        promtool_check("# HELP foo_count bad\n# TYPE foo_count counter\nfoo_count 1\n");
    assert!(
        !ok || !findings.trim().is_empty(),
        "promtool accepted a bad counter"
    );
}
