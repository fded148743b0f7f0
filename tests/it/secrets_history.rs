//! `hardcoded_secrets` with `history:`: real repositories built with git
//! (commit, delete, rename, branch, merge, annotated tag, binary and large
//! blobs, a submodule entry, packed and loose objects, a shallow clone, a
//! rewritten history), read by gitoxide; findings against `gitleaks git`'s
//! on the same config; the incremental state.

use std::path::Path;
use std::process::Command;

use prodready_exporter::scan::secrets::history::state::{self, State};
use prodready_exporter::scan::secrets::history::{History, Options, Report};
use prodready_exporter::scan::secrets::{compile_rules, Scanner};
use prodready_exporter::scan::Cancel;

use crate::support::tree::{git, git_init, write};
use crate::support::{by, run_checks, run_cli, stdout, ConfigDir};

const STRIPE: &str = "sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs";
const STRIPE2: &str = "sk_live_77Jd2Kq9Wm4Xp1Zr8Ts3Vb6Ny5Hc0Lf";
const GITHUB: &str = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";

/// Runs git in `d` with author and committer dated `day` days after
/// 2026-01-01; its output, whether it succeeded or not.
fn git_on_day(d: &Path, day: i64, args: &[&str]) -> std::process::Output {
    let date = format!("{} +0000", 1_767_225_600 + day * 86_400);
    Command::new("git")
        .arg("-C")
        .arg(d)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .unwrap()
}

/// Commits everything staged in `d` at `day` days after 2026-01-01.
fn commit(d: &Path, message: &str, day: i64) -> String {
    let out = git_on_day(d, day, &["commit", "-q", "--allow-empty", "-m", message]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(d, &["rev-parse", "HEAD"])
}

/// The commits of the story every test below reads.
struct Story {
    added_env: String,
    removed_env: String,
    added_token: String,
    added_config: String,
}

/// init; a key added then deleted; a token on a branch (tagged, merged);
/// a rename; a key that stays, then an edit elsewhere in its file.
fn story(d: &Path) -> Story {
    git_init(d);
    git(d, &["checkout", "-q", "-b", "main"]);
    write(d, "a.txt", "hello\n");
    commit_all(d);
    commit(d, "init", 0);
    write(d, ".env", format!("X=1\nSTRIPE_KEY={STRIPE}\n"));
    commit_all(d);
    let added_env = commit(d, "add env", 1);
    git(d, &["rm", "-q", ".env"]);
    let removed_env = commit(d, "remove env", 2);
    git(d, &["checkout", "-q", "-b", "feature"]);
    write(d, "tools/tok.txt", format!("token={GITHUB}\n"));
    commit_all(d);
    let added_token = commit(d, "token", 3);
    git(d, &["tag", "-a", "-m", "release", "v1"]);
    git(d, &["checkout", "-q", "main"]);
    git(d, &["mv", "a.txt", "b.txt"]);
    commit(d, "rename", 4);
    let out = git_on_day(d, 5, &["merge", "-q", "--no-ff", "-m", "merge", "feature"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write(d, "config.yml", format!("db: x\nstripe_key: {STRIPE2}\n"));
    commit_all(d);
    let added_config = commit(d, "config", 6);
    write(d, "config.yml", format!("db: y\nstripe_key: {STRIPE2}\n"));
    commit_all(d);
    commit(d, "edit config", 7);
    Story {
        added_env,
        removed_env,
        added_token,
        added_config,
    }
}

fn commit_all(d: &Path) {
    git(d, &["add", "-A"]);
}

fn scanner() -> Scanner {
    Scanner::new(compile_rules(&[], &[]).unwrap(), vec![], vec![], 1 << 20).unwrap()
}

fn scan(d: &Path, state: &mut State, options: &Options) -> Report {
    let scanner = scanner();
    History {
        scanner: &scanner,
        options,
    }
    .scan(d, state, &Cancel::new())
    .unwrap()
}

/// (commit, file, line, in_tip, removed_in) of each finding.
fn summary(r: &Report) -> Vec<(String, String, usize, bool, Option<String>)> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.commit.clone(),
                f.file.clone(),
                f.line,
                f.in_tip,
                f.removed_in.clone(),
            )
        })
        .collect()
}

#[test]
fn each_finding_names_the_commit_that_introduced_it_and_whether_the_tip_holds_it() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    let s = story(d);
    let expected = vec![
        (
            s.added_env.clone(),
            ".env".to_owned(),
            2,
            false,
            Some(s.removed_env.clone()),
        ),
        (
            s.added_token.clone(),
            "tools/tok.txt".to_owned(),
            1,
            true,
            None,
        ),
        (
            s.added_config.clone(),
            "config.yml".to_owned(),
            2,
            true,
            None,
        ),
    ];
    let mut st = State::new("test").unwrap();
    let loose = scan(d, &mut st, &Options::default());
    assert_eq!(summary(&loose), expected);
    assert_eq!(
        loose.refs,
        [
            "HEAD",
            "refs/heads/feature",
            "refs/heads/main",
            "refs/tags/v1"
        ]
    );
    assert_eq!(loose.commits_total, 8);
    // The rename and the merge bring no blob of their own; the edit of
    // config.yml does, and its unchanged key is not reported again.
    assert_eq!(loose.blobs_read, 5, "{loose:?}");
    // Packed: the same answer from the pack files.
    git(d, &["gc", "-q", "--prune=now"]);
    assert!(std::fs::read_dir(d.join(".git/objects/pack"))
        .unwrap()
        .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "pack")));
    let packed = scan(d, &mut State::new("test").unwrap(), &Options::default());
    assert_eq!(summary(&packed), expected);
    // Through the check: the message says what to do, the output never
    // holds a secret.
    let dir = ConfigDir::new(&format!(
        "targets:\n  repo: {{ path: \"{}\" }}\nchecks:\n  - {{ name: history, kind: hardcoded_secrets, target: repo, params: {{ history: {{}} }} }}\n",
        d.display()
    ));
    let config = format!("--config.file={}", dir.config_path().display());
    for format in ["table", "junit", "sarif", "markdown"] {
        let out = run_cli(&["check", &config, "--format", format], &[]);
        let text = format!("{}{}", stdout(&out), crate::support::stderr(&out));
        assert!(text.contains("tok.txt"), "{format}: {text}");
        for secret in [STRIPE, STRIPE2, GITHUB] {
            assert!(!text.contains(secret), "a secret in the {format} report");
        }
    }
    let out = run_cli(&["check", &config, "--format", "json"], &[]);
    let text = stdout(&out);
    for secret in [STRIPE, STRIPE2, GITHUB] {
        assert!(!text.contains(secret), "a secret in the report");
    }
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let check = &doc["checks"][0];
    assert_eq!(check["state"], "fail");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            ".env:2 (stripe-key) added in {} on 2026-01-02, removed in {}, still in history: rotate it",
            &s.added_env[..12],
            &s.removed_env[..12]
        )),
        "{message}"
    );
    assert!(message.contains("config.yml:2 (stripe-key)"), "{message}");
    assert!(message.contains("still in the tip"), "{message}");
    assert_eq!(
        check["evidence"]["findings"][0]["fingerprint"],
        format!("{}:.env:stripe-key:2", s.added_env)
    );
}

/// The same config for both: a TOML of two rules of our own.
const CONFIG: &str = r#"
[[rules]]
id = "acme-live-key"
regex = '''sk_live_[0-9a-zA-Z]{30}'''
keywords = ["sk_live_"]

[[rules]]
id = "acme-gh-token"
regex = '''ghp_[0-9a-zA-Z]{36}'''
keywords = ["ghp_"]
"#;

#[test]
fn findings_agree_with_gitleaks_git_on_the_same_config() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    story(d);
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("gitleaks.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let theirs = crate::support::gitleaks::git_findings(d, &config);
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: h, kind: hardcoded_secrets, params: {{ dir: \"{}\", gitleaks_config: \"{}\", history: {{}} }} }}\n",
            d.display(),
            config.display()
        ),
        &[],
    );
    let ours = crate::support::gitleaks::history_findings(by(&r, "h"));
    assert_eq!(theirs.len(), 3, "{theirs:?}");
    assert_eq!(ours, theirs);
}

/// gitleaks' `commits` allowlists mean something in history: a global one
/// allows what its commits introduced, a rule's only for that rule; the
/// result is what `gitleaks git` reports on the same config.
#[test]
fn commit_allowlists_allow_what_their_commits_introduced() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    let s = story(d);
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("gitleaks.toml");
    std::fs::write(
        &config,
        format!(
            "{CONFIG}\n[[allowlists]]\ncommits = [\"{}\"]\n\n[[rules.allowlists]]\ncommits = [\"{}\"]\n",
            s.added_env, s.added_token
        ),
    )
    .unwrap();
    let theirs = crate::support::gitleaks::git_findings(d, &config);
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: h, kind: hardcoded_secrets, params: {{ dir: \"{}\", gitleaks_config: \"{}\", history: {{}} }} }}\n",
            d.display(),
            config.display()
        ),
        &[],
    );
    let ours = crate::support::gitleaks::history_findings(by(&r, "h"));
    // The key of .env (allowed globally) and the token (allowed for the
    // token rule, the last rule of CONFIG) are gone; config.yml's key stays.
    assert_eq!(
        ours.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
        ["config.yml"],
        "{ours:?}"
    );
    assert_eq!(ours, theirs);
}

#[test]
fn later_runs_read_only_what_is_new_and_forget_rewritten_history() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    story(d);
    let options = Options::default();
    let mut st = State::new("digest").unwrap();
    let first = scan(d, &mut st, &options);
    assert_eq!(first.commits_read, 8);
    let again = scan(d, &mut st, &options);
    assert_eq!((again.commits_read, again.blobs_read), (0, 0));
    assert_eq!(summary(&again), summary(&first));
    // Kept on disk and read back: the same; another digest starts over.
    let dir = tempfile::tempdir().unwrap();
    let file = state::file_in(dir.path(), "repo history");
    state::save(&file, &st).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(STRIPE) && !text.contains("sk_live_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let mut loaded = state::load(&file, "digest").unwrap().unwrap();
    assert!(state::load(&file, "other").unwrap().is_none());
    let reloaded = scan(d, &mut loaded, &options);
    assert_eq!((reloaded.commits_read, reloaded.blobs_read), (0, 0));
    assert_eq!(summary(&reloaded), summary(&first));
    // One new commit: one commit and its blob read.
    write(d, "late.env", format!("STRIPE_KEY={STRIPE}\n"));
    commit_all(d);
    let late = commit(d, "late", 9);
    let next = scan(d, &mut st, &options);
    assert_eq!((next.commits_read, next.blobs_read), (1, 1));
    assert_eq!(next.findings.len(), 4);
    assert!(next.findings.iter().any(|f| f.commit == late && f.in_tip));
    // The key of .env is back in the tip: the old finding says so too.
    assert!(next.findings.iter().all(|f| f.file != ".env" || f.in_tip));
    // Rewritten: the commit is gone from every ref, and its finding too.
    git(d, &["reset", "-q", "--hard", "HEAD~1"]);
    git(d, &["reflog", "expire", "--expire=now", "--all"]);
    git(d, &["gc", "-q", "--prune=now"]);
    let rewritten = scan(d, &mut st, &options);
    assert_eq!(rewritten.commits_read, 0);
    assert_eq!(summary(&rewritten), summary(&first));
    assert!(!st.commits.contains(&late));
}

#[test]
fn bounds_cut_the_scan_and_say_so() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    let s = story(d);
    let run = |history: &str| {
        let r = run_checks(
            &format!(
                "checks:\n  - {{ name: h, kind: hardcoded_secrets, params: {{ dir: \"{}\", history: {history} }} }}\n",
                d.display()
            ),
            &[],
        );
        by(&r, "h").clone()
    };
    // The newest three commits: the config key only.
    let newest = run("{ max_commits: 3 }");
    assert_eq!(newest.state, "fail", "{}", newest.message);
    assert_eq!(newest.finding_files(), ["config.yml"]);
    assert_eq!(newest.doc["evidence"]["commits_scanned"], 3);
    assert_eq!(newest.doc["evidence"]["commits_total"], 8);
    // What a change adds to main, as a gate sees it: the token's branch.
    let gate = run(&format!(
        "{{ refs: [refs/heads/feature], baseline_commit: {} }}",
        s.removed_env
    ));
    assert_eq!(gate.finding_files(), ["tools/tok.txt"]);
    assert_eq!(gate.doc["evidence"]["commits_total"], 1);
    // Clean within the bound: a pass that says what it left out.
    let clean = run("{ refs: [refs/heads/main], since: \"2026-01-05\", max_commits: 1 }");
    assert_eq!(clean.state, "pass", "{}", clean.message);
    assert!(
        clean.message.contains("scanned 1 of 8 commits"),
        "{}",
        clean.message
    );
    // Nothing left to scan is no pass.
    let none = run("{ since: \"2030-01-01\" }");
    assert_eq!(none.state, "error", "{}", none.message);
    assert!(
        none.message.contains("no commit to scan"),
        "{}",
        none.message
    );
    let bad = run("{ refs: [refs/heads/nope] }");
    assert_eq!(bad.state, "error", "{}", bad.message);
    assert!(bad.message.contains("no ref"), "{}", bad.message);
}

#[test]
fn commit_prefixed_gitleaksignore_entries_ignore_that_commit_only() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    let s = story(d);
    let ignore = tempfile::tempdir().unwrap();
    let file = ignore.path().join("ignore");
    std::fs::write(
        &file,
        format!(
            "{}:.env:stripe-key:2\n{}:config.yml:stripe-key:2\n",
            s.added_env, s.removed_env
        ),
    )
    .unwrap();
    let r = run_checks(
        &format!(
            "checks:\n  - {{ name: h, kind: hardcoded_secrets, params: {{ dir: \"{}\", gitleaks_ignore: \"{}\", history: {{}} }} }}\n",
            d.display(),
            file.display()
        ),
        &[],
    );
    let h = by(&r, "h");
    // The first entry names the commit of the .env finding; the second
    // names another commit than config.yml's, and ignores nothing.
    let mut files = h.finding_files();
    files.sort();
    assert_eq!(files, ["config.yml", "tools/tok.txt"]);
    assert_eq!(h.doc["evidence"]["gitleaksignored"], 1);
    assert_eq!(
        h.doc["evidence"]["waived_findings"][0]["commit"],
        s.added_env.as_str()
    );
}

#[test]
fn shallow_clones_and_unreadable_blobs_warn_never_pass() {
    let origin = tempfile::tempdir().unwrap();
    let o = origin.path();
    git_init(o);
    for day in 0..3 {
        write(o, "notes.txt", format!("day {day}\n"));
        commit_all(o);
        commit(o, "note", day);
    }
    let clones = tempfile::tempdir().unwrap();
    let shallow = clones.path().join("shallow");
    let url = format!("file://{}", o.display());
    git(
        clones.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let run = |dir: &Path| {
        let r = run_checks(
            &format!(
                "checks:\n  - {{ name: h, kind: hardcoded_secrets, params: {{ dir: \"{}\", history: {{}}, max_file_size: 1KiB }} }}\n",
                dir.display()
            ),
            &[],
        );
        by(&r, "h").clone()
    };
    // A detached HEAD and no branch, as CI checks out a pull request.
    let detached = clones.path().join("detached");
    git(clones.path(), &["clone", "-q", &url, "detached"]);
    let branch = git(&detached, &["rev-parse", "--abbrev-ref", "HEAD"]);
    git(&detached, &["checkout", "-q", "--detach"]);
    git(&detached, &["branch", "-q", "-D", &branch]);
    let h = run(&detached);
    assert_eq!(h.state, "pass", "{}", h.message);
    assert_eq!(h.doc["evidence"]["refs"], serde_json::json!(["HEAD"]));
    let h = run(&shallow);
    assert_eq!(h.state, "warn", "{}", h.message);
    assert!(h.message.contains("shallow"), "{}", h.message);
    assert!(h.message.contains("fetch-depth: 0"), "{}", h.message);
    assert_eq!(h.doc["evidence"]["shallow_boundary"], 1);
    // The full history of the origin passes...
    assert_eq!(run(o).state, "pass", "{}", run(o).message);
    // ...until a blob over the cap, a binary blob and a submodule entry
    // join it: the two blobs go unread, which is a warning.
    write(o, "big.txt", "x".repeat(4096));
    write(o, "logo.bin", b"\x00\x01secret?".as_slice());
    commit_all(o);
    let head = git(o, &["rev-parse", "HEAD"]);
    git(
        o,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},vendor/lib"),
        ],
    );
    commit(o, "assets", 5);
    let h = run(o);
    assert_eq!(h.state, "warn", "{}", h.message);
    assert_eq!(h.doc["evidence"]["skipped_too_large"], 1);
    assert_eq!(h.doc["evidence"]["skipped_binary"], 1);
    assert_eq!(h.doc["evidence"]["submodules"], 1);
    // Not a repository: an error that says so.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "a.txt", "x\n");
    let h = run(plain.path());
    assert_eq!(h.state, "error", "{}", h.message);
    assert!(h.message.contains("not a git repository"), "{}", h.message);
}

#[test]
fn the_state_directory_keeps_the_scan_across_runs() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    story(d);
    let state_dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global: {{ state_dir: \"{}\" }}\nchecks:\n  - {{ name: h, kind: hardcoded_secrets, params: {{ dir: \"{}\", history: {{}} }} }}\n",
        state_dir.path().display(),
        d.display()
    );
    let first = run_checks(&config, &[]);
    assert_eq!(by(&first, "h").doc["evidence"]["commits_read"], 8);
    let second = run_checks(&config, &[]);
    let h = by(&second, "h");
    assert_eq!(h.doc["evidence"]["commits_read"], 0);
    assert_eq!(h.doc["evidence"]["state_error"], serde_json::Value::Null);
    assert_eq!(h.finding_files(), by(&first, "h").finding_files());
    let kept: Vec<_> = std::fs::read_dir(state_dir.path()).unwrap().collect();
    assert_eq!(kept.len(), 1);
}

/// A merge that resolves a conflict with content of its own (an "evil
/// merge") introduces what no parent had: the merge is named for it, which
/// `git log -p` (and so `gitleaks git`) never shows.
#[test]
fn a_merge_is_named_for_what_no_parent_had() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    git_init(d);
    git(d, &["checkout", "-q", "-b", "main"]);
    write(d, "app.env", "MODE=a\n");
    commit_all(d);
    commit(d, "init", 0);
    git(d, &["checkout", "-q", "-b", "other"]);
    write(d, "app.env", "MODE=b\n");
    commit_all(d);
    commit(d, "b", 1);
    git(d, &["checkout", "-q", "main"]);
    write(d, "app.env", "MODE=c\n");
    commit_all(d);
    commit(d, "c", 2);
    let conflict = git_on_day(d, 3, &["merge", "-q", "other"]);
    assert!(
        !conflict.status.success(),
        "the merge was meant to conflict"
    );
    write(d, "app.env", format!("MODE=c\nSTRIPE_KEY={STRIPE}\n"));
    commit_all(d);
    let merge = commit(d, "merge", 3);
    let r = scan(d, &mut State::new("t").unwrap(), &Options::default());
    assert_eq!(summary(&r), [(merge, "app.env".to_owned(), 2, true, None)]);
}
