//! The status page in a real headless Chromium (Debian `chromium`, no
//! browser download): the rendered DOM shows the checklist grouped by
//! category with failing checks first and states as text, and a screenshot
//! is saved to target/status-page.png.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::tree::date_in;
use crate::support::{require_binary, Exporter};

fn chromium(args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(require_binary("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_renders_in_headless_chromium() {
    let exporter = Exporter::start(&format!(
        r#"
checks:
  - {{ name: deploy_tests_passed, kind: command, item: deployment.test_all_systems, params: {{ argv: ["true"] }} }}
  - {{ name: deploy_migrations_applied, kind: command, item: deployment.check_migrations, severity: critical, params: {{ argv: ["sh", "-c", "echo '2 pending migrations' >&2; exit 1"] }} }}
  - {{ name: app_secret_key, kind: env_secret, severity: critical, params: {{ variable: UNSET_SECRET_FOR_BROWSER_TEST }} }}
  - {{ name: backups_recent, kind: backup_freshness, params: {{ dir: /nonexistent/backups, max_age: 1d }} }}
waivers:
  - {{ check: deploy_migrations_applied, reason: "two legacy migrations until the split (DB-7)", owner: team-db, expires: "{}" }}
  - {{ check: app_secret_key, reason: "dev key", owner: team-app, expires: "{}" }}
  - {{ item: operations.backup, reason: "backups move to the new cluster", owner: team-ops, expires: "{}" }}
"#,
        date_in(3),
        date_in(-2),
        date_in(10),
    ));
    exporter.wait_ready(Duration::from_secs(10)).await;
    let url = exporter.url("/");
    let dom = tokio::task::spawn_blocking({
        let url = url.clone();
        move || chromium(&["--dump-dom", &url])
    })
    .await
    .unwrap();
    let html = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.status.success() && html.contains("Production readiness"),
        "chromium failed: {}\n{html}",
        String::from_utf8_lossy(&dom.stderr)
    );
    for text in [
        "security",
        "operations",
        "deployment",
        "deploy_migrations_applied",
        "2 pending migrations",
        "not set",
    ] {
        assert!(html.contains(text), "{text:?} not rendered:\n{html}");
    }
    // The page is the checklist: all 41 items, uncovered ones with how to cover them.
    for item in prodready_exporter::checklist::ITEMS.iter() {
        assert!(html.contains(item.id), "item {} not shown", item.id);
    }
    assert!(
        html.contains("not covered &mdash; add a check of kind https_redirect or tls_certificate")
            || html.contains("not covered — add a check of kind https_redirect or tls_certificate"),
        "{html}"
    );
    assert!(html.contains("recent:"), "no history strip");
    // Waivers beside what they cover: owner, reason, days left; an expired
    // one in its own (red) class.
    let waived = html
        .find("waived by <b>team-db</b>")
        .expect("check waiver shown");
    assert!(html[waived..].contains("two legacy migrations until the split (DB-7)"));
    assert!(html[waived..].contains("3 day(s) left"), "{html}");
    let expired = html.find("<span class=\"waiver expired\">waived by <b>team-app</b>");
    assert!(expired.is_some(), "expired waiver not marked:\n{html}");
    assert!(html.contains("2 days ago"), "{html}");
    assert!(
        html.contains("waived by <b>team-ops</b>"),
        "item waiver not shown"
    );
    // Below it, failing checks come first in their category; states are
    // written out, not only coloured.
    let checks = html.find("<h2>Checks</h2>").expect("checks section");
    let failing = checks + html[checks..].find("deploy_migrations_applied").unwrap();
    let passing = checks + html[checks..].find("deploy_tests_passed").unwrap();
    assert!(failing < passing, "the failing check is not listed first");
    assert!(
        html.contains(">fail</span>")
            && html.contains(">pass</span>")
            && html.contains(">error</span>")
    );

    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/status-page.png");
    // target/ is absent from a clean checkout built with CARGO_TARGET_DIR
    // elsewhere, and Chromium does not create the screenshot's directory.
    if let Some(dir) = shot.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let out = tokio::task::spawn_blocking({
        let arg = format!("--screenshot={}", shot.display());
        move || chromium(&[&arg, "--window-size=1280,1400", &url])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot is not a real PNG ({} bytes)",
        png.len()
    );
    println!("status page screenshot: {}", shot.display());
}
