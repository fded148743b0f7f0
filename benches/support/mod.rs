//! What the benches share: finding the Debian binaries they start.

use std::path::{Path, PathBuf};

/// Finds a binary in the usual places; panics if absent.
pub fn require_binary(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is required (apt-get install {name})");
}
