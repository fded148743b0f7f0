//! Kinds that read the Kubernetes manifests a service is deployed with, one
//! per checklist item they evidence: `kubernetes_failover`,
//! `kubernetes_capacity`, `kubernetes_probes`, `kubernetes_rollout`,
//! `kubernetes_drain` and `kubernetes_pod_security`. They share the reader
//! and the rules (`scan::kubernetes`) and this adapter: one check judges
//! the rules of its aspect over every workload.

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str = r#"These read Kubernetes manifests on the exporter's machine (a `path` target or
`params.dir`): every `.yaml`, `.yml` and `.json` file below the directory
(multi-document files and `List` objects), or, when the directory holds a
`kustomization.yaml`, what `kubectl kustomize` renders (run with a timeout;
`kubectl` missing is `error` naming it). Workloads are Deployments,
StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods; Services,
PodDisruptionBudgets and NetworkPolicies are joined to them by label
selector (in the same namespace), HorizontalPodAutoscalers by
`scaleTargetRef`. Each kind judges the rules of its checklist item (the
table below: what, why and how to fix); a finding names the
workload (`Kind/name`), the container, the rule and what to write instead.
A rule's findings are waived per workload with `waivers: [{check: NAME,
finding: {rule: RULE_ID, location: Kind/name}}]` (location optional). A
directory with no workload is `error`; an invalid YAML file, a Helm
template that was not rendered and a document without `kind` are named in
`problems` and keep the check from passing (`warn`). Other kinds (CRDs,
ConfigMaps) are counted in `other_objects`, not judged."#;

pub mod capacity;
pub mod drain;
pub mod failover;
pub mod pod_security;
pub mod probes;
pub mod rollout;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::checks::blocking::run_blocking;
use crate::checks::source::resolve_path;
use crate::checks::{
    parse_params, BoxFuture, BuildInput, Category, Check, Context, KindInfo, Outcome, ParamError,
    State, TargetNeed,
};
use crate::config::{ConfigDuration, TargetType, Waiver};
use crate::scan::kubernetes::{
    judge, load, workloads, Aspect, Finding, Level, Limits, Render, RULES,
};

/// What the family's kinds share: a `KindInfo` with the family's target,
/// params, findings and docs; a kind names itself, its category, item and
/// summary (docs/development.md: a family attribute is set here once).
pub(super) const fn base(
    name: &'static str,
    category: Category,
    item: &'static str,
    summary: &'static str,
    build: fn(&BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError>,
) -> KindInfo {
    KindInfo {
        item: Some(item),
        summary,
        target: TargetNeed::Optional(&[TargetType::Path]),
        findings: Some("rule"),
        programs: &[("kubectl", "to render a kustomization; `params.kubectl` names another")],
        doc: "- **Passes** when every workload passes every rule of this kind in the family's rules table (findings a waiver names aside) and every file was read. **Fails** on a finding of level fail, **warns** on one of level warn or on a file that could not be read; **errors** when the directory cannot be read, `kubectl kustomize` fails or is missing, or it holds no workload. Observed value: findings.",
        ..KindInfo::new(name, category, build, <Params as schemars::JsonSchema>::json_schema)
    }
}

const fn default_min_replicas() -> i64 {
    2
}

const fn default_min_grace_seconds() -> i64 {
    10
}

fn default_kubectl() -> String {
    "kubectl".to_owned()
}

const fn default_render_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}

/// Params of the `kubernetes_*` kinds.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The directory of manifests (or of a `kustomization.yaml`), relative to
    /// the path target; the target's directory when unset.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// `kubernetes_failover`: replicas a Deployment or StatefulSet must
    /// count on (its `replicas`, or its HPA's `minReplicas`).
    #[serde(default = "default_min_replicas")]
    pub min_replicas: i64,
    /// `kubernetes_drain`: the least `terminationGracePeriodSeconds`.
    #[serde(default = "default_min_grace_seconds")]
    pub min_grace_seconds: i64,
    /// The kubectl that renders a kustomization (a name on `PATH` or a path).
    #[serde(default = "default_kubectl")]
    pub kubectl: String,
    /// How long `kubectl kustomize` may take.
    #[serde(default = "default_render_timeout")]
    pub render_timeout: ConfigDuration,
}

/// A check of one aspect over a directory of manifests.
#[derive(Debug)]
struct KubernetesCheck {
    aspect: Aspect,
    dir: PathBuf,
    render: Render,
    limits: Limits,
    waivers: Vec<Waiver>,
}

/// Builds the check of one aspect (each kind's `build` calls this).
pub(super) fn build_for(
    input: &BuildInput<'_>,
    aspect: Aspect,
) -> Result<Arc<dyn Check>, ParamError> {
    let params: Params = parse_params(&input.spec.params)?;
    if params.min_replicas < 1 {
        return Err(ParamError::param("min_replicas", "must be at least 1"));
    }
    if params.min_grace_seconds < 0 {
        return Err(ParamError::param(
            "min_grace_seconds",
            "must not be negative",
        ));
    }
    if params.kubectl.trim().is_empty() {
        return Err(ParamError::param("kubectl", "must name a program"));
    }
    Ok(Arc::new(KubernetesCheck {
        aspect,
        dir: resolve_path(input, params.dir.as_deref(), "dir")?,
        render: Render {
            kubectl: params.kubectl,
            timeout: params.render_timeout.0,
        },
        limits: Limits {
            min_replicas: params.min_replicas,
            min_grace_seconds: params.min_grace_seconds,
        },
        waivers: input.spec.waivers.clone(),
    }))
}

/// The kind that judges an aspect's rules.
fn kind_of(aspect: Aspect) -> &'static str {
    match aspect {
        Aspect::Failover => failover::KIND.name,
        Aspect::Capacity => capacity::KIND.name,
        Aspect::Probes => probes::KIND.name,
        Aspect::Rollout => rollout::KIND.name,
        Aspect::Drain => drain::KIND.name,
        Aspect::PodSecurity => pod_security::KIND.name,
    }
}

/// The rules as docs/kinds.md lists them, generated from `RULES`.
pub fn rules_table() -> String {
    let mut out = String::from(
        "The rules, by kind (`scan::kubernetes::rules`; each has a manifest it passes and one it fails, run by a test):\n\n| rule | kind | level | what | why | fix | kube-score / Polaris |\n|---|---|---|---|---|---|---|\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {} | {} |\n",
            r.id,
            kind_of(r.aspect),
            r.level.as_str(),
            r.what.replace('|', "\\|"),
            r.why.replace('|', "\\|"),
            r.fix.replace('|', "\\|"),
            if r.peers.is_empty() { "none" } else { r.peers }
        ));
    }
    out
}

impl KubernetesCheck {
    /// The waiver holding at `now` for a finding: its rule, and its
    /// location (`Kind/name`, or `Kind/name/container`) when it names one.
    fn waiver_of(&self, f: &Finding, now: i64) -> Option<&Waiver> {
        self.waivers.iter().find(|w| {
            let Some(spec) = w.finding.as_ref() else {
                return false;
            };
            let at = |loc: &str| {
                loc == f.workload
                    || f.container
                        .as_ref()
                        .is_some_and(|c| loc == format!("{}/{c}", f.workload))
            };
            w.active_at(now)
                && spec.rule.as_deref() == Some(f.rule)
                && spec.location.as_deref().is_none_or(at)
        })
    }

    /// The state and message: a fail-level finding fails, a warn-level one
    /// warns, a file not read keeps it from passing.
    fn verdict(
        &self,
        workloads: usize,
        counted: &[Finding],
        waived: usize,
        read: &crate::scan::kubernetes::Manifests,
    ) -> (State, String) {
        let shown: Vec<String> = counted
            .iter()
            .take(5)
            .map(|f| match &f.container {
                Some(c) => format!("{} container {c}: {} ({})", f.workload, f.detail, f.rule),
                None => format!("{}: {} ({})", f.workload, f.detail, f.rule),
            })
            .collect();
        let more = counted.len().saturating_sub(shown.len());
        let listed = if more > 0 {
            format!("{} (and {more} more)", shown.join("; "))
        } else {
            shown.join("; ")
        };
        if counted.iter().any(|f| f.level == Level::Fail) {
            (
                State::Fail,
                format!(
                    "{} finding(s) over {} workload(s): {listed}",
                    counted.len(),
                    workloads
                ),
            )
        } else if !counted.is_empty() {
            (
                State::Warn,
                format!(
                    "{} warning(s) over {} workload(s): {listed}",
                    counted.len(),
                    workloads
                ),
            )
        } else if !read.problems.is_empty() {
            (
                State::Warn,
                format!(
                    "{} workload(s) pass, but {} file(s) or document(s) were not read, so what they hold is not verified: {}",
                    workloads,
                    read.problems.len(),
                    read.problems.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
                ),
            )
        } else {
            let rules = RULES.iter().filter(|r| r.aspect == self.aspect).count();
            (
                State::Pass,
                format!(
                    "{} workload(s) in {} file(s) pass {rules} rule(s){}",
                    workloads,
                    read.files,
                    if waived == 0 {
                        String::new()
                    } else {
                        format!(" ({} finding(s) waived)", waived)
                    }
                ),
            )
        }
    }

    async fn judge(&self, ctx: &Context) -> Result<Outcome, Outcome> {
        ctx.trace(format!("reading manifests under {}", self.dir.display()));
        let (dir, render) = (self.dir.clone(), self.render.clone());
        let read = run_blocking(move |cancel| load(&dir, &render, cancel))
            .await
            .and_then(|r| r)
            .map_err(Outcome::error)?;
        let found = workloads(&read.objects);
        let mut other: BTreeMap<&str, usize> = BTreeMap::new();
        for o in read
            .objects
            .iter()
            .filter(|o| !found.iter().any(|w| std::ptr::eq(w.object, *o)))
        {
            *other.entry(o.kind.as_str()).or_default() += 1;
        }
        if found.is_empty() {
            let mut why = format!(
                "no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) in {}: {} object(s) in {} file(s)",
                self.dir.display(),
                read.objects.len(),
                read.files
            );
            if !read.problems.is_empty() {
                why.push_str(&format!(
                    "; not read: {}",
                    read.problems
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            return Err(Outcome::error(why));
        }
        let now = crate::clock::unix_now();
        let (waived, counted): (Vec<Finding>, Vec<Finding>) =
            judge(&found, self.aspect, &self.limits)
                .into_iter()
                .partition(|f| self.waiver_of(f, now).is_some());
        let finding_json = |f: &Finding| {
            json!({"workload": f.workload, "namespace": f.namespace, "container": f.container,
                   "rule": f.rule, "level": f.level.as_str(), "detail": f.detail, "fix": f.fix})
        };
        let waived_json: Vec<serde_json::Value> = waived
            .iter()
            .filter_map(|f| {
                let mut v = finding_json(f);
                v["waiver"] = self.waiver_of(f, now)?.view(now);
                Some(v)
            })
            .collect();
        let (state, message) = self.verdict(found.len(), &counted, waived.len(), &read);
        Ok(Outcome::new(state, message)
            .observed(counted.len() as f64)
            .threshold(0.0)
            .evidence("root", self.dir.display().to_string())
            .evidence(
                "findings",
                counted
                    .iter()
                    .take(500)
                    .map(finding_json)
                    .collect::<Vec<_>>(),
            )
            .evidence("waived_findings", waived_json)
            .evidence(
                "workloads",
                found.iter().map(|w| w.object.id()).collect::<Vec<_>>(),
            )
            .evidence("problems", read.problems)
            .evidence("files", read.files)
            .evidence("rendered_with", read.rendered_with)
            .evidence(
                "other_objects",
                other
                    .into_iter()
                    .map(|(k, n)| (k.to_owned(), json!(n)))
                    .collect::<serde_json::Map<_, _>>(),
            ))
    }
}

impl Check for KubernetesCheck {
    fn evaluate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { crate::checks::settle(self.judge(ctx).await) })
    }
}
