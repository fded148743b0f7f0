//! Tests of `gitleaks.rs`: loading configs as gitleaks does, and refusing what it refuses.

use super::*;

fn finding(file: &str, rule: &str, line: usize) -> Finding {
    Finding {
        file: file.into(),
        line,
        rule: rule.into(),
        fingerprint: String::new(),
    }
}

#[test]
fn ignore_entries_match_exactly() {
    let entries = parse_ignore(
        "# reviewed\nservices/billing/.env:stripe-key:3\n0123456789abcdef0123456789abcdef01234567:app/settings.py:generic-api-key:12\n./k.pem:private-key:1\n",
    )
    .unwrap();
    assert!(entries[0].ignores(&finding("services/billing/.env", "stripe-key", 3)));
    assert!(!entries[0].ignores(&finding("services/billing/.env", "stripe-key", 4)));
    // Never by suffix: the root's .env is another file.
    assert!(!entries[0].ignores(&finding(".env", "stripe-key", 3)));
    assert!(!entries[0].ignores(&finding("billing/.env", "stripe-key", 3)));
    assert!(!entries[0].ignores(&finding("x/services/billing/.env", "stripe-key", 3)));
    assert!(entries[1].ignores(&finding("app/settings.py", "generic-secret-assignment", 12)));
    assert!(entries[2].ignores(&finding("k.pem", "private-key", 1)));
    assert!(parse_ignore("just-a-word\n")
        .unwrap_err()
        .contains("line 1"));
    assert!(parse_ignore("a:b:c\n")
        .unwrap_err()
        .contains("not a line number"));
}

use super::super::conformance::write;

#[test]
fn allowlist_conditions_targets_and_stopwords() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "g.toml",
        r#"
[[rules]]
id = "tok"
regex = '''tok_([a-z0-9]{12})'''
keywords = ["tok_"]
[[rules.allowlists]]
condition = "AND"
paths = ['''^fixtures/''']
regexTarget = "match"
regexes = ['''^tok_test''']
[[rules.allowlists]]
stopwords = ["sample"]
"#,
    );
    let config = load(&cfg).unwrap();
    assert!(!config.use_default);
    let (rules, _) = super::super::compile_rule_set(&[], &[], Some(config)).unwrap();
    let scanner = super::super::Scanner::new(rules, vec![], vec![], 1 << 20).unwrap();
    let scan = |path: &str, text: &str| {
        let mut out = Vec::new();
        scanner.scan_text(path, text, &mut out);
        out.len()
    };
    assert_eq!(
        scan("fixtures/a", "tok_test12345678"),
        0,
        "both AND criteria"
    );
    assert_eq!(scan("src/a", "tok_test12345678"), 1, "path criterion fails");
    assert_eq!(
        scan("fixtures/a", "tok_live12345678"),
        1,
        "regex criterion fails"
    );
    assert_eq!(
        scan("src/a", "tok_xsample12345"),
        0,
        "stopword in the secret"
    );
    assert_eq!(
        scan("src/a", "AKIAZ2QWERTY7UIOPASD"),
        0,
        "no built-in rules"
    );
}

#[test]
fn bad_configs_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let both = write(
        d,
        "both.toml",
        "[extend]\nuseDefault = true\npath = \"x.toml\"\n",
    );
    assert!(load(&both).unwrap_err().contains("not both"));
    let group = write(
        d,
        "g.toml",
        "[[rules]]\nid = \"r\"\nregex = 'a(b)'\nsecretGroup = 2\n",
    );
    assert!(load(&group).unwrap_err().contains("only 1 group"));
    let cond = write(
        d,
        "o.toml",
        "[[allowlists]]\ncondition = \"XOR\"\npaths = ['x']\n",
    );
    assert!(load(&cond).unwrap_err().contains("XOR"));
    let typo = write(d, "t.toml", "[[rules]]\nid = \"r\"\nregexx = \"a\"\n");
    let err = load(&typo).unwrap_err();
    assert!(
        err.contains("t.toml") && err.contains("line 3") && err.contains("regexx"),
        "{err}"
    );
    let lonely = write(
        d,
        "l.toml",
        "[extend]\nuseDefault = true\n[[rules]]\nid = \"nope\"\n",
    );
    let err = super::super::compile_rule_set(&[], &[], Some(load(&lonely).unwrap())).unwrap_err();
    assert!(err.message.contains("extends no rule"));
    // Nested repetitions gitleaks (Go's RE2) refuses: refused at once,
    // naming the rule, instead of 1.5 GB compiling them.
    let bomb = write(
        d,
        "bomb.toml",
        "[[rules]]\nid = \"bomb\"\nregex = '''((?:(?:[a-z]{1,1000}){1,1000}){1,1000})'''\n",
    );
    let err = load(&bomb).unwrap_err();
    assert!(
        err.contains("bomb") && err.contains("expression too large"),
        "{err}"
    );
    let extended = write(
        d,
        "x.toml",
        "[[rules]]\nid = \"x\"\nregex = '''(?x) key = [a-z]+'''\n",
    );
    assert!(load(&extended).unwrap_err().contains("flag"));
}
