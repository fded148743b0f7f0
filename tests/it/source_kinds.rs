//! The source and artifact kinds against trees built in temp dirs: secrets,
//! lockfiles and a local advisory database (fixtures written from public
//! advisories), docs, drill records, config schemas, JUnit reports, releases.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::{assert_state, by, run_checks, run_ok, validate, Results};

fn write(root: &Path, rel: &str, body: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn age(path: &Path, by: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

const STRIPE: &str = "sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs";
const AWS_ID: &str = "AKIAZ2QWERTY7UIOPASD";
const GITHUB: &str = "ghp_R4nd0mT0k3nV4lu3W1thThirtySixChars01";

fn git_init(dir: &Path) {
    run_ok(
        std::process::Command::new(crate::support::require_binary("git"))
            .args(["init", "-q"])
            .arg(dir),
    );
}

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
    write(d, "deploy/key.pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
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
    let findings: Vec<(String, String)> = dirty_result.doc["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
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
    // Fingerprints are keyed: without a key file each process draws its own
    // key, so a baseline cannot be used.
    let (code, out) = validate(&with_baseline(""), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("field params.allowlist.baseline: needs params.fingerprint_key_file"),
        "{out}"
    );
    let other_run = by(&run_checks(&config(""), &[]), "dirty").doc["evidence"]["findings"][2]
        ["fingerprint"]
        .clone();
    assert_ne!(other_run.as_str(), Some(fingerprint.as_str()));
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

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories")
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn dependency_vulnerabilities_against_a_local_advisory_db() {
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(p, "Cargo.lock", "version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\n");
    write(
        p,
        "web/package-lock.json",
        r#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/lodash": {"version": "4.17.15"}}}"#,
    );
    write(
        p,
        "api/requirements.txt",
        "requests==2.25.1\nflask==2.3.3\n",
    );
    let safe = tempfile::tempdir().unwrap();
    write(safe.path(), "Cargo.lock", "version = 3\n[[package]]\nname = \"time\"\nversion = \"0.2.23\"\n[[package]]\nname = \"time\"\nversion = \"0.2.3\"\n");
    write(
        safe.path(),
        "package-lock.json",
        r#"{"lockfileVersion": 2, "packages": {"node_modules/lodash": {"version": "4.17.21"}}}"#,
    );
    let db = fixtures();
    // The npm advisory again, as the per-ecosystem zip OSV publishes.
    let zipped = tempfile::tempdir().unwrap();
    {
        let file = std::fs::File::create(zipped.path().join("all.zip")).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file(
            "GHSA-p6mc-m468-83gw.json",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(
            &mut zip,
            &std::fs::read(db.join("osv/npm/GHSA-p6mc-m468-83gw.json")).unwrap(),
        )
        .unwrap();
        zip.finish().unwrap();
    }
    let stale = tempfile::tempdir().unwrap();
    copy_tree(&db, stale.path());
    for f in [
        "rustsec/crates/time/RUSTSEC-2020-0071.md",
        "osv/npm/GHSA-p6mc-m468-83gw.json",
        "osv/pypi/GHSA-j8r2-6x86-q33q.json",
    ] {
        age(&stale.path().join(f), Duration::from_secs(30 * 86_400));
    }
    let broken = tempfile::tempdir().unwrap();
    write(
        broken.path(),
        "Cargo.lock",
        "version = 3\n[[package]]\nname = \"time\"\nversi",
    );
    let binary = tempfile::tempdir().unwrap();
    write(
        binary.path(),
        "Cargo.lock",
        b"\x7fELF\x00\x00\xff\xfe binary",
    );
    let bad_db = tempfile::tempdir().unwrap();
    write(
        bad_db.path(),
        "osv/bad.json",
        "{\"id\": \"X\", \"affected\": [",
    );
    let empty = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
checks:
  - {{ name: vulnerable, kind: dependency_vulnerabilities, params: {{ dir: "{p}", advisory_db: "{db}" }} }}
  - {{ name: tolerant, kind: dependency_vulnerabilities, params: {{ dir: "{p}", advisory_db: "{db}", max: {{ critical: 0, high: 1, moderate: 2 }} }} }}
  - {{ name: patched, kind: dependency_vulnerabilities, params: {{ dir: "{safe}", advisory_db: "{db}" }} }}
  - {{ name: zipped, kind: dependency_vulnerabilities, params: {{ dir: "{p}", lockfiles: [web/package-lock.json], advisory_db: "{zipped}" }} }}
  - {{ name: stale_db, kind: dependency_vulnerabilities, params: {{ dir: "{safe}", advisory_db: "{stale}" }} }}
  - {{ name: truncated, kind: dependency_vulnerabilities, params: {{ dir: "{broken}", advisory_db: "{db}" }} }}
  - {{ name: binary, kind: dependency_vulnerabilities, params: {{ dir: "{binary}", advisory_db: "{db}" }} }}
  - {{ name: bad_advisory, kind: dependency_vulnerabilities, params: {{ dir: "{safe}", advisory_db: "{bad_db}" }} }}
  - {{ name: no_lockfile, kind: dependency_vulnerabilities, params: {{ dir: "{empty}", advisory_db: "{db}" }} }}
"#,
        p = p.display(),
        db = db.display(),
        safe = safe.path().display(),
        zipped = zipped.path().display(),
        stale = stale.path().display(),
        broken = broken.path().display(),
        binary = binary.path().display(),
        bad_db = bad_db.path().display(),
        empty = empty.path().display(),
    );
    let r = run_checks(&config, &[]);
    let v = by(&r, "vulnerable");
    assert_state(v, "fail", "1 high (limit 0)");
    assert!(
        v.message
            .contains("lodash@4.17.15 (GHSA-p6mc-m468-83gw, high)"),
        "{}",
        v.message
    );
    assert_eq!(
        v.doc["evidence"]["counts"]["moderate"], 2,
        "time (RUSTSEC, CVSS 5.9) and requests (MODERATE)"
    );
    assert_eq!(v.doc["observed"], 3.0);
    r.expect_states(&[
        ("tolerant", "pass", "1 high, 2 moderate within limits"),
        ("patched", "pass", "none vulnerable"),
        ("zipped", "fail", "GHSA-p6mc-m468-83gw"),
        ("stale_db", "warn", "the advisory database is"),
        ("truncated", "error", "Cargo.lock: invalid TOML"),
        ("binary", "error", "not UTF-8 text"),
        ("bad_advisory", "error", "bad.json: invalid JSON"),
        ("no_lockfile", "error", "no lockfile found"),
    ]);
}

/// Runs `checks` (YAML lines) against a `repo` path target at `dir`.
fn run_on_repo(dir: &Path, checks: &str) -> Results {
    run_checks(
        &format!(
            "targets:\n  repo: {{ path: \"{}\" }}\nchecks:\n{checks}",
            dir.display()
        ),
        &[],
    )
}

fn today() -> String {
    prodready_exporter::clock::date_of(prodready_exporter::clock::unix_now())
}

/// What the database cannot speak for is never "none vulnerable": another
/// ecosystem's advisories, an unparsable version, a lockfile without
/// packages; an unrated advisory fails under the default limits.
#[test]
fn dependency_vulnerabilities_never_pass_on_what_they_could_not_check() {
    let db = fixtures();
    let npm_only = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(npm_only.path().join("osv/npm")).unwrap();
    copy_tree(&db.join("osv/npm"), &npm_only.path().join("osv/npm"));
    let cargo = tempfile::tempdir().unwrap();
    write(
        cargo.path(),
        "Cargo.lock",
        "version = 3\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\n",
    );
    let odd_version = tempfile::tempdir().unwrap();
    write(odd_version.path(), "requirements.txt", "requests==latest\n");
    let no_packages = tempfile::tempdir().unwrap();
    write(
        no_packages.path(),
        "package-lock.json",
        r#"{"lockfileVersion": 3, "packages": {"": {"name": "empty-app"}}}"#,
    );
    let unrated = tempfile::tempdir().unwrap();
    write(
        unrated.path(),
        "osv/crates/UNRATED-1.json",
        r#"{"id": "UNRATED-1", "modified": "2026-11-01T00:00:00Z", "affected": [{"package": {"ecosystem": "crates.io", "name": "serde"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.200"}]}]}]}"#,
    );
    let r = run_checks(
        &format!(
            r#"
checks:
  - {{ name: other_ecosystem, kind: dependency_vulnerabilities, params: {{ dir: "{cargo}", advisory_db: "{npm_only}" }} }}
  - {{ name: odd_version, kind: dependency_vulnerabilities, params: {{ dir: "{odd}", advisory_db: "{db}" }} }}
  - {{ name: no_packages, kind: dependency_vulnerabilities, params: {{ dir: "{none}", advisory_db: "{db}" }} }}
  - {{ name: unrated, kind: dependency_vulnerabilities, params: {{ dir: "{cargo}", advisory_db: "{unrated}" }} }}
  - {{ name: unrated_tolerated, kind: dependency_vulnerabilities, params: {{ dir: "{cargo}", advisory_db: "{unrated}", max: {{ unknown: 1 }} }} }}
"#,
            cargo = cargo.path().display(),
            npm_only = npm_only.path().display(),
            odd = odd_version.path().display(),
            db = db.display(),
            none = no_packages.path().display(),
            unrated = unrated.path().display(),
        ),
        &[],
    );
    r.expect_states(&[
        (
            "other_ecosystem",
            "error",
            "no advisory for the ecosystem of Cargo.lock (crates.io)",
        ),
        (
            "odd_version",
            "warn",
            "requests@latest (GHSA-j8r2-6x86-q33q)",
        ),
        ("no_packages", "error", "list no package"),
        ("unrated", "fail", "1 unknown (limit 0)"),
        ("unrated_tolerated", "pass", "1 unknown within limits"),
    ]);
}

#[test]
fn documentation_requires_files_headings_and_recent_reviews() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let today = today();
    write(
        d,
        "README.md",
        format!("---\nlast_reviewed: {today}\n---\n# Shop\n## Installation\n## Usage\n"),
    );
    write(d, "docs/runbooks/database.md", "# Database failover\n");
    write(
        d,
        "docs/incident-response.md",
        "---\nlast_reviewed: 2024-01-01\n---\n# Incident response\n## Escalation\n",
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: docs_ok, kind: documentation, target: repo, params: { required: [{ path: README.md, headings: [Installation, usage] }, { path: docs/runbooks }] } }
  - { name: docs_bad, kind: documentation, target: repo, params: { required: [{ path: README.md, headings: [Rollback] }, { path: docs/incident-response.md }, { path: docs/capacity.md }] } }
"#,
    );
    r.expect_states(&[
        ("docs_ok", "pass", "2 document(s) present"),
        (
            "docs_bad",
            "fail",
            "README.md lacks heading(s) \"Rollback\"",
        ),
    ]);
    let bad = &by(&r, "docs_bad").message;
    assert!(
        bad.contains(
            "docs/incident-response.md last reviewed 2024-01-01 (last_reviewed front matter)"
        ),
        "{bad}"
    );
    assert!(bad.contains("docs/capacity.md is missing"), "{bad}");
    assert_eq!(by(&r, "docs_ok").doc["source"], "measured");
}

#[test]
fn attestation_judges_drill_records() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let today = today();
    write(d, "drills/restore.yaml", format!("drill: restore_test\nperformed_at: {today}\nowner: alice\nevidence_url: https://wiki.example.com/drills/42\n"));
    write(d, "drills/failover.yaml", "drill: failover_drill\nperformed_at: 2024-01-01\nowner: bob\nevidence_url: https://wiki.example.com/drills/7\n");
    write(d, "drills/broken.yaml", "performed_at: [unclosed\n");
    write(
        d,
        "drills/incomplete.yaml",
        "drill: capacity_review\nperformed_at: 2026-01-01\n",
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: restore_drill, kind: attestation, target: repo, params: { file: drills/restore.yaml, max_age: 90d, drill: restore_test } }
  - { name: failover_drill, kind: attestation, target: repo, params: { file: drills/failover.yaml, max_age: 90d } }
  - { name: never_drilled, kind: attestation, target: repo, params: { file: drills/rollback.yaml, max_age: 90d } }
  - { name: broken_record, kind: attestation, target: repo, params: { file: drills/broken.yaml, max_age: 90d } }
  - { name: incomplete_record, kind: attestation, target: repo, params: { file: drills/incomplete.yaml, max_age: 900d } }
"#,
    );
    r.expect_states(&[
        ("restore_drill", "pass", "restore_test performed"),
        (
            "failover_drill",
            "fail",
            "failover_drill last performed 2024-01-01 by bob",
        ),
        ("never_drilled", "fail", "the drill was never recorded"),
        ("broken_record", "fail", "cannot be parsed"),
        ("incomplete_record", "fail", "lacks owner, evidence_url"),
    ]);
    assert_eq!(by(&r, "restore_drill").doc["source"], "attestation");
}

#[test]
fn config_schema_validates_files_and_required_env_without_echoing_values() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "config/app.yaml",
        "port: 8080\ndatabase:\n  url: postgres://app:VerySecret-771@db/app\n",
    );
    write(
        d,
        "config/bad.json",
        "{\"port\": \"eighty\", \"database\": {\"url\": \"VerySecret-771\"}}",
    );
    write(
        d,
        "config/app.toml",
        "port = 8080\n[database]\nurl = \"x\"\n",
    );
    write(
        d,
        "config/schema.json",
        r#"{"type": "object", "required": ["port", "database"], "properties": {"port": {"type": "integer"}, "database": {"type": "object", "required": ["url"]}}}"#,
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: schema_ok, kind: config_schema, target: repo, params: { files: [{ path: config/app.yaml, schema: config/schema.json }, { path: config/app.toml, schema: config/schema.json }], required_env: [PATH] } }
  - { name: schema_bad, kind: config_schema, target: repo, params: { files: [{ path: config/bad.json, schema: config/schema.json }], required_env: [UNSET_VAR_FOR_TEST_8812] } }
"#,
    );
    r.expect_states(&[
        ("schema_ok", "pass", "2 file(s) valid"),
        ("schema_bad", "fail", "/port: violates `type`"),
    ]);
    let schema_bad = by(&r, "schema_bad");
    assert!(
        schema_bad.message.contains("UNSET_VAR_FOR_TEST_8812"),
        "{}",
        schema_bad.message
    );
    assert!(
        !schema_bad.doc.to_string().contains("VerySecret-771")
            && !schema_bad.message.contains("eighty")
    );
}

#[test]
fn test_report_reads_junit_files() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "reports/unit.xml",
        r#"<?xml version="1.0"?><testsuites><testsuite name="unit" tests="3"><testcase classname="cart" name="adds"/><testcase classname="cart" name="removes"/><testcase classname="cart" name="slow"><skipped/></testcase></testsuite></testsuites>"#,
    );
    write(
        d,
        "failing/junit.xml",
        r#"<testsuite name="it" tests="2"><testcase classname="api" name="login"><failure message="401">expected 200</failure></testcase><testcase classname="api" name="logout"/></testsuite>"#,
    );
    write(d, "notxml/junit.xml", "this is not xml");
    write(
        d,
        "skipped/junit.xml",
        r#"<testsuite tests="2"><testcase name="a"><skipped/></testcase><testcase name="b"><skipped/></testcase></testsuite>"#,
    );
    write(
        d,
        "stale/junit.xml",
        r#"<testsuite tests="1"><testcase name="ok"/></testsuite>"#,
    );
    age(&d.join("stale/junit.xml"), Duration::from_secs(3 * 86_400));
    let r = run_on_repo(
        d,
        r#"
  - { name: tests_ok, kind: test_report, target: repo, params: { reports: ["reports/*.xml"], min_tests: 2 } }
  - { name: tests_failing, kind: test_report, target: repo, params: { reports: [failing/junit.xml] } }
  - { name: tests_missing, kind: test_report, target: repo, params: { reports: ["nowhere/*.xml"] } }
  - { name: tests_garbage, kind: test_report, target: repo, params: { reports: [notxml/junit.xml] } }
  - { name: tests_stale, kind: test_report, target: repo, params: { reports: [stale/junit.xml] } }
  - { name: tests_all_skipped, kind: test_report, target: repo, params: { reports: [skipped/junit.xml] } }
"#,
    );
    r.expect_states(&[
        ("tests_ok", "pass", "2 test(s) passed (1 skipped)"),
        (
            "tests_failing",
            "fail",
            "1 failure(s) and 0 error(s): api::login",
        ),
        ("tests_missing", "error", "no JUnit report matches"),
        ("tests_garbage", "error", "not XML"),
        ("tests_stale", "fail", "newest report is 3d old"),
        (
            "tests_all_skipped",
            "fail",
            "only 0 test(s) ran (2 skipped), minimum 1",
        ),
    ]);
}

#[test]
fn rollback_ready_needs_a_previous_release_and_a_down_migration() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (rel, days) in [("releases/2026-11-01", 20), ("releases/2026-11-20", 5)] {
        std::fs::create_dir_all(d.join(rel)).unwrap();
        let f = std::fs::File::open(d.join(rel)).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
            .unwrap();
    }
    std::fs::create_dir_all(d.join("one_release/v1")).unwrap();
    write(
        d,
        "migrations/20240101000000_users.up.sql",
        "CREATE TABLE users ();",
    );
    write(
        d,
        "migrations/20240101000000_users.down.sql",
        "DROP TABLE users;",
    );
    write(
        d,
        "irreversible/20240101000000_users.sql",
        "CREATE TABLE users ();",
    );
    let r = run_on_repo(
        d,
        r#"
  - { name: rollback_ok, kind: rollback_ready, target: repo, params: { releases_dir: releases, migrations: { dir: migrations, tool: sqlx } } }
  - { name: rollback_single, kind: rollback_ready, target: repo, params: { releases_dir: one_release } }
  - { name: rollback_irreversible, kind: rollback_ready, target: repo, params: { releases_dir: releases, migrations: { dir: irreversible, tool: sqlx } } }
"#,
    );
    r.expect_states(&[
        (
            "rollback_ok",
            "pass",
            "2 release(s) present (newest 2026-11-20, previous 2026-11-01); newest migration",
        ),
        ("rollback_single", "fail", "1 release(s)"),
        (
            "rollback_irreversible",
            "fail",
            "has no down/revert migration",
        ),
    ]);
}

#[test]
fn documentation_falls_back_to_the_last_git_commit() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "RUNBOOK.md", "# Runbook\n");
    let git = |args: &[&str]| {
        run_ok(
            std::process::Command::new("git")
                .current_dir(d)
                .args(args)
                .env("GIT_AUTHOR_DATE", "2023-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2023-01-01T00:00:00Z"),
        );
    };
    git(&["init", "-q"]);
    git(&["add", "RUNBOOK.md"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "-m",
        "runbook",
    ]);
    let r = run_checks(
        &format!("checks:\n  - {{ name: d, kind: documentation, params: {{ dir: \"{}\", required: [{{ path: RUNBOOK.md }}] }} }}\n", d.display()),
        &[],
    );
    assert_state(
        by(&r, "d"),
        "fail",
        "RUNBOOK.md last reviewed 2023-01-01 (last git commit)",
    );
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
    let full = run_checks(&config("50s"), &[]);
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
        wall < full_seconds / 2.0,
        "the gate took {wall:.2}s with a 100ms timeout; the full scan takes {full_seconds:.2}s"
    );
}

fn sboms() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sbom")
}

/// Composer, Gradle, NuGet and Go modules against OSV advisories in their own
/// version schemes (a CVSS v4 vector rates one), go.mod's selection instead
/// of go.sum's every-version-looked-at, and SBOMs written by npm and
/// cyclonedx-py judged like lockfiles.
#[test]
fn dependency_vulnerabilities_read_jvm_php_go_and_sboms() {
    let db = tempfile::tempdir().unwrap();
    let d = db.path();
    write(
        d,
        "osv/maven/GHSA-jfh8-c2jp-5v3q.json",
        r#"{"id": "GHSA-jfh8-c2jp-5v3q", "modified": "2026-11-01T00:00:00Z", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}], "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}]}"#,
    );
    write(
        d,
        "osv/packagist/TEST-PKG-1.json",
        r#"{"id": "TEST-PKG-1", "modified": "2026-11-01T00:00:00Z", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}], "affected": [{"package": {"ecosystem": "Packagist", "name": "acme/http"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0-RC1"}]}]}, {"package": {"ecosystem": "Packagist", "name": "acme/lib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]}"#,
    );
    write(
        d,
        "osv/go/GO-2021-0113.json",
        r#"{"id": "GO-2021-0113", "modified": "2026-11-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/text"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.7"}]}]}]}"#,
    );
    write(
        d,
        "osv/nuget/GHSA-5crp-9r3c-p9vr.json",
        r#"{"id": "GHSA-5crp-9r3c-p9vr", "modified": "2026-11-01T00:00:00Z", "database_specific": {"severity": "HIGH"}, "affected": [{"package": {"ecosystem": "NuGet", "name": "Newtonsoft.Json"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "13.0.1"}]}]}]}"#,
    );
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    // The package id in another case than the advisory's: NuGet ignores case.
    write(
        p,
        "dotnet/packages.lock.json",
        r#"{"version": 1, "dependencies": {"net8.0": {"newtonsoft.json": {"type": "Direct", "requested": "[12.0.3, )", "resolved": "12.0.3"}, "App.Shared": {"type": "Project"}}}}"#,
    );
    write(
        p,
        "jvm/gradle.lockfile",
        "# This is a Gradle generated file for dependency locking.\ncom.google.guava:guava:31.1-jre=runtimeClasspath\norg.apache.logging.log4j:log4j-core:2.14.1=runtimeClasspath\nempty=annotationProcessor\n",
    );
    write(
        p,
        "php/composer.lock",
        r#"{"packages": [{"name": "acme/http", "version": "v1.9.0"}, {"name": "acme/lib", "version": "dev-main"}], "packages-dev": []}"#,
    );
    // go.sum lists v0.3.6 (looked at), go.mod selects v0.3.7 (fixed).
    write(
        p,
        "go/go.mod",
        "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.7 // indirect\n",
    );
    write(
        p,
        "go/go.sum",
        "golang.org/x/text v0.3.6/go.mod h1:5Zoc/QRtKVWzQhOtBMvqHzDpF6irO9z98xDceosuGiQ=\ngolang.org/x/text v0.3.7 h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=\n",
    );
    let old_go = tempfile::tempdir().unwrap();
    write(
        old_go.path(),
        "go.mod",
        "module example.com/old\ngo 1.16\nrequire golang.org/x/net v0.1.0\n",
    );
    write(
        old_go.path(),
        "go.sum",
        "golang.org/x/text v0.3.6 h1:aRYxNxv6iGQlyVaZmk6ZgYEDa+Jg18DxebPSrd6bg1M=\n",
    );
    let sbom_dir = sboms();
    let image = tempfile::tempdir().unwrap();
    write(
        image.path(),
        "image.cdx.json",
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "lodash", "version": "4.17.21", "purl": "pkg:npm/lodash@4.17.21"}, {"name": "openssl", "version": "3.0.11", "purl": "pkg:deb/debian/openssl@3.0.11?arch=amd64"}]}"#,
    );
    let advisories = fixtures();
    let r = run_checks(
        &format!(
            r#"
checks:
  - {{ name: jvm_php_go, kind: dependency_vulnerabilities, params: {{ dir: "{p}", advisory_db: "{d}" }} }}
  - {{ name: go_selected, kind: dependency_vulnerabilities, params: {{ dir: "{p}", lockfiles: [go/go.sum], advisory_db: "{d}" }} }}
  - {{ name: go_before_1_17, kind: dependency_vulnerabilities, params: {{ dir: "{old}", advisory_db: "{d}" }} }}
  - {{ name: spdx, kind: dependency_vulnerabilities, params: {{ dir: "{s}", lockfiles: [web.spdx.json], advisory_db: "{a}" }} }}
  - {{ name: cyclonedx, kind: dependency_vulnerabilities, params: {{ dir: "{s}", lockfiles: [web.cdx.json, api.cdx.json], advisory_db: "{a}" }} }}
  - {{ name: image, kind: dependency_vulnerabilities, params: {{ dir: "{i}", advisory_db: "{a}" }} }}
"#,
            p = p.display(),
            d = d.display(),
            old = old_go.path().display(),
            s = sbom_dir.display(),
            a = advisories.display(),
            i = image.path().display(),
        ),
        &[],
    );
    let v = by(&r, "jvm_php_go");
    assert_state(v, "fail", "2 critical (limit 0), 1 high (limit 0)");
    for hit in [
        "newtonsoft.json@12.0.3 (GHSA-5crp-9r3c-p9vr, high)",
        "org.apache.logging.log4j:log4j-core@2.14.1 (GHSA-jfh8-c2jp-5v3q, critical)",
        "acme/http@v1.9.0 (TEST-PKG-1, critical)",
    ] {
        assert!(v.message.contains(hit), "{hit}: {}", v.message);
    }
    assert!(!v.message.contains("golang.org/x/text"), "{}", v.message);
    assert_eq!(
        v.doc["evidence"]["undecidable"][0],
        "acme/lib@dev-main (TEST-PKG-1)"
    );
    assert_eq!(v.doc["evidence"]["packages"], 6);
    let spdx = by(&r, "spdx");
    assert_state(spdx, "fail", "lodash@4.17.15 (GHSA-p6mc-m468-83gw, high)");
    assert_eq!(
        spdx.doc["evidence"]["packages"], 2,
        "lodash and minimist; the project itself is what the SBOM describes"
    );
    r.expect_states(&[
        ("go_selected", "pass", "1 package(s) in 1 lockfile(s)"),
        (
            "go_before_1_17",
            "fail",
            "golang.org/x/text@v0.3.6 (GO-2021-0113",
        ),
        ("cyclonedx", "fail", "requests@2.25.1 (GHSA-j8r2-6x86-q33q"),
        (
            "image",
            "warn",
            "image.cdx.json: pkg:deb/debian/openssl@3.0.11",
        ),
    ]);
    assert!(by(&r, "cyclonedx").message.contains("lodash@4.17.15"));
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
    let found: Vec<String> = team_result.doc["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}",
                f["file"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ".env:generic-unquoted-secret-assignment:2",
            "app/settings.py:stripe-key:1",
            "app/settings.py:acme-api-key:2",
            "certs/client.p12:pkcs12-file:0",
        ],
        "aws-access-key-id disabled by its gitleaks id (the generic rule still sees the key), the GitHub line and docs allowlisted, test fixtures allowed, gitleaks:allow honoured"
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
            "# reviewed 2026-11\n{}/app/settings.py:stripe-key:1\n0123456789abcdef0123456789abcdef01234567:app/settings.py:acme-api-key:2\ncerts/client.p12:pkcs12-file:0\n./.env:generic-api-key:2\n",
            d.display()
        ),
    );
    let r = run_checks(&config, &[]);
    let ignored = by(&r, "team");
    // The binary .p12 is still unscanned content: never a pass.
    assert_state(ignored, "warn", "no secrets in");
    assert_eq!(ignored.doc["evidence"]["gitleaksignored"], 4);

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
        (&composite, "unknown field `required`"),
    ] {
        let (code, out) = validate(
            &format!(
                "checks:\n{}",
                check("bad", &format!(", gitleaks_config: \"{}\"", file.display()))
            ),
            &[],
        );
        assert_eq!(code, 1);
        assert!(out.contains(message), "{out}");
    }
}
