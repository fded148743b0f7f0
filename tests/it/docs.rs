//! The generated documents: docs/kinds.md and docs/config.schema.json match
//! what the binary generates from the code, and the bundled config (and every
//! example config) validates against the schema, which rejects what the
//! loader rejects.

use std::path::Path;

use crate::support::{run_cli, stdout};

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
