//! Facts about this build for `prodready_build_info` and `--version`.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REVISION: &str = env!("PRODREADY_REVISION");
pub const RUSTC: &str = env!("PRODREADY_RUSTC_VERSION");
