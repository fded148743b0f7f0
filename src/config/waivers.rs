//! `waivers:` accepted risk, each with an owner, a reason and an expiry. A
//! waiver covers a check (every check an entry expands to, or one
//! `<check>:<target>`), a checklist item, or one finding inside a check (an
//! advisory, a secret fingerprint, a SARIF rule and location). Pure data and
//! its validation: what a waiver does is the gate's, the kinds' and the
//! renderers' business.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{from_value, ConfigDuration, Problems};
use crate::clock::{date_of, parse_timestamp};

const DAY: i64 = 86_400;

pub(super) const fn default_max_duration() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_secs(90 * DAY as u64))
}

/// One entry of `waivers:` as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverEntry {
    /// The waiver's name, as metrics and reports show it (`[a-z0-9_-]`).
    /// Default: what it covers.
    #[serde(default)]
    pub name: Option<String>,
    /// The check it covers: a check's name (every `<check>:<target>` it
    /// expands to) or one `<check>:<target>`. With `finding`, the check whose
    /// finding it is.
    #[serde(default)]
    pub check: Option<String>,
    /// The checklist item it covers (`security.dependencies`).
    #[serde(default)]
    pub item: Option<String>,
    /// One finding inside `check`: only that finding leaves the count that
    /// decides the check's state.
    #[serde(default)]
    pub finding: Option<FindingSpec>,
    /// Why the risk is accepted (required).
    pub reason: String,
    /// Who answers for it: a person or a team (required).
    pub owner: String,
    /// Last day the waiver holds (`2027-01-31`, UTC); from the next day it has
    /// no effect. At most `global.waivers_max_duration` from today.
    pub expires: String,
}

/// The finding a waiver names: exactly one of `advisory`, `secret`, `rule`.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FindingSpec {
    /// An advisory id (`GHSA-...`, `CVE-...`, `RUSTSEC-...`, an alias counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    /// With `advisory`: only in this package (default: every package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// A `hardcoded_secrets` finding's fingerprint (`path:rule:hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// A SARIF result's rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// With `rule`: only at this location (`path` or `path:line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A validated waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    pub name: String,
    /// The check (name or `<check>:<target>`) it covers, or whose finding.
    pub check: Option<String>,
    pub item: Option<String>,
    pub finding: Option<FindingSpec>,
    pub reason: String,
    pub owner: String,
    /// The last day it holds, as written (`2027-01-31`).
    pub expires: String,
    /// Unix time it stops holding: the midnight (UTC) after `expires`.
    pub expires_at: i64,
    /// Where it is written: `config` or the ignore file it was read from.
    pub source: String,
}

impl Waiver {
    /// Whether the waiver holds at `now` (Unix seconds).
    pub fn active_at(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// Whole days left at `now`: 0 on its last day, negative once expired.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.expires_at - 1 - now).div_euclid(DAY)
    }

    /// Whether it covers the check named `check` on `target`: by its exact
    /// name, or by the name of the entry it was expanded from
    /// (`<entry>:<target>`). Exact: `a:b` does not cover `a:b:c`, the check
    /// of entry `a` on a target named `b:c`.
    pub fn covers_check(&self, check: &str, target: Option<&str>) -> bool {
        self.check.as_deref().is_some_and(|c| {
            c == check
                || target.is_some_and(|t| {
                    check
                        .strip_suffix(t)
                        .and_then(|entry| entry.strip_suffix(':'))
                        == Some(c)
                })
        })
    }

    /// What it covers, in a few words: `check deps`, `item security.tls`,
    /// `advisory GHSA-x in deps`.
    pub fn covers(&self) -> String {
        match (&self.finding, &self.check, &self.item) {
            (Some(f), Some(check), _) => format!("{} in {check}", f.shown()),
            (None, Some(check), _) => format!("check {check}"),
            (_, _, Some(item)) => format!("item {item}"),
            _ => String::new(),
        }
    }

    /// A one-line note for reports: `waived until 2027-01-31 by team-x: reason`.
    pub fn note(&self) -> String {
        note(&self.expires, &self.owner, &self.reason)
    }

    /// What the JSON API, reports and evidence show of it at `now`.
    pub fn view(&self, now: i64) -> Value {
        serde_json::json!({
            "name": self.name,
            "covers": self.covers(),
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires,
            "days_left": self.days_left(now),
            "active": self.active_at(now),
            "source": self.source,
        })
    }
}

impl FindingSpec {
    pub fn shown(&self) -> String {
        match (&self.advisory, &self.secret, &self.rule) {
            (Some(a), _, _) => match &self.package {
                Some(p) => format!("advisory {a} ({p})"),
                None => format!("advisory {a}"),
            },
            (_, Some(s), _) => format!("secret {s}"),
            (_, _, Some(r)) => match &self.location {
                Some(l) => format!("rule {r} at {l}"),
                None => format!("rule {r}"),
            },
            _ => String::new(),
        }
    }
}

/// `waived until <expires> by <owner>: <reason>`.
pub fn note(expires: &str, owner: &str, reason: &str) -> String {
    format!("waived until {expires} by {owner}: {reason}")
}

/// The first check-level waiver (no finding) of `waivers` holding at `now`.
pub fn active_check_waiver(waivers: &[Waiver], now: i64) -> Option<&Waiver> {
    waivers
        .iter()
        .find(|w| w.finding.is_none() && w.active_at(now))
}

/// The waiver to show among `waivers`: the one holding at `now`, else the
/// one that expired last (an expired waiver stays visible, marked expired).
pub fn shown_waiver<'a, I>(waivers: I, now: i64) -> Option<&'a Waiver>
where
    I: Iterator<Item = &'a Waiver> + Clone,
{
    waivers
        .clone()
        .find(|w| w.active_at(now))
        .or_else(|| waivers.max_by_key(|w| w.expires_at))
}

/// The midnight (UTC) after a `YYYY-MM-DD` date, when it is one.
pub fn end_of_day(date: &str) -> Option<i64> {
    let date = date.trim();
    (date.len() == 10)
        .then(|| parse_timestamp(date))
        .flatten()
        .map(|t| t + DAY)
}

/// Whether a name is fit for a label value people type: `[a-z0-9_.:-]`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.:".contains(c))
}

/// Reads `waivers:`, each problem named by `waivers[i]` and field. A waiver
/// already expired loads (it has no effect and raises `WaiverExpired`); one
/// reaching further than `max` from `now` is an error.
pub(super) fn load(
    value: &Value,
    max: ConfigDuration,
    now: i64,
    problems: &mut Problems,
) -> Vec<Waiver> {
    let Some(items) = value.as_array() else {
        if !value.is_null() {
            problems.push("", "waivers", "must be a list of waivers");
        }
        return Vec::new();
    };
    let mut out: Vec<Waiver> = Vec::new();
    for (i, value) in items.iter().enumerate() {
        let place = format!("waivers[{i}]");
        let entry = match from_value::<WaiverEntry>(value) {
            Ok(e) => e,
            Err((path, msg)) => {
                // serde names a missing field only in its message.
                let missing = msg
                    .strip_prefix("missing field `")
                    .and_then(|m| m.split('`').next())
                    .filter(|_| path.is_empty());
                problems.push(&place, missing.unwrap_or(&path), msg.clone());
                continue;
            }
        };
        let before = problems.errors.len();
        check_scope(&entry, &place, problems);
        let expires_at = match end_of_day(&entry.expires) {
            None => {
                problems.push(&place, "expires", "must be a date, YYYY-MM-DD");
                continue;
            }
            Some(t) => t,
        };
        let longest = max.0.as_secs() as i64;
        if expires_at - DAY - now.div_euclid(DAY) * DAY > longest {
            problems.push(
                &place,
                "expires",
                format!(
                    "{} is more than {} from today ({}): a waiver is temporary; renew it when it runs out, or raise global.waivers_max_duration",
                    entry.expires,
                    super::format_duration(max.0),
                    date_of(now)
                ),
            );
        }
        let name = entry.name.clone().unwrap_or_else(|| default_name(&entry));
        if !valid_name(&name) {
            problems.push(
                &place,
                "name",
                "use lower-case letters, digits and _ - . : only",
            );
        }
        if out.iter().any(|w| w.name == name) {
            problems.push(
                &place,
                "name",
                format!("another waiver is named {name:?}; set `name`"),
            );
        }
        if problems.errors.len() != before {
            continue;
        }
        out.push(Waiver {
            name,
            check: entry.check,
            item: entry.item,
            finding: entry.finding,
            reason: entry.reason.trim().to_owned(),
            owner: entry.owner.trim().to_owned(),
            expires: entry.expires.trim().to_owned(),
            expires_at,
            source: "config".into(),
        });
    }
    out
}

/// What a waiver says it covers and why: a reason and an owner, a check or
/// an item (not both), and at most one kind of finding inside a check.
fn check_scope(entry: &WaiverEntry, place: &str, problems: &mut Problems) {
    for (field, text) in [("reason", &entry.reason), ("owner", &entry.owner)] {
        if text.trim().is_empty() {
            problems.push(
                place,
                field,
                "must not be empty: say who accepts the risk and why",
            );
        }
    }
    match (&entry.check, &entry.item, &entry.finding) {
        (Some(_), Some(_), _) => problems.push(place, "item", "name a check or an item, not both"),
        (None, None, _) => problems.push(
            place,
            "check",
            "name the check (or `item`) the waiver covers",
        ),
        (None, Some(_), Some(_)) => problems.push(
            place,
            "finding",
            "a finding is inside a check: name the `check`",
        ),
        _ => {}
    }
    if let Some(f) = &entry.finding {
        let named = [&f.advisory, &f.secret, &f.rule]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if named != 1 {
            problems.push(
                place,
                "finding",
                "name exactly one of advisory, secret, rule",
            );
        }
        if f.package.is_some() && f.advisory.is_none() {
            problems.push(place, "finding.package", "goes with `advisory`");
        }
        if f.location.is_some() && f.rule.is_none() {
            problems.push(place, "finding.location", "goes with `rule`");
        }
    }
}

fn default_name(entry: &WaiverEntry) -> String {
    let base = entry
        .check
        .as_deref()
        .or(entry.item.as_deref())
        .unwrap_or("waiver");
    let finding = entry.finding.as_ref().and_then(|f| {
        f.advisory
            .as_deref()
            .or(f.secret.as_deref())
            .or(f.rule.as_deref())
    });
    let name = match finding {
        Some(f) => format!("{base}:{f}"),
        None => base.to_owned(),
    };
    name.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.:".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
