//! Kind `kubernetes_drain`: pods drain before they stop: a grace period and a preStop hook behind Services, from the manifests
//! (`scan::kubernetes`, aspect `Drain`).

use std::sync::Arc;

use super::{base, build_for};
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::scan::kubernetes::Aspect;

pub const KIND: KindInfo = base(
    "kubernetes_drain",
    Category::Deployment,
    "step.drain",
    "pods drain before they stop: a grace period and a preStop hook behind Services",
    build,
);

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    build_for(input, Aspect::Drain)
}
