//! Kind `documentation`: required files and directories exist (README,
//! runbooks, incident response plan ...), each file has its required
//! headings, and each was reviewed within `max_age`: from a `last_reviewed:`
//! front-matter date, else the file's last git commit, else its mtime,
//! saying which.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::{mtime, read_text, resolve_path};
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    TargetNeed,
};
use crate::clock::{date_of, parse_timestamp, unix_now};
use crate::config::{format_duration, ConfigDuration, TargetType};

pub const KIND: KindInfo = KindInfo {
    programs: &[(
        "git",
        "the last commit of a file without a `last_reviewed` date",
    )],
    item: Some("operations.documentation"),
    unit: "count",
    summary: "required docs exist, have their headings and were reviewed recently",
    target: TargetNeed::Optional(&[TargetType::Path]),
    doc: r#"- **Reads:** each file's Markdown headings (ATX `#` and setext) and its review date: `last_reviewed:` in a leading `---` front matter block, else the file's last git commit (`git log -1 --format=%ct`), else its modification time; the message says which.
- **Passes** when everything exists, has its headings (case-insensitive) and was reviewed within `max_age`. **Fails** naming missing files, missing headings and stale files. **Errors** when `dir` is not a directory."#,
    ..KindInfo::new(
        "documentation",
        Category::Operations,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

const fn default_max_age() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(180 * 86_400))
}

/// One required document.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// File or directory, relative to `dir`.
    pub path: PathBuf,
    /// Headings the file must contain (case-insensitive). Ignored for directories.
    #[serde(default)]
    pub headings: Vec<String>,
}

/// Params of the `documentation` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Root the documents are relative to. Default: the path target.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// The required documents.
    pub required: Vec<Document>,
    /// Each file must have been reviewed within this. Default 180d.
    #[serde(default = "default_max_age")]
    pub max_age: ConfigDuration,
}

#[derive(Debug)]
struct Documentation {
    root: PathBuf,
    required: Vec<Document>,
    max_age: std::time::Duration,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.required.is_empty() {
        return Err(ParamError::new(
            "params.required",
            "list at least one document",
        ));
    }
    Ok(Arc::new(Documentation {
        root: resolve_path(input, params.dir.as_deref(), "dir")?,
        required: params.required,
        max_age: params.max_age.0,
    }))
}

/// ATX (`# Title`) and setext (`Title` + `===`/`---`) headings, lowercased.
pub fn headings(markdown: &str) -> Vec<String> {
    let body = markdown
        .strip_prefix("---")
        .and_then(|b| b.find("\n---").map(|end| &b[end + 4..]))
        .unwrap_or(markdown);
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('#') {
            let text = t
                .trim_start_matches('#')
                .trim()
                .trim_end_matches('#')
                .trim();
            if !text.is_empty() {
                out.push(text.to_lowercase());
            }
        } else if let Some(next) = lines.get(i + 1) {
            let n = next.trim();
            if !t.is_empty()
                && n.len() >= 3
                && (n.chars().all(|c| c == '=') || n.chars().all(|c| c == '-'))
            {
                out.push(t.to_lowercase());
            }
        }
    }
    out
}

/// `last_reviewed:` in a leading `---` front matter block.
pub fn front_matter_review(markdown: &str) -> Option<i64> {
    let body = markdown.strip_prefix("---")?;
    let end = body.find("\n---")?;
    body[..end].lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "last_reviewed")
            .then(|| parse_timestamp(v.trim()))
            .flatten()
    })
}

impl Check for Documentation {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let root = self.root.clone();
            let required = self.required.clone();
            let max_age = self.max_age;
            ctx.trace(format!(
                "checking {} document(s) under {}",
                required.len(),
                root.display()
            ));
            match tokio::task::spawn_blocking(move || judge(&root, &required, max_age)).await {
                Ok(o) => o,
                Err(e) => Outcome::error(format!("reading documents failed: {e}")),
            }
        })
    }
}

fn judge(root: &Path, required: &[Document], max_age: std::time::Duration) -> Outcome {
    if !root.is_dir() {
        return Outcome::error(format!("{} is not a readable directory", root.display()));
    }
    let now = unix_now();
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for doc in required {
        let path = root.join(&doc.path);
        let shown = doc.path.display().to_string();
        if path.is_dir() {
            let files = std::fs::read_dir(&path)
                .map(|d| d.filter_map(|e| e.ok()).count())
                .unwrap_or(0);
            if files == 0 {
                problems.push(format!("{shown}/ is empty"));
            }
            evidence.push(json!({"path": shown, "kind": "dir", "entries": files}));
            continue;
        }
        if !path.is_file() {
            problems.push(format!("{shown} is missing"));
            evidence.push(json!({"path": shown, "missing": true}));
            continue;
        }
        let text = match read_text(&path, 8 * 1024 * 1024) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let found = headings(&text);
        let missing: Vec<&String> = doc
            .headings
            .iter()
            .filter(|h| !found.iter().any(|f| f == &h.to_lowercase()))
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|h| format!("{h:?}")).collect();
            problems.push(format!("{shown} lacks heading(s) {}", names.join(", ")));
        }
        let (reviewed, from) = match front_matter_review(&text) {
            Some(t) => (Some(t), "last_reviewed front matter"),
            None => match crate::git::last_commit(&path) {
                Some(c) => (Some(c.time), "last git commit"),
                None => (mtime(&path).ok(), "file modification time"),
            },
        };
        if let Some(r) = reviewed {
            if (now - r) as u64 > max_age.as_secs() && now > r {
                problems.push(format!(
                    "{shown} last reviewed {} ({from}), older than {}",
                    date_of(r),
                    format_duration(max_age)
                ));
            }
        }
        evidence.push(json!({
            "path": shown, "headings_missing": missing, "reviewed": reviewed.map(date_of), "reviewed_from": from,
        }));
    }
    let outcome = if problems.is_empty() {
        Outcome::pass(format!(
            "{} document(s) present, complete and reviewed within {}",
            required.len(),
            format_duration(max_age)
        ))
    } else {
        Outcome::fail(problems.join("; "))
    };
    outcome
        .observed(problems.len() as f64)
        .threshold(0.0)
        .evidence("documents", evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_headings_and_review_dates() {
        let md = "---\ntitle: Runbook\nlast_reviewed: 2026-10-01\n---\n# Database failover\n\nSteps\n-----\n## Rollback ##\n";
        assert_eq!(headings(md), ["database failover", "steps", "rollback"]);
        assert_eq!(front_matter_review(md), parse_timestamp("2026-10-01"));
        assert_eq!(
            front_matter_review("# No front matter\nlast_reviewed: 2026-10-01"),
            None
        );
    }
}
