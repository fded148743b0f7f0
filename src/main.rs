#![forbid(unsafe_code)]
// A panic in the daemon is an outage: nothing outside tests unwraps.
#![deny(clippy::unwrap_used, clippy::expect_used)]

/// jemalloc, configured in .cargo/config.toml: see Cargo.toml and
/// docs/benchmarks.md for why (memory per check after the first round).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    prodready_exporter::cli::main()
}
