//! Config problems: each names the file, the place (check, target,
//! section), the field and the fix; `Problems` collects every one of them
//! instead of stopping at the first.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::redact::Redactor;

/// One problem in a config file, naming where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// `check "web_tls" (checks[2])`, `target "db"`, `global` ...
    pub place: String,
    /// `params.min_days_left`, `interval` ... (empty when the whole place is wrong)
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.place.is_empty() {
            write!(f, ": {}", self.place)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in one config; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors for one file.
#[derive(Debug)]
pub(crate) struct Problems {
    file: String,
    pub(crate) errors: Vec<ConfigError>,
}

impl Problems {
    pub(crate) fn new(file: &Path) -> Self {
        Problems {
            file: file.display().to_string(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, place: &str, field: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            place: place.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub(crate) fn into_result<T>(self, value: T, redactor: &Redactor) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors(
                self.errors
                    .into_iter()
                    .map(|mut e| {
                        e.message = redactor.redact(&e.message);
                        e.field = redactor.redact(&e.field);
                        e
                    })
                    .collect(),
            ))
        }
    }
}

/// Deserializes `value` into `T`, reporting the failing field's path.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize::<_, T>(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        (path, without_values(&e.into_inner().to_string()))
    })
}

/// Serde's messages quote the offending value (`invalid type: integer
/// `123456`, expected a string`); a value in the wrong field may be a
/// secret, so errors keep only its type.
pub(crate) fn without_values(message: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?P<what>string|integer|unsigned integer|floating point|boolean|char|unknown variant|byte array) (?:"(?:[^"\\]|\\.)*"|`[^`]*`)"#,
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    re.replace_all(message, "$what").into_owned()
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn serde_messages_lose_their_values() {
        assert_eq!(
            without_values("invalid type: integer `123456`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            without_values("invalid type: string \"Hunter2\", expected u64"),
            "invalid type: string, expected u64"
        );
        assert_eq!(
            without_values("unknown variant `Hunter2`, expected one of `critical`, `warning`"),
            "unknown variant, expected one of `critical`, `warning`"
        );
    }
}
