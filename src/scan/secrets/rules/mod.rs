//! The built-in secret rules, gitleaks-style, one file per family group: an
//! id, a regex (Go RE2 syntax, run over whole files) whose `secret_group`
//! captures the secret, keywords for a fast prefilter, an entropy floor the
//! secret must exceed, values to ignore (placeholders, documented examples),
//! and examples and negative examples that a test runs. Written from each
//! provider's documented token format; measured on the labelled corpus.

mod cloud;
mod messaging;
mod registries;
mod saas;
mod services;
mod structured;
mod vcs;

/// One detection rule as written (compiled by `super::Rule::compile`).
#[derive(Debug)]
pub struct RuleSpec {
    pub id: &'static str,
    pub description: &'static str,
    /// Empty: a path-only rule (`path` set), whose finding is the file.
    pub regex: &'static str,
    /// The rule applies to files whose relative path matches this.
    pub path: Option<&'static str>,
    /// Lowercase keywords; a file is only matched when one occurs in it.
    pub keywords: &'static [&'static str],
    /// Capture group holding the secret (0 = the whole match).
    pub secret_group: usize,
    /// The secret's Shannon entropy (bits per character) must exceed this.
    pub entropy: Option<f64>,
    /// Secrets matching this are placeholders or published examples.
    pub ignore_values: Option<&'static str>,
    pub examples: &'static [&'static str],
    pub negative_examples: &'static [&'static str],
}

/// Values that hold no secret: references (`${VAR}`, `{{ var }}`, `%s`,
/// `<...>`), masks (`xxxx`, `****`, `####`), stock words and weak test
/// values, and examples providers publish (AWS' `...EXAMPLE` and
/// `...EXAMPLEKEY`, Stripe's documented test key, jwt.io's sample token).
pub(crate) const PLACEHOLDER: &str = r"(?i)^(?:\$\{.*\}|#\{.*\}|\$\(.*\)|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|\{[a-z_]+\}|<[^>]*>|%\(.*\)s|%[A-Z_]+%|@[A-Z_]+@|x{4,}|X{4,}|\*{3,}|#{3,}|changeme|change_me|dummy|redacted|your[_-].*|fake[_-].*|.*example(?:key)?|sk_test_4eC39HqLyjWDarjtT1zdp7dc|.*SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c|(?:password|passwd|secret|test|admin|letmein|qwerty|changeit|hunter)[0-9!]*)$";

/// Every built-in rule.
pub fn all() -> impl Iterator<Item = &'static RuleSpec> {
    cloud::RULES
        .iter()
        .chain(vcs::RULES)
        .chain(structured::RULES)
        .chain(registries::RULES)
        .chain(messaging::RULES)
        .chain(saas::RULES)
        .chain(services::RULES)
}
