//! Switching into the new root: pivot_root(".", ".") and a lazy unmount of the old root, or the
//! MS_MOVE + chroot fallback (`--no-pivot`); then rootfsPropagation and `root.readonly`.

use std::os::fd::AsFd;

use super::RootDir;

use crate::error::SysError;
use crate::sys;
use crate::sys::mount::{MountAttr, ATTR_RDONLY};

/// Makes the prepared root the process's "/".
pub(crate) fn switch_root(root: &RootDir, no_pivot: bool, propagation: u64) -> Result<(), SysError> {
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

/// Remounts "/" read-only (after everything else was mounted under it).
pub(crate) fn finish_readonly_root() -> Result<(), SysError> {
    let fd = std::fs::File::open("/").map_err(|e| SysError::io("open", Some("/"), &e))?;
    sys::mount::mount_setattr(fd.as_fd(), false, MountAttr { set: ATTR_RDONLY, ..Default::default() }, "/")
}
