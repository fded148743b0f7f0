//! `dependency_vulnerabilities` against lockfiles and SBOMs in temp dirs and a
//! local advisory database (fixtures written from public advisories).

use std::path::Path;
use std::time::Duration;

use crate::support::tree::{age, copy_tree, write};
use crate::support::{assert_state, by, run_checks};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories")
}

/// Moves every advisory date under `dir` to today: a database synced today
/// from a live source.
fn freshen(dir: &Path) {
    let now = prodready_exporter::clock::unix_now();
    let stamp = prodready_exporter::clock::rfc3339_unix(now);
    let date = prodready_exporter::clock::date_of(now);
    let modified = regex::Regex::new(r#""modified": "[^"]*""#).unwrap();
    let dated = regex::Regex::new(r#"(?m)^date = "[^"]*""#).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            freshen(&p);
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let text = modified.replace_all(&text, format!("\"modified\": \"{stamp}\""));
        let text = dated.replace_all(&text, format!("date = \"{date}\""));
        std::fs::write(&p, text.as_ref()).unwrap();
    }
}

/// The fixture advisories (dated 2020 and 2024) as if synced today.
fn fresh_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), dir.path());
    freshen(dir.path());
    dir
}

fn sboms() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sbom")
}

#[test]
fn dependency_vulnerabilities_against_a_local_advisory_db() {
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    write(p, "Cargo.lock", "version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
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
    write(safe.path(), "Cargo.lock", "version = 3\n[[package]]\nname = \"time\"\nversion = \"0.2.23\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n[[package]]\nname = \"time\"\nversion = \"0.2.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
    write(
        safe.path(),
        "package-lock.json",
        r#"{"lockfileVersion": 2, "packages": {"node_modules/lodash": {"version": "4.17.21"}}}"#,
    );
    let fresh = fresh_fixtures();
    let db = fresh.path().to_path_buf();
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
    // Synced today (fresh files) from a mirror frozen long ago: the
    // advisories' own dates say how old the data is.
    let stale = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), stale.path());
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

/// What the database cannot speak for is never "none vulnerable": another
/// ecosystem's advisories, an unparsable version, a lockfile without
/// packages; an unrated advisory fails under the default limits.
#[test]
fn dependency_vulnerabilities_never_pass_on_what_they_could_not_check() {
    let fresh = fresh_fixtures();
    let db = fresh.path().to_path_buf();
    let npm_only = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(npm_only.path().join("osv/npm")).unwrap();
    copy_tree(&db.join("osv/npm"), &npm_only.path().join("osv/npm"));
    let cargo = tempfile::tempdir().unwrap();
    write(
        cargo.path(),
        "Cargo.lock",
        "version = 3\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
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
    freshen(unrated.path());
    // A lockfile behind a symlink and one below max_depth are not read:
    // said, and warn; installed packages are listed as not searched.
    let skipping = tempfile::tempdir().unwrap();
    let sk = skipping.path();
    copy_tree(cargo.path(), sk);
    write(sk, "elsewhere/deep/er/Cargo.lock", "version = 3\n");
    std::os::unix::fs::symlink(
        cargo.path().join("Cargo.lock"),
        sk.join("elsewhere/Cargo.lock"),
    )
    .unwrap();
    write(sk, "web/node_modules/left-pad/package-lock.json", "{}");
    let r = run_checks(
        &format!(
            r#"
checks:
  - {{ name: other_ecosystem, kind: dependency_vulnerabilities, params: {{ dir: "{cargo}", advisory_db: "{npm_only}" }} }}
  - {{ name: odd_version, kind: dependency_vulnerabilities, params: {{ dir: "{odd}", advisory_db: "{db}" }} }}
  - {{ name: no_packages, kind: dependency_vulnerabilities, params: {{ dir: "{none}", advisory_db: "{db}" }} }}
  - {{ name: unrated, kind: dependency_vulnerabilities, params: {{ dir: "{cargo}", advisory_db: "{unrated}" }} }}
  - {{ name: unrated_tolerated, kind: dependency_vulnerabilities, params: {{ dir: "{cargo}", advisory_db: "{unrated}", max: {{ unknown: 1 }} }} }}
  - {{ name: skipping, kind: dependency_vulnerabilities, params: {{ dir: "{sk}", advisory_db: "{db}", max_depth: 2 }} }}
"#,
            sk = sk.display(),
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
        (
            "skipping",
            "warn",
            "2 place(s) in the tree were not searched",
        ),
    ]);
    let ev = &by(&r, "skipping").doc["evidence"];
    assert_eq!(
        ev["lockfiles_skipped"],
        serde_json::json!([
            "elsewhere/Cargo.lock (a symbolic link, not followed)",
            "elsewhere/deep (its contents are deeper than max_depth 2)"
        ]),
        "{ev}"
    );
    assert_eq!(
        ev["dirs_not_searched"],
        serde_json::json!(["web/node_modules (installed packages, not the project's lockfile)"])
    );
    assert_eq!(
        ev["lockfiles"],
        serde_json::json!([sk.join("Cargo.lock").display().to_string()])
    );
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
    freshen(d);
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
    let fresh = fresh_fixtures();
    let advisories = fresh.path().to_path_buf();
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
    // Six modules and packages, and Go's standard library.
    assert_eq!(v.doc["evidence"]["packages"], 7);
    let spdx = by(&r, "spdx");
    assert_state(spdx, "fail", "lodash@4.17.15 (GHSA-p6mc-m468-83gw, high)");
    assert_eq!(
        spdx.doc["evidence"]["packages"], 2,
        "lodash and minimist; the project itself is what the SBOM describes"
    );
    r.expect_states(&[
        ("go_selected", "pass", "2 package(s) in 1 lockfile(s)"),
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

/// What used to pass a vulnerable build: an npm alias judged under its
/// alias, Go's standard library never checked, Pipfile.lock and
/// `requirements-dev.txt` not read, a gitignored lockfile skipped, an
/// unpinned requirement dropped without a word.
#[test]
fn aliases_stdlib_pipenv_and_ignored_lockfiles_are_judged() {
    let db = tempfile::tempdir().unwrap();
    let d = db.path();
    let advisory = |id: &str, eco: &str, name: &str, fixed: &str| {
        format!(
            r#"{{"id": "{id}", "modified": "2020-01-01T00:00:00Z", "database_specific": {{"severity": "HIGH"}}, "affected": [{{"package": {{"ecosystem": "{eco}", "name": "{name}"}}, "ranges": [{{"type": "{}", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#,
            if eco == "PyPI" { "ECOSYSTEM" } else { "SEMVER" }
        )
    };
    write(
        d,
        "npm/TEST-NPM-ALIAS.json",
        advisory("TEST-NPM-ALIAS", "npm", "string-width", "4.2.3"),
    );
    write(
        d,
        "go/TEST-GO-STDLIB.json",
        advisory("TEST-GO-STDLIB", "Go", "stdlib", "1.22.5"),
    );
    write(
        d,
        "pypi/TEST-PY-PIPENV.json",
        advisory("TEST-PY-PIPENV", "PyPI", "requests", "2.32.0"),
    );
    write(
        d,
        "pypi/TEST-PY-REQS.json",
        advisory("TEST-PY-REQS", "PyPI", "urllib3", "1.26.18"),
    );
    freshen(d);

    let tree = tempfile::tempdir().unwrap();
    let t = tree.path();
    let lockfiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles");
    std::fs::create_dir_all(t.join("web")).unwrap();
    copy_tree(&lockfiles.join("npm-v3-alias-workspace"), &t.join("web"));
    // The same project as Bun 1.2 locks it (bun.lock).
    std::fs::create_dir_all(t.join("web-bun")).unwrap();
    copy_tree(&lockfiles.join("bun"), &t.join("web-bun"));
    write(
        t,
        "svc/go.mod",
        "module example.com/svc\n\ngo 1.22\n\ntoolchain go1.22.3\n",
    );
    write(
        t,
        "api/Pipfile.lock",
        r#"{"_meta": {}, "default": {"requests": {"version": "==2.31.0"}}, "develop": {}}"#,
    );
    // Ignored by .gitignore, outside git: still a lockfile of the tree.
    write(t, ".gitignore", "legacy/\n");
    write(
        t,
        "legacy/requirements-dev.txt",
        "urllib3==1.26.5\nflask>=2.0\n",
    );
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: \"{}\", advisory_db: \"{}\", max: {{ high: 10 }} }} }}\n",
            t.display(),
            d.display()
        ),
        &[],
    );
    let deps = by(&r, "deps");
    assert!(
        deps.doc["evidence"]["vulnerable"].is_array(),
        "{}: {}",
        deps.state,
        deps.message
    );
    let vulnerable: Vec<String> = deps.doc["evidence"]["vulnerable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{}@{}{}",
                v["package"].as_str().unwrap(),
                v["version"].as_str().unwrap(),
                v["installed_as"]
                    .as_str()
                    .map(|a| format!(" as {a}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    for expected in [
        "string-width@4.2.0 as string-width-cjs",
        "stdlib@1.22.3",
        "requests@2.31.0",
        "urllib3@1.26.5",
    ] {
        assert!(
            vulnerable.contains(&expected.to_owned()),
            "{expected}: {vulnerable:?}"
        );
    }
    // Within the limits, but the unpinned flask and the local packages are
    // not verified: warn, never pass.
    assert_state(deps, "warn", "cannot be judged");
    let unjudged = deps.doc["evidence"]["unjudged"].to_string();
    assert!(unjudged.contains("flask>=2.0 (not pinned"), "{unjudged}");
    assert!(unjudged.contains("local workspace package"), "{unjudged}");
    assert!(
        unjudged.contains("web-bun/bun.lock: ws-pkg@workspace:packages/ws-pkg"),
        "{unjudged}"
    );
    let read = deps.doc["evidence"]["lockfiles"].to_string();
    assert!(read.contains("legacy/requirements-dev.txt"), "{read}");
    assert!(read.contains("web-bun/bun.lock"), "{read}");
    let bun_alias = deps.doc["evidence"]["vulnerable"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["lockfile"] == "web-bun/bun.lock" && v["installed_as"] == "string-width-cjs");
    assert!(bun_alias, "{vulnerable:?}");
}

/// Every reason a check did not pass is in its message, in priority order:
/// an unpinned requirement and a database past its age limit both show.
#[test]
fn every_reason_not_to_pass_is_in_the_message() {
    let db = tempfile::tempdir().unwrap();
    write(
        db.path(),
        "pypi/TEST-OLD.json",
        r#"{"id": "TEST-OLD", "modified": "2020-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]}"#,
    );
    let tree = tempfile::tempdir().unwrap();
    write(
        tree.path(),
        "requirements.txt",
        "urllib3==2.2.0\nflask>=2.0\n",
    );
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: \"{}\", advisory_db: \"{}\", max_db_age: 30d }} }}\n",
            tree.path().display(),
            db.path().display()
        ),
        &[],
    );
    let deps = by(&r, "deps");
    assert_state(deps, "warn", "cannot be judged");
    let unjudged_at = deps.message.find("cannot be judged").unwrap();
    let stale_at = deps
        .message
        .find("the advisory database is")
        .expect(&deps.message);
    assert!(unjudged_at < stale_at, "{}", deps.message);
}

/// A lockfile whose every entry is unjudged says why nothing was checked.
#[test]
fn a_lockfile_of_only_unjudged_entries_says_why() {
    let db = tempfile::tempdir().unwrap();
    write(
        db.path(),
        "pypi/TEST-X.json",
        r#"{"id": "TEST-X", "modified": "2020-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#,
    );
    let tree = tempfile::tempdir().unwrap();
    write(
        tree.path(),
        "requirements.txt",
        "-e git+https://git.example/a.git#egg=a\n./local-b\nc @ https://files.example/c.whl\n",
    );
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: deps, kind: dependency_vulnerabilities, params: {{ dir: \"{}\", advisory_db: \"{}\", max_db_age: 10000d }} }}\n",
            tree.path().display(),
            db.path().display()
        ),
        &[],
    );
    let deps = by(&r, "deps");
    assert_state(
        deps,
        "error",
        "3 entr(y/ies) were read but cannot be judged",
    );
    assert!(
        deps.message.contains("git+https://git.example/a.git"),
        "{}",
        deps.message
    );
}
