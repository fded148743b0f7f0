//! What the git repository around a path says about it, by running `git`:
//! the HEAD commit of a work tree, the commit that last changed a file and
//! whether the file differs from it. Dates a change under review cannot set
//! (a file's mtime, a date written in the tree) come from here. A leaf: it
//! imports nothing of the crate.

use std::path::Path;
use std::process::Command;

/// The commit that last changed a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCommit {
    pub id: String,
    /// Committer time, Unix seconds.
    pub time: i64,
}

fn git_in(dir: &Path, args: &[&str], file: Option<&Path>) -> Result<String, String> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args);
    if let Some(file) = file {
        cmd.arg("--").arg(file);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run git in {}: {e}", dir.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} is not in a git work tree with a commit: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs git about `file`, in the directory that holds it.
fn git_on(file: &Path, args: &[&str]) -> Result<String, String> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    git_in(dir, args, Some(file))
}

/// The HEAD commit of the git work tree holding `dir`.
pub fn head_of(dir: &Path) -> Result<String, String> {
    git_in(dir, &["rev-parse", "HEAD"], None)
}

/// The commit that last changed `file`, when it is tracked in a repository
/// with history (`None` when it is not, or git is missing).
pub fn last_commit(file: &Path) -> Option<LastCommit> {
    let text = git_on(file, &["log", "-1", "--format=%H %ct"]).ok()?;
    let (id, time) = text.split_once(' ')?;
    Some(LastCommit {
        id: id.to_owned(),
        time: time.trim().parse().ok()?,
    })
}

/// Whether `file` differs from what its repository's HEAD holds (changed,
/// staged or untracked); `None` outside a repository.
pub fn is_modified(file: &Path) -> Option<bool> {
    git_on(file, &["status", "--porcelain", "--untracked-files=all"])
        .ok()
        .map(|s| !s.is_empty())
}

/// Whether `file` is committed, unchanged, by `commit` (the commit that last
/// changed it); the error says what it is instead.
pub fn committed_by(file: &Path, commit: &str) -> Result<(), String> {
    match (last_commit(file), is_modified(file)) {
        (Some(c), Some(false)) if c.id.eq_ignore_ascii_case(commit) => Ok(()),
        (Some(_), Some(true)) => Err(format!(
            "it differs from what is committed, so it is not tied to {commit}"
        )),
        (Some(c), _) => Err(format!(
            "it was last committed in {}, tree is at {commit}",
            c.id
        )),
        (None, _) => Err(format!(
            "it is not committed in a git repository, so it is not tied to {commit}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn last_commit_and_modification_are_read_off_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let file = d.join("report.sarif");
        assert_eq!(last_commit(&file), None);
        assert_eq!(is_modified(&file), None);
        git(d, &["init", "-q"]);
        std::fs::write(&file, "{}").unwrap();
        assert_eq!(is_modified(&file), Some(true));
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "c1"]);
        let head = head_of(d).unwrap();
        let last = last_commit(&file).unwrap();
        assert_eq!(last.id, head);
        assert!(last.time > 1_600_000_000);
        assert_eq!(is_modified(&file), Some(false));
        assert_eq!(committed_by(&file, &head), Ok(()));
        std::fs::write(d.join("other"), "x").unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "c2"]);
        // The file's commit stays the one that changed it.
        assert_eq!(last_commit(&file).unwrap().id, last.id);
        assert_ne!(head_of(d).unwrap(), last.id);
        assert!(committed_by(&file, &head_of(d).unwrap())
            .unwrap_err()
            .contains("last committed in"));
        std::fs::write(&file, "{\"runs\": []}").unwrap();
        assert_eq!(is_modified(&file), Some(true));
    }
}
