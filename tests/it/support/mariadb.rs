//! A real MariaDB (Debian's mariadbd) in a temp dir on a free loopback port,
//! with a `monitor` user for the exporter. Stopped and removed on drop.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::nginx::free_ports;
use super::postgres::is_root;
use super::require_binary;

pub const MONITOR_PASSWORD: &str = "Monitor-Pass-4417";

pub struct MariaDb {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl MariaDb {
    /// Starts a server with extra `mariadbd` arguments.
    pub fn start(extra_args: &[&str]) -> MariaDb {
        let install = require_binary("mariadb-install-db");
        let server = require_binary("mariadbd");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // A private temp dir: servers installed side by side must not share
        // (and delete) each other's temporary tables in /tmp.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let user: &[&str] = if is_root() { &["--user=root"] } else { &[] };
        let out = Command::new(install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(user)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_ports(1)[0];
        let child = Command::new(server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!(
                "--socket={}",
                dir.path().join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                dir.path().join("mysqld.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                dir.path().join("error.log").display()
            ))
            .arg(format!("--port={port}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=16M",
            ])
            .args(user)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut db = MariaDb { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = db.child.try_wait().unwrap() {
                let log =
                    std::fs::read_to_string(db.dir.path().join("error.log")).unwrap_or_default();
                panic!("mariadbd exited with {status}:\n{log}");
            }
            if db.client(&["-e", "SELECT 1"]).status.success() {
                break;
            }
            assert!(Instant::now() < deadline, "MariaDB did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        db.sql(&format!(
            "SET sql_log_bin = 0; CREATE USER 'monitor'@'%' IDENTIFIED BY '{MONITOR_PASSWORD}'; GRANT SELECT, PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'monitor'@'%';"
        ));
        db
    }

    fn client(&self, args: &[&str]) -> Output {
        Command::new(require_binary("mariadb"))
            .arg("--no-defaults")
            .arg(format!(
                "--socket={}",
                self.dir.path().join("mysqld.sock").display()
            ))
            .args(["-uroot", "--batch"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs SQL as root; panics on error. Output has no column names,
    /// except in `\G` (vertical) output.
    pub fn sql(&self, sql: &str) -> String {
        let skip: &[&str] = if sql.ends_with("\\G") {
            &[]
        } else {
            &["--skip-column-names"]
        };
        let out = self.client(&[skip, &["-e", sql]].concat());
        assert!(
            out.status.success(),
            "SQL failed: {}\n{sql}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The exporter's target URL for the monitor user.
    pub fn url(&self) -> String {
        format!(
            "mysql://monitor:{MONITOR_PASSWORD}@127.0.0.1:{}/mysql",
            self.port
        )
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
