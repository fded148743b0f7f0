//! Version ordering per ecosystem: semver (crates.io, npm, Hex, Go with its
//! `v` prefix), PEP 440 (PyPI, by `pep440_rs`), RubyGems (by `gem_version`),
//! Maven's and Composer's qualifiers, NuGet; and CVSS v3/v4 base scores (by
//! `cvss`).

use std::cmp::Ordering;

/// Package ecosystems, named as OSV names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    CratesIo,
    Npm,
    PyPI,
    Go,
    RubyGems,
    Hex,
    Packagist,
    Maven,
    NuGet,
}

impl Ecosystem {
    /// Every ecosystem the database understands.
    pub const ALL: [Ecosystem; 9] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Hex,
        Ecosystem::Packagist,
        Ecosystem::Maven,
        Ecosystem::NuGet,
    ];

    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Hex => "Hex",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Maven => "Maven",
            Ecosystem::NuGet => "NuGet",
        }
    }

    pub fn from_osv(name: &str) -> Option<Ecosystem> {
        // OSV may qualify ecosystems (`Debian:12`); only the base name matters here.
        let base = name.split(':').next().unwrap_or_default();
        Ecosystem::ALL.into_iter().find(|e| e.osv_name() == base)
    }

    /// Package names as the ecosystem compares them (PyPI normalizes).
    pub fn normalize(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let lower = name.to_lowercase();
                let mut out = String::with_capacity(lower.len());
                let mut last_sep = false;
                for c in lower.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !last_sep {
                            out.push('-');
                        }
                        last_sep = true;
                    } else {
                        out.push(c);
                        last_sep = false;
                    }
                }
                out
            }
            // Package ids that the registry compares case-insensitively.
            Ecosystem::NuGet | Ecosystem::Packagist => name.to_lowercase(),
            _ => name.to_owned(),
        }
    }
}

/// Compares two versions of an ecosystem; `None` when either cannot be read.
pub fn compare(eco: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    match eco {
        // PEP 440, by `pep440_rs`.
        Ecosystem::PyPI => by_key(a, b, |v| v.trim().parse::<pep440_rs::Version>().ok()),
        Ecosystem::RubyGems => by_key(a, b, gem_key),
        Ecosystem::Maven => by_key(a, b, |v| {
            qualified_key(v, MAVEN_QUALIFIERS, Some(MAVEN_OTHER_QUALIFIERS))
        }),
        Ecosystem::Packagist => by_key(a, b, composer_key),
        Ecosystem::NuGet => by_key(a, b, nuget_key),
        _ => {
            // SemVer 2.0.0 precedence: build metadata (`+...`) does not count.
            let parse = |v: &str| {
                semver::Version::parse(v.trim().trim_start_matches('v'))
                    .ok()
                    .map(|v| (v.major, v.minor, v.patch, v.pre))
            };
            match (parse(a), parse(b)) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => Some(generic_cmp(a, b)),
            }
        }
    }
}

/// Orders two versions by their sort keys; `None` when either has none.
fn by_key<K: Ord>(a: &str, b: &str, key: impl Fn(&str) -> Option<K>) -> Option<Ordering> {
    Some(key(a)?.cmp(&key(b)?))
}

/// Splits into numeric and non-numeric runs and compares them in order.
fn generic_cmp(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| -> Vec<(u128, String)> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut numeric = None;
        for c in s.trim_start_matches('v').chars() {
            let is_digit = c.is_ascii_digit();
            if numeric.is_some_and(|n| n != is_digit) || !c.is_ascii_alphanumeric() {
                if !cur.is_empty() {
                    out.push(run(&cur));
                }
                cur.clear();
            }
            if c.is_ascii_alphanumeric() {
                cur.push(c);
                numeric = Some(is_digit);
            } else {
                numeric = None;
            }
        }
        if !cur.is_empty() {
            out.push(run(&cur));
        }
        out
    };
    fn run(s: &str) -> (u128, String) {
        match s.parse::<u128>() {
            Ok(n) => (n, String::new()),
            Err(_) => (0, s.to_owned()),
        }
    }
    parts(a).cmp(&parts(b))
}

/// RubyGems' `Gem::Version`, by `gem_version`. The crate reads an empty
/// string as "0"; here it is no version.
fn gem_key(v: &str) -> Option<gem_version::GemVersion> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    v.parse().ok()
}

/// Maven's qualifiers in `ComparableVersion` order (aliases share a rank):
/// pre-releases below the release (`""`, `ga`, `final`, `release`), `sp`
/// above it. Other qualifiers sort after `sp`, by name.
const MAVEN_QUALIFIERS: &[(&str, u8)] = &[
    ("alpha", 0),
    ("a", 0),
    ("beta", 1),
    ("b", 1),
    ("milestone", 2),
    ("m", 2),
    ("rc", 3),
    ("cr", 3),
    ("snapshot", 4),
    ("", 5),
    ("ga", 5),
    ("final", 5),
    ("release", 5),
    ("sp", 6),
];

/// The rank of Maven qualifiers not in [`MAVEN_QUALIFIERS`]: after `sp`.
const MAVEN_OTHER_QUALIFIERS: u8 = 7;

/// Composer's stabilities in `version_compare` order: `dev` < `alpha` <
/// `beta` < `RC` < the release < patch levels (`pl`, `p`). Composer rejects
/// other suffixes, so they cannot be compared.
const COMPOSER_QUALIFIERS: &[(&str, u8)] = &[
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("rc", 3),
    ("", 4),
    ("stable", 4),
    ("patch", 5),
    ("pl", 5),
    ("p", 5),
];

/// Composer's version: at most four numbers, no `_`, build metadata
/// dropped (`1.0.0+build1` is 1.0.0), as `VersionParser::normalize`.
fn composer_key(v: &str) -> Option<QualifiedKey> {
    let v = v.split_once('+').map_or(v, |(v, _)| v);
    let numbers = v
        .trim_start_matches(['v', 'V'])
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap_or_default();
    if v.contains('_') || numbers.split('.').filter(|n| !n.is_empty()).count() > 4 {
        return None;
    }
    qualified_key(v, COMPOSER_QUALIFIERS, None)
}

/// Sort key of a version made of numeric release segments and at most one
/// qualifier with an optional number (`31.1-jre`, `1.0-rc2`, `v2.3.4-beta.1`,
/// `5.4.2.Final`): trailing zero segments are dropped so `1.0` equals `1`.
/// `None` when the version has another shape, or (without `others`) a
/// qualifier the table does not know.
type QualifiedKey = (Vec<u64>, u8, String, u64);

fn qualified_key(v: &str, table: &[(&str, u8)], others: Option<u8>) -> Option<QualifiedKey> {
    let v = v.trim().trim_start_matches(['v', 'V']).to_ascii_lowercase();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (numbers, rest) = v.split_at(split);
    let numbers = numbers.strip_suffix('.').unwrap_or(numbers);
    let mut release: Vec<u64> = numbers
        .split('.')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    while release.last() == Some(&0) {
        release.pop();
    }
    let rest = rest.trim_start_matches(['-', '.', '_', '+']);
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let (word, number) = rest.split_at(word_end);
    let number = number.trim_start_matches(['-', '.', '_']);
    let number = if number.is_empty() {
        0
    } else {
        number.parse().ok()?
    };
    // Maven reads `a`, `b` and `m` as alpha, beta and milestone only when
    // a number follows (`1.0a1`); `0.15.0a` has the unknown qualifier `a`.
    let alias_without_number =
        others.is_some() && word.len() == 1 && number_text_is_empty(rest, word_end);
    let (rank, name) = match table.iter().find(|(q, _)| *q == word) {
        // Maven: a number after the release (`1.0-1`) is a number item,
        // and a number outranks every qualifier (`1.0-1` > `1.0-sp`).
        Some(_) if word.is_empty() && number > 0 && others.is_some() => {
            (others? + 1, String::new())
        }
        Some((_, rank)) if !alias_without_number => (*rank, String::new()),
        _ => (others?, word.to_owned()),
    };
    Some((release, rank, name, number))
}

/// Whether nothing (no number) follows the qualifier word in `rest`.
fn number_text_is_empty(rest: &str, word_end: usize) -> bool {
    rest[word_end..]
        .trim_start_matches(['-', '.', '_'])
        .is_empty()
}

/// NuGet: SemVer 2.0 with up to four numbers (`1.2.3.4`; missing ones are
/// 0) and a pre-release compared case-insensitively; build metadata ignored.
fn nuget_key(v: &str) -> Option<([u64; 4], semver::Prerelease)> {
    let v = v.trim();
    let v = v.split('+').next().unwrap_or(v);
    let (numbers, pre) = v.split_once('-').unwrap_or((v, ""));
    let mut key = [0u64; 4];
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    for (slot, part) in key.iter_mut().zip(&parts) {
        *slot = part.parse().ok()?;
    }
    let pre = semver::Prerelease::new(&pre.to_ascii_lowercase()).ok()?;
    Some((key, pre))
}

/// The base score of a CVSS v3.0, v3.1 or v4.0 vector, by the `cvss` crate.
pub fn cvss_base_score(vector: &str) -> Option<f64> {
    vector.trim().parse::<cvss::Cvss>().ok().map(|c| c.score())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn semver_ecosystems() {
        assert_eq!(compare(Ecosystem::CratesIo, "0.2.22", "0.2.23"), Some(Less));
        assert_eq!(compare(Ecosystem::Npm, "4.17.19", "4.17.4"), Some(Greater));
        assert_eq!(compare(Ecosystem::Go, "v1.2.3", "1.2.3"), Some(Equal));
        assert_eq!(compare(Ecosystem::Npm, "1.0.0-beta.2", "1.0.0"), Some(Less));
        // SemVer 2.0.0, item 10: build metadata does not figure in precedence.
        assert_eq!(
            compare(Ecosystem::Npm, "1.0.0+20130313144700", "1.0.0"),
            Some(Equal)
        );
        assert_eq!(
            compare(Ecosystem::CratesIo, "1.0.0+b", "1.0.0+a"),
            Some(Equal)
        );
        assert_eq!(
            compare(Ecosystem::Npm, "1.0.0-alpha+001", "1.0.0"),
            Some(Less)
        );
        // Item 11's example chain.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                compare(Ecosystem::Npm, pair[0], pair[1]),
                Some(Less),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn pep440_ordering() {
        let order = [
            "1.0.dev1",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0.post1",
            "1.1",
            "2!0.5",
        ];
        for pair in order.windows(2) {
            assert_eq!(
                compare(Ecosystem::PyPI, pair[0], pair[1]),
                Some(Less),
                "{pair:?}"
            );
        }
        assert_eq!(compare(Ecosystem::PyPI, "1.0.0", "1.0"), Some(Equal));
        assert_eq!(compare(Ecosystem::PyPI, "2.25.1", "2.3"), Some(Greater));
    }

    #[test]
    fn rubygems_ordering() {
        assert_eq!(
            compare(Ecosystem::RubyGems, "1.13.10", "1.13.9"),
            Some(Greater)
        );
        assert_eq!(
            compare(Ecosystem::RubyGems, "2.0.0.pre1", "2.0.0"),
            Some(Less)
        );
        assert_eq!(
            compare(Ecosystem::RubyGems, "1.0.0-alpha1", "1.0.0.pre.alpha1"),
            Some(Equal)
        );
        assert_eq!(compare(Ecosystem::RubyGems, "1.0", "1.0.0"), Some(Equal));
        assert_eq!(compare(Ecosystem::RubyGems, "not a version!", "1.0"), None);
        assert_eq!(compare(Ecosystem::RubyGems, " ", "1.0"), None);
    }

    #[test]
    fn maven_ordering_follows_its_qualifiers() {
        let order = [
            "1.0-alpha1",
            "1.0-beta-2",
            "1.0-M3",
            "1.0-rc1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp1",
            "1.0.1",
            "31.1-android",
            "31.1-jre",
            "32.0.0-android",
        ];
        for pair in order.windows(2) {
            assert_eq!(
                compare(Ecosystem::Maven, pair[0], pair[1]),
                Some(Less),
                "{pair:?}"
            );
        }
        assert_eq!(
            compare(Ecosystem::Maven, "5.4.2.Final", "5.4.2"),
            Some(Equal)
        );
        assert_eq!(compare(Ecosystem::Maven, "1.0.0", "1"), Some(Equal));
        // As Maven's own ComparableVersion orders them (checked with
        // `java -cp maven-artifact.jar ...ComparableVersion`): `a` without a
        // number after it is an unknown qualifier, after the release;
        // `.M1` and `-M11` are both milestones.
        assert_eq!(
            compare(Ecosystem::Maven, "0.15.0a", "0.15.0"),
            Some(Greater)
        );
        assert_eq!(compare(Ecosystem::Maven, "0.15.0a", "0.15.1"), Some(Less));
        assert_eq!(compare(Ecosystem::Maven, "1.0a1", "1.0"), Some(Less));
        assert_eq!(
            compare(Ecosystem::Maven, "9.0.0.M1", "9.0.0-M11"),
            Some(Less)
        );
        assert_eq!(compare(Ecosystem::Maven, "9.0.0-M11", "9.0.0"), Some(Less));
        assert_eq!(
            compare(Ecosystem::Maven, "1.0-xyz", "1.0-sp"),
            Some(Greater)
        );
        assert_eq!(compare(Ecosystem::Maven, "1.0-20210101.1-1", "1.0"), None);
    }

    #[test]
    fn composer_ordering_follows_its_stabilities() {
        let order = [
            "1.0.0-dev",
            "1.0.0-alpha2",
            "1.0.0-beta",
            "v1.0.0-RC1",
            "1.0.0",
            "1.0.0-p1",
            "1.0.1",
            "1.10.0",
        ];
        for pair in order.windows(2) {
            assert_eq!(
                compare(Ecosystem::Packagist, pair[0], pair[1]),
                Some(Less),
                "{pair:?}"
            );
        }
        // A branch is no version; Composer rejects unknown suffixes.
        assert_eq!(compare(Ecosystem::Packagist, "dev-main", "1.0.0"), None);
        assert_eq!(compare(Ecosystem::Packagist, "1.0.0-foo", "1.0.0"), None);
    }

    #[test]
    fn nuget_ordering_has_four_numbers_and_semver_prereleases() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-Beta.2",
            "1.0.0-beta.11",
            "1.0",
            "1.0.0.1",
            "13.0.1",
        ];
        for pair in order.windows(2) {
            assert_eq!(
                compare(Ecosystem::NuGet, pair[0], pair[1]),
                Some(Less),
                "{pair:?}"
            );
        }
        assert_eq!(compare(Ecosystem::NuGet, "1.0.0.0", "1.0"), Some(Equal));
        assert_eq!(
            compare(Ecosystem::NuGet, "1.0.0+build", "1.0.0"),
            Some(Equal)
        );
        assert_eq!(compare(Ecosystem::NuGet, "1.0.0.0.1", "1.0"), None);
        assert_eq!(
            Ecosystem::NuGet.normalize("Newtonsoft.Json"),
            "newtonsoft.json"
        );
    }

    #[test]
    fn pypi_names_normalize() {
        assert_eq!(
            Ecosystem::PyPI.normalize("Django_REST.framework"),
            "django-rest-framework"
        );
    }

    #[test]
    fn cvss_scores_match_published_values() {
        // Log4Shell (CVE-2021-44228): 10.0; a typical XSS: 6.1; local low: 3.3.
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Some(10.0)
        );
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            Some(6.1)
        );
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"),
            Some(3.3)
        );
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        // CVSS v4.0 vectors are scored too: 9.3 is the specification's
        // example for full network impact; no impact at all scores 0.
        assert_eq!(
            cvss_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            Some(9.3)
        );
        assert_eq!(
            cvss_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"),
            Some(0.0)
        );
        assert_eq!(cvss_base_score("garbage"), None);
        assert_eq!(cvss_base_score("CVSS:3.1/AV:X/AC:L"), None);
    }
}
