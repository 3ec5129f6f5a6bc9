//! Signal masks and signalfd over the whole range 1..=64, real-time signals included (the
//! callers' forwarding must cover them, and nix's `SigSet` cannot name them).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::check;
use super::SysError;

fn set_of(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: a zeroed sigset is valid input to sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; invalid numbers are rejected by sigaddset.
    unsafe {
        libc::sigemptyset(&mut set);
        for s in sigs {
            libc::sigaddset(&mut set, *s);
        }
    }
    set
}

/// Blocks `sigs` in the calling thread and returns a non-blocking signalfd that reads them.
pub(crate) fn block_and_signalfd(sigs: &[i32]) -> Result<OwnedFd, SysError> {
    let set = set_of(sigs);
    // SAFETY: valid set pointer, no old set wanted.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(SysError::from_errno("pthread_sigmask", None, r));
    }
    // SAFETY: valid set pointer; a new fd on success.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
    let fd = check(fd as _, "signalfd", None)?;
    // SAFETY: fresh fd from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The next pending signal of a signalfd, or None when there is none.
pub(crate) fn read_signalfd(fd: BorrowedFd<'_>) -> Option<i32> {
    // SAFETY: a zeroed siginfo is a valid out-buffer of the size read.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: the buffer is writable for `size` bytes.
    let n = unsafe { libc::read(fd.as_raw_fd(), (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
    (n as usize == size).then_some(info.ssi_signo as i32)
}
