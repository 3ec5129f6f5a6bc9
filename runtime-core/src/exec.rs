//! The public side of `exec`: what the caller asks for ([`ExecOptions`](crate::ExecOptions)) and the handle it gets
//! back ([`ExecProcess`]), with the process's pidfd, its pipes and its exit status.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use crate::error::{Error, Result, Step, StepExt};
use crate::signal::Signal;
use crate::stdio::Pipes;
use crate::sys;

/// A process started by [`crate::Container::exec`]: a child of the caller (unless detached).
///
/// Its pidfd ([`ExecProcess::pidfd`]) becomes readable when it exits: register it with any
/// event loop (tokio's `AsyncFd`, mio, `poll`) and call [`ExecProcess::try_wait`] then, so that
/// no thread blocks per process; or block in [`ExecProcess::wait`].
///
/// ```no_run
/// use std::io::{Read, Write};
/// use runtime_core::{ExecOptions, Io, Runtime, Stdio};
///
/// # let process: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
/// #     "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["cat"]}))?;
/// let c = Runtime::new("/run/my-app").load("demo")?;
/// let stdio = Stdio::inherit().stdin(Io::Piped).stdout(Io::Piped);
/// let mut p = c.exec(ExecOptions::new(process).stdio(stdio))?; // `cat`
/// p.take_stdin().unwrap().write_all(b"hello")?; // dropped: end of file for `cat`
/// let mut out = String::new();
/// p.take_stdout().unwrap().read_to_string(&mut out)?;
/// assert_eq!((out.as_str(), p.wait()?), ("hello", 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ExecProcess {
    pid: i32,
    pidfd: Option<OwnedFd>,
    console: Option<OwnedFd>,
    waitable: bool,
    /// Set once reaped (`wait` may run in another thread than `kill`: see the CLI's foreground).
    status: OnceLock<i32>,
    pipes: Pipes,
}

impl ExecProcess {
    /// A process this process (or its launch helper, which left it to us) started.
    pub(crate) fn adopted(pid: i32, console: Option<OwnedFd>, waitable: bool, pipes: Pipes) -> Self {
        // Opened while the process is our unreaped child, so it is this process and no other. A
        // detached one in a pid namespace is not our child and may be gone already: no pidfd.
        let pidfd = sys::process::pidfd_open(pid).ok();
        ExecProcess { pid, pidfd, console, waitable, status: OnceLock::new(), pipes }
    }

    /// Its host pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A pidfd of the process: readable once it has exited. `None` only for a detached process
    /// that was not the caller's child and had already ended.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// The pty master, with [`ConsoleMode::Return`](crate::ConsoleMode::Return).
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// The writing end of its stdin, with [`crate::Io::Piped`].
    pub fn take_stdin(&mut self) -> Option<File> {
        self.pipes.stdin.take()
    }

    /// The reading end of its stdout, with [`crate::Io::Piped`].
    pub fn take_stdout(&mut self) -> Option<File> {
        self.pipes.stdout.take()
    }

    /// The reading end of its stderr, with [`crate::Io::Piped`].
    pub fn take_stderr(&mut self) -> Option<File> {
        self.pipes.stderr.take()
    }

    /// Sends it a signal (through its pidfd: never to a process that reused its pid).
    ///
    /// ```no_run
    /// use runtime_core::{signal::Signal, ExecOptions, Runtime};
    ///
    /// # let process: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
    /// #     "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sleep", "60"]}))?;
    /// let c = Runtime::new("/run/my-app").load("demo")?;
    /// let p = c.exec(ExecOptions::new(process))?; // `sleep 60`
    /// p.kill(Signal::TERM)?;
    /// assert_eq!(p.wait()?, 128 + 15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self, signal: Signal) -> Result<()> {
        let gone = || Error::ProcessNotRunning { pid: self.pid };
        if self.status.get().is_some() {
            return Err(gone());
        }
        let sent = match &self.pidfd {
            Some(fd) => sys::process::pidfd_send_signal(fd.as_fd(), signal.number()),
            None => return Err(gone()),
        };
        sent.map_err(|e| match e.errno {
            libc::ESRCH => gone(),
            _ => Error::sys(Step::Lifecycle, e),
        })
    }

    /// Waits for it to exit and returns its status the shell way (128+N for signal N). Not for
    /// a detached process.
    ///
    /// ```no_run
    /// # let process: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
    /// #     "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/true"]}))?;
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// let p = c.exec(runtime_core::ExecOptions::new(process))?;
    /// println!("exited with {}", p.wait()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(&self) -> Result<i32> {
        if let Some(s) = self.status.get() {
            return Ok(*s);
        }
        self.check_waitable()?;
        let s = sys::process::wait_child(self.pid).step(Step::Lifecycle)?;
        Ok(*self.status.get_or_init(|| s))
    }

    /// Like [`ExecProcess::wait`] but never blocks: `Some(status)` once it has exited (it is
    /// reaped then), `None` while it runs.
    ///
    /// ```no_run
    /// # let process: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
    /// #     "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sleep", "1"]}))?;
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// let p = c.exec(runtime_core::ExecOptions::new(process))?;
    /// while p.try_wait()?.is_none() {
    ///     std::thread::sleep(std::time::Duration::from_millis(100)); // or await p.pidfd() readable
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_wait(&self) -> Result<Option<i32>> {
        if let Some(s) = self.status.get() {
            return Ok(Some(*s));
        }
        self.check_waitable()?;
        let s = sys::spawn::try_wait_child(self.pid).step(Step::Lifecycle)?;
        Ok(s.map(|s| *self.status.get_or_init(|| s)))
    }

    fn check_waitable(&self) -> Result<()> {
        if self.waitable {
            Ok(())
        } else {
            Err(Error::NotAChild { pid: self.pid })
        }
    }
}
