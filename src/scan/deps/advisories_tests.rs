//! The advisory database: loading once, OSV range semantics.

use super::*;

/// A database is read once and again only when its files change.
#[test]
fn databases_are_loaded_once_and_again_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories/osv/npm");
    let first = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let copy = dir.path().join("a.json");
    std::fs::copy(&first, &copy).unwrap();
    let cancel = Cancel::new();
    let a = AdvisoryDb::load_cached(dir.path(), &cancel).unwrap();
    let b = AdvisoryDb::load_cached(dir.path(), &cancel).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "loaded twice without a change");
    // A new file is a change.
    std::fs::copy(&first, dir.path().join("b.json")).unwrap();
    let c = AdvisoryDb::load_cached(dir.path(), &cancel).unwrap();
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!(c.files, 2);
}

fn ev(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn osv_ranges_follow_the_spec() {
    let r = ev(&[("introduced", "3.7.0"), ("fixed", "4.17.19")]);
    assert_eq!(osv_range_affects(Ecosystem::Npm, &r, "4.17.15"), Some(true));
    assert_eq!(
        osv_range_affects(Ecosystem::Npm, &r, "4.17.19"),
        Some(false)
    );
    assert_eq!(osv_range_affects(Ecosystem::Npm, &r, "3.6.0"), Some(false));
    let r = ev(&[("introduced", "0"), ("last_affected", "1.2.0")]);
    assert_eq!(osv_range_affects(Ecosystem::PyPI, &r, "1.2.0"), Some(true));
    assert_eq!(osv_range_affects(Ecosystem::PyPI, &r, "1.2.1"), Some(false));
    let r = ev(&[
        ("introduced", "1.0.0"),
        ("fixed", "1.0.5"),
        ("introduced", "2.0.0"),
        ("fixed", "2.0.1"),
    ]);
    assert_eq!(
        osv_range_affects(Ecosystem::CratesIo, &r, "2.0.0"),
        Some(true)
    );
    assert_eq!(
        osv_range_affects(Ecosystem::CratesIo, &r, "1.5.0"),
        Some(false)
    );
}
