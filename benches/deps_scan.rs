//! `dependency_vulnerabilities` on a generated monorepo: LOCKFILES npm
//! lockfiles (default 200) of PACKAGES packages each (default 250, so 50,000
//! in all) against a local OSV database of 5,000 advisories. Prints the
//! time to find the lockfiles, read them, load the database and judge every
//! package; asserts nothing about speed.
//! Run: `cargo bench --bench deps_scan [-- LOCKFILES PACKAGES]`.

use std::fmt::Write as _;
use std::time::Instant;

use prodready_exporter::scan::deps::advisories::AdvisoryDb;
use prodready_exporter::scan::deps::lockfiles::{find_lockfiles, parse_lockfile};
use prodready_exporter::scan::Cancel;

fn main() {
    let args: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let lockfiles = args.first().copied().unwrap_or(200);
    let packages = args.get(1).copied().unwrap_or(250);
    let tree = tempfile::tempdir().expect("temp dir");
    let db = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    for l in 0..lockfiles {
        let dir = tree.path().join(format!("services/svc{l:03}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut lock =
            String::from("{\"lockfileVersion\": 3, \"packages\": {\"\": {\"name\": \"svc\"}");
        for p in 0..packages {
            // A pool of 2,000 names shared by the services, as in a real monorepo.
            let name = format!("pkg-{}", (l * 7 + p * 13) % 2000);
            let _ = write!(
                lock,
                ", \"node_modules/{name}\": {{\"version\": \"{}.{}.{}\"}}",
                p % 5,
                l % 10,
                p % 7
            );
        }
        lock.push_str("}}");
        std::fs::write(dir.join("package-lock.json"), lock).expect("write");
    }
    std::fs::create_dir_all(db.path().join("npm")).expect("dir");
    for a in 0..5000 {
        let advisory = format!(
            "{{\"id\": \"BENCH-{a}\", \"modified\": \"2026-12-01T00:00:00Z\", \"affected\": [{{\"package\": {{\"ecosystem\": \"npm\", \"name\": \"pkg-{}\"}}, \"ranges\": [{{\"type\": \"SEMVER\", \"events\": [{{\"introduced\": \"0\"}}, {{\"fixed\": \"{}.5.0\"}}]}}]}}]}}",
            a % 2000,
            a % 5
        );
        std::fs::write(db.path().join(format!("npm/BENCH-{a}.json")), advisory).expect("write");
    }
    println!(
        "generated {lockfiles} lockfiles x {packages} packages and 5,000 advisories in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for run in 1..=3 {
        let t = Instant::now();
        let found = find_lockfiles(tree.path(), 16).expect("walk").files;
        let found_at = t.elapsed();
        let mut read = Vec::new();
        for l in &found {
            read.push(parse_lockfile(l).expect("lockfile"));
        }
        let read_at = t.elapsed();
        let advisories = AdvisoryDb::load(db.path(), &Cancel::new()).expect("database");
        let loaded_at = t.elapsed();
        let mut judged = 0usize;
        let mut vulnerable = 0usize;
        for deps in &read {
            for (eco, list) in &deps.groups {
                for p in list {
                    judged += 1;
                    vulnerable += usize::from(!advisories.judged(*eco, p).0.is_empty());
                }
            }
        }
        let total = t.elapsed();
        println!(
            "run {run}: {} lockfiles found in {:.0} ms, read in {:.0} ms; database loaded in {:.0} ms; {judged} packages judged ({vulnerable} vulnerable) in {:.0} ms; total {:.2} s",
            found.len(),
            found_at.as_secs_f64() * 1e3,
            (read_at - found_at).as_secs_f64() * 1e3,
            (loaded_at - read_at).as_secs_f64() * 1e3,
            (total - loaded_at).as_secs_f64() * 1e3,
            total.as_secs_f64()
        );
    }
}
