//! Facts about this build for `prodready_build_info` and `--version`.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REVISION: &str = env!("BUILD_GIT_REVISION");
pub const RUSTC: &str = env!("BUILD_RUSTC_VERSION");
