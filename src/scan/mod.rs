//! The scanners: libraries that read a tree or a file and report what they
//! find, knowing nothing of checks, the engine or the config (the kinds
//! `hardcoded_secrets` and `dependency_vulnerabilities` adapt them).
//! `secrets`: rules, gitleaks configs and the tree walk; `deps`: lockfile
//! readers, version orderings, the OSV database and its download; `sarif`:
//! other tools' SARIF logs (kind `sarif_report`); `migrations`: migration
//! files and history tables of the migration tools (`pending_migrations`,
//! `rollback_ready`).

pub mod deps;
pub mod kubernetes;
pub mod migrations;
pub mod sarif;
pub mod secrets;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use crate::files::read_text;

/// What a scan stopped by its `Cancel` says.
pub const STOPPED: &str =
    "the scan was stopped: nobody waits for it any more (timeout or cancellation)";

/// Tells a long scan whether anybody still waits for it: a scan checks it
/// between files and stops when it is set.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token nobody has cancelled yet (benches and one-off tools never do).
    #[allow(clippy::new_without_default)]
    pub fn new() -> Cancel {
        Cancel(Arc::new(AtomicBool::new(false)))
    }

    /// Asks every holder of a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
