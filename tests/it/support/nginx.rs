//! A real nginx (Debian package) on free loopback ports, in a temp dir,
//! configured per test with server blocks. Stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::require_binary;

pub struct Nginx {
    child: Child,
    pub dir: tempfile::TempDir,
    pub ports: Vec<u16>,
}

/// Ports that were free a moment ago (the OS picks them).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

impl Nginx {
    /// Starts nginx with the `http {}` body that `servers` writes, given the
    /// temp dir (with a `www/` docroot) and `n_ports` free ports.
    pub fn start(n_ports: usize, setup: impl FnOnce(&Path, &[u16]) -> String) -> Nginx {
        Self::start_on(free_ports(n_ports), setup)
    }

    /// As `start`, on the given ports (a server started again where an
    /// earlier one listened).
    pub fn start_on(ports: Vec<u16>, setup: impl FnOnce(&Path, &[u16]) -> String) -> Nginx {
        let nginx = require_binary("nginx");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("www")).unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        let servers = setup(dir.path(), &ports);
        let d = dir.path().display();
        let conf = format!(
            r#"
daemon off;
master_process off;
worker_processes 1;
error_log {d}/logs/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{
        text/html html;
        text/css css;
        application/javascript js;
        application/json json;
        image/png png;
        text/plain txt;
    }}
    default_type application/octet-stream;
    {servers}
}}
"#
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut n = Nginx { child, dir, ports };
        n.wait_listening();
        n
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(self.dir.path().join("logs/error.log"))
                    .unwrap_or_default();
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut stderr);
                }
                panic!("nginx exited with {status}: {stderr}\n{log}");
            }
            if self
                .ports
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
            {
                return;
            }
            assert!(Instant::now() < deadline, "nginx did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn www(&self, file: &str) -> PathBuf {
        self.dir.path().join("www").join(file)
    }

    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
