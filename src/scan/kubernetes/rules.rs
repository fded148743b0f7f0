//! The rules the `kubernetes_*` kinds judge workloads by, as data: each has
//! an id (what waivers name), the checklist aspect it evidences, a level,
//! what it looks for, why it matters and how to fix it, and a manifest it
//! passes and one it fails (`every_rule_passes_and_fails_its_examples`).

use serde_json::Value;

use super::examples::{BARE_DEPLOYMENT, DEPLOYMENT_OK};
use super::workloads::Workload;

/// The checklist aspect a rule evidences; one kind per aspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    Failover,
    Capacity,
    Probes,
    Rollout,
    Drain,
    PodSecurity,
}

impl Aspect {
    pub const ALL: [Aspect; 6] = [
        Aspect::Failover,
        Aspect::Capacity,
        Aspect::Probes,
        Aspect::Rollout,
        Aspect::Drain,
        Aspect::PodSecurity,
    ];
}

/// How much a finding weighs: a `Fail` fails the check, a `Warn` warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Fail,
    Warn,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Fail => "fail",
            Level::Warn => "warn",
        }
    }
}

/// The thresholds of the rules, from the check's params.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Replicas a replicated workload must count on.
    pub min_replicas: i64,
    /// Seconds a pod gets between SIGTERM and SIGKILL, at least.
    pub min_grace_seconds: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            min_replicas: 2,
            min_grace_seconds: 10,
        }
    }
}

/// A rule's findings on one workload: the container, when the finding is
/// about one, and what was seen.
pub type Hits = Vec<(Option<String>, String)>;

/// One rule.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub aspect: Aspect,
    pub level: Level,
    pub what: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
    /// The findings on one workload: the container (when it is about one)
    /// and what was seen.
    pub check: fn(&Workload<'_>, &Limits) -> Hits,
    /// The kube-score and Polaris checks it corresponds to, where one does
    /// (empty: neither has one).
    pub peers: &'static str,
    /// A manifest the rule passes and one it fails.
    pub passes: &'static str,
    pub fails: &'static str,
}

/// One finding on one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// `Kind/name`.
    pub workload: String,
    pub namespace: String,
    pub container: Option<String>,
    pub rule: &'static str,
    pub level: Level,
    pub detail: String,
    pub fix: &'static str,
}

/// Every rule of `aspect` over every workload.
pub fn judge(workloads: &[Workload<'_>], aspect: Aspect, limits: &Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES.iter().filter(|r| r.aspect == aspect) {
        for w in workloads {
            for (container, detail) in (rule.check)(w, limits) {
                out.push(Finding {
                    workload: w.object.id(),
                    namespace: w.object.namespace.clone(),
                    container,
                    rule: rule.id,
                    level: rule.level,
                    detail,
                    fix: rule.fix,
                });
            }
        }
    }
    out
}

/// One finding per container for which `bad` says what is wrong.
fn per_container(w: &Workload<'_>, bad: impl Fn(&Value) -> Option<String>) -> Hits {
    w.containers()
        .into_iter()
        .filter_map(|(name, c)| bad(c).map(|d| (Some(name.to_owned()), d)))
        .collect()
}

/// A setting of the container's securityContext, else the pod's.
fn security<'a>(w: &Workload<'a>, c: &'a Value, key: &str) -> Option<&'a Value> {
    c.pointer(&format!("/securityContext/{key}"))
        .or_else(|| w.pod().pointer(&format!("/securityContext/{key}")))
}

fn one(detail: String) -> Hits {
    vec![(None, detail)]
}

/// Every rule, in the order findings are listed.
pub static RULES: &[Rule] = &[
    // Failover (operations.failover).
    Rule {
        id: "replicas.minimum",
        aspect: Aspect::Failover,
        level: Level::Fail,
        what: "A Deployment, StatefulSet or ReplicaSet runs fewer than `min_replicas` pods (its `replicas`, or its HPA's `minReplicas`).",
        why: "One pod is one node failure, one eviction or one bad rollout away from an outage.",
        fix: "Set spec.replicas (or the HPA's minReplicas) to at least min_replicas.",
        check: |w, l| {
            if !w.is_replicated() || w.min_replicas() >= l.min_replicas {
                return Vec::new();
            }
            one(format!("{} replica(s), need at least {}", w.min_replicas(), l.min_replicas))
        },
        peers: "kube-score `deployment-replicas`; Polaris `multipleReplicasForDeployment`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "pdb.missing",
        aspect: Aspect::Failover,
        level: Level::Fail,
        what: "A replicated workload has no PodDisruptionBudget selecting its pods.",
        why: "A node drain or cluster upgrade may evict every replica at once.",
        fix: "Add a policy/v1 PodDisruptionBudget with maxUnavailable: 1 selecting the pods.",
        check: |w, _| {
            if !w.is_replicated() || !w.pdbs.is_empty() {
                return Vec::new();
            }
            one("no PodDisruptionBudget selects its pods".to_owned())
        },
        peers: "kube-score `deployment-has-poddisruptionbudget`, `statefulset-has-poddisruptionbudget`",
        passes: DEPLOYMENT_OK,
        fails: "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 3\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: app, image: web:1.0 }] }\n",
    },
    Rule {
        id: "pdb.blocks-drain",
        aspect: Aspect::Failover,
        level: Level::Warn,
        what: "A PodDisruptionBudget allows no disruption (`maxUnavailable: 0`, or `minAvailable` at or above the replicas).",
        why: "Node drains and cluster upgrades hang on it until someone deletes it by hand.",
        fix: "Use maxUnavailable: 1 (or minAvailable below the replica count).",
        check: |w, _| {
            w.pdbs
                .iter()
                .filter(|p| {
                    let spec = |k: &str| p.doc.pointer(&format!("/spec/{k}"));
                    spec("maxUnavailable").is_some_and(|v| v == 0 || v == "0%")
                        || spec("minAvailable")
                            .and_then(Value::as_i64)
                            .is_some_and(|m| m >= w.min_replicas())
                        || spec("minAvailable").is_some_and(|v| v == "100%")
                })
                .map(|p| (None, format!("PodDisruptionBudget/{} allows no pod to be evicted", p.name)))
                .collect()
        },
        peers: "",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "spread.missing",
        aspect: Aspect::Failover,
        level: Level::Warn,
        what: "A workload with several replicas has neither pod anti-affinity nor topology spread constraints.",
        why: "The scheduler may place every replica on one node or zone, which then takes them all down.",
        fix: "Add topologySpreadConstraints over kubernetes.io/hostname (and topology.kubernetes.io/zone), or a podAntiAffinity.",
        check: |w, _| {
            let pod = w.pod();
            let spread = pod
                .get("topologySpreadConstraints")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            let anti = pod.pointer("/affinity/podAntiAffinity").is_some();
            if !w.is_replicated() || w.min_replicas() < 2 || spread || anti {
                return Vec::new();
            }
            one("no podAntiAffinity or topologySpreadConstraints: replicas may share a node".to_owned())
        },
        peers: "kube-score `deployment-has-host-podantiaffinity`, `statefulset-has-host-podantiaffinity`",
        passes: DEPLOYMENT_OK,
        fails: "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 3\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: app, image: web:1.0 }] }\n",
    },
    // Capacity planning (operations.capacity_planning).
    Rule {
        id: "resources.requests",
        aspect: Aspect::Capacity,
        level: Level::Fail,
        what: "A container has no CPU or memory request.",
        why: "The scheduler cannot plan capacity for it: nodes get overcommitted and pods are evicted first under pressure.",
        fix: "Set resources.requests.cpu and resources.requests.memory from measured usage.",
        check: |w, _| {
            per_container(w, |c| {
                let missing: Vec<&str> = ["cpu", "memory"]
                    .into_iter()
                    .filter(|r| c.pointer(&format!("/resources/requests/{r}")).is_none())
                    .collect();
                (!missing.is_empty()).then(|| format!("no {} request", missing.join(" or ")))
            })
        },
        peers: "kube-score `container-resources`; Polaris `cpuRequestsMissing`, `memoryRequestsMissing`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "resources.memory-limit",
        aspect: Aspect::Capacity,
        level: Level::Warn,
        what: "A container has no memory limit.",
        why: "A leak grows until the node runs out of memory and the kernel kills whatever it picks.",
        fix: "Set resources.limits.memory (at or above the request).",
        check: |w, _| {
            per_container(w, |c| {
                c.pointer("/resources/limits/memory")
                    .is_none()
                    .then(|| "no memory limit".to_owned())
            })
        },
        peers: "kube-score `container-resources`; Polaris `memoryLimitsMissing`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "hpa.replicas-set",
        aspect: Aspect::Capacity,
        level: Level::Warn,
        what: "A workload an HPA scales also sets `spec.replicas`.",
        why: "Every `kubectl apply` resets the replica count the autoscaler chose, scaling down under load.",
        fix: "Remove spec.replicas from the manifest and let the HPA own it.",
        check: |w, _| {
            if w.hpas.is_empty() || w.replicas.is_none() {
                return Vec::new();
            }
            one("spec.replicas is set while an HorizontalPodAutoscaler owns the count".to_owned())
        },
        peers: "",
        passes: DEPLOYMENT_OK,
        fails: "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 3\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: app, image: web:1.0 }] }\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: web }\nspec: { scaleTargetRef: { kind: Deployment, name: web }, minReplicas: 2, maxReplicas: 5 }\n",
    },
    // Health checks (step.healthcheck).
    Rule {
        id: "probes.readiness",
        aspect: Aspect::Probes,
        level: Level::Fail,
        what: "A container of a long-running workload has no readiness probe.",
        why: "Traffic reaches a pod before it can serve and keeps reaching it when it cannot; a rollout cannot tell a broken version.",
        fix: "Add a readinessProbe on an endpoint that says the pod can serve.",
        check: |w, _| {
            if !w.is_service() {
                return Vec::new();
            }
            per_container(w, |c| c.get("readinessProbe").is_none().then(|| "no readinessProbe".to_owned()))
        },
        peers: "kube-score `pod-probes`; Polaris `readinessProbeMissing`",
        passes: DEPLOYMENT_OK,
        fails: "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: app, image: web:1.0 }] }\n",
    },
    Rule {
        id: "probes.liveness",
        aspect: Aspect::Probes,
        level: Level::Warn,
        what: "A container of a long-running workload has no liveness probe.",
        why: "A deadlocked process stays up and holds its share of the traffic until someone notices.",
        fix: "Add a livenessProbe that fails only when the process must be restarted.",
        check: |w, _| {
            if !w.is_service() {
                return Vec::new();
            }
            per_container(w, |c| c.get("livenessProbe").is_none().then(|| "no livenessProbe".to_owned()))
        },
        peers: "kube-score `pod-probes`; Polaris `livenessProbeMissing`",
        passes: DEPLOYMENT_OK,
        fails: "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: app, image: web:1.0 }] }\n",
    },
    Rule {
        id: "probes.identical",
        aspect: Aspect::Probes,
        level: Level::Fail,
        what: "A container's liveness and readiness probes are the same.",
        why: "When a dependency slows down, every pod is restarted instead of taken out of rotation: a brown-out becomes an outage.",
        fix: "Probe liveness on a cheap local endpoint (or with a longer period and threshold) and readiness on the serving path.",
        check: |w, _| {
            per_container(w, |c| {
                match (c.get("readinessProbe"), c.get("livenessProbe")) {
                    (Some(r), Some(l)) if r == l => Some("readinessProbe and livenessProbe are identical".to_owned()),
                    _ => None,
                }
            })
        },
        peers: "kube-score `pod-probes` (identical probes)",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    // Rollback readiness (deployment.verify_rollback_plan).
    Rule {
        id: "image.tag",
        aspect: Aspect::Rollout,
        level: Level::Fail,
        what: "An image has no tag or the tag `latest` (and no digest).",
        why: "A rollback re-pulls whatever `latest` is now: the previous version cannot be restored, and two pods may run different code.",
        fix: "Pin every image by a version tag or a digest (image@sha256:...).",
        check: |w, _| {
            let mut hits = per_container(w, |c| {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                unpinned(image).then(|| format!("image {image:?} is not pinned"))
            });
            for c in w.pod().get("initContainers").and_then(Value::as_array).into_iter().flatten() {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                if unpinned(image) {
                    let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
                    hits.push((Some(name.to_owned()), format!("init image {image:?} is not pinned")));
                }
            }
            hits
        },
        peers: "kube-score `container-image-tag`; Polaris `tagNotSpecified`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "rollout.history",
        aspect: Aspect::Rollout,
        level: Level::Fail,
        what: "A Deployment keeps no old ReplicaSets (`revisionHistoryLimit: 0`).",
        why: "`kubectl rollout undo` has nothing to go back to.",
        fix: "Keep the default revisionHistoryLimit (10) or at least 2.",
        check: |w, _| {
            let limit = w.object.doc.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64);
            if w.object.kind != "Deployment" || limit.is_none_or(|l| l > 0) {
                return Vec::new();
            }
            one("revisionHistoryLimit is 0: no revision to roll back to".to_owned())
        },
        peers: "",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "rollout.recreate",
        aspect: Aspect::Rollout,
        level: Level::Warn,
        what: "A Deployment uses the `Recreate` strategy.",
        why: "Every rollout and every rollback stops all pods before starting new ones: downtime each time.",
        fix: "Use strategy.type RollingUpdate (the default), unless the application cannot run two versions at once.",
        check: |w, _| {
            let kind = w.object.doc.pointer("/spec/strategy/type").and_then(Value::as_str);
            if w.object.kind != "Deployment" || kind != Some("Recreate") {
                return Vec::new();
            }
            one("strategy Recreate: every rollout is an outage".to_owned())
        },
        peers: "kube-score `deployment-strategy`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    // Drain (step.drain).
    Rule {
        id: "drain.grace-period",
        aspect: Aspect::Drain,
        level: Level::Fail,
        what: "A pod's `terminationGracePeriodSeconds` is under `min_grace_seconds`.",
        why: "In-flight requests are cut when the pod is killed before it finishes them.",
        fix: "Set terminationGracePeriodSeconds above the longest request plus the preStop delay (the default is 30).",
        check: |w, l| {
            let grace = w.pod().get("terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
            if !w.is_service() || grace >= l.min_grace_seconds {
                return Vec::new();
            }
            one(format!("terminationGracePeriodSeconds {grace}, need at least {}", l.min_grace_seconds))
        },
        peers: "",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "drain.prestop",
        aspect: Aspect::Drain,
        level: Level::Warn,
        what: "A container behind a Service has no preStop hook.",
        why: "Endpoints are removed while the pod is already shutting down: for a few seconds the load balancers still send it requests, which fail.",
        fix: "Add lifecycle.preStop (a short sleep) so the pod leaves the endpoints before it stops accepting connections.",
        check: |w, _| {
            if !w.is_service() || w.services.is_empty() {
                return Vec::new();
            }
            per_container(w, |c| {
                c.pointer("/lifecycle/preStop")
                    .is_none()
                    .then(|| "no preStop hook while a Service routes to it".to_owned())
            })
        },
        peers: "",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    // Pod security (security.authorization: what a compromised pod may do and reach).
    Rule {
        id: "security.privileged",
        aspect: Aspect::PodSecurity,
        level: Level::Fail,
        what: "A container is privileged, or the pod shares the host's network, PID or IPC namespace.",
        why: "A compromise of the container is a compromise of the node.",
        fix: "Remove privileged: true and hostNetwork/hostPID/hostIPC.",
        check: |w, _| {
            let mut hits: Hits = ["hostNetwork", "hostPID", "hostIPC"]
                .into_iter()
                .filter(|k| w.pod().get(*k) == Some(&Value::Bool(true)))
                .map(|k| (None, format!("{k}: true")))
                .collect();
            hits.extend(per_container(w, |c| {
                (c.pointer("/securityContext/privileged") == Some(&Value::Bool(true)))
                    .then(|| "privileged: true".to_owned())
            }));
            hits
        },
        peers: "kube-score `container-security-context`; Polaris `runAsPrivileged`, `hostNetworkSet`, `hostPIDSet`, `hostIPCSet`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "security.run-as-non-root",
        aspect: Aspect::PodSecurity,
        level: Level::Fail,
        what: "A container may run as root: `runAsNonRoot` is not true (container or pod), or `runAsUser` is 0.",
        why: "Root in a container turns a kernel or runtime flaw into root on the node.",
        fix: "Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) and build the image with a USER.",
        check: |w, _| {
            per_container(w, |c| {
                let non_root = security(w, c, "runAsNonRoot") == Some(&Value::Bool(true));
                let root_uid = security(w, c, "runAsUser").and_then(Value::as_i64) == Some(0);
                (!non_root || root_uid).then(|| "may run as root".to_owned())
            })
        },
        peers: "kube-score `container-security-context`; Polaris `runAsRootAllowed`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "security.privilege-escalation",
        aspect: Aspect::PodSecurity,
        level: Level::Fail,
        what: "A container does not set `allowPrivilegeEscalation: false`.",
        why: "setuid binaries in the image can gain privileges the container was not given.",
        fix: "Set securityContext.allowPrivilegeEscalation: false.",
        check: |w, _| {
            per_container(w, |c| {
                (c.pointer("/securityContext/allowPrivilegeEscalation") != Some(&Value::Bool(false)))
                    .then(|| "allowPrivilegeEscalation is not false".to_owned())
            })
        },
        peers: "Polaris `privilegeEscalationAllowed`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "security.capabilities",
        aspect: Aspect::PodSecurity,
        level: Level::Fail,
        what: "A container does not drop all capabilities, or adds capabilities beyond NET_BIND_SERVICE.",
        why: "Default capabilities (and added ones such as SYS_ADMIN or NET_RAW) widen what an attacker can do from the container.",
        fix: "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if needed.",
        check: |w, _| {
            per_container(w, |c| {
                let list = |k: &str| -> Vec<&str> {
                    c.pointer(&format!("/securityContext/capabilities/{k}"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect()
                };
                let added: Vec<&str> = list("add").into_iter().filter(|a| *a != "NET_BIND_SERVICE").collect();
                if !added.is_empty() {
                    Some(format!("adds capabilities {}", added.join(", ")))
                } else if !list("drop").iter().any(|d| d.eq_ignore_ascii_case("ALL")) {
                    Some("does not drop ALL capabilities".to_owned())
                } else {
                    None
                }
            })
        },
        peers: "Polaris `dangerousCapabilities`, `insecureCapabilities`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "security.read-only-root",
        aspect: Aspect::PodSecurity,
        level: Level::Warn,
        what: "A container's root filesystem is writable.",
        why: "An attacker can drop tools and persist changes inside the container.",
        fix: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application writes.",
        check: |w, _| {
            per_container(w, |c| {
                (c.pointer("/securityContext/readOnlyRootFilesystem") != Some(&Value::Bool(true)))
                    .then(|| "readOnlyRootFilesystem is not true".to_owned())
            })
        },
        peers: "kube-score `container-security-context`; Polaris `notReadOnlyRootFilesystem`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
    Rule {
        id: "security.network-policy",
        aspect: Aspect::PodSecurity,
        level: Level::Warn,
        what: "No NetworkPolicy selects the workload's pods.",
        why: "Any pod in the cluster can reach them, and they can reach anything: one compromised pod reaches them all.",
        fix: "Add a NetworkPolicy selecting the pods that allows only the traffic they need.",
        check: |w, _| {
            if !w.network_policies.is_empty() {
                return Vec::new();
            }
            one("no NetworkPolicy selects its pods".to_owned())
        },
        peers: "kube-score `pod-networkpolicy`",
        passes: DEPLOYMENT_OK,
        fails: BARE_DEPLOYMENT,
    },
];

/// Whether an image reference has neither a digest nor a tag other than
/// `latest` (a registry port is no tag: `host:5000/app`).
fn unpinned(image: &str) -> bool {
    if image.is_empty() {
        return true;
    }
    if image.contains("@sha256:") {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag == "latest" || tag.is_empty(),
        None => true,
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
