//! File syscalls on fds: device nodes, ownership, stat checks, fifos, symlinks and small writes.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::SysError;
use super::{check, cstr};

/// What `fstat` says of an fd, reduced to what the checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// st_mode (type and permission bits).
    pub(crate) mode: u32,
    /// st_rdev major.
    pub(crate) major: u32,
    /// st_rdev minor.
    pub(crate) minor: u32,
    /// st_dev of the filesystem holding it.
    pub(crate) dev: u64,
    /// Inode number.
    pub(crate) ino: u64,
}

/// `fstat` of an fd (O_PATH fds included).
pub(crate) fn fstat(fd: BorrowedFd<'_>, what: &str) -> Result<Stat, SysError> {
    // SAFETY: a zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out-pointer; empty path with AT_EMPTY_PATH.
    let r = unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    check(r as _, "fstat", Some(what))?;
    Ok(Stat {
        mode: st.st_mode,
        major: libc::major(st.st_rdev),
        minor: libc::minor(st.st_rdev),
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

/// The filesystem magic of the filesystem holding `fd`.
pub(crate) fn fs_magic(fd: BorrowedFd<'_>, what: &str) -> Result<i64, SysError> {
    // SAFETY: a zeroed statfs is a valid out-buffer.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out-pointer.
    let r = unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) };
    check(r as _, "fstatfs", Some(what))?;
    // The field's type differs between libcs (i64 in glibc, u64 in musl); magics fit either.
    Ok(st.f_type as i64)
}

/// Creates a device node, fifo or regular file `name` in the directory `dir`.
pub(crate) fn mknodat(dir: BorrowedFd<'_>, name: &str, mode: u32, major: u32, minor: u32) -> Result<(), SysError> {
    let n = cstr(name, "mknodat")?;
    // SAFETY: valid fd and C string.
    let r = unsafe { libc::mknodat(dir.as_raw_fd(), n.as_ptr(), mode, libc::makedev(major, minor)) };
    check(r as _, "mknodat", Some(name)).map(drop)
}

/// Sets owner of `name` in `dir` without following a symlink.
pub(crate) fn fchownat(dir: BorrowedFd<'_>, name: &str, uid: u32, gid: u32) -> Result<(), SysError> {
    let n = cstr(name, "fchownat")?;
    // SAFETY: valid fd and C string.
    let r = unsafe { libc::fchownat(dir.as_raw_fd(), n.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) };
    check(r as _, "fchownat", Some(name)).map(drop)
}

/// Changes the owner of an open file (`u32::MAX` leaves that id as it is).
pub(crate) fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32, what: &str) -> Result<(), SysError> {
    // SAFETY: plain syscall on a valid fd.
    let r = unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) };
    check(r as _, "fchown", Some(what)).map(drop)
}

/// Removes the non-directory `name` in `dir`; a missing one is not an error.
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &str) -> Result<(), SysError> {
    let n = cstr(name, "unlinkat")?;
    // SAFETY: valid fd and C string.
    let r = unsafe { libc::unlinkat(dir.as_raw_fd(), n.as_ptr(), 0) };
    match check(r as _, "unlinkat", Some(name)) {
        Err(e) if e.errno == libc::ENOENT => Ok(()),
        other => other.map(drop),
    }
}

/// Sets permission bits of `name` in `dir` (mknod's mode is filtered by the umask).
pub(crate) fn fchmodat(dir: BorrowedFd<'_>, name: &str, mode: u32) -> Result<(), SysError> {
    let n = cstr(name, "fchmodat")?;
    // SAFETY: valid fd and C string.
    let r = unsafe { libc::fchmodat(dir.as_raw_fd(), n.as_ptr(), mode, 0) };
    check(r as _, "fchmodat", Some(name)).map(drop)
}

/// Creates a symlink `name` -> `target` in `dir`; an existing entry is left alone.
pub(crate) fn symlinkat(target: &str, dir: BorrowedFd<'_>, name: &str) -> Result<(), SysError> {
    let t = cstr(target, "symlinkat")?;
    let n = cstr(name, "symlinkat")?;
    // SAFETY: valid fd and C strings.
    let r = unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) };
    match check(r as _, "symlinkat", Some(name)) {
        Err(e) if e.errno == libc::EEXIST => Ok(()),
        other => other.map(drop),
    }
}

/// Opens `name` relative to `dir` without following symlinks in the last component.
pub(crate) fn openat(dir: BorrowedFd<'_>, name: &str, flags: i32, what: &str) -> Result<OwnedFd, SysError> {
    let n = cstr(name, "openat")?;
    // SAFETY: valid fd and C string; the result is a new fd we own.
    let r = unsafe { libc::openat(dir.as_raw_fd(), n.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW, 0o644) };
    check(r as _, "openat", Some(what)).map(|fd| {
        // SAFETY: fresh fd from the kernel.
        unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
    })
}

/// An O_PATH fd of a host path, symlinks followed. Not through `std::fs::OpenOptions`: on musl its
/// `custom_flags` drops O_PATH (musl's O_ACCMODE includes it), which would open a fifo for reading
/// and block.
pub(crate) fn open_o_path(path: &std::path::Path) -> Result<OwnedFd, SysError> {
    let shown = path.to_string_lossy();
    let p = cstr(&shown, "open")?;
    // SAFETY: valid C string; the result is a new fd we own.
    let r = unsafe { libc::open(p.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    check(r as _, "open", Some(&shown)).map(|fd| {
        // SAFETY: fresh fd from the kernel.
        unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
    })
}

/// Creates a fifo at a host path (the exec fifo in the state directory).
pub(crate) fn mkfifo(path: &str, mode: u32) -> Result<(), SysError> {
    let p = cstr(path, "mkfifo")?;
    // SAFETY: valid C string.
    let r = unsafe { libc::mkfifo(p.as_ptr(), mode) };
    check(r as _, "mkfifo", Some(path)).map(drop)
}

/// Writes all of `data` to `fd`.
pub(crate) fn write_all(fd: BorrowedFd<'_>, data: &[u8], what: &str) -> Result<(), SysError> {
    let mut off = 0;
    while off < data.len() {
        // SAFETY: the pointer and length describe the unwritten rest of `data` (`off < len` by
        // the loop condition, so the slice cannot panic).
        let r = unsafe { libc::write(fd.as_raw_fd(), data[off..].as_ptr().cast(), data.len() - off) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        off += check(r as _, "write", Some(what))? as usize;
    }
    Ok(())
}

/// Reads once from `fd` into `buf`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8], what: &str) -> Result<usize, SysError> {
    loop {
        // SAFETY: the buffer is writable for its length.
        let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r as _, "read", Some(what)).map(|n| n as usize);
    }
}

/// Waits until `fd` is readable or `timeout_ms` passes; true if readable.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> Result<bool, SysError> {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r as _, "poll", None).map(|n| n > 0);
    }
}

/// The id of the mount holding `fd` (statx STATX_MNT_ID, as /proc/PID/mountinfo numbers mounts).
pub(crate) fn mount_id(fd: BorrowedFd<'_>, what: &str) -> Result<u64, SysError> {
    // SAFETY: a zeroed statx is a valid out-buffer.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd, empty C string with AT_EMPTY_PATH, valid out-pointer.
    let r = unsafe { libc::statx(fd.as_raw_fd(), c"".as_ptr(), libc::AT_EMPTY_PATH, libc::STATX_MNT_ID, &mut st) };
    check(r as _, "statx", Some(what))?;
    if st.stx_mask & libc::STATX_MNT_ID == 0 {
        return Err(SysError::check("statx", Some(what), "no mount id from the kernel"));
    }
    Ok(st.stx_mnt_id)
}

/// Whether the mount holding `fd` is read-only.
pub(crate) fn on_readonly_mount(fd: BorrowedFd<'_>, what: &str) -> Result<bool, SysError> {
    // SAFETY: a zeroed statvfs is a valid out-buffer.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out-pointer.
    let r = unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut st) };
    check(r as _, "fstatvfs", Some(what))?;
    Ok(st.f_flag & libc::ST_RDONLY != 0)
}

/// RESOLVE_* flags of openat2.
pub(crate) const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub(crate) const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub(crate) const RESOLVE_IN_ROOT: u64 = 0x10;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2: opens `path` relative to `dir` with the kernel's path-resolution restrictions.
pub(crate) fn openat2(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> Result<OwnedFd, SysError> {
    let p = cstr(path, "openat2")?;
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode: u64::from(mode), resolve };
    loop {
        // SAFETY: valid fd, C string and open_how of the size passed.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                p.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
            // A rename raced the lookup; the kernel asks us to retry.
            continue;
        }
        let fd = check(r, "openat2", Some(path))?;
        // SAFETY: fresh fd from the kernel.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    }
}

/// mkdirat: creates directory `name` in `dir`.
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &str, mode: u32) -> Result<(), SysError> {
    let n = cstr(name, "mkdirat")?;
    // SAFETY: valid fd and C string.
    let r = unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), mode) };
    check(r as _, "mkdirat", Some(name)).map(drop)
}

/// An anonymous memory file (close-on-exec, sealable).
pub(crate) fn memfd(name: &str) -> Result<OwnedFd, SysError> {
    let n = cstr(name, "memfd_create")?;
    // SAFETY: valid C string; the result is a new fd we own.
    let r = unsafe { libc::memfd_create(n.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    let fd = check(r as _, "memfd_create", Some(name))?;
    // SAFETY: fresh fd from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Seals a memfd against any further change.
pub(crate) fn seal_all(fd: BorrowedFd<'_>) -> Result<(), SysError> {
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl with integer arguments.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) };
    check(r as _, "fcntl(F_ADD_SEALS)", None).map(drop)
}

/// The seals of a file (0 for files that cannot be sealed).
pub(crate) fn seals(fd: BorrowedFd<'_>) -> i32 {
    // SAFETY: fcntl query.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    r.max(0)
}
