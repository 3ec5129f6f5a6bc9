//! /proc/PID files as the runtime side reads them (an init's start time and state, its cgroups): through a
//! private procfs instance made once per process (fsopen + fsmount, attached nowhere, so nothing
//! can be mounted over its files), opened with openat2 confined beneath it. libpathrs's handle
//! gives the same guarantee but re-verifies itself on every open (about 25 syscalls each, and
//! a start reads the stat three times); it stays the fallback where no procfs can be made (an
//! unprivileged caller that does not own its pid namespace).
//!
//! The cached instance is for the runtime side only (a child that closes its fds would keep its
//! number). [`reopen`] serves the container's init, with the init's own procfs handle.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use crate::error::SysError;
use crate::sys;
use libc::{MOUNT_ATTR_NODEV as ATTR_NODEV, MOUNT_ATTR_NOEXEC as ATTR_NOEXEC, MOUNT_ATTR_NOSUID as ATTR_NOSUID};

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const RESOLVE_NO_XDEV: u64 = 0x01;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;

static PRIVATE: OnceLock<Option<OwnedFd>> = OnceLock::new();

/// The process's private procfs, made on first use; None where procfs cannot be mounted.
fn private() -> Option<BorrowedFd<'static>> {
    PRIVATE
        .get_or_init(|| {
            let ctx = sys::mount::fsopen("proc").ok()?;
            let mnt = sys::mount::fsmount(ctx.as_fd(), ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC, "proc").ok()?;
            (sys::fs::fs_magic(mnt.as_fd(), "proc").ok()? == PROC_SUPER_MAGIC).then_some(mnt)
        })
        .as_ref()
        .map(|fd| fd.as_fd())
}

/// The text of /proc/PID/stat.
pub(crate) fn stat(pid: i32) -> Result<String, SysError> {
    pid_file(pid, "stat")
}

/// The text of /proc/PID/`name` (a small file: stat, cgroup).
pub(crate) fn pid_file(pid: i32, name: &str) -> Result<String, SysError> {
    let sub = format!("{pid}/{name}");
    let mut f = match private() {
        Some(proc) => {
            let how = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
            std::fs::File::from(sys::fs::openat2(proc, &sub, libc::O_RDONLY | libc::O_NOFOLLOW, 0, how)?)
        }
        None => {
            let procfs = pathrs::procfs::ProcfsHandle::new().map_err(|e| crate::sys::path_err("open", "procfs", e))?;
            procfs
                .open(pathrs::procfs::ProcfsBase::ProcRoot, &sub, pathrs::flags::OpenFlags::O_RDONLY)
                .map_err(|e| crate::sys::path_err("open", &format!("/proc/{sub}"), e))?
        }
    };
    // These files are well under 1 KiB: one read, then the end.
    let mut s = String::with_capacity(512);
    f.read_to_string(&mut s).map_err(|e| SysError::io("read", Some(&format!("/proc/{sub}")), &e))?;
    Ok(s)
}

/// Reopens one of our own fds (an O_PATH one) with `flags` through `thread-self/fd` of the trusted
/// procfs instance `proc`: the directory is reached beneath it without crossing mounts or
/// following magic links, and only the final entry, our own fd, is followed (the same walk as
/// libpathrs's `open_follow`, without its per-call re-verification of the handle).
pub(crate) fn reopen(proc: BorrowedFd<'_>, fd: BorrowedFd<'_>, flags: i32, what: &str) -> Result<OwnedFd, SysError> {
    let how = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
    let dir = sys::fs::openat2(proc, "thread-self/fd", libc::O_PATH | libc::O_DIRECTORY, 0, how)
        .map_err(|e| SysError { path: Some(format!("/proc/thread-self/fd ({what})")), ..e })?;
    sys::fs::openat2(dir.as_fd(), &fd.as_raw_fd().to_string(), flags, 0, 0)
        .map_err(|e| SysError { path: Some(what.to_string()), ..e })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn reads_our_own_stat_and_refuses_a_missing_pid() {
        let me = std::process::id() as i32;
        let s = super::stat(me).unwrap();
        assert!(s.starts_with(&format!("{me} (")), "{s}");
        // Twice: the second read goes through the cached instance.
        assert_eq!(super::stat(me).unwrap().split(' ').next(), s.split(' ').next());
        let e = super::stat(i32::MAX).unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
    }

    #[test]
    fn reopens_an_o_path_fd_for_writing() {
        use std::io::{Read, Write};
        use std::os::fd::{AsFd, OwnedFd};
        let dir = std::env::temp_dir().join(format!("hull-reopen-{}", std::process::id()));
        std::fs::write(&dir, b"").unwrap();
        let opath: OwnedFd =
            std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH).open(&dir).unwrap().into();
        let proc: OwnedFd = std::fs::File::open("/proc").unwrap().into();
        let mut w = std::fs::File::from(super::reopen(proc.as_fd(), opath.as_fd(), libc::O_WRONLY, "t").unwrap());
        // O_PATH fds cannot be written; the reopened one can.
        w.write_all(b"written").unwrap();
        let mut s = String::new();
        std::fs::File::open(&dir).unwrap().read_to_string(&mut s).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(s, "written");
    }
}
