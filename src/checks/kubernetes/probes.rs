//! Kind `kubernetes_probes`: long-running containers have readiness and liveness probes, and they differ, from the manifests
//! (`scan::kubernetes`, aspect `Probes`).

use std::sync::Arc;

use super::{base, build_for};
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::scan::kubernetes::Aspect;

pub const KIND: KindInfo = base(
    "kubernetes_probes",
    Category::Deployment,
    "step.healthcheck",
    "long-running containers have readiness and liveness probes, and they differ",
    build,
);

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    build_for(input, Aspect::Probes)
}
