//! The workloads of a set of objects (Deployment, StatefulSet, DaemonSet,
//! ReplicaSet, Job, CronJob, bare Pod), their pod templates, and the objects
//! that select their pods by label (Services, PodDisruptionBudgets,
//! NetworkPolicies) or name them (HorizontalPodAutoscalers).

use serde_json::{Map, Value};

use super::Object;

/// The kinds that run pods, with the pointer to their pod template.
const WORKLOADS: [(&str, &str); 7] = [
    ("Deployment", "/spec/template"),
    ("StatefulSet", "/spec/template"),
    ("DaemonSet", "/spec/template"),
    ("ReplicaSet", "/spec/template"),
    ("Job", "/spec/template"),
    ("CronJob", "/spec/jobTemplate/spec/template"),
    ("Pod", ""),
];

/// One workload and the objects that act on its pods.
#[derive(Debug)]
pub struct Workload<'a> {
    pub object: &'a Object,
    /// The pod template (`metadata` and `spec`); the Pod itself for a Pod.
    pub template: &'a Value,
    /// `spec.replicas`, where the kind has it (absent means 1).
    pub replicas: Option<i64>,
    /// Services, PDBs, NetworkPolicies selecting its pods, HPAs naming it.
    pub services: Vec<&'a Object>,
    pub pdbs: Vec<&'a Object>,
    pub network_policies: Vec<&'a Object>,
    pub hpas: Vec<&'a Object>,
}

impl<'a> Workload<'a> {
    /// The pod spec.
    pub fn pod(&self) -> &'a Value {
        self.template.get("spec").unwrap_or(&Value::Null)
    }

    /// The containers (not init containers), each with its name.
    pub fn containers(&self) -> Vec<(&'a str, &'a Value)> {
        self.pod()
            .get("containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| (c.get("name").and_then(Value::as_str).unwrap_or("?"), c))
            .collect()
    }

    /// Whether it runs long-lived pods behind replicas (not a Job, CronJob or Pod).
    pub fn is_service(&self) -> bool {
        matches!(
            self.object.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    }

    /// Whether it has a replica count to keep (Deployment, StatefulSet, ReplicaSet).
    pub fn is_replicated(&self) -> bool {
        matches!(
            self.object.kind.as_str(),
            "Deployment" | "StatefulSet" | "ReplicaSet"
        )
    }

    /// The replicas it can count on: an HPA's `minReplicas` when one owns
    /// it, else `spec.replicas` (1 when absent).
    pub fn min_replicas(&self) -> i64 {
        self.hpas
            .iter()
            .filter_map(|h| h.doc.pointer("/spec/minReplicas").and_then(Value::as_i64))
            .max()
            .or_else(|| (!self.hpas.is_empty()).then_some(1))
            .unwrap_or(self.replicas.unwrap_or(1))
    }
}

/// The workloads among `objects`, each joined to what selects its pods in
/// its namespace.
pub fn workloads(objects: &[Object]) -> Vec<Workload<'_>> {
    let mut out = Vec::new();
    for object in objects {
        let Some((_, pointer)) = WORKLOADS.iter().find(|(k, _)| *k == object.kind) else {
            continue;
        };
        let Some(template) = object.doc.pointer(pointer) else {
            continue;
        };
        let labels = template
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let same_ns = |o: &&Object| o.namespace == object.namespace;
        let selecting = |kind: &str, pointer: &str, empty_selects_all: bool| -> Vec<&Object> {
            objects
                .iter()
                .filter(|o| o.kind == kind)
                .filter(same_ns)
                .filter(|o| {
                    o.doc
                        .pointer(pointer)
                        .is_some_and(|s| selects(s, labels, empty_selects_all))
                })
                .collect()
        };
        let services = objects
            .iter()
            .filter(|o| o.kind == "Service")
            .filter(same_ns)
            .filter(|o| {
                o.doc
                    .pointer("/spec/selector")
                    .and_then(Value::as_object)
                    .is_some_and(|sel| !sel.is_empty() && matches_labels(sel, labels))
            })
            .collect();
        let hpas = objects
            .iter()
            .filter(|o| o.kind == "HorizontalPodAutoscaler")
            .filter(same_ns)
            .filter(|o| {
                let target = |k: &str| {
                    o.doc
                        .pointer(&format!("/spec/scaleTargetRef/{k}"))
                        .and_then(Value::as_str)
                };
                target("kind") == Some(object.kind.as_str())
                    && target("name") == Some(object.name.as_str())
            })
            .collect();
        out.push(Workload {
            object,
            template,
            replicas: object.doc.pointer("/spec/replicas").and_then(Value::as_i64),
            services,
            pdbs: selecting("PodDisruptionBudget", "/spec/selector", true),
            network_policies: selecting("NetworkPolicy", "/spec/podSelector", true),
            hpas,
        });
    }
    out
}

/// Whether every `key: value` of `selector` is among `labels`.
fn matches_labels(selector: &Map<String, Value>, labels: Option<&Map<String, Value>>) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// Whether a `LabelSelector` (`matchLabels`, `matchExpressions`) selects
/// pods with `labels`; an empty selector selects every pod when
/// `empty_selects_all` (a NetworkPolicy's `podSelector: {}`, a policy/v1 PDB).
pub fn selects(
    selector: &Value,
    labels: Option<&Map<String, Value>>,
    empty_selects_all: bool,
) -> bool {
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    if match_labels.is_none_or(Map::is_empty) && expressions.is_none_or(Vec::is_empty) {
        return empty_selects_all;
    }
    if !match_labels.is_none_or(|m| matches_labels(m, labels)) {
        return false;
    }
    expressions.into_iter().flatten().all(|e| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let value = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => value.is_some_and(|v| values.contains(&v)),
            Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
            Some("Exists") => value.is_some(),
            Some("DoesNotExist") => value.is_none(),
            _ => false,
        }
    })
}
