//! `pending_migrations` against real history tables in PostgreSQL (sqlx,
//! Rails, Ecto, Flyway, Diesel, Alembic): pending, dirty, checksum mismatch.

use crate::support::postgres::Postgres;
use crate::support::{by, run_checks};

fn sha384(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA384, text.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn pending_migrations_against_real_history_tables() {
    let pg = Postgres::start(None);
    let dirs = tempfile::tempdir().unwrap();
    let write = |dir: &str, name: &str, body: &str| {
        let d = dirs.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), body).unwrap();
    };
    let m1 = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
    let m2 = "ALTER TABLE users ADD COLUMN email text;\n";
    write("sqlx_ok", "20240101000000_users.sql", m1);
    write("sqlx_pending", "20240101000000_users.sql", m1);
    write("sqlx_pending", "20240201000000_email.sql", m2);
    write(
        "sqlx_changed",
        "20240101000000_users.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    write("flyway", "V1__users.sql", m1);
    write("flyway", "V1_1__email.sql", m2);
    write(
        "rails",
        "20240101000000_create_users.rb",
        "class CreateUsers; end",
    );
    write(
        "rails",
        "20240201000000_add_email.rb",
        "class AddEmail; end",
    );
    write(
        "alembic",
        "a1_users.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    write(
        "alembic",
        "b2_email.py",
        "revision = 'b2'\ndown_revision = 'a1'\n",
    );
    pg.psql("postgres", &format!(
        "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text, installed_on timestamptz DEFAULT now(), success boolean, checksum bytea, execution_time bigint);
         INSERT INTO _sqlx_migrations VALUES (20240101000000, 'users', now(), true, '\\x{}', 1);
         CREATE SCHEMA dirty;
         CREATE TABLE dirty._sqlx_migrations (LIKE _sqlx_migrations);
         INSERT INTO dirty._sqlx_migrations VALUES (20240101000000, 'users', now(), false, '\\x{}', 1);
         CREATE TABLE flyway_schema_history (installed_rank int, version varchar(50), description varchar(200), type varchar(20), script varchar(1000), checksum int, installed_by varchar(100), installed_on timestamp DEFAULT now(), execution_time int, success boolean);
         INSERT INTO flyway_schema_history VALUES (1, '1', 'users', 'SQL', 'V1__users.sql', {}, 'me', now(), 1, true), (2, '1.1', 'email', 'SQL', 'V1_1__email.sql', {}, 'me', now(), 1, true);
         CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000');
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('b2');
         CREATE ROLE app LOGIN; CREATE TABLE private_history (version varchar);",
        sha384(m1),
        sha384(m1),
        prodready_exporter::scan::migrations::flyway_checksum(m1),
        prodready_exporter::scan::migrations::flyway_checksum(m2),
    ));
    let d = |n: &str| dirs.path().join(n).display().to_string();
    let config = format!(
        r#"
targets:
  db: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:{port}/postgres" }} }}
  app: {{ postgres: {{ url: "postgres://app@127.0.0.1:{port}/postgres" }} }}
checks:
  - {{ name: sqlx_ok, kind: pending_migrations, target: db, params: {{ tool: sqlx, dir: "{a}" }} }}
  - {{ name: sqlx_pending, kind: pending_migrations, target: db, params: {{ tool: sqlx, dir: "{b}" }} }}
  - {{ name: sqlx_tolerated, kind: pending_migrations, target: db, params: {{ tool: sqlx, dir: "{b}", allow_pending: 1 }} }}
  - {{ name: sqlx_changed, kind: pending_migrations, target: db, params: {{ tool: sqlx, dir: "{c}" }} }}
  - {{ name: sqlx_dirty, kind: pending_migrations, target: db, params: {{ tool: sqlx, dir: "{a}", table: dirty._sqlx_migrations }} }}
  - {{ name: flyway_ok, kind: pending_migrations, target: db, params: {{ tool: flyway, dir: "{f}" }} }}
  - {{ name: rails_pending, kind: pending_migrations, target: db, params: {{ tool: rails, dir: "{r}" }} }}
  - {{ name: alembic_ok, kind: pending_migrations, target: db, params: {{ tool: alembic, dir: "{al}" }} }}
  - {{ name: no_table, kind: pending_migrations, target: db, params: {{ tool: diesel, dir: "{a}" }} }}
  - {{ name: no_files, kind: pending_migrations, target: db, params: {{ tool: ecto, dir: "{a}" }} }}
  - {{ name: no_privilege, kind: pending_migrations, target: app, params: {{ tool: rails, dir: "{r}", table: private_history }} }}
"#,
        port = pg.port,
        a = d("sqlx_ok"),
        b = d("sqlx_pending"),
        c = d("sqlx_changed"),
        f = d("flyway"),
        r = d("rails"),
        al = d("alembic"),
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        ("sqlx_ok", "pass", "all 1 migration(s)"),
        (
            "sqlx_pending",
            "fail",
            "1 pending: 20240201000000_email.sql",
        ),
    ]);
    assert_eq!(by(&r, "sqlx_pending").doc["observed"], 1.0);
    r.expect_states(&[
        ("sqlx_tolerated", "pass", "except 1 tolerated"),
        ("sqlx_changed", "fail", "checksum mismatch"),
        (
            "sqlx_dirty",
            "fail",
            "failed/dirty: 20240101000000_users.sql",
        ),
        ("flyway_ok", "pass", "all 2 migration(s)"),
        ("rails_pending", "fail", "20240201000000_add_email.rb"),
        ("alembic_ok", "pass", "all 2 migration(s)"),
        ("no_table", "error", "no Diesel migration files"),
        ("no_files", "error", "no Ecto migration files"),
        (
            "no_privilege",
            "error",
            "permission denied for table private_history",
        ),
    ]);
}

/// Django: the apps' migration files (written by Django's `makemigrations`)
/// against `django_migrations` as `manage.py migrate` filled it. The
/// contrib apps' rows (their files live in Django's package) are neither
/// pending nor "applied without a file".
#[test]
fn django_migrations_against_their_history_table() {
    let pg = Postgres::start(None);
    let fixture = crate::support::repo_root().join("tests/fixtures/migrations/django");
    let applied = std::fs::read_to_string(fixture.join("applied.txt")).unwrap();
    let rows: Vec<String> = applied
        .lines()
        .filter(|l| *l != "orders 0002_placed_at")
        .map(|l| {
            let (app, name) = l.split_once(' ').unwrap();
            format!("('{app}', '{name}', now())")
        })
        .collect();
    assert!(rows.len() > 10, "the contrib apps' rows are in the fixture");
    // The table as Django's MigrationRecorder creates it on PostgreSQL.
    pg.psql(
        "postgres",
        &format!(
            "CREATE TABLE django_migrations (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL);
             INSERT INTO django_migrations (app, name, applied) VALUES {};
             CREATE SCHEMA done;
             CREATE TABLE done.django_migrations (LIKE public.django_migrations INCLUDING ALL);
             INSERT INTO done.django_migrations (app, name, applied) SELECT app, name, applied FROM public.django_migrations;
             INSERT INTO done.django_migrations (app, name, applied) VALUES ('orders', '0002_placed_at', now());",
            rows.join(", ")
        ),
    );
    let config = format!(
        r#"
targets:
  db: {{ postgres: {{ url: "postgres://postgres@127.0.0.1:{port}/postgres" }} }}
checks:
  - {{ name: django_pending, kind: pending_migrations, target: db, params: {{ tool: django, dir: "{dir}" }} }}
  - {{ name: django_done, kind: pending_migrations, target: db, params: {{ tool: django, dir: "{dir}", table: done.django_migrations }} }}
  - {{ name: django_one_app, kind: pending_migrations, target: db, params: {{ tool: django, dir: "{dir}/billing/migrations" }} }}
"#,
        port = pg.port,
        dir = fixture.display(),
    );
    let r = run_checks(&config, &[]);
    r.expect_states(&[
        (
            "django_pending",
            "fail",
            "1 pending: orders/migrations/0002_placed_at.py",
        ),
        ("django_done", "pass", "all 4 migration(s)"),
        ("django_one_app", "pass", "all 2 migration(s)"),
    ]);
}
