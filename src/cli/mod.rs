//! Command line: `serve` (default), `check` (run once as a gate) and
//! `validate` (and `advisories`, in `advisories.rs`). Parses flags, sets up logging, hands over to the library
//! (`daemon`, `engine::run_once`, `report`) and maps results to exit codes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

/// `print!` and `println!` that never panic: a closed stdout (`kinds |
/// head -1`) ends the output quietly, as Unix tools do, instead of the
/// standard macros' panic on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod advisories;

pub use advisories::SyncArgs;
use advisories::{advisories_sync, AdvisoriesArgs, AdvisoriesCommand};

use crate::checklist::{Phase, ITEMS};
use crate::checks::Category;
use crate::config::ConfigErrors;
use crate::daemon::ServeError;
use crate::engine::{load_plan, run_once, run_phase, Order, Plan, Shard, Verdict};
use crate::logging::{self, LogFormat, LogLevel};
use crate::report::{FailOn, Gate, PhaseReport, ReportFormat, RunReport};

/// Exit code for a bad config or bad usage.
const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "prodready-exporter",
    disable_version_flag = true,
    about = "Evaluates a production-readiness checklist against live systems and exposes it as Prometheus metrics."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print the version, branch, revision, build date and platform.
    #[arg(long = "version", short = 'V', action = clap::ArgAction::SetTrue)]
    pub version: bool,
    /// Config file.
    #[arg(long = "config.file", global = true, default_value = "config.yaml")]
    pub config_file: PathBuf,
    /// Address to listen on (overrides web.listen_address): `host:port`,
    /// `[::1]:port`, or `:port` for every address, IPv6 and IPv4; repeat it
    /// to listen on several addresses.
    #[arg(long = "web.listen-address")]
    pub listen_address: Vec<String>,
    /// Listen on the sockets systemd passes (socket activation, a
    /// `.socket` unit) instead of --web.listen-address.
    #[arg(long = "web.systemd-socket")]
    pub systemd_socket: bool,
    /// Exporter-toolkit web config file (TLS, client certificates, bcrypt
    /// basic auth, response headers, rate limit); overrides web.config_file.
    #[arg(long = "web.config.file")]
    pub web_config_file: Option<PathBuf>,
    /// Path under which the metrics are served.
    #[arg(long = "web.telemetry-path", default_value = "/metrics", value_parser = crate::web::parse_telemetry_path)]
    pub telemetry_path: String,
    /// Serve every endpoint under this path (behind a reverse proxy on a
    /// sub-path): `/prodready` serves the status page at `/prodready/`.
    /// Default: the path of `--web.external-url`, else `/`.
    #[arg(long = "web.route-prefix", value_parser = crate::web::parse_route_prefix)]
    pub route_prefix: Option<String>,
    /// The URL people and Prometheus reach the exporter at (behind a
    /// reverse proxy): its path is the default route prefix.
    #[arg(long = "web.external-url", value_parser = crate::web::parse_external_url)]
    pub external_url: Option<reqwest::Url>,
    /// Allow POST /-/reload (without it, only SIGHUP reloads the config).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Most /probe evaluations at once; more are answered with 429.
    #[arg(long = "web.max-probes", default_value_t = 4)]
    pub max_probes: usize,
    /// Most open connections to the exporter; beyond, new ones are closed.
    #[arg(long = "web.max-connections", default_value_t = 1024)]
    pub max_connections: usize,
    /// Time a client has to send its request headers (slow clients are cut off).
    #[arg(long = "web.header-read-timeout", default_value = "10s", value_parser = parse_duration_arg)]
    pub header_read_timeout: std::time::Duration,
    /// Split the checks across this many replicas (each evaluates only its
    /// share; Prometheus scrapes them all).
    #[arg(long = "shard.count")]
    pub shard_count: Option<u32>,
    /// This replica's shard, 0-based; `auto` takes the ordinal at the end of
    /// the host name (a Kubernetes StatefulSet pod `prodready-2` is shard 2).
    #[arg(long = "shard.index")]
    pub shard_index: Option<String>,
    /// Log level: error, warn, info (default), debug. Given, it wins over
    /// RUST_LOG; RUST_LOG applies only without it (and the log says so).
    #[arg(long = "log.level", global = true, value_enum)]
    pub log_level: Option<LogLevel>,
    /// Log format.
    #[arg(
        long = "log.format",
        global = true,
        value_enum,
        default_value = "logfmt"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the exporter (the default).
    Serve,
    /// Run the checklist once, print a report and exit 0 (gate passed), 1 (failed) or 2 (bad config, nothing selected).
    Check(CheckArgs),
    /// Validate the config file and exit 0 (valid) or 1 (invalid); reports
    /// the checklist items no check covers.
    Validate(ValidateArgs),
    /// Print the catalogue of check kinds as Markdown (docs/kinds.md).
    Kinds,
    /// Print the JSON Schema of the config file (docs/config.schema.json).
    Schema,
    /// The local advisory database of `dependency_vulnerabilities`.
    Advisories(AdvisoriesArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell): `completions bash > /usr/share/bash-completion/completions/prodready-exporter`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `man > prodready-exporter.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Fail (exit 1) when a checklist item is covered by no check.
    #[arg(long = "require-coverage")]
    pub require_coverage: bool,
    /// Also validate this exporter-toolkit web config file (else the one
    /// `--web.config.file` or `web.config_file` names).
    #[arg(long = "web.config.file")]
    pub web_config_file: Option<PathBuf>,
}

fn parse_duration_arg(text: &str) -> Result<std::time::Duration, String> {
    crate::config::parse_duration(text)
}

/// A report format by its name (`report::FORMATS`).
fn parse_format(name: &str) -> Result<&'static ReportFormat, String> {
    crate::report::format_named(name).ok_or_else(|| {
        format!(
            "{name:?} is not a report format ({})",
            crate::report::format_names()
        )
    })
}

/// `--format`: the names of `report::FORMATS`, each with its help line.
fn format_parser() -> impl TypedValueParser<Value = &'static ReportFormat> {
    let names = crate::report::FORMATS
        .iter()
        .map(|f| clap::builder::PossibleValue::new(f.name).help(f.help));
    clap::builder::PossibleValuesParser::new(names).try_map(|name: String| parse_format(&name))
}

/// `json=report.json` -> (the json format, "report.json").
fn parse_output(text: &str) -> Result<(&'static ReportFormat, PathBuf), String> {
    let (format, file) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: write FORMAT=FILE, e.g. junit=junit.xml"))?;
    let format = parse_format(format)?;
    if file.is_empty() {
        return Err(format!("{text:?}: the file name is empty"));
    }
    Ok((format, PathBuf::from(file)))
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only checks of this category (repeatable).
    #[arg(long = "category", value_name = "CATEGORY", value_parser = category_parser())]
    pub categories: Vec<Category>,
    /// Only this check (repeatable).
    #[arg(long = "check", value_name = "NAME")]
    pub checks: Vec<String>,
    /// Report format.
    #[arg(long, value_name = "FORMAT", value_parser = format_parser(), default_value = "table", ignore_case = true)]
    pub format: &'static ReportFormat,
    /// Also write a report to a file: `json=report.json`, `junit=junit.xml`,
    /// `sarif=results.sarif`, `table=report.txt` (repeatable), so one run
    /// feeds several tools.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = parse_output)]
    pub outputs: Vec<(&'static ReportFormat, PathBuf)>,
    /// Lowest state that fails the gate (error always fails).
    #[arg(long = "fail-on", value_enum, default_value = "fail")]
    pub fail_on: FailOn,
    /// Run a gate phase: its checklist items in the seed's order, stopping at
    /// the first item that fails the gate (items after it are not run and
    /// fail it, whatever --allow-unknown says). An item no check covers fails.
    #[arg(long, value_parser = phase_parser(), conflicts_with_all = ["categories", "checks", "fail_fast"])]
    pub phase: Option<Phase>,
    /// With --phase: let items no check covers through (as `unknown`).
    #[arg(long = "allow-uncovered", requires = "phase")]
    pub allow_uncovered: bool,
    /// Let `unknown` checks (not evaluated, not enough data) through the gate
    /// like `warn`; by default they fail it, since nothing was verified.
    #[arg(long = "allow-unknown")]
    pub allow_unknown: bool,
    /// Run checks one by one in config order and stop at the first that fails the gate.
    #[arg(long = "fail-fast")]
    pub fail_fast: bool,
}

/// One of `all`, by the name `as_str` gives it: the CLI takes the engine's
/// own enums, and `--help` lists their names.
fn named<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    as_str: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    clap::builder::PossibleValuesParser::new(all.iter().map(|v| as_str(*v))).try_map(
        move |name: String| {
            all.iter()
                .copied()
                .find(|v| as_str(*v) == name)
                .ok_or_else(|| format!("{name:?} is not one of the names listed"))
        },
    )
}

fn category_parser() -> impl TypedValueParser<Value = Category> {
    named(&Category::ALL, Category::as_str)
}

fn phase_parser() -> impl TypedValueParser<Value = Phase> {
    named(&Phase::ALL, Phase::as_str)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // A gate run's start is what "a backup taken before this deploy" means.
    let _ = crate::clock::process_start();
    let cli = Cli::parse();
    if cli.version {
        outln!("{}", crate::build_info::version_text());
        return ExitCode::SUCCESS;
    }
    logging::init(cli.log_level, cli.log_format);
    // Taken before the runtime starts threads: reading them clears
    // LISTEN_FDS and LISTEN_PID from the environment.
    let systemd_sockets =
        if cli.systemd_socket && matches!(cli.command, None | Some(Command::Serve)) {
            match crate::web::listen::systemd_sockets() {
                Ok(sockets) => Some(sockets),
                Err(e) => {
                    eprintln!("--web.systemd-socket: {e}");
                    return ExitCode::FAILURE;
                }
            }
        } else {
            None
        };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &cli.command {
        None | Some(Command::Serve) => runtime.block_on(serve(&cli, systemd_sockets)),
        Some(Command::Check(args)) => runtime.block_on(check_once(&cli, args)),
        Some(Command::Validate(args)) => validate(&cli, args),
        Some(Command::Kinds) => {
            out!("{}", crate::docs::kinds_markdown());
            ExitCode::SUCCESS
        }
        Some(Command::Schema) => {
            out!("{}", crate::docs::config_schema_text());
            ExitCode::SUCCESS
        }
        Some(Command::Advisories(AdvisoriesArgs {
            command: AdvisoriesCommand::Sync(args),
        })) => runtime.block_on(advisories_sync(&cli, args)),
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(
                *shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "prodready-exporter",
                &mut script,
            );
            out!("{}", String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)
            {
                Ok(()) => {
                    out!("{}", String::from_utf8_lossy(&page));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("cannot render the man page: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Whether the table may colour its states: stdout is a terminal and the
/// user did not set `NO_COLOR` (no-color.org: any non-empty value).
#[allow(clippy::disallowed_methods)] // a terminal convention, not configuration
fn colour_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

fn print_config_errors(errors: &ConfigErrors) {
    for e in &errors.0 {
        eprintln!("{e}");
    }
    eprintln!("{} problem(s) found.", errors.0.len());
}

fn validate(cli: &Cli, args: &ValidateArgs) -> ExitCode {
    match load_plan(&cli.config_file) {
        Ok(plan) => {
            outln!(
                "{}: OK ({} checks, {} targets)",
                cli.config_file.display(),
                plan.checks.len(),
                plan.targets.len()
            );
            let web_config = crate::web::web_config::chosen_file(
                args.web_config_file
                    .as_deref()
                    .or(cli.web_config_file.as_deref()),
                &plan.config,
            );
            if let Some(path) = web_config {
                match crate::web::web_config::load(&path) {
                    Ok(web) => outln!(
                        "{}: OK (TLS {}, {} basic auth user(s))",
                        path.display(),
                        if web.tls.is_some() { "on" } else { "off" },
                        web.users.len()
                    ),
                    Err(errors) => {
                        print_config_errors(&errors);
                        return ExitCode::from(EXIT_CONFIG);
                    }
                }
            }
            // Files read at every evaluation that are not there yet: the
            // config is valid, but those checks will be `error` until they are.
            for note in plan.missing_read_files() {
                outln!("note: {note}: the check is error until it exists");
            }
            let uncovered = plan.uncovered_items();
            outln!(
                "checklist: {} of {} items covered",
                ITEMS.len() - uncovered.len(),
                ITEMS.len()
            );
            if !uncovered.is_empty() {
                let ids: Vec<&str> = uncovered.iter().map(|i| i.id).collect();
                outln!("uncovered items: {}", ids.join(", "));
                if args.require_coverage {
                    eprintln!(
                        "{} checklist item(s) are covered by no check (--require-coverage); add checks for them or set `item:` on a check",
                        uncovered.len()
                    );
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            print_config_errors(&errors);
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// The shard from `--shard.count` and `--shard.index`.
fn shard_of(cli: &Cli) -> Result<Option<Shard>, String> {
    let (count, index) = match (cli.shard_count, cli.shard_index.as_deref()) {
        (None, None) => return Ok(None),
        (Some(c), Some(i)) => (c, i),
        _ => return Err("set both --shard.count and --shard.index".into()),
    };
    if count == 0 {
        return Err("--shard.count must be at least 1".into());
    }
    let index: u32 = if index == "auto" {
        let host = crate::config::process_env()
            .into_iter()
            .find(|(k, _)| k == "HOSTNAME")
            .map(|(_, v)| v)
            .unwrap_or_default();
        host.rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                format!("--shard.index=auto: host name {host:?} does not end in -<ordinal>")
            })?
    } else {
        index
            .parse()
            .map_err(|_| format!("--shard.index {index:?} is not a number or auto"))?
    };
    if index >= count {
        return Err(format!(
            "--shard.index {index} must be below --shard.count {count}"
        ));
    }
    Ok(Some(Shard { count, index }))
}

async fn serve(cli: &Cli, systemd_sockets: Option<Vec<std::net::TcpListener>>) -> ExitCode {
    let shard = match shard_of(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let web = crate::web::WebOptions {
        telemetry_path: cli.telemetry_path.clone(),
        route_prefix: cli.route_prefix.clone().unwrap_or_else(|| {
            cli.external_url
                .as_ref()
                .and_then(|u| crate::web::parse_route_prefix(u.path()).ok())
                .unwrap_or_default()
        }),
        enable_lifecycle: cli.enable_lifecycle,
        max_probes: cli.max_probes,
        max_connections: cli.max_connections,
        header_read_timeout: cli.header_read_timeout,
    };
    let listen = crate::daemon::Listen {
        addresses: cli.listen_address.clone(),
        systemd_sockets,
        web_config: cli.web_config_file.clone(),
    };
    match crate::daemon::serve(&cli.config_file, listen, web, shard).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::Config(errors)) => {
            print_config_errors(&errors);
            ExitCode::from(EXIT_CONFIG)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Chooses the checks a `check` run evaluates, in config order.
fn select_checks(plan: &Plan, args: &CheckArgs) -> Result<Vec<usize>, String> {
    for name in &args.checks {
        if plan.check(name).is_none() {
            return Err(format!("no check named {name:?} in the config"));
        }
    }
    Ok(plan
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| args.checks.is_empty() || args.checks.contains(&c.spec.name))
        .filter(|(_, c)| args.categories.is_empty() || args.categories.contains(&c.category))
        .map(|(i, _)| i)
        .collect())
}

async fn check_once(cli: &Cli, args: &CheckArgs) -> ExitCode {
    let plan = match load_plan(&cli.config_file) {
        Ok(p) => Arc::new(p),
        Err(errors) => {
            print_config_errors(&errors);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let gate = Gate {
        fail_on: args.fail_on,
        allow_unknown: args.allow_unknown,
        allow_uncovered: args.allow_uncovered,
        now: crate::clock::unix_now(),
    };
    let (store, items) = if let Some(phase) = args.phase {
        let (store, items) = run_phase(&plan, phase, gate).await;
        (store, Some((phase.as_str(), items)))
    } else {
        let selected = match select_checks(&plan, args) {
            Ok(s) if s.is_empty() => {
                eprintln!("no checks selected: the config has no check matching the selection; a gate that checks nothing cannot pass");
                return ExitCode::from(EXIT_CONFIG);
            }
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        };
        // The deployment gate runs in the order the config lists its steps.
        let order = if args.fail_fast || args.categories == [Category::Deployment] {
            Order::Sequential {
                fail_fast: args.fail_fast,
            }
        } else {
            Order::Concurrent
        };
        (run_once(&plan, &selected, order, gate).await, None)
    };
    let records = store.snapshot();
    let phase = items
        .as_ref()
        .map(|(phase, items)| PhaseReport { phase, items });
    let cwd = std::env::current_dir().unwrap_or_default();
    let render = |format: &ReportFormat, colour: bool| {
        (format.render)(&RunReport {
            records: &records,
            gate,
            phase: phase.as_ref(),
            config_file: &cli.config_file,
            cwd: &cwd,
            colour,
        })
    };
    out!("{}", render(args.format, colour_wanted()));
    for (format, file) in &args.outputs {
        if let Err(e) = std::fs::write(file, render(format, false)) {
            eprintln!("cannot write {}: {e}", file.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    }
    match gate.verdict(&records, phase.as_ref().map(|p| p.items)) {
        Verdict::Passed => ExitCode::SUCCESS,
        Verdict::Failed => ExitCode::FAILURE,
        Verdict::NothingChecked => {
            eprintln!("no checks selected: no check ran and no item failed; a gate that checks nothing cannot pass");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}
