//! Kind `config_schema`: configuration files (YAML, JSON, TOML) validate
//! against a JSON Schema, and required environment variables are present.
//! Violations name the JSON pointer and the failing keyword, never the
//! offending value (config files hold secrets); env variables by name only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use super::env_secret::parse_env_file;
use super::{read_text, resolve_path};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::config::TargetType;

pub const KIND: KindInfo = KindInfo {
    reads: &["files[].path", "files[].schema", "env_file"],
    item: Some("deployment.verify_configs"),
    unit: "count",
    summary: "config files validate against a JSON Schema; required env variables set",
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"- **Passes** when every file validates and every variable is set. **Fails** listing violations as `JSON pointer: violates <keyword>` (never the offending value: config files hold secrets) and missing variable names. **Errors** when a file or schema cannot be read or parsed."#,
    ..KindInfo::new(
        "config_schema",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// A config file and its schema.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    /// The config file (`.yaml`/`.yml`, `.json` or `.toml`), relative to the path target.
    pub path: PathBuf,
    /// The JSON Schema (JSON or YAML), relative to the path target.
    pub schema: PathBuf,
}

/// Params of the `config_schema` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Files to validate, each with the JSON Schema it must satisfy.
    #[serde(default)]
    pub files: Vec<SchemaFile>,
    /// Environment variables that must be set (and not empty).
    #[serde(default)]
    pub required_env: Vec<String>,
    /// Look the variables up in this env file instead of the exporter's environment.
    #[serde(default)]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug)]
struct ConfigSchema {
    files: Vec<(PathBuf, PathBuf)>,
    required_env: Vec<String>,
    env_file: Option<PathBuf>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.files.is_empty() && params.required_env.is_empty() {
        return Err(ParamError::new("params", "set files and/or required_env"));
    }
    let mut files = Vec::new();
    for f in &params.files {
        files.push((
            resolve_path(input, Some(&f.path), "files")?,
            resolve_path(input, Some(&f.schema), "files")?,
        ));
    }
    let env_file = params
        .env_file
        .as_deref()
        .map(|p| resolve_path(input, Some(p), "env_file"))
        .transpose()?;
    Ok(Arc::new(ConfigSchema {
        files,
        required_env: params.required_env,
        env_file,
    }))
}

/// Parses a config or schema file by its extension.
pub fn load_document(path: &Path) -> Result<Value, String> {
    let text = read_text(path, 16 * 1024 * 1024)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let parsed = match ext.as_str() {
        "json" => serde_json::from_str(&text).map_err(|e| {
            format!(
                "invalid JSON at line {}: {}",
                e.line(),
                e.classify_message()
            )
        }),
        "toml" => {
            toml::from_str::<Value>(&text).map_err(|e| format!("invalid TOML: {}", e.message()))
        }
        "yaml" | "yml" => {
            crate::yaml::from_str::<Value>(&text).map_err(|e| format!("invalid YAML: {e}"))
        }
        other => {
            return Err(format!(
                "{}: unknown format {other:?} (use .json, .yaml, .yml or .toml)",
                path.display()
            ))
        }
    };
    parsed.map_err(|e| format!("{}: {e}", path.display()))
}

trait ClassifyMessage {
    fn classify_message(&self) -> &'static str;
}

impl ClassifyMessage for serde_json::Error {
    fn classify_message(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end of file",
        }
    }
}

/// Validates one file; returns violations as `pointer: keyword`.
pub fn violations(config: &Path, schema: &Path) -> Result<Vec<String>, String> {
    let schema_doc = load_document(schema)?;
    let validator = jsonschema::validator_for(&schema_doc).map_err(|e| {
        format!(
            "{} is not a valid JSON Schema: {}",
            schema.display(),
            e.kind().keyword()
        )
    })?;
    let instance = load_document(config)?;
    Ok(validator
        .iter_errors(&instance)
        .take(50)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            format!(
                "{}: violates `{}`",
                if pointer.is_empty() {
                    "/"
                } else {
                    pointer.as_str()
                },
                e.kind().keyword()
            )
        })
        .collect())
}

impl Check for ConfigSchema {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut problems = Vec::new();
            let mut evidence = Vec::new();
            for (file, schema) in &self.files {
                ctx.trace(format!(
                    "validating {} against {}",
                    file.display(),
                    schema.display()
                ));
                let (f, s) = (file.clone(), schema.clone());
                let result = tokio::task::spawn_blocking(move || violations(&f, &s)).await;
                match result {
                    Ok(Ok(v)) => {
                        if !v.is_empty() {
                            problems.push(format!("{}: {}", file.display(), v.join(", ")));
                        }
                        evidence.push(json!({"file": file.display().to_string(), "violations": v}));
                    }
                    Ok(Err(e)) => return Outcome::error(e),
                    Err(e) => return Outcome::error(format!("validation failed: {e}")),
                }
            }
            let missing_env: Vec<String> = if self.required_env.is_empty() {
                Vec::new()
            } else {
                let env = match &self.env_file {
                    Some(f) => match read_text(f, 1024 * 1024) {
                        Ok(t) => parse_env_file(&t).into_iter().collect::<Vec<_>>(),
                        Err(e) => return Outcome::error(e),
                    },
                    None => crate::config::process_env(),
                };
                self.required_env
                    .iter()
                    .filter(|name| !env.iter().any(|(k, v)| k == *name && !v.is_empty()))
                    .cloned()
                    .collect()
            };
            if !missing_env.is_empty() {
                problems.push(format!(
                    "environment variable(s) not set: {}",
                    missing_env.join(", ")
                ));
            }
            let outcome = if problems.is_empty() {
                Outcome::pass(format!(
                    "{} file(s) valid against their schemas; {} required variable(s) set",
                    self.files.len(),
                    self.required_env.len()
                ))
            } else {
                Outcome::fail(problems.join("; "))
            };
            outcome
                .observed(problems.len() as f64)
                .threshold(0.0)
                .evidence("files", evidence)
                .evidence("missing_env", missing_env)
        })
    }
}
