//! Real Prometheus and Alertmanager (Debian packages) on free loopback ports,
//! with configs and rule files written into temp dirs. Stopped on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::nginx::free_ports;
use super::require_binary;

pub struct Server {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(mut self, what: &str, path: &str) -> Server {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("{what} exited with {status}:\n{err}");
            }
            if http_ok(self.port, path) {
                return self;
            }
            assert!(Instant::now() < deadline, "{what} did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A plain HTTP/1.0 GET that reports whether the answer is 200.
fn http_ok(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus; `config` gets the temp dir path substituted for `{dir}`,
/// and `rules` are written as `{dir}/rules/<name>.yml`.
pub fn start_prometheus(config: &str, rules: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    for (name, body) in rules {
        std::fs::write(dir.path().join("rules").join(format!("{name}.yml")), body).unwrap();
    }
    let config = config.replace("{dir}", &dir.path().display().to_string());
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_ports(1)[0];
    let child = Command::new(require_binary("prometheus"))
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // Re-send firing alerts every second: the first notification can be
        // dropped before Alertmanager is discovered, and the default is 1m.
        .arg("--rules.alert.resend-delay=1s")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Server { child, dir, port }.wait_ready("prometheus", "/-/ready")
}

/// Starts Alertmanager as a single node (clustering disabled).
pub fn start_alertmanager(config: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
    let port = free_ports(1)[0];
    let child = Command::new(require_binary("prometheus-alertmanager"))
        .arg(format!(
            "--config.file={}",
            dir.path().join("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Server { child, dir, port }.wait_ready("alertmanager", "/-/ready")
}
