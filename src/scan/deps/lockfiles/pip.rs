//! `requirements.txt`: pinned `==` lines.

use std::sync::OnceLock;

use regex::Regex;

use crate::scan::deps::Package;

pub(super) fn requirements(text: &str) -> Vec<Package> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9.!+_-]+)",
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter_map(|l| re.captures(l))
        .map(|c| Package {
            name: c[1].to_owned(),
            version: c[2].to_owned(),
        })
        .collect()
}
