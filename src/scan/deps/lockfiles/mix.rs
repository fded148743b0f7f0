//! Elixir's `mix.lock` (Hex packages).

use std::sync::OnceLock;

use regex::Regex;

use crate::scan::deps::Package;

pub(super) fn mix_lock(text: &str) -> Result<Vec<Package>, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#""[^"]+":\s*\{:hex,\s*:([A-Za-z0-9_]+),\s*"([^"]+)""#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let out: Vec<Package> = re
        .captures_iter(text)
        .map(|c| Package {
            name: c[1].to_owned(),
            version: c[2].to_owned(),
            alias: None,
        })
        .collect();
    if out.is_empty() && text.contains(":hex") {
        return Err("hex entries could not be read".into());
    }
    Ok(out)
}
