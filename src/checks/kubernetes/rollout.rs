//! Kind `kubernetes_rollout`: a rollback can restore the previous version: pinned images, revision history, rolling updates, from the manifests
//! (`scan::kubernetes`, aspect `Rollout`).

use std::sync::Arc;

use super::{base, build_for};
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::scan::kubernetes::Aspect;

pub const KIND: KindInfo = base(
    "kubernetes_rollout",
    Category::Deployment,
    "deployment.verify_rollback_plan",
    "a rollback can restore the previous version: pinned images, revision history, rolling updates",
    build,
);

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    build_for(input, Aspect::Rollout)
}
