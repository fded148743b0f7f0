//! Shared helpers: start the real exporter binary on a free loopback port,
//! small servers for behaviour no real server shows, and HTTP helpers.
//! Every guard stops its process and removes its temp dir on drop.

#![allow(dead_code, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod certs;
pub mod corpus;
pub mod gitleaks;
pub mod mariadb;
pub mod nginx;
pub mod postgres;
pub mod prometheus;
pub mod redis;
pub mod tree;

pub const BIN: &str = env!("CARGO_BIN_EXE_prodready-exporter");

/// A config of one check that passes (`true`), for tests of the daemon's
/// surface rather than of a kind.
pub const ONE_PASSING_CHECK: &str =
    "checks:\n  - { name: ok, kind: command, params: { argv: [\"true\"] } }\n";

/// The repository's root (alerts/, deploy/, docs/ ... are read from it).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A temp dir holding a config file.
pub struct ConfigDir {
    pub dir: tempfile::TempDir,
}

impl ConfigDir {
    pub fn new(config: &str) -> ConfigDir {
        Self::new_in(&std::env::temp_dir(), config)
    }

    /// A config dir under `parent`.
    pub fn new_in(parent: &Path, config: &str) -> ConfigDir {
        let dir = tempfile::tempdir_in(parent).unwrap();
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        ConfigDir { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yaml")
    }

    pub fn write_config(&self, config: &str) {
        std::fs::write(self.config_path(), config).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Runs a one-shot subcommand (`check`, `validate`) and returns its output.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("RUST_LOG").stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Runs `validate` on `config` (the text of a config file) and returns its
/// exit code and everything it printed.
pub fn validate(config: &str, env: &[(&str, &str)]) -> (i32, String) {
    let dir = ConfigDir::new(config);
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["validate", &arg], env);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running exporter daemon.
pub struct Exporter {
    child: Child,
    pub addr: String,
    logs: Arc<Mutex<Vec<String>>>,
    pub config: ConfigDir,
}

impl Exporter {
    pub fn start(config: &str) -> Exporter {
        Self::start_with(config, &[], &[])
    }

    /// Starts the daemon on 127.0.0.1:0 and learns its port from the log.
    pub fn start_with(config: &str, env: &[(&str, &str)], extra_args: &[&str]) -> Exporter {
        let config = ConfigDir::new(config);
        let mut cmd = Command::new(BIN);
        cmd.args(Self::args(&config, extra_args));
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(cmd, config)
    }

    /// The daemon's arguments: the config of `config`, a free loopback port.
    pub fn args(config: &ConfigDir, extra_args: &[&str]) -> Vec<String> {
        let mut args = vec![
            format!("--config.file={}", config.config_path().display()),
            "--web.listen-address=127.0.0.1:0".to_owned(),
        ];
        args.extend(extra_args.iter().map(|a| (*a).to_owned()));
        args
    }

    /// Runs `cmd` (the daemon, perhaps behind a wrapper that ends by
    /// executing it) and learns its port from the log.
    pub fn spawn(mut cmd: Command, config: ConfigDir) -> Exporter {
        cmd.env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("msg=Listening.") {
                        if let Some(addr) = line
                            .split_whitespace()
                            .find_map(|f| f.strip_prefix("address="))
                        {
                            let _ = tx.send(addr.to_owned());
                        }
                    }
                    logs.lock().unwrap().push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "exporter did not start; logs:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Exporter {
            child,
            addr,
            logs,
            config,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The daemon's resident memory, from /proc.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The highest resident set size the process has had.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Waits until the log (read by another thread) holds `fragment`;
    /// returns the log.
    pub async fn wait_log(&self, within: Duration, fragment: &str) -> String {
        let deadline = Instant::now() + within;
        loop {
            let logs = self.logs();
            if logs.contains(fragment) {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "no {fragment:?} in the log:\n{logs}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        get(&self.url(path)).await
    }

    pub async fn metrics(&self) -> String {
        let (status, body) = self.get("/metrics").await;
        assert_eq!(status, 200);
        body
    }

    pub async fn post(&self, path: &str) -> (u16, String) {
        let r = client().post(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// Waits until /-/ready answers 200.
    pub async fn wait_ready(&self, within: Duration) {
        self.wait_ready_at("/-/ready", within).await;
    }

    /// Polls a readiness path (under a route prefix) until it answers 200.
    pub async fn wait_ready_at(&self, path: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self.get(path).await.0 == 200 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready within {within:?}; logs:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls /metrics until `pred` holds.
    pub async fn wait_metrics(&self, within: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let m = self.metrics().await;
            if pred(&m) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "metrics condition not met within {within:?}:\n{m}\nlogs:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "exporter did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    prodready_exporter::targets::client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub async fn get(url: &str) -> (u16, String) {
    let r = client().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The value of the first sample line starting with `prefix` (name + labels).
pub fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A TCP server that accepts connections and never answers; it counts the
/// connections it accepted and those the client closed. Stops on drop.
pub struct HangingServer {
    pub addr: String,
    pub accepted: Arc<std::sync::atomic::AtomicUsize>,
    pub closed: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HangingServer {
    pub async fn start() -> HangingServer {
        use std::sync::atomic::Ordering;
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let closed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (a, c) = (accepted.clone(), closed.clone());
        let task = tokio::spawn(async move {
            let mut held = tokio::task::JoinSet::new();
            while let Ok((mut socket, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                let c = c.clone();
                held.spawn(async move {
                    let mut buf = [0u8; 1024];
                    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                    c.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        HangingServer {
            addr,
            accepted,
            closed,
            task,
        }
    }
}

impl Drop for HangingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A small axum app on a free loopback port; stops on drop.
pub struct TestApp {
    pub addr: String,
    task: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start(app: axum::Router) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestApp { addr, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `cmd` to completion and asserts that it succeeded, naming the
/// command and quoting its stderr otherwise.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cmd` to completion; returns whether it succeeded and its stdout
/// and stderr together (for tools whose failure is the expected answer).
pub fn run_tool(cmd: &mut Command) -> (bool, String) {
    success_and_output(cmd.output().unwrap())
}

/// Whether a finished command succeeded, and its stdout and stderr together.
fn success_and_output(out: Output) -> (bool, String) {
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs `cmd` with `input` on its stdin; returns whether it succeeded and
/// its stdout and stderr together.
pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> (bool, String) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    success_and_output(child.wait_with_output().unwrap())
}

/// Finds a binary on PATH or in well-known Debian locations; panics loudly if absent.
pub fn require_binary(name: &str) -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    for dir in candidates
        .iter()
        .map(PathBuf::as_path)
        .chain([Path::new("/usr/bin"), Path::new("/usr/sbin")])
    {
        let path = dir.join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!("{name} is required for this test but is not installed; run scripts/test.sh, which installs it");
}

/// One check's result from a `check --format json` run.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub name: String,
    pub state: String,
    pub message: String,
    /// The whole JSON object of the check (evidence, observed, threshold ...).
    pub doc: serde_json::Value,
}

impl CheckResult {
    /// A `hardcoded_secrets` result's findings: (file, rule, line).
    pub fn findings(&self) -> Vec<(String, String, u64)> {
        self.doc["evidence"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["file"].as_str().unwrap().to_owned(),
                    f["rule"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// The files a `hardcoded_secrets` result found something in.
    pub fn finding_files(&self) -> Vec<String> {
        self.findings().into_iter().map(|f| f.0).collect()
    }
}

/// The results of one `check` run, looked up by check name.
#[derive(Debug)]
pub struct Results(pub Vec<CheckResult>);

impl Results {
    /// The result of the check named `name`.
    pub fn get(&self, name: &str) -> &CheckResult {
        self.0
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no result for check {name:?}"))
    }

    /// Asserts each `(check, state, message fragment)`, reporting every
    /// mismatch at once.
    pub fn expect_states(&self, expected: &[(&str, &str, &str)]) {
        let mismatches: Vec<String> = expected
            .iter()
            .filter_map(|(name, state, fragment)| {
                let r = self.get(name);
                (r.state != *state || !r.message.contains(fragment)).then(|| {
                    format!(
                        "{name}: expected {state} with {fragment:?}, got {}: {}",
                        r.state, r.message
                    )
                })
            })
            .collect();
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }

    pub fn iter(&self) -> impl Iterator<Item = &CheckResult> {
        self.0.iter()
    }
}

/// Runs `check --format json` on `config` and returns every check's result.
pub fn run_checks(config: &str, env: &[(&str, &str)]) -> Results {
    let dir = ConfigDir::new(config);
    let arg = format!("--config.file={}", dir.config_path().display());
    let out = run_cli(&["check", &arg, "--format", "json"], env);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "check failed to run: {}",
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    Results(
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| CheckResult {
                name: c["name"].as_str().unwrap().to_owned(),
                state: c["state"].as_str().unwrap().to_owned(),
                message: c["message"].as_str().unwrap().to_owned(),
                doc: c.clone(),
            })
            .collect(),
    )
}

pub fn assert_state(result: &CheckResult, state: &str, fragment: &str) {
    assert_eq!(result.state, state, "{}: {}", result.name, result.message);
    assert!(
        result.message.contains(fragment),
        "{}: expected {fragment:?} in {:?}",
        result.name,
        result.message
    );
}

/// The result of the check named `name`.
pub fn by<'a>(r: &'a Results, name: &str) -> &'a CheckResult {
    r.get(name)
}

/// Polls `pred` every 100ms until it holds; fails the test after `within`.
pub fn wait_until(what: &str, within: Duration, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
