//! Lockfiles judged against the advisory database: every package of every
//! ecosystem against every advisory naming it, with a caller's say on which
//! (package, advisory) pairs are waived. What the verdict is, and the limits
//! it is held to, belong to the caller.

use super::advisories::{Advisory, AdvisoryDb, AdvisorySeverity};
use super::lockfiles::Dependencies;
use super::versions::Ecosystem;
use super::Package;

/// One vulnerable package of one lockfile.
#[derive(Debug)]
pub struct Vulnerable {
    /// The lockfile, as the caller shows it.
    pub lockfile: String,
    pub ecosystem: &'static str,
    pub package: String,
    /// The alias it is installed under (`string-width-cjs`), when any.
    pub installed_as: Option<String>,
    pub version: String,
    pub advisories: Vec<String>,
    /// The worst of its advisories.
    pub severity: AdvisorySeverity,
}

/// One (package, advisory) pair the caller waived, with what it said of it.
#[derive(Debug)]
pub struct Waived<W> {
    pub finding: Vulnerable,
    pub waiver: W,
}

/// What the audit of a set of lockfiles found.
#[derive(Debug)]
pub struct Audit<W> {
    /// Packages read, across lockfiles and ecosystems.
    pub packages: usize,
    pub vulnerable: Vec<Vulnerable>,
    pub waived: Vec<Waived<W>>,
    /// Packages whose version cannot be compared with an advisory naming
    /// them (`name@version (ids)`), and nothing else affects them.
    pub undecided: Vec<String>,
    /// Lockfiles (`shown (ecosystem)`) of an ecosystem the database has no
    /// advisory for: not checked.
    pub uncovered: Vec<String>,
    /// Entries no advisory can speak for, each `shown: why`.
    pub unjudged: Vec<String>,
}

/// Audits `lockfiles` (each as the caller shows it, and what it lists);
/// `waive` returns the waiver covering a (package, advisory) pair.
pub fn audit<W>(
    lockfiles: impl IntoIterator<Item = (String, Dependencies)>,
    db: &AdvisoryDb,
    mut waive: impl FnMut(&Advisory, Ecosystem, &Package, &str) -> Option<W>,
) -> Audit<W> {
    let mut audit = Audit {
        packages: 0,
        vulnerable: Vec::new(),
        waived: Vec::new(),
        undecided: Vec::new(),
        uncovered: Vec::new(),
        unjudged: Vec::new(),
    };
    for (shown, parsed) in lockfiles {
        let shown = shown.as_str();
        audit
            .unjudged
            .extend(parsed.unjudged.iter().map(|c| format!("{shown}: {c}")));
        for (eco, list) in &parsed.groups {
            audit.packages += list.len();
            if !list.is_empty() && !db.covers(*eco) {
                audit
                    .uncovered
                    .push(format!("{shown} ({})", eco.osv_name()));
                continue;
            }
            for p in list {
                let (mut hits, unknown) = db.judged(*eco, p);
                hits.retain(|a| match waive(a, *eco, p, shown) {
                    None => true,
                    Some(waiver) => {
                        let finding = vulnerable(shown, *eco, p, &[a]);
                        audit.waived.push(Waived { finding, waiver });
                        false
                    }
                });
                if hits.is_empty() && !unknown.is_empty() {
                    let ids: Vec<&str> = unknown.iter().map(|a| a.id.as_str()).collect();
                    audit
                        .undecided
                        .push(format!("{} ({})", p.shown(), ids.join(" ")));
                }
                if !hits.is_empty() {
                    audit.vulnerable.push(vulnerable(shown, *eco, p, &hits));
                }
            }
        }
    }
    audit
}

/// `package` of `lockfile` as affected by `hits` (at least one).
fn vulnerable(lockfile: &str, eco: Ecosystem, package: &Package, hits: &[&Advisory]) -> Vulnerable {
    Vulnerable {
        lockfile: lockfile.to_owned(),
        ecosystem: eco.osv_name(),
        package: package.name.clone(),
        installed_as: package.alias.clone(),
        version: package.version.clone(),
        advisories: hits.iter().map(|a| a.id.clone()).collect(),
        severity: hits
            .iter()
            .map(|a| a.severity)
            .min()
            .unwrap_or(AdvisorySeverity::Unknown),
    }
}

impl Vulnerable {
    /// The finding as evidence shows it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "lockfile": self.lockfile, "ecosystem": self.ecosystem, "package": self.package,
            "installed_as": self.installed_as, "version": self.version,
            "advisories": self.advisories, "severity": self.severity.as_str(),
        })
    }
}
