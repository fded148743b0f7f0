//! `hardcoded_secrets` against trees built in temp dirs: built-in rules, what
//! is skipped, git awareness, gitleaks configs and ignore files, timeouts.

use crate::support::tree::{git_init, write};
use crate::support::{assert_state, by, run_checks, validate};

const STRIPE: &str = "sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs";
const AWS_ID: &str = "AKIAZ2QWERTY7UIOPASD";
const GITHUB: &str = "ghp_R4nd0mT0k3nV4lu3W1thThirtySixChars01";

/// Partial evidence never certifies: a tree whose only secret sits in a file
/// that was skipped is at best `warn`, a tree where nothing was scanned is
/// `error`; unquoted `.env`/YAML/properties secrets are found.
#[test]
fn hardcoded_secrets_never_pass_on_what_they_skipped() {
    let skipped = tempfile::tempdir().unwrap();
    write(skipped.path(), "src/app.py", "print('hello')\n");
    write(
        skipped.path(),
        "dump/big.sql",
        format!("{}\nstripe_key = \"{STRIPE}\"\n", "-- x\n".repeat(400_000)),
    );
    let only_binary = tempfile::tempdir().unwrap();
    write(only_binary.path(), "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00");
    let empty = tempfile::tempdir().unwrap();
    let unquoted = tempfile::tempdir().unwrap();
    write(
        unquoted.path(),
        ".env",
        "DB_HOST=db\nDB_PASSWORD=q7Zp2LwR4xKd9VmT\n",
    );
    write(
        unquoted.path(),
        "config/application.properties",
        "spring.datasource.password=Zx8vQ2mL7pK3nR5t\n",
    );
    let r = run_checks(
        &format!(
            "checks:
  - {{ name: skipped_warn, kind: hardcoded_secrets, params: {{ dir: \"{s}\" }} }}
  - {{ name: skipped_strict, kind: hardcoded_secrets, params: {{ dir: \"{s}\", on_unscanned: error }} }}
  - {{ name: skipped_excluded, kind: hardcoded_secrets, params: {{ dir: \"{s}\", allowlist: {{ paths: ['^dump/'] }} }} }}
  - {{ name: binary_only, kind: hardcoded_secrets, params: {{ dir: \"{b}\" }} }}
  - {{ name: empty, kind: hardcoded_secrets, params: {{ dir: \"{e}\" }} }}
  - {{ name: unquoted, kind: hardcoded_secrets, params: {{ dir: \"{u}\" }} }}
",
            s = skipped.path().display(),
            b = only_binary.path().display(),
            e = empty.path().display(),
            u = unquoted.path().display(),
        ),
        &[],
    );
    r.expect_states(&[
        (
            "skipped_warn",
            "warn",
            "1 file(s) were not scanned (1 over max_file_size",
        ),
        ("skipped_strict", "error", "1 file(s) were not scanned"),
        ("skipped_excluded", "pass", "no secrets in 1 file(s)"),
        ("binary_only", "error", "no file was scanned"),
        ("empty", "error", "no file was scanned"),
        ("unquoted", "fail", "2 secret(s) found"),
    ]);
    let text = by(&r, "unquoted").doc.to_string();
    assert!(!text.contains("q7Zp2LwR4xKd9VmT") && !text.contains("Zx8vQ2mL7pK3nR5t"));
}

#[test]
fn hardcoded_secrets_in_a_real_tree() {
    let dirty = tempfile::tempdir().unwrap();
    let d = dirty.path();
    write(
        d,
        "src/payments.py",
        format!("import stripe\nstripe.api_key = \"{STRIPE}\"\n"),
    );
    write(d, ".env", format!("AWS_ACCESS_KEY_ID={AWS_ID}\n"));
    write(d, "deploy/key.pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBf3kq9Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7AAAAJjTUNJ01NTS\nNAAAAAtzc2gtZWQyNTUxOQAAACBf3kq9Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7\n-----END OPENSSH PRIVATE KEY-----\n");
    write(d, ".gitignore", "ignored/\n");
    write(d, "ignored/secret.txt", format!("token: {GITHUB}\n"));
    write(d, "fixtures/known.txt", format!("GITHUB_TOKEN={GITHUB}\n"));
    let mut binary = b"\x00\x01binary".to_vec();
    binary.extend_from_slice(STRIPE.as_bytes());
    write(d, "bin/blob.dat", binary);
    write(d, "big/one-line.txt", "x".repeat(3 * 1024 * 1024));
    std::os::unix::fs::symlink(d, d.join("src/loop")).unwrap();
    write(
        d,
        "README.md",
        "password = \"changeme\"\nDATABASE_URL=postgres://app:${DB_PASSWORD}@db/app\n",
    );
    // .gitignore rules count only inside a git work tree.
    git_init(d);

    let clean = tempfile::tempdir().unwrap();
    write(
        clean.path(),
        "src/main.rs",
        "fn main() { let token = std::env::var(\"TOKEN\"); }\n",
    );
    write(
        clean.path(),
        ".env.example",
        "API_TOKEN=${API_TOKEN}\nSECRET=changeme\n",
    );

    let config = |extra: &str| {
        format!(
            "checks:\n  - {{ name: dirty, kind: hardcoded_secrets, params: {{ dir: \"{}\"{extra} }} }}\n  - {{ name: clean, kind: hardcoded_secrets, params: {{ dir: \"{}\" }} }}\n",
            d.display(),
            clean.path().display()
        )
    };
    let r = run_checks(&config(""), &[]);
    let dirty_result = by(&r, "dirty");
    assert_state(dirty_result, "fail", "4 secret(s) found");
    let findings: Vec<(String, String)> = dirty_result
        .findings()
        .into_iter()
        .map(|(file, rule, _)| (file, rule))
        .collect();
    assert_eq!(
        findings,
        [
            (".env".to_owned(), "aws-access-key-id".to_owned()),
            ("deploy/key.pem".to_owned(), "private-key".to_owned()),
            ("fixtures/known.txt".to_owned(), "github-token".to_owned()),
            ("src/payments.py".to_owned(), "stripe-key".to_owned()),
        ]
    );
    assert_eq!(dirty_result.doc["evidence"]["skipped_binary"], 1);
    assert_eq!(dirty_result.doc["evidence"]["skipped_too_large"], 1);
    let text = dirty_result.doc.to_string() + &dirty_result.message;
    for secret in [STRIPE, AWS_ID, GITHUB] {
        assert!(!text.contains(secret), "a finding leaks {secret}");
    }
    assert_state(by(&r, "clean"), "pass", "no secrets in 2 file(s)");

    // Allowlist a path, and baseline the GitHub finding by its fingerprint.
    let fingerprint = dirty_result.doc["evidence"]["findings"][2]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let baseline = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(baseline.path(), format!("# accepted\n{fingerprint}\n")).unwrap();
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), "k3y-for-fingerprints-0123456789\n").unwrap();
    let with_baseline = |key_file: &str| {
        config(&format!(
            ", allowlist: {{ paths: ['^deploy/'], baseline: \"{}\" }}{key_file}",
            baseline.path().display()
        ))
    };
    // A baseline holds keyed fingerprints (they follow the secret when lines
    // move): it needs the key file.
    let (code, out) = validate(&with_baseline(""), &[]);
    assert_eq!(code, 2);
    assert!(
        out.contains("field params.allowlist.baseline: needs params.fingerprint_key_file"),
        "{out}"
    );
    let other_run = by(&run_checks(&config(""), &[]), "dirty").doc["evidence"]["findings"][2]
        ["fingerprint"]
        .clone();
    // Without a key, fingerprints are gitleaks' `path:rule:line`: the same
    // in every run (SARIF consumers and reports see the same finding).
    assert_eq!(other_run.as_str(), Some(fingerprint.as_str()));
    assert_eq!(fingerprint, "fixtures/known.txt:github-token:1");
    // With a key file they are stable across processes: baseline one.
    let keyed = format!(", fingerprint_key_file: \"{}\"", key.path().display());
    let first = by(&run_checks(&config(&keyed), &[]), "dirty").doc["evidence"]["findings"][2]
        ["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(baseline.path(), format!("# accepted\n{first}\n")).unwrap();
    let r = run_checks(&with_baseline(&keyed), &[]);
    assert_state(by(&r, "dirty"), "fail", "2 secret(s) found");
    assert_eq!(by(&r, "dirty").doc["evidence"]["baselined"], 1);

    // Outside a git work tree a .gitignore hides nothing.
    std::fs::remove_dir_all(d.join(".git")).unwrap();
    let r = run_checks(&config(""), &[]);
    assert_state(by(&r, "dirty"), "fail", "5 secret(s) found");
    assert!(by(&r, "dirty").doc["evidence"]["findings"]
        .to_string()
        .contains("ignored/secret.txt"));

    // A custom rule, and a missing directory.
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: custom, kind: hardcoded_secrets, params: {{ dir: \"{}\", disable_rules: [stripe-key, aws-access-key-id, private-key, github-token], rules: [{{ id: acme-key, regex: 'stripe\\.api_key = \"([^\"]+)\"', keywords: [api_key], secret_group: 1, examples: ['stripe.api_key = \"abc\"'] }}] }} }}\n  - {{ name: missing, kind: hardcoded_secrets, params: {{ dir: /nonexistent/tree }} }}\n",
            d.display()
        ),
        &[],
    );
    r.expect_states(&[
        ("custom", "fail", "src/payments.py:2 (acme-key)"),
        ("missing", "error", "cannot read /nonexistent/tree"),
    ]);
}

/// A scan that times out stops: the blocking walk sees that nobody waits any
/// more and quits at its next file, so a gate run with a short timeout ends
/// long before the full scan would have.
#[test]
fn a_timed_out_scan_stops_instead_of_running_on() {
    let tree = tempfile::tempdir().unwrap();
    let body = "password = \"x\"\napi_key = get()\ntoken = 1\n".repeat(40);
    for d in 0..40 {
        for f in 0..200 {
            write(tree.path(), &format!("d{d}/f{f}.py"), &body);
        }
    }
    let config = |timeout: &str| {
        format!(
            "checks:\n  - {{ name: scan, kind: hardcoded_secrets, timeout: {timeout}, params: {{ dir: \"{}\" }} }}\n",
            tree.path().display()
        )
    };
    // Both runs pay the same start-up (a process, the config): compare
    // what the short timeout saves against the scan's own time.
    let started = std::time::Instant::now();
    let full = run_checks(&config("50s"), &[]);
    let full_wall = started.elapsed().as_secs_f64();
    let full_seconds = full.get("scan").doc["evidence"]["scan_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        full_seconds > 0.5,
        "the tree scans too fast to tell: {full_seconds}s"
    );
    let started = std::time::Instant::now();
    let cut = run_checks(&config("100ms"), &[]);
    let wall = started.elapsed().as_secs_f64();
    cut.expect_states(&[("scan", "error", "timed out after 100ms")]);
    assert!(
        wall < full_wall - full_seconds / 2.0,
        "the gate took {wall:.2}s with a 100ms timeout, {full_wall:.2}s without (the scan {full_seconds:.2}s of it)"
    );
}

/// A team's gitleaks config and `.gitleaksignore` drive the scan: rules of
/// its own (one path-only), extended default rules with allowlists, global
/// allowlists, `disabledRules` by gitleaks' default ids, inline
/// `gitleaks:allow`; a broken config or ignore file is an error, not a pass.
#[test]
fn hardcoded_secrets_follow_a_gitleaks_config_and_ignore_file() {
    let tree = tempfile::tempdir().unwrap();
    let d = tree.path();
    write(
        d,
        "app/settings.py",
        format!("STRIPE = \"{STRIPE}\"\nACME = \"acme_live_9f8e7d6c5b4a3210\"\n"),
    );
    write(
        d,
        "app/test_settings.py",
        "ACME = \"acme_live_0123456789abcdef\"\n",
    );
    write(
        d,
        "app/allowed.py",
        format!("STRIPE = \"{STRIPE}\"  # gitleaks:allow\n"),
    );
    write(d, "certs/client.p12", b"\x30\x82\x01\x00binary");
    write(
        d,
        ".env",
        format!("GITHUB_TOKEN={GITHUB}\nAWS_ACCESS_KEY_ID={AWS_ID}\n"),
    );
    write(d, "docs/example.md", "password = \"Zx8vQ2mL7pK3nR5tQ9\"\n");
    let rules = tempfile::tempdir().unwrap();
    let base = rules.path().join("base.toml");
    std::fs::write(
        &base,
        r#"
title = "org-wide rules"
[extend]
useDefault = true
disabledRules = ["aws-access-token"]

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''acme_live_([0-9a-f]{16})'''
keywords = ["acme_live_"]
entropy = 2.0
    [[rules.allowlists]]
    description = "test fixtures hold fake keys"
    paths = ['''(^|/)test_[^/]*\.py$''']

[[rules]]
id = "pkcs12-file"
description = "PKCS#12 archive"
path = '''\.p12$'''
"#,
    )
    .unwrap();
    let team = rules.path().join("gitleaks.toml");
    std::fs::write(
        &team,
        r#"
[extend]
path = "base.toml"

# gitleaks' default id for GitHub tokens: extends the built-in rule.
[[rules]]
id = "github-pat"
    [[rules.allowlists]]
    regexTarget = "line"
    regexes = ['''^GITHUB_TOKEN=''']

[[allowlists]]
description = "docs show made-up passwords"
targetRules = ["generic-api-key"]
paths = ['''^docs/''']
"#,
    )
    .unwrap();
    let own_only = rules.path().join("own-only.toml");
    std::fs::write(
        &own_only,
        "[[rules]]\nid = \"acme-api-key\"\nregex = '''acme_live_[0-9a-f]{16}'''\nkeywords = [\"acme_live_\"]\n",
    )
    .unwrap();
    let broken = rules.path().join("broken.toml");
    std::fs::write(&broken, "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n").unwrap();
    let composite = rules.path().join("composite.toml");
    std::fs::write(
        &composite,
        "[[rules]]\nid = \"x\"\nregex = '''x'''\n[[rules.required]]\nid = \"y\"\n",
    )
    .unwrap();
    let check = |name: &str, extra: &str| {
        format!(
            "  - {{ name: {name}, kind: hardcoded_secrets, params: {{ dir: \"{}\"{extra} }} }}\n",
            d.display()
        )
    };
    let config = format!(
        "checks:\n{}{}",
        check(
            "team",
            &format!(", gitleaks_config: \"{}\"", team.display())
        ),
        check(
            "own_only",
            &format!(", gitleaks_config: \"{}\"", own_only.display())
        ),
    );
    let r = run_checks(&config, &[]);
    let team_result = by(&r, "team");
    let found: Vec<String> = team_result
        .findings()
        .into_iter()
        .map(|(file, rule, line)| format!("{file}:{rule}:{line}"))
        .collect();
    assert_eq!(
        found,
        [
            ".env:generic-unquoted-secret-assignment:1",
            ".env:generic-unquoted-secret-assignment:2",
            "app/settings.py:stripe-key:1",
            "app/settings.py:acme-api-key:2",
            "certs/client.p12:pkcs12-file:0",
        ],
        "aws-access-key-id disabled by its gitleaks id (the generic rule still sees the key), the GitHub token allowlisted for its own rule only (as in gitleaks, the generic rule then reports the line), docs allowlisted, test fixtures allowed, gitleaks:allow honoured"
    );
    assert_state(team_result, "fail", "certs/client.p12 (pkcs12-file)");
    assert_eq!(team_result.doc["evidence"]["inline_allowed"], 1);
    // Without useDefault only the config's own rules run.
    let own: Vec<String> = by(&r, "own_only").doc["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(own, ["acme-api-key", "acme-api-key"]);

    // .gitleaksignore at the root, with fingerprints as gitleaks prints them.
    write(
        d,
        ".gitleaksignore",
        format!(
            "# reviewed 2026-11\napp/settings.py:stripe-key:1\n0123456789abcdef0123456789abcdef01234567:app/settings.py:acme-api-key:2\ncerts/client.p12:pkcs12-file:0\n./.env:generic-api-key:1\n.env:generic-api-key:2\n{}/app/settings.py:stripe-key:1\n",
            d.display()
        ),
    );
    let r = run_checks(&config, &[]);
    let ignored = by(&r, "team");
    // The binary .p12 is still unscanned content: never a pass.
    assert_state(ignored, "warn", "no secrets in");
    // Paths are relative to the scanned root: the absolute entry ignores nothing.
    assert_eq!(ignored.doc["evidence"]["gitleaksignored"], 5);
    // What the tree's own file dropped is visible: listed as waived with
    // its source, and counted in the message.
    let waived = ignored.doc["evidence"]["waived_findings"]
        .as_array()
        .unwrap();
    let from_tree = waived
        .iter()
        .filter(|w| w["waiver"]["source"] == ".gitleaksignore")
        .count();
    assert_eq!(from_tree, 5, "{waived:?}");
    assert!(
        ignored.message.contains("5 ignored by .gitleaksignore"),
        "{}",
        ignored.message
    );

    write(d, ".gitleaksignore", "app/settings.py:stripe-key\n");
    let r = run_checks(
        &format!(
            "checks:\n{}{}",
            check(
                "team",
                &format!(", gitleaks_config: \"{}\"", team.display())
            ),
            check(
                "missing_ignore",
                ", gitleaks_ignore: /nonexistent/.gitleaksignore"
            ),
        ),
        &[],
    );
    r.expect_states(&[
        ("team", "error", ".gitleaksignore: line 1"),
        ("missing_ignore", "error", "/nonexistent/.gitleaksignore"),
    ]);

    for (file, message) in [
        (&broken, "broken.toml: rules[0] (x): invalid regex"),
        (&composite, "requires rule \"y\", which does not exist"),
    ] {
        let (code, out) = validate(
            &format!(
                "checks:\n{}",
                check("bad", &format!(", gitleaks_config: \"{}\"", file.display()))
            ),
            &[],
        );
        assert_eq!(code, 2);
        assert!(out.contains(message), "{out}");
    }
}
