//! Switching into the new root: pivot_root(".", ".") and a lazy unmount of the old root, or the
//! MS_MOVE + chroot fallback (`--no-pivot`), or chroot into a detached copy (no mount namespace);
//! then rootfsPropagation and `root.readonly`.

use std::os::fd::{AsFd, BorrowedFd};

use super::RootDir;

use crate::error::SysError;
use crate::plan::RootfsPlan;
use crate::sys;
use crate::sys::mount::{MountAttr, ATTR_RDONLY};

/// Makes the prepared root the process's "/". With `caller_mnt` (no mount namespace of the
/// container's) the root was prepared in a throwaway mount namespace: a detached copy of it is
/// taken, the process goes back to the caller's mount namespace and chroots into the copy (as runc
/// chroots without a mount namespace), so nothing is ever mounted in the caller's.
pub(crate) fn switch_root(
    root: &RootDir,
    plan: &RootfsPlan,
    caller_mnt: Option<BorrowedFd<'_>>,
) -> Result<(), SysError> {
    if let Some(mnt) = caller_mnt {
        if plan.readonly {
            // Before the copy, which keeps it: a copy whose fd is closed takes no attributes.
            readonly(root.as_fd())?;
        }
        let tree = sys::mount::open_tree(Some(root.as_fd()), "", true)?;
        sys::process::setns(mnt, libc::CLONE_NEWNS, "the caller's mount namespace")?;
        sys::process::fchdir(tree.as_fd(), "rootfs")?;
        sys::mount::chroot_dot()?;
        return sys::process::chdir("/");
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

/// Remounts "/" read-only (after everything else was mounted under it), unless `switch_root` did.
pub(crate) fn finish_readonly_root(plan: &RootfsPlan) -> Result<(), SysError> {
    if plan.detached {
        return Ok(());
    }
    let fd = std::fs::File::open("/").map_err(|e| SysError::io("open", Some("/"), &e))?;
    readonly(fd.as_fd())
}

fn readonly(root: BorrowedFd<'_>) -> Result<(), SysError> {
    sys::mount::mount_setattr(root, false, MountAttr { set: ATTR_RDONLY, ..Default::default() }, "/")
}
