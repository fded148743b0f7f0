//! Secrets in a repository's history: every blob reachable from the refs,
//! each unique blob scanned once with the tree scan's rules, each finding
//! attributed to the commit that introduced it (the secret is in the
//! commit's version of the file and in none of its parents' versions; a
//! pure rename introduces nothing), with whether the tip of HEAD still
//! holds it and which commit removed it. Incremental: `State` keeps what
//! earlier runs read, so a run reads only the commits and blobs new since.

mod objects;
pub mod state;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use gix::hash::ObjectId;

use super::{secret_hash, Scanner};
use objects::{Blob, Change, CommitInfo, Local, Repo};
use state::{BlobResult, Event, Hit, State, Unscanned};

/// Which part of the history to scan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Full ref names or prefixes ending in `/`; empty: every local branch
    /// and tag.
    pub refs: Vec<String>,
    /// Only the newest this many commits (by committer time).
    pub max_commits: Option<usize>,
    /// Only commits made at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only commits not reachable from this one (a hex id or a ref).
    pub baseline: Option<String>,
}

/// One secret a commit introduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryFinding {
    pub commit: String,
    /// Committer time, Unix seconds.
    pub time: i64,
    pub file: String,
    pub line: usize,
    pub rule: String,
    /// gitleaks' `commit:file:rule:line`, or with a fingerprint key the tree
    /// scan's `file:rule:hash` (one waiver covers the secret in both).
    pub fingerprint: String,
    /// The tree HEAD points at still holds this secret (at any path).
    pub in_tip: bool,
    /// The newest commit that took it out of this file.
    pub removed_in: Option<String>,
}

/// What a history scan found and read.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<HistoryFinding>,
    pub refs: Vec<String>,
    pub head: Option<String>,
    /// Commits the refs reach (less those the baseline reaches).
    pub commits_total: usize,
    /// Of those, within `max_commits` and `since`.
    pub commits_selected: usize,
    /// Commits read in this run (the others were read before).
    pub commits_read: usize,
    pub blobs_read: usize,
    pub bytes_read: u64,
    /// Blobs of selected commits not scanned, by why.
    pub too_large: usize,
    pub binary: usize,
    pub missing_blobs: usize,
    /// Parents named by commits that the database lacks.
    pub missing_commits: usize,
    /// The shallow clone's boundary commits.
    pub shallow: usize,
    pub submodules: u64,
    pub missing_trees: u64,
    pub inline_allowed: u64,
}

/// Runs `work` over `items` on the machine's cores, each thread with its
/// own handle on the repository; results in the order of `items`.
fn parallel<T: Sync, R: Send>(
    repo: &Repo,
    items: &[T],
    cancel: &crate::scan::Cancel,
    work: impl Fn(&mut Local, &T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, String> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let failed: Mutex<Option<String>> = Mutex::new(None);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8)
        .min(items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut local = repo.local();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if cancel.is_cancelled() {
                        break;
                    }
                    match work(&mut local, item) {
                        Ok(r) => {
                            if let Ok(mut all) = results.lock() {
                                all[i] = Some(r);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failed.lock() {
                                f.get_or_insert(e);
                            }
                            next.store(items.len(), Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    if cancel.is_cancelled() {
        return Err(crate::scan::STOPPED.into());
    }
    results
        .into_inner()
        .map_err(|_| "a scan thread failed".to_owned())?
        .into_iter()
        .map(|r| r.ok_or_else(|| "a scan thread stopped early".to_owned()))
        .collect()
}

/// What one commit changed, merges reduced to what differs from every
/// parent (an evil merge's own content), pure renames dropped.
fn commit_changes(
    local: &mut Local,
    c: &CommitInfo,
) -> Result<(objects::Diff, Vec<Change>), String> {
    let mut diff = objects::Diff::default();
    let first = match c.parents.first() {
        Some(&p) => local.commit(p)?.map(|p| p.tree),
        None => None,
    };
    local.diff(first, Some(c.tree), &mut diff)?;
    let renamed: HashSet<ObjectId> = diff
        .changes
        .iter()
        .filter(|ch| ch.new.is_none())
        .filter_map(|ch| ch.old)
        .collect();
    // A merge's other parents' trees, read once for all its changes.
    let mut others = Vec::new();
    for &p in c.parents.iter().skip(1) {
        others.extend(local.commit(p)?.map(|p| p.tree));
    }
    let mut kept = Vec::new();
    for ch in std::mem::take(&mut diff.changes) {
        if ch.old.is_none() && ch.new.is_some_and(|n| renamed.contains(&n)) {
            continue;
        }
        if c.parents.len() > 1 {
            // In a merge only what no parent had counts; removals are
            // reported where the parent branches made them.
            let Some(new) = ch.new else { continue };
            let mut in_parent = false;
            for &tree in &others {
                in_parent |= local.blob_at(tree, &ch.path)? == Some(new);
            }
            if in_parent {
                continue;
            }
        }
        kept.push(ch);
    }
    Ok((diff, kept))
}

/// The cache key of a blob at a path.
fn blob_key(id: ObjectId, path: &str, path_sensitive: bool) -> String {
    if path_sensitive {
        format!("{id}:{path}")
    } else {
        id.to_string()
    }
}

/// Scans a blob's text: its hits, with secrets hashed under `key`.
fn scan_blob(
    scanner: &Scanner,
    key: &ring::hmac::Key,
    local: &mut Local,
    id: ObjectId,
    path: &str,
) -> Result<(BlobResult, u64, u64), String> {
    let read = local.blob(id, scanner.max_file_size(), |bytes| {
        let text = super::as_text(bytes);
        let mut hits = Vec::new();
        let allowed = scanner.scan_secrets(path, &text, &mut |rule, line, secret| {
            hits.push(Hit {
                rule: rule.to_owned(),
                line,
                secret: secret_hash(key, rule, secret),
            });
        });
        (hits, bytes.len() as u64, allowed)
    })?;
    Ok(match read {
        Blob::Text((hits, bytes, allowed)) => (BlobResult::Hits(hits), bytes, allowed),
        Blob::TooLarge => (BlobResult::TooLarge, 0, 0),
        Blob::Binary => (BlobResult::Binary, 0, 0),
        Blob::Missing => (BlobResult::Missing, 0, 0),
    })
}

/// The history scanner: a tree scanner's rules over a repository's objects.
pub struct History<'s> {
    pub scanner: &'s Scanner,
    pub options: &'s Options,
}

/// A commit's changes, as read in this run.
struct Read {
    commit: CommitInfo,
    changes: Vec<Change>,
    submodules: u64,
    missing_trees: u64,
}

impl History<'_> {
    fn key(&self, state: &State) -> ring::hmac::Key {
        match self.scanner.fingerprint_key() {
            Some(k) => k.clone(),
            None => ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &state.key_bytes()),
        }
    }

    /// Scans the history of the repository at `dir`, reading only what
    /// `state` does not hold yet, and updating it.
    pub fn scan(
        &self,
        dir: &Path,
        state: &mut State,
        cancel: &crate::scan::Cancel,
    ) -> Result<Report, String> {
        let repo = Repo::open(dir)?;
        let mut local = repo.local();
        let mut report = Report::default();
        let tips = local.tips(&self.options.refs)?;
        if tips.is_empty() {
            return Err(if self.options.refs.is_empty() {
                format!(
                    "{} has no branch or tag pointing at a commit: no history to scan",
                    dir.display()
                )
            } else {
                format!(
                    "no ref of {} matches refs {:?}",
                    dir.display(),
                    self.options.refs
                )
            });
        }
        report.refs = tips.iter().map(|(n, _)| n.clone()).collect();
        let tip_ids: Vec<ObjectId> = tips.iter().map(|(_, id)| *id).collect();
        let walk = local.walk(&tip_ids, cancel)?;
        report.missing_commits = walk.missing.len();
        report.shallow = local.shallow_commits().len();
        let hidden: HashSet<ObjectId> = match &self.options.baseline {
            Some(spec) => {
                let base = local.resolve(spec)?;
                local
                    .walk(&[base], cancel)?
                    .commits
                    .iter()
                    .map(|c| c.id)
                    .collect()
            }
            None => HashSet::new(),
        };
        let reachable: HashSet<String> = walk.commits.iter().map(|c| c.id.to_string()).collect();
        state.keep_only(&reachable);
        let candidates: Vec<&CommitInfo> = walk
            .commits
            .iter()
            .filter(|c| !hidden.contains(&c.id))
            .collect();
        report.commits_total = candidates.len();
        let selected: Vec<&CommitInfo> = candidates
            .into_iter()
            .filter(|c| self.options.since.is_none_or(|s| c.time >= s))
            .take(self.options.max_commits.unwrap_or(usize::MAX))
            .collect();
        report.commits_selected = selected.len();
        let new: Vec<CommitInfo> = selected
            .iter()
            .filter(|c| !state.commits.contains(&c.id.to_string()))
            .map(|c| (*c).clone())
            .collect();
        report.commits_read = new.len();
        let reads = parallel(&repo, &new, cancel, |local, c| {
            let (diff, changes) = commit_changes(local, c)?;
            Ok(Read {
                commit: c.clone(),
                changes,
                submodules: diff.submodules,
                missing_trees: diff.missing,
            })
        })?;
        self.read_blobs(&repo, &reads, state, &mut report, cancel)?;
        let key = self.key(state);
        for read in &reads {
            report.submodules += read.submodules;
            report.missing_trees += read.missing_trees;
            self.attribute(read, &key, state);
            state.commits.insert(read.commit.id.to_string());
        }
        let selected_ids: HashSet<String> = selected.iter().map(|c| c.id.to_string()).collect();
        for u in state
            .unscanned
            .iter()
            .filter(|u| selected_ids.contains(&u.commit))
        {
            match u.why {
                BlobResult::TooLarge => report.too_large += 1,
                BlobResult::Binary => report.binary += 1,
                BlobResult::Missing => report.missing_blobs += 1,
                BlobResult::Hits(_) => {}
            }
        }
        let head = local.head().filter(|h| reachable.contains(&h.to_string()));
        report.head = head.map(|h| h.to_string());
        let tip = match head {
            Some(h) => self.tip_secrets(&repo, &mut local, h, state, cancel)?,
            None => HashSet::new(),
        };
        report.findings = self.findings(state, &selected_ids, &tip);
        Ok(report)
    }

    /// Scans every blob the new commits brought or replaced that the state
    /// does not know yet, in parallel.
    fn read_blobs(
        &self,
        repo: &Repo,
        reads: &[Read],
        state: &mut State,
        report: &mut Report,
        cancel: &crate::scan::Cancel,
    ) -> Result<(), String> {
        let sensitive = self.scanner.path_sensitive();
        let mut wanted: Vec<(ObjectId, String, String)> = Vec::new();
        let mut queued = HashSet::new();
        for read in reads {
            for ch in &read.changes {
                if self.scanner.skips_path(&ch.path) {
                    continue;
                }
                for id in [ch.new, ch.old].into_iter().flatten() {
                    let key = blob_key(id, &ch.path, sensitive);
                    if !state.blobs.contains_key(&key) && queued.insert(key) {
                        wanted.push((id, ch.path.clone(), read.commit.id.to_string()));
                    }
                }
            }
        }
        let key = self.key(state);
        let scanned = parallel(repo, &wanted, cancel, |local, (id, path, _)| {
            scan_blob(self.scanner, &key, local, *id, path)
        })?;
        for ((id, path, commit), (result, bytes, allowed)) in wanted.into_iter().zip(scanned) {
            report.blobs_read += 1;
            report.bytes_read += bytes;
            report.inline_allowed += allowed;
            if !matches!(result, BlobResult::Hits(_)) {
                state.unscanned.push(Unscanned {
                    commit,
                    path: path.clone(),
                    why: result.clone(),
                });
            }
            state.blobs.insert(blob_key(id, &path, sensitive), result);
        }
        Ok(())
    }

    fn hits<'a>(&self, state: &'a State, id: Option<ObjectId>, path: &str) -> &'a [Hit] {
        let sensitive = self.scanner.path_sensitive();
        match id.and_then(|id| state.blobs.get(&blob_key(id, path, sensitive))) {
            Some(BlobResult::Hits(h)) => h,
            _ => &[],
        }
    }

    /// Records what a commit added and removed.
    fn attribute(&self, read: &Read, key: &ring::hmac::Key, state: &mut State) {
        let c = &read.commit;
        let mut added = Vec::new();
        let mut removed = Vec::new();
        let event = |path: &str, hit: &Hit| Event {
            commit: c.id.to_string(),
            time: c.time,
            path: path.to_owned(),
            line: hit.line,
            rule: hit.rule.clone(),
            secret: hit.secret.clone(),
        };
        for ch in &read.changes {
            if self.scanner.skips_path(&ch.path) {
                continue;
            }
            let new = self.hits(state, ch.new, &ch.path);
            let old = self.hits(state, ch.old, &ch.path);
            let same = |a: &Hit, b: &Hit| a.rule == b.rule && a.secret == b.secret;
            for h in new {
                if !old.iter().any(|o| same(o, h)) {
                    added.push(event(&ch.path, h));
                }
            }
            for h in old {
                if !new.iter().any(|n| same(n, h)) {
                    removed.push(event(&ch.path, h));
                }
            }
            if ch.old.is_none() && ch.new.is_some() {
                let mut path_findings = Vec::new();
                self.scanner.scan_path(&ch.path, &mut path_findings);
                for f in path_findings {
                    let hit = Hit {
                        secret: secret_hash(key, &f.rule, &ch.path),
                        rule: f.rule,
                        line: 0,
                    };
                    added.push(event(&ch.path, &hit));
                }
            }
        }
        state.added.extend(added);
        state.removed.extend(removed);
    }

    /// The (rule, secret hash) pairs HEAD's tree holds, scanning its blobs
    /// the state does not know (those of commits outside the selection).
    fn tip_secrets(
        &self,
        repo: &Repo,
        local: &mut Local,
        head: ObjectId,
        state: &mut State,
        cancel: &crate::scan::Cancel,
    ) -> Result<HashSet<(String, String)>, String> {
        let Some(commit) = local.commit(head)? else {
            return Ok(HashSet::new());
        };
        let mut files = Vec::new();
        local.files(commit.tree, &mut files)?;
        files.retain(|(path, _)| !self.scanner.skips_path(path));
        let sensitive = self.scanner.path_sensitive();
        let unknown: Vec<(String, ObjectId)> = files
            .iter()
            .filter(|(p, id)| !state.blobs.contains_key(&blob_key(*id, p, sensitive)))
            .cloned()
            .collect();
        let key = self.key(state);
        let scanned = parallel(repo, &unknown, cancel, |local, (path, id)| {
            scan_blob(self.scanner, &key, local, *id, path)
        })?;
        for ((path, id), (result, _, _)) in unknown.into_iter().zip(scanned) {
            state.blobs.insert(blob_key(id, &path, sensitive), result);
        }
        let mut tip = HashSet::new();
        for (path, id) in &files {
            for h in self.hits(state, Some(*id), path) {
                tip.insert((h.rule.clone(), h.secret.clone()));
            }
            let mut path_findings = Vec::new();
            self.scanner.scan_path(path, &mut path_findings);
            for f in path_findings {
                tip.insert((f.rule.clone(), secret_hash(&key, &f.rule, path)));
            }
        }
        Ok(tip)
    }

    /// The findings of the selected commits, oldest first.
    fn findings(
        &self,
        state: &State,
        selected: &HashSet<String>,
        tip: &HashSet<(String, String)>,
    ) -> Vec<HistoryFinding> {
        let keyed = self.scanner.fingerprint_key().is_some();
        let mut removals: HashMap<(&str, &str, &str), &Event> = HashMap::new();
        for r in &state.removed {
            let slot = removals
                .entry((r.path.as_str(), r.rule.as_str(), r.secret.as_str()))
                .or_insert(r);
            if r.time > slot.time {
                *slot = r;
            }
        }
        let mut out: Vec<HistoryFinding> = state
            .added
            .iter()
            .filter(|e| selected.contains(&e.commit))
            .filter(|e| !self.scanner.commit_allowed(&e.rule, &e.commit))
            .map(|e| {
                let in_tip = tip.contains(&(e.rule.clone(), e.secret.clone()));
                HistoryFinding {
                    commit: e.commit.clone(),
                    time: e.time,
                    file: e.path.clone(),
                    line: e.line,
                    rule: e.rule.clone(),
                    fingerprint: if keyed {
                        format!("{}:{}:{}", e.path, e.rule, e.secret)
                    } else {
                        format!("{}:{}:{}:{}", e.commit, e.path, e.rule, e.line)
                    },
                    in_tip,
                    removed_in: removals
                        .get(&(e.path.as_str(), e.rule.as_str(), e.secret.as_str()))
                        .filter(|r| !in_tip && r.time >= e.time)
                        .map(|r| r.commit.clone()),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (a.time, &a.commit, &a.file, a.line, &a.rule)
                .cmp(&(b.time, &b.commit, &b.file, b.line, &b.rule))
        });
        out
    }
}
