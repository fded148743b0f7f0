//! The secret scanner behind `hardcoded_secrets`: gitleaks-style rules
//! (regex + keywords + entropy) with a keyword prefilter, an allowlist, and a
//! tree walk that honours .gitignore, skips binaries and files over a size
//! cap and never follows symlinks. Findings carry a fingerprint, never the
//! secret. Knows nothing of checks beyond compiling rule params. gitleaks'
//! TOML rules and `.gitleaksignore` are read by `gitleaks`.

mod compile;
pub mod gitleaks;
pub mod rules;

pub use compile::{compile_rule_set, compile_rules, RuleError};

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;

use rules::RuleSpec;

/// A rule after compilation.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    /// `None`: a gitleaks path-only rule, whose finding is the file itself.
    regex: Option<Regex>,
    /// The rule applies only to files whose relative path matches.
    path: Option<Regex>,
    keywords: Vec<String>,
    secret_group: usize,
    entropy: Option<f64>,
    ignore_values: Option<Regex>,
    allowlists: Vec<Allowlist>,
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
    pub paths: Vec<Regex>,
    pub regexes: Vec<Regex>,
    pub target: RegexTarget,
    /// Lowercase words; the secret containing one is allowed.
    pub stopwords: Vec<String>,
    /// Rule ids a global allowlist applies to (`targetRules`); empty: all.
    pub rules: Vec<String>,
}

impl Allowlist {
    fn allows(&self, rule: &str, path: &str, line: &str, matched: &str, secret: &str) -> bool {
        if !self.rules.is_empty()
            && !self
                .rules
                .iter()
                .any(|r| r == rule || gitleaks::builtin_ids(r).contains(&rule))
        {
            return false;
        }
        let target = match self.target {
            RegexTarget::Secret => secret,
            RegexTarget::Match => matched,
            RegexTarget::Line => line,
        };
        let mut criteria = Vec::with_capacity(3);
        if !self.paths.is_empty() {
            criteria.push(self.paths.iter().any(|re| re.is_match(path)));
        }
        if !self.regexes.is_empty() {
            criteria.push(self.regexes.iter().any(|re| re.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_lowercase();
            criteria.push(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        // Only commits (or nothing) set: never matches the working tree.
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
        Ok(Rule {
            id: spec.id.to_owned(),
            regex: Some(Regex::new(spec.regex).map_err(|e| format!("rule {}: {e}", spec.id))?),
            path: None,
            keywords: spec.keywords.iter().map(|k| k.to_lowercase()).collect(),
            secret_group: spec.secret_group,
            entropy: spec.entropy,
            ignore_values: spec
                .ignore_values
                .map(|p| Regex::new(p).map_err(|e| format!("rule {}: {e}", spec.id)))
                .transpose()?,
            allowlists: Vec::new(),
        })
    }

    fn applies_to(&self, path: &str) -> bool {
        self.path.as_ref().is_none_or(|re| re.is_match(path))
    }

    /// Generic rules (`generic-*`) yield to specific ones on the same secret.
    fn is_generic(&self) -> bool {
        self.id.starts_with("generic-")
    }

    /// The secrets this rule finds in one line.
    pub fn secrets_in<'t>(&self, line: &'t str) -> Vec<&'t str> {
        self.hits_in(line).into_iter().map(|(_, s)| s).collect()
    }

    /// Each match in one line with its secret.
    fn hits_in<'t>(&self, line: &'t str) -> Vec<(&'t str, &'t str)> {
        let Some(regex) = &self.regex else {
            return Vec::new();
        };
        regex
            .captures_iter(line)
            .filter_map(|c| {
                let whole = c.get(0)?.as_str();
                Some((whole, c.get(self.secret_group)?.as_str()))
            })
            .filter(|(_, s)| self.entropy.is_none_or(|floor| shannon_entropy(s) >= floor))
            .filter(|(_, s)| self.ignore_values.as_ref().is_none_or(|re| !re.is_match(s)))
            .collect()
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

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub rule: String,
    pub fingerprint: String,
}

/// Counters of one scan.
#[derive(Debug, Default)]
pub struct ScanStats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub errors: AtomicU64,
    /// Lines with a finding and gitleaks' `gitleaks:allow` marker.
    pub inline_allowed: AtomicU64,
}

/// A compiled rule set with its prefilter and allowlist.
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
    fingerprint_key: ring::hmac::Key,
}

/// `path:rule:hash` where the hash is a truncated HMAC-SHA256 of rule and
/// secret under a key only the exporter holds: it identifies a finding across
/// runs, but nobody who reads it can test guesses of the secret offline.
fn fingerprint(key: &ring::hmac::Key, relative: &str, rule: &str, secret: &str) -> String {
    let mut ctx = ring::hmac::Context::with_key(key);
    ctx.update(rule.as_bytes());
    ctx.update(b"\0");
    ctx.update(secret.as_bytes());
    let hex: String = ctx.sign().as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{relative}:{rule}:{hex}")
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
        for (i, r) in rules.iter().enumerate() {
            if r.regex.is_none() {
                path_rules.push(i);
                continue;
            }
            if r.keywords.is_empty() {
                always.push(i);
            }
            for k in &r.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => keyword_rules[p].push(i),
                    None => {
                        keywords.push(k.clone());
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let prefilter = AhoCorasick::builder()
            .ascii_case_insensitive(true)
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
            fingerprint_key: crate::redact::random_hmac_key(),
        })
    }

    /// Adds gitleaks' global allowlists.
    pub fn with_allowlists(mut self, allowlists: Vec<Allowlist>) -> Scanner {
        self.allowlists = allowlists;
        self
    }

    fn allowed(&self, rule: &Rule, path: &str, line: &str, matched: &str, secret: &str) -> bool {
        self.allowlists
            .iter()
            .chain(&rule.allowlists)
            .any(|a| a.allows(&rule.id, path, line, matched, secret))
    }

    /// Findings of path-only rules: the file itself is the finding.
    fn scan_path(&self, relative: &str, out: &mut Vec<Finding>) {
        for &i in &self.path_rules {
            let rule = &self.rules[i];
            if rule.applies_to(relative) && !self.allowed(rule, relative, "", "", "") {
                out.push(Finding {
                    file: relative.to_owned(),
                    line: 0,
                    rule: rule.id.clone(),
                    fingerprint: fingerprint(&self.fingerprint_key, relative, &rule.id, relative),
                });
            }
        }
    }

    /// Keys fingerprints with `key` (from a key file shared by every run that
    /// reads or writes a baseline) instead of a per-process random key.
    pub fn with_fingerprint_key(mut self, key: &[u8]) -> Scanner {
        self.fingerprint_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        self
    }

    /// Scans one file's text; returns how many lines with a finding carried
    /// gitleaks' inline `gitleaks:allow` marker (not reported).
    pub fn scan_text(&self, relative: &str, text: &str, out: &mut Vec<Finding>) -> u64 {
        let mut candidates: HashSet<usize> = self.always.iter().copied().collect();
        for m in self.prefilter.find_overlapping_iter(text) {
            candidates.extend(self.keyword_rules[m.pattern().as_usize()].iter().copied());
        }
        let mut rules: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| self.rules[i].applies_to(relative))
            .collect();
        if rules.is_empty() {
            return 0;
        }
        rules.sort_unstable();
        let mut inline_allowed = 0;
        for (n, line) in text.lines().enumerate() {
            let mut hits: Vec<(&Rule, &str, &str)> = Vec::new();
            for &i in &rules {
                let rule = &self.rules[i];
                hits.extend(
                    rule.hits_in(line)
                        .into_iter()
                        .map(|(matched, secret)| (rule, matched, secret)),
                );
            }
            if hits.is_empty() || self.allow_lines.iter().any(|re| re.is_match(line)) {
                continue;
            }
            if line.contains(INLINE_ALLOW) {
                inline_allowed += 1;
                continue;
            }
            // A generic rule only reports what no specific rule already names
            // (allowlisted or not: an allowed secret stays allowed).
            let specific: Vec<&str> = hits
                .iter()
                .filter(|(r, _, _)| !r.is_generic())
                .map(|(_, _, s)| *s)
                .collect();
            hits.retain(|(rule, matched, secret)| {
                !self.allowed(rule, relative, line, matched, secret)
            });
            for (rule, _, secret) in hits {
                if rule.is_generic()
                    && specific
                        .iter()
                        .any(|s| s.contains(secret) || secret.contains(s))
                {
                    continue;
                }
                out.push(Finding {
                    file: relative.to_owned(),
                    line: n + 1,
                    rule: rule.id.clone(),
                    fingerprint: fingerprint(&self.fingerprint_key, relative, &rule.id, secret),
                });
            }
        }
        inline_allowed
    }

    /// Walks `root` in parallel; returns findings (sorted) and counters.
    /// Stops early, with an error, once `cancel` says nobody waits any more.
    pub fn scan_tree(
        &self,
        root: &Path,
        cancel: &crate::scan::Cancel,
    ) -> Result<(Vec<Finding>, ScanStats), String> {
        let meta =
            std::fs::metadata(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", root.display()));
        }
        let findings = Mutex::new(Vec::new());
        let stats = ScanStats::default();
        // Ignore rules apply only inside a git work tree and only from the
        // scanned tree itself: a stray .gitignore elsewhere (or in a parent
        // directory) must not hide files from the scan.
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .ignore(false)
            .parents(false)
            .git_ignore(true)
            .git_exclude(false)
            .git_global(false)
            .require_git(true)
            .follow_links(false)
            .filter_entry(|e| e.file_name() != ".git")
            .threads(
                std::thread::available_parallelism()
                    .map_or(2, |n| n.get())
                    .min(8),
            )
            .build_parallel();
        walker.run(|| {
            let findings = &findings;
            let stats = &stats;
            Box::new(move |entry| {
                if cancel.is_cancelled() {
                    return ignore::WalkState::Quit;
                }
                let Ok(entry) = entry else {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    return ignore::WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return ignore::WalkState::Continue;
                }
                let path = entry.path();
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .into_owned();
                if self.allow_paths.iter().any(|re| re.is_match(&relative)) {
                    return ignore::WalkState::Continue;
                }
                let mut local = Vec::new();
                self.scan_path(&relative, &mut local);
                'content: {
                    match entry.metadata() {
                        Ok(m) if m.len() > self.max_file_size => {
                            stats.skipped_large.fetch_add(1, Ordering::Relaxed);
                            break 'content;
                        }
                        Ok(_) => {}
                        Err(_) => {
                            stats.errors.fetch_add(1, Ordering::Relaxed);
                            break 'content;
                        }
                    }
                    let Ok(bytes) = std::fs::read(path) else {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        break 'content;
                    };
                    if bytes[..bytes.len().min(8192)].contains(&0) {
                        stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
                        break 'content;
                    }
                    stats.files.fetch_add(1, Ordering::Relaxed);
                    stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    let text = String::from_utf8_lossy(&bytes);
                    let allowed = self.scan_text(&relative, &text, &mut local);
                    stats.inline_allowed.fetch_add(allowed, Ordering::Relaxed);
                }
                if !local.is_empty() {
                    if let Ok(mut f) = findings.lock() {
                        f.extend(local);
                    }
                }
                ignore::WalkState::Continue
            })
        });
        if cancel.is_cancelled() {
            return Err(
                "the scan was stopped: nobody waits for it any more (timeout or cancellation)"
                    .into(),
            );
        }
        let mut findings = findings.into_inner().unwrap_or_default();
        findings.sort();
        Ok((findings, stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_finds_its_examples_and_not_its_negative_examples() {
        for spec in rules::RULES {
            let rule = Rule::compile(spec).unwrap();
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
                    spec.keywords.iter().any(|k| lower.contains(k)),
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
        assert!(out[0].fingerprint.starts_with("app/.env:stripe-key:"));
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
