#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    prodready_exporter::cli::main()
}
