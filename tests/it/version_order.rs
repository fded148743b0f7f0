//! Version ordering against the package managers' own: tables that
//! Composer 2.5.5 (`Composer\Semver`, composer-order.php) and Maven 3.8.7
//! (`ComparableVersion`, MavenOrder.java) wrote by sorting the versions of
//! tests/fixtures/versions/*-versions.txt (README there).

use std::cmp::Ordering;

use prodready_exporter::scan::deps::versions::{compare, Ecosystem};

/// `rank<TAB>version` lines (equal versions share a rank) and the versions
/// the tool refused (`invalid<TAB>version`).
fn table(name: &str) -> (Vec<(u32, String)>, Vec<String>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/versions")
        .join(name);
    let (mut ranked, mut invalid) = (Vec::new(), Vec::new());
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let (rank, version) = line.split_once('\t').unwrap();
        match rank {
            "invalid" => invalid.push(version.to_owned()),
            n => ranked.push((n.parse().unwrap(), version.to_owned())),
        }
    }
    (ranked, invalid)
}

/// Every pair ours orders is ordered as the tool orders it; the versions
/// ours cannot order are exactly `unordered` (they are reported as not
/// verified, never passed).
fn agrees(eco: Ecosystem, name: &str, unordered: &[&str]) -> usize {
    let (ranked, invalid) = table(name);
    let mut wrong = Vec::new();
    let mut none = std::collections::BTreeSet::new();
    let mut pairs = 0;
    for (ra, a) in &ranked {
        for (rb, b) in &ranked {
            match compare(eco, a, b) {
                Some(ours) if ours == ra.cmp(rb) => pairs += 1,
                Some(ours) => {
                    wrong.push(format!("{a} vs {b}: ours {ours:?}, tool {:?}", ra.cmp(rb)))
                }
                None => {
                    none.insert(if compare(eco, a, a).is_none() { a } else { b }.clone());
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} pairs ordered unlike the tool:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let none: Vec<&str> = none.iter().map(String::as_str).collect();
    assert_eq!(none, unordered, "versions ours cannot order");
    for v in &invalid {
        assert_eq!(compare(eco, v, "1.0.0"), None, "{v}: the tool refuses it");
    }
    pairs
}

#[test]
fn composer_orders_as_composer_semver() {
    // Branches (`dev-main`, `1.x-dev`) are no release to compare with a
    // range; `1.0.0-beta.1.2` has a dotted pre-release number.
    let pairs = agrees(
        Ecosystem::Packagist,
        "composer-order.tsv",
        &[
            "1.0.0-beta.1.2",
            "1.x-dev",
            "2.0.x-dev",
            "dev-main",
            "dev-master",
        ],
    );
    assert!(pairs > 3_500, "{pairs}");
}

#[test]
fn maven_orders_as_comparable_version() {
    let pairs = agrees(Ecosystem::Maven, "maven-order.tsv", &[]);
    assert!(pairs > 3_000, "{pairs}");
    assert_eq!(
        compare(Ecosystem::Maven, "1.0", "1.0"),
        Some(Ordering::Equal)
    );
}
