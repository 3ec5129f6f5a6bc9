//! Switching into the new root: pivot_root(".", ".") and a lazy unmount of the old root, or the
//! MS_MOVE + chroot fallback (`--no-pivot`); then rootfsPropagation, and at the end the
//! read-only mounts that had to stay writable while being filled, and `root.readonly`.

use std::os::fd::{AsFd, OwnedFd};

use super::RootDir;

use crate::error::SysError;
use crate::plan::MountStep;
use crate::sys;
use crate::sys::mount::{MountAttr, ATTR_RDONLY};

/// Makes the prepared root the process's "/".
pub(crate) fn switch_root(
    root: &RootDir,
    no_pivot: bool,
    propagation: u64,
    procfs: &pathrs::procfs::ProcfsHandle,
) -> Result<(), SysError> {
    if no_pivot {
        // The host's mounts stay in our namespace under the moved root (runc does the same).
        super::hostmounts::hide(root, procfs)?;
    }
    sys::process::fchdir(root.as_fd(), "rootfs")?;
    if no_pivot {
        sys::mount::move_by_path(".", "/")?;
        sys::mount::chroot_dot()?;
    } else {
        sys::mount::pivot_root_dot()?;
        // The old root is now stacked under "."; detach it so nothing of the host stays reachable.
        sys::mount::umount_detach(".")?;
    }
    sys::process::chdir("/")?;
    sys::mount::mount(None, "/", None, propagation)
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
}

/// Makes the late read-only mounts read-only, then "/" with `root.readonly` (after everything
/// else was mounted under it and /dev/console is in place).
pub(crate) fn finish_readonly(late: LateReadonly, root: bool) -> Result<(), SysError> {
    let ro = MountAttr { set: ATTR_RDONLY, ..Default::default() };
    for (mnt, recursive, what) in late.0 {
        sys::mount::mount_setattr(mnt.as_fd(), recursive, ro, &what)?;
    }
    if root {
        let fd = std::fs::File::open("/").map_err(|e| SysError::io("open", Some("/"), &e))?;
        sys::mount::mount_setattr(fd.as_fd(), false, ro, "/")?;
    }
    Ok(())
}
