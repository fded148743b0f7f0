//! gitleaks config conformance, one test per feature of its documented
//! format: what a config means and what gitleaks refuses.

use std::path::{Path, PathBuf};

use super::gitleaks::load;
use super::{compile_rule_set, Finding, Scanner};

/// Writes `text` to `dir/name` (shared by the scanner's config tests).
pub(super) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A scanner from one gitleaks config text.
fn scanner(toml: &str) -> Scanner {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "gitleaks.toml", toml);
    let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let (rules, allowlists) = compile_rule_set(&[], &[], Some(config)).unwrap();
    Scanner::new(rules, vec![], vec![], 1 << 20)
        .unwrap()
        .with_allowlists(allowlists)
}

fn scan(scanner: &Scanner, path: &str, text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<Finding> = Vec::new();
    scanner.scan_text(path, text, &mut out);
    out.into_iter().map(|f| (f.line, f.rule)).collect()
}

/// The error loading (or compiling) a config gives.
fn refusal(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "gitleaks.toml", toml);
    match load(&path) {
        Err(e) => e,
        Ok(config) => match compile_rule_set(&[], &[], Some(config)) {
            Err(e) => e.message,
            Ok(_) => panic!("accepted: {toml}"),
        },
    }
}

#[test]
fn without_secret_group_the_secret_is_the_first_non_empty_group() {
    // The curl rule's shape: optional groups before the credential.
    let s = scanner(
        r#"
[[rules]]
id = "curl-auth"
regex = '''curl\b.*?(?:-u\s+|--user\s+)(?:(['"])([^'":]+:[^'"]{8,})['"]|([^\s'":]+:[^\s'"]{8,}))'''
entropy = 2.5
keywords = ["curl"]
"#,
    );
    assert_eq!(
        scan(&s, "a.sh", "curl -u admin:Zx8Yw7Vu6Ts5 https://h\n"),
        [(1, "curl-auth".to_owned())]
    );
    // The quoted form: group 1 is the quote (non-empty, low entropy: the
    // first non-empty group is the quote), as gitleaks reads it.
    assert!(scan(&s, "a.sh", "curl -u 'admin:Zx8Yw7Vu6Ts5' https://h\n").is_empty());
}

#[test]
fn rules_match_across_lines_and_report_the_first_line() {
    let s = scanner(
        r#"
[[rules]]
id = "pem"
regex = '''-----BEGIN PRIVATE KEY-----[\s\S]{64,}?-----END PRIVATE KEY-----'''
keywords = ["-----begin"]

[[rules]]
id = "xml-password"
regex = '''<password>\s*([^<\s]{8,})\s*</password>'''
keywords = ["<password>"]
"#,
    );
    let pem = format!(
        "x\n# key\n-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
        "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu"
    );
    assert_eq!(scan(&s, "k", &pem), [(3, "pem".to_owned())]);
    let xml = "<db>\n  <password>\n    Zx8Yw7Vu6Ts5Rq4\n  </password>\n</db>\n";
    assert_eq!(scan(&s, "c.xml", xml), [(2, "xml-password".to_owned())]);
}

#[test]
fn composite_rules_need_their_required_rules_nearby() {
    let toml = r#"
[[rules]]
id = "client-id"
regex = '''client_id\s*=\s*"([a-z0-9]{12})"'''
keywords = ["client_id"]
skipReport = true

[[rules]]
id = "client-secret"
regex = '''client_secret\s*=\s*"([A-Za-z0-9]{16})"'''
keywords = ["client_secret"]
    [[rules.required]]
    id = "client-id"
    withinLines = 2
"#;
    let s = scanner(toml);
    let near = "client_id = \"abc123def456\"\nclient_secret = \"Zx8Yw7Vu6Ts5Rq4P\"\n";
    assert_eq!(scan(&s, "a", near), [(2, "client-secret".to_owned())]);
    let far = "client_id = \"abc123def456\"\n\n\n\nclient_secret = \"Zx8Yw7Vu6Ts5Rq4P\"\n";
    assert!(scan(&s, "a", far).is_empty(), "5 lines apart");
    let alone = "client_secret = \"Zx8Yw7Vu6Ts5Rq4P\"\n";
    assert!(scan(&s, "a", alone).is_empty(), "no client id");
    let columns = scanner(&toml.replace("withinLines = 2", "withinColumns = 4"));
    let aligned = "client_id = \"abc123def456\"\nclient_secret = \"Zx8Yw7Vu6Ts5Rq4P\"\n";
    assert_eq!(scan(&columns, "a", aligned).len(), 1);
    let shifted = "client_id = \"abc123def456\"\n          client_secret = \"Zx8Yw7Vu6Ts5Rq4P\"\n";
    assert!(scan(&columns, "a", shifted).is_empty());
    assert!(refusal(&toml.replace(
        "id = \"client-id\"\n    withinLines",
        "id = \"nope\"\n    withinLines"
    ))
    .contains("does not exist"));
}

#[test]
fn extend_chains_follow_gitleaks_depth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rule = |id: &str| format!("[[rules]]\nid = \"{id}\"\nregex = '''{id}_[0-9]{{6}}'''\n");
    write(d, "d.toml", &rule("dee"));
    write(
        d,
        "c.toml",
        &format!("[extend]\npath = \"d.toml\"\n{}", rule("cee")),
    );
    write(
        d,
        "b.toml",
        &format!("[extend]\npath = \"c.toml\"\n{}", rule("bee")),
    );
    let a = write(
        d,
        "a.toml",
        &format!("[extend]\npath = \"b.toml\"\n{}", rule("ay")),
    );
    let ids: Vec<String> = load(&a).unwrap().rules.into_iter().map(|r| r.id).collect();
    // a, then b and c below it; c's own [extend] is past gitleaks' depth.
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(!ids.contains(&"dee".to_owned()));

    // An extending rule of the same id adds its keywords and allowlists
    // and replaces what it sets.
    write(
        d,
        "base.toml",
        "[[rules]]\nid = \"tok\"\nregex = '''tok_[a-z0-9]{8}'''\nkeywords = [\"tok_\"]\n",
    );
    let child = write(
        d,
        "child.toml",
        "[extend]\npath = \"base.toml\"\n[[rules]]\nid = \"tok\"\n    [[rules.allowlists]]\n    stopwords = [\"sample\"]\n",
    );
    let config = load(&child).unwrap();
    let (rules, _) = compile_rule_set(&[], &[], Some(config)).unwrap();
    let s = Scanner::new(rules, vec![], vec![], 1 << 20).unwrap();
    assert_eq!(scan(&s, "a", "tok_zq81x7w2").len(), 1);
    assert!(scan(&s, "a", "tok_sample12").is_empty());
}

#[test]
fn a_config_of_allowlists_only_extends_the_default_rules() {
    let s = scanner(
        r#"
[extend]
useDefault = true

[[allowlists]]
paths = ['''^fixtures/''']
"#,
    );
    let key = "STRIPE_KEY=sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs\n";
    assert_eq!(scan(&s, "src/app.env", key).len(), 1);
    assert!(scan(&s, "fixtures/app.env", key).is_empty());
}

#[test]
fn gitleaks_refusals_are_config_errors() {
    let empty = refusal("[[rules]]\nid = \"r\"\nregex = 'r_[0-9]{6}'\n    [[rules.allowlists]]\n    description = \"nothing\"\n");
    assert!(empty.contains("at least one of"), "{empty}");
    let mixed = refusal(
        "[[rules]]\nid = \"r\"\nregex = 'r_[0-9]{6}'\n    [rules.allowlist]\n    paths = ['a']\n    [[rules.allowlists]]\n    paths = ['b']\n",
    );
    assert!(mixed.contains("both set"), "{mixed}");
    let global = refusal(
        "[[rules]]\nid = \"r\"\nregex = 'r_[0-9]{6}'\n[allowlist]\npaths = ['a']\n[[allowlists]]\npaths = ['b']\n",
    );
    assert!(global.contains("both set"), "{global}");
    let target = refusal(
        "[[rules]]\nid = \"r\"\nregex = 'r_[0-9]{6}'\n[[allowlists]]\ntargetRules = [\"nope\"]\npaths = ['a']\n",
    );
    assert!(target.contains("\"nope\""), "{target}");
    let both = refusal("[extend]\nuseDefault = true\npath = \"x.toml\"\n");
    assert!(both.contains("not both"), "{both}");
}

#[test]
fn and_allowlists_with_commits_never_allow_a_working_tree_finding() {
    let toml = r#"
[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{8}'''
keywords = ["tok_"]
    [[rules.allowlists]]
    condition = "AND"
    commits = ["0123456789abcdef0123456789abcdef01234567"]
    paths = ['''^fixtures/''']
"#;
    let s = scanner(toml);
    assert_eq!(scan(&s, "fixtures/a", "tok_zq81x7w2").len(), 1);
    // With OR, the path alone allows it.
    let or = scanner(&toml.replace("\"AND\"", "\"OR\""));
    assert!(scan(&or, "fixtures/a", "tok_zq81x7w2").is_empty());
}

#[test]
fn entropy_must_exceed_the_floor_and_generic_secrets_need_a_digit() {
    let s = scanner(
        r#"
[[rules]]
id = "generic-thing"
regex = '''thing\s*=\s*"([A-Za-z0-9]{12,})"'''
keywords = ["thing"]
entropy = 3.0
"#,
    );
    assert_eq!(scan(&s, "a", "thing = \"Zx8Yw7Vu6Ts5\"").len(), 1);
    assert!(
        scan(&s, "a", "thing = \"ZxqYwmVuhTsb\"").is_empty(),
        "no digit"
    );
    // "aabbccdd" has 2 bits per character: not above a floor of 2.
    let floor = scanner("[[rules]]\nid = \"t\"\nregex = '''t=([a-z]{8})'''\nentropy = 2.0\n");
    assert!(scan(&floor, "a", "t=aabbccdd").is_empty());
    assert_eq!(scan(&floor, "a", "t=aabbccde").len(), 1);
}

#[test]
fn line_targets_see_every_line_of_a_multi_line_match() {
    let s = scanner(
        r#"
[[rules]]
id = "xml-password"
regex = '''<password>\s*([^<\s]{8,})\s*</password>'''
keywords = ["<password>"]
    [[rules.allowlists]]
    regexTarget = "line"
    regexes = ['''(?s)<password>.*EXAMPLE''']
"#,
    );
    assert!(scan(&s, "c.xml", "<password>\n  Zx8Yw7Vu6EXAMPLE\n</password>\n").is_empty());
    assert_eq!(
        scan(&s, "c.xml", "<password>\n  Zx8Yw7Vu6Ts5Rq4\n</password>\n").len(),
        1
    );
}

#[test]
fn regexes_read_as_re2_reads_them() {
    let s = scanner(
        r#"
[[rules]]
id = "handlebars"
regex = '''token:\s*(\$?{{[^}]+}}|\w{12,})'''
keywords = ["token"]
"#,
    );
    assert_eq!(scan(&s, "a", "token: Zx8Yw7Vu6Ts5").len(), 1);
    assert_eq!(scan(&s, "a", "token: ${{ secrets.X }}").len(), 1);
    // `\w` is ASCII: a Unicode word does not make a secret.
    assert!(scan(&s, "a", "token: ñandúñandúñandú").is_empty());
}
