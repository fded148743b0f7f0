//! Bundler's `Gemfile.lock`.

use crate::scan::deps::{Package, Read};

/// The gems of a `Gemfile.lock`: the `specs:` of its `GEM` sections (a
/// registry), while gems from `GIT`, `PATH` and `PLUGIN SOURCE` sections are
/// no registry release and are listed as unjudged (without their remote,
/// which may carry credentials). A platform gem (`nokogiri
/// (1.13.10-x86_64-linux)`) is its version; one gem per name and version.
pub(super) fn gemfile_lock(text: &str) -> Result<Read, String> {
    let mut read = Read::default();
    let mut section = "";
    let mut in_specs = false;
    let mut saw_gem = false;
    for (n, line) in text.lines().enumerate() {
        if !line.starts_with(' ') {
            section = line.trim();
            saw_gem |= section == "GEM";
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        // A spec is indented four spaces; its dependencies six.
        if !in_specs || !line.starts_with("    ") || line.starts_with("     ") {
            continue;
        }
        let t = line.trim();
        let Some((name, version)) = t
            .split_once(" (")
            .and_then(|(n, rest)| Some((n, rest.strip_suffix(')')?)))
        else {
            read.unjudged
                .push(format!("line {}: cannot read the spec `{t}`", n + 1));
            continue;
        };
        // A gem version has no `-`: what follows it is the platform.
        let version = version.split('-').next().unwrap_or(version);
        match section {
            "GEM" => read.packages.push(Package::new(name, version)),
            "GIT" => read.unjudged.push(format!("{name}@{version} (git source)")),
            "PATH" => read.unjudged.push(format!("{name}@{version} (local path)")),
            other => read
                .unjudged
                .push(format!("{name}@{version} ({other} source)")),
        }
    }
    if !saw_gem && read.packages.is_empty() && read.unjudged.is_empty() {
        return Err("no GEM specs found; is this a Gemfile.lock?".into());
    }
    Ok(read)
}
