//! A `--console-socket` receiver: accepts one connection and takes the pty master sent with SCM_RIGHTS,
//! like containerd's shim (one message, one fd, non-empty data naming the slave).

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
        let got = runtime_core::console::receive(stream.as_fd()).map_err(io::Error::other)?;
        let name = got.name;
        let fd_count = got.fds.len();
        let mut owned: Vec<File> = got.fds.into_iter().map(File::from).collect();
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
