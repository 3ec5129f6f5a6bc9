//! The standard streams of a container's init or of an exec'd process, chosen by the caller the
//! way `std::process::Command` chooses a child's: inherited, `/dev/null`, a pipe handed back, or
//! any fd the caller owns.

use std::fs::File;
use std::os::fd::OwnedFd;

use crate::error::{Error, Result, Step, SysError};

/// Where one standard stream of the container's process goes (like `std::process::Stdio`).
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum Io {
    /// The caller's own stream (the process inherits the caller's fd 0, 1 or 2).
    #[default]
    Inherit,
    /// `/dev/null` of the host.
    Null,
    /// A new pipe: the process gets one end, the caller the other, taken with
    /// [`crate::ExecProcess::take_stdout`] (and its siblings) or [`crate::Container::take_stdout`].
    Piped,
    /// This fd (a pipe, socket, file, terminal): it becomes the process's stream.
    Fd(OwnedFd),
}

impl From<OwnedFd> for Io {
    fn from(fd: OwnedFd) -> Self {
        Io::Fd(fd)
    }
}

impl From<File> for Io {
    fn from(f: File) -> Self {
        Io::Fd(f.into())
    }
}

impl From<std::os::unix::net::UnixStream> for Io {
    fn from(s: std::os::unix::net::UnixStream) -> Self {
        Io::Fd(s.into())
    }
}

/// The three standard streams of a container's process; each one not set is the caller's own.
///
/// Setting any of them makes `create` or `exec` go through the launch helper (a fork + exec of
/// this program, see the crate docs), since the process inherits its stdio from the process
/// that clones it.
///
/// ```
/// use runtime_core::{Io, Stdio};
///
/// let stdio = Stdio::inherit().stdin(Io::Piped).stdout(Io::Piped).stderr(Io::Null);
/// assert!(stdio.is_redirected());
/// assert!(!Stdio::inherit().is_redirected());
/// ```
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Stdio {
    /// Becomes the process's fd 0.
    pub stdin: Io,
    /// Becomes the process's fd 1.
    pub stdout: Io,
    /// Becomes the process's fd 2.
    pub stderr: Io,
}

impl Stdio {
    /// All three streams inherited from the caller.
    pub fn inherit() -> Self {
        Stdio::default()
    }

    /// Sets fd 0.
    pub fn stdin(mut self, io: impl Into<Io>) -> Self {
        self.stdin = io.into();
        self
    }

    /// Sets fd 1.
    pub fn stdout(mut self, io: impl Into<Io>) -> Self {
        self.stdout = io.into();
        self
    }

    /// Sets fd 2.
    pub fn stderr(mut self, io: impl Into<Io>) -> Self {
        self.stderr = io.into();
        self
    }

    /// Whether any stream differs from the caller's own.
    pub fn is_redirected(&self) -> bool {
        [&self.stdin, &self.stdout, &self.stderr].iter().any(|io| !matches!(io, Io::Inherit))
    }

    /// Opens what the streams name: the fds the process gets (`None`: inherited) and the
    /// caller's ends of the pipes.
    pub(crate) fn open(self) -> Result<([Option<OwnedFd>; 3], Pipes)> {
        let mut pipes = Pipes::default();
        let stdin = open_one(self.stdin, true, &mut pipes.stdin)?;
        let stdout = open_one(self.stdout, false, &mut pipes.stdout)?;
        let stderr = open_one(self.stderr, false, &mut pipes.stderr)?;
        Ok(([stdin, stdout, stderr], pipes))
    }
}

/// The caller's ends of the pipes made for [`Io::Piped`] streams.
#[derive(Debug, Default)]
pub(crate) struct Pipes {
    pub(crate) stdin: Option<File>,
    pub(crate) stdout: Option<File>,
    pub(crate) stderr: Option<File>,
}

fn open_one(io: Io, input: bool, ours: &mut Option<File>) -> Result<Option<OwnedFd>> {
    let err = |what: &str, e: std::io::Error| Error::sys(Step::Console, SysError::io(what, Some("stdio"), &e));
    match io {
        Io::Inherit => Ok(None),
        Io::Fd(fd) => Ok(Some(fd)),
        Io::Null => {
            let f = std::fs::OpenOptions::new().read(input).write(!input).open("/dev/null");
            Ok(Some(f.map_err(|e| err("open /dev/null", e))?.into()))
        }
        Io::Piped => {
            // Close-on-exec on both ends: the process's end is placed at 0-2 by a dup2, which
            // clears the flag on the copy only.
            let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| err("pipe2", e.into()))?;
            let (theirs, mine) = if input { (read, write) } else { (write, read) };
            *ours = Some(File::from(mine));
            Ok(Some(theirs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn pipes_connect_the_two_ends() {
        let (fds, pipes) = Stdio::inherit().stdin(Io::Piped).stdout(Io::Piped).open().unwrap();
        let [stdin, stdout, stderr] = fds;
        assert!(stderr.is_none(), "stderr is inherited");
        let mut ours_in = pipes.stdin.unwrap();
        ours_in.write_all(b"in").unwrap();
        drop(ours_in);
        let mut got = String::new();
        File::from(stdin.unwrap()).read_to_string(&mut got).unwrap();
        assert_eq!(got, "in");
        File::from(stdout.unwrap()).write_all(b"out").unwrap();
        let mut got = String::new();
        pipes.stdout.unwrap().read_to_string(&mut got).unwrap();
        assert_eq!(got, "out");
    }

    #[test]
    fn null_is_dev_null() {
        let ([_, out, _], pipes) = Stdio::inherit().stdout(Io::Null).open().unwrap();
        assert!(pipes.stdout.is_none());
        let out = out.unwrap();
        let link = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&out)));
        assert_eq!(link.unwrap(), std::path::Path::new("/dev/null"));
    }
}
