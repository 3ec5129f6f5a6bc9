//! Terminal syscalls: the pty peer of a ptmx master and the controlling terminal.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::check;
use super::SysError;

/// Unlocks the slave of a ptmx master and opens it with TIOCGPTPEER (no path lookup, so the
/// container cannot swap /dev/pts/N under us).
pub(crate) fn open_peer(master: BorrowedFd<'_>) -> Result<OwnedFd, SysError> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK takes a pointer to an int.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) };
    check(r as _, "ioctl(TIOCSPTLCK)", None)?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new fd.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY) };
    let fd = check(r as _, "ioctl(TIOCGPTPEER)", None)?;
    // SAFETY: fresh fd from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The pty number of a ptmx master (for the name sent with the console fd).
pub(crate) fn pty_number(master: BorrowedFd<'_>) -> Result<u32, SysError> {
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes an unsigned int.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) };
    check(r as _, "ioctl(TIOCGPTN)", None).map(|_| n)
}

/// Makes `fd` the controlling terminal of this session.
pub(crate) fn set_controlling(fd: BorrowedFd<'_>) -> Result<(), SysError> {
    // SAFETY: TIOCSCTTY with arg 0.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) };
    check(r as _, "ioctl(TIOCSCTTY)", None).map(drop)
}

/// Sets the window size of a terminal.
pub(crate) fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), SysError> {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads a winsize.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    check(r as _, "ioctl(TIOCSWINSZ)", None).map(drop)
}

/// The window size of a terminal, if `fd` is one.
pub(crate) fn get_winsize(fd: BorrowedFd<'_>) -> Option<(u16, u16)> {
    // SAFETY: a zeroed winsize is a valid out-buffer.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (r == 0).then_some((ws.ws_row, ws.ws_col))
}
