//! Facts about this build for `prodready_build_info` and `--version`.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REVISION: &str = env!("BUILD_GIT_REVISION");
pub const RUSTC: &str = env!("BUILD_RUSTC_VERSION");
pub const BRANCH: &str = env!("BUILD_GIT_BRANCH");
pub const DATE: &str = env!("BUILD_DATE");
/// The platform, as Go names it in `prodready_build_info` (`linux`, `amd64`).
pub const OS: &str = std::env::consts::OS;
pub const ARCH: &str = match std::env::consts::ARCH.as_bytes() {
    b"x86_64" => "amd64",
    b"aarch64" => "arm64",
    b"x86" => "386",
    _ => std::env::consts::ARCH,
};

/// `--version` in the Prometheus exporters' multi-line form.
pub fn version_text() -> String {
    format!(
        "prodready-exporter, version {VERSION} (branch: {BRANCH}, revision: {REVISION})\n  build date:       {DATE}\n  rust version:     rustc {RUSTC}\n  platform:         {OS}/{ARCH}"
    )
}
