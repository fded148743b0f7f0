//! The secret scanner behind `hardcoded_secrets`: gitleaks-style rules
//! (regex + keywords + entropy, composite rules) run over each file whole,
//! so patterns that span lines match, with a keyword prefilter, allowlists,
//! and a tree walk (`walk`) that honours .gitignore for untracked files
//! only, skips binaries and files over a size cap and never follows
//! symlinks. Findings carry a fingerprint, never the secret. gitleaks' TOML
//! configs and `.gitleaksignore` are read by `gitleaks`, with Go RE2 regex
//! semantics (`re2`). Knows nothing of checks, the engine or the config.

mod compile;
#[cfg(test)]
mod conformance;
pub mod gitleaks;
pub mod history;
mod matcher;
pub mod re2;
pub mod rules;
mod walk;
mod window;

pub use compile::{compile_rule_set, compile_rules, RuleError};
pub use walk::ScanStats;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;

use rules::RuleSpec;

/// Which part of a match is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretGroup {
    /// gitleaks' default (no `secretGroup`): the first capture group that
    /// matched something non-empty, else the whole match.
    FirstNonEmpty,
    /// This group (0: the whole match); a match without it is no finding.
    Index(usize),
}

/// A rule of a composite rule: the primary rule reports only when each
/// required rule also matches, within these distances when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub id: String,
    pub within_lines: Option<usize>,
    pub within_columns: Option<usize>,
}

/// A rule after compilation.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    /// `None`: a gitleaks path-only rule, whose finding is the file itself.
    regex: Option<Regex>,
    /// The rule applies only to files whose relative path matches.
    path: Option<Regex>,
    keywords: Vec<String>,
    secret_group: SecretGroup,
    /// The secret's Shannon entropy must exceed this.
    entropy: Option<f64>,
    ignore_values: Option<Regex>,
    allowlists: Vec<Allowlist>,
    required: Vec<Required>,
    /// Only an auxiliary of composite rules: its own matches are not reported.
    skip_report: bool,
}

/// What a gitleaks allowlist's `regexes` are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    Secret,
    Match,
    Line,
}

/// A gitleaks-style allowlist: a finding is allowed when any (`OR`, the
/// default) or all (`AND`) of the criteria it sets match.
#[derive(Debug, Clone)]
pub struct Allowlist {
    pub and: bool,
    /// The commits it lists (lowercase): a criterion no file of a working
    /// tree meets; a history scan allows what these commits introduced.
    pub commits: Vec<String>,
    pub paths: Vec<Regex>,
    pub regexes: Vec<Regex>,
    pub target: RegexTarget,
    /// Lowercase words; the secret containing one is allowed.
    pub stopwords: Vec<String>,
    /// Rule ids a global allowlist applies to (`targetRules`); empty: all.
    pub rules: Vec<String>,
}

/// One match of a rule, as the allowlists see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen<'t> {
    pub path: &'t str,
    /// The whole lines the match spans.
    pub line: &'t str,
    pub matched: &'t str,
    pub secret: &'t str,
}

impl Allowlist {
    /// Whether it applies to `rule` (`targetRules`, gitleaks' ids too).
    fn covers(&self, rule: &str) -> bool {
        self.rules.is_empty()
            || self
                .rules
                .iter()
                .any(|r| r == rule || gitleaks::builtin_ids(r).contains(&rule))
    }

    /// Whether it allows, on its commits alone, what `commit` introduced:
    /// an `OR` allowlist listing the commit (an `AND` one needs its other
    /// criteria too, which were judged without the commit).
    pub(crate) fn allows_commit(&self, rule: &str, commit: &str) -> bool {
        !self.and && self.covers(rule) && self.commits.iter().any(|c| c == commit)
    }

    fn allows(&self, rule: &str, seen: &Seen<'_>) -> bool {
        if !self.covers(rule) {
            return false;
        }
        let target = match self.target {
            RegexTarget::Secret => seen.secret,
            RegexTarget::Match => seen.matched,
            RegexTarget::Line => seen.line,
        };
        let mut criteria = Vec::with_capacity(4);
        if !self.commits.is_empty() {
            // A working tree has no commit to compare.
            criteria.push(false);
        }
        if !self.paths.is_empty() {
            criteria.push(self.paths.iter().any(|re| re.is_match(seen.path)));
        }
        if !self.regexes.is_empty() {
            criteria.push(self.regexes.iter().any(|re| re.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = seen.secret.to_lowercase();
            criteria.push(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        !criteria.is_empty()
            && if self.and {
                criteria.iter().all(|c| *c)
            } else {
                criteria.iter().any(|c| *c)
            }
    }
}

/// Lines carrying this are not reported (gitleaks' inline marker).
const INLINE_ALLOW: &str = "gitleaks:allow";

impl Rule {
    pub fn compile(spec: &RuleSpec) -> Result<Rule, String> {
        let compile =
            |pattern: &str| re2::compile(pattern).map_err(|e| format!("rule {}: {e}", spec.id));
        Ok(Rule {
            id: spec.id.to_owned(),
            regex: (!spec.regex.is_empty())
                .then(|| compile(spec.regex))
                .transpose()?,
            path: spec.path.map(compile).transpose()?,
            keywords: spec.keywords.iter().map(|k| k.to_lowercase()).collect(),
            secret_group: SecretGroup::Index(spec.secret_group),
            entropy: spec.entropy,
            ignore_values: spec.ignore_values.map(compile).transpose()?,
            allowlists: Vec::new(),
            required: Vec::new(),
            skip_report: false,
        })
    }

    fn applies_to(&self, path: &str) -> bool {
        self.path.as_ref().is_none_or(|re| re.is_match(path))
    }

    /// gitleaks' generic rules (an id holding `generic`) need a digit in
    /// the secret and yield to specific rules on the same line.
    fn is_generic(&self) -> bool {
        self.id.to_ascii_lowercase().contains("generic")
    }

    /// The secrets this rule finds in a text (its examples, a test line).
    pub fn secrets_in<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.hits_in(text)
            .into_iter()
            .map(|h| &text[h.secret.0..h.secret.1])
            .collect()
    }
}

/// A file's bytes as text: borrowed when they are UTF-8 (checked at
/// `from_utf8`'s speed), else with invalid sequences replaced.
pub(crate) fn as_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let len = s.chars().count() as f64;
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// A user rule from config.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    pub id: String,
    pub regex: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub secret_group: usize,
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Lines that must be found (checked when the config loads).
    #[serde(default)]
    pub examples: Vec<String>,
    /// Lines that must not be found.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// One secret found: where (relative path, 1-based line where the match
/// starts; 0 for a path-only rule) and by which rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub rule: String,
    pub fingerprint: String,
}

/// Whether findings can depend on a file's path: a rule with both `path`
/// and a regex, or an allowlist (global or a rule's) with `paths`.
fn path_sensitive(rules: &[Rule], global: &[Allowlist]) -> bool {
    rules.iter().any(|r| r.path.is_some() && r.regex.is_some())
        || global
            .iter()
            .chain(rules.iter().flat_map(|r| &r.allowlists))
            .any(|a| !a.paths.is_empty())
}

/// A compiled rule set with its prefilter and allowlists.
#[derive(Debug)]
pub struct Scanner {
    rules: Vec<Rule>,
    /// Keyword automaton; pattern index -> rule indices.
    prefilter: AhoCorasick,
    keyword_rules: Vec<Vec<usize>>,
    always: Vec<usize>,
    allow_paths: Vec<Regex>,
    allow_lines: Vec<Regex>,
    /// gitleaks' global allowlists.
    allowlists: Vec<Allowlist>,
    /// gitleaks path-only rules, tried on every file's path.
    path_rules: Vec<usize>,
    max_file_size: u64,
    /// `None`: fingerprints by place (`path:rule:line`).
    fingerprint_key: Option<ring::hmac::Key>,
    /// Per rule: the newlines a match spans when the rule runs on the lines
    /// around its keywords (`window`), `None` when it runs on the whole file.
    spans: Vec<Option<usize>>,
    /// Per rule: its keywords' prefilter pattern indices.
    rule_patterns: Vec<Vec<usize>>,
    /// Per prefilter pattern: whether a windowed rule needs its positions.
    pattern_windowed: Vec<bool>,
    /// A file's findings can depend on its path (`path_sensitive`).
    path_sensitive: bool,
}

/// A finding's fingerprint, stable across runs and machines and revealing
/// nothing of the secret. By default gitleaks' `path:rule:line` (it changes
/// when the line moves). With a key (`fingerprint_key_file`),
/// `path:rule:hash` where the hash is a truncated HMAC-SHA256 of rule and
/// secret under that key: it follows the secret when lines move, and
/// nobody without the key can test guesses of the secret against it.
fn fingerprint(
    key: Option<&ring::hmac::Key>,
    relative: &str,
    rule: &str,
    line: usize,
    secret: &str,
) -> String {
    let Some(key) = key else {
        return format!("{relative}:{rule}:{line}");
    };
    format!("{relative}:{rule}:{}", secret_hash(key, rule, secret))
}

/// A truncated HMAC-SHA256 of rule and secret under `key` (16 hex digits):
/// the same secret under the same rule gives the same hash; without the
/// key, guesses of the secret cannot be tested against it.
pub(crate) fn secret_hash(key: &ring::hmac::Key, rule: &str, secret: &str) -> String {
    let mut ctx = ring::hmac::Context::with_key(key);
    ctx.update(rule.as_bytes());
    ctx.update(b"\0");
    ctx.update(secret.as_bytes());
    ctx.sign().as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Scanner {
    pub fn new(
        rules: Vec<Rule>,
        allow_paths: Vec<Regex>,
        allow_lines: Vec<Regex>,
        max_file_size: u64,
    ) -> Result<Scanner, String> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        let mut path_rules = Vec::new();
        let mut rule_patterns = vec![Vec::new(); rules.len()];
        for (i, r) in rules.iter().enumerate() {
            if r.regex.is_none() {
                path_rules.push(i);
                continue;
            }
            if r.keywords.is_empty() {
                always.push(i);
            }
            for k in &r.keywords {
                let p = match keywords.iter().position(|x| x == k) {
                    Some(p) => {
                        keyword_rules[p].push(i);
                        p
                    }
                    None => {
                        keywords.push(k.clone());
                        keyword_rules.push(vec![i]);
                        keywords.len() - 1
                    }
                };
                rule_patterns[i].push(p);
            }
        }
        let spans = rules
            .iter()
            .map(|r| {
                r.regex
                    .as_ref()
                    .and_then(|re| window::span_lines(re.as_str(), &r.keywords))
            })
            .collect::<Vec<Option<usize>>>();
        let mut pattern_windowed = vec![false; keywords.len()];
        for (i, patterns) in rule_patterns.iter().enumerate() {
            if spans[i].is_some() {
                for &p in patterns {
                    pattern_windowed[p] = true;
                }
            }
        }
        let sensitive = path_sensitive(&rules, &[]);
        let prefilter = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            // A full DFA: the overlapping search that finds every keyword
            // is a table lookup per byte (twice the contiguous NFA's speed).
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&keywords)
            .map_err(|e| format!("cannot build the keyword prefilter: {e}"))?;
        Ok(Scanner {
            rules,
            prefilter,
            keyword_rules,
            always,
            allow_paths,
            allow_lines,
            allowlists: Vec::new(),
            path_rules,
            max_file_size,
            fingerprint_key: None,
            path_sensitive: sensitive,
            spans,
            rule_patterns,
            pattern_windowed,
        })
    }

    /// Adds gitleaks' global allowlists.
    pub fn with_allowlists(mut self, allowlists: Vec<Allowlist>) -> Scanner {
        self.path_sensitive = path_sensitive(&self.rules, &allowlists);
        self.allowlists = allowlists;
        self
    }

    /// Keys fingerprints with `key` (from a key file shared by every run that
    /// reads or writes a baseline) instead of fingerprinting by place.
    pub fn with_fingerprint_key(mut self, key: &[u8]) -> Scanner {
        self.fingerprint_key = Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key));
        self
    }

    /// The key fingerprints are made with, when one is set.
    pub(crate) fn fingerprint_key(&self) -> Option<&ring::hmac::Key> {
        self.fingerprint_key.as_ref()
    }

    pub(crate) fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Whether `allowlist.paths` skips this file whole.
    pub(crate) fn skips_path(&self, relative: &str) -> bool {
        self.allow_paths.iter().any(|re| re.is_match(relative))
    }

    /// Whether a file's findings can depend on its path (rules or
    /// allowlists with `path`/`paths`), so equal contents at two paths may
    /// differ. Worked out once, when the scanner is made.
    pub(crate) fn path_sensitive(&self) -> bool {
        self.path_sensitive
    }

    /// Whether a global or `rule`'s own allowlist allows, by its commits,
    /// what `commit` introduced (a history scan).
    pub(crate) fn commit_allowed(&self, rule: &str, commit: &str) -> bool {
        self.allowlists
            .iter()
            .chain(
                self.rules
                    .iter()
                    .filter(|r| r.id == rule)
                    .flat_map(|r| &r.allowlists),
            )
            .any(|a| a.allows_commit(rule, commit))
    }

    fn allowed(&self, rule: &Rule, seen: &Seen<'_>) -> bool {
        self.allowlists
            .iter()
            .chain(&rule.allowlists)
            .any(|a| a.allows(&rule.id, seen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_finds_its_examples_and_not_its_negative_examples() {
        let mut ids = std::collections::HashSet::new();
        for spec in rules::all() {
            assert!(ids.insert(spec.id), "duplicate rule id {}", spec.id);
            let rule = Rule::compile(spec).unwrap();
            if spec.regex.is_empty() {
                assert!(rule.applies_to("certs/client.p12") || spec.path.is_some());
                continue;
            }
            assert!(
                !spec.examples.is_empty() && !spec.negative_examples.is_empty(),
                "{}",
                spec.id
            );
            for e in spec.examples {
                assert!(
                    !rule.secrets_in(e).is_empty(),
                    "{} misses its example {e:?}",
                    spec.id
                );
                let lower = e.to_lowercase();
                assert!(
                    spec.keywords.is_empty() || spec.keywords.iter().any(|k| lower.contains(k)),
                    "{}: example {e:?} has none of the keywords, the prefilter would skip it",
                    spec.id
                );
            }
            for n in spec.negative_examples {
                assert!(
                    rule.secrets_in(n).is_empty(),
                    "{} finds its negative example {n:?}",
                    spec.id
                );
            }
        }
        assert!(ids.len() >= 100, "{} rules", ids.len());
    }

    #[test]
    fn findings_carry_a_fingerprint_not_the_secret() {
        let scanner =
            Scanner::new(compile_rules(&[], &[]).unwrap(), vec![], vec![], 1 << 20).unwrap();
        let mut out = Vec::new();
        scanner.scan_text(
            "app/.env",
            "X=1\nSTRIPE_KEY=sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs\n",
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, 2);
        assert_eq!(out[0].rule, "stripe-key");
        // By default gitleaks' fingerprint: the same in every run and on
        // every machine, and nothing of the secret in it.
        assert_eq!(out[0].fingerprint, "app/.env:stripe-key:2");
        assert!(!format!("{out:?}").contains("sk_live_51Hq7"));
        // Keyed: the same key gives the same fingerprint, another key another.
        let text = "STRIPE_KEY=sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs\n";
        let keyed = |key: &[u8]| {
            let scanner = Scanner::new(compile_rules(&[], &[]).unwrap(), vec![], vec![], 1 << 20)
                .unwrap()
                .with_fingerprint_key(key);
            let mut out = Vec::new();
            scanner.scan_text("a", text, &mut out);
            out[0].fingerprint.clone()
        };
        assert_eq!(keyed(b"0123456789abcdef"), keyed(b"0123456789abcdef"));
        assert_ne!(keyed(b"0123456789abcdef"), keyed(b"fedcba9876543210"));
        assert!(keyed(b"0123456789abcdef").starts_with("a:stripe-key:"));
        assert!(!keyed(b"0123456789abcdef").ends_with(":1"));
    }

    #[test]
    fn custom_rules_are_checked_against_their_examples() {
        let rule = |examples: Vec<String>, negative: Vec<String>| CustomRule {
            id: "acme".into(),
            regex: r"(acme_[0-9a-f]{16})".into(),
            keywords: vec!["acme_".into()],
            secret_group: 1,
            entropy: None,
            examples,
            negative_examples: negative,
        };
        assert!(compile_rules(
            &[rule(
                vec!["k=acme_0123456789abcdef".into()],
                vec!["acme_x".into()]
            )],
            &[]
        )
        .is_ok());
        let err = compile_rules(&[rule(vec!["nothing here".into()], vec![])], &[]).unwrap_err();
        assert!(err.message.contains("does not find its example"));
        assert!(compile_rules(&[], &["no-such-rule".into()]).is_err());
    }
}
