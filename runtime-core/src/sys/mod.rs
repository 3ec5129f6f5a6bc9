//! The only module with `unsafe`: thin 1:1 wrappers over system calls, each returning a
//! [`SysError`](crate::SysError) that names the operation and its object.
//!
//! Wrappers take and return `OwnedFd`/`BorrowedFd`, never raw fds stored in structs.

pub(crate) mod cgroup;
mod errno_texts;
pub(crate) mod error;
pub(crate) mod fs;
pub(crate) mod mount;
pub(crate) mod netlink;
pub(crate) mod notify;
pub(crate) mod process;
pub(crate) mod sched;
pub(crate) mod seccomp;
pub(crate) mod signal;
pub(crate) mod socket;
pub(crate) mod spawn;
pub(crate) mod tty;

use std::ffi::CString;

pub(crate) use error::{path_err, SysError};

/// Turns a `-1` return into a `SysError` from errno.
fn check(ret: libc::c_long, op: &str, path: Option<&str>) -> Result<libc::c_long, SysError> {
    if ret < 0 {
        Err(SysError::last(op, path))
    } else {
        Ok(ret)
    }
}

/// A C string for a syscall argument; interior NULs are rejected rather than truncated.
fn cstr(s: &str, op: &str) -> Result<CString, SysError> {
    CString::new(s).map_err(|_| SysError::check(op, Some(s), "contains a NUL byte"))
}
