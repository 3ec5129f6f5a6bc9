//! `hull run`: create and start; in the foreground also forward signals to the init, relay a
//! terminal, wait, exit with the container's status and delete it (unless `--keep`).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};
use runtime_core::{ConsoleMode, Container, Runtime};

use super::create::{self, Inherited};
use crate::cli::RunArgs;
use crate::logging::Logger;

pub fn run(rt: &Runtime, args: &RunArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    runtime_core::validate_id(&args.create.id)?;
    if args.detach {
        detached(rt, args, fds, log)
    } else {
        foreground(rt, args, fds, log)
    }
}

/// `run -d`: create and start, leaving the container running (like `create` then `start`).
fn detached(rt: &Runtime, args: &RunArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    let console = args.create.console_socket.clone().map_or(ConsoleMode::None, ConsoleMode::Socket);
    let c = rt.create(&args.create.id, create::options(&args.create, fds, console)?).map_err(failed)?;
    create::log_warnings(&c, log);
    started(c)?;
    Ok(0)
}

fn foreground(rt: &Runtime, args: &RunArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    if args.create.console_socket.is_some() {
        bail!("cannot use console socket if hull will not detach or allocate tty");
    }
    if !args.no_subreaper {
        // The init may be a grandchild (second fork for a pid namespace); as subreaper we get it back.
        nix::sys::prctl::set_child_subreaper(true).map_err(|e| anyhow!("set child subreaper: {e}"))?;
    }
    let console = if wants_terminal(&args.create.bundle) { ConsoleMode::Return } else { ConsoleMode::None };
    log.debug(&format!("run {} in the foreground from bundle {}", args.create.id, args.create.bundle.display()));
    let mut c = rt.create(&args.create.id, create::options(&args.create, fds, console)?).map_err(failed)?;
    create::log_warnings(&c, log);
    let master = c.take_console().map(File::from);
    // Blocked only now: the container's init was cloned with the caller's signal mask.
    let signals = match block_forwarded_signals() {
        Ok(s) => s,
        Err(e) => {
            let _ = c.delete(true);
            return Err(e);
        }
    };
    let c = started(c)?;
    let status = {
        let stdin = std::io::stdin();
        let _raw = master.as_ref().and_then(|_| RawMode::enter(stdin.as_fd()));
        supervise(&c, &signals, master.as_ref())
    };
    if !args.keep {
        c.delete(true)?;
    }
    // The shell convention: an exit code, or 128+N when killed by signal N.
    Ok((status? & 0xff) as u8)
}

fn failed(e: runtime_core::Error) -> anyhow::Error {
    anyhow!("hull run failed: {e}")
}

/// Starts the container; on failure deletes it, so that no half-run container is left behind.
fn started(mut c: Container) -> Result<Container> {
    match c.start() {
        Ok(()) => Ok(c),
        Err(e) => {
            let _ = c.delete(true);
            Err(failed(e))
        }
    }
}

/// Whether config.json asks for a terminal. An unreadable config is left to `create` to report.
fn wants_terminal(bundle: &Path) -> bool {
    let Ok(text) = std::fs::read(bundle.join("config.json")) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else { return false };
    v["process"]["terminal"].as_bool().unwrap_or(false)
}

/// Every signal hull can catch goes to the container, except those about hull's own children
/// and terminal (runc's list). Real-time signals are not forwarded yet: nix's `Signal` cannot
/// name them.
fn block_forwarded_signals() -> Result<SignalFd> {
    let mut set = SigSet::empty();
    for s in Signal::iterator() {
        if !matches!(s, Signal::SIGCHLD | Signal::SIGWINCH | Signal::SIGURG | Signal::SIGKILL | Signal::SIGSTOP) {
            set.add(s);
        }
    }
    set.thread_block().map_err(|e| anyhow!("block signals: {e}"))?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).map_err(|e| anyhow!("signalfd: {e}"))
}

/// Waits for the init in a second thread (the runtime is multi-threaded only after the
/// container's program was exec'd) while this thread forwards signals and relays the terminal.
fn supervise(c: &Container, signals: &SignalFd, master: Option<&File>) -> Result<i32> {
    let (done_r, done_w) = nix::unistd::pipe().map_err(|e| anyhow!("pipe: {e}"))?;
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

fn relay(c: &Container, signals: &SignalFd, master: Option<&File>, done: &OwnedFd) {
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
            while let Ok(Some(info)) = signals.read_signal() {
                // The container may be gone already; its exit is reported by the waiter.
                let _ = c.kill(info.ssi_signo as i32, false);
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
struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    fn enter(fd: BorrowedFd<'a>) -> Option<RawMode<'a>> {
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
