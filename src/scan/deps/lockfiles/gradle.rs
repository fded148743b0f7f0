//! Gradle's `gradle.lockfile` (Maven coordinates).

use crate::scan::deps::{Package, Read};

/// `gradle.lockfile`: `group:artifact:version=configurations` lines; `empty=`
/// names configurations without dependencies; any other line is listed as
/// unjudged (one odd line does not make the file unreadable).
pub(super) fn gradle_lockfile(text: &str) -> Result<Read, String> {
    let mut read = Read::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let coordinates = line.split('=').next().unwrap_or_default();
        let mut parts = coordinates.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(group), Some(artifact), Some(version), None)
                if !group.is_empty() && !artifact.is_empty() && !version.is_empty() =>
            {
                read.packages
                    .push(Package::new(format!("{group}:{artifact}"), version));
            }
            _ => read.unjudged.push(format!(
                "line {}: {line:?} (not `group:artifact:version=configurations`)",
                n + 1
            )),
        }
    }
    if read.packages.is_empty() && !read.unjudged.is_empty() {
        return Err("no `group:artifact:version` line; is this a gradle.lockfile?".into());
    }
    Ok(read)
}
