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
use super::Package;
use crate::scan::read_text;
use bundler::gemfile_lock;
use composer::composer_lock;
use go::go_mod;
use gradle::gradle_lockfile;
use mix::mix_lock;
use npm::{package_lock, pnpm_lock, yarn_lock};
use nuget::nuget_lock;
use pip::requirements;
use toml_locks::{toml_packages, uv_lock};

/// Lockfile names this kind understands, with their ecosystem.
pub const LOCKFILES: &[(&str, Ecosystem)] = &[
    ("Cargo.lock", Ecosystem::CratesIo),
    ("package-lock.json", Ecosystem::Npm),
    ("yarn.lock", Ecosystem::Npm),
    ("pnpm-lock.yaml", Ecosystem::Npm),
    ("poetry.lock", Ecosystem::PyPI),
    ("uv.lock", Ecosystem::PyPI),
    ("requirements.txt", Ecosystem::PyPI),
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

/// The lockfile name a file is read as (`go.sum` reads its `go.mod`).
fn lockfile_name(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
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
    name.and_then(listed).is_some() || is_sbom(path)
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

/// Finds lockfiles under `root` (honouring .gitignore, no symlinks).
pub fn find_lockfiles(root: &Path, max_depth: usize) -> Result<Vec<PathBuf>, String> {
    if !root.is_dir() {
        return Err(format!("{} is not a readable directory", root.display()));
    }
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .require_git(false)
        .follow_links(false)
        .max_depth(Some(max_depth))
        .filter_entry(|e| e.file_name() != "node_modules" && e.file_name() != "target")
        .build();
    for entry in walker.flatten() {
        if entry.file_type().is_some_and(|t| t.is_file()) && is_dependency_file(entry.path()) {
            found.push(entry.into_path());
        }
    }
    found.sort();
    Ok(found)
}

/// Largest lockfile read.
const MAX_LOCKFILE: u64 = 64 * 1024 * 1024;

/// The packages of one lockfile or SBOM, by ecosystem.
#[derive(Debug, Default)]
pub struct Dependencies {
    pub groups: Vec<(Ecosystem, Vec<Package>)>,
    /// SBOM components no ecosystem here can judge (see [`super::sbom::Sbom::unjudged`]).
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
    let path = path.with_file_name(name);
    let text = read_text(&path, MAX_LOCKFILE)?;
    let packages = if name == "go.mod" {
        let sum = path.with_file_name("go.sum");
        let sum = sum
            .exists()
            .then(|| read_text(&sum, MAX_LOCKFILE))
            .transpose()?;
        go_mod(&text, sum.as_deref()).map(sorted)
    } else {
        parse_lockfile_text(name, &text)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Dependencies {
        groups: vec![(eco, packages)],
        unjudged: Vec::new(),
    })
}

fn sorted(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort();
    packages.dedup();
    packages
}

/// Parses a lockfile's text by its file name (`Cargo.lock`, `yarn.lock` ...),
/// sorted and without duplicates.
pub fn parse_lockfile_text(name: &str, text: &str) -> Result<Vec<Package>, String> {
    let packages = match name {
        "Cargo.lock" | "poetry.lock" => toml_packages(text)?,
        "package-lock.json" => package_lock(text)?,
        "yarn.lock" => yarn_lock(text)?,
        "pnpm-lock.yaml" => pnpm_lock(text)?,
        "uv.lock" => uv_lock(text)?,
        "requirements.txt" => requirements(text),
        "go.mod" => go_mod(text, None)?,
        "Gemfile.lock" => gemfile_lock(text)?,
        "mix.lock" => mix_lock(text)?,
        "composer.lock" => composer_lock(text)?,
        "gradle.lockfile" => gradle_lockfile(text)?,
        "packages.lock.json" => nuget_lock(text)?,
        _ => return Err("not a known lockfile name".into()),
    };
    Ok(sorted(packages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: Vec<Package>) -> Vec<String> {
        let mut v: Vec<String> = v
            .into_iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn parses_pnpm_lockfiles_of_each_version() {
        let v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      lodash:\n        specifier: ^4.17.0\n        version: 4.17.20\npackages:\n  lodash@4.17.20:\n    resolution: {integrity: sha512-x}\n  '@babel/core@7.24.0':\n    resolution: {integrity: sha512-y}\n  react-dom@18.2.0(react@18.2.0):\n    resolution: {integrity: sha512-z}\n  local@file:../local:\n    resolution: {directory: ../local}\nsnapshots:\n  lodash@4.17.20: {}\n";
        assert_eq!(
            names(pnpm_lock(v9).unwrap()),
            ["@babel/core@7.24.0", "lodash@4.17.20", "react-dom@18.2.0"]
        );
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /lodash@4.17.15:\n    resolution: {integrity: sha512-x}\n    dev: false\n  /@scope/pkg@1.2.3(peer@2.0.0):\n    resolution: {integrity: sha512-y}\n";
        assert_eq!(
            names(pnpm_lock(v6).unwrap()),
            ["@scope/pkg@1.2.3", "lodash@4.17.15"]
        );
        let v5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.15:\n    resolution: {integrity: sha512-x}\n  /@scope/pkg/1.2.3_peer@2.0.0:\n    resolution: {integrity: sha512-y}\n";
        assert_eq!(
            names(pnpm_lock(v5).unwrap()),
            ["@scope/pkg@1.2.3", "lodash@4.17.15"]
        );
        assert!(pnpm_lock("packages: {}\n")
            .unwrap_err()
            .contains("lockfileVersion"));
        assert!(pnpm_lock("lockfileVersion: '9.0'\n").unwrap().is_empty());
    }

    #[test]
    fn parses_uv_lockfiles_without_the_project_itself() {
        let lock = "version = 1\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n\n[[package]]\nname = \"requests\"\nversion = \"2.25.1\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"tool\"\nsource = { virtual = \"tools\" }\n";
        assert_eq!(names(uv_lock(lock).unwrap()), ["requests@2.25.1"]);
        assert!(
            uv_lock("version = 1\n[[package]]\nname = \"x\"\nsource = { registry = \"r\" }\n")
                .unwrap_err()
                .contains("no version")
        );
    }

    #[test]
    fn go_mod_gives_the_selected_versions() {
        // Go 1.17+: go.mod lists every module of the build; go.sum's other
        // versions (looked at, not selected) are not packages.
        let gomod = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text v0.3.7\n\tgithub.com/a/b v1.2.0 // indirect\n\tgithub.com/local/x v0.1.0\n)\n\nrequire gopkg.in/yaml.v3 v3.0.0\n\nreplace github.com/a/b v1.2.0 => github.com/fork/b v1.2.1\nreplace github.com/local/x => ../x\n";
        let gosum = "golang.org/x/text v0.3.0/go.mod h1:a=\ngolang.org/x/text v0.3.7 h1:b=\n";
        assert_eq!(
            names(go_mod(gomod, Some(gosum)).unwrap()),
            [
                "github.com/fork/b@v1.2.1",
                "golang.org/x/text@v0.3.7",
                "gopkg.in/yaml.v3@v3.0.0"
            ]
        );
        // Before 1.17 go.sum completes the list with the highest version
        // whose source was downloaded.
        let old = "module example.com/app\ngo 1.16\nrequire golang.org/x/text v0.3.5\n";
        let sum = "golang.org/x/text v0.3.5 h1:a=\ngolang.org/x/text v0.3.7 h1:b=\ngolang.org/x/net v0.1.0/go.mod h1:c=\ngolang.org/x/net v0.0.9 h1:d=\n";
        assert_eq!(
            names(go_mod(old, Some(sum)).unwrap()),
            ["golang.org/x/net@v0.0.9", "golang.org/x/text@v0.3.7"]
        );
        assert!(go_mod(old, None).unwrap_err().contains("no go.sum"));
    }

    #[test]
    fn parses_nuget_lockfiles_without_projects() {
        let lock = r#"{"version": 1, "dependencies": {"net8.0": {"Newtonsoft.Json": {"type": "Direct", "requested": "[12.0.1, )", "resolved": "12.0.1", "contentHash": "x"}, "System.Text.Json": {"type": "Transitive", "resolved": "8.0.0"}, "Shared": {"type": "Project", "dependencies": {"Newtonsoft.Json": "[12.0.1, )"}}}, "net6.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "12.0.1"}}}}"#;
        assert_eq!(
            names(sorted(nuget_lock(lock).unwrap())),
            ["Newtonsoft.Json@12.0.1", "System.Text.Json@8.0.0"]
        );
        assert!(nuget_lock(r#"{"version": 1}"#).is_err());
        assert!(
            nuget_lock(r#"{"dependencies": {"net8.0": {"A": {"type": "Direct"}}}}"#)
                .unwrap_err()
                .contains("A has no resolved version")
        );
    }

    #[test]
    fn parses_composer_and_gradle_lockfiles() {
        let composer = r#"{"_readme": [], "packages": [{"name": "symfony/http-kernel", "version": "v5.4.20"}, {"name": "acme/lib", "version": "dev-main"}], "packages-dev": [{"name": "phpunit/phpunit", "version": "9.6.3"}]}"#;
        assert_eq!(
            names(composer_lock(composer).unwrap()),
            [
                "acme/lib@dev-main",
                "phpunit/phpunit@9.6.3",
                "symfony/http-kernel@v5.4.20"
            ]
        );
        let gradle = "# This is a Gradle generated file for dependency locking.\n# Manual edits can break the build and are not advised.\n# This file is expected to be part of source control.\ncom.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\norg.apache.logging.log4j:log4j-core:2.14.1=runtimeClasspath\nempty=annotationProcessor\n";
        assert_eq!(
            names(gradle_lockfile(gradle).unwrap()),
            [
                "com.google.guava:guava@31.1-jre",
                "org.apache.logging.log4j:log4j-core@2.14.1"
            ]
        );
    }

    #[test]
    fn parses_each_format() {
        assert_eq!(
            names(
                toml_packages("version = 3\n[[package]]\nname = \"time\"\nversion = \"0.1.45\"\n")
                    .unwrap()
            ),
            ["time@0.1.45"]
        );
        let v3 = r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15"}, "node_modules/a/node_modules/@scope/b": {"version": "1.0.0"}, "node_modules/linked": {"link": true}}}"#;
        assert_eq!(
            names(package_lock(v3).unwrap()),
            ["@scope/b@1.0.0", "lodash@4.17.15"]
        );
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {"lodash": {"version": "4.17.15", "dependencies": {"x": {"version": "1.0.0"}}}}}"#;
        assert_eq!(
            names(package_lock(v1).unwrap()),
            ["lodash@4.17.15", "x@1.0.0"]
        );
        let yarn = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.8.3\":\n  version \"7.8.3\"\n  resolved \"x\"\n\nlodash@^4.17.15:\n  version \"4.17.15\"\n";
        assert_eq!(
            names(yarn_lock(yarn).unwrap()),
            ["@babel/code-frame@7.8.3", "lodash@4.17.15"]
        );
        let req = "# pinned\nDjango==3.2.1 ; python_version >= '3.8'\nrequests[socks]==2.25.1 \\\n    --hash=sha256:abc\nflask>=2.0\n-r other.txt\n";
        assert_eq!(
            names(requirements(req)),
            ["Django@3.2.1", "requests@2.25.1"]
        );
        let gem = "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n";
        assert_eq!(
            names(gemfile_lock(gem).unwrap()),
            ["nokogiri@1.13.10", "rack@2.2.3"]
        );
        let mix = "%{\n  \"plug\": {:hex, :plug, \"1.14.0\", \"abc\", [:mix], [], \"hexpm\", \"def\"},\n}\n";
        assert_eq!(names(mix_lock(mix).unwrap()), ["plug@1.14.0"]);
    }

    #[test]
    fn bad_input_is_an_error_not_a_silent_pass() {
        assert!(package_lock("{\"packages\": {\"node_modules/a\": {\"version\"").is_err());
        assert!(toml_packages("[[package]\nname=").is_err());
        assert!(go_mod("module x\ngo 1.21\nrequire (\n  a v1\n", None).is_err());
        assert!(go_mod("module x\nrequire a\n", None).is_err());
        assert!(go_mod("module x\n", None).is_err());
        assert!(go_mod("module x\ngo 1.16\n", Some("only-one-field\n")).is_err());
        assert!(composer_lock("{\"packages\": [{\"name\": \"a/b\"}]}").is_err());
        assert!(composer_lock("{}").is_err());
        assert!(gradle_lockfile("com.example:lib=runtimeClasspath\n").is_err());
        assert!(yarn_lock("this is not a lockfile at all").is_err());
    }
}
