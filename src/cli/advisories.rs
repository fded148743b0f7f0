//! `advisories sync`: fills the local advisory database of
//! `dependency_vulnerabilities` with OSV's archives.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{parse_duration_arg, print_config_errors, Cli, EXIT_CONFIG};
use crate::engine::load_plan;

#[derive(Debug, Args)]
pub struct AdvisoriesArgs {
    #[command(subcommand)]
    pub command: AdvisoriesCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Download OSV's per-ecosystem all.zip files, verify them and swap
    /// them into the database directory atomically (a failed download
    /// keeps the old file). Without --dir: every advisory_db of the
    /// config's dependency_vulnerabilities checks, with the ecosystems of
    /// the lockfiles they scan. Exit 0 when every ecosystem synced, 1 when
    /// one failed, 2 on bad usage.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Database directory (default: the config's advisory_db directories).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// OSV ecosystem to download (repeatable): crates.io, npm, PyPI, Go,
    /// RubyGems, Hex, Packagist, Maven, NuGet. Default: those of the
    /// lockfiles and SBOMs the config scans.
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// Where to download from: OSV's bucket, or a mirror with its layout
    /// (<url>/<ecosystem>/all.zip).
    #[arg(long = "source-url", default_value = crate::scan::deps::sync::DEFAULT_SOURCE)]
    pub source_url: String,
    /// Largest archive accepted.
    #[arg(long = "max-size", default_value = "2GiB", value_parser = parse_size_arg)]
    pub max_size: u64,
    /// Longest time one download may take.
    #[arg(long, default_value = "10m", value_parser = parse_duration_arg)]
    pub timeout: std::time::Duration,
    /// Use the proxy that HTTP_PROXY / HTTPS_PROXY / NO_PROXY name (off by default).
    #[arg(long = "proxy-from-environment")]
    pub proxy_from_environment: bool,
}

fn parse_size_arg(text: &str) -> Result<u64, String> {
    crate::config::units::parse_size(text)
}

/// `advisories sync`: which directories and ecosystems, then each download.
pub(super) async fn advisories_sync(cli: &Cli, args: &SyncArgs) -> ExitCode {
    use crate::scan::deps::sync::{ecosystem_name, jobs, sync_all, Report};
    let mut wanted = Vec::new();
    for name in &args.ecosystems {
        match ecosystem_name(name) {
            Ok(n) => wanted.push(n),
            Err(e) => {
                eprintln!("--ecosystem: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    }
    let jobs = if let (Some(dir), false) = (&args.dir, wanted.is_empty()) {
        jobs([(dir.clone(), wanted.clone())], None, &[])
    } else {
        let needs = match load_plan(&cli.config_file) {
            Ok(plan) => plan.advisory_needs(),
            Err(errors) => {
                print_config_errors(&errors);
                eprintln!("advisories sync reads the config for its directories and ecosystems; or give --dir and --ecosystem");
                return ExitCode::from(EXIT_CONFIG);
            }
        };
        match needs {
            Ok(needs) => jobs(needs, args.dir.as_deref(), &wanted),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    };
    if jobs.is_empty() {
        eprintln!(
            "{}: no dependency_vulnerabilities check with a lockfile to take directories and ecosystems from; give --dir and --ecosystem",
            cli.config_file.display()
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let route = if args.proxy_from_environment {
        crate::targets::http::Route::EnvironmentProxy
    } else {
        crate::targets::http::Route::Direct
    };
    let client = match crate::targets::http::routed_client_builder(&route).build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let print = |r: Report| match r.result {
        Ok(done) => outln!(
            "{}: {} advisories, {} bytes -> {}",
            r.ecosystem,
            done.advisories,
            done.bytes,
            done.path.display()
        ),
        Err(e) => eprintln!("{}: {e}; kept {}", r.ecosystem, r.kept.display()),
    };
    let failed = sync_all(
        &client,
        &args.source_url,
        &jobs,
        args.max_size,
        args.timeout,
        print,
    )
    .await;
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
