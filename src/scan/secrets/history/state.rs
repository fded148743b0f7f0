//! What a history scan keeps between runs: the commits it processed, what
//! each blob it read holds (rule, line and a keyed hash of each secret,
//! never the secret) and the findings each commit introduced or removed.
//! Objects are content-addressed, so a blob's entry never goes stale; a
//! commit no ref reaches any more (a force-push) drops out with its
//! findings. Kept in memory by the check and, with `global.state_dir`, in
//! a file there, so a restart does not rescan the history.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A secret a blob holds: the rule, the 1-based line (0: a path-only rule)
/// and the keyed hash of rule and secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hit {
    pub rule: String,
    pub line: usize,
    pub secret: String,
}

/// What reading a blob gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobResult {
    Hits(Vec<Hit>),
    TooLarge,
    Binary,
    Missing,
}

/// A secret a commit added to a file (or, for `removed`, took out of one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub commit: String,
    pub time: i64,
    pub path: String,
    pub line: usize,
    pub rule: String,
    pub secret: String,
}

/// A blob the scan could not read (too large, binary, missing), with the
/// commit that brought it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unscanned {
    pub commit: String,
    pub path: String,
    pub why: BlobResult,
}

#[derive(Default, Serialize, Deserialize)]
pub struct State {
    /// Digest of what the findings depend on (rules, allowlists, keys);
    /// a state made under another is discarded.
    pub config: String,
    /// Hex key of the secret hashes when no `fingerprint_key_file` is set:
    /// random, made once per state.
    pub key: String,
    pub commits: HashSet<String>,
    /// By blob id (`<id>` or, for path-sensitive rules, `<id>:<path>`).
    pub blobs: HashMap<String, BlobResult>,
    pub added: Vec<Event>,
    pub removed: Vec<Event>,
    pub unscanned: Vec<Unscanned>,
}

/// Never prints the key.
impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "State {{ commits: {}, blobs: {} }}",
            self.commits.len(),
            self.blobs.len()
        )
    }
}

impl State {
    /// A fresh state for `config`, with a new random key.
    pub fn new(config: &str) -> Result<State, String> {
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| "the system's random number generator failed".to_owned())?;
        Ok(State {
            config: config.to_owned(),
            key: key.iter().map(|b| format!("{b:02x}")).collect(),
            ..State::default()
        })
    }

    /// Forgets commits outside `reachable` and what they added or removed.
    pub fn keep_only(&mut self, reachable: &HashSet<String>) {
        self.commits.retain(|c| reachable.contains(c));
        self.added.retain(|e| reachable.contains(&e.commit));
        self.removed.retain(|e| reachable.contains(&e.commit));
        self.unscanned.retain(|u| reachable.contains(&u.commit));
    }

    /// The key bytes.
    pub fn key_bytes(&self) -> Vec<u8> {
        (0..self.key.len() / 2)
            .filter_map(|i| u8::from_str_radix(self.key.get(2 * i..2 * i + 2)?, 16).ok())
            .collect()
    }
}

/// Where a check's state lives in the state directory.
pub fn file_in(dir: &Path, check: &str) -> PathBuf {
    let safe: String = check
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("secrets-history-{safe}.json"))
}

/// Reads a kept state; a missing file is none, a file made under another
/// config is none, an unreadable one is an error naming it.
pub fn load(file: &Path, config: &str) -> Result<Option<State>, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let state: State = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not a history state this version wrote ({e}); delete it to rescan",
            file.display()
        )
    })?;
    Ok((state.config == config).then_some(state))
}

/// Writes the state atomically (a temporary file renamed over the old),
/// readable by the owner only: the hashes are keyed with the key beside them.
pub fn save(file: &Path, state: &State) -> Result<(), String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = file.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        let bytes = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    };
    write().map_err(|e| format!("cannot write {}: {e}", file.display()))
}
