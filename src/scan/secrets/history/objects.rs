//! Reading a repository's object database with gitoxide: the refs to
//! start from, the commit graph, what each commit changed (its trees
//! compared with its parents'), and blobs. Never runs git and never reads
//! the user's or the system's git config (the repository is opened
//! isolated): nothing in it can make us run a program.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use gix::hash::ObjectId;
use gix::objs::{CommitRefIter, Find, FindHeader, Kind, TreeRefIter};

/// Directories deeper than this are not followed.
const MAX_DEPTH: usize = 200;

/// Each thread's cache of decompressed delta bases.
const PACK_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// An opened repository, shareable between threads.
pub struct Repo {
    shared: gix::ThreadSafeRepository,
}

/// A commit as the walk needs it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: ObjectId,
    /// Committer time, Unix seconds.
    pub time: i64,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
}

/// A file a commit changed, relative to its first parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    /// `None`: the commit deleted the file.
    pub new: Option<ObjectId>,
    /// `None`: the commit added the file.
    pub old: Option<ObjectId>,
}

/// What was made of a blob read for scanning, or why it was not read.
pub enum Blob<T> {
    Text(T),
    TooLarge,
    Binary,
    Missing,
}

/// The commits reachable from the tips, newest first.
#[derive(Debug, Default)]
pub struct Walk {
    pub commits: Vec<CommitInfo>,
    /// Commits named as parents that the object database does not hold
    /// (past a shallow clone's boundary, or lost).
    pub missing: Vec<ObjectId>,
}

/// The words for a gitoxide error: its message without Rust debug text.
fn say(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

impl Repo {
    /// Opens the repository at `dir` (a work tree or a bare repository).
    pub fn open(dir: &Path) -> Result<Repo, String> {
        let shared = gix::ThreadSafeRepository::open_opts(dir, gix::open::Options::isolated())
            .map_err(|e| {
                say(
                    &format!(
                        "{} is not a git repository gitoxide can read",
                        dir.display()
                    ),
                    e,
                )
            })?;
        Ok(Repo { shared })
    }

    pub fn local(&self) -> Local {
        let mut repo = self.shared.to_thread_local();
        // Delta bases kept decompressed: a blob whose delta chain runs
        // through bases read before costs one inflate, not the chain's.
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
        Local {
            repo,
            buf: Vec::new(),
        }
    }
}

/// One thread's handle on the repository.
pub struct Local {
    repo: gix::Repository,
    buf: Vec<u8>,
}

impl Local {
    /// The shallow boundary: commits whose parents this clone lacks.
    pub fn shallow_commits(&self) -> Vec<ObjectId> {
        self.repo
            .shallow_commits()
            .ok()
            .flatten()
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The commit HEAD points at, if it points at one.
    pub fn head(&self) -> Option<ObjectId> {
        self.repo.head_id().ok().map(|id| id.detach())
    }

    /// The commits the refs point at, by ref name: `patterns` are full ref
    /// names or prefixes ending in `/`; empty: every local branch and tag,
    /// and HEAD.
    /// Tags are peeled; refs to something other than a commit are skipped.
    pub fn tips(&self, patterns: &[String]) -> Result<Vec<(String, ObjectId)>, String> {
        let platform = self
            .repo
            .references()
            .map_err(|e| say("cannot read the refs", e))?;
        let iter = platform.all().map_err(|e| say("cannot read the refs", e))?;
        let mut tips = Vec::new();
        for reference in iter {
            let Ok(mut reference) = reference else {
                continue;
            };
            let name = reference.name().as_bstr().to_string();
            let wanted = if patterns.is_empty() {
                name.starts_with("refs/heads/") || name.starts_with("refs/tags/")
            } else {
                patterns.iter().any(|p| {
                    if p.ends_with('/') {
                        name.starts_with(p.as_str())
                    } else {
                        &name == p
                    }
                })
            };
            if !wanted {
                continue;
            }
            let Ok(id) = reference.peel_to_id() else {
                continue;
            };
            let id = id.detach();
            if self.kind_of(id) == Some(Kind::Commit) {
                tips.push((name, id));
            }
        }
        if patterns.is_empty() {
            // A detached HEAD (CI checks out a pull request's merge commit
            // so) is history too.
            if let Some(head) = self
                .head()
                .filter(|h| self.kind_of(*h) == Some(Kind::Commit))
            {
                tips.push(("HEAD".to_owned(), head));
            }
        }
        tips.sort();
        Ok(tips)
    }

    /// Resolves a commit named by its full hex id or by a ref (`main`,
    /// `refs/tags/v1`, `origin/main`), tags peeled.
    pub fn resolve(&self, spec: &str) -> Result<ObjectId, String> {
        let id = match ObjectId::from_hex(spec.as_bytes()) {
            Ok(id) => id,
            Err(_) => {
                let mut reference = self
                    .repo
                    .find_reference(spec)
                    .map_err(|e| say(&format!("cannot resolve {spec:?}"), e))?;
                reference
                    .peel_to_id()
                    .map_err(|e| say(&format!("cannot resolve {spec:?}"), e))?
                    .detach()
            }
        };
        match self.kind_of(id) {
            Some(Kind::Commit) => Ok(id),
            Some(other) => Err(format!("{spec:?} names a {other}, not a commit")),
            None => Err(format!(
                "{spec:?} names an object this repository does not hold"
            )),
        }
    }

    fn kind_of(&self, id: ObjectId) -> Option<Kind> {
        self.repo
            .objects
            .try_header(&id)
            .ok()
            .flatten()
            .map(|h| h.kind)
    }

    /// An object's data (in this handle's buffer): `Ok(None)` when the
    /// database lacks it; `what` names it in the error.
    fn find(&mut self, id: ObjectId, what: &str) -> Result<Option<gix::objs::Data<'_>>, String> {
        self.repo
            .objects
            .try_find(&id, &mut self.buf)
            .map_err(|e| say(&format!("cannot read {what} {id}"), e))
    }

    /// Reads a commit: `Ok(None)` when the database lacks it.
    pub fn commit(&mut self, id: ObjectId) -> Result<Option<CommitInfo>, String> {
        let kind = self.repo.object_hash();
        let Some(data) = self.find(id, "commit")? else {
            return Ok(None);
        };
        if data.kind != Kind::Commit {
            return Err(format!("{id} is a {}, not a commit", data.kind));
        }
        let mut iter = CommitRefIter::from_bytes(data.data, kind);
        let tree = iter
            .tree_id()
            .map_err(|e| say(&format!("commit {id} is malformed"), e))?;
        let parents: Vec<ObjectId> = CommitRefIter::from_bytes(data.data, kind)
            .parent_ids()
            .collect();
        let time = CommitRefIter::from_bytes(data.data, kind)
            .committer()
            .map(|c| c.seconds())
            .unwrap_or(0);
        Ok(Some(CommitInfo {
            id,
            time,
            tree,
            parents,
        }))
    }

    /// Every commit reachable from `tips`, newest (by committer time)
    /// first, as `git log --all` orders them.
    pub fn walk(
        &mut self,
        tips: &[ObjectId],
        cancel: &crate::scan::Cancel,
    ) -> Result<Walk, String> {
        let mut walk = Walk::default();
        let mut seen: HashSet<ObjectId> = HashSet::new();
        let mut queue: std::collections::BinaryHeap<(i64, ObjectId)> = Default::default();
        for &tip in tips {
            if !seen.insert(tip) {
                continue;
            }
            if let Some(c) = self.commit(tip)? {
                queue.push((c.time, tip));
                walk.commits.push(c);
            }
        }
        let mut by_id: HashMap<ObjectId, usize> = walk
            .commits
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        while let Some((_, id)) = queue.pop() {
            if cancel.is_cancelled() {
                return Err(crate::scan::STOPPED.into());
            }
            let parents = match by_id.get(&id) {
                Some(&i) => walk.commits[i].parents.clone(),
                None => continue,
            };
            for parent in parents {
                if !seen.insert(parent) {
                    continue;
                }
                match self.commit(parent)? {
                    Some(c) => {
                        queue.push((c.time, parent));
                        by_id.insert(parent, walk.commits.len());
                        walk.commits.push(c);
                    }
                    None => walk.missing.push(parent),
                }
            }
        }
        walk.commits
            .sort_by(|a, b| b.time.cmp(&a.time).then(a.id.cmp(&b.id)));
        Ok(walk)
    }

    /// Reads a tree's entries: (name, id, is a tree, is a blob, is a
    /// submodule). `None` when missing.
    fn tree(&mut self, id: ObjectId) -> Result<Option<Vec<Entry>>, String> {
        let kind = self.repo.object_hash();
        let Some(data) = self.find(id, "tree")? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for entry in TreeRefIter::from_bytes(data.data, kind) {
            let entry = entry.map_err(|e| say(&format!("tree {id} is malformed"), e))?;
            let mode = entry.mode;
            out.push(Entry {
                name: entry.filename.to_string(),
                id: entry.oid.to_owned(),
                what: if mode.is_tree() {
                    What::Tree
                } else if mode.is_commit() {
                    What::Submodule
                } else if mode.is_blob() {
                    What::Blob
                } else {
                    What::Other
                },
            });
        }
        Ok(Some(out))
    }

    /// What `new` changed from `old` (`None`: the empty tree), files only,
    /// with their full paths. Submodule entries are counted, not followed.
    pub fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        out: &mut Diff,
    ) -> Result<(), String> {
        self.diff_under("", old, new, out)
    }

    fn diff_under(
        &mut self,
        prefix: &str,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        out: &mut Diff,
    ) -> Result<(), String> {
        if old == new {
            return Ok(());
        }
        if prefix.matches('/').count() >= MAX_DEPTH {
            // Deeper than any real tree: not followed (and counted), so a
            // hostile repository cannot exhaust the stack.
            out.missing += 1;
            return Ok(());
        }
        let mut entries = |id: Option<ObjectId>, out: &mut Diff| -> Result<Vec<Entry>, String> {
            let Some(id) = id else {
                return Ok(Vec::new());
            };
            match self.tree(id)? {
                Some(e) => Ok(e),
                None => {
                    out.missing += 1;
                    Ok(Vec::new())
                }
            }
        };
        let old_entries = entries(old, out)?;
        let new_entries = entries(new, out)?;
        let olds: HashMap<&str, &Entry> =
            old_entries.iter().map(|e| (e.name.as_str(), e)).collect();
        let news: HashSet<&str> = new_entries.iter().map(|e| e.name.as_str()).collect();
        let path = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}/{name}")
            }
        };
        for e in &new_entries {
            let before = olds.get(e.name.as_str()).filter(|o| o.what == e.what);
            if before.is_some_and(|o| o.id == e.id) {
                continue;
            }
            match e.what {
                What::Tree => {
                    self.diff_under(&path(&e.name), before.map(|o| o.id), Some(e.id), out)?
                }
                What::Blob => out.changes.push(Change {
                    path: path(&e.name),
                    new: Some(e.id),
                    old: before.map(|o| o.id),
                }),
                What::Submodule => out.submodules += 1,
                What::Other => {}
            }
            // A blob that became a tree (or back): the old side is gone.
            if let Some(o) = olds.get(e.name.as_str()).filter(|o| o.what != e.what) {
                self.deleted(&path(&o.name), o, out)?;
            }
        }
        for o in &old_entries {
            if !news.contains(o.name.as_str()) {
                self.deleted(&path(&o.name), o, out)?;
            }
        }
        Ok(())
    }

    fn deleted(&mut self, path: &str, o: &Entry, out: &mut Diff) -> Result<(), String> {
        match o.what {
            What::Tree => self.diff_under(path, Some(o.id), None, out),
            What::Blob => {
                out.changes.push(Change {
                    path: path.to_owned(),
                    new: None,
                    old: Some(o.id),
                });
                Ok(())
            }
            What::Submodule | What::Other => Ok(()),
        }
    }

    /// The blob at `path` in `tree`, if it holds one.
    pub fn blob_at(&mut self, tree: ObjectId, path: &str) -> Result<Option<ObjectId>, String> {
        let mut current = tree;
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let Some(entries) = self.tree(current)? else {
                return Ok(None);
            };
            let last = i + 1 == parts.len();
            match entries.into_iter().find(|e| e.name == *part) {
                Some(e) if last && e.what == What::Blob => return Ok(Some(e.id)),
                Some(e) if !last && e.what == What::Tree => current = e.id,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Every file of a tree with its blob.
    pub fn files(
        &mut self,
        tree: ObjectId,
        out: &mut Vec<(String, ObjectId)>,
    ) -> Result<(), String> {
        let mut diff = Diff::default();
        self.diff(None, Some(tree), &mut diff)?;
        out.extend(
            diff.changes
                .into_iter()
                .filter_map(|c| Some((c.path, c.new?))),
        );
        Ok(())
    }

    /// `read` of a blob's bytes (not copied), unless it is larger than
    /// `max` or binary (a NUL in its first 8 KiB, as the tree scan decides).
    pub fn blob<T>(
        &mut self,
        id: ObjectId,
        max: u64,
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<Blob<T>, String> {
        match self.repo.objects.try_header(&id) {
            Ok(Some(h)) if h.size > max => return Ok(Blob::TooLarge),
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Blob::Missing),
            Err(e) => return Err(say(&format!("cannot read blob {id}"), e)),
        }
        let Some(data) = self.find(id, "blob")? else {
            return Ok(Blob::Missing);
        };
        if data.data[..data.data.len().min(8192)].contains(&0) {
            return Ok(Blob::Binary);
        }
        Ok(Blob::Text(read(data.data)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Tree,
    Blob,
    Submodule,
    Other,
}

#[derive(Debug)]
struct Entry {
    name: String,
    id: ObjectId,
    what: What,
}

/// What a commit changed.
#[derive(Debug, Default)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub submodules: u64,
    /// Trees the database lacks.
    pub missing: u64,
}
