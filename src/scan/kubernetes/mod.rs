//! Kubernetes manifests as deployed: a directory of YAML/JSON files
//! (multi-document, `List` objects) or a kustomization rendered by `kubectl
//! kustomize` (`load`); the workloads in them with the objects that select
//! their pods (`workloads`); and the rules that judge them, as data with
//! their documentation and examples (`rules`). Knows nothing of checks, the
//! engine or the config: the `kubernetes_*` kinds adapt it.

mod examples;
mod load;
pub mod rules;
mod workloads;

pub use load::{load, Manifests, Object, Render};
pub use rules::{judge, Aspect, Finding, Level, Limits, Rule, RULES};
pub use workloads::{workloads, Workload};
