//! `advisories sync`: OSV's per-ecosystem `all.zip` files, downloaded from
//! the public OSV bucket (or a mirror with its layout,
//! `<url>/<ecosystem>/all.zip`), verified and swapped into the database
//! directory by a rename, so a running daemon reads the old file or the new
//! one, never half of one. A failed or truncated download keeps the old file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::advisories::AdvisoryDb;
use super::versions::Ecosystem;

/// OSV's public bucket.
pub const DEFAULT_SOURCE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The OSV name of an ecosystem given on the command line (exactly as OSV
/// writes it), or an error listing the valid ones.
pub fn ecosystem_name(name: &str) -> Result<&'static str, String> {
    Ecosystem::ALL
        .iter()
        .map(|e| e.osv_name())
        .find(|n| *n == name)
        .ok_or_else(|| {
            let valid: Vec<&str> = Ecosystem::ALL.iter().map(|e| e.osv_name()).collect();
            format!("unknown ecosystem {name:?}; valid: {}", valid.join(", "))
        })
}

/// One database directory and the ecosystems to download into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub dir: PathBuf,
    pub ecosystems: Vec<&'static str>,
}

/// The downloads a sync makes from what the checks need (directory,
/// ecosystems): `dir` puts them all in one directory, `wanted` (when not
/// empty) replaces each check's ecosystems. Directories are merged, their
/// ecosystems sorted and deduplicated; a directory with none is dropped.
pub fn jobs(
    needs: impl IntoIterator<Item = (PathBuf, Vec<&'static str>)>,
    dir: Option<&Path>,
    wanted: &[&'static str],
) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    for (own_dir, own) in needs {
        let dir = dir.map_or(own_dir, Path::to_owned);
        let ecosystems = if wanted.is_empty() {
            own
        } else {
            wanted.to_vec()
        };
        match jobs.iter_mut().find(|j| j.dir == dir) {
            Some(job) => job.ecosystems.extend(ecosystems),
            None => jobs.push(Job { dir, ecosystems }),
        }
    }
    for job in &mut jobs {
        job.ecosystems.sort_unstable();
        job.ecosystems.dedup();
    }
    jobs.retain(|j| !j.ecosystems.is_empty());
    jobs
}

/// What one download of a sync did.
#[derive(Debug)]
pub struct Report {
    pub ecosystem: &'static str,
    /// The download brought in, or why not (the old file is kept: `kept`).
    pub result: Result<Synced, String>,
    pub kept: PathBuf,
}

/// Runs every job's downloads one after the other, handing each report to
/// `report` as it ends; returns how many failed.
pub async fn sync_all(
    client: &reqwest::Client,
    source: &str,
    jobs: &[Job],
    max_bytes: u64,
    timeout: Duration,
    mut report: impl FnMut(Report),
) -> usize {
    let mut failed = 0;
    for job in jobs {
        for &ecosystem in &job.ecosystems {
            let result =
                sync_ecosystem(client, source, &job.dir, ecosystem, max_bytes, timeout).await;
            failed += usize::from(result.is_err());
            report(Report {
                ecosystem,
                result,
                kept: zip_path(&job.dir, ecosystem),
            });
        }
    }
    failed
}

/// One ecosystem brought up to date.
#[derive(Debug)]
pub struct Synced {
    pub path: PathBuf,
    pub bytes: u64,
    pub advisories: usize,
}

/// Where an ecosystem's zip lives under the database directory.
pub fn zip_path(dir: &Path, ecosystem: &str) -> PathBuf {
    dir.join(ecosystem).join("all.zip")
}

/// Downloads `<source>/<ecosystem>/all.zip` into `dir/<ecosystem>/all.zip`:
/// written beside it under a name the database does not read, checked
/// (complete, a zip, every entry an OSV advisory, at least one), then
/// renamed over the old file. On any failure the old file stays and the
/// partial one is removed.
pub async fn sync_ecosystem(
    client: &reqwest::Client,
    source: &str,
    dir: &Path,
    ecosystem: &'static str,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Synced, String> {
    let target = zip_path(dir, ecosystem);
    let folder = target
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| dir.to_owned());
    tokio::fs::create_dir_all(&folder)
        .await
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let partial = folder.join(".all.zip.download");
    let result = match tokio::time::timeout(
        timeout,
        download(client, source, ecosystem, &partial, max_bytes),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the download took longer than {}s",
            timeout.as_secs()
        )),
    };
    let verified = match result {
        Ok(bytes) => {
            let check = partial.clone();
            tokio::task::spawn_blocking(move || verify(&check))
                .await
                .map_err(|e| format!("verifying failed: {e}"))
                .and_then(|r| r)
                .map(|advisories| (bytes, advisories))
        }
        Err(e) => Err(e),
    };
    let (bytes, advisories) = match verified {
        Ok(v) => v,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&partial, &target)
        .await
        .map_err(|e| format!("cannot move the download into {}: {e}", target.display()))?;
    // The rename itself reaches the disk with the directory.
    if let Ok(d) = std::fs::File::open(&folder) {
        let _ = d.sync_all();
    }
    Ok(Synced {
        path: target,
        bytes,
        advisories,
    })
}

/// Streams the zip into `partial`; returns its size. Errors say what went
/// wrong, with any credentials in the URL masked.
async fn download(
    client: &reqwest::Client,
    source: &str,
    ecosystem: &str,
    partial: &Path,
    max_bytes: u64,
) -> Result<u64, String> {
    let url = format!("{}/{ecosystem}/all.zip", source.trim_end_matches('/'));
    let shown = crate::redact::mask_url_passwords(&url);
    let mask = |e: &dyn std::fmt::Display| crate::redact::mask_url_passwords(&e.to_string());
    let mut response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("GET {shown}: {}", mask(&e)))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!("GET {shown}: answered {}", response.status()));
    }
    let expected = response.content_length();
    if expected.is_some_and(|n| n > max_bytes) {
        return Err(format!(
            "GET {shown}: {} bytes, more than --max-size {max_bytes}",
            expected.unwrap_or_default()
        ));
    }
    let mut file = tokio::fs::File::create(partial)
        .await
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let mut received = 0u64;
    loop {
        let chunk = response.chunk().await.map_err(|e| {
            format!(
                "GET {shown}: the download broke off after {received} bytes: {}",
                mask(&e)
            )
        })?;
        let Some(chunk) = chunk else { break };
        received += chunk.len() as u64;
        if received > max_bytes {
            return Err(format!(
                "GET {shown}: more than --max-size {max_bytes} bytes"
            ));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    }
    if let Some(n) = expected.filter(|n| *n != received) {
        return Err(format!(
            "GET {shown}: the download is truncated ({received} of {n} bytes)"
        ));
    }
    file.sync_all()
        .await
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    Ok(received)
}

/// Reads the downloaded zip as the database will: every `.json` entry an
/// OSV advisory. Returns the number of advisories; none is an error.
fn verify(path: &Path) -> Result<usize, String> {
    let mut db = AdvisoryDb::default();
    db.add_zip(path)
        .map_err(|e| format!("the download is not a valid OSV archive: {e}"))?;
    if db.advisories == 0 {
        return Err("the download holds no OSV advisory".into());
    }
    Ok(db.advisories)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_merge_directories_and_follow_the_flags() {
        let a = PathBuf::from("/db/a");
        let b = PathBuf::from("/db/b");
        let needs = vec![
            (a.clone(), vec!["npm", "PyPI"]),
            (b.clone(), vec![]),
            (a.clone(), vec!["npm", "Go"]),
        ];
        assert_eq!(
            jobs(needs.clone(), None, &[]),
            vec![Job {
                dir: a.clone(),
                ecosystems: vec!["Go", "PyPI", "npm"],
            }]
        );
        // --ecosystem replaces each check's ecosystems, --dir their directory.
        let one = jobs(needs, Some(Path::new("/elsewhere")), &["crates.io"]);
        assert_eq!(
            one,
            vec![Job {
                dir: PathBuf::from("/elsewhere"),
                ecosystems: vec!["crates.io"],
            }]
        );
        assert!(jobs(vec![(b, vec![])], None, &[]).is_empty());
    }
}
