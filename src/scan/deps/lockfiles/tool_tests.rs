//! Lockfiles Go, Bundler, Composer and Mix wrote (tests/fixtures/lockfiles,
//! README there), read against the tool's own listing of them.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lockfiles")
        .join(name)
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn packages(deps: &Dependencies) -> BTreeSet<String> {
    deps.groups
        .iter()
        .flat_map(|(_, list)| list.iter().map(|p| format!("{}@{}", p.name, p.version)))
        .collect()
}

/// `go list -m all`: `module version`, `module version => new version`, or
/// `module version => ./dir`; the main module has no version.
fn go_list(listing: &str) -> (BTreeSet<String>, Vec<String>) {
    let (mut modules, mut local) = (BTreeSet::new(), Vec::new());
    for line in listing.lines() {
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            [_, _, "=>", new, version] => modules.insert(format!("{new}@{version}")),
            [module, _, "=>", _dir] => {
                local.push((*module).to_owned());
                false
            }
            [module, version] => modules.insert(format!("{module}@{version}")),
            _ => false,
        };
    }
    (modules, local)
}

/// Go 1.19 wrote both modules from a file:// module proxy: at `go 1.19`
/// go.mod lists the build; at `go 1.16` go.sum supplies what go.mod leaves
/// out (golang.org/x/text v0.3.6, required only by example.com/lib). Either
/// way the modules read are those `go list -m all` lists, replacements
/// applied, and the local replacement is listed as unjudged.
#[test]
fn go_modules_read_as_go_list_lists_them() {
    for (fixture, go) in [("go-1.19", "1.19.0"), ("go-1.16", "1.16.0")] {
        let root = dir(fixture);
        let deps = parse_lockfile(&root.join("go.mod")).unwrap();
        let mut ours = packages(&deps);
        assert!(ours.remove(&format!("stdlib@{go}")), "{fixture}: {ours:?}");
        let (listed, local) = go_list(&text(&root.join("go-list-m-all.txt")));
        assert_eq!(ours, listed, "{fixture}");
        assert_eq!(local, ["example.com/localdep"]);
        assert_eq!(deps.unjudged.len(), 1, "{fixture}: {:?}", deps.unjudged);
        assert!(deps.unjudged[0].starts_with("example.com/localdep@v0.1.0"));
        // go.sum named instead of go.mod reads the same.
        let via_sum = parse_lockfile(&root.join("go.sum")).unwrap();
        assert_eq!(packages(&via_sum), packages(&deps));
    }
    assert!(
        packages(&parse_lockfile(&dir("go-1.16").join("go.mod")).unwrap())
            .contains("golang.org/x/text@v0.3.6")
    );
}

/// Bundler 2.3.15 locked gems from a local gem server, a git repository and
/// a path; `Bundler::LockfileParser` lists every spec with its source.
#[test]
fn gemfile_lock_reads_as_bundlers_parser() {
    let root = dir("bundler");
    let deps = parse_lockfile(&root.join("Gemfile.lock")).unwrap();
    let (mut registry, mut other) = (BTreeSet::new(), BTreeSet::new());
    for line in text(&root.join("bundler-specs.txt")).lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let entry = format!("{}@{}", f[0], f[1]);
        if f[3] == "Rubygems" {
            registry.insert(entry);
        } else {
            other.insert(entry);
        }
    }
    assert_eq!(packages(&deps), registry);
    let unjudged: BTreeSet<String> = deps
        .unjudged
        .iter()
        .map(|u| u.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(unjudged, other);
    assert!(deps.unjudged.iter().any(|u| u.ends_with("(git source)")));
    assert!(deps.unjudged.iter().all(|u| !u.contains("/tmp")));
}

/// Composer 2.5.5 locked packages from a package repository and a path
/// repository; `composer show --locked` lists them all.
#[test]
fn composer_lock_reads_as_composer_show_lists_it() {
    let root = dir("composer");
    let deps = parse_lockfile(&root.join("composer.lock")).unwrap();
    let shown: serde_json::Value =
        serde_json::from_str(&text(&root.join("composer-show-locked.json"))).unwrap();
    let mut listed: BTreeSet<String> = shown["locked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            // A branch is shown with its commit (`dev-main 0123456`).
            let version = p["version"].as_str().unwrap().split(' ').next().unwrap();
            format!("{}@{version}", p["name"].as_str().unwrap())
        })
        .collect();
    assert!(listed.remove("acme/local@0.3.0"));
    assert_eq!(packages(&deps), listed);
    assert_eq!(deps.unjudged, ["acme/local@0.3.0 (path repository)"]);
}

/// mix 1.14 wrote the git entry; the Hex entries follow Hex's lock format
/// (Hex itself cannot be fetched here). Elixir evaluating the file lists
/// each entry with its source and, for Hex, the package, version and
/// repository.
#[test]
fn mix_lock_reads_as_elixir_evaluates_it() {
    let root = dir("mix");
    let deps = parse_lockfile(&root.join("mix.lock")).unwrap();
    let (mut public, mut rest) = (BTreeSet::new(), BTreeSet::new());
    for line in text(&root.join("mix-lock-entries.txt")).lines() {
        match line.split(' ').collect::<Vec<_>>().as_slice() {
            [_, "hex", name, version, "hexpm"] => public.insert(format!("{name}@{version}")),
            [_, "hex", name, version, _] => rest.insert(format!("{name}@{version}")),
            [key, _] => rest.insert((*key).to_owned()),
            other => panic!("{other:?}"),
        };
    }
    assert_eq!(packages(&deps), public);
    let unjudged: BTreeSet<String> = deps
        .unjudged
        .iter()
        .map(|u| u.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(unjudged, rest);
}
