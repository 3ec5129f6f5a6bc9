//! A NETLINK_ROUTE socket: open, send one request, read replies until an ack or the end of a dump.
//! Message encoding and decoding is safe code in `launch/netdev.rs`.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::check;
use super::SysError;

/// A close-on-exec rtnetlink socket in the caller's network namespace.
pub(crate) fn route_socket() -> Result<OwnedFd, SysError> {
    // SAFETY: plain integer arguments.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
    check(fd as _, "socket(NETLINK_ROUTE)", None)?;
    // SAFETY: a fresh fd from the kernel, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends one message to the kernel.
pub(crate) fn send(sock: BorrowedFd<'_>, msg: &[u8]) -> Result<(), SysError> {
    // SAFETY: the pointer and length describe `msg`; a zeroed sockaddr_nl addresses the kernel.
    let r = unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as u16;
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    check(r as _, "netlink send", None).map(drop)
}

/// Receives one datagram (possibly several messages).
pub(crate) fn recv(sock: BorrowedFd<'_>) -> Result<Vec<u8>, SysError> {
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let r = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    let n = check(r as _, "netlink recv", None)? as usize;
    buf.truncate(n);
    Ok(buf)
}
