//! Kind `command`: runs a program (argv, no shell) and judges its exit code.
//! Output is read with a cap, kept out of metrics, and only its last line,
//! truncated, reaches the message. The engine's timeout kills the process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
};

pub const KIND: KindInfo = KindInfo {
    unit: "exit_code",
    summary: "runs a program without a shell and checks its exit code",
    side_effects: true,
    doc: r#"Runs a program without a shell.

| param | default | |
|---|---|---|
| `argv` | required | program and arguments (searched in `PATH`) |
| `expected_exit_codes` | `[0]` | |
| `working_dir` | none | |
| `env` | `{}` | extra environment variables (their values are treated as secrets) |

- **Reads:** the exit status; stdout/stderr are drained (their last 16 KiB kept) and only the last non-empty line, cut to 200 characters, reaches the message. Output never reaches metrics.
- **Passes** when the exit code is expected. Observed value: the exit code.
- **Fails** on another exit code (message quotes the last line of stderr, else stdout) or death by a signal.
- **Errors** when the program cannot be started, or at the timeout (the process is killed)."#,
    ..KindInfo::new(
        "command",
        Category::Deployment,
        build,
        <Params as schemars::JsonSchema>::json_schema,
    )
};

/// Bytes of each output stream kept (the tail).
const OUTPUT_TAIL_BYTES: usize = 16 * 1024;
/// Characters of output quoted in the message.
const MESSAGE_OUTPUT_CHARS: usize = 200;

fn default_exit_codes() -> Vec<i32> {
    vec![0]
}

/// Params of the `command` kind.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Program and arguments; no shell is involved.
    pub argv: Vec<String>,
    /// Exit codes that pass. Default `[0]`.
    #[serde(default = "default_exit_codes")]
    pub expected_exit_codes: Vec<i32>,
    /// Working directory.
    #[serde(default)]
    pub working_dir: Option<PathBuf>,
    /// Extra environment variables for the program.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

struct CommandCheck {
    argv: Vec<String>,
    expected_exit_codes: Vec<i32>,
    working_dir: Option<PathBuf>,
    env: BTreeMap<String, String>,
}

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.argv.first().is_none_or(|p| p.is_empty()) {
        return Err(ParamError::new(
            "params.argv",
            "needs at least the program to run",
        ));
    }
    if params.expected_exit_codes.is_empty() {
        return Err(ParamError::new(
            "params.expected_exit_codes",
            "needs at least one exit code",
        ));
    }
    Ok(Arc::new(CommandCheck {
        argv: params.argv,
        expected_exit_codes: params.expected_exit_codes,
        working_dir: params.working_dir,
        env: params.env,
    }))
}

/// Reads a stream to its end, keeping only the last `OUTPUT_TAIL_BYTES`.
async fn read_tail(stream: Option<impl AsyncRead + Unpin>) -> (Vec<u8>, u64) {
    let Some(mut stream) = stream else {
        return (Vec::new(), 0);
    };
    let mut kept = Vec::new();
    let mut total = 0u64;
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n as u64;
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * OUTPUT_TAIL_BYTES {
                    kept.drain(..kept.len() - OUTPUT_TAIL_BYTES);
                }
            }
        }
    }
    if kept.len() > OUTPUT_TAIL_BYTES {
        kept.drain(..kept.len() - OUTPUT_TAIL_BYTES);
    }
    (kept, total)
}

/// The last non-empty line, cut to `MESSAGE_OUTPUT_CHARS`.
fn last_line(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    let mut cut: String = line.chars().take(MESSAGE_OUTPUT_CHARS).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    Some(cut)
}

/// Environment values are secrets: Debug shows their names only.
impl std::fmt::Debug for CommandCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandCheck")
            .field("argv", &self.argv)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Check for CommandCheck {
    /// Values given to the program's environment are often credentials
    /// (`API_TOKEN=...`): they are kept out of every output, the program's
    /// own output included.
    fn secrets(&self) -> Vec<String> {
        self.env.values().cloned().collect()
    }

    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let program = &self.argv[0];
            let mut command = Command::new(program);
            command
                .args(&self.argv[1..])
                .envs(&self.env)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            if let Some(dir) = &self.working_dir {
                command.current_dir(dir);
            }
            ctx.trace(format!(
                "running {program} with {} argument(s)",
                self.argv.len() - 1
            ));
            let mut child = match command.spawn() {
                Ok(c) => c,
                Err(e) => return Outcome::error(format!("cannot run {program}: {e}")),
            };
            let stdout = child.stdout.take();
            let stderr = child.stderr.take();
            let (status, (out, out_len), (err, err_len)) =
                tokio::join!(child.wait(), read_tail(stdout), read_tail(stderr));
            let status = match status {
                Ok(s) => s,
                Err(e) => return Outcome::error(format!("waiting for {program} failed: {e}")),
            };
            let detail = last_line(&err).or_else(|| last_line(&out));
            let outcome = match status.code() {
                Some(code) if self.expected_exit_codes.contains(&code) => {
                    Outcome::pass(format!("{program} exited {code}")).observed(f64::from(code))
                }
                Some(code) => {
                    let expected: Vec<String> = self
                        .expected_exit_codes
                        .iter()
                        .map(i32::to_string)
                        .collect();
                    let mut message = format!(
                        "{program} exited {code} (expected {})",
                        expected.join(" or ")
                    );
                    if let Some(d) = detail {
                        message.push_str(": ");
                        message.push_str(&d);
                    }
                    Outcome::fail(message).observed(f64::from(code))
                }
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    let signal = status.signal().unwrap_or_default();
                    Outcome::fail(format!("{program} was killed by signal {signal}"))
                }
            };
            ctx.trace(format!(
                "exit status {status}, {out_len} bytes stdout, {err_len} bytes stderr"
            ));
            outcome
                .evidence("program", program.as_str())
                .evidence("exit_code", status.code())
                .evidence("stdout_bytes", out_len)
                .evidence("stderr_bytes", err_len)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_line_is_trimmed_and_cut() {
        assert_eq!(last_line(b"a\nlast one\n\n").as_deref(), Some("last one"));
        assert_eq!(last_line(b"\n  \n"), None);
        let long = "x".repeat(500);
        let cut = last_line(long.as_bytes()).unwrap();
        assert_eq!(cut.chars().count(), MESSAGE_OUTPUT_CHARS + 1);
    }
}
