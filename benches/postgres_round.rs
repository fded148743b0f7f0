//! Wall time of one round of all eight PostgreSQL kinds against a local test
//! server (started here, with pg_stat_statements and a seeded schema), through
//! one shared pool of 2 connections, run concurrently as the scheduler does.
//! Prints figures; asserts nothing about speed.
//! Run: `cargo bench --bench postgres_round [-- ROUNDS]`.

mod support;
use support::require_binary;

#[allow(dead_code)]
#[path = "../tests/it/support/certs.rs"]
mod certs;
#[allow(dead_code)]
#[path = "../tests/it/support/nginx.rs"]
mod nginx;
#[allow(dead_code)]
#[path = "../tests/it/support/postgres.rs"]
mod postgres;

use std::time::Instant;

use prodready_exporter::config::Config;
use prodready_exporter::engine::{evaluate, Plan};

fn main() {
    let rounds: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(20);
    let pg = postgres::Postgres::start_with(
        None,
        "shared_preload_libraries = 'pg_stat_statements'\nwal_level = replica\narchive_mode = on\narchive_command = 'true'\n",
        "",
    );
    pg.psql("postgres", "CREATE EXTENSION pg_stat_statements");
    pg.psql(
        "postgres",
        "CREATE TABLE big (id int PRIMARY KEY, v int); INSERT INTO big SELECT g, g % 100 FROM generate_series(1, 20000) g;
         CREATE TABLE child (id int PRIMARY KEY, big_id int REFERENCES big(id)); CREATE INDEX ON child (big_id);",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("20240101000000_init.sql"),
        "CREATE TABLE x ();",
    )
    .unwrap();
    let file = dir.path().join("bench.yaml");
    std::fs::write(
        &file,
        format!(
            "targets:\n  db: {{ postgres: {{ url: \"postgres://postgres@127.0.0.1:{}/postgres\", pool_size: 2 }} }}\nchecks:\n\
             \x20 - {{ name: a, kind: postgres_indexes, target: db, params: {{ min_stats_age: 0s }} }}\n\
             \x20 - {{ name: b, kind: postgres_slow_queries, target: db }}\n\
             \x20 - {{ name: c, kind: postgres_n_plus_one, target: db, params: {{ min_total_calls: 1 }} }}\n\
             \x20 - {{ name: d, kind: postgres_connections, target: db }}\n\
             \x20 - {{ name: e, kind: postgres_cache_hit_ratio, target: db, params: {{ min_blocks: 1 }} }}\n\
             \x20 - {{ name: f, kind: postgres_replication, target: db, params: {{ min_replicas: 0 }} }}\n\
             \x20 - {{ name: g, kind: postgres_wal_archiving, target: db }}\n\
             \x20 - {{ name: h, kind: pending_migrations, target: db, params: {{ tool: sqlx, dir: \"{}\" }} }}\n",
            pg.port,
            dir.path().display()
        ),
    )
    .unwrap();
    let plan = Plan::build(Config::load(&file).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut times = Vec::new();
    runtime.block_on(async {
        for round in 0..=rounds {
            let t0 = Instant::now();
            let evaluations = futures_join(&plan).await;
            let elapsed = t0.elapsed().as_secs_f64() * 1000.0;
            if round == 0 {
                for (name, state, ms) in &evaluations {
                    println!("first round: {name:<26} {state:<7} {ms:.1} ms");
                }
                continue; // the first round opens the pool's connections
            }
            times.push(elapsed);
        }
    });
    times.sort_by(|a, b| a.total_cmp(b));
    let connections = pg.psql(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'prodready-exporter'",
    );
    println!(
        "one round of 8 PostgreSQL checks (concurrent, pool of 2): median {:.1} ms, p90 {:.1} ms, max {:.1} ms over {rounds} rounds",
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() - 1]
    );
    println!("connections held by the exporter at steady state: {connections}");
}

/// Evaluates every check of the plan at once; returns (kind, state, ms).
async fn futures_join(plan: &Plan) -> Vec<(String, String, f64)> {
    let mut tasks = tokio::task::JoinSet::new();
    for planned in &plan.checks {
        let planned = planned.clone();
        let semaphore = plan.semaphore.clone();
        let redactor = plan.redactor.clone();
        tasks.spawn(async move {
            let e = evaluate(&planned, &semaphore, &redactor).await;
            (
                planned.kind.name.to_owned(),
                e.outcome.state.as_str().to_owned(),
                e.duration.as_secs_f64() * 1000.0,
            )
        });
    }
    let mut out = Vec::new();
    while let Some(Ok(r)) = tasks.join_next().await {
        out.push(r);
    }
    out
}
