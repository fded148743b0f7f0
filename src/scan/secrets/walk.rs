//! Walking a tree: which files are scanned (gitignored untracked files are
//! not, tracked ones always are; symlinks are never followed; binaries and
//! files over the size cap are skipped and counted), in parallel.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{Finding, Scanner};

/// Counters of one scan.
#[derive(Debug, Default)]
pub struct ScanStats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    /// Untracked files and directories a .gitignore pattern excludes.
    pub skipped_ignored: AtomicU64,
    /// Tracked files scanned although a .gitignore pattern matches them.
    pub tracked_ignored: AtomicU64,
    pub errors: AtomicU64,
    /// Matches not reported for gitleaks' `gitleaks:allow` marker.
    pub inline_allowed: AtomicU64,
    /// Inside a git work tree whose index git could not read (why): ignored
    /// files were skipped without knowing whether git tracks them.
    pub git_unreadable: Mutex<Option<String>>,
}

/// What git says about the scanned tree.
#[derive(Debug)]
enum GitView {
    NotARepository,
    Tree {
        /// Relative paths of tracked files that .gitignore patterns match.
        tracked_ignored: Vec<String>,
        untracked_ignored: u64,
    },
    /// A `.git` is there, but git could not answer.
    Unreadable(String),
}

/// Runs `git ls-files` in `root` with the repository's own configuration
/// unable to run programs (`core.fsmonitor` off) and without git's refusal
/// of a tree owned by another user (the exporter reads, never writes).
fn ls_files(root: &Path, args: &[&str]) -> Result<Vec<String>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.fsmonitor=false", "-c", "safe.directory=*"])
        .arg("ls-files")
        .args(args)
        .arg("-z")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "git ls-files failed: {}",
            err.lines().next().unwrap_or("no message")
        ));
    }
    Ok(output
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).trim_end_matches('/').to_owned())
        .collect())
}

/// Whether `root` or a directory above it holds a `.git`.
fn in_git_tree(root: &Path) -> bool {
    root.ancestors().any(|d| d.join(".git").exists())
}

impl GitView {
    fn of(root: &Path) -> GitView {
        if !in_git_tree(root) {
            return GitView::NotARepository;
        }
        let tracked = ls_files(root, &["--cached", "--ignored", "--exclude-standard"]);
        let untracked = ls_files(
            root,
            &["--others", "--ignored", "--exclude-standard", "--directory"],
        );
        match (tracked, untracked) {
            (Ok(tracked_ignored), Ok(untracked)) => GitView::Tree {
                tracked_ignored,
                untracked_ignored: untracked.len() as u64,
            },
            (Err(e), _) | (_, Err(e)) => GitView::Unreadable(e),
        }
    }
}

impl Scanner {
    /// Walks `root` in parallel; returns findings (sorted) and counters.
    /// Inside a git work tree, .gitignore patterns skip untracked files only
    /// (counted): a tracked file is shipped, ignored or not, and is scanned.
    /// Stops early, with an error, once `cancel` says nobody waits any more.
    pub fn scan_tree(
        &self,
        root: &Path,
        cancel: &crate::scan::Cancel,
    ) -> Result<(Vec<Finding>, ScanStats), String> {
        let meta =
            std::fs::metadata(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", root.display()));
        }
        let findings = Mutex::new(Vec::new());
        let stats = ScanStats::default();
        let git = GitView::of(root);
        match &git {
            GitView::Tree {
                untracked_ignored, ..
            } => stats
                .skipped_ignored
                .store(*untracked_ignored, Ordering::Relaxed),
            GitView::Unreadable(why) => {
                if let Ok(mut w) = stats.git_unreadable.lock() {
                    *w = Some(why.clone());
                }
            }
            GitView::NotARepository => {}
        }
        let tracked_ignored: HashSet<String> = match &git {
            GitView::Tree {
                tracked_ignored, ..
            } => tracked_ignored.iter().cloned().collect(),
            _ => HashSet::new(),
        };
        let visited = Mutex::new(HashSet::new());
        // Ignore rules apply only inside a git work tree and only from the
        // scanned tree itself: a stray .gitignore elsewhere (or in a parent
        // directory) must not hide files from the scan.
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .ignore(false)
            .parents(false)
            .git_ignore(true)
            .git_exclude(false)
            .git_global(false)
            .require_git(true)
            .follow_links(false)
            .filter_entry(|e| e.file_name() != ".git")
            .threads(
                std::thread::available_parallelism()
                    .map_or(2, |n| n.get())
                    .min(8),
            )
            .build_parallel();
        walker.run(|| {
            let findings = &findings;
            let stats = &stats;
            let tracked_ignored = &tracked_ignored;
            let visited = &visited;
            Box::new(move |entry| {
                if cancel.is_cancelled() {
                    return ignore::WalkState::Quit;
                }
                let Ok(entry) = entry else {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    return ignore::WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return ignore::WalkState::Continue;
                }
                let path = entry.path();
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .into_owned();
                if tracked_ignored.contains(&relative) {
                    if let Ok(mut v) = visited.lock() {
                        v.insert(relative.clone());
                    }
                }
                self.scan_file(path, &relative, stats, findings);
                ignore::WalkState::Continue
            })
        });
        // Tracked files a .gitignore pattern hides from the walk.
        let visited = visited.into_inner().unwrap_or_default();
        for relative in tracked_ignored.difference(&visited) {
            if cancel.is_cancelled() {
                break;
            }
            let path = root.join(relative);
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                stats.tracked_ignored.fetch_add(1, Ordering::Relaxed);
                self.scan_file(&path, relative, &stats, &findings);
            }
        }
        if cancel.is_cancelled() {
            return Err(crate::scan::STOPPED.into());
        }
        let mut findings = findings.into_inner().unwrap_or_default();
        findings.sort();
        Ok((findings, stats))
    }

    /// Scans one file (path rules, then content), counting what it skips.
    fn scan_file(
        &self,
        path: &Path,
        relative: &str,
        stats: &ScanStats,
        findings: &Mutex<Vec<Finding>>,
    ) {
        if self.allow_paths.iter().any(|re| re.is_match(relative)) {
            return;
        }
        let mut local = Vec::new();
        self.scan_path(relative, &mut local);
        'content: {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.len() > self.max_file_size => {
                    stats.skipped_large.fetch_add(1, Ordering::Relaxed);
                    break 'content;
                }
                Ok(_) => {}
                Err(_) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    break 'content;
                }
            }
            let Ok(bytes) = std::fs::read(path) else {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                break 'content;
            };
            if bytes[..bytes.len().min(8192)].contains(&0) {
                stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
                break 'content;
            }
            stats.files.fetch_add(1, Ordering::Relaxed);
            stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            let text = super::as_text(&bytes);
            let allowed = self.scan_text(relative, &text, &mut local);
            stats.inline_allowed.fetch_add(allowed, Ordering::Relaxed);
        }
        if !local.is_empty() {
            if let Ok(mut f) = findings.lock() {
                f.extend(local);
            }
        }
    }
}
