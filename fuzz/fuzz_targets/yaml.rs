//! Any text through the bounded YAML reader (files and remote configs): a
//! value or an error, never a panic or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = prodready_exporter::yaml::from_str::<serde_json::Value>(text);
    }
});
