//! PHP's `composer.lock`.

use serde_json::Value;

use crate::scan::deps::{parse_json, Package, Read};

/// `composer.lock`: `packages` and `packages-dev`, each with `name` and
/// `version` (a branch such as `dev-main` is kept: it cannot be compared, so
/// the check reports it as not verified rather than passing it). A package
/// from a `path` repository is the team's own code, listed as unjudged; an
/// entry without a name or version is listed too, not a reason to read
/// nothing.
pub(super) fn composer_lock(text: &str) -> Result<Read, String> {
    let doc = parse_json(text)?;
    let mut read = Read::default();
    let mut sections = 0;
    for key in ["packages", "packages-dev"] {
        let Some(list) = doc.get(key) else { continue };
        sections += 1;
        let list = list
            .as_array()
            .ok_or_else(|| format!("\"{key}\" is not a list"))?;
        for (i, p) in list.iter().enumerate() {
            let get = |k: &str| p.get(k).and_then(Value::as_str);
            let (Some(name), Some(version)) = (get("name"), get("version")) else {
                read.unjudged
                    .push(format!("{key}[{i}] (no name or no version)"));
                continue;
            };
            let dist = p.pointer("/dist/type").and_then(Value::as_str);
            if dist == Some("path") {
                read.unjudged
                    .push(format!("{name}@{version} (path repository)"));
                continue;
            }
            read.packages.push(Package::new(name, version));
        }
    }
    if sections == 0 {
        return Err("no \"packages\" list; is this a composer.lock?".into());
    }
    Ok(read)
}
