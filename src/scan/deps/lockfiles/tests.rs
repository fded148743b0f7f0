//! The lockfile readers on texts written by hand from each format's
//! documentation and on fixtures the package managers wrote.

use super::*;

fn names(read: impl Into<Read>) -> Vec<String> {
    let mut v: Vec<String> = read.into().packages.iter().map(Package::shown).collect();
    v.sort();
    v
}

#[test]
fn parses_pnpm_lockfiles_of_each_version() {
    let v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      lodash:\n        specifier: ^4.17.0\n        version: 4.17.20\npackages:\n  lodash@4.17.20:\n    resolution: {integrity: sha512-x}\n  '@babel/core@7.24.0':\n    resolution: {integrity: sha512-y}\n  react-dom@18.2.0(react@18.2.0):\n    resolution: {integrity: sha512-z}\n  local@file:../local:\n    resolution: {directory: ../local}\nsnapshots:\n  lodash@4.17.20: {}\n";
    assert_eq!(
        names(pnpm_lock(v9).unwrap()),
        ["@babel/core@7.24.0", "lodash@4.17.20", "react-dom@18.2.0"]
    );
    let v6 = "lockfileVersion: '6.0'\npackages:\n  /lodash@4.17.15:\n    resolution: {integrity: sha512-x}\n    dev: false\n  /@scope/pkg@1.2.3(peer@2.0.0):\n    resolution: {integrity: sha512-y}\n";
    assert_eq!(
        names(pnpm_lock(v6).unwrap()),
        ["@scope/pkg@1.2.3", "lodash@4.17.15"]
    );
    let v5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.15:\n    resolution: {integrity: sha512-x}\n  /@scope/pkg/1.2.3_peer@2.0.0:\n    resolution: {integrity: sha512-y}\n";
    assert_eq!(
        names(pnpm_lock(v5).unwrap()),
        ["@scope/pkg@1.2.3", "lodash@4.17.15"]
    );
    assert!(pnpm_lock("packages: {}\n")
        .unwrap_err()
        .contains("lockfileVersion"));
    assert!(pnpm_lock("lockfileVersion: '9.0'\n")
        .unwrap()
        .packages
        .is_empty());
}

#[test]
fn parses_uv_lockfiles_without_the_project_itself() {
    let lock = "version = 1\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n\n[[package]]\nname = \"requests\"\nversion = \"2.25.1\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"tool\"\nsource = { virtual = \"tools\" }\n";
    assert_eq!(names(uv_lock(lock).unwrap()), ["requests@2.25.1"]);
    assert!(
        uv_lock("version = 1\n[[package]]\nname = \"x\"\nsource = { registry = \"r\" }\n")
            .unwrap_err()
            .contains("no version")
    );
}

#[test]
fn go_mod_gives_the_selected_versions() {
    // Go 1.17+: go.mod lists every module of the build; go.sum's other
    // versions (looked at, not selected) are not packages.
    let gomod = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text v0.3.7\n\tgithub.com/a/b v1.2.0 // indirect\n\tgithub.com/local/x v0.1.0\n)\n\nrequire gopkg.in/yaml.v3 v3.0.0\n\nreplace github.com/a/b v1.2.0 => github.com/fork/b v1.2.1\nreplace github.com/local/x => ../x\n";
    let gosum = "golang.org/x/text v0.3.0/go.mod h1:a=\ngolang.org/x/text v0.3.7 h1:b=\n";
    assert_eq!(
        names(go_mod(gomod, Some(gosum)).unwrap()),
        [
            "github.com/fork/b@v1.2.1",
            "golang.org/x/text@v0.3.7",
            "gopkg.in/yaml.v3@v3.0.0",
            "stdlib@1.21.0"
        ]
    );
    // Before 1.17 go.sum completes the list with each module's highest
    // version in the graph (go.mod hashes included), as `go list -m all`.
    let old = "module example.com/app\ngo 1.16\nrequire golang.org/x/text v0.3.5\n";
    let sum = "golang.org/x/text v0.3.5 h1:a=\ngolang.org/x/text v0.3.7 h1:b=\ngolang.org/x/net v0.1.0/go.mod h1:c=\ngolang.org/x/net v0.0.9 h1:d=\n";
    assert_eq!(
        names(go_mod(old, Some(sum)).unwrap()),
        [
            "golang.org/x/net@v0.1.0",
            "golang.org/x/text@v0.3.7",
            "stdlib@1.16.0"
        ]
    );
    // Without go.sum the indirect modules are unknown: listed, not an error.
    let direct = go_mod(old, None).unwrap();
    assert!(
        direct.unjudged[0].contains("no go.sum"),
        "{:?}",
        direct.unjudged
    );
}

#[test]
fn parses_nuget_lockfiles_without_projects() {
    let lock = r#"{"version": 1, "dependencies": {"net8.0": {"Newtonsoft.Json": {"type": "Direct", "requested": "[12.0.1, )", "resolved": "12.0.1", "contentHash": "x"}, "System.Text.Json": {"type": "Transitive", "resolved": "8.0.0"}, "Shared": {"type": "Project", "dependencies": {"Newtonsoft.Json": "[12.0.1, )"}}}, "net6.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "12.0.1"}}}}"#;
    assert_eq!(
        names(sorted(nuget_lock(lock).unwrap())),
        ["Newtonsoft.Json@12.0.1", "System.Text.Json@8.0.0"]
    );
    assert!(nuget_lock(r#"{"version": 1}"#).is_err());
    assert!(
        nuget_lock(r#"{"dependencies": {"net8.0": {"A": {"type": "Direct"}}}}"#)
            .unwrap_err()
            .contains("A has no resolved version")
    );
}

#[test]
fn parses_composer_and_gradle_lockfiles() {
    let composer = r#"{"_readme": [], "packages": [{"name": "symfony/http-kernel", "version": "v5.4.20"}, {"name": "acme/lib", "version": "dev-main"}], "packages-dev": [{"name": "phpunit/phpunit", "version": "9.6.3"}]}"#;
    assert_eq!(
        names(composer_lock(composer).unwrap()),
        [
            "acme/lib@dev-main",
            "phpunit/phpunit@9.6.3",
            "symfony/http-kernel@v5.4.20"
        ]
    );
    let gradle = "# This is a Gradle generated file for dependency locking.\n# Manual edits can break the build and are not advised.\n# This file is expected to be part of source control.\ncom.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\norg.apache.logging.log4j:log4j-core:2.14.1=runtimeClasspath\nempty=annotationProcessor\n";
    assert_eq!(
        names(gradle_lockfile(gradle).unwrap()),
        [
            "com.google.guava:guava@31.1-jre",
            "org.apache.logging.log4j:log4j-core@2.14.1"
        ]
    );
}

#[test]
fn parses_each_format() {
    assert_eq!(
        names(
            toml_packages("version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\n")
                .unwrap()
        ),
        ["time@0.1.45"]
    );
    let v3 = r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15"}, "node_modules/a/node_modules/@scope/b": {"version": "1.0.0"}, "node_modules/linked": {"link": true}}}"#;
    assert_eq!(
        names(package_lock(v3).unwrap()),
        ["@scope/b@1.0.0", "lodash@4.17.15"]
    );
    let v1 = r#"{"lockfileVersion": 1, "dependencies": {"lodash": {"version": "4.17.15", "dependencies": {"x": {"version": "1.0.0"}}}}}"#;
    assert_eq!(
        names(package_lock(v1).unwrap()),
        ["lodash@4.17.15", "x@1.0.0"]
    );
    let yarn = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.8.3\":\n  version \"7.8.3\"\n  resolved \"x\"\n\nlodash@^4.17.15:\n  version \"4.17.15\"\n";
    assert_eq!(
        names(yarn_lock(yarn).unwrap()),
        ["@babel/code-frame@7.8.3", "lodash@4.17.15"]
    );
    let req = "# pinned\nDjango==3.2.1 ; python_version >= '3.8'\nrequests[socks]==2.25.1 \\\n    --hash=sha256:abc\nflask>=2.0\n-r other.txt\n";
    assert_eq!(
        names(pip::requirements(req).unwrap()),
        ["Django@3.2.1", "requests@2.25.1"]
    );
    let gem = "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n";
    assert_eq!(
        names(gemfile_lock(gem).unwrap()),
        ["nokogiri@1.13.10", "rack@2.2.3"]
    );
    let mix =
        "%{\n  \"plug\": {:hex, :plug, \"1.14.0\", \"abc\", [:mix], [], \"hexpm\", \"def\"},\n}\n";
    assert_eq!(names(mix_lock(mix).unwrap()), ["plug@1.14.0"]);
}

#[test]
fn bad_input_is_an_error_not_a_silent_pass() {
    assert!(package_lock("{\"packages\": {\"node_modules/a\": {\"version\"").is_err());
    assert!(toml_packages("[[package]\nname=").is_err());
    assert!(go_mod("module x\ngo 1.21\nrequire (\n  a v1\n", None).is_err());
    assert!(go_mod("this is no go.mod\n", None).is_err());
    assert!(composer_lock("{}").is_err());
    assert!(gradle_lockfile("com.example:lib=runtimeClasspath\n").is_err());
    assert!(yarn_lock("this is not a lockfile at all").is_err());
}

fn fixture(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles");
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// npm 11 wrote this lockfile for `"string-width-cjs": "npm:string-width@4.2.0"`,
/// a workspace and a `file:` dependency.
#[test]
fn npm_aliases_are_read_under_the_package_they_resolve_to() {
    let read = package_lock(&fixture("npm-v3-alias-workspace/package-lock.json")).unwrap();
    let names = names(Read {
        packages: read.packages.clone(),
        unjudged: vec![],
    });
    assert!(
        names.contains(&"string-width@4.2.0 (as string-width-cjs)".to_owned()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("string-width-cjs@")));
    // The two local packages and their two links are listed, not judged,
    // not dropped.
    assert_eq!(read.unjudged.len(), 4, "{:?}", read.unjudged);
    assert!(read
        .unjudged
        .iter()
        .any(|u| u.contains("local workspace package")));
    // v1 writes the alias into the version.
    let v1 = r#"{"lockfileVersion": 1, "dependencies": {"string-width-cjs": {"version": "npm:string-width@4.2.0"}, "x": {"version": "file:../x"}}}"#;
    let read = package_lock(v1).unwrap();
    assert_eq!(
        names_of(&read),
        ["string-width@4.2.0 (as string-width-cjs)"]
    );
    assert_eq!(read.unjudged.len(), 1);
}

/// Bun 1.2.23 wrote this `bun.lock` for the npm projects' shape (an
/// `npm:` alias, a workspace, a `file:` dependency); `bun pm ls --all`
/// listed what it installed: every registry package read, the alias under
/// its real package, the workspace and the local package unjudged.
#[test]
fn bun_lock_reads_what_bun_installed() {
    let read = bun_lock(&fixture("bun/bun.lock")).unwrap();
    let listed: Vec<String> = fixture("bun/bun-pm-ls.txt")
        .lines()
        .filter_map(|l| l.split_once("── ").map(|(_, p)| p.to_owned()))
        .filter(|p| {
            p.rsplit('@')
                .next()
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    let mut ours: Vec<String> = read
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.alias.as_deref().unwrap_or(&p.name), p.version))
        .collect();
    ours.sort();
    assert_eq!(ours, listed);
    assert!(names_of(&read).contains(&"string-width@4.2.0 (as string-width-cjs)".to_owned()));
    let mut unjudged = read.unjudged.clone();
    unjudged.sort();
    assert_eq!(
        unjudged,
        [
            "local-lib@file:local-lib (not a registry version)",
            "ws-pkg@workspace:packages/ws-pkg (not a registry version)"
        ]
    );
    // Scoped and nested keys; a comma inside a string is no trailing comma.
    let nested = "{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n    \"@types/node\": [\"@types/node@20.1.0\", \"\", {}, \"x,}\"],\n    \"a/@s/b\": [\"@s/b@1.0.0\", \"\", {},],\n    \"a/c\": [\"c@2.0.0\"],\n  },\n}\n";
    assert_eq!(
        names_of(&bun_lock(nested).unwrap()),
        ["@s/b@1.0.0", "@types/node@20.1.0", "c@2.0.0"]
    );
    assert!(bun_lock("{\"lockfileVersion\": 7, \"packages\": {}}")
        .unwrap_err()
        .contains("lockfileVersion 7"));
    assert!(bun_lock("not json").is_err());
}

/// A requirements file in UTF-16 with a byte-order mark (what Python's
/// `encoding="utf-16"` and Windows shells write), which pip reads: the
/// same requirements pip's own parser lists (`pip-parsed.txt`).
#[test]
fn utf16_requirements_read_as_pip_reads_them() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles/pip-utf16");
    let deps = parse_lockfile(&dir.join("requirements.txt")).unwrap();
    let ours: Vec<String> = deps.groups[0]
        .1
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    let pip_listed = fixture("pip-utf16/pip-parsed.txt");
    let pinned: Vec<&str> = pip_listed
        .lines()
        .filter(|l| l.contains("=="))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(ours, pinned);
    assert_eq!(deps.unjudged.len(), 1, "{:?}", deps.unjudged);
    assert!(deps.unjudged[0].contains("flask>=2.0 (not pinned"));
}

fn names_of(read: &Read) -> Vec<String> {
    let mut v: Vec<String> = read.packages.iter().map(Package::shown).collect();
    v.sort();
    v
}

/// yarn 1.22 and pnpm 9 wrote these for the same project.
#[test]
fn yarn_and_pnpm_aliases_and_local_sources() {
    let yarn = yarn_lock(&fixture("yarn-v1-alias/yarn.lock")).unwrap();
    assert!(
        names_of(&yarn).contains(&"string-width@4.2.0 (as string-width-cjs)".to_owned()),
        "{:?}",
        names_of(&yarn)
    );
    assert_eq!(yarn.unjudged.len(), 1, "{:?}", yarn.unjudged);
    assert!(yarn.unjudged[0].contains("local-lib@file:./local-lib"));
    let pnpm = pnpm_lock(&fixture("pnpm-v9-alias-workspace/pnpm-lock.yaml")).unwrap();
    assert!(names_of(&pnpm).contains(&"string-width@4.2.0".to_owned()));
    assert!(
        pnpm.unjudged
            .iter()
            .any(|u| u.contains("local-lib@file:local-lib")),
        "{:?}",
        pnpm.unjudged
    );
    // Berry: the resolution names the package; a workspace is local.
    let berry = "__metadata:\n  version: 8\n\n\"string-width-cjs@npm:string-width@^4.2.0\":\n  version: 4.2.3\n  resolution: \"string-width@npm:4.2.3\"\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n\n\"@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0\":\n  version: 7.24.0\n  resolution: \"@babel/core@npm:7.24.0\"\n";
    let read = yarn_lock(berry).unwrap();
    assert_eq!(
        names_of(&read),
        [
            "@babel/core@7.24.0",
            "string-width@4.2.3 (as string-width-cjs)"
        ]
    );
    assert_eq!(read.unjudged.len(), 1, "{:?}", read.unjudged);
    // pnpm v5: a `file:` package key has no `/name/version` form.
    let v5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.15:\n    resolution: {integrity: sha512-x}\n  file:packages/ui:\n    resolution: {directory: packages/ui, type: directory}\n";
    let read = pnpm_lock(v5).unwrap();
    assert_eq!(names_of(&read), ["lodash@4.17.15"]);
    assert_eq!(read.unjudged.len(), 1);
}

/// The standard library is judged at the toolchain's version, else the go
/// directive's; without a go directive Go assumes 1.16.
#[test]
fn go_stdlib_follows_toolchain_then_go_directive() {
    let with_toolchain = "module x\n\ngo 1.21\n\ntoolchain go1.22.3\n";
    assert_eq!(
        names(go_mod(with_toolchain, None).unwrap()),
        ["stdlib@1.22.3"]
    );
    let go_only = "module x\ngo 1.21.5\nrequire golang.org/x/net v0.17.0\n";
    assert_eq!(
        names(go_mod(go_only, None).unwrap()),
        ["golang.org/x/net@v0.17.0", "stdlib@1.21.5"]
    );
    let no_go = "module x\nrequire golang.org/x/net v0.17.0\n";
    let read = go_mod(no_go, Some("golang.org/x/net v0.17.0 h1:a=\n")).unwrap();
    assert_eq!(
        names_of(&read),
        ["golang.org/x/net@v0.17.0", "stdlib@1.16.0"]
    );
}

/// One odd line never turns a whole lockfile into an error.
#[test]
fn one_odd_line_is_unjudged_not_an_error() {
    let gradle = "com.google.guava:guava:31.1-jre=runtimeClasspath\nsome garbage line\norg.slf4j:slf4j-api:2.0.9=runtimeClasspath\n";
    let read = gradle_lockfile(gradle).unwrap();
    assert_eq!(read.packages.len(), 2);
    assert_eq!(read.unjudged.len(), 1);
    assert!(read.unjudged[0].contains("line 2"));
    let go = go_mod(
        "module x\ngo 1.16\nrequire a\nrequire b v1.0.0\n",
        Some("only-one-field\nb v1.0.0 h1:x=\n"),
    )
    .unwrap();
    assert_eq!(names_of(&go), ["b@v1.0.0", "stdlib@1.16.0"]);
    assert_eq!(go.unjudged.len(), 2, "{:?}", go.unjudged);
    let composer =
        composer_lock(r#"{"packages": [{"name": "a/b"}, {"name": "c/d", "version": "1.0.0"}]}"#)
            .unwrap();
    assert_eq!(names_of(&composer), ["c/d@1.0.0"]);
    assert_eq!(composer.unjudged, ["packages[0] (no name or no version)"]);
    let gem = gemfile_lock("GEM\n  specs:\n    rack 2.2.3\n    rake (13.0.6)\n").unwrap();
    assert_eq!(names_of(&gem), ["rake@13.0.6"]);
    assert_eq!(gem.unjudged.len(), 1);
}

#[test]
fn requirements_files_are_found_by_pips_conventions() {
    for (path, found) in [
        ("requirements.txt", true),
        ("requirements-dev.txt", true),
        ("requirements/prod.txt", true),
        ("docs/requirements.in", false),
        ("notes.txt", false),
    ] {
        assert_eq!(
            is_dependency_file(std::path::Path::new(path)),
            found,
            "{path}"
        );
    }
    assert!(is_dependency_file(std::path::Path::new("Pipfile.lock")));
    assert!(is_dependency_file(std::path::Path::new(
        "npm-shrinkwrap.json"
    )));
}

/// The packages the package manager itself lists for the fixture it wrote
/// (`npm ls --package-lock-only --all --json`, `yarn list --json`), by the
/// name they are installed under, against what we read: every registry
/// package read, nothing invented.
#[test]
fn what_npm_and_yarn_list_is_what_we_read() {
    fn ours(read: &Read) -> std::collections::BTreeSet<(String, String)> {
        read.packages
            .iter()
            .map(|p| {
                (
                    p.alias.clone().unwrap_or_else(|| p.name.clone()),
                    p.version.clone(),
                )
            })
            .collect()
    }
    // npm: every dependency it lists that does not resolve to a local path.
    let listed: serde_json::Value =
        serde_json::from_str(&fixture("npm-v3-alias-workspace/npm-ls.json")).unwrap();
    fn walk(deps: &serde_json::Value, out: &mut std::collections::BTreeSet<(String, String)>) {
        for (name, entry) in deps.as_object().into_iter().flatten() {
            let local = entry["resolved"]
                .as_str()
                .is_some_and(|r| r.starts_with("file:"));
            if let (Some(version), false) = (entry["version"].as_str(), local) {
                out.insert((name.clone(), version.to_owned()));
            }
            walk(&entry["dependencies"], out);
        }
    }
    let mut npm = std::collections::BTreeSet::new();
    walk(&listed["dependencies"], &mut npm);
    let read = package_lock(&fixture("npm-v3-alias-workspace/package-lock.json")).unwrap();
    assert_eq!(ours(&read), npm);
    assert_eq!(npm.len(), 7);

    // yarn 1: the hoisted tree; the project's own packages (a workspace and a
    // `file:` dependency, from its package.json) are not registry packages.
    let listed: serde_json::Value =
        serde_json::from_str(&fixture("yarn-v1-alias/yarn-list.json")).unwrap();
    let yarn: std::collections::BTreeSet<(String, String)> = listed["data"]["trees"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter_map(|n| {
            let at = n.rfind('@').filter(|&i| i > 0)?;
            Some((n[..at].to_owned(), n[at + 1..].to_owned()))
        })
        .filter(|(name, _)| !["local-lib", "@demo/ui"].contains(&name.as_str()))
        .collect();
    let read = yarn_lock(&fixture("yarn-v1-alias/yarn.lock")).unwrap();
    assert_eq!(ours(&read), yarn);
}

/// pipenv, Poetry and uv wrote these lockfiles and listed their packages
/// (`pipenv requirements --dev`, `poetry show`, `uv export`): reading the
/// lockfile gives exactly the packages the tool lists.
#[test]
fn pipenv_poetry_and_uv_lockfiles_read_as_their_tools_list_them() {
    let set = |read: Read| -> std::collections::BTreeSet<String> {
        read.packages
            .iter()
            .map(|p| format!("{}@{}", p.name.to_lowercase(), p.version))
            .collect()
    };
    let lock = set(pip::pipfile_lock(&fixture("pipenv/Pipfile.lock")).unwrap());
    let exported = set(pip::requirements(&fixture("pipenv/requirements-from-pipenv.txt")).unwrap());
    assert_eq!(lock, exported);
    assert_eq!(lock.len(), 15);
    let lock = set(poetry_lock(&fixture("poetry/poetry.lock")).unwrap());
    let shown = set(pip::requirements(&fixture("poetry/poetry-show.txt")).unwrap());
    assert_eq!(lock, shown);
    assert_eq!(lock.len(), 11);
    let lock = set(uv_lock(&fixture("uv/uv.lock")).unwrap().into());
    let exported = set(pip::requirements(&fixture("uv/requirements-from-uv.txt")).unwrap());
    assert_eq!(lock, exported);
    assert!(lock.len() >= 10, "{lock:?}");
}

/// This repository's own Cargo.lock, written by cargo, against what
/// `cargo metadata` says: every registry package read, the workspace's own
/// package unjudged (it was judged as a crates.io crate of the same name).
#[test]
fn cargo_lock_reads_what_cargo_metadata_lists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // This platform's graph, from the sources the build already fetched.
    let platform = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let out = std::process::Command::new("cargo")
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &platform])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: std::collections::BTreeSet<(String, String)> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("registry+"))
        })
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let read = cargo_lock(&std::fs::read_to_string(root.join("Cargo.lock")).unwrap()).unwrap();
    let ours: std::collections::BTreeSet<(String, String)> = read
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    // cargo metadata lists the packages of the current platform's build
    // graph; the lockfile holds every platform's: ours may hold more,
    // never fewer, and nothing that is not in the lockfile.
    let missing: Vec<_> = listed.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "cargo lists, we did not read: {missing:?}"
    );
    assert!(listed.len() > 200, "{}", listed.len());
    assert!(
        read.unjudged
            .iter()
            .any(|u| u.starts_with("prodready-exporter@")),
        "{:?}",
        read.unjudged
    );
    // Read with its manifest, the project's own crate is the project.
    let deps = parse_lockfile(&root.join("Cargo.lock")).unwrap();
    assert!(deps.unjudged.is_empty(), "{:?}", deps.unjudged);
    assert!(deps.groups[0].1.len() >= ours.len());
    let poetry = "[[package]]\nname = \"requests\"\nversion = \"2.31.0\"\n\n[[package]]\nname = \"mylib\"\nversion = \"0.1.0\"\n\n[package.source]\ntype = \"git\"\nurl = \"https://example.com/mylib.git\"\n";
    let read = poetry_lock(poetry).unwrap();
    assert_eq!(names_of(&read), ["requests@2.31.0"]);
    assert_eq!(read.unjudged.len(), 1);
}
