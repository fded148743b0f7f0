//! User labels: which names a user may set (`global.labels`, a target's,
//! a check's, file_sd groups') and how a check's labels are merged.

use std::collections::BTreeMap;

use super::errors::Problems;
use super::schema::Global;

/// Reports every name that cannot be a user label, as `<field>.<name>` of
/// `place`.
pub(super) fn check_label_names<'a>(
    names: impl IntoIterator<Item = &'a String>,
    place: &str,
    field: &str,
    problems: &mut Problems,
) {
    for name in names {
        if let Err(why) = label_name_problem(name) {
            problems.push(place, &format!("{field}.{name}"), why);
        }
    }
}

/// Why `name` cannot be a user label: not a Prometheus label name, or one
/// the exporter sets itself.
fn label_name_problem(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some('a'..='z' | 'A'..='Z' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid || name.starts_with("__") {
        return Err("must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __".into());
    }
    const RESERVED: [&str; 13] = [
        "check", "category", "severity", "state", "kind", "target", "unit", "item", "source",
        "job", "instance", "le", "quantile",
    ];
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name} is set by the exporter or Prometheus; choose another name"
        ));
    }
    Ok(())
}

/// A check's labels: `global.labels`, then its target's labels, then its
/// own, each overriding the one before; and the values of the
/// allow-listed `global.series_labels` among them ("" when unset).
pub fn check_labels(
    global: &Global,
    target: Option<&BTreeMap<String, String>>,
    own: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let mut labels = global.labels.clone();
    if let Some(target) = target {
        labels.extend(target.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    labels.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    let series = global
        .series_labels
        .iter()
        .map(|name| (name.clone(), labels.get(name).cloned().unwrap_or_default()))
        .collect();
    (labels, series)
}
