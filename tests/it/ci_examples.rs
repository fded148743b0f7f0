//! What CI users copy: the pre-commit hooks (`.pre-commit-hooks.yaml`) run
//! as pre-commit runs them, with `examples/pre-commit.yaml` as the config,
//! in a real repository (clean: exit 0; a committed key: exit 1); the
//! GitHub Actions example's commands parse with this CLI and its SARIF
//! upload reads the file the gate writes.

use std::path::Path;
use std::process::Command;

use clap::Parser;
use serde_json::Value;

use crate::support::tree::{git, git_init, write};
use crate::support::{repo_root, BIN};

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    prodready_exporter::yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs a hook as pre-commit does: its entry and args, in the repository.
fn run_hook(hook: &Value, repo: &Path) -> i32 {
    let entry = hook["entry"].as_str().unwrap();
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("prodready-exporter"));
    let args: Vec<String> = words
        .map(str::to_owned)
        .chain(
            hook["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned()),
        )
        .collect();
    let out = Command::new(BIN)
        .args(&args)
        .current_dir(repo)
        .output()
        .unwrap();
    out.status.code().unwrap_or(-1)
}

#[test]
fn the_pre_commit_hooks_pass_a_clean_repository_and_stop_a_committed_key() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    assert!(hooks.len() >= 2);
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    git_init(d);
    std::fs::copy(
        repo_root().join("examples/pre-commit.yaml"),
        d.join(".prodready.yaml"),
    )
    .unwrap();
    write(d, "app.py", "print('hello')\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "init"]);
    for hook in hooks {
        assert_eq!(hook["language"], "rust");
        assert_eq!(hook["pass_filenames"], false);
        assert_eq!(run_hook(hook, d), 0, "{} on a clean repository", hook["id"]);
    }
    write(
        d,
        "config/prod.env",
        "STRIPE_KEY=sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "key"]);
    for hook in hooks {
        assert_eq!(run_hook(hook, d), 1, "{} with a committed key", hook["id"]);
    }
}

#[test]
fn the_github_actions_example_runs_commands_this_cli_accepts() {
    let workflow = yaml("examples/ci/github-actions.yml");
    let steps = workflow["jobs"]["gate"]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["with"]["fetch-depth"], 0);
    let gate = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.starts_with("prodready-exporter check"))
        .expect("a gate step");
    let command = gate.split(">>").next().unwrap();
    let argv: Vec<&str> = command.split_whitespace().collect();
    prodready_exporter::cli::Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .expect("a SARIF upload");
    let sarif = upload["with"]["sarif_file"].as_str().unwrap();
    assert!(
        command.contains(&format!("--output sarif={sarif}")),
        "the upload reads {sarif}, the gate writes: {command}"
    );
    assert_eq!(upload["if"], "always()");
}
