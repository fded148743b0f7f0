//! gitleaks compatibility, so a team keeps one rule set: gitleaks' TOML
//! config (`[[rules]]` with `regex`, `secretGroup`, `entropy`, `keywords`,
//! `path`, per-rule `[[rules.allowlists]]` / `[rules.allowlist]`; global
//! `[[allowlists]]` / `[allowlist]` with `targetRules`; `[extend]` with
//! `useDefault`, `path` (two levels at most) and `disabledRules`) and its
//! `.gitleaksignore` of finding fingerprints. The built-in rules stand in for
//! gitleaks' default config: `useDefault = true` keeps them, and gitleaks'
//! default rule ids name the built-in rule that covers the same secret.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use super::{Allowlist, Finding, RegexTarget};

/// gitleaks' default rule ids and the built-in rule covering the same
/// secrets, for `disabledRules` and rule extensions.
const DEFAULT_IDS: &[(&str, &str)] = &[
    ("aws-access-token", "aws-access-key-id"),
    ("github-pat", "github-token"),
    ("github-oauth", "github-token"),
    ("github-app-token", "github-token"),
    ("github-refresh-token", "github-token"),
    ("github-fine-grained-pat", "github-token"),
    ("gitlab-pat", "gitlab-token"),
    ("slack-bot-token", "slack-token"),
    ("slack-user-token", "slack-token"),
    ("slack-app-token", "slack-token"),
    ("slack-legacy-token", "slack-token"),
    ("slack-webhook-url", "slack-webhook"),
    ("stripe-access-token", "stripe-key"),
    ("gcp-api-key", "google-api-key"),
    ("generic-api-key", "generic-secret-assignment"),
    ("generic-api-key", "generic-unquoted-secret-assignment"),
];

/// The built-in ids a rule id names: itself, or those it stands for.
pub fn builtin_ids(id: &str) -> Vec<&str> {
    let aliased: Vec<&str> = DEFAULT_IDS
        .iter()
        .filter(|(gitleaks, _)| *gitleaks == id)
        .map(|(_, builtin)| *builtin)
        .collect();
    if aliased.is_empty() {
        vec![id]
    } else {
        aliased
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    #[allow(dead_code)] // informational
    title: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // informational
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // informational
    min_version: Option<String>,
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<RuleFile>,
    #[serde(default)]
    allowlist: Option<AllowlistFile>,
    #[serde(default)]
    allowlists: Vec<AllowlistFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Extend {
    #[serde(default)]
    use_default: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleFile {
    id: String,
    #[serde(default)]
    #[allow(dead_code)] // informational
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // informational
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<AllowlistFile>,
    #[serde(default)]
    allowlists: Vec<AllowlistFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AllowlistFile {
    #[serde(default)]
    #[allow(dead_code)] // informational
    description: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    /// Commits never match a scan of the working tree.
    #[serde(default)]
    #[allow(dead_code)]
    commits: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    target_rules: Vec<String>,
}

/// One rule of a gitleaks config, compiled.
#[derive(Debug)]
pub struct GitleaksRule {
    pub id: String,
    pub regex: Option<Regex>,
    pub path: Option<Regex>,
    pub secret_group: Option<usize>,
    pub entropy: Option<f64>,
    pub keywords: Vec<String>,
    pub allowlists: Vec<Allowlist>,
}

/// A gitleaks config with what it extends, in order: the rules of the
/// deepest extended file first, so later ones replace or extend them.
#[derive(Debug, Default)]
pub struct GitleaksConfig {
    /// `[extend] useDefault = true` somewhere in the chain: keep the
    /// built-in rules (without it the config's rules are the only ones).
    pub use_default: bool,
    pub disabled: Vec<String>,
    pub rules: Vec<GitleaksRule>,
    pub allowlists: Vec<Allowlist>,
}

/// Reads a gitleaks config; `[extend] path` is relative to the file's own
/// directory (gitleaks takes it relative to where it runs, which a daemon
/// has no meaningful notion of).
pub fn load(path: &Path) -> Result<GitleaksConfig, String> {
    let mut config = GitleaksConfig::default();
    load_into(path, 0, &mut config)?;
    Ok(config)
}

fn load_into(path: &Path, depth: usize, out: &mut GitleaksConfig) -> Result<(), String> {
    let shown = path.display();
    let text = crate::files::read_text(path, 4 * 1024 * 1024)?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| format!(" at line {}", before.matches('\n').count() + 1))
            .unwrap_or_default();
        format!("{shown}: invalid gitleaks config{at}: {}", e.message())
    })?;
    if let Some(extend) = &file.extend {
        match (&extend.path, extend.use_default) {
            (Some(_), true) => {
                return Err(format!(
                    "{shown}: [extend] takes useDefault or path, not both"
                ))
            }
            (Some(base), false) => {
                if depth >= 2 {
                    return Err(format!(
                        "{shown}: [extend] path {base:?}: configs extend to a depth of 2 at most"
                    ));
                }
                let dir = path.parent().unwrap_or(Path::new("."));
                load_into(&dir.join(base), depth + 1, out)?;
            }
            (None, use_default) => out.use_default |= use_default,
        }
        out.disabled.extend(extend.disabled_rules.iter().cloned());
    }
    for (i, rule) in file.rules.iter().enumerate() {
        let at = format!("{shown}: rules[{i}] ({})", rule.id);
        let compile = |what: &str, pattern: &str| {
            Regex::new(pattern).map_err(|e| format!("{at}: invalid {what}: {e}"))
        };
        let regex = rule
            .regex
            .as_deref()
            .map(|r| compile("regex", r))
            .transpose()?;
        if let (Some(re), Some(group)) = (&regex, rule.secret_group) {
            if group > re.captures_len() - 1 {
                return Err(format!(
                    "{at}: secretGroup {group}, but the regex has only {} group(s)",
                    re.captures_len() - 1
                ));
            }
        }
        let mut allowlists = Vec::new();
        for (j, a) in rule.allowlist.iter().chain(&rule.allowlists).enumerate() {
            allowlists.push(allowlist(a, &format!("{at}: allowlists[{j}]"), true)?);
        }
        out.rules.push(GitleaksRule {
            id: rule.id.clone(),
            regex,
            path: rule
                .path
                .as_deref()
                .map(|p| compile("path", p))
                .transpose()?,
            secret_group: rule.secret_group,
            entropy: rule.entropy,
            keywords: rule.keywords.iter().map(|k| k.to_lowercase()).collect(),
            allowlists,
        });
    }
    for (j, a) in file.allowlist.iter().chain(&file.allowlists).enumerate() {
        out.allowlists
            .push(allowlist(a, &format!("{shown}: allowlists[{j}]"), false)?);
    }
    Ok(())
}

fn allowlist(a: &AllowlistFile, at: &str, per_rule: bool) -> Result<Allowlist, String> {
    let and = match a
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => return Err(format!("{at}: condition {other:?} is neither OR nor AND")),
    };
    let target = match a.regex_target.as_deref() {
        None | Some("secret") => RegexTarget::Secret,
        Some("match") => RegexTarget::Match,
        Some("line") => RegexTarget::Line,
        Some(other) => {
            return Err(format!(
                "{at}: regexTarget {other:?} is not secret, match or line"
            ))
        }
    };
    if per_rule && !a.target_rules.is_empty() {
        return Err(format!(
            "{at}: targetRules belongs to a global [[allowlists]]"
        ));
    }
    let compile = |what: &str, list: &[String]| -> Result<Vec<Regex>, String> {
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p).map_err(|e| format!("{at}: {what}[{i}]: invalid regex: {e}"))
            })
            .collect()
    };
    Ok(Allowlist {
        and,
        paths: compile("paths", &a.paths)?,
        regexes: compile("regexes", &a.regexes)?,
        target,
        stopwords: a.stopwords.iter().map(|s| s.to_lowercase()).collect(),
        rules: a.target_rules.clone(),
    })
}

/// One `.gitleaksignore` entry: `file:rule:line`, as `gitleaks dir` prints
/// fingerprints, or `commit:file:rule:line` from a git scan (the commit is
/// not compared: the working tree is scanned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    file: String,
    rule: String,
    line: usize,
}

/// Reads `.gitleaksignore` text; lines that are no fingerprint are errors
/// naming their line (a typo must not silently ignore nothing).
pub fn parse_ignore(text: &str) -> Result<Vec<IgnoreEntry>, String> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.rsplitn(3, ':');
        let (Some(number), Some(rule), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "line {}: not a gitleaks fingerprint (file:rule-id:line)",
                n + 1
            ));
        };
        let number: usize = number
            .parse()
            .map_err(|_| format!("line {}: {number:?} is not a line number", n + 1))?;
        // `<40 hex>:path` from a git scan.
        let file = match file.split_once(':') {
            Some((commit, rest))
                if commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                rest
            }
            _ => file,
        };
        out.push(IgnoreEntry {
            file: file.trim_start_matches("./").to_owned(),
            rule: rule.to_owned(),
            line: number,
        });
    }
    Ok(out)
}

impl IgnoreEntry {
    /// The same finding: rule (or a gitleaks default id standing for it),
    /// line, and a path equal to the finding's or ending in it (gitleaks
    /// prints the path as it was given: `repo/.env`, `/src/repo/.env`).
    pub fn ignores(&self, f: &Finding) -> bool {
        self.line == f.line
            && (self.rule == f.rule || builtin_ids(&self.rule).contains(&f.rule.as_str()))
            && (self.file == f.file
                || self
                    .file
                    .strip_suffix(&f.file)
                    .is_some_and(|head| head.ends_with('/')))
    }
}

#[cfg(test)]
mod tests {
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
    fn ignore_entries_match_dir_and_git_fingerprints() {
        let entries = parse_ignore(
            "# reviewed\n/srv/repo/config/.env:stripe-key:3\n0123456789abcdef0123456789abcdef01234567:app/settings.py:generic-api-key:12\n./k.pem:private-key:1\n",
        )
        .unwrap();
        assert!(entries[0].ignores(&finding("config/.env", "stripe-key", 3)));
        assert!(!entries[0].ignores(&finding("config/.env", "stripe-key", 4)));
        assert!(!entries[0].ignores(&finding("other/config/.env.x", "stripe-key", 3)));
        assert!(!entries[0].ignores(&finding("g/.env", "stripe-key", 3)));
        assert!(entries[1].ignores(&finding("app/settings.py", "generic-secret-assignment", 12)));
        assert!(entries[2].ignores(&finding("k.pem", "private-key", 1)));
        assert!(parse_ignore("just-a-word\n")
            .unwrap_err()
            .contains("line 1"));
        assert!(parse_ignore("a:b:c\n")
            .unwrap_err()
            .contains("not a line number"));
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

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
        write(d, "c.toml", "[extend]\npath = \"d.toml\"\n");
        write(d, "b.toml", "[extend]\npath = \"c.toml\"\n");
        let a = write(d, "a.toml", "[extend]\npath = \"b.toml\"\n");
        assert!(load(&a).unwrap_err().contains("depth of 2"));
        let group = write(
            d,
            "g.toml",
            "[[rules]]\nid = \"r\"\nregex = 'a(b)'\nsecretGroup = 2\n",
        );
        assert!(load(&group).unwrap_err().contains("only 1 group"));
        let cond = write(d, "o.toml", "[[allowlists]]\ncondition = \"XOR\"\n");
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
        let err =
            super::super::compile_rule_set(&[], &[], Some(load(&lonely).unwrap())).unwrap_err();
        assert!(err.message.contains("extends no rule"));
    }
}
