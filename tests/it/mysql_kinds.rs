//! The MySQL/MariaDB kinds against real MariaDB servers (performance_schema,
//! a replica) started by the tests in temp dirs on free loopback ports.

use std::time::Duration;

use crate::support::mariadb::MariaDb;
use crate::support::{by, run_checks, wait_until};

#[test]
fn mariadb_kinds_pass_and_fail_on_real_servers() {
    let primary = MariaDb::start(&[
        "--performance-schema=ON",
        "--server-id=1",
        "--log-bin=mysql-bin",
    ]);
    primary.sql("CREATE DATABASE shop; CREATE TABLE shop.orders (id int, total int); CREATE TABLE shop.customers (id int PRIMARY KEY);");
    primary.sql("CREATE USER 'repl'@'%' IDENTIFIED BY 'Repl-Pass-3321'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';");
    let replica = MariaDb::start(&["--server-id=2", "--read-only=ON"]);
    replica.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='Repl-Pass-3321', MASTER_USE_GTID=slave_pos; START SLAVE;",
        primary.port
    ));
    wait_until("replication to run", Duration::from_secs(20), || {
        replica
            .sql("SHOW SLAVE STATUS\\G")
            .contains("Slave_SQL_Running: Yes")
            && replica
                .sql("SHOW SLAVE STATUS\\G")
                .contains("Slave_IO_Running: Yes")
    });
    let no_ps = MariaDb::start(&["--performance-schema=OFF"]);
    // Enough calls of one fast statement for the digests to be judged.
    for _ in 0..12 {
        primary.sql("SELECT 1");
    }
    let config = || {
        format!(
            r#"
targets:
  primary: {{ mysql: {{ url: "{p}" }} }}
  replica: {{ mysql: {{ url: "{r}" }} }}
  no_ps: {{ mysql: {{ url: "{n}" }} }}
  wrong: {{ mysql: {{ url: "mysql://monitor:Wrong-Pass-1187@127.0.0.1:{port}/mysql" }} }}
checks:
  - {{ name: conn_ok, kind: mysql_connections, target: primary }}
  - {{ name: conn_full, kind: mysql_connections, target: primary, params: {{ max_ratio: 0.001 }} }}
  - {{ name: idx, kind: mysql_indexes, target: primary, params: {{ unused: false }} }}
  - {{ name: slow, kind: mysql_slow_queries, target: primary }}
  - {{ name: slow_no_ps, kind: mysql_slow_queries, target: no_ps }}
  - {{ name: repl_replica, kind: mysql_replication, target: replica }}
  - {{ name: repl_primary, kind: mysql_replication, target: primary }}
  - {{ name: bad_password, kind: mysql_connections, target: wrong }}
"#,
            p = primary.url(),
            r = replica.url(),
            n = no_ps.url(),
            port = primary.port
        )
    };
    let r = run_checks(&config(), &[]);
    r.expect_states(&[
        ("conn_ok", "pass", "connections in use"),
        ("conn_full", "fail", "limit 0%"),
        (
            "idx",
            "fail",
            "1 table(s) without a primary key: shop.orders",
        ),
        ("slow", "pass", "no statement digest"),
        ("slow_no_ps", "error", "performance_schema is OFF"),
        ("repl_replica", "pass", "replica IO and SQL threads running"),
        ("repl_primary", "fail", "not configured as a replica"),
        ("bad_password", "error", "Access denied for user 'monitor'"),
    ]);
    assert!(!by(&r, "bad_password").message.contains("Wrong-Pass-1187"));

    // Now make it bad for real: slow statements, a stopped replica; fix the table.
    for _ in 0..10 {
        primary.sql("SELECT SLEEP(0.12)");
    }
    primary.sql("ALTER TABLE shop.orders ADD PRIMARY KEY (id)");
    replica.sql("STOP SLAVE");
    let r = run_checks(&config(), &[]);
    r.expect_states(&[
        ("slow", "fail", "SLEEP"),
        ("idx", "pass", "every table has a primary key"),
        ("repl_replica", "fail", "IO thread is \"No\""),
    ]);
}

/// The MySQL kinds under accounts that cannot see what they judge: no table
/// visible, a schema without grants, sys/performance_schema not readable,
/// statement digests off, no digest recorded yet. Each is `error`, `warn` or
/// `unknown` with the grant or setting named, never a pass.
#[test]
fn mariadb_kinds_under_least_privilege_accounts() {
    let db = MariaDb::start(&[
        "--performance-schema=ON",
        "--performance-schema-consumer-statements-digest=OFF",
    ]);
    let fresh = MariaDb::start(&["--performance-schema=ON"]);
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.customers (id int PRIMARY KEY);
            CREATE DATABASE billing; CREATE TABLE billing.invoices (id int PRIMARY KEY);
            CREATE USER 'blind'@'%' IDENTIFIED BY 'Blind-Pass-4471';
            CREATE USER 'narrow'@'%' IDENTIFIED BY 'Narrow-Pass-4471';
            GRANT SELECT ON shop.* TO 'narrow'@'%';",
    );
    let url = |user: &str, password: &str| {
        format!(
            "mysql://{user}:{password}@127.0.0.1:{}/information_schema",
            db.port
        )
    };
    let config = format!(
        r#"
targets:
  blind: {{ mysql: {{ url: "{blind}" }} }}
  narrow: {{ mysql: {{ url: "{narrow}" }} }}
  monitor: {{ mysql: {{ url: "{monitor}" }} }}
  fresh: {{ mysql: {{ url: "{fresh}" }} }}
checks:
  - {{ name: idx_blind, kind: mysql_indexes, target: blind }}
  - {{ name: idx_missing_schema, kind: mysql_indexes, target: narrow, params: {{ schemas: [shop, billing], unused: false }} }}
  - {{ name: idx_no_sys, kind: mysql_indexes, target: narrow, params: {{ schemas: [shop] }} }}
  - {{ name: idx_monitor, kind: mysql_indexes, target: monitor, params: {{ schemas: [shop, billing], unused: false }} }}
  - {{ name: slow_digests_off, kind: mysql_slow_queries, target: monitor }}
  - {{ name: slow_nothing_recorded, kind: mysql_slow_queries, target: fresh, params: {{ min_calls: 1000 }} }}
"#,
        blind = url("blind", "Blind-Pass-4471"),
        narrow = url("narrow", "Narrow-Pass-4471"),
        monitor = db.url(),
        fresh = fresh.url(),
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        (
            "idx_blind",
            "error",
            "sees no table outside the system schemas",
        ),
        (
            "idx_missing_schema",
            "error",
            "schema(s) billing show no table",
        ),
        ("idx_no_sys", "warn", "unused indexes not checked"),
        ("idx_monitor", "pass", "every table has a primary key"),
        (
            "slow_digests_off",
            "error",
            "statements_digest consumer is off",
        ),
        (
            "slow_nothing_recorded",
            "unknown",
            "no statement digest with at least 1000 calls",
        ),
    ]);
    assert!(by(&r, "idx_missing_schema")
        .message
        .contains("GRANT SELECT ON billing.*"));
}
