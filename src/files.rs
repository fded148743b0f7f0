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

/// Like `read_text`, but the encoding follows a byte-order mark as pip's
/// `auto_decode` does: UTF-16 (LE or BE) or UTF-8 with a BOM; without one,
/// UTF-8.
pub fn read_text_bom(path: &Path, cap: u64) -> Result<String, String> {
    decode_bom(&read_capped(path, cap)?).ok_or_else(|| {
        format!(
            "{} is not text in UTF-8 or in UTF-16 with a byte-order mark (binary?)",
            path.display()
        )
    })
}

/// Text from bytes by their byte-order mark (UTF-16 LE/BE, UTF-8), else UTF-8.
pub fn decode_bom(bytes: &[u8]) -> Option<String> {
    let utf16 = |rest: &[u8], le: bool| {
        if !rest.len().is_multiple_of(2) {
            return None;
        }
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// Reads a text file of at most `cap` bytes, with errors naming the path.
pub fn read_text(path: &Path, cap: u64) -> Result<String, String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| format!("{} is not UTF-8 text (binary?)", path.display()))
}

/// The bytes of a regular file of at most `cap` bytes, with errors naming
/// the path.
fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
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
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_order_marks_choose_the_encoding() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("é==1\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a==2".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(super::decode_bom(&le).as_deref(), Some("é==1\n"));
        assert_eq!(super::decode_bom(&be).as_deref(), Some("a==2"));
        assert_eq!(super::decode_bom(b"\xEF\xBB\xBFx").as_deref(), Some("x"));
        assert_eq!(super::decode_bom(&[0xFF, 0xFE, 0x00]), None);
    }
}
