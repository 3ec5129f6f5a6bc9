//! maskedPaths (files get the container's verified /dev/null bound over them, directories a
//! read-only tmpfs) and readonlyPaths (a read-only recursive bind of themselves).

use std::os::fd::{AsFd, OwnedFd};

use super::mounts::new_fs;
use super::RootDir;
use crate::error::SysError;
use crate::plan::{MountAttr, ATTR_LOCKED_DOWN};
use crate::sys;

/// A path that does not exist in this rootfs is simply not there to mask.
fn resolve_existing(root: &RootDir, path: &str) -> Result<Option<OwnedFd>, SysError> {
    match root.resolve(path) {
        Ok(h) => Ok(Some(h)),
        Err(e) if e.errno == libc::ENOENT || e.errno == libc::ENOTDIR => Ok(None),
        Err(e) => Err(e),
    }
}

/// The container's /dev/null, checked to be the real character device 1:3 (CVE-2025-31133).
fn verified_null(root: &RootDir) -> Result<OwnedFd, SysError> {
    let h = root.resolve_nofollow("dev/null")?;
    let st = sys::fs::fstat(h.as_fd(), "/dev/null")?;
    if st.mode & libc::S_IFMT != libc::S_IFCHR || st.major != 1 || st.minor != 3 {
        return Err(SysError::check("mask", Some("/dev/null"), "not the character device 1:3"));
    }
    Ok(h)
}

pub(super) fn apply(root: &RootDir, masked: &[String], readonly: &[String]) -> Result<(), SysError> {
    let mut null: Option<OwnedFd> = None;
    for p in masked {
        let Some(target) = resolve_existing(root, p)? else { continue };
        let shown = format!("/{p}");
        let st = sys::fs::fstat(target.as_fd(), &shown)?;
        let mnt = if st.mode & libc::S_IFMT == libc::S_IFDIR {
            new_fs("tmpfs", "tmpfs", &[], ATTR_LOCKED_DOWN)?
        } else {
            let n = match &mut null {
                Some(n) => n,
                empty => empty.insert(verified_null(root)?),
            };
            sys::mount::open_tree(Some(n.as_fd()), "", false)?
        };
        sys::mount::move_mount(mnt.as_fd(), target.as_fd(), &shown)?;
    }
    for p in readonly {
        let Some(target) = resolve_existing(root, p)? else { continue };
        let shown = format!("/{p}");
        let tree = sys::mount::open_tree(Some(target.as_fd()), "", true)?;
        let ro = MountAttr { set: ATTR_LOCKED_DOWN, ..Default::default() };
        sys::mount::mount_setattr(tree.as_fd(), true, ro.raw(), &shown)?;
        sys::mount::move_mount(tree.as_fd(), target.as_fd(), &shown)?;
    }
    Ok(())
}
