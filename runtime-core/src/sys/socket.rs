//! Unix sockets: the SEQPACKET pair between the runtime and the container's child, with fds and
//! credentials passed alongside, and the send of an fd to a caller's socket (console, seccomp agent).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::check;
use super::SysError;

/// Largest message of the parent/child protocol; anything bigger is refused, not truncated.
pub(crate) const MAX_MSG: usize = 64 * 1024;

/// A close-on-exec SEQPACKET socketpair.
pub(crate) fn seqpacket_pair() -> Result<(OwnedFd, OwnedFd), SysError> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two fds written on success.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
    check(r as _, "socketpair", None)?;
    // SAFETY: two fresh fds from the kernel.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Lets the kernel attach (and translate across pid namespaces) the sender's credentials.
pub(crate) fn enable_passcred(sock: BorrowedFd<'_>) -> Result<(), SysError> {
    let one: libc::c_int = 1;
    // SAFETY: valid option pointer and size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PASSCRED,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
    check(r as _, "setsockopt(SO_PASSCRED)", None).map(drop)
}

/// A received message: payload, passed fds, and the sender's pid as seen from our pid namespace.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) data: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
    pub(crate) pid: Option<i32>,
}

const CMSG_SPACE: usize = 256;

#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_SPACE]);

/// Sends one packet with optional fds and, with `creds`, our pid as SCM_CREDENTIALS.
pub(crate) fn send(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>], creds: bool) -> Result<(), SysError> {
    if data.len() > MAX_MSG || fds.len() > 16 {
        return Err(SysError::check("sendmsg", None, "message too large"));
    }
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut _, iov_len: data.len() };
    let mut buf = CmsgBuf([0; CMSG_SPACE]);
    // SAFETY: a zeroed msghdr is valid; fields are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    let mut space = 0usize;
    let fd_bytes = std::mem::size_of_val(fds) as u32;
    // SAFETY: CMSG_SPACE is pure arithmetic.
    let fd_space = if fds.is_empty() { 0 } else { (unsafe { libc::CMSG_SPACE(fd_bytes) }) as usize };
    let cred_len = std::mem::size_of::<libc::ucred>() as u32;
    // SAFETY: pure arithmetic.
    let cred_space = if creds { (unsafe { libc::CMSG_SPACE(cred_len) }) as usize } else { 0 };
    if fd_space + cred_space > 0 {
        msg.msg_control = buf.0.as_mut_ptr().cast();
        msg.msg_controllen = (fd_space + cred_space) as _;
        // SAFETY: msg_control points at `buf`, big enough for both headers (checked above by the
        // fd count limit); CMSG_* walk within msg_controllen.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            if !fds.is_empty() {
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN(fd_bytes) as _;
                let p = libc::CMSG_DATA(c) as *mut RawFd;
                for (i, fd) in fds.iter().enumerate() {
                    p.add(i).write_unaligned(fd.as_raw_fd());
                }
                space += fd_space;
                c = libc::CMSG_NXTHDR(&msg, c);
            }
            if creds {
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_CREDENTIALS;
                (*c).cmsg_len = libc::CMSG_LEN(cred_len) as _;
                let cr = libc::ucred { pid: libc::getpid(), uid: libc::getuid(), gid: libc::getgid() };
                (libc::CMSG_DATA(c) as *mut libc::ucred).write_unaligned(cr);
                space += cred_space;
            }
        }
        msg.msg_controllen = space as _;
    }
    loop {
        // SAFETY: msg points at live iovec and control buffers.
        let r = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r as _, "sendmsg", None).map(drop);
    }
}

/// Receives one packet (blocking). An empty `data` with no fds means the peer closed.
pub(crate) fn recv(sock: BorrowedFd<'_>) -> Result<Received, SysError> {
    let mut data = vec![0u8; MAX_MSG];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    let mut buf = CmsgBuf([0; CMSG_SPACE]);
    // SAFETY: zeroed msghdr, then pointed at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = buf.0.as_mut_ptr().cast();
    msg.msg_controllen = CMSG_SPACE as _;
    let n = loop {
        // SAFETY: msg points at live buffers; MSG_CMSG_CLOEXEC makes received fds CLOEXEC.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        break check(r as _, "recvmsg", None)? as usize;
    };
    let mut out = Received { data: Vec::new(), fds: Vec::new(), pid: None };
    // SAFETY: CMSG_* walk the control buffer the kernel filled, within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                let p = libc::CMSG_DATA(c) as *const RawFd;
                for i in 0..count {
                    out.fds.push(OwnedFd::from_raw_fd(p.add(i).read_unaligned()));
                }
            } else if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_CREDENTIALS {
                let cr = (libc::CMSG_DATA(c) as *const libc::ucred).read_unaligned();
                out.pid = Some(cr.pid);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if msg.msg_flags & libc::MSG_TRUNC != 0 {
        return Err(SysError::check("recvmsg", None, "message truncated"));
    }
    data.truncate(n);
    out.data = data;
    Ok(out)
}

/// Connects a stream socket to the unix socket at `path`.
pub(crate) fn connect_unix(path: &str) -> Result<OwnedFd, SysError> {
    let s = std::os::unix::net::UnixStream::connect(path).map_err(|e| SysError::io("connect", Some(path), &e))?;
    Ok(OwnedFd::from(s))
}
