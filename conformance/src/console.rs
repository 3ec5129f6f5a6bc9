//! A `--console-socket` receiver: accepts one connection and takes the pty master sent with SCM_RIGHTS,
//! like containerd's shim (one message, one fd, non-empty data naming the slave).

use std::fs::File;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// A listening console socket at `path`.
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    pub path: PathBuf,
}

/// What the runtime sent: the pty master and the data bytes (runc sends the slave's path).
#[derive(Debug)]
pub struct Console {
    pub master: File,
    pub name: String,
    /// Number of fds that arrived in the message (the shim rejects anything but 1).
    pub fd_count: usize,
}

impl ConsoleSocket {
    pub fn bind(path: &Path) -> io::Result<Self> {
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(ConsoleSocket { listener, path: path.to_owned() })
    }

    /// Waits up to `timeout` for the runtime to connect and send the master.
    pub fn receive(&self, timeout: Duration) -> io::Result<Console> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match self.listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(
            deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100)),
        ))?;
        let mut buf = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([RawFd; 4]);
        let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
            .map_err(io::Error::from)?;
        let bytes = msg.bytes;
        let mut fds: Vec<RawFd> = Vec::new();
        for c in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(r) = c {
                fds.extend(r);
            }
        }
        let name = String::from_utf8_lossy(&buf[..bytes]).trim_end_matches('\0').to_owned();
        let fd_count = fds.len();
        let mut owned: Vec<File> = fds
            .into_iter()
            // SAFETY: the kernel installed these fds in our table during recvmsg just above; nothing else
            // in this process knows their numbers, so each File becomes their single owner.
            .map(|fd| unsafe { File::from_raw_fd(fd) })
            .collect();
        if owned.is_empty() {
            return Err(io::Error::other(format!("console socket message carried no fd (data {name:?})")));
        }
        Ok(Console { master: owned.remove(0), name, fd_count })
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
