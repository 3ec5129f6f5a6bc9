//! Mount syscalls: the fd-based mount API (fsopen, fsconfig, fsmount, open_tree, move_mount,
//! mount_setattr), classic mount(2) for propagation, umount, pivot_root and chroot.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::SysError;
use super::{check, cstr};

const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;
const OPEN_TREE_CLONE: u32 = 1;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

#[repr(C)]
struct RawMountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: callers pass an fd the kernel just returned, owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// Opens a filesystem context (`fsopen`).
pub(crate) fn fsopen(fstype: &str) -> Result<OwnedFd, SysError> {
    let t = cstr(fstype, "fsopen")?;
    // SAFETY: valid C string, FSOPEN_CLOEXEC.
    let r = unsafe { libc::syscall(libc::SYS_fsopen, t.as_ptr(), 1u32) };
    check(r, "fsopen", Some(fstype)).map(owned)
}

/// Sets a key (with value) or a flag (without) on a filesystem context.
pub(crate) fn fsconfig(ctx: BorrowedFd<'_>, key: &str, value: Option<&str>) -> Result<(), SysError> {
    let k = cstr(key, "fsconfig")?;
    let v: Option<CString> = value.map(|v| cstr(v, "fsconfig")).transpose()?;
    let (cmd, vp) = match &v {
        Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
        None => (FSCONFIG_SET_FLAG, std::ptr::null()),
    };
    // SAFETY: valid C strings (or NULL for a flag) that outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_fsconfig, ctx.as_raw_fd(), cmd, k.as_ptr(), vp, 0) };
    let shown = match value {
        Some(v) => format!("{key}={v}"),
        None => key.to_owned(),
    };
    check(r, "fsconfig", Some(&shown)).map(drop)
}

/// Creates the superblock and returns a detached mount with `attrs` (MOUNT_ATTR_*).
pub(crate) fn fsmount(ctx: BorrowedFd<'_>, attrs: u64, what: &str) -> Result<OwnedFd, SysError> {
    // SAFETY: no pointers.
    let r = unsafe { libc::syscall(libc::SYS_fsconfig, ctx.as_raw_fd(), FSCONFIG_CMD_CREATE, 0, 0, 0) };
    check(r, "fsconfig(create)", Some(what))?;
    // SAFETY: no pointers; FSMOUNT_CLOEXEC.
    let r = unsafe { libc::syscall(libc::SYS_fsmount, ctx.as_raw_fd(), 1u32, attrs as u32) };
    check(r, "fsmount", Some(what)).map(owned)
}

/// Clones the mount at `path` (or the fd with an empty path) into a detached tree.
pub(crate) fn open_tree(dirfd: Option<BorrowedFd<'_>>, path: &str, recursive: bool) -> Result<OwnedFd, SysError> {
    let p = cstr(path, "open_tree")?;
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    if path.is_empty() {
        flags |= libc::AT_EMPTY_PATH as u32;
    }
    let dfd = dirfd.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: valid C string.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, dfd, p.as_ptr(), flags) };
    check(r, "open_tree", Some(path)).map(owned)
}

/// Attaches a detached mount onto the object behind `target` (an O_PATH fd inside the rootfs).
pub(crate) fn move_mount(from: BorrowedFd<'_>, target: BorrowedFd<'_>, what: &str) -> Result<(), SysError> {
    let empty = c"";
    // SAFETY: empty C strings with the EMPTY_PATH flags: both sides are fds.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            empty.as_ptr(),
            target.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    check(r, "move_mount", Some(what)).map(drop)
}

/// Changes attributes and propagation of the mount behind `fd` (and below it with `recursive`):
/// sets the MOUNT_ATTR_* bits `set`, clears `clr`, and applies `propagation` (an MS_* flag or 0).
pub(crate) fn mount_setattr(
    fd: BorrowedFd<'_>,
    recursive: bool,
    [set, clr, propagation]: [u64; 3],
    what: &str,
) -> Result<(), SysError> {
    let raw = RawMountAttr { attr_set: set, attr_clr: clr, propagation, userns_fd: 0 };
    setattr(fd, recursive, raw, "mount_setattr", what)
}

/// Makes the detached mount behind `fd` idmapped through the user namespace `userns`.
pub(crate) fn set_idmap(
    fd: BorrowedFd<'_>,
    recursive: bool,
    userns: BorrowedFd<'_>,
    what: &str,
) -> Result<(), SysError> {
    let raw = RawMountAttr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    setattr(fd, recursive, raw, "mount_setattr idmap", what)
}

fn setattr(fd: BorrowedFd<'_>, recursive: bool, mut raw: RawMountAttr, op: &str, what: &str) -> Result<(), SysError> {
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: valid struct pointer and size; empty path with AT_EMPTY_PATH; any userns fd in it is
    // borrowed by the caller for the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &mut raw as *mut RawMountAttr,
            std::mem::size_of::<RawMountAttr>(),
        )
    };
    check(r, op, Some(what)).map(drop)
}

/// Classic mount(2), used for whole-tree propagation changes and binds by host path.
pub(crate) fn mount(src: Option<&str>, target: &str, fstype: Option<&str>, flags: u64) -> Result<(), SysError> {
    let s = src.map(|s| cstr(s, "mount")).transpose()?;
    let t = cstr(target, "mount")?;
    let f = fstype.map(|s| cstr(s, "mount")).transpose()?;
    // SAFETY: valid C strings or NULL.
    let r = unsafe {
        libc::mount(
            s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            t.as_ptr(),
            f.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            flags,
            std::ptr::null(),
        )
    };
    check(r as _, &format!("mount({flags:#x})"), Some(target)).map(drop)
}

/// Detaches the mount at `target`.
pub(crate) fn umount_detach(target: &str) -> Result<(), SysError> {
    let t = cstr(target, "umount2")?;
    // SAFETY: valid C string.
    let r = unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) };
    check(r as _, "umount2", Some(target)).map(drop)
}

/// pivot_root(".", "."): stacks the old root under the new one at the cwd (unmounted next).
pub(crate) fn pivot_root_dot() -> Result<(), SysError> {
    // SAFETY: valid C strings.
    let r = unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) };
    check(r, "pivot_root", Some(".")).map(drop)
}

/// chroot(".") (the `--no-pivot` path).
pub(crate) fn chroot_dot() -> Result<(), SysError> {
    // SAFETY: valid C string.
    let r = unsafe { libc::chroot(c".".as_ptr()) };
    check(r as _, "chroot", Some(".")).map(drop)
}

/// Moves the mount at `src` over `target` (MS_MOVE), by path.
pub(crate) fn move_by_path(src: &str, target: &str) -> Result<(), SysError> {
    mount(Some(src), target, None, libc::MS_MOVE)
}

/// A path naming one of our own fds, for the few calls that take only a path (overlay layers).
pub(crate) fn fd_path(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}
