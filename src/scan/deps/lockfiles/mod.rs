//! Lockfile readers, one file per format family (npm, TOML locks, pip, Go,
//! Bundler, Composer, Gradle, Mix, NuGet), and the discovery of dependency
//! files by name. Each returns the resolved packages or an error naming the
//! file and the reason; SBOMs are read by `super::sbom`.

mod bundler;
mod composer;
mod go;
mod gradle;
mod mix;
mod npm;
mod nuget;
mod pip;
mod toml_locks;

use std::path::{Path, PathBuf};

use super::sbom::{is_sbom_name, parse_sbom};
use super::versions::Ecosystem;
use super::{Package, Read};
use crate::scan::read_text;
use bundler::gemfile_lock;
use composer::composer_lock;
use go::go_mod;
use gradle::gradle_lockfile;
use mix::mix_lock;
use npm::{bun_lock, package_lock, pnpm_lock, yarn_lock};
use nuget::nuget_lock;
#[cfg(test)]
use toml_locks::toml_packages;
use toml_locks::{cargo_lock, poetry_lock, uv_lock};

/// Lockfile names this kind understands, with their ecosystem.
pub const LOCKFILES: &[(&str, Ecosystem)] = &[
    ("Cargo.lock", Ecosystem::CratesIo),
    ("package-lock.json", Ecosystem::Npm),
    ("npm-shrinkwrap.json", Ecosystem::Npm),
    ("yarn.lock", Ecosystem::Npm),
    ("pnpm-lock.yaml", Ecosystem::Npm),
    ("bun.lock", Ecosystem::Npm),
    ("poetry.lock", Ecosystem::PyPI),
    ("uv.lock", Ecosystem::PyPI),
    ("requirements.txt", Ecosystem::PyPI),
    ("Pipfile.lock", Ecosystem::PyPI),
    ("go.mod", Ecosystem::Go),
    ("Gemfile.lock", Ecosystem::RubyGems),
    ("mix.lock", Ecosystem::Hex),
    ("composer.lock", Ecosystem::Packagist),
    ("gradle.lockfile", Ecosystem::Maven),
    ("packages.lock.json", Ecosystem::NuGet),
];

/// Accepted when named explicitly, read as the lockfile next to them: `go.sum`
/// lists every version Go looked at, not the ones it selected, so the
/// module's `go.mod` decides.
const ALIASES: &[(&str, &str)] = &[("go.sum", "go.mod")];

/// Whether a file is a pip requirements file by pip's conventions:
/// `requirements*.txt`, or any `.txt` in a `requirements/` directory.
fn is_requirements(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let in_dir = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == "requirements");
    name.ends_with(".txt") && (name.starts_with("requirements") || in_dir)
}

/// The lockfile name a file is read as (`go.sum` reads its `go.mod`,
/// `requirements-dev.txt` is a `requirements.txt`).
fn lockfile_name(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    if is_requirements(path) {
        return Some("requirements.txt");
    }
    Some(
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, target)| target),
    )
}

/// The ecosystem of a lockfile name listed in [`LOCKFILES`].
fn listed(name: &str) -> Option<Ecosystem> {
    LOCKFILES.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

fn ecosystem_of(path: &Path) -> Option<Ecosystem> {
    listed(lockfile_name(path)?)
}

fn is_sbom(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_sbom_name)
}

/// Whether a file found in a tree is read as a lockfile or an SBOM (an
/// alias such as `go.sum` is read only when named: its own lockfile is found).
pub fn is_dependency_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    name.and_then(listed).is_some() || is_requirements(path) || is_sbom(path)
}

/// The ecosystems a dependency file speaks for; an SBOM is read for them
/// (and says none when it cannot be read: the check reports why).
pub fn ecosystems_of(path: &Path) -> Vec<Ecosystem> {
    if is_sbom(path) {
        return parse_lockfile(path)
            .map(|d| d.groups.into_iter().map(|(e, _)| e).collect())
            .unwrap_or_default();
    }
    ecosystem_of(path).into_iter().collect()
}

/// What a search of a tree found: the dependency files, and every place it
/// did not look into, each with why.
#[derive(Debug, Default)]
pub struct Found {
    pub files: Vec<PathBuf>,
    /// Not read, and it may matter: a dependency file behind a symbolic
    /// link, an entry that could not be read, a directory at the depth limit.
    pub skipped: Vec<String>,
    /// Not searched by design: installed packages (`node_modules`), build
    /// output (`target`), git's own data (`.git`). Listed, not counted.
    pub not_searched: Vec<String>,
}

/// Directories whose files are not the project's dependency files.
const NOT_SEARCHED: &[(&str, &str)] = &[
    (
        "node_modules",
        "installed packages, not the project's lockfile",
    ),
    ("target", "build output"),
    (".git", "git's own data"),
];

/// Finds lockfiles under `root` (every one, gitignored or not; no symlinks;
/// not inside `node_modules`, `target` or `.git`), saying what it skipped.
pub fn find_lockfiles(root: &Path, max_depth: usize) -> Result<Found, String> {
    if !root.is_dir() {
        return Err(format!("{} is not a readable directory", root.display()));
    }
    let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let mut found = Found::default();
    // No ignore file hides a lockfile: a gitignored lockfile may still be
    // tracked and shipped, and outside git `.gitignore` means nothing.
    let pruned = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let pruning = std::sync::Arc::clone(&pruned);
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .max_depth(Some(max_depth))
        .filter_entry(move |e| {
            let name = e.file_name().to_str().unwrap_or_default();
            let dir = e.file_type().is_some_and(|t| t.is_dir()) && e.depth() > 0;
            match NOT_SEARCHED.iter().find(|(n, _)| *n == name) {
                Some((_, why)) if dir => {
                    if let Ok(mut list) = pruning.lock() {
                        list.push((e.path().to_path_buf(), *why));
                    }
                    false
                }
                _ => true,
            }
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                found.skipped.push(format!("cannot be read: {e}"));
                continue;
            }
        };
        let Some(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() && entry.depth() > 0 {
            if entry.depth() == max_depth
                && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some())
            {
                found.skipped.push(format!(
                    "{} (its contents are deeper than max_depth {max_depth})",
                    shown(path)
                ));
            }
        } else if kind.is_symlink() && is_dependency_file(path) {
            found
                .skipped
                .push(format!("{} (a symbolic link, not followed)", shown(path)));
        } else if kind.is_file() && is_dependency_file(path) {
            found.files.push(path.to_path_buf());
        }
    }
    found.files.sort();
    if let Ok(mut list) = pruned.lock() {
        list.sort();
        found.not_searched = list
            .iter()
            .filter(|(p, _)| !p.ends_with(".git"))
            .map(|(p, why)| format!("{} ({why})", shown(p)))
            .collect();
    }
    Ok(found)
}

/// Largest lockfile read.
const MAX_LOCKFILE: u64 = 64 * 1024 * 1024;

/// The packages of one lockfile or SBOM, by ecosystem.
#[derive(Debug, Default)]
pub struct Dependencies {
    pub groups: Vec<(Ecosystem, Vec<Package>)>,
    /// Entries no advisory can speak for: SBOM components without a usable
    /// package URL, local, git or tarball sources, unpinned requirements.
    pub unjudged: Vec<String>,
}

/// Parses a lockfile by its file name, or an SBOM.
pub fn parse_lockfile(path: &Path) -> Result<Dependencies, String> {
    let located = |e: String| format!("{}: {e}", path.display());
    if is_sbom(path) {
        let text = read_text(path, MAX_LOCKFILE)?;
        let sbom = parse_sbom(&text).map_err(located)?;
        return Ok(Dependencies {
            groups: sbom
                .groups
                .into_iter()
                .map(|(e, list)| (e, sorted(list)))
                .collect(),
            unjudged: sbom.unjudged,
        });
    }
    let eco =
        ecosystem_of(path).ok_or_else(|| located("not a known lockfile or SBOM name".into()))?;
    let name = lockfile_name(path).unwrap_or_default();
    let path = if name == "requirements.txt" {
        path.to_owned()
    } else {
        path.with_file_name(name)
    };
    // pip reads requirements files in UTF-16 too, by their byte-order mark.
    let text = if name == "requirements.txt" {
        crate::files::read_text_bom(&path, MAX_LOCKFILE)?
    } else {
        read_text(&path, MAX_LOCKFILE)?
    };
    let read = match name {
        "go.mod" => {
            let sum = path.with_file_name("go.sum");
            let sum = sum
                .exists()
                .then(|| read_text(&sum, MAX_LOCKFILE))
                .transpose()?;
            go_mod(&text, sum.as_deref())
        }
        "requirements.txt" => pip::requirements_file(&path, &text),
        "Cargo.lock" => cargo_lock(&text).map(|mut read| {
            // The workspace's own crates are the project, not dependencies
            // (as npm's root entry): only other path crates stay unjudged.
            let own = toml_locks::workspace_crates(&path.with_file_name("Cargo.toml"));
            read.unjudged
                .retain(|u| !own.iter().any(|name| u.starts_with(&format!("{name}@"))));
            read
        }),
        _ => parse_lockfile_text(name, &text),
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Dependencies {
        groups: vec![(eco, sorted(read.packages))],
        unjudged: read.unjudged,
    })
}

fn sorted(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort();
    packages.dedup();
    packages
}

/// Parses a lockfile's text by its file name (`Cargo.lock`, `yarn.lock` ...),
/// its packages sorted and without duplicates (a requirements file's
/// includes are listed as unjudged: reading them needs its location).
pub fn parse_lockfile_text(name: &str, text: &str) -> Result<Read, String> {
    let mut read = match name {
        "Cargo.lock" => cargo_lock(text)?,
        "poetry.lock" => poetry_lock(text)?,
        "package-lock.json" | "npm-shrinkwrap.json" => package_lock(text)?,
        "yarn.lock" => yarn_lock(text)?,
        "pnpm-lock.yaml" => pnpm_lock(text)?,
        "bun.lock" => bun_lock(text)?,
        "uv.lock" => uv_lock(text)?.into(),
        "requirements.txt" => pip::requirements(text)?,
        "Pipfile.lock" => pip::pipfile_lock(text)?,
        "go.mod" => go_mod(text, None)?,
        "Gemfile.lock" => gemfile_lock(text)?,
        "mix.lock" => mix_lock(text)?,
        "composer.lock" => composer_lock(text)?,
        "gradle.lockfile" => gradle_lockfile(text)?,
        "packages.lock.json" => nuget_lock(text)?.into(),
        _ => return Err("not a known lockfile name".into()),
    };
    read.packages = sorted(read.packages);
    Ok(read)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tool_tests;
