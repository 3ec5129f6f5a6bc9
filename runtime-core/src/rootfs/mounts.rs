//! One mount step: create or resolve the destination inside the root, build the mount detached
//! (fsopen/fsmount or open_tree), set its attributes, then attach it onto the destination fd.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use super::RootDir;
use crate::error::SysError;
use crate::plan::MountAttr;
use crate::plan::{MountKind, MountStep};
use crate::sys;
use libc::MOUNT_ATTR_RDONLY as ATTR_RDONLY;

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// The filesystem a bind onto `dest` must come from: procfs on /proc, sysfs on /sys (the plan
/// refuses every other kind of mount there).
fn required_magic(dest: &str) -> Option<(i64, &'static str)> {
    match dest {
        "proc" => Some((PROC_SUPER_MAGIC, "procfs")),
        "sys" => Some((SYSFS_MAGIC, "sysfs")),
        _ => None,
    }
}

/// Checks `fd` (a bind's source or its detached tree) against what `dest` requires.
fn check_bind_magic(fd: BorrowedFd<'_>, source: &str, dest: &str) -> Result<(), SysError> {
    let Some((magic, name)) = required_magic(dest) else { return Ok(()) };
    if sys::fs::fs_magic(fd, source)? != magic {
        let detail = format!("only {name} may be mounted on /{dest}: the bind source is not {name}");
        return Err(SysError::check("mount", Some(&format!("/{dest}")), detail));
    }
    Ok(())
}

/// Runtime side, before the clone: the source of a bind onto /proc or /sys is that filesystem.
/// The child checks the tree it opened again, so a source swapped in between is caught too.
pub(crate) fn check_bind_sources(mounts: &[MountStep]) -> Result<(), SysError> {
    for m in mounts {
        if let (MountKind::Bind { source, .. }, Some(_)) = (&m.kind, required_magic(&m.dest)) {
            let src = source.to_string_lossy();
            // O_PATH: a fifo planted as the source must not block the runtime.
            let f = sys::fs::open_o_path(source)?;
            check_bind_magic(f.as_fd(), &src, &m.dest)?;
        }
    }
    Ok(())
}

/// Resolves `dest` inside the root, creating a directory (or an empty file for a file bind).
pub(super) fn destination(root: &RootDir, dest: &str, file: bool) -> Result<OwnedFd, SysError> {
    match root.resolve(dest) {
        Err(e) if e.errno == libc::ENOENT => {}
        other => return other,
    }
    if file {
        root.create_file(dest)
    } else {
        root.mkdir_all(dest)
    }
}

fn apply_attrs(mnt: BorrowedFd<'_>, m: &MountStep, what: &str) -> Result<(), SysError> {
    if m.attr != MountAttr::default() {
        sys::mount::mount_setattr(mnt, false, m.attr.raw(), what)?;
    }
    if m.rattr != MountAttr::default() {
        sys::mount::mount_setattr(mnt, true, m.rattr.raw(), what)?;
    }
    Ok(())
}

fn attach(mnt: BorrowedFd<'_>, target: &OwnedFd, m: &MountStep) -> Result<(), SysError> {
    let what = format!("/{}", m.dest);
    sys::mount::move_mount(mnt, target.as_fd(), &what)?;
    if let Some((prop, recursive)) = m.propagation {
        sys::mount::mount_setattr(mnt, recursive, MountAttr { propagation: prop, ..Default::default() }.raw(), &what)?;
    }
    Ok(())
}

/// A new filesystem instance, detached, with the mount attributes of the step.
pub(super) fn new_fs(
    fstype: &str,
    source: &str,
    data: &[(String, Option<String>)],
    attrs: u64,
) -> Result<OwnedFd, SysError> {
    let ctx = sys::mount::fsopen(fstype)?;
    if !source.is_empty() {
        sys::mount::fsconfig(ctx.as_fd(), "source", Some(source))?;
    }
    for (k, v) in data {
        sys::mount::fsconfig(ctx.as_fd(), k, v.as_deref())?;
    }
    sys::mount::fsmount(ctx.as_fd(), attrs, fstype)
}

/// Makes one mount; `premade` is the tree the runtime opened for this step, if it did.
/// Returns the attached mount when it is to be made read-only at the end (`late_ro`).
pub(super) fn mount(
    root: &RootDir,
    m: &MountStep,
    cgroup_paths: &[(String, PathBuf)],
    premade: Option<BorrowedFd<'_>>,
) -> Result<Option<OwnedFd>, SysError> {
    let what = format!("/{}", m.dest);
    match &m.kind {
        MountKind::Bind { source, recursive } => {
            let src = source.to_string_lossy();
            let own;
            let tree = match premade {
                Some(t) => t,
                None => {
                    own = sys::mount::open_tree(None, &src, *recursive)?;
                    own.as_fd()
                }
            };
            check_bind_magic(tree, &src, &m.dest)?;
            // Of the opened tree: the path may be out of our reach (a user namespace).
            let is_file = sys::fs::fstat(tree, &src)?.mode & libc::S_IFMT != libc::S_IFDIR;
            let target = destination(root, &m.dest, is_file)?;
            apply_attrs(tree, m, &what)?;
            attach(tree, &target, m).map(|()| None)
        }
        MountKind::Fs { fstype, source, data } => {
            let target = destination(root, &m.dest, false)?;
            if fstype == "proc" || fstype == "sysfs" {
                check_plain_dir(root, &m.dest)?;
            }
            let mnt = match new_fs(fstype, source, data, m.attr.set) {
                // A user namespace that does not own the network namespace may not mount sysfs:
                // bind the host's, as runc does.
                Err(e) if e.errno == libc::EPERM && fstype == "sysfs" => {
                    let tree = sys::mount::open_tree(None, "/sys", true)?;
                    sys::mount::mount_setattr(tree.as_fd(), true, m.attr.raw(), &what)?;
                    tree
                }
                other => other?,
            };
            if fstype == "proc" && sys::fs::fs_magic(mnt.as_fd(), &what)? != PROC_SUPER_MAGIC {
                return Err(SysError::check("mount proc", Some(&what), "not a procfs"));
            }
            if m.copy_up {
                // Into the detached tmpfs, before it hides the directory being copied.
                super::tmpcopyup::copy(target.as_fd(), mnt.as_fd(), &what)?;
            }
            if m.rattr != MountAttr::default() {
                sys::mount::mount_setattr(mnt.as_fd(), true, m.rattr.raw(), &what)?;
            }
            attach(mnt.as_fd(), &target, m)?;
            Ok(m.late_ro.is_some().then_some(mnt))
        }
        MountKind::CgroupV1Tree => cgroup_v1_tree(root, m, cgroup_paths).map(|()| None),
    }
}

/// /proc and /sys must be real directories, never symlinks (CVE-2019-19921 and friends).
fn check_plain_dir(root: &RootDir, dest: &str) -> Result<(), SysError> {
    let h = root.resolve_nofollow(dest)?;
    let st = sys::fs::fstat(h.as_fd(), dest)?;
    if st.mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(SysError::check("mount", Some(dest), "destination must be a directory, not a symlink"));
    }
    Ok(())
}

/// cgroup v1: a tmpfs at the destination, then the container's own cgroup directory of each
/// hierarchy bound read-only under it (what runc shows without a cgroup namespace).
fn cgroup_v1_tree(root: &RootDir, m: &MountStep, cgroup_paths: &[(String, PathBuf)]) -> Result<(), SysError> {
    let what = format!("/{}", m.dest);
    let target = destination(root, &m.dest, false)?;
    let tmpfs = new_fs("tmpfs", "tmpfs", &[("mode".into(), Some("755".into()))], m.attr.set & !ATTR_RDONLY)?;
    sys::mount::move_mount(tmpfs.as_fd(), target.as_fd(), &what)?;
    for (name, host) in cgroup_paths {
        let dest = format!("{}/{name}", m.dest);
        let sub = destination(root, &dest, false)?;
        let tree = sys::mount::open_tree(None, &host.to_string_lossy(), false)?;
        sys::mount::mount_setattr(tree.as_fd(), false, m.attr.raw(), &dest)?;
        sys::mount::move_mount(tree.as_fd(), sub.as_fd(), &dest)?;
    }
    if m.attr.set & ATTR_RDONLY != 0 {
        sys::mount::mount_setattr(tmpfs.as_fd(), false, m.attr.raw(), &what)?;
    }
    Ok(())
}
