//! A real redis-server on a free loopback port in a temp dir. Stopped on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::path::Path;

use super::certs::CertFiles;
use super::nginx::free_ports;
use super::require_binary;

pub struct Redis {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Redis {
    /// Starts `redis-server` with extra arguments (`--save`, `--appendonly` ...).
    pub fn start(extra_args: &[&str]) -> Redis {
        Redis::start_on("--port", extra_args)
    }

    /// Starts `redis-server` speaking only TLS (its port is the TLS port),
    /// serving `cert`, trusting `ca` for client certificates, which it
    /// requires when `require_client_cert`.
    pub fn start_tls(cert: &CertFiles, ca: &Path, require_client_cert: bool) -> Redis {
        let (cert, key, ca) = (
            cert.cert.display().to_string(),
            cert.key.display().to_string(),
            ca.display().to_string(),
        );
        Redis::start_on(
            "--tls-port",
            &[
                "--port",
                "0",
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca,
                "--tls-auth-clients",
                if require_client_cert { "yes" } else { "no" },
            ],
        )
    }

    fn start_on(port_flag: &str, extra_args: &[&str]) -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let port = free_ports(1)[0];
        let child = Command::new(require_binary("redis-server"))
            .args(["--bind", "127.0.0.1", port_flag])
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir.path())
            .args(["--daemonize", "no", "--save", "", "--appendonly", "no"])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut r = Redis { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(r.child.try_wait().unwrap().is_none(), "redis-server exited");
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The URL of a server started with [`Redis::start_tls`].
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// Runs a command through redis-cli.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(require_binary("redis-cli"))
            .args(["-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
