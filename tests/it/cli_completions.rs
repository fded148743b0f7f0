//! `completions <shell>` and `man`: generated from the CLI's definition, so
//! every subcommand and flag is in them; the bash script is valid bash and
//! registers its completion.

use crate::support::{run_cli, stdout};

#[test]
fn completion_scripts_and_the_man_page_cover_the_cli() {
    let bash = stdout(&run_cli(&["completions", "bash"], &[]));
    for word in [
        "check",
        "validate",
        "advisories",
        "--fail-on",
        "--config.file",
        "sarif",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("prodready-exporter.bash");
    std::fs::write(&script, &bash).unwrap();
    let registered = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p prodready-exporter",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        registered.status.success()
            && String::from_utf8_lossy(&registered.stdout).contains("prodready-exporter"),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&run_cli(&["completions", shell], &[]));
        assert!(script.contains("fail-on"), "{shell}: {script}");
    }
    let bad = run_cli(&["completions", "tcsh"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    let man = stdout(&run_cli(&["man"], &[]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH prodready-exporter 1"),
        "{man}"
    );
    assert!(man.contains(".TH prodready-exporter 1"));
    for word in [
        "config.file",
        "web.listen\\-address",
        "check",
        "completions",
    ] {
        assert!(man.contains(word), "the man page lacks {word}");
    }
}
