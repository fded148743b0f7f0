//! Bundler's `Gemfile.lock`.

use crate::scan::deps::Package;

pub(super) fn gemfile_lock(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    let mut in_specs = false;
    for line in text.lines() {
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        if !line.starts_with(' ') {
            in_specs = false;
        }
        if in_specs && line.starts_with("    ") && !line.starts_with("     ") {
            let t = line.trim();
            if let Some((name, rest)) = t.split_once(" (") {
                let version = rest.trim_end_matches(')');
                // Platform gems: `nokogiri (1.13.10-x86_64-linux)`.
                let version = version.split('-').next().unwrap_or(version);
                out.push(Package {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    alias: None,
                });
            }
        }
    }
    if out.is_empty() && !text.contains("GEM") {
        return Err("no GEM specs found; is this a Gemfile.lock?".into());
    }
    Ok(out)
}
