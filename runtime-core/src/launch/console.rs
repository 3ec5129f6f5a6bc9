//! The container's console: the child opens a pty in its own devpts and makes it its stdio and
//! controlling terminal; the master goes to the parent, which hands it to `--console-socket`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::protocol::{self, ChildMsg};
use crate::error::SysError;
use crate::sys;

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// Child side: allocate the pty, send the master, take the peer as stdio and controlling tty.
pub(crate) fn setup_child(sock: BorrowedFd<'_>, size: Option<(u16, u16)>, dev_console: bool) -> Result<(), SysError> {
    let master = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open("/dev/ptmx")
        .map_err(|e| SysError::io("open", Some("/dev/ptmx"), &e))?;
    // The container controls its /dev: only a real ptmx of a devpts instance is acceptable.
    let st = sys::fs::fstat(master.as_fd(), "/dev/ptmx")?;
    if st.mode & libc::S_IFMT != libc::S_IFCHR
        || (st.major, st.minor) != (5, 2)
        || sys::fs::fs_magic(master.as_fd(), "/dev/ptmx")? != DEVPTS_SUPER_MAGIC
    {
        return Err(SysError::check("open", Some("/dev/ptmx"), "not a devpts ptmx"));
    }
    let peer = sys::tty::open_peer(master.as_fd())?;
    if let Some((rows, cols)) = size {
        sys::tty::set_winsize(master.as_fd(), rows, cols)?;
    }
    let name = format!("/dev/pts/{}", sys::tty::pty_number(master.as_fd())?);
    protocol::send(sock, &ChildMsg::Console { name }, &[master.as_fd()], false)?;
    drop(master);
    if dev_console {
        bind_console(&peer)?;
    }
    for target in 0..3 {
        sys::process::dup2(peer.as_fd(), target)?;
    }
    sys::tty::set_controlling(peer.as_fd())
}

/// Binds the pty over /dev/console, as runc does: an empty file created in /dev, or what the
/// rootfs's own /dev has there when that is a file or a device node (never through a symlink).
fn bind_console(peer: &OwnedFd) -> Result<(), SysError> {
    let dev = std::fs::File::open("/dev").map_err(|e| SysError::io("open", Some("/dev"), &e))?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    let target = match sys::fs::openat(dev.as_fd(), "console", flags, "/dev/console") {
        Err(e) if e.errno == libc::EEXIST => {
            let fd = sys::fs::openat(dev.as_fd(), "console", libc::O_PATH, "/dev/console")?;
            let kind = sys::fs::fstat(fd.as_fd(), "/dev/console")?.mode & libc::S_IFMT;
            if kind != libc::S_IFREG && kind != libc::S_IFCHR {
                return Err(SysError::check("bind", Some("/dev/console"), "not a file or a device node"));
            }
            fd
        }
        other => other?,
    };
    let tree = sys::mount::open_tree(Some(peer.as_fd()), "", false)?;
    sys::mount::move_mount(tree.as_fd(), target.as_fd(), "/dev/console")
}

/// Parent side: hand the master to the caller's console socket (runc's raw SCM_RIGHTS message).
pub(crate) fn send_to_socket(path: &std::path::Path, name: &str, master: &OwnedFd) -> Result<(), SysError> {
    let p = path.to_string_lossy();
    let conn = sys::socket::connect_unix(&p)?;
    sys::socket::send(conn.as_fd(), name.as_bytes(), &[master.as_fd()], false)
        .map_err(|e| e.with_detail(p.into_owned()))
}

use std::os::unix::fs::OpenOptionsExt;
