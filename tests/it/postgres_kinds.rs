//! The PostgreSQL kinds (and PgBouncer) against real servers started by the
//! tests in temp dirs on free loopback ports: pg_stat_statements, WAL
//! archiving, a streaming replica. Every kind is made to pass and to fail.

use std::time::Duration;

use crate::support::postgres::Postgres;
use crate::support::{assert_state, by, run_checks, wait_until, Exporter};

/// Runs each `(database, sql)` over and over on its own thread while `f`
/// runs, so that windowed checks see traffic inside their window.
fn with_traffic<T>(pg: &Postgres, work: &[(&str, &str)], f: impl FnOnce() -> T) -> T {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for (db, sql) in work {
            let stop = &stop;
            scope.spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    pg.psql(db, sql);
                }
            });
        }
        // Let the traffic start before the first sample.
        std::thread::sleep(Duration::from_millis(300));
        let out = f();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    })
}

const SLOW_LOOP: &str = "DO $$ BEGIN FOR i IN 1..10 LOOP PERFORM pg_sleep(0.12); END LOOP; END $$";
const N_PLUS_ONE_LOOP: &str =
    "DO $$ BEGIN FOR i IN 1..2500 LOOP PERFORM name FROM items WHERE id = i; END LOOP; END $$";
const CLEAN_LOOP: &str =
    "DO $$ BEGIN FOR i IN 1..30 LOOP PERFORM id FROM parent WHERE id <= 20; END LOOP; END $$";

const PG_CONF: &str =
    "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n";

/// `dirty` holds every problem the index and statement checks look for;
/// `clean` is its fixed counterpart.
fn seed_postgres(pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE dirty");
    pg.psql("postgres", "CREATE DATABASE clean");
    for db in ["dirty", "clean"] {
        pg.psql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    }
    pg.psql(
        "dirty",
        "CREATE TABLE big (id int, v int); INSERT INTO big SELECT g, g % 100 FROM generate_series(1, 20000) g; ANALYZE big;
         CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
         CREATE TABLE dup (a int, b int); CREATE INDEX dup_a ON dup (a); CREATE INDEX dup_ab ON dup (a, b);
         CREATE TABLE uniq (v int); INSERT INTO uniq VALUES (1), (1);
         CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g;",
    );
    // A failed CREATE INDEX CONCURRENTLY leaves an invalid index behind.
    let err = pg.psql_err(
        "dirty",
        "CREATE UNIQUE INDEX CONCURRENTLY uniq_v ON uniq (v)",
    );
    assert!(err.contains("could not create unique index"), "{err}");
    // Sequential scans on a 20,000-row table without an index.
    for _ in 0..20 {
        pg.psql("dirty", "SELECT count(*) FROM big WHERE v = 7");
    }
    // Slow statements, and an N+1 loop fetching one row at a time.
    pg.psql(
        "dirty",
        "DO $$ BEGIN FOR i IN 1..10 LOOP PERFORM pg_sleep(0.12); END LOOP; END $$",
    );
    pg.psql(
        "dirty",
        "DO $$ BEGIN FOR i IN 1..2500 LOOP PERFORM name FROM items WHERE id = i; END LOOP; END $$",
    );
    pg.psql(
        "clean",
        "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
         CREATE INDEX child_parent ON child (parent_id); INSERT INTO parent SELECT generate_series(1, 100);
         DO $$ BEGIN FOR i IN 1..30 LOOP PERFORM count(*) FROM parent; END LOOP; END $$;",
    );
}

#[test]
fn postgres_kinds_pass_and_fail_on_a_real_server() {
    let pg = Postgres::start_with(None, PG_CONF, "host all app 127.0.0.1/32 scram-sha-256");
    seed_postgres(&pg);
    pg.psql(
        "postgres",
        "CREATE ROLE app LOGIN PASSWORD 'Right-Pass-5521'",
    );
    let url = |db: &str| format!("postgres://postgres@127.0.0.1:{}/{db}", pg.port);
    let config = format!(
        r#"
targets:
  dirty: {{ postgres: {{ url: "{dirty}" }} }}
  clean: {{ postgres: {{ url: "{clean}" }} }}
  wrong_password: {{ postgres: {{ url: "postgres://app:Wrong-Pass-9931@127.0.0.1:{port}/postgres" }} }}
  down: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:1/postgres" }} }}
checks:
  - {{ name: idx_dirty, kind: postgres_indexes, target: dirty, params: {{ min_stats_age: 0s }} }}
  - {{ name: idx_clean, kind: postgres_indexes, target: clean, params: {{ min_stats_age: 0s, unused: false }} }}
  - {{ name: idx_young_stats, kind: postgres_indexes, target: clean, params: {{ min_stats_age: 1d }} }}
  - {{ name: slow_dirty, kind: postgres_slow_queries, target: dirty, params: {{ window: 3s }} }}
  - {{ name: slow_clean, kind: postgres_slow_queries, target: clean, params: {{ window: 3s }} }}
  - {{ name: slow_first_sample, kind: postgres_slow_queries, target: clean }}
  - {{ name: n1_dirty, kind: postgres_n_plus_one, target: dirty, params: {{ min_calls: 1000, window: 3s }} }}
  - {{ name: n1_clean, kind: postgres_n_plus_one, target: clean, params: {{ min_calls: 1000, min_total_calls: 10, window: 3s }} }}
  - {{ name: n1_no_data, kind: postgres_n_plus_one, target: clean, params: {{ min_total_calls: 1000000, window: 3s }} }}
  - {{ name: conn_ok, kind: postgres_connections, target: clean }}
  - {{ name: conn_full, kind: postgres_connections, target: clean, params: {{ max_ratio: 0.001 }} }}
  - {{ name: cache_clean, kind: postgres_cache_hit_ratio, target: clean, params: {{ min_blocks: 10, min_ratio: 0.95, window: 3s }} }}
  - {{ name: cache_no_data, kind: postgres_cache_hit_ratio, target: clean, params: {{ min_blocks: 100000000, window: 3s }} }}
  - {{ name: bad_password, kind: postgres_connections, target: wrong_password }}
  - {{ name: server_down, kind: postgres_indexes, target: down }}
"#,
        dirty = url("dirty"),
        clean = url("clean"),
        port = pg.port,
    );
    let r = with_traffic(
        &pg,
        &[
            ("dirty", SLOW_LOOP),
            ("dirty", N_PLUS_ONE_LOOP),
            ("clean", CLEAN_LOOP),
        ],
        || run_checks(&config, &[]),
    );
    assert_state(
        by(&r, "idx_dirty"),
        "fail",
        "missing index on public.big (20000 rows, 0% index use)",
    );
    let msg = &by(&r, "idx_dirty").message;
    for part in [
        "invalid index public.uniq_v",
        "foreign key without index child_parent_id_fkey (public.child)",
        "duplicate index public.dup_a (covered by public.dup_ab)",
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
    r.expect_states(&[
        ("idx_clean", "pass", "every foreign key is indexed"),
        ("idx_young_stats", "unknown", "statistics are"),
        ("slow_dirty", "fail", "pg_sleep"),
        (
            "slow_clean",
            "pass",
            "with mean time >= 100ms (calls >= 10) over a 3s window",
        ),
        ("slow_first_sample", "unknown", "first sample taken"),
        ("n1_dirty", "warn", "suspected N+1"),
    ]);
    assert!(
        by(&r, "n1_dirty").message.contains("items"),
        "{}",
        by(&r, "n1_dirty").message
    );
    r.expect_states(&[
        ("n1_clean", "pass", "no SELECT called"),
        ("n1_no_data", "unknown", "statement calls over a 3s window"),
        ("conn_ok", "pass", "usable connections in use"),
        ("conn_full", "fail", "limit 0%"),
        ("cache_clean", "pass", "cache hit ratio"),
        (
            "cache_no_data",
            "unknown",
            "block accesses over a 3s window",
        ),
        (
            "bad_password",
            "error",
            "password authentication failed for user \"app\"",
        ),
    ]);
    assert!(!by(&r, "bad_password").message.contains("Wrong-Pass-9931"));
    assert_state(by(&r, "server_down"), "error", "connection failed");

    // Without the extension: an error that says how to enable it.
    pg.psql("clean", "DROP EXTENSION pg_stat_statements");
    let r = run_checks(
        &format!("targets:\n  clean: {{ postgres: {{ url: \"{}\" }} }}\nchecks:\n  - {{ name: s, kind: postgres_slow_queries, target: clean }}\n", url("clean")),
        &[],
    );
    assert_state(by(&r, "s"), "error", "CREATE EXTENSION pg_stat_statements");
}

#[test]
fn postgres_idle_in_transaction_and_cache_misses_fail() {
    let pg = Postgres::start_with(None, "", "");
    pg.psql("postgres", "CREATE TABLE wide AS SELECT g AS id, repeat('x', 600) AS pad FROM generate_series(1, 60000) g");
    for _ in 0..3 {
        pg.psql("postgres", "SELECT count(*) FROM wide");
    }
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A session left idle inside a transaction.
    let _idle = runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        conn.execute("BEGIN").await.unwrap();
        conn.execute("SELECT 1").await.unwrap();
        conn
    });
    std::thread::sleep(Duration::from_millis(1500));
    // Sequential scans of a table larger than a quarter of shared_buffers go
    // through a small ring buffer: most of their blocks are reads.
    let r = with_traffic(&pg, &[("postgres", "SELECT count(*) FROM wide")], || {
        run_checks(
            &format!(
                "targets:\n  db: {{ postgres: {{ url: \"{url}\" }} }}\nchecks:\n  - {{ name: idle, kind: postgres_connections, target: db, params: {{ idle_in_transaction_age: 1s }} }}\n  - {{ name: cache, kind: postgres_cache_hit_ratio, target: db, params: {{ window: 3s }} }}\n"
            ),
            &[],
        )
    });
    r.expect_states(&[
        (
            "idle",
            "fail",
            "1 session(s) idle in a transaction for more than 1s",
        ),
        ("cache", "fail", "is below 99.00%"),
    ]);
    assert!(by(&r, "cache").doc["observed"].as_f64().unwrap() < 0.99);
}

#[test]
fn postgres_replication_and_wal_archiving() {
    let archive_probe = tempfile::tempdir().unwrap();
    let _ = archive_probe;
    let primary = Postgres::start_with(None, "wal_level = replica\narchive_mode = on\n", "");
    let archive = primary.writable_dir("archive");
    primary.psql(
        "postgres",
        &format!(
            "ALTER SYSTEM SET archive_command = 'cp %p {}/%f'",
            archive.display()
        ),
    );
    primary.psql("postgres", "SELECT pg_reload_conf()");
    primary.psql(
        "postgres",
        "CREATE TABLE t (id int); INSERT INTO t VALUES (1)",
    );
    primary.psql("postgres", "SELECT pg_switch_wal()");
    wait_until(
        "a WAL segment to be archived",
        Duration::from_secs(20),
        || primary.psql("postgres", "SELECT archived_count FROM pg_stat_archiver") != "0",
    );
    let replica = primary.replica();
    wait_until("the replica to stream", Duration::from_secs(20), || {
        primary.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
        ) == "1"
    });
    let config = |extra: &str| {
        format!(
            "targets:\n  primary: {{ postgres: {{ url: \"postgres://postgres@127.0.0.1:{}/postgres\" }} }}\n  replica: {{ postgres: {{ url: \"postgres://postgres@127.0.0.1:{}/postgres\" }} }}\nchecks:\n  - {{ name: repl_primary, kind: postgres_replication, target: primary }}\n  - {{ name: repl_replica, kind: postgres_replication, target: replica }}\n  - {{ name: archiving, kind: postgres_wal_archiving, target: primary }}\n{extra}",
            primary.port, replica.port
        )
    };
    let r = run_checks(&config(""), &[]);
    r.expect_states(&[
        ("repl_primary", "pass", "1 streaming replica(s)"),
        ("repl_replica", "pass", "replica streaming"),
        ("archiving", "pass", "archive_mode on; last WAL archived"),
    ]);

    // Break both: stop the replica, make archiving fail.
    replica.stop();
    primary.psql("postgres", "ALTER SYSTEM SET archive_command = 'false'");
    primary.psql("postgres", "SELECT pg_reload_conf()");
    primary.psql("postgres", "INSERT INTO t VALUES (2)");
    primary.psql("postgres", "SELECT pg_switch_wal()");
    wait_until("an archive failure", Duration::from_secs(30), || {
        primary.psql("postgres", "SELECT failed_count FROM pg_stat_archiver") != "0"
    });
    wait_until("the replica to disappear", Duration::from_secs(20), || {
        primary.psql("postgres", "SELECT count(*) FROM pg_stat_replication") == "0"
    });
    let r = run_checks(&config(""), &[]);
    r.expect_states(&[
        (
            "repl_primary",
            "fail",
            "0 healthy streaming replica(s), need 1",
        ),
        ("archiving", "fail", "archiving is failing"),
    ]);

    let off = Postgres::start(None);
    let r = run_checks(
        &format!("targets:\n  db: {{ postgres: {{ url: \"postgres://postgres@127.0.0.1:{}/postgres\" }} }}\nchecks:\n  - {{ name: a, kind: postgres_wal_archiving, target: db }}\n", off.port),
        &[],
    );
    assert_state(by(&r, "a"), "fail", "archive_mode is off");
}

#[test]
fn postgres_pool_holds_at_most_its_size_at_steady_state() {
    let pg = Postgres::start_with(None, PG_CONF, "");
    pg.psql("postgres", "CREATE EXTENSION pg_stat_statements");
    let exporter = Exporter::start(&format!(
        r#"
global: {{ interval: 1s, timeout: 1s, concurrency: 8 }}
targets:
  db: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:{}/postgres", pool_size: 2 }} }}
checks:
  - {{ name: a, kind: postgres_indexes, target: db, params: {{ min_stats_age: 0s }} }}
  - {{ name: b, kind: postgres_slow_queries, target: db }}
  - {{ name: c, kind: postgres_n_plus_one, target: db }}
  - {{ name: d, kind: postgres_connections, target: db }}
  - {{ name: e, kind: postgres_cache_hit_ratio, target: db }}
  - {{ name: f, kind: postgres_replication, target: db }}
"#,
        pg.port
    ));
    let mut max_seen = 0;
    for _ in 0..12 {
        std::thread::sleep(Duration::from_millis(250));
        let n: usize = pg
            .psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'prodready-exporter'")
            .parse()
            .unwrap();
        max_seen = max_seen.max(n);
    }
    assert!(
        max_seen >= 1,
        "the exporter never connected:\n{}",
        exporter.logs()
    );
    assert!(max_seen <= 2, "{max_seen} connections open, pool size is 2");
}

/// A real PgBouncer in front of `pg`, pool size 1, session pooling; runs as
/// the `postgres` user when the tests run as root (PgBouncer refuses root).
struct PgBouncer {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    fn start(pg: &Postgres) -> PgBouncer {
        use std::os::unix::fs::PermissionsExt;
        let bin = crate::support::require_binary("pgbouncer");
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = crate::support::nginx::free_ports(1)[0];
        let d = dir.path().display();
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\npostgres = host=127.0.0.1 port={} dbname=postgres\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {d}/users.txt\nadmin_users = postgres\npool_mode = session\ndefault_pool_size = 1\nmax_client_conn = 20\nignore_startup_parameters = extra_float_digits,options\nlogfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\n",
                pg.port
            ),
        )
        .unwrap();
        for f in ["users.txt", "pgbouncer.ini"] {
            std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        let mut cmd = if crate::support::postgres::is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            std::process::Command::new(bin)
        };
        let child = cmd
            .arg(dir.path().join("pgbouncer.ini"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_until("pgbouncer to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        PgBouncer {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn pgbouncer_waiting_clients_fail_the_connections_check() {
    let pg = Postgres::start(None);
    let bouncer = PgBouncer::start(&pg);
    let config = format!(
        "targets:\n  db: {{ postgres: {{ url: \"postgres://postgres@127.0.0.1:{}/postgres\" }} }}\nchecks:\n  - {{ name: c, kind: postgres_connections, target: db, params: {{ pgbouncer_admin_url: \"postgres://postgres@127.0.0.1:{}/pgbouncer\" }} }}\n",
        pg.port, bouncer.port
    );
    let r = run_checks(&config, &[]);
    assert_state(by(&r, "c"), "pass", "0 PgBouncer clients waiting");

    // One client holds the only server connection; a second one waits for it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let through = format!("postgres://postgres@127.0.0.1:{}/postgres", bouncer.port);
    let _holder = runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::PgConnection::connect(&through).await.unwrap();
        conn.execute("SELECT 1").await.unwrap();
        conn
    });
    let waiter = runtime.spawn(async move {
        use sqlx::{Connection, Executor};
        if let Ok(mut conn) = sqlx::PgConnection::connect(&through).await {
            let _ = conn.execute("SELECT 1").await;
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    let r = run_checks(&config, &[]);
    assert_state(by(&r, "c"), "fail", "1 PgBouncer client(s) waiting");
    waiter.abort();
}

/// Every PostgreSQL kind that needs to see other roles' activity is run as a
/// `monitor` role twice: without `pg_monitor` (each must be `error` naming
/// the grant, never a verdict from the rows it could see) and with it (the
/// real verdict on another role's idle transaction and long statement).
#[test]
fn postgres_kinds_under_a_least_privilege_role() {
    let pg = Postgres::start_with(
        None,
        &format!(
            "{PG_CONF}wal_level = replica\narchive_mode = on\narchive_command = '/bin/true'\n"
        ),
        "",
    );
    pg.psql(
        "postgres",
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
         CREATE ROLE app LOGIN; CREATE ROLE monitor LOGIN; CREATE ROLE monitor_plain LOGIN;
         GRANT pg_monitor TO monitor;
         CREATE TABLE items (id int PRIMARY KEY, name text); GRANT SELECT ON items TO app;
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g;",
    );
    // The application role's N+1 loop, visible only to a role that reads all stats.
    pg.psql(
        "postgres",
        "SET ROLE app; DO $$ BEGIN FOR i IN 1..2500 LOOP PERFORM name FROM items WHERE id = i; END LOOP; END $$",
    );
    pg.psql("postgres", "SELECT pg_switch_wal()");
    let app_url = format!("postgres://app@127.0.0.1:{}/postgres", pg.port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Another role's session idle inside a transaction, and one running a long statement.
    let (_idle, _long) = runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut idle = sqlx::PgConnection::connect(&app_url).await.unwrap();
        idle.execute("BEGIN").await.unwrap();
        idle.execute("SELECT 1").await.unwrap();
        let long = tokio::spawn({
            let url = app_url.clone();
            async move {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                // Its text holds secrets in every literal form PostgreSQL
                // has; the check shows the statement with none of them.
                let _ = c
                    .execute(
                        r"SELECT pg_sleep(60), 'plain-s3cret', $$dollar-s3cret$$, $t$tag-s3cret$t$, E'esc-s3cret\'', U&'uni-s3cret' -- comment-s3cret",
                    )
                    .await;
            }
        });
        (idle, long)
    });
    std::thread::sleep(Duration::from_millis(2500));
    let checks = |role: &str| {
        format!(
            "  - {{ name: conn_{role}, kind: postgres_connections, target: {role}, params: {{ idle_in_transaction_age: 1s }} }}
  - {{ name: slow_{role}, kind: postgres_slow_queries, target: {role}, params: {{ max_running_time: 2s }} }}
  - {{ name: n1_{role}, kind: postgres_n_plus_one, target: {role}, params: {{ min_calls: 1000, window: 3s }} }}
  - {{ name: repl_{role}, kind: postgres_replication, target: {role} }}
  - {{ name: wal_{role}, kind: postgres_wal_archiving, target: {role} }}
"
        )
    };
    let config = format!(
        "targets:\n  plain: {{ postgres: {{ url: \"postgres://monitor_plain@127.0.0.1:{port}/postgres\" }} }}\n  mon: {{ postgres: {{ url: \"postgres://monitor@127.0.0.1:{port}/postgres\" }} }}\nchecks:\n{}{}",
        checks("plain"),
        checks("mon"),
        port = pg.port
    );
    let r = with_traffic(
        &pg,
        &[(
            "postgres",
            "SET ROLE app; DO $$ BEGIN FOR i IN 1..2500 LOOP PERFORM name FROM items WHERE id = i; END LOOP; END $$",
        )],
        || run_checks(&config, &[]),
    );
    let grant = "role \"monitor_plain\" lacks pg_read_all_stats";
    r.expect_states(&[
        ("conn_plain", "error", grant),
        ("slow_plain", "error", grant),
        ("n1_plain", "error", grant),
        ("repl_plain", "error", grant),
        (
            "wal_plain",
            "error",
            "role \"monitor_plain\" lacks pg_read_all_settings",
        ),
        (
            "conn_mon",
            "fail",
            "1 session(s) idle in a transaction for more than 1s",
        ),
        ("slow_mon", "fail", "running longer than 2s"),
        ("n1_mon", "warn", "items"),
        ("repl_mon", "fail", "0 healthy streaming replica(s), need 1"),
        (
            "wal_mon",
            "fail",
            "archive_command \"/bin/true\" discards WAL",
        ),
    ]);
    for name in [
        "conn_plain",
        "slow_plain",
        "n1_plain",
        "repl_plain",
        "wal_plain",
    ] {
        assert!(
            by(&r, name)
                .message
                .contains("GRANT pg_monitor TO \"monitor_plain\""),
            "{name}: {}",
            by(&r, name).message
        );
    }
    let slow = by(&r, "slow_mon").doc.to_string();
    assert!(slow.contains("pg_sleep"), "{slow}");
    assert!(!slow.contains("s3cret"), "statement literals shown: {slow}");
}
