//! The generated documents: docs/kinds.md and docs/config.schema.json match
//! what the binary generates from the code, and the bundled config (and every
//! example config) validates against the schema, which rejects what the
//! loader rejects.

use std::path::Path;

use crate::support::{repo_root, run_cli, stdout};

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn assert_fresh(subcommand: &str, path: &str) {
    let out = run_cli(&[subcommand], &[]);
    assert!(out.status.success());
    assert!(
        stdout(&out) == repo_file(path),
        "{path} is stale: run `cargo run -- {subcommand} > {path}` and commit it"
    );
}

#[test]
fn kinds_md_is_generated_from_the_code() {
    assert_fresh("kinds", "docs/kinds.md");
    let md = repo_file("docs/kinds.md");
    for kind in [
        "http",
        "postgres_indexes",
        "redis_memory",
        "hardcoded_secrets",
        "command",
    ] {
        assert!(md.contains(&format!("### `{kind}`")), "{kind} missing");
    }
}

#[test]
fn config_schema_is_generated_from_the_code() {
    assert_fresh("schema", "docs/config.schema.json");
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&repo_file("docs/config.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn schema_errors(yaml: &str) -> Vec<String> {
    let doc = prodready_exporter::yaml::from_str::<serde_json::Value>(yaml).unwrap();
    validator()
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn bundled_and_example_configs_validate_against_the_schema() {
    let mut files = vec!["config.yaml".to_owned()];
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    if let Ok(entries) = std::fs::read_dir(&examples) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".yaml") || name.ends_with(".yml") {
                files.push(format!("examples/{name}"));
            }
        }
    }
    for file in files {
        let errors = schema_errors(&repo_file(&file));
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let good = "checks:\n  - { name: web, kind: http, params: { url: \"http://127.0.0.1:1/\", max_latency: 2s } }\n";
    assert!(schema_errors(good).is_empty(), "{:?}", schema_errors(good));
    for bad in [
        // an unknown param of the kind
        "checks:\n  - { name: web, kind: http, params: { url: \"http://127.0.0.1:1/\", max_latencyy: 2s } }\n",
        // a duration without a unit
        "checks:\n  - { name: web, kind: http, params: { url: \"http://127.0.0.1:1/\", max_latency: \"2\" } }\n",
        // an unknown kind
        "checks:\n  - { name: web, kind: htp }\n",
        // an unknown top-level key
        "chekcs: []\n",
        // an unknown target type
        "targets:\n  web: { ftp: { url: \"ftp://127.0.0.1/\" } }\n",
    ] {
        assert!(!schema_errors(bad).is_empty(), "schema accepted:\n{bad}");
    }
}

/// No URL the project writes points at a host it does not control: links go
/// to the running exporter (`/runbooks`), loopback, reserved example names,
/// or standards bodies and projects the docs cite. Not searched: test data
/// (tests/, the secret rules and their corpus, whose URLs are patterns of
/// secrets, not links) and the lockfiles' registry sources.
#[test]
fn no_url_points_at_a_host_the_project_does_not_control() {
    const CITED: &[&str] = &[
        "json-schema.org",
        "json.schemastore.org",
        "docs.oasis-open.org",
        "osv.dev",
        "osv-vulnerabilities.storage.googleapis.com",
        "static.crates.io",
        "crates.io",
        "pypi.org",
        "rubygems.org",
        "registry.npmjs.org",
        "prometheus.io",
        "grafana.com",
        "semver.org",
        "github.com/prometheus/",
        "github.com/gitleaks/",
        "github.com/google/osv",
        "github.com/rustsec/",
    ];
    let reserved = |host: &str| {
        !host.contains('.')
            || !host.chars().any(|c| c.is_ascii_alphanumeric())
            || host.starts_with("127.")
            || host.starts_with('[')
            || host == "example.com"
            || [
                ".example.com",
                ".invalid",
                ".example",
                ".test",
                ".localhost",
            ]
            .iter()
            .any(|s| host.ends_with(s))
    };
    let url = regex::Regex::new(r"https?://([A-Za-z0-9.\-\[\]:]+)(/[^\s\x22'`)<>]*)?").unwrap();
    let root = repo_root();
    let mut files = Vec::new();
    let mut dirs: Vec<std::path::PathBuf> = [
        "src",
        "docs",
        "alerts",
        "deploy",
        "grafana",
        "mixin",
        "examples",
        "bench",
        "benches",
        "scripts",
        "fuzz/fuzz_targets",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = e.path();
            if path.starts_with(root.join("src/scan/secrets")) {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.extend(
        [
            "README.md",
            "Dockerfile",
            "config.yaml",
            "CHANGELOG.md",
            "Cargo.toml",
        ]
        .iter()
        .map(|f| root.join(f)),
    );
    let mut foreign = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for c in url.captures_iter(&text) {
            let host = c[1].split(':').next().unwrap_or_default().to_lowercase();
            let link = format!("{host}{}", c.get(2).map_or("", |p| p.as_str()));
            seen.insert(host.clone());
            if reserved(&host) || CITED.iter().any(|a| link.starts_with(a)) {
                continue;
            }
            foreign.push(format!(
                "{}: {link}",
                file.strip_prefix(root).unwrap().display()
            ));
        }
    }
    assert!(
        foreign.is_empty(),
        "links to hosts the project does not control:\n{}",
        foreign.join("\n")
    );
    assert!(
        seen.contains("127.0.0.1") && seen.contains("osv.dev"),
        "{seen:?}"
    );
}

/// The docs that list flags and kinds list them all: every long flag of
/// every subcommand is in docs/reference.md, and every kind is in the
/// catalogue of docs/design.md. Adding a flag or a kind without its docs
/// fails here.
#[test]
fn every_flag_and_kind_is_in_the_docs() {
    use clap::CommandFactory;
    let reference = repo_file("docs/reference.md");
    let mut missing = Vec::new();
    let mut commands = vec![prodready_exporter::cli::Cli::command()];
    while let Some(cmd) = commands.pop() {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                if !["help", "version"].contains(&long) && !reference.contains(&format!("--{long}"))
                {
                    missing.push(format!("{} --{long}", cmd.get_name()));
                }
                // Every value a flag lists (the report formats, the
                // categories, the phases) is on its line in the synopsis.
                for value in arg.get_possible_values() {
                    let listed = reference.lines().any(|line| {
                        let flag = format!("--{long}");
                        line.split(flag.as_str()).skip(1).any(|after| {
                            let after = after.strip_prefix([' ', '=']).unwrap_or("\u{0}");
                            after
                                .split(|c: char| c.is_whitespace() || c == ']')
                                .next()
                                .is_some_and(|v| v.split('|').any(|x| x == value.get_name()))
                        })
                    });
                    if !listed && !["true", "false"].contains(&value.get_name()) {
                        missing.push(format!("{} --{long} {}", cmd.get_name(), value.get_name()));
                    }
                }
            }
        }
        commands.extend(cmd.get_subcommands().cloned());
    }
    let design = repo_file("docs/design.md");
    for kind in prodready_exporter::engine::kinds::kind_names() {
        if !design.contains(&format!("`{kind}`")) {
            missing.push(format!("kind {kind} in docs/design.md"));
        }
    }
    assert!(missing.is_empty(), "not documented: {missing:#?}");
}
