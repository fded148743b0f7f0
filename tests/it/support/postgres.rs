//! A real PostgreSQL (Debian's binaries) in a temp dir on a free loopback
//! port, optionally with TLS, extra settings, a streaming replica. When the
//! tests run as root, the server runs as the `postgres` user (initdb refuses
//! root). Stopped and removed on drop.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::certs::CertFiles;
use super::nginx::free_ports;

pub struct Postgres {
    pub dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

/// The newest installed PostgreSQL's bin directory.
pub fn pg_bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.join("initdb").is_file());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries are required (apt-get install postgresql); scripts/test.sh installs them")
    })
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

fn new_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

impl Postgres {
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn chown(&self, path: &Path) {
        if self.as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path)
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Starts a server; with `tls`, `ssl = on` with that certificate.
    pub fn start(tls: Option<&CertFiles>) -> Postgres {
        Self::start_with(tls, "", "")
    }

    /// Starts a server with extra `postgresql.conf` lines and `pg_hba.conf`
    /// lines placed before the default (trust) ones.
    pub fn start_with(tls: Option<&CertFiles>, extra_conf: &str, hba_first: &str) -> Postgres {
        let pg = Postgres {
            port: free_ports(1)[0],
            bin: pg_bin_dir(),
            as_postgres: is_root(),
            dir: new_dir(),
        };
        let data = pg.dir.path().join("data");
        pg.chown(pg.dir.path());
        let data_s = pg.data_dir();
        let out = pg.run(
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = off\nshared_buffers = 16MB\n",
            pg.port,
            pg.dir.path().display()
        );
        if let Some(tls) = tls {
            std::fs::copy(&tls.cert, data.join("server.crt")).unwrap();
            std::fs::copy(&tls.key, data.join("server.key")).unwrap();
            std::fs::set_permissions(
                data.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        conf.push_str(extra_conf);
        let mut existing = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        existing.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), existing).unwrap();
        let hba = std::fs::read_to_string(data.join("pg_hba.conf")).unwrap();
        std::fs::write(data.join("pg_hba.conf"), format!("{hba_first}\n{hba}")).unwrap();
        pg.chown(&data);
        pg.pg_ctl_start();
        pg
    }

    fn pg_ctl_start(&self) {
        if let Err(e) = self.try_pg_ctl_start() {
            panic!("{e}");
        }
    }

    fn try_pg_ctl_start(&self) -> Result<(), String> {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log").display().to_string();
        let out = self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-t", "30", "start"],
        );
        if !out.status.success() {
            return Err(format!(
                "pg_ctl start failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                return Err("PostgreSQL did not listen".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn psql_output(&self, db: &str, sql: &str) -> Output {
        let host = self.dir.path().display().to_string();
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &host,
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ],
        )
    }

    /// Runs SQL as the superuser in `db` (psql over the socket); panics on error.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.psql_output(db, sql);
        assert!(
            out.status.success(),
            "psql failed: {}\n{sql}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs SQL that is expected to fail; returns its error output.
    pub fn psql_err(&self, db: &str, sql: &str) -> String {
        let out = self.psql_output(db, sql);
        assert!(!out.status.success(), "expected a failure: {sql}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A streaming replica of this server, made with `pg_basebackup -R`.
    pub fn replica(&self) -> Postgres {
        let replica = Postgres {
            port: free_ports(1)[0],
            bin: self.bin.clone(),
            as_postgres: self.as_postgres,
            dir: new_dir(),
        };
        replica.chown(replica.dir.path());
        let data = replica.data_dir();
        let port = self.port.to_string();
        let out = replica.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "pg_basebackup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conf = replica.dir.path().join("data/postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&format!(
            "\nport = {}\nunix_socket_directories = '{}'\narchive_mode = off\n",
            replica.port,
            replica.dir.path().display()
        ));
        std::fs::write(&conf, text).unwrap();
        replica.chown(replica.dir.path());
        replica.pg_ctl_start();
        replica
    }

    /// Stops the server now.
    /// Kills the server with SIGKILL (postmaster first, then its children),
    /// as a crash or an OOM kill would; `restart` brings it back on the
    /// same port.
    pub fn kill9(&self) {
        let pid_file = Path::new(&self.data_dir()).join("postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
            .unwrap();
        let children: Vec<String> = Command::new("pgrep")
            .args(["-P", &pid])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        // The postmaster first: killed children first would make it start
        // crash recovery and fork new ones.
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        for child in &children {
            let _ = Command::new("kill").args(["-KILL", child]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            || std::iter::once(&pid)
                .chain(&children)
                .any(|p| Path::new(&format!("/proc/{p}")).exists())
        {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL still runs after SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again after `kill9` (crash recovery runs first). A
    /// child forked just before the kill may hold the shared memory for a
    /// moment: retried for a few seconds.
    pub fn restart(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.try_pg_ctl_start() {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("{e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }

    pub fn stop(&self) {
        let data = self.data_dir();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// A directory inside the temp dir that the server can write to.
    pub fn writable_dir(&self, name: &str) -> PathBuf {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        self.chown(&d);
        d
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
