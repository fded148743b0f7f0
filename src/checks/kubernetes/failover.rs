//! Kind `kubernetes_failover`: replicated workloads survive a node loss: replicas, a PodDisruptionBudget, spread over nodes, from the manifests
//! (`scan::kubernetes`, aspect `Failover`).

use std::sync::Arc;

use super::{base, build_for};
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::scan::kubernetes::Aspect;

pub const KIND: KindInfo = base(
    "kubernetes_failover",
    Category::Operations,
    "operations.failover",
    "replicated workloads survive a node loss: replicas, a PodDisruptionBudget, spread over nodes",
    build,
);

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    build_for(input, Aspect::Failover)
}
