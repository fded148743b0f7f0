//! Command line: `serve` (default), `check` (run once as a gate) and
//! `validate`. Parses flags, sets up logging and hands over to the library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio::sync::Semaphore;
use tracing::{error, info, warn};

use crate::checks::{Category, Outcome};
use crate::config::ConfigErrors;
use crate::engine::{evaluate, load_plan, CheckMeta, Engine, Evaluation, Plan, Store};
use crate::logging::{self, LogFormat, LogLevel};
use crate::report::{render_json, render_junit, render_table, FailOn};

/// Exit code for a bad config or bad usage.
const EXIT_CONFIG: u8 = 2;
/// How long in-flight HTTP requests may take to finish at shutdown.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "prodready-exporter",
    version = concat!(env!("CARGO_PKG_VERSION"), " (revision ", env!("BUILD_GIT_REVISION"), ", rustc ", env!("BUILD_RUSTC_VERSION"), ")"),
    about = "Evaluates a production-readiness checklist against live systems and exposes it as Prometheus metrics."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Config file.
    #[arg(long = "config.file", global = true, default_value = "config.yaml")]
    pub config_file: PathBuf,
    /// Address to listen on (overrides web.listen_address).
    #[arg(long = "web.listen-address", global = true)]
    pub listen_address: Option<String>,
    /// Log level (RUST_LOG overrides it).
    #[arg(long = "log.level", global = true, value_enum, default_value = "info")]
    pub log_level: LogLevel,
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
    /// Run the checklist once, print a report and exit 0 (gate passed), 1 (failed) or 2 (bad config).
    Check(CheckArgs),
    /// Validate the config file and exit 0 (valid) or 1 (invalid).
    Validate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only checks of this category.
    #[arg(long, value_enum)]
    pub category: Option<CategoryArg>,
    /// Only this check (repeatable).
    #[arg(long = "check", value_name = "NAME")]
    pub checks: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Lowest state that fails the gate (error always fails).
    #[arg(long = "fail-on", value_enum, default_value = "fail")]
    pub fail_on: FailOn,
    /// Run checks one by one in config order and stop at the first that fails the gate.
    #[arg(long = "fail-fast")]
    pub fail_fast: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CategoryArg {
    Security,
    Performance,
    Operations,
    Deployment,
}

impl From<CategoryArg> for Category {
    fn from(c: CategoryArg) -> Self {
        match c {
            CategoryArg::Security => Category::Security,
            CategoryArg::Performance => Category::Performance,
            CategoryArg::Operations => Category::Operations,
            CategoryArg::Deployment => Category::Deployment,
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_level, cli.log_format);
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
        None | Some(Command::Serve) => runtime.block_on(serve(&cli)),
        Some(Command::Check(args)) => runtime.block_on(check_once(&cli, args)),
        Some(Command::Validate) => validate(&cli),
    }
}

fn print_config_errors(errors: &ConfigErrors) {
    for e in &errors.0 {
        eprintln!("{e}");
    }
    eprintln!("{} problem(s) found.", errors.0.len());
}

fn validate(cli: &Cli) -> ExitCode {
    match load_plan(&cli.config_file) {
        Ok(plan) => {
            println!(
                "{}: OK ({} checks, {} targets)",
                cli.config_file.display(),
                plan.checks.len(),
                plan.targets.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            print_config_errors(&errors);
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: &Cli) -> ExitCode {
    let plan = match load_plan(&cli.config_file) {
        Ok(p) => p,
        Err(errors) => {
            for e in &errors.0 {
                error!(error = %e, "Invalid config.");
            }
            print_config_errors(&errors);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let address = cli
        .listen_address
        .clone()
        .unwrap_or_else(|| plan.config.web.listen_address.clone());
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(l) => l,
        Err(e) => {
            error!(address = %address, error = %e, "Cannot listen.");
            eprintln!("cannot listen on {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener
        .local_addr()
        .map_or(address.clone(), |a: SocketAddr| a.to_string());
    let engine = Engine::new(&cli.config_file, plan);
    engine.start();
    info!(
        address = %bound,
        checks = engine.plan().checks.len(),
        config = %cli.config_file.display(),
        version = crate::build_info::VERSION,
        "Listening."
    );

    let (shutdown_tx, mut shutdown_rx) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn(handle_signals(engine.clone(), shutdown_tx));
    let app = crate::web::router(engine.clone());
    let mut graceful_rx = shutdown_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
    });
    let server = tokio::spawn(async move { server.await });
    let _ = shutdown_rx.wait_for(|stop| *stop).await;
    info!("Shutting down: cancelling checks and draining HTTP connections.");
    engine.stop();
    let exit = match tokio::time::timeout(DRAIN_DEADLINE, server).await {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => {
            error!(error = %e, "HTTP server failed.");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            error!(error = %e, "HTTP server task failed.");
            ExitCode::FAILURE
        }
        Err(_) => {
            warn!("Connections still open after the drain deadline; closing them.");
            ExitCode::SUCCESS
        }
    };
    signals.abort();
    info!("Stopped.");
    exit
}

/// SIGTERM/SIGINT start a graceful shutdown; SIGHUP reloads the config.
async fn handle_signals(engine: Arc<Engine>, shutdown: tokio::sync::watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        error!("Cannot install signal handlers.");
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => { info!(signal = "SIGTERM", "Received signal."); break; }
            _ = int.recv() => { info!(signal = "SIGINT", "Received signal."); break; }
            _ = hup.recv() => {
                info!(signal = "SIGHUP", "Received signal; reloading the config.");
                let _ = engine.reload().await;
            }
        }
    }
    let _ = shutdown.send(true);
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
        .filter(|(_, c)| args.category.is_none_or(|cat| c.category == cat.into()))
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
    let selected = match select_checks(&plan, args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let store = Store::new();
    store.set_checks(
        selected
            .iter()
            .map(|&i| CheckMeta::from_planned(&plan.checks[i]))
            .collect(),
    );
    // The deployment gate runs in the order the config lists its steps.
    let sequential = args.fail_fast || args.category == Some(CategoryArg::Deployment);
    if sequential {
        let mut stopped = false;
        for &i in &selected {
            let planned = &plan.checks[i];
            if stopped {
                let skipped = Evaluation {
                    outcome: Outcome::unknown("skipped: an earlier check failed (--fail-fast)"),
                    duration: Duration::ZERO,
                    finished: std::time::SystemTime::now(),
                    trace: Vec::new(),
                };
                store.record(&planned.spec.name, &skipped);
                continue;
            }
            let evaluation = evaluate(planned, &plan.semaphore, &plan.redactor).await;
            if args.fail_fast && args.fail_on.fails(evaluation.outcome.state) {
                stopped = true;
            }
            store.record(&planned.spec.name, &evaluation);
        }
    } else {
        let semaphore = Arc::new(Semaphore::new(plan.config.global.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for &i in &selected {
            let plan = plan.clone();
            let semaphore = semaphore.clone();
            tasks.spawn(async move {
                let planned = &plan.checks[i];
                let evaluation = evaluate(planned, &semaphore, &plan.redactor).await;
                (planned.spec.name.clone(), evaluation)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((name, evaluation)) = joined {
                store.record(&name, &evaluation);
            }
        }
    }
    let records = store.snapshot();
    let report = match args.format {
        ReportFormat::Table => render_table(&records, std::io::stdout().is_terminal()),
        ReportFormat::Json => render_json(&records, args.fail_on),
        ReportFormat::Junit => render_junit(&records, args.fail_on),
    };
    print!("{report}");
    if records.iter().any(|r| args.fail_on.fails(r.state())) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
