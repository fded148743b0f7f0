//! Kind `kubernetes_pod_security`: what a compromised container may do and reach: non-root, no privilege escalation, dropped capabilities, read-only root, a NetworkPolicy, from the manifests
//! (`scan::kubernetes`, aspect `PodSecurity`).

use std::sync::Arc;

use super::{base, build_for};
use crate::checks::{BuildInput, Category, Check, KindInfo, ParamError};
use crate::scan::kubernetes::Aspect;

pub const KIND: KindInfo = base(
    "kubernetes_pod_security",
    Category::Security,
    "security.authorization",
    "what a compromised container may do and reach: non-root, no privilege escalation, dropped capabilities, read-only root, a NetworkPolicy",
    build,
);

fn build(input: &BuildInput<'_>) -> Result<Arc<dyn Check>, ParamError> {
    build_for(input, Aspect::PodSecurity)
}
