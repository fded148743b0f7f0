//! `sarif_report` on a large log: a generated SARIF 2.1.0 file of about
//! MEGABYTES MB (default 200; results of Semgrep's shape, with rules,
//! locations, snippets and fingerprints) read by the kind's reader. Prints
//! the read time and the process's peak resident memory before and after
//! (VmHWM): the reader deserializes from the file as a stream, so the peak
//! grows by what is kept per result, not by the file's size. Asserts
//! nothing about speed.
//! Run: `cargo bench --bench sarif_ingest [-- MEGABYTES]`.

use std::io::Write as _;
use std::time::Instant;

use prodready_exporter::scan::sarif::read_sarif;

/// Peak resident set size of this process so far, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let megabytes: u64 = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.sarif");
    let started = Instant::now();
    {
        let file = std::fs::File::create(&path).expect("create");
        let mut out = std::io::BufWriter::new(file);
        let rules: Vec<String> = (0..200)
            .map(|i| format!(r#"{{"id": "rules.rule-{i}", "shortDescription": {{"text": "Rule {i}"}}, "defaultConfiguration": {{"level": "warning"}}, "properties": {{"security-severity": "{}.5", "tags": ["security"]}}}}"#, i % 10))
            .collect();
        write!(out, r#"{{"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [{{"tool": {{"driver": {{"name": "Semgrep OSS", "semanticVersion": "1.187.0", "rules": [{}]}}}}, "invocations": [{{"executionSuccessful": true, "endTimeUtc": "2026-12-05T10:00:00Z"}}], "results": ["#, rules.join(", ")).expect("write");
        let target = megabytes * 1024 * 1024;
        let mut written = 0u64;
        let mut n = 0u64;
        while written < target {
            let result = format!(
                r#"{}{{"ruleId": "rules.rule-{}", "level": "{}", "message": {{"text": "Finding {n}: user input reaches a sink without validation; see the rule's documentation for the fix."}}, "locations": [{{"physicalLocation": {{"artifactLocation": {{"uri": "src/module{}/file{}.py", "uriBaseId": "%SRCROOT%"}}, "region": {{"startLine": {}, "startColumn": 5, "endLine": {}, "endColumn": 42, "snippet": {{"text": "    return conn.execute(\"SELECT * FROM t WHERE id = %s\" % request.args['id'])"}}}}}}}}], "fingerprints": {{"matchBasedId/v1": "{:064x}"}}, "properties": {{}}}}"#,
                if n == 0 { "" } else { ", " },
                n % 200,
                if n.is_multiple_of(50) {
                    "error"
                } else {
                    "warning"
                },
                n % 97,
                n % 1013,
                n % 4000 + 1,
                n % 4000 + 1,
                n * 2_654_435_761
            );
            written += result.len() as u64;
            out.write_all(result.as_bytes()).expect("write");
            n += 1;
        }
        out.write_all(b"]}]}").expect("write");
        out.flush().expect("flush");
        println!(
            "generated {n} results, {:.0} MB in {:.1}s",
            written as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    for run in 1..=2 {
        let before = peak_kib();
        let t = Instant::now();
        let file = std::fs::File::open(&path).expect("open");
        let runs = read_sarif(file).expect("a valid log");
        let elapsed = t.elapsed().as_secs_f64();
        let findings: u64 = runs.iter().map(|r| r.results).sum();
        let after = peak_kib();
        println!(
            "run {run}: read {:.0} MB, {findings} results in {elapsed:.2}s ({:.0} MB/s); peak RSS {:.0} MiB before, {:.0} MiB after ({:.2}x the file)",
            size as f64 / 1e6,
            size as f64 / 1e6 / elapsed,
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            (after as f64 * 1024.0) / size as f64
        );
        drop(runs);
    }
}
