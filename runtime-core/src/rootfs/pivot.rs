//! Switching into the new root: pivot_root(".", ".") and a lazy unmount of the old root, the
//! MS_MOVE + chroot fallback (`--no-pivot`), or chroot into a detached copy (no mount namespace);
//! then rootfsPropagation, and at the end the read-only mounts that had to stay writable while
//! being filled, and `root.readonly`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::RootDir;

use crate::error::SysError;
use crate::plan::MountAttr;
use crate::plan::{MountStep, RootfsPlan};
use crate::sys;
use libc::MOUNT_ATTR_RDONLY as ATTR_RDONLY;

/// Makes the prepared root the process's "/". With `caller_mnt` (no mount namespace of the
/// container's) the root was prepared in a throwaway mount namespace: a detached copy of it is
/// taken, the process goes back to the caller's mount namespace and chroots into the copy (as runc
/// chroots without a mount namespace), so nothing is ever mounted in the caller's. The copy's
/// mounts are new ones, so `late` and `root.readonly` are applied before it is taken.
pub(crate) fn switch_root(
    root: &RootDir,
    plan: &RootfsPlan,
    caller_mnt: Option<BorrowedFd<'_>>,
    late: &mut LateReadonly,
    procfs: &pathrs::procfs::ProcfsHandle,
) -> Result<(), SysError> {
    if let Some(mnt) = caller_mnt {
        std::mem::take(late).apply()?;
        if plan.readonly {
            readonly(root.as_fd())?;
        }
        let tree = sys::mount::open_tree(Some(root.as_fd()), "", true)?;
        sys::process::setns(mnt, libc::CLONE_NEWNS, "the caller's mount namespace")?;
        sys::process::fchdir(tree.as_fd(), "rootfs")?;
        sys::mount::chroot_dot()?;
        return sys::process::chdir("/");
    }
    if plan.no_pivot {
        // The host's mounts stay in our namespace under the moved root (runc does the same).
        super::hostmounts::hide(root, procfs)?;
    }
    sys::process::fchdir(root.as_fd(), "rootfs")?;
    if plan.no_pivot {
        sys::mount::move_by_path(".", "/")?;
        sys::mount::chroot_dot()?;
    } else {
        sys::mount::pivot_root_dot()?;
        // The old root is now stacked under "."; detach it so nothing of the host stays reachable.
        sys::mount::umount_detach(".")?;
    }
    sys::process::chdir("/")?;
    sys::mount::mount(None, "/", None, plan.propagation)
}

/// Read-only /dev and tmpfs mounts, attached writable so that devices, links, the console and
/// mounts below them could be made (runc remounts them at the end too). The fds stay valid across
/// the switch of root: they name the mounts, not paths.
#[derive(Debug, Default)]
pub(crate) struct LateReadonly(Vec<(OwnedFd, bool, String)>);

impl LateReadonly {
    pub(super) fn push(&mut self, mnt: OwnedFd, m: &MountStep) {
        if let Some(recursive) = m.late_ro {
            self.0.push((mnt, recursive, format!("/{}", m.dest)));
        }
    }

    fn apply(self) -> Result<(), SysError> {
        let ro = MountAttr { set: ATTR_RDONLY, ..Default::default() };
        for (mnt, recursive, what) in self.0 {
            sys::mount::mount_setattr(mnt.as_fd(), recursive, ro.raw(), &what)?;
        }
        Ok(())
    }
}

/// Makes the late read-only mounts read-only, then "/" with `root.readonly` (after everything
/// else was mounted under it and /dev/console is in place), unless `switch_root` did (detached).
pub(crate) fn finish_readonly(late: LateReadonly, plan: &RootfsPlan) -> Result<(), SysError> {
    late.apply()?;
    if plan.readonly && !plan.detached {
        let fd = std::fs::File::open("/").map_err(|e| SysError::io("open", Some("/"), &e))?;
        readonly(fd.as_fd())?;
    }
    Ok(())
}

fn readonly(root: BorrowedFd<'_>) -> Result<(), SysError> {
    sys::mount::mount_setattr(root, false, MountAttr { set: ATTR_RDONLY, ..Default::default() }.raw(), "/")
}
