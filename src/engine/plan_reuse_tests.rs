//! How a reload takes over what did not change (`Plan::build_after`).

use std::sync::Arc;

use crate::targets::Target;

/// A waiver, holding for five more days, of one found secret of check `s`.
fn secret_waiver_of_s() -> String {
    let expires = crate::clock::date_of(crate::clock::unix_now() + 5 * 86_400);
    format!("waivers:\n  - {{ check: s, finding: {{ secret: \"a:b:c\" }}, reason: r, owner: o, expires: \"{expires}\" }}\n")
}

/// A reload takes over unchanged targets (their clients and pools) and
/// unchanged checks (the very same check), and rebuilds the rest.
#[test]
fn a_reload_takes_over_what_did_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let write = |web_timeout: &str, db_url: &str, path: &str| {
        std::fs::write(
            &config,
            format!(
                r#"
targets:
  web: {{ http: {{ url: "http://127.0.0.1:1" }} }}
  db: {{ postgres: {{ url: "{db_url}" }} }}
checks:
  - {{ name: same, kind: http, target: web, params: {{ url: /a }} }}
  - {{ name: edited, kind: http, target: web, timeout: {web_timeout}, params: {{ url: /b }} }}
  - {{ name: on_db, kind: postgres_connections, target: db }}
  - {{ name: params_edited, kind: http, target: web, params: {{ url: {path}, expected_status: [200] }} }}
"#
            ),
        )
        .unwrap();
    };
    write("5s", "postgres://m@127.0.0.1:1/a", "/c");
    let mut first = super::load_plan(&config).unwrap();
    // Released (as the daemon does), a check keeps only its params' digest.
    first.release_params();
    assert!(first.check("same").unwrap().spec.params.is_released());
    write("6s", "postgres://m@127.0.0.1:1/b", "/d");
    let second = super::load_plan_reusing(&config, Some(&first)).unwrap();
    let http = |p: &super::Plan| match &p.targets["web"] {
        Target::Http(h) => h.clone(),
        other => panic!("{other:?}"),
    };
    assert!(Arc::ptr_eq(&http(&first), &http(&second)));
    assert!(Arc::ptr_eq(
        first.check("same").unwrap(),
        second.check("same").unwrap()
    ));
    assert!(!Arc::ptr_eq(
        first.check("edited").unwrap(),
        second.check("edited").unwrap()
    ));
    // Only its params changed (compared by digest): rebuilt.
    assert!(!Arc::ptr_eq(
        first.check("params_edited").unwrap(),
        second.check("params_edited").unwrap()
    ));
    // Its target changed, so the check on it is rebuilt.
    assert!(!Arc::ptr_eq(
        first.check("on_db").unwrap(),
        second.check("on_db").unwrap()
    ));
}

/// A check whose params were released is taken over by a reload with
/// its secret waiver, which needs its `fingerprint_key_file` param.
#[test]
fn a_released_check_keeps_its_secret_waiver_over_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "a fingerprint key of enough length").unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "checks:\n  - {{ name: s, kind: hardcoded_secrets, params: {{ dir: \"{}\", fingerprint_key_file: \"{}\" }} }}\n{}",
            dir.path().display(),
            key.display(),
            secret_waiver_of_s()
        ),
    )
    .unwrap();
    let mut first = super::load_plan(&config).unwrap();
    first.release_params();
    let second = super::load_plan_reusing(&config, Some(&first)).unwrap();
    assert!(Arc::ptr_eq(
        first.check("s").unwrap(),
        second.check("s").unwrap()
    ));
}

/// A reload that adds a secret waiver for a check without a fingerprint key
/// is refused, whether or not the previous plan released the check's params.
#[test]
fn a_secret_waiver_needs_a_fingerprint_key_across_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let check = format!(
        "checks:\n  - {{ name: s, kind: hardcoded_secrets, params: {{ dir: \"{}\" }} }}\n",
        dir.path().display()
    );
    std::fs::write(&config, &check).unwrap();
    let mut first = super::load_plan(&config).unwrap();
    first.release_params();
    std::fs::write(&config, format!("{check}{}", secret_waiver_of_s())).unwrap();
    let refused = super::load_plan_reusing(&config, Some(&first))
        .expect_err("the reload was accepted")
        .to_string();
    assert!(
        refused.contains("has no params.fingerprint_key_file"),
        "{refused}"
    );
}

/// A reload rebuilds a check when a file its kind declares (`KindInfo::files`,
/// here the nested `credential.password_file` of `authorization`) changed,
/// and takes it over when none did.
#[test]
fn a_reload_rebuilds_a_check_whose_declared_file_changed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let secret = dir.path().join("low.pass");
    std::fs::write(&secret, "first").unwrap();
    std::fs::write(
        &config,
        format!(
            "targets:\n  web: {{ http: {{ url: \"http://127.0.0.1:1\" }} }}\nchecks:\n  - {{ name: authz, kind: authorization, target: web, params: {{ urls: [/admin], credential: {{ username: u, password_file: \"{}\" }} }} }}\n",
            secret.display()
        ),
    )
    .unwrap();
    let first = super::load_plan(&config).unwrap();
    let same = super::load_plan_reusing(&config, Some(&first)).unwrap();
    assert!(Arc::ptr_eq(&first.checks[0], &same.checks[0]));
    std::fs::write(&secret, "second").unwrap();
    let rebuilt = super::load_plan_reusing(&config, Some(&same)).unwrap();
    assert!(!Arc::ptr_eq(&same.checks[0], &rebuilt.checks[0]));
}
