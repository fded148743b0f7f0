//! Gradle's `gradle.lockfile` (Maven coordinates).

use crate::scan::deps::Package;

/// `gradle.lockfile`: `group:artifact:version=configurations` lines; `empty=`
/// names configurations without dependencies.
pub(super) fn gradle_lockfile(text: &str) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
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
                out.push(Package {
                    name: format!("{group}:{artifact}"),
                    version: version.to_owned(),
                });
            }
            _ => {
                return Err(format!(
                    "line {} is not `group:artifact:version=configurations`",
                    n + 1
                ))
            }
        }
    }
    Ok(out)
}
