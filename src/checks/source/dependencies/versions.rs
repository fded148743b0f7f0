//! Version ordering per ecosystem: semver (crates.io, npm, Hex, Go with its
//! `v` prefix), PEP 440 (PyPI) and RubyGems; and CVSS v3 base scores.

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
}

impl Ecosystem {
    /// Every ecosystem the database understands.
    pub const ALL: [Ecosystem; 6] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Hex,
    ];

    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Hex => "Hex",
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
            _ => name.to_owned(),
        }
    }
}

/// Compares two versions of an ecosystem; `None` when either cannot be read.
pub fn compare(eco: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    match eco {
        Ecosystem::PyPI => Some(pep440_key(a)?.cmp(&pep440_key(b)?)),
        Ecosystem::RubyGems => Some(gem_cmp(a, b)),
        _ => {
            let parse = |v: &str| semver::Version::parse(v.trim().trim_start_matches('v')).ok();
            match (parse(a), parse(b)) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => Some(generic_cmp(a, b)),
            }
        }
    }
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

/// RubyGems: segments split on `.`; a string segment marks a prerelease and
/// sorts before numbers.
fn gem_cmp(a: &str, b: &str) -> Ordering {
    let segs = |s: &str| -> Vec<String> { s.trim().split(['.', '-']).map(str::to_owned).collect() };
    let (x, y) = (segs(a), segs(b));
    for i in 0..x.len().max(y.len()) {
        let (p, q) = (
            x.get(i).map(String::as_str).unwrap_or("0"),
            y.get(i).map(String::as_str).unwrap_or("0"),
        );
        let ord = match (p.parse::<u128>(), q.parse::<u128>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(_), Err(_)) => p.cmp(q),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// PEP 440 sort key: (epoch, release, pre, post, dev), releases padded.
/// A dev release of a final version (`1.0.dev1`) sorts before its pre-releases.
type Pep440Key = (u64, Vec<u64>, (i8, u64), i64, (u8, u64));

fn pep440_key(v: &str) -> Option<Pep440Key> {
    let v = v.trim().to_lowercase();
    let v = v.trim_start_matches('v');
    let v = v.split('+').next()?; // local versions are ignored
    let (epoch, rest) = match v.split_once('!') {
        Some((e, r)) => (e.parse().ok()?, r),
        None => (0, v),
    };
    let release_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let mut release: Vec<u64> = rest[..release_end]
        .trim_end_matches('.')
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let mut tail = rest[release_end..].trim_start_matches(['.', '-', '_']);
    // Reads an optional number after a tag; returns it and the rest.
    let number = |s: &'static str, t: &str| -> Option<(u64, usize)> {
        let after = t.strip_prefix(s)?;
        let trimmed = after.trim_start_matches(['.', '-', '_']);
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        Some((
            trimmed[..digits].parse().unwrap_or(0),
            s.len() + (after.len() - trimmed.len()) + digits,
        ))
    };
    let mut pre: Option<(i8, u64)> = None;
    for (tag, phase) in [
        ("alpha", 0),
        ("beta", 1),
        ("preview", 2),
        ("pre", 2),
        ("rc", 2),
        ("a", 0),
        ("b", 1),
        ("c", 2),
    ] {
        if let Some((n, used)) = number(tag, tail) {
            pre = Some((phase, n));
            tail = tail[used..].trim_start_matches(['.', '-', '_']);
            break;
        }
    }
    let mut post = -1i64;
    for tag in ["post", "rev", "r"] {
        if let Some((n, used)) = number(tag, tail) {
            post = n as i64;
            tail = tail[used..].trim_start_matches(['.', '-', '_']);
            break;
        }
    }
    let dev = number("dev", tail).map(|(n, _)| n);
    let pre_key = match (pre, dev, post) {
        (Some(p), _, _) => p,
        (None, Some(_), -1) => (-1, 0),
        _ => (3, 0),
    };
    let dev_key = dev.map_or((1, 0), |n| (0, n));
    Some((epoch, release, pre_key, post, dev_key))
}

/// CVSS v3.x base score of a vector (`CVSS:3.1/AV:N/AC:L/...`).
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let mut m = std::collections::HashMap::new();
    for part in vector.split('/').skip(1) {
        let (k, v) = part.split_once(':')?;
        m.insert(k, v);
    }
    let scope_changed = *m.get("S")? == "C";
    let av = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (*m.get("PR")?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        match *m.get(k)? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if scope_changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    // CVSS "round up" to one decimal, robust to float noise.
    let int = (raw * 100_000.0).round() as i64;
    Some(if int % 10_000 == 0 {
        int as f64 / 100_000.0
    } else {
        ((int / 10_000) + 1) as f64 / 10.0
    })
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
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Some(10.0)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            Some(6.1)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"),
            Some(3.3)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(cvss3_base_score("garbage"), None);
    }
}
