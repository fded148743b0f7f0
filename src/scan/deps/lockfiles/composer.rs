//! PHP's `composer.lock`.

use serde_json::Value;

use crate::scan::deps::{parse_json, Package};

/// `composer.lock`: `packages` and `packages-dev`, each with `name` and
/// `version` (a branch such as `dev-main` is kept: it cannot be compared, so
/// the check reports it as not verified rather than passing it).
pub(super) fn composer_lock(text: &str) -> Result<Vec<Package>, String> {
    let doc = parse_json(text)?;
    let mut out = Vec::new();
    let mut sections = 0;
    for key in ["packages", "packages-dev"] {
        let Some(list) = doc.get(key) else { continue };
        sections += 1;
        for (i, p) in list
            .as_array()
            .ok_or_else(|| format!("\"{key}\" is not a list"))?
            .iter()
            .enumerate()
        {
            let get = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
            out.push(Package {
                name: get("name").ok_or_else(|| format!("{key}[{i}] has no name"))?,
                version: get("version").ok_or_else(|| format!("{key}[{i}] has no version"))?,
                alias: None,
            });
        }
    }
    if sections == 0 {
        return Err("no \"packages\" list; is this a composer.lock?".into());
    }
    Ok(out)
}
