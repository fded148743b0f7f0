//! Scan speed of `hardcoded_secrets` on a generated tree of 100,000 files
//! (1,000 directories of 100 source-like files, 1-3 KiB each, a few with
//! secrets). Prints files/s and MB/s; asserts nothing about speed.
//! Run: `cargo bench --bench secrets_scan [-- FILES]`.

use std::io::Write;
use std::time::Instant;

use prodready_exporter::scan::secrets::{compile_rules, Scanner};

fn main() {
    let files: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let line = "    let value = compute(config.get(\"key\"), token_count, &password_policy); // harmless code\n";
    for i in 0..files {
        let sub = dir.path().join(format!("pkg{:04}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(sub.join(format!("mod{i}.rs"))).unwrap());
        for _ in 0..(12 + i % 24) {
            f.write_all(line.as_bytes()).unwrap();
        }
        if i % 10_000 == 7 {
            writeln!(
                f,
                "const STRIPE: &str = \"sk_live_51Hq7Zp2Lw9Rx4Ck1Vm6Tn3Bf8Yd5Gs{i:04}\";"
            )
            .unwrap();
        }
    }
    println!(
        "generated {files} files in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let scanner = Scanner::new(compile_rules(&[], &[]).unwrap(), vec![], vec![], 1 << 20).unwrap();
    for run in 1..=3 {
        let t = Instant::now();
        let (findings, stats) = scanner
            .scan_tree(
                dir.path(),
                &prodready_exporter::checks::blocking::Cancel::new(),
            )
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let scanned = stats.files.load(std::sync::atomic::Ordering::Relaxed);
        let bytes = stats.bytes.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "run {run}: {scanned} files, {:.1} MB in {secs:.2}s: {:.0} files/s, {:.1} MB/s, {} findings",
            bytes as f64 / 1e6,
            scanned as f64 / secs,
            bytes as f64 / 1e6 / secs,
            findings.len()
        );
    }
}
