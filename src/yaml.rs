//! YAML from files and remote systems, parsed by a maintained YAML library
//! (serde-saphyr) under a resource budget: aliases, nesting depth, node count
//! and size are bounded, so an alias bomb or a deep document is an error, not
//! an exhausted heap. Error messages give the position, never the text.

use serde::de::DeserializeOwned;

/// Largest YAML document read, in bytes.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

fn options() -> serde_saphyr::Options {
    options_for(1)
}

fn options_for(max_documents: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 64;
    // A config of 100,000 checks is about 700,000 nodes; the size limit
    // bounds the count anyway (no alias bomb: aliases and replays are capped).
    budget.max_nodes = 2_000_000;
    budget.max_events = 8_000_000;
    budget.max_documents = max_documents;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_total_scalar_bytes = MAX_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // YAML 1.2: only `true` and `false` are booleans; `y`, `yes`, `on`, `no`
    // stay strings (a label value `no`, a country code `NO`).
    options.strict_booleans = true;
    options
}

/// Parses one YAML document into `T` (a struct, or `serde_json::Value`).
/// Merge keys (`<<: *base`) are applied; a second document, an alias bomb or
/// a document deeper than 64 levels is an error.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    if text.len() > MAX_BYTES {
        return Err(format!(
            "the document has {} bytes, more than the {MAX_BYTES} read",
            text.len()
        ));
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| describe(&e))
}

/// Parses every document of a multi-document stream (`---` between them),
/// at most `max_documents`, under the same budget as `from_str`; empty
/// documents come back as `null`.
pub fn documents<T: DeserializeOwned>(text: &str, max_documents: usize) -> Result<Vec<T>, String> {
    if text.len() > MAX_BYTES {
        return Err(format!(
            "the stream has {} bytes, more than the {MAX_BYTES} read",
            text.len()
        ));
    }
    serde_saphyr::from_multiple_with_options(text, options_for(max_documents))
        .map_err(|e| describe(&e))
}

/// The error's message and position without the snippet of input that the
/// library would quote (it may hold a secret).
fn describe(e: &serde_saphyr::Error) -> String {
    let message = e.to_string();
    // The library's message is "<what> at line L column C" followed, on
    // later lines, by a rendered excerpt of the document: keep the first line.
    message
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config of 70,000 checks (past the library's default node and
    /// event budgets) is within ours.
    #[test]
    fn a_hundred_thousand_checks_parse() {
        let mut text = String::from("checks:\n");
        for i in 0..70_000 {
            text.push_str(&format!(
                "  - {{ name: check_{i}, kind: http, params: {{ url: \"http://127.0.0.1:1/{i}\" }} }}\n"
            ));
        }
        let doc: serde_json::Value = from_str(&text).unwrap();
        assert_eq!(doc["checks"].as_array().map(Vec::len), Some(70_000));
    }
    use serde_json::{json, Value};

    #[test]
    fn streams_give_every_document_up_to_the_limit() {
        let docs: Vec<Value> = documents("a: 1\n---\nb: 2\n---\n", 10).unwrap();
        assert_eq!(docs.iter().filter(|d| !d.is_null()).count(), 2);
        assert!(documents::<Value>("a: 1\n---\nb: 2\n---\nc: 3\n", 2).is_err());
    }

    #[test]
    fn dotted_keys_stay_keys_and_merge_keys_apply() {
        let v: Value = from_str(
            "base: &b { pool: 5 }\nspring.datasource.url: jdbc:x\nprod:\n  <<: *b\n  host: db\n",
        )
        .unwrap();
        assert_eq!(v["spring.datasource.url"], json!("jdbc:x"));
        assert_eq!(v["prod"], json!({"pool": 5, "host": "db"}));
    }

    #[test]
    fn an_alias_bomb_is_an_error() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = from_str::<Value>(&doc).unwrap_err();
        assert!(err.contains("alias") || err.contains("budget"), "{err}");
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let doc = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(from_str::<Value>(&doc).is_err());
    }

    #[test]
    fn errors_do_not_quote_the_document() {
        let err = from_str::<Value>("password: hunter2-secret\n  bad: [unclosed\n").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn only_true_and_false_are_booleans() {
        let v: Value = from_str("a: y\nb: no\nc: On\nd: true\ne: false\n").unwrap();
        assert_eq!(
            v,
            json!({"a": "y", "b": "no", "c": "On", "d": true, "e": false})
        );
    }

    #[test]
    fn two_documents_are_an_error() {
        assert!(from_str::<Value>("a: 1\n---\nb: 2\n").is_err());
    }
}
