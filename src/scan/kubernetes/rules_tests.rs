//! The rules against their own examples.

use super::super::{load::Manifests, workloads};
use super::*;

fn findings_of(manifest: &str, rule: &Rule) -> Vec<(Option<String>, String)> {
    let docs: Vec<Value> = crate::yaml::documents(manifest, 100).unwrap();
    let mut m = Manifests::default();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        m.objects.push(super::super::Object {
            kind: doc["kind"].as_str().unwrap().to_owned(),
            name: doc["metadata"]["name"].as_str().unwrap().to_owned(),
            namespace: String::new(),
            doc,
            file: "example.yaml".into(),
        });
    }
    let limits = Limits::default();
    workloads(&m.objects)
        .iter()
        .flat_map(|w| (rule.check)(w, &limits))
        .collect()
}

#[test]
fn every_rule_passes_and_fails_its_examples() {
    let mut ids = std::collections::HashSet::new();
    for rule in RULES {
        assert!(ids.insert(rule.id), "{} twice", rule.id);
        assert!(
            findings_of(rule.passes, rule).is_empty(),
            "{} flags its passing example: {:?}",
            rule.id,
            findings_of(rule.passes, rule)
        );
        assert!(
            !findings_of(rule.fails, rule).is_empty(),
            "{} misses its failing example",
            rule.id
        );
        assert!(!rule.what.is_empty() && !rule.why.is_empty() && !rule.fix.is_empty());
    }
    for aspect in Aspect::ALL {
        assert!(
            RULES.iter().any(|r| r.aspect == aspect),
            "{aspect:?} has no rule"
        );
    }
}

#[test]
fn images_are_pinned_by_tag_or_digest() {
    assert!(unpinned("web") && unpinned("web:latest") && unpinned("host:5000/web"));
    assert!(!unpinned("host:5000/web:1.2") && !unpinned("web@sha256:abc") && !unpinned("web:1"));
}
