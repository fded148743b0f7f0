//! gitleaks compatibility, so a team keeps one rule set: gitleaks' TOML
//! config (`[[rules]]` with `regex`, `secretGroup`, `entropy`, `keywords`,
//! `path`, per-rule `[[rules.allowlists]]` / `[rules.allowlist]`, composite
//! `[[rules.required]]` and `skipReport`; global `[[allowlists]]` /
//! `[allowlist]` with `targetRules`; `[extend]` with `useDefault`, `path`
//! (followed two levels deep, as gitleaks) and `disabledRules`), read with
//! gitleaks' semantics and refusals, and its `.gitleaksignore`. The built-in rules stand in for
//! gitleaks' default config: `useDefault = true` keeps them, and gitleaks'
//! default rule ids name the built-in rule that covers the same secret.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use super::{re2, Allowlist, Finding, RegexTarget, Required};

/// gitleaks' default rule ids and the built-in rule covering the same
/// secrets, for `disabledRules` and rule extensions.
const DEFAULT_IDS: &[(&str, &str)] = &[
    ("aws-access-token", "aws-access-key-id"),
    ("github-pat", "github-token"),
    ("github-oauth", "github-token"),
    ("github-app-token", "github-token"),
    ("github-refresh-token", "github-token"),
    ("gitlab-pat", "gitlab-token"),
    ("gitlab-pat-routable", "gitlab-token"),
    ("gitlab-deploy-token", "gitlab-token"),
    ("gitlab-feed-token", "gitlab-token"),
    ("gitlab-runner-authentication-token", "gitlab-token"),
    ("gitlab-cicd-job-token", "gitlab-token"),
    ("gitlab-scim-token", "gitlab-token"),
    ("gitlab-incoming-mail-token", "gitlab-token"),
    ("gitlab-kubernetes-agent-token", "gitlab-token"),
    ("gitlab-feature-flag-client-token", "gitlab-token"),
    ("gitlab-rrt", "gitlab-runner-registration-token"),
    ("gitlab-ptt", "gitlab-pipeline-trigger-token"),
    ("slack-bot-token", "slack-token"),
    ("slack-user-token", "slack-token"),
    ("slack-app-token", "slack-token"),
    ("slack-legacy-token", "slack-token"),
    ("slack-config-access-token", "slack-token"),
    ("slack-config-refresh-token", "slack-token"),
    ("slack-webhook-url", "slack-webhook"),
    ("stripe-access-token", "stripe-key"),
    ("gcp-api-key", "google-api-key"),
    ("generic-api-key", "generic-secret-assignment"),
    ("generic-api-key", "generic-unquoted-secret-assignment"),
    ("generic-api-key", "generic-xml-secret"),
    ("generic-api-key", "generic-cli-secret"),
    ("curl-auth-user", "curl-basic-auth"),
    ("curl-auth-header", "authorization-header"),
    ("kubernetes-secret-yaml", "kubernetes-secret-data"),
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
    #[serde(default)]
    required: Vec<RequiredFile>,
    #[serde(default)]
    skip_report: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequiredFile {
    id: String,
    #[serde(default)]
    within_lines: Option<usize>,
    #[serde(default)]
    within_columns: Option<usize>,
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

/// One rule of a gitleaks config, compiled. Fields left unset (`None`,
/// empty) take the base rule's when the rule extends one.
#[derive(Debug, Clone)]
pub struct GitleaksRule {
    pub id: String,
    pub regex: Option<Regex>,
    pub path: Option<Regex>,
    /// `None` or 0: gitleaks' default, the first non-empty group.
    pub secret_group: Option<usize>,
    pub entropy: Option<f64>,
    pub keywords: Vec<String>,
    pub allowlists: Vec<Allowlist>,
    pub required: Vec<Required>,
    pub skip_report: bool,
}

impl GitleaksRule {
    /// Merges `own` (an extending config's rule of the same id) into this
    /// base rule as gitleaks does: what `own` sets replaces, its keywords,
    /// allowlists and required rules are added.
    pub fn extend_with(&mut self, own: GitleaksRule) {
        if own.regex.is_some() {
            self.regex = own.regex;
        }
        if own.path.is_some() {
            self.path = own.path;
        }
        if own.secret_group.is_some_and(|g| g != 0) {
            self.secret_group = own.secret_group;
        }
        if own.entropy.is_some_and(|e| e != 0.0) {
            self.entropy = own.entropy;
        }
        self.keywords.extend(own.keywords);
        self.allowlists.extend(own.allowlists);
        self.required.extend(own.required);
        self.skip_report |= own.skip_report;
    }
}

/// A gitleaks config with the chain it extends merged in.
#[derive(Debug, Default)]
pub struct GitleaksConfig {
    /// `[extend] useDefault = true` in the chain: gitleaks' default rules
    /// (the built-in rules stand for them) are the base of the chain.
    pub use_default: bool,
    /// `disabledRules` of the configs above the default: default rule ids.
    pub disabled: Vec<String>,
    pub rules: Vec<GitleaksRule>,
    pub allowlists: Vec<Allowlist>,
}

/// How deep gitleaks follows `[extend]`: the file given, and two bases
/// below it; a deeper `[extend]` is not followed (as gitleaks).
const MAX_EXTEND_DEPTH: usize = 2;

/// Reads a gitleaks config; `[extend] path` is relative to the file's own
/// directory (gitleaks takes it relative to where it runs, which a daemon
/// has no meaningful notion of).
pub fn load(path: &Path) -> Result<GitleaksConfig, String> {
    let config = load_at(path, 0)?;
    // What gitleaks checks once the chain is merged: every rule does
    // something (unless it may extend a default rule), groups exist.
    for rule in &config.rules {
        if let (Some(re), Some(group)) = (&rule.regex, rule.secret_group) {
            if group > re.captures_len() - 1 {
                return Err(format!(
                    "{}: rule {}: secretGroup {group}, but the regex has only {} group(s)",
                    path.display(),
                    rule.id,
                    re.captures_len() - 1
                ));
            }
        }
    }
    Ok(config)
}

fn load_at(path: &Path, depth: usize) -> Result<GitleaksConfig, String> {
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
    let mut own = Vec::new();
    for (i, rule) in file.rules.iter().enumerate() {
        own.push(compile_rule(
            rule,
            &format!("{shown}: rules[{i}] ({})", rule.id),
        )?);
    }
    if file.allowlist.is_some() && !file.allowlists.is_empty() {
        return Err(format!(
            "{shown}: [allowlist] and [[allowlists]] both set; gitleaks reads one: move [allowlist] into [[allowlists]]"
        ));
    }
    let mut allowlists = Vec::new();
    for (j, a) in file.allowlist.iter().chain(&file.allowlists).enumerate() {
        allowlists.push(allowlist(a, &format!("{shown}: allowlists[{j}]"), false)?);
    }
    let extend = file.extend.unwrap_or_default();
    if extend.path.is_some() && extend.use_default {
        return Err(format!(
            "{shown}: [extend] takes useDefault or path, not both"
        ));
    }
    let mut config = match (&extend.path, extend.use_default) {
        (Some(base), false) if depth < MAX_EXTEND_DEPTH => {
            let dir = path.parent().unwrap_or(Path::new("."));
            load_at(&dir.join(base), depth + 1)?
        }
        (None, true) if depth < MAX_EXTEND_DEPTH => GitleaksConfig {
            use_default: true,
            ..GitleaksConfig::default()
        },
        _ => GitleaksConfig::default(),
    };
    let disabled = &extend.disabled_rules;
    config.rules.retain(|r| !disabled.contains(&r.id));
    if config.use_default {
        config.disabled.extend(disabled.iter().cloned());
    }
    for rule in own {
        match config.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(base) => base.extend_with(rule),
            None => config.rules.push(rule),
        }
    }
    // The extending config's allowlists first, then the base's.
    allowlists.append(&mut config.allowlists);
    config.allowlists = allowlists;
    Ok(config)
}

fn compile_rule(rule: &RuleFile, at: &str) -> Result<GitleaksRule, String> {
    let compile = |what: &str, pattern: &str| {
        re2::compile(pattern).map_err(|e| format!("{at}: invalid {what}: {e}"))
    };
    if rule.allowlist.is_some() && !rule.allowlists.is_empty() {
        return Err(format!(
            "{at}: [rules.allowlist] and [[rules.allowlists]] both set; gitleaks reads one: move [rules.allowlist] into [[rules.allowlists]]"
        ));
    }
    let mut allowlists = Vec::new();
    for (j, a) in rule.allowlist.iter().chain(&rule.allowlists).enumerate() {
        allowlists.push(allowlist(a, &format!("{at}: allowlists[{j}]"), true)?);
    }
    Ok(GitleaksRule {
        id: rule.id.clone(),
        regex: rule
            .regex
            .as_deref()
            .map(|r| compile("regex", r))
            .transpose()?,
        path: rule
            .path
            .as_deref()
            .map(|p| compile("path", p))
            .transpose()?,
        secret_group: rule.secret_group,
        entropy: rule.entropy,
        keywords: rule.keywords.iter().map(|k| k.to_lowercase()).collect(),
        allowlists,
        required: rule
            .required
            .iter()
            .map(|r| Required {
                id: r.id.clone(),
                within_lines: r.within_lines,
                within_columns: r.within_columns,
            })
            .collect(),
        skip_report: rule.skip_report,
    })
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
    if a.commits.is_empty() && a.paths.is_empty() && a.regexes.is_empty() && a.stopwords.is_empty()
    {
        return Err(format!(
            "{at}: an allowlist must set at least one of commits, paths, regexes or stopwords"
        ));
    }
    let compile = |what: &str, list: &[String]| -> Result<Vec<Regex>, String> {
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                re2::compile(p).map_err(|e| format!("{at}: {what}[{i}]: invalid regex: {e}"))
            })
            .collect()
    };
    Ok(Allowlist {
        and,
        commits: a.commits.iter().map(|c| c.to_ascii_lowercase()).collect(),
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
    /// The commit of a `commit:file:rule:line` entry (from a history scan).
    commit: Option<String>,
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
        let (commit, file) = match file.split_once(':') {
            Some((commit, rest))
                if commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                (Some(commit.to_ascii_lowercase()), rest)
            }
            _ => (None, file),
        };
        out.push(IgnoreEntry {
            commit,
            file: file.trim_start_matches("./").to_owned(),
            rule: rule.to_owned(),
            line: number,
        });
    }
    Ok(out)
}

impl IgnoreEntry {
    /// The same finding: path relative to the scan root (as `gitleaks dir`
    /// run at the root prints it), rule (or a gitleaks default id standing
    /// for it) and line, each exactly: `services/billing/.env:r:1` never
    /// stands for the root's `.env`.
    pub fn ignores(&self, f: &Finding) -> bool {
        self.ignores_in(f, None)
    }

    /// The same finding in a history scan, found in `commit`: an entry
    /// naming a commit ignores the finding of that commit only, one without
    /// a commit the finding in every commit (as gitleaks matches both). In
    /// a tree scan (`None`) the commit is not compared.
    pub fn ignores_in(&self, f: &Finding, commit: Option<&str>) -> bool {
        if let (Some(mine), Some(theirs)) = (&self.commit, commit) {
            if mine != theirs {
                return false;
            }
        }
        self.line == f.line
            && self.file == f.file
            && (self.rule == f.rule || builtin_ids(&self.rule).contains(&f.rule.as_str()))
    }
}

#[cfg(test)]
#[path = "gitleaks_tests.rs"]
mod tests;
