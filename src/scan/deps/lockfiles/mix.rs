//! Elixir's `mix.lock` (Hex packages).

use std::sync::OnceLock;

use regex::Regex;

use crate::scan::deps::{Package, Read};

/// The Hex packages of a `mix.lock`, one entry per line as mix writes it:
/// `"key": {:hex, :name, "version", "checksum", [managers], [deps], "repo",
/// "checksum"}` (lockfiles before Hex 0.20 stop after the dependencies: the
/// public `hexpm` repository). Packages of another Hex repository (an
/// organisation's) are not what public advisories name, and `:git` entries
/// are no release: both are listed as unjudged, like an entry that cannot
/// be read.
pub(super) fn mix_lock(text: &str) -> Result<Read, String> {
    static RE: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    let (entry, hex, repo) = RE.get_or_init(|| {
        let re = |s: &str| Regex::new(s).unwrap_or_else(|e| unreachable!("static regex: {e}"));
        (
            re(r#"^\s*"([^"]+)":\s*\{:([a-z_]+),"#),
            re(r#"\{:hex,\s*:"?([A-Za-z0-9_]+)"?,\s*"([^"]+)""#),
            re(r#"\],\s*"([^"]+)",\s*"[0-9A-Fa-f]*"\},?\s*$"#),
        )
    });
    let mut read = Read::default();
    for (n, line) in text.lines().enumerate() {
        let Some(e) = entry.captures(line) else {
            continue;
        };
        let key = &e[1];
        if &e[2] != "hex" {
            read.unjudged.push(format!("{key} ({} source)", &e[2]));
            continue;
        }
        let Some(h) = hex.captures(line) else {
            read.unjudged
                .push(format!("line {}: cannot read the entry {key}", n + 1));
            continue;
        };
        match repo.captures(line).map(|r| r[1].to_owned()) {
            Some(r) if r != "hexpm" => read
                .unjudged
                .push(format!("{}@{} (Hex repository {r})", &h[1], &h[2])),
            _ => read.packages.push(Package::new(&h[1], &h[2])),
        }
    }
    if read.packages.is_empty() && read.unjudged.is_empty() && text.contains(":hex") {
        return Err("hex entries could not be read".into());
    }
    Ok(read)
}
