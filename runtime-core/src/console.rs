//! The caller's side of `--console-socket`: receiving the pty master a runtime sends (what
//! containerd's shim and conmon do), without the caller touching raw fds.

use std::os::fd::{BorrowedFd, OwnedFd};

use crate::error::{Error, Result, Step};
use crate::sys;

/// What arrived on an accepted console-socket connection.
#[derive(Debug)]
pub struct ReceivedConsole {
    /// The message's data: runc and hull send the slave's path, e.g. `/dev/pts/0`.
    pub name: String,
    /// Every fd of the message, owned (a well-behaved runtime sends exactly one, the master).
    pub fds: Vec<OwnedFd>,
}

/// Receives one console message from an accepted connection (blocking, as the socket is set).
///
/// ```no_run
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixListener;
///
/// // The other end of `ConsoleMode::Socket("/run/demo.sock")`.
/// let listener = UnixListener::bind("/run/demo.sock")?;
/// let (conn, _) = listener.accept()?;
/// let console = runtime_core::console::receive(conn.as_fd())?;
/// println!("{}: {} fd(s)", console.name, console.fds.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn receive(conn: BorrowedFd<'_>) -> Result<ReceivedConsole> {
    let r = sys::socket::recv(conn).map_err(|e| Error::sys(Step::Console, e))?;
    let name = String::from_utf8_lossy(&r.data).trim_end_matches('\0').to_owned();
    Ok(ReceivedConsole { name, fds: r.fds })
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    #[test]
    fn receives_name_and_owned_fd() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let f = std::fs::File::open("/dev/null").unwrap();
        crate::sys::socket::send(a.as_fd(), b"/dev/pts/3", &[f.as_fd()], false).unwrap();
        let got = super::receive(b.as_fd()).unwrap();
        assert_eq!(got.name, "/dev/pts/3");
        assert_eq!(got.fds.len(), 1);
    }
}
