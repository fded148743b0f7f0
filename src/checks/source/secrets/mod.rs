//! Kind `hardcoded_secrets`: walks a source tree (honouring .gitignore,
//! skipping binaries and files over a size cap, never following symlinks)
//! with gitleaks-style rules. Findings report file, line, rule id and a
//! fingerprint, never the secret itself.

pub mod rules;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;
use serde_json::json;

use super::resolve_path;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::{ByteSize, TargetType};
use rules::{RuleSpec, RULES};

pub const KIND: KindInfo = KindInfo {
    name: "hardcoded_secrets",
    category: Category::Security,
    unit: "count",
    summary: "secrets committed in a source tree (gitleaks-style rules)",
    source: crate::checks::EvidenceSource::Measured,
    target: TargetNeed::Optional(&[TargetType::Path]),
    build,
};

/// Findings listed in the evidence at most.
const MAX_REPORTED: usize = 100;

/// A rule after compilation.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    regex: Regex,
    keywords: Vec<String>,
    secret_group: usize,
    entropy: Option<f64>,
    ignore_values: Option<Regex>,
}

impl Rule {
    pub fn compile(spec: &RuleSpec) -> Result<Rule, String> {
        Ok(Rule {
            id: spec.id.to_owned(),
            regex: Regex::new(spec.regex).map_err(|e| format!("rule {}: {e}", spec.id))?,
            keywords: spec.keywords.iter().map(|k| k.to_lowercase()).collect(),
            secret_group: spec.secret_group,
            entropy: spec.entropy,
            ignore_values: spec
                .ignore_values
                .map(|p| Regex::new(p).map_err(|e| format!("rule {}: {e}", spec.id)))
                .transpose()?,
        })
    }

    /// Generic rules (`generic-*`) yield to specific ones on the same secret.
    fn is_generic(&self) -> bool {
        self.id.starts_with("generic-")
    }

    /// The secrets this rule finds in one line.
    pub fn secrets_in<'t>(&self, line: &'t str) -> Vec<&'t str> {
        self.regex
            .captures_iter(line)
            .filter_map(|c| c.get(self.secret_group).map(|m| m.as_str()))
            .filter(|s| self.entropy.is_none_or(|floor| shannon_entropy(s) >= floor))
            .filter(|s| self.ignore_values.as_ref().is_none_or(|re| !re.is_match(s)))
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
#[derive(Debug, Deserialize)]
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

/// What to ignore.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// Regexes on the path relative to the scanned root.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes on the line holding the finding.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// A file of finding fingerprints (one per line, `#` comments) to accept.
    #[serde(default)]
    pub baseline: Option<PathBuf>,
}

const fn default_max_file_size() -> ByteSize {
    ByteSize(1024 * 1024)
}

/// Params of the `hardcoded_secrets` kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Tree to scan. Default: the path target.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Files larger than this are skipped (and counted). Default 1MiB.
    #[serde(default = "default_max_file_size")]
    pub max_file_size: ByteSize,
    /// More rules, added to the built-in ones.
    #[serde(default)]
    pub rules: Vec<CustomRule>,
    /// Built-in rule ids to turn off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    #[serde(default)]
    pub allowlist: Allowlist,
}

/// One finding, without the secret.
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
    max_file_size: u64,
}

fn fingerprint(relative: &str, rule: &str, secret: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(rule.as_bytes());
    ctx.update(b"\0");
    ctx.update(secret.as_bytes());
    let hex: String = ctx.finish().as_ref()[..8]
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
        for (i, r) in rules.iter().enumerate() {
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
            max_file_size,
        })
    }

    /// Scans one file's text.
    pub fn scan_text(&self, relative: &str, text: &str, out: &mut Vec<Finding>) {
        let mut candidates: HashSet<usize> = self.always.iter().copied().collect();
        for m in self.prefilter.find_overlapping_iter(text) {
            candidates.extend(self.keyword_rules[m.pattern().as_usize()].iter().copied());
        }
        if candidates.is_empty() {
            return;
        }
        let mut rules: Vec<usize> = candidates.into_iter().collect();
        rules.sort_unstable();
        for (n, line) in text.lines().enumerate() {
            let mut hits: Vec<(&Rule, &str)> = Vec::new();
            for &i in &rules {
                let rule = &self.rules[i];
                hits.extend(rule.secrets_in(line).into_iter().map(|s| (rule, s)));
            }
            if hits.is_empty() || self.allow_lines.iter().any(|re| re.is_match(line)) {
                continue;
            }
            // A generic rule only reports what no specific rule already names.
            let specific: Vec<&str> = hits
                .iter()
                .filter(|(r, _)| !r.is_generic())
                .map(|(_, s)| *s)
                .collect();
            for (rule, secret) in hits {
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
                    fingerprint: fingerprint(relative, &rule.id, secret),
                });
            }
        }
    }

    /// Walks `root` in parallel; returns findings (sorted) and counters.
    pub fn scan_tree(&self, root: &Path) -> Result<(Vec<Finding>, ScanStats), String> {
        let meta =
            std::fs::metadata(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", root.display()));
        }
        let findings = Mutex::new(Vec::new());
        let stats = ScanStats::default();
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(false)
            .git_global(false)
            .require_git(false)
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
                match entry.metadata() {
                    Ok(m) if m.len() > self.max_file_size => {
                        stats.skipped_large.fetch_add(1, Ordering::Relaxed);
                        return ignore::WalkState::Continue;
                    }
                    Ok(_) => {}
                    Err(_) => {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        return ignore::WalkState::Continue;
                    }
                }
                let Ok(bytes) = std::fs::read(path) else {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    return ignore::WalkState::Continue;
                };
                if bytes[..bytes.len().min(8192)].contains(&0) {
                    stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
                    return ignore::WalkState::Continue;
                }
                stats.files.fetch_add(1, Ordering::Relaxed);
                stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                let text = String::from_utf8_lossy(&bytes);
                let mut local = Vec::new();
                self.scan_text(&relative, &text, &mut local);
                if !local.is_empty() {
                    if let Ok(mut f) = findings.lock() {
                        f.extend(local);
                    }
                }
                ignore::WalkState::Continue
            })
        });
        let mut findings = findings.into_inner().unwrap_or_default();
        findings.sort();
        Ok((findings, stats))
    }
}

#[derive(Debug)]
struct HardcodedSecrets {
    root: PathBuf,
    scanner: Arc<Scanner>,
    baseline: Option<PathBuf>,
}

/// Compiles the built-in rules (minus disabled ones) and the custom ones.
pub fn compile_rules(custom: &[CustomRule], disabled: &[String]) -> Result<Vec<Rule>, ParamError> {
    let mut rules = Vec::new();
    for spec in RULES.iter().filter(|r| !disabled.iter().any(|d| d == r.id)) {
        rules.push(Rule::compile(spec).map_err(|e| ParamError::new("params", e))?);
    }
    for (i, c) in custom.iter().enumerate() {
        let field = format!("params.rules[{i}]");
        let regex = Regex::new(&c.regex).map_err(|e| {
            ParamError::new(format!("{field}.regex"), format!("invalid regex: {e}"))
        })?;
        if c.secret_group > regex.captures_len() - 1 {
            return Err(ParamError::new(
                format!("{field}.secret_group"),
                format!("the regex has only {} group(s)", regex.captures_len() - 1),
            ));
        }
        let rule = Rule {
            id: c.id.clone(),
            regex,
            keywords: c.keywords.iter().map(|k| k.to_lowercase()).collect(),
            secret_group: c.secret_group,
            entropy: c.entropy,
            ignore_values: None,
        };
        for e in &c.examples {
            if rule.secrets_in(e).is_empty() {
                return Err(ParamError::new(
                    format!("{field}.examples"),
                    format!("the rule does not find its example {e:?}"),
                ));
            }
        }
        for n in &c.negative_examples {
            if !rule.secrets_in(n).is_empty() {
                return Err(ParamError::new(
                    format!("{field}.negative_examples"),
                    format!("the rule finds its negative example {n:?}"),
                ));
            }
        }
        rules.push(rule);
    }
    for d in disabled {
        if !RULES.iter().any(|r| r.id == d) {
            return Err(ParamError::new(
                "params.disable_rules",
                format!("no built-in rule {d:?}"),
            ));
        }
    }
    Ok(rules)
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    let rules = compile_rules(&params.rules, &params.disable_rules)?;
    let compile_all = |field: &str, list: &[String]| -> Result<Vec<Regex>, ParamError> {
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p).map_err(|e| {
                    ParamError::new(
                        format!("params.allowlist.{field}[{i}]"),
                        format!("invalid regex: {e}"),
                    )
                })
            })
            .collect()
    };
    let scanner = Scanner::new(
        rules,
        compile_all("paths", &params.allowlist.paths)?,
        compile_all("regexes", &params.allowlist.regexes)?,
        params.max_file_size.0,
    )
    .map_err(|e| ParamError::new("params", e))?;
    let baseline = params
        .allowlist
        .baseline
        .as_deref()
        .map(|b| resolve_path(input, Some(b), "allowlist.baseline"))
        .transpose()?;
    Ok(Arc::new(HardcodedSecrets {
        root: resolve_path(input, params.dir.as_deref(), "dir")?,
        scanner: Arc::new(scanner),
        baseline,
    }))
}

impl Check for HardcodedSecrets {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let accepted: HashSet<String> = match &self.baseline {
                None => HashSet::new(),
                Some(b) => match super::read_text(b, 16 * 1024 * 1024) {
                    Ok(text) => text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_owned)
                        .collect(),
                    Err(e) => return Outcome::error(format!("baseline: {e}")),
                },
            };
            ctx.trace(format!("scanning {}", self.root.display()));
            let scanner = self.scanner.clone();
            let root = self.root.clone();
            let started = std::time::Instant::now();
            let scanned = tokio::task::spawn_blocking(move || scanner.scan_tree(&root)).await;
            let (findings, stats) = match scanned {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Outcome::error(e),
                Err(e) => return Outcome::error(format!("the scan failed: {e}")),
            };
            let total = findings.len();
            let findings: Vec<Finding> = findings
                .into_iter()
                .filter(|f| !accepted.contains(&f.fingerprint))
                .collect();
            let baselined = total - findings.len();
            let files = stats.files.load(Ordering::Relaxed);
            let listed: Vec<serde_json::Value> = findings
                .iter()
                .take(MAX_REPORTED)
                .map(|f| json!({"file": f.file, "line": f.line, "rule": f.rule, "fingerprint": f.fingerprint}))
                .collect();
            let outcome = if findings.is_empty() {
                Outcome::pass(format!(
                    "no secrets in {files} file(s) under {}{}",
                    self.root.display(),
                    if baselined > 0 {
                        format!(" ({baselined} baselined)")
                    } else {
                        String::new()
                    }
                ))
            } else {
                let shown: Vec<String> = findings
                    .iter()
                    .take(5)
                    .map(|f| format!("{}:{} ({})", f.file, f.line, f.rule))
                    .collect();
                Outcome::fail(format!(
                    "{} secret(s) found: {}{}",
                    findings.len(),
                    shown.join(", "),
                    if findings.len() > 5 { ", ..." } else { "" }
                ))
            };
            outcome
                .observed(findings.len() as f64)
                .threshold(0.0)
                .evidence("findings", listed)
                .evidence("files_scanned", files)
                .evidence("bytes_scanned", stats.bytes.load(Ordering::Relaxed))
                .evidence(
                    "skipped_binary",
                    stats.skipped_binary.load(Ordering::Relaxed),
                )
                .evidence(
                    "skipped_too_large",
                    stats.skipped_large.load(Ordering::Relaxed),
                )
                .evidence("unreadable", stats.errors.load(Ordering::Relaxed))
                .evidence("baselined", baselined)
                .evidence("scan_seconds", started.elapsed().as_secs_f64())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_finds_its_examples_and_not_its_negative_examples() {
        for spec in RULES {
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
