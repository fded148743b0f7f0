//! Reading files on this machine: capped text reads, modification times and
//! the version stamp (mtime, size) that tells a changed file. A leaf: used by
//! config, checks, scanners and web alike, it imports nothing of theirs.

use std::path::Path;
use std::time::SystemTime;

/// SHA-256 of a file's content, `None` when it cannot be read: what a
/// reload compares to tell whether a file a check was built from changed
/// (a replaced CA keeps its size; a copy may keep its mtime).
pub fn digest(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    Some(
        ring::digest::digest(&ring::digest::SHA256, &bytes)
            .as_ref()
            .to_vec(),
    )
}

/// A file's modification time and size, `None` when it cannot be read.
pub fn version(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// A file's modification time in Unix seconds.
pub fn mtime(path: &Path) -> Result<i64, String> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        })
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))
}

/// Reads a text file of at most `cap` bytes, with errors naming the path.
pub fn read_text(path: &Path, cap: u64) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if meta.len() > cap {
        return Err(format!(
            "{} is {} bytes, over the {cap}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text (binary?)", path.display()))
}
