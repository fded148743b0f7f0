//! Kind `env_secret`: a secret in an environment variable (of this process or
//! an env file) is present, long enough, varied enough and not a placeholder.
//! It reports only length, distinct characters and entropy, never the value.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};

pub const KIND: KindInfo = KindInfo {
    item: Some("security.secret_keys"),
    unit: "characters",
    summary: "a secret environment variable is set, long, varied and not a placeholder",
    doc: r#"A secret in an environment variable is really set.

| param | default | |
|---|---|---|
| `variable` | required | variable name |
| `env_file` | none | read `KEY=value` lines (optional `export`, quotes) from this file instead of the exporter's environment |
| `min_length` | `16` | characters |
| `min_distinct` | `8` | distinct characters |
| `placeholders` | `[]` | more values to reject besides the built-in list (`changeme`, `secret`, `password`, `xxx`, `test`, `123456` ..., any value of one repeated character) |

- **Reads:** the variable's value. Reports only its length, distinct characters and Shannon entropy in bits; never the value. The value is also registered as a secret, so no other check's output can leak it.
- **Passes** when set, long enough, varied enough and not a placeholder. Observed value: length; threshold: `min_length`.
- **Fails** when unset, too short, too uniform or a placeholder.
- **Errors** when the env file cannot be read."#,
    files: &["env_file"],
    ..KindInfo::new(
        "env_secret",
        Category::Security,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Values that mean "nobody set a real secret here" (compared case-insensitively).
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "secret",
    "password",
    "passw0rd",
    "default",
    "example",
    "sample",
    "test",
    "testing",
    "todo",
    "fixme",
    "replaceme",
    "replace_me",
    "your_secret_here",
    "your-secret-key",
    "insecure",
    "dev",
    "development",
    "admin",
    "letmein",
    "qwerty",
    "123456",
    "12345678",
    "1234567890",
    "none",
    "null",
    "undefined",
    "xxx",
];

const fn default_min_length() -> usize {
    16
}
const fn default_min_distinct() -> usize {
    8
}

/// Params of the `env_secret` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Name of the variable.
    pub variable: String,
    /// Read the variable from this env file (`KEY=value` lines) instead of
    /// the exporter's own environment.
    #[serde(default)]
    pub env_file: Option<PathBuf>,
    /// Minimum length in characters. Default 16.
    #[serde(default = "default_min_length")]
    pub min_length: usize,
    /// Minimum number of distinct characters. Default 8.
    #[serde(default = "default_min_distinct")]
    pub min_distinct: usize,
    /// More values to reject, besides the built-in placeholder list.
    #[serde(default)]
    pub placeholders: Vec<String>,
}

#[derive(Debug)]
struct EnvSecret {
    variable: String,
    env_file: Option<PathBuf>,
    min_length: usize,
    min_distinct: usize,
    placeholders: Vec<String>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.variable.is_empty() || params.variable.contains(['=', '\0']) {
        return Err(ParamError::new(
            "params.variable",
            "must be a variable name",
        ));
    }
    Ok(Arc::new(EnvSecret {
        variable: params.variable,
        env_file: params.env_file,
        min_length: params.min_length,
        min_distinct: params.min_distinct,
        placeholders: params
            .placeholders
            .into_iter()
            .map(|p| p.to_lowercase())
            .collect(),
    }))
}

/// Parses `KEY=value` lines (optional `export `, quotes, `#` comments).
pub fn parse_env_file(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        vars.insert(key.trim().to_owned(), unquoted.to_owned());
    }
    vars
}

/// Shannon entropy of the whole value in bits (per-character entropy x length).
fn entropy_bits(value: &str) -> f64 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let len = value.chars().count() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&n| {
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum();
    per_char * len
}

impl EnvSecret {
    fn is_placeholder(&self, value: &str) -> bool {
        let lower = value.to_lowercase();
        PLACEHOLDERS.contains(&lower.as_str())
            || self.placeholders.contains(&lower)
            || lower.starts_with("changeme")
            || lower.starts_with("change_me")
            || lower.starts_with("replace_me")
            || lower.chars().collect::<HashSet<_>>().len() == 1
    }

    fn judge(&self, value: &str, origin: &str) -> Outcome {
        let length = value.chars().count();
        let distinct = value.chars().collect::<HashSet<_>>().len();
        let bits = (entropy_bits(value) * 10.0).round() / 10.0;
        let name = &self.variable;
        let mut problems = Vec::new();
        if self.is_placeholder(value) {
            problems.push("holds a well-known placeholder value".to_owned());
        }
        if length < self.min_length {
            problems.push(format!(
                "is {length} characters long, minimum {}",
                self.min_length
            ));
        }
        if distinct < self.min_distinct {
            problems.push(format!(
                "has {distinct} distinct characters, minimum {}",
                self.min_distinct
            ));
        }
        let outcome = if problems.is_empty() {
            Outcome::pass(format!(
                "{name} ({origin}) is set: {length} characters, {distinct} distinct, {bits} bits of entropy"
            ))
        } else {
            Outcome::fail(format!("{name} ({origin}) {}", problems.join(", ")))
        };
        outcome
            .observed(length as f64)
            .threshold(self.min_length as f64)
            .evidence("variable", name.as_str())
            .evidence("source", origin)
            .evidence("length", length)
            .evidence("distinct_characters", distinct)
            .evidence("entropy_bits", bits)
    }
}

impl EnvSecret {
    /// The current value, if readable, without tracing.
    fn read_value(&self) -> Option<String> {
        match &self.env_file {
            Some(file) => std::fs::read_to_string(file)
                .ok()
                .and_then(|text| parse_env_file(&text).remove(&self.variable)),
            None => {
                #[allow(clippy::disallowed_methods)]
                let value = std::env::var_os(&self.variable);
                value.map(|v| v.to_string_lossy().into_owned())
            }
        }
    }
}

impl Check for EnvSecret {
    fn secrets(&self) -> Vec<String> {
        self.read_value().into_iter().collect()
    }

    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let (value, origin) = match &self.env_file {
                Some(file) => {
                    ctx.trace(format!("reading {} from {}", self.variable, file.display()));
                    let text = match tokio::fs::read_to_string(file).await {
                        Ok(t) => t,
                        Err(e) => {
                            return Outcome::error(format!(
                                "cannot read env file {}: {e}",
                                file.display()
                            ))
                        }
                    };
                    (
                        parse_env_file(&text).remove(&self.variable),
                        format!("env file {}", file.display()),
                    )
                }
                None => {
                    ctx.trace(format!("reading {} from the environment", self.variable));
                    (self.read_value(), "environment".to_owned())
                }
            };
            match value {
                None => Outcome::fail(format!("{} is not set ({origin})", self.variable))
                    .observed(0.0)
                    .threshold(self.min_length as f64)
                    .evidence("variable", self.variable.as_str())
                    .evidence("source", origin),
                Some(value) => self.judge(&value, &origin),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check() -> EnvSecret {
        EnvSecret {
            variable: "APP_SECRET".into(),
            env_file: None,
            min_length: 16,
            min_distinct: 8,
            placeholders: vec!["our-old-key-2019".into()],
        }
    }

    #[test]
    fn judges_without_revealing_the_value() {
        let c = check();
        let good = "q8Zr3vN1xT5kLm9PwY2c";
        let pass = c.judge(good, "environment");
        assert_eq!(pass.state, crate::checks::State::Pass);
        assert_eq!(pass.observed, Some(20.0));
        assert!(!serde_json::to_string(&pass).unwrap().contains(good));

        for (value, reason) in [
            ("changeme", "placeholder"),
            ("CHANGEME-please-1234", "placeholder"),
            ("xxxxxxxxxxxxxxxxxxxx", "placeholder"),
            ("our-old-key-2019", "placeholder"),
            ("short1", "minimum 16"),
            ("abababababababababab", "distinct"),
        ] {
            let out = c.judge(value, "environment");
            assert_eq!(out.state, crate::checks::State::Fail, "{value}");
            assert!(out.message.contains(reason), "{value}: {}", out.message);
            assert!(!serde_json::to_string(&out).unwrap().contains(value));
        }
    }

    #[test]
    fn parses_env_files() {
        let vars = parse_env_file("# c\nexport A=\"x y\"\nB='z'\nC=plain\nnot a line\n");
        assert_eq!(vars["A"], "x y");
        assert_eq!(vars["B"], "z");
        assert_eq!(vars["C"], "plain");
        assert_eq!(vars.len(), 3);
    }
}
