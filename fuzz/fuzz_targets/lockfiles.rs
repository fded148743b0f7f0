//! Any text as each kind of lockfile, as an SBOM, as another scanner's
//! ignore file (osv-scanner, Trivy) and as a SARIF log, and any two version
//! strings compared in each ecosystem: packages or an error, never a panic,
//! and comparisons that agree with their reverse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prodready_exporter::scan::deps::lockfiles::{parse_lockfile_text, LOCKFILES};
use prodready_exporter::scan::deps::ignores::parse_ignore;
use prodready_exporter::scan::deps::sbom::parse_sbom;
use prodready_exporter::scan::sarif::read_sarif;
use prodready_exporter::scan::deps::versions::compare;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (name, eco) = LOCKFILES[usize::from(selector) % LOCKFILES.len()];
    let _ = parse_lockfile_text(name, text);
    let _ = parse_sbom(text);
    let _ = parse_ignore("osv-scanner.toml", text);
    let _ = parse_ignore(".trivyignore.yaml", text);
    let _ = read_sarif(rest);
    if let Some((a, b)) = text.split_once('\n') {
        let forward = compare(eco, a, b);
        let backward = compare(eco, b, a);
        assert_eq!(forward.map(|o| o.reverse()), backward, "{a:?} vs {b:?}");
    }
});
