//! Facts about the host read once per command (cgroup layout) and passed to the plan.

use crate::cgroups::{self, Layout};
use crate::error::Result;

/// What the plan needs to know about the host.
#[derive(Debug)]
pub(crate) struct HostInfo {
    pub(crate) cgroups: Layout,
}

impl HostInfo {
    /// Reads the host facts.
    pub(crate) fn detect() -> Result<HostInfo> {
        Ok(HostInfo { cgroups: cgroups::detect()? })
    }
}
