//! Compiling a rule set: the built-in rules, a gitleaks config's rules and
//! allowlists, and the user's own rules, each checked against its examples.

use regex::Regex;

use super::rules;
use super::{gitleaks, Allowlist, CustomRule, Rule, SecretGroup};

/// A rule set that cannot be compiled: the field (`params.rules[0].regex`,
/// `params.gitleaks_config`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub field: String,
    pub message: String,
}

impl RuleError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Compiles the built-in rules (minus disabled ones) and the custom ones.
pub fn compile_rules(custom: &[CustomRule], disabled: &[String]) -> Result<Vec<Rule>, RuleError> {
    compile_rule_set(custom, disabled, None).map(|(rules, _)| rules)
}

/// Compiles the rule set: the built-in rules (minus disabled ones; none when
/// a gitleaks config does not extend the default), a gitleaks config's rules
/// (one with the id of a built-in rule, or of the gitleaks default rule a
/// built-in one stands for, extends it as gitleaks extends a base rule),
/// then the custom ones; with the gitleaks config's global allowlists.
pub fn compile_rule_set(
    custom: &[CustomRule],
    disabled: &[String],
    gitleaks: Option<gitleaks::GitleaksConfig>,
) -> Result<(Vec<Rule>, Vec<Allowlist>), RuleError> {
    for d in disabled {
        if !rules::all().any(|r| r.id == d) {
            return Err(RuleError::new(
                "params.disable_rules",
                format!("no built-in rule {d:?}"),
            ));
        }
    }
    let mut rules = Vec::new();
    let keep_builtins = gitleaks.as_ref().is_none_or(|g| g.use_default);
    for spec in rules::all().filter(|r| keep_builtins && !disabled.iter().any(|d| d == r.id)) {
        rules.push(Rule::compile(spec).map_err(|e| RuleError::new("params", e))?);
    }
    let allowlists = match gitleaks {
        Some(config) => apply_gitleaks(&mut rules, config)?,
        None => Vec::new(),
    };
    for (i, c) in custom.iter().enumerate() {
        rules.push(compile_custom(i, c)?);
    }
    if rules.is_empty() {
        return Err(RuleError::new(
            "params",
            "no rule is left to scan with (every built-in rule disabled, or a gitleaks config without rules that does not extend the default)",
        ));
    }
    Ok((rules, allowlists))
}

/// A gitleaks config applied to the rules: its disabled rules dropped, its
/// rules extending the rules they name or added, and what gitleaks refuses
/// once the rule set is whole; returns its global allowlists.
fn apply_gitleaks(
    rules: &mut Vec<Rule>,
    config: gitleaks::GitleaksConfig,
) -> Result<Vec<Allowlist>, RuleError> {
    let field = "params.gitleaks_config";
    let names = |id: &str, rule: &Rule| {
        rule.id == id || gitleaks::builtin_ids(id).contains(&rule.id.as_str())
    };
    rules.retain(|r| !config.disabled.iter().any(|d| names(d, r)));
    for g in config.rules {
        let mut extended = 0;
        for rule in rules.iter_mut().filter(|r| names(&g.id, r)) {
            extended += 1;
            let mut base = gitleaks::GitleaksRule {
                id: rule.id.clone(),
                regex: rule.regex.take(),
                path: rule.path.take(),
                secret_group: match rule.secret_group {
                    SecretGroup::Index(n) => Some(n),
                    SecretGroup::FirstNonEmpty => None,
                },
                entropy: rule.entropy,
                keywords: std::mem::take(&mut rule.keywords),
                allowlists: std::mem::take(&mut rule.allowlists),
                required: std::mem::take(&mut rule.required),
                skip_report: rule.skip_report,
            };
            base.extend_with(g.clone());
            rule.regex = base.regex;
            rule.path = base.path;
            rule.secret_group = base
                .secret_group
                .map_or(rule.secret_group, SecretGroup::Index);
            rule.entropy = base.entropy;
            rule.keywords = base.keywords;
            rule.allowlists = base.allowlists;
            rule.required = base.required;
            rule.skip_report = base.skip_report;
        }
        if extended > 0 {
            continue;
        }
        if g.regex.is_none() && g.path.is_none() {
            return Err(RuleError::new(
                field,
                format!(
                    "rule {:?} has neither regex nor path and extends no rule of that id",
                    g.id
                ),
            ));
        }
        rules.push(Rule {
            id: g.id,
            regex: g.regex,
            path: g.path,
            keywords: g.keywords,
            secret_group: match g.secret_group {
                None | Some(0) => SecretGroup::FirstNonEmpty,
                Some(n) => SecretGroup::Index(n),
            },
            entropy: g.entropy.filter(|e| *e != 0.0),
            ignore_values: None,
            allowlists: g.allowlists,
            required: g.required,
            skip_report: g.skip_report,
        });
    }
    // What gitleaks refuses once the rule set is whole: a composite
    // naming no rule, an allowlist targeting no rule.
    for rule in rules.iter() {
        for r in &rule.required {
            if !rules.iter().any(|x| x.id == r.id) {
                return Err(RuleError::new(
                    field,
                    format!(
                        "rule {:?} requires rule {:?}, which does not exist",
                        rule.id, r.id
                    ),
                ));
            }
        }
    }
    for a in &config.allowlists {
        for target in &a.rules {
            if !rules.iter().any(|r| names(target, r)) {
                return Err(RuleError::new(
                    field,
                    format!("an allowlist's targetRules names {target:?}, which is no rule"),
                ));
            }
        }
    }
    Ok(config.allowlists)
}

/// A custom rule of `params.rules[i]`, compiled and run on its examples.
fn compile_custom(i: usize, c: &CustomRule) -> Result<Rule, RuleError> {
    let field = format!("params.rules[{i}]");
    let regex = Regex::new(&c.regex)
        .map_err(|e| RuleError::new(format!("{field}.regex"), format!("invalid regex: {e}")))?;
    if c.secret_group > regex.captures_len() - 1 {
        return Err(RuleError::new(
            format!("{field}.secret_group"),
            format!("the regex has only {} group(s)", regex.captures_len() - 1),
        ));
    }
    let rule = Rule {
        id: c.id.clone(),
        regex: Some(regex),
        path: None,
        keywords: c.keywords.iter().map(|k| k.to_lowercase()).collect(),
        secret_group: SecretGroup::Index(c.secret_group),
        entropy: c.entropy,
        ignore_values: None,
        allowlists: Vec::new(),
        required: Vec::new(),
        skip_report: false,
    };
    for e in &c.examples {
        if rule.secrets_in(e).is_empty() {
            return Err(RuleError::new(
                format!("{field}.examples"),
                format!("the rule does not find its example {e:?}"),
            ));
        }
    }
    for n in &c.negative_examples {
        if !rule.secrets_in(n).is_empty() {
            return Err(RuleError::new(
                format!("{field}.negative_examples"),
                format!("the rule finds its negative example {n:?}"),
            ));
        }
    }
    Ok(rule)
}
