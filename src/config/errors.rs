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
        (path, e.into_inner().to_string())
    })
}
