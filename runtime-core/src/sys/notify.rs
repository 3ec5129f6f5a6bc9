//! Kernel notifications for the event stream: epoll (one fd the caller can poll), inotify (cgroup
//! v2 `memory.events`), eventfd (cgroup v1 OOM notifications).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::SysError;
use super::{check, cstr};

fn owned(r: libc::c_long, op: &str, what: Option<&str>) -> Result<OwnedFd, SysError> {
    let fd = check(r, op, what)?;
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// A close-on-exec epoll instance.
pub(crate) fn epoll() -> Result<OwnedFd, SysError> {
    // SAFETY: plain syscall.
    owned(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) } as _, "epoll_create1", None)
}

/// Watches `fd` for readability, reported with `token`.
pub(crate) fn epoll_add(ep: BorrowedFd<'_>, fd: BorrowedFd<'_>, token: u64) -> Result<(), SysError> {
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: token };
    // SAFETY: both fds are valid for the call; `ev` is a valid epoll_event.
    let r = unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) };
    check(r as _, "epoll_ctl", None).map(drop)
}

/// The tokens of the ready fds, waiting at most `timeout_ms` (-1: forever); empty on timeout.
pub(crate) fn epoll_wait(ep: BorrowedFd<'_>, timeout_ms: i32) -> Result<Vec<u64>, SysError> {
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
    loop {
        // SAFETY: `evs` has room for the 8 events the call may write.
        let r = unsafe { libc::epoll_wait(ep.as_raw_fd(), evs.as_mut_ptr(), evs.len() as i32, timeout_ms) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        let n = check(r as _, "epoll_wait", None)? as usize;
        return Ok(evs[..n].iter().map(|e| e.u64).collect());
    }
}

/// A non-blocking inotify instance watching `path` for modification.
pub(crate) fn inotify_modify(path: &str) -> Result<OwnedFd, SysError> {
    // SAFETY: plain syscall.
    let fd = owned(unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) } as _, "inotify_init1", None)?;
    let c = cstr(path, "inotify_add_watch")?;
    // SAFETY: valid fd and NUL-terminated path.
    let r = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_MODIFY) };
    check(r as _, "inotify_add_watch", Some(path))?;
    Ok(fd)
}

/// A non-blocking, close-on-exec eventfd.
pub(crate) fn eventfd() -> Result<OwnedFd, SysError> {
    // SAFETY: plain syscall.
    owned(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) } as _, "eventfd", None)
}

/// Reads whatever is pending on a non-blocking fd (inotify records, an eventfd counter) so that
/// it stops being readable; returns the last 8 bytes read as a number (the eventfd's count).
pub(crate) fn drain(fd: BorrowedFd<'_>) -> Result<u64, SysError> {
    let mut buf = [0u8; 4096];
    let mut last = 0;
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(last),
                _ => return check(r as _, "read", Some("notification")).map(|_| last),
            }
        }
        if r == 0 {
            return Ok(last);
        }
        if r == 8 {
            last = u64::from_ne_bytes(buf[..8].try_into().unwrap_or_default());
        }
    }
}
