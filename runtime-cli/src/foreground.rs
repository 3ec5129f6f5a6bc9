//! Running a process in the foreground: forward signals to it, relay its terminal in raw mode,
//! wait for its exit status. Shared by `run` and `exec`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use anyhow::{anyhow, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, SetArg, Termios};
use runtime_core::signal::Forwarder;
use runtime_core::Container;

/// Blocks every signal hull forwards (real-time ones included) and returns the fd that reads them.
pub fn block_forwarded_signals() -> Result<Forwarder> {
    Forwarder::new().map_err(|e| anyhow!("block signals: {e}"))
}

/// A process hull waits for in the foreground: a container's init or an exec'd process.
pub trait Supervised: Sync {
    /// Waits for it; its status the shell way.
    fn wait(&self) -> runtime_core::Result<i32>;
    /// Forwards a signal (it may be gone already: its exit is reported by `wait`).
    fn signal(&self, sig: i32);
    /// An fd that turns readable when the process exits (a pidfd), where one is available: then
    /// `supervise` needs no wait thread.
    fn exit_fd(&self) -> Option<OwnedFd> {
        None
    }
}

impl Supervised for Container {
    fn wait(&self) -> runtime_core::Result<i32> {
        Container::wait(self)
    }
    fn signal(&self, sig: i32) {
        if let Ok(sig) = runtime_core::signal::Signal::new(sig) {
            let _ = self.kill(sig, runtime_core::KillTarget::Init);
        }
    }
    fn exit_fd(&self) -> Option<OwnedFd> {
        self.pidfd().ok()
    }
}

impl Supervised for runtime_core::ExecProcess {
    fn wait(&self) -> runtime_core::Result<i32> {
        runtime_core::ExecProcess::wait(self)
    }
    fn signal(&self, sig: i32) {
        if let Ok(sig) = runtime_core::signal::Signal::new(sig) {
            let _ = self.kill(sig);
        }
    }
}

/// Forwards signals and relays the terminal until the process exits, then reaps it. With a
/// pidfd its exit is polled with the rest; otherwise it is waited for in a second thread (the
/// runtime is multi-threaded only after the container's program was exec'd).
pub fn supervise(c: &dyn Supervised, signals: &Forwarder, master: Option<&File>) -> Result<i32> {
    if let Some(m) = master {
        // The caller's terminal size, now and on every SIGWINCH.
        let _ = runtime_core::signal::copy_window_size(std::io::stdin().as_fd(), m.as_fd());
    }
    if let Some(exited) = c.exit_fd() {
        // A thread costs a stack, a malloc arena and a dozen syscalls per container.
        relay(c, signals, master, &exited);
        // Readable pidfd: it is a zombie (or, in a joined pid namespace, about to be handed to
        // us as subreaper); the wait returns at once.
        return c.wait().map_err(|e| anyhow!("{e}"));
    }
    let (done_r, done_w) = nix::unistd::pipe().map_err(|e| anyhow!("pipe: {}", runtime_core::errno_text(e as i32)))?;
    std::thread::scope(|s| {
        let waiter = s.spawn(move || {
            let status = c.wait();
            // Closing the write end wakes the relay loop.
            drop(done_w);
            status
        });
        relay(c, signals, master, &done_r);
        waiter.join().map_err(|_| anyhow!("wait thread panicked"))?.map_err(|e| anyhow!("{e}"))
    })
}

fn relay(c: &dyn Supervised, signals: &Forwarder, master: Option<&File>, done: &OwnedFd) {
    let mut stdin = master.and_then(|_| std::io::stdin().as_fd().try_clone_to_owned().ok()).map(File::from);
    let mut master = master;
    loop {
        let mut fds =
            vec![PollFd::new(done.as_fd(), PollFlags::POLLIN), PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        if let Some(m) = master {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
            if let Some(i) = &stdin {
                fds.push(PollFd::new(i.as_fd(), PollFlags::POLLIN));
            }
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
        let ready: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
        drop(fds);
        if ready[1] {
            while let Some(sig) = signals.next() {
                match (sig, master) {
                    (libc::SIGWINCH, Some(m)) => {
                        let _ = runtime_core::signal::copy_window_size(std::io::stdin().as_fd(), m.as_fd());
                    }
                    // Without a terminal of ours, a window change is not the container's business.
                    (libc::SIGWINCH, None) => {}
                    _ => c.signal(sig),
                }
            }
        }
        if let Some(m) = master {
            if ready[2] && !copy(m, &mut std::io::stdout()) {
                // Every slave is closed: nothing more to relay in either direction.
                master = None;
                stdin = None;
            } else if let Some(i) = &stdin {
                if ready.get(3) == Some(&true) && !copy(i, &mut &*m) {
                    stdin = None;
                }
            }
        }
        if ready[0] {
            if let Some(m) = master {
                drain(m);
            }
            return;
        }
    }
}

/// One read from `from` written in full to `to`; false at end of file or on error (a pty master
/// reads EIO once every slave is closed).
fn copy(mut from: &File, to: &mut impl Write) -> bool {
    let mut buf = [0u8; 8192];
    match from.read(&mut buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => to.write_all(&buf[..n]).and_then(|_| to.flush()).is_ok(),
    }
}

/// What the program wrote just before exiting is still in the pty: pass it on.
fn drain(m: &File) {
    loop {
        let mut fds = [PollFd::new(m.as_fd(), PollFlags::POLLIN)];
        let readable = poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n > 0);
        if !readable || !copy(m, &mut std::io::stdout()) {
            return;
        }
    }
}

/// The caller's terminal in raw mode for as long as this lives, so keys reach the container as typed.
pub struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    pub fn enter(fd: BorrowedFd<'a>) -> Option<RawMode<'a>> {
        let saved = termios::tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, SetArg::TCSANOW, &self.saved);
    }
}
