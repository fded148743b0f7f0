//! Cost of rendering the `/metrics` page from the result store: N checks,
//! each with a stored result (observed and threshold values, so every
//! per-check family has its series), rendered plain and gzip-compressed as
//! the page cache does. Prints checks, series, page size, time per render
//! and per series; then the incremental render the daemon uses (per-check
//! lines kept, only changed checks re-encoded) after 1% of the checks got a
//! new result, against the full render, and the copy a scrape makes when it
//! streams that page in 64 KiB chunks; and the gzip page compressed
//! incrementally (only the segments whose text changed), against gzip of
//! the whole page. Asserts nothing about speed.
//! Run: `cargo bench --bench metrics_encode [-- CHECKS...]` (default 10000 100000).

use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use prodready_exporter::checks::Outcome;
use prodready_exporter::engine::{load_plan, Engine, Evaluation, PlannedCheck};
use prodready_exporter::exposition::{render_metrics, Format, Incremental, IncrementalGzip};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Gives each of `checks` (index, planned check) a new result: `outcome`,
/// taking `ms`.
fn record<'a>(
    engine: &Engine,
    checks: impl Iterator<Item = (usize, &'a std::sync::Arc<PlannedCheck>)>,
    outcome: impl Fn() -> Outcome,
    ms: u64,
) {
    for (i, planned) in checks {
        let evaluation = Evaluation {
            outcome: outcome(),
            duration: Duration::from_millis(ms),
            finished: SystemTime::now(),
            trace: Vec::new(),
        };
        engine
            .store
            .record(&format!("check_{i}"), planned.id, &evaluation);
    }
}

/// Compresses `page` with the kept segments of `gz`: its time and the share
/// of the text compressed again go to `times` and `shares`; its size back.
fn compress_timed(
    gz: &mut IncrementalGzip,
    page: std::sync::Arc<prodready_exporter::exposition::TextPage>,
    times: &mut Vec<f64>,
    shares: &mut Vec<f64>,
) -> usize {
    let len = page.len();
    let t = Instant::now();
    let size = gz.compress(page).len();
    times.push(t.elapsed().as_secs_f64());
    shares.push(gz.compressed() as f64 / len as f64);
    size
}

fn main() {
    let mut sizes: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000];
    }
    println!("| checks | series | page | render (median) | per series | gzip (fast) | gzip page |");
    println!("|---|---|---|---|---|---|---|");
    let mut incremental_rows = Vec::new();
    let mut gzip_rows = Vec::new();
    for n in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("config.yaml");
        let mut config = String::from("global: { labels: { team: platform } }\nchecks:\n");
        for i in 0..n {
            config.push_str(&format!(
                "  - {{ name: check_{i}, kind: http, params: {{ url: \"http://127.0.0.1:1/{i}\" }} }}\n"
            ));
        }
        std::fs::write(&file, config).expect("write config");
        let plan = load_plan(&file).expect("config");
        let engine = Engine::new(&file, plan, None);
        let running = engine.plan();
        let passed = || {
            Outcome::pass("answered 200 in 3ms")
                .observed(0.003)
                .threshold(1.0)
        };
        record(
            &engine,
            running.checks.iter().enumerate().take(n),
            passed,
            3,
        );
        let rounds = if n > 50_000 { 5 } else { 15 };
        let mut times = Vec::new();
        let mut page = String::new();
        for _ in 0..rounds {
            let t = Instant::now();
            page = render_metrics(&engine, Format::Prometheus);
            times.push(t.elapsed().as_secs_f64());
        }
        let series = page.lines().filter(|l| !l.starts_with('#')).count();
        let mut gzip_times = Vec::new();
        let mut gzipped = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(page.as_bytes()).expect("gzip");
            gzipped = encoder.finish().expect("gzip").len();
            gzip_times.push(t.elapsed().as_secs_f64());
        }
        let render = median(times);
        let whole_gzip = median(gzip_times);
        println!(
            "| {n} | {series} | {:.1} MB | {:.1} ms | {:.0} ns | {:.1} ms | {:.2} MB |",
            page.len() as f64 / 1e6,
            render * 1e3,
            render * 1e9 / series as f64,
            whole_gzip * 1e3,
            gzipped as f64 / 1e6,
        );
        // Incremental: a first render keeps every check's lines; then each
        // round gives 1% of the checks a new result and renders again.
        let mut incremental = Incremental::default();
        let t = Instant::now();
        let first = incremental.render(&engine).to_text();
        let cold = t.elapsed().as_secs_f64();
        assert_eq!(
            first.len() / 1000,
            page.len() / 1000,
            "incremental page differs in size"
        );
        let mut warm = Vec::new();
        let mut copy = Vec::new();
        let mut gz = IncrementalGzip::default();
        let mut gz_size = gz
            .compress(std::sync::Arc::new(incremental.render(&engine)))
            .len();
        let (mut gz_times, mut gz_share) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            record(
                &engine,
                running.checks.iter().enumerate().skip(round).step_by(100),
                || Outcome::fail("answered 500").observed(0.004).threshold(1.0),
                4,
            );
            let t = Instant::now();
            let page = std::sync::Arc::new(incremental.render(&engine));
            warm.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let sent: usize = page.clone().chunks(64 * 1024).map(|c| c.len()).sum();
            copy.push(t.elapsed().as_secs_f64());
            assert_eq!(sent, page.len(), "streamed page differs in size");
            gz_size = compress_timed(&mut gz, page, &mut gz_times, &mut gz_share);
        }
        let (warm, copy) = (median(warm), median(copy));
        incremental_rows.push(format!(
            "| {n} | {:.1} ms | {:.1} ms | {:.1} ms ({:.0}%) | {:.1} ms | {:.0}% |",
            render * 1e3,
            cold * 1e3,
            warm * 1e3,
            100.0 * warm / render,
            copy * 1e3,
            100.0 * (warm + copy) / render
        ));
        // The common case: checks run again with the same result (their
        // duration, run count and timestamps change, not their state).
        let (changed, changed_share) = (median(gz_times), median(gz_share));
        let (mut gz_times, mut gz_share) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            // The same result as the first round's, another duration.
            record(
                &engine,
                running
                    .checks
                    .iter()
                    .enumerate()
                    .skip(50 + round)
                    .step_by(100),
                passed,
                5,
            );
            let page = std::sync::Arc::new(incremental.render(&engine));
            gz_size = compress_timed(&mut gz, page, &mut gz_times, &mut gz_share);
        }
        // Before: the page streamed from the kept lines into one gzip stream.
        let before = copy + whole_gzip;
        let (again, again_share) = (median(gz_times), median(gz_share));
        gzip_rows.push(format!(
            "| {n} | {:.1} ms | {:.1} ms ({:.0}%), {:.0}% of the text | {:.1} ms ({:.0}%), {:.0}% of the text | {:.2} MB ({:+.1}%) |",
            before * 1e3,
            changed * 1e3,
            100.0 * changed / before,
            100.0 * changed_share,
            again * 1e3,
            100.0 * again / before,
            100.0 * again_share,
            gz_size as f64 / 1e6,
            100.0 * (gz_size as f64 / gzipped as f64 - 1.0),
        ));
    }
    println!();
    println!("| checks | full render | incremental, first | incremental, 1% changed (vs full) | streaming it (the copy) | render + copy vs full |");
    println!("|---|---|---|---|---|---|");
    for row in incremental_rows {
        println!("{row}");
    }
    println!();
    println!("| checks | gzip of the whole page (copy + gzip) | kept segments, 1% changed state | kept segments, 1% ran again, same state | gzip page (vs whole) |");
    println!("|---|---|---|---|---|");
    for row in gzip_rows {
        println!("{row}");
    }
}
