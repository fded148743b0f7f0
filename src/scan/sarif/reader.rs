//! The streaming SARIF reader: serde seeds that hand results over one by
//! one as they are read, and the parts of the SARIF model read.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{finding_of, summarize, OnResult, RunSummary};

pub(super) struct Log {
    pub(super) version: Option<String>,
    pub(super) runs: Option<Vec<RunSummary>>,
}

pub(super) struct LogSeed<'e, 'a> {
    pub(super) each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = Log;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Log, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = Log;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF log (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Log, A::Error> {
        let mut log = Log {
            version: None,
            runs: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => log.version = map.next_value()?,
                "runs" => {
                    log.runs = Some(map.next_value_seed(RunsSeed {
                        each: &mut *self.each,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(log)
    }
}

pub(super) struct RunsSeed<'e, 'a> {
    pub(super) each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for RunsSeed<'_, '_> {
    type Value = Vec<RunSummary>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<RunSummary>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RunsSeed<'_, '_> {
    type Value = Vec<RunSummary>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of runs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<RunSummary>, A::Error> {
        let mut runs = Vec::new();
        while let Some(run) = seq.next_element_seed(RunSeed {
            index: runs.len(),
            each: &mut *self.each,
        })? {
            runs.push(run);
        }
        Ok(runs)
    }
}

pub(super) struct RunSeed<'e, 'a> {
    pub(super) index: usize,
    pub(super) each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for RunSeed<'_, '_> {
    type Value = RunSummary;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RunSummary, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_, '_> {
    type Value = RunSummary;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF run (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RunSummary, A::Error> {
        let mut driver: Option<Driver> = None;
        // Results read before the run's tool, waiting for its rules.
        let mut early: Vec<ResultEntry> = Vec::new();
        let mut results = 0u64;
        let (mut invocations, mut provenance) = (Vec::new(), Vec::new());
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => driver = Some(map.next_value::<Tool>()?.driver),
                "results" => {
                    let seed = ResultsSeed {
                        index: self.index,
                        driver: driver.as_ref(),
                        early: &mut early,
                        each: &mut *self.each,
                    };
                    results += map.next_value_seed(seed)?;
                }
                "invocations" => {
                    invocations = map
                        .next_value::<Option<Vec<Invocation>>>()?
                        .unwrap_or_default()
                }
                "versionControlProvenance" => {
                    provenance = map
                        .next_value::<Option<Vec<Provenance>>>()?
                        .unwrap_or_default()
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let driver = driver.ok_or_else(|| serde::de::Error::missing_field("tool"))?;
        let name = driver.tool_name();
        let rules = driver.rules.as_deref().unwrap_or_default();
        for r in early {
            (self.each)(self.index, &name, finding_of(r, rules));
        }
        Ok(summarize(driver, results, invocations, provenance))
    }
}

pub(super) struct ResultsSeed<'e, 'a, 'r> {
    pub(super) index: usize,
    pub(super) driver: Option<&'r Driver>,
    pub(super) early: &'r mut Vec<ResultEntry>,
    pub(super) each: &'e mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_, '_> {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_, '_> {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of results")
    }
    fn visit_unit<E>(self) -> Result<u64, E> {
        Ok(0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut n = 0u64;
        let name = self.driver.map(Driver::tool_name);
        while let Some(r) = seq.next_element::<ResultEntry>()? {
            n += 1;
            match (self.driver, &name) {
                (Some(driver), Some(name)) => (self.each)(
                    self.index,
                    name,
                    finding_of(r, driver.rules.as_deref().unwrap_or_default()),
                ),
                _ => self.early.push(r),
            }
        }
        Ok(n)
    }
}

#[derive(Deserialize)]
pub(super) struct Tool {
    pub(super) driver: Driver,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Driver {
    pub(super) name: Option<String>,
    pub(super) version: Option<String>,
    pub(super) semantic_version: Option<String>,
    pub(super) rules: Option<Vec<RuleDesc>>,
}

impl Driver {
    pub(super) fn tool_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "(unnamed tool)".into())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RuleDesc {
    pub(super) id: Option<String>,
    pub(super) default_configuration: Option<Configuration>,
    pub(super) properties: Option<Properties>,
}

#[derive(Deserialize)]
pub(super) struct Configuration {
    pub(super) level: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Properties {
    #[serde(rename = "security-severity", default, deserialize_with = "score")]
    pub(super) security_severity: Option<f64>,
}

/// A `security-severity` written as a string (`"9.8"`, the convention) or
/// a number; anything else is no score.
pub(super) fn score<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_f64(),
        _ => None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResultEntry {
    pub(super) rule_id: Option<String>,
    pub(super) rule_index: Option<usize>,
    pub(super) rule: Option<RuleRef>,
    pub(super) kind: Option<String>,
    pub(super) level: Option<String>,
    pub(super) message: Option<Message>,
    pub(super) locations: Option<Vec<Location>>,
    pub(super) suppressions: Option<Vec<Suppression>>,
    pub(super) properties: Option<Properties>,
    /// Read leniently: a value that is no string is left out.
    #[serde(default, deserialize_with = "fingerprints")]
    pub(super) partial_fingerprints: Vec<(String, String)>,
    /// Whole fingerprints (Semgrep writes these), carried the same way.
    #[serde(default, deserialize_with = "fingerprints")]
    pub(super) fingerprints: Vec<(String, String)>,
}

/// A result's `partialFingerprints`: its string values, at most 8, each
/// name and value at most 256 characters (what carrying them needs).
fn fingerprints<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .filter(|(k, v)| k.len() <= 256 && v.len() <= 256)
        .take(8)
        .collect())
}

#[derive(Deserialize)]
pub(super) struct RuleRef {
    pub(super) id: Option<String>,
    pub(super) index: Option<usize>,
}

#[derive(Deserialize)]
pub(super) struct Message {
    pub(super) text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Location {
    pub(super) physical_location: Option<Physical>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Physical {
    pub(super) artifact_location: Option<Artifact>,
    pub(super) region: Option<Region>,
}

#[derive(Deserialize)]
pub(super) struct Artifact {
    pub(super) uri: Option<String>,
    #[serde(rename = "uriBaseId")]
    pub(super) uri_base_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Region {
    pub(super) start_line: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct Suppression {
    pub(super) kind: Option<String>,
    pub(super) status: Option<String>,
    pub(super) justification: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Invocation {
    pub(super) execution_successful: Option<bool>,
    pub(super) end_time_utc: Option<String>,
    pub(super) tool_execution_notifications: Option<Vec<Notification>>,
}

#[derive(Deserialize)]
pub(super) struct Notification {
    pub(super) level: Option<String>,
    pub(super) message: Option<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Provenance {
    pub(super) revision_id: Option<String>,
}
