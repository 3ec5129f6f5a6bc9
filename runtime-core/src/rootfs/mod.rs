//! Executes the plan's filesystem steps inside the child's mount namespace: propagation, the rootfs
//! bind, every mount resolved inside the rootfs through fds, devices, masked and read-only paths,
//! and the switch into the new root.
//!
//! Every path inside the rootfs goes through a [`RootDir`] (openat2 RESOLVE_IN_ROOT, or libpathrs'
//! checked userspace walker where openat2 is missing), never through a host path string.

mod dev;
mod hostmounts;
mod masked;
mod mounts;
mod pivot;
mod resolve;
mod tmpcopyup;

pub(crate) use mounts::check_bind_sources;
pub(crate) use resolve::RootDir;

use crate::error::{Step, SysError};
use crate::plan::RootfsPlan;
use crate::sys;

pub(crate) use pivot::{finish_readonly, switch_root, LateReadonly};

/// A failure of a rootfs step, with its phase.
pub(crate) type StepResult<T> = Result<T, (Step, SysError)>;

trait AtStep<T> {
    fn at(self, step: Step) -> StepResult<T>;
}
impl<T> AtStep<T> for Result<T, SysError> {
    fn at(self, step: Step) -> StepResult<T> {
        self.map_err(|e| (step, e))
    }
}

/// Prepares the rootfs up to (not including) the switch into it; returns the root handle and
/// the mounts to make read-only once the console is in place.
pub(crate) fn prepare(
    plan: &RootfsPlan,
    cgroup_paths: &[(String, std::path::PathBuf)],
    premade: &[(usize, std::os::fd::OwnedFd)],
) -> StepResult<(RootDir, LateReadonly)> {
    let rootfs = plan.path.to_string_lossy().into_owned();
    // Nothing we mount may propagate back to the host; rootfsPropagation is applied to the new
    // root once we are inside it (pivot.rs), where it cannot reach the host's mounts.
    sys::mount::mount(None, "/", None, libc::MS_SLAVE | libc::MS_REC).at(Step::Rootfs)?;
    // pivot_root needs the new root to be a mount point.
    sys::mount::mount(Some(&rootfs), &rootfs, None, libc::MS_BIND | libc::MS_REC).at(Step::Rootfs)?;
    let root = RootDir::open(&rootfs).at(Step::Rootfs)?;
    let mut late = LateReadonly::default();
    for (i, m) in plan.mounts.iter().enumerate() {
        let tree = premade.iter().find(|(j, _)| *j == i).map(|(_, t)| std::os::fd::AsFd::as_fd(t));
        if let Some(mnt) = mounts::mount(&root, m, cgroup_paths, tree).at(Step::Rootfs)? {
            late.push(mnt, m);
        }
    }
    // A /dev bound from elsewhere is left as it is (runc).
    if plan.populate_dev {
        dev::populate(&root, &plan.devices, plan.userns).at(Step::Devices)?;
    }
    masked::apply(&root, &plan.masked, &plan.readonly_paths).at(Step::MaskedPaths)?;
    if let Some(cwd) = &plan.cwd {
        mounts::destination(&root, cwd, false).at(Step::Rootfs)?;
    }
    Ok((root, late))
}
