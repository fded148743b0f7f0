//! Kind `kubernetes_capacity`: every container has CPU and memory requests and a memory limit; autoscalers own their replica counts, from the manifests
//! (`scan::kubernetes`, aspect `Capacity`).

use std::sync::Arc;

use super::{base, build_for};
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::scan::kubernetes::Aspect;

pub const KIND: KindInfo = base(
    "kubernetes_capacity",
    Category::Operations,
    "operations.capacity_planning",
    "every container has CPU and memory requests and a memory limit; autoscalers own their replica counts",
    build,
);

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    build_for(input, Aspect::Capacity)
}
