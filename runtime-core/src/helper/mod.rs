//! The launch helper: how `create` and `exec` stay sound when the caller has several threads.
//!
//! The child of the container clone runs ordinary Rust (allocation, formatting) until its
//! `execve`. After a fork of a multi-threaded process that is undefined behaviour: another
//! thread may have held the allocator's or stdio's lock at the instant of the clone, and the
//! child would deadlock or corrupt memory. So a caller that has more than one thread (or that
//! gives the process other stdio) does not clone: it starts a helper with
//! `std::process::Command` (fork + exec, sound from any thread), running this same program from
//! a sealed copy (CVE-2019-5736). The helper starts single-threaded, is caught at the top of
//! `main` by [`crate::run_helper_if_requested`] (or before `main` by the embedder's
//! [`crate::helper_entry!`]), runs the ordinary create or exec path unchanged, sends back the
//! result over an inherited SEQPACKET socket, and exits. A program that never made that call is
//! refused a helper ([`Error::HelperEntryMissing`]) rather than re-executed into its own `main`.
//!
//! The container's init (and an exec'd process) must end up a child of the caller, so that
//! `wait`, `try_wait` and the exit status through a pidfd work as in the single-threaded path.
//! `CLONE_PARENT` in the helper would do that for the first clone only: the helper must still
//! reap what it forks (the intermediate process of a joined pid namespace, a failed child), and
//! a grandchild would be reparented past the helper to the host's init. Instead the caller is a
//! child subreaper while a helper runs ([`crate::subreaper`]): when the helper exits, its
//! children are reparented to the caller. Orphans of the caller's other children that die in
//! that window are reparented to it too (the documented cost).
//!
//! The marker is an environment variable naming the socket's fd. It is obeyed only when the
//! socket's other end was created by our parent process as our user, and never in a setuid or
//! file-capability program (`AT_SECURE`): setting an environment variable must not be a way to
//! make an embedding program create containers.
//!
//! A single-threaded caller without stdio options (the hull CLI) never pays for any of this:
//! one read of /proc/self/status decides.

mod wire;

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use wire::{Request, Response};

use crate::error::{Error, Result, Step, StepExt, SysError};
use crate::launch::{protocol, Created, Execed};
use crate::options::{CreateOptions, ExecOptions};
use crate::state::{State, StateStore};
use crate::stdio::Pipes;
use crate::sys;

/// The environment variable that marks a helper process; its value is the socket's fd number.
const MARKER: &str = "_HULL_LAUNCH_HELPER_FD";

/// Whether create/exec must go through a helper: the caller has other threads, or wants the
/// container to get stdio other than its own.
pub(crate) fn needed(redirected: bool) -> Result<bool> {
    if redirected {
        return Ok(true);
    }
    Ok(threads()? > 1)
}

/// The number of threads of this process.
fn threads() -> Result<usize> {
    let io = |e: std::io::Error| Error::sys(Step::Spawn, SysError::io("read", Some("/proc/self/status"), &e));
    let status = std::fs::read_to_string("/proc/self/status").map_err(io)?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| Error::sys(Step::Spawn, SysError::check("parse", Some("/proc/self/status"), "no Threads line")))
}

/// `Runtime::create` through a helper, under the state root `root`.
pub(crate) fn create(root: &Path, id: &str, mut opts: CreateOptions) -> Result<(Created, Pipes)> {
    crate::state::validate_id(id)?;
    let keep = opts.preserve_fds + opts.listen_fds;
    let (stdio, pipes) = std::mem::take(&mut opts.stdio).open()?;
    let req = Request::Create { root: root.to_owned(), id: id.to_owned(), opts: Box::new(opts) };
    let (resp, mut fds) = call(&req, keep, stdio)?;
    match resp {
        Response::Created { state, child, warnings } => {
            Ok((Created { state: *state, console: fds.pop(), child, warnings }, pipes))
        }
        Response::Failed(e) => Err(e.into()),
        other => Err(unexpected(&other)),
    }
}

/// `Container::exec` through a helper, into the container whose state is `state`.
pub(crate) fn exec(state: &State, mut opts: ExecOptions) -> Result<(Execed, Pipes)> {
    let (stdio, pipes) = std::mem::take(&mut opts.stdio).open()?;
    let keep = opts.preserve_fds;
    let req = Request::Exec { state: Box::new(state.clone()), opts: Box::new(opts) };
    let (resp, mut fds) = call(&req, keep, stdio)?;
    match resp {
        Response::Execed { pid } => Ok((Execed { pid, console: fds.pop() }, pipes)),
        Response::Failed(e) => Err(e.into()),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(r: &Response) -> Error {
    Error::sys(Step::Spawn, SysError::check("launch helper", None, format!("unexpected answer {r:?}")))
}

/// Starts a helper, hands it `req`, and returns its answer once it has exited (so that what it
/// started is already our child).
fn call(req: &Request, keep: u32, stdio: [Option<OwnedFd>; 3]) -> Result<(Response, Vec<OwnedFd>)> {
    if std::env::var_os(MARKER).is_some() {
        // The entry point did not run in this helper; starting another would recurse.
        return Err(Error::sys(Step::Spawn, SysError::check("launch helper", None, "helper entry point did not run")));
    }
    for fd in 3..3 + keep {
        if !sys::process::fd_is_open(fd as i32) {
            return Err(Error::InvalidArgument(format!("--preserve-fds: file descriptor {fd} is not open")));
        }
    }
    if !ENTRY_SEEN.load(Ordering::Relaxed) {
        // The helper would be this program's own `main`, which knows nothing of the request.
        return Err(Error::HelperEntryMissing);
    }
    let exe = sealed_exe()?;
    // Until the helper is reaped: then what it started has been reparented to us.
    let _reaper = crate::subreaper::Scope::enter().step(Step::Spawn)?;
    let (ours, theirs) = sys::socket::seqpacket_pair().step(Step::Spawn)?;
    let mut child = sys::spawn::helper(exe, MARKER, keep, theirs, stdio).step(Step::Spawn)?;
    let sent = protocol::send(ours.as_fd(), req, &[], false).step(Step::Spawn);
    // Read even when the send failed: the helper may have died, and its exit says why.
    let answer = sent.and_then(|()| protocol::recv::<Response>(ours.as_fd()).step(Step::Spawn));
    drop(ours);
    // Reaped before returning so that what it started is already our child. A caller that
    // ignores SIGCHLD has it reaped by the kernel: the answer still counts.
    let status = child.wait();
    let answer = answer?;
    match answer.msg {
        Some(resp) => Ok((resp, answer.fds)),
        None => {
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            let detail = format!("exited without an answer ({status})");
            Err(Error::sys(Step::Spawn, SysError::check("launch helper", Some(exe), detail)))
        }
    }
}

/// Set once this program has shown that it serves the helper (it called
/// [`crate::run_helper_if_requested`], directly or through [`crate::helper_entry!`]): only then
/// may it be re-executed as one.
static ENTRY_SEEN: AtomicBool = AtomicBool::new(false);

/// The program the helper runs: this one, sealed. A process that already runs sealed (it
/// called [`crate::seal::ensure_sealed`]) re-executes itself; otherwise a sealed copy is made
/// once and kept open for the life of the process.
fn sealed_exe() -> Result<&'static str> {
    static EXE: OnceLock<(Option<OwnedFd>, String)> = OnceLock::new();
    if let Some((_, path)) = EXE.get() {
        return Ok(path);
    }
    let made = if crate::seal::is_sealed()? {
        (None, "/proc/self/exe".to_owned())
    } else {
        let fd = crate::seal::sealed_copy()?;
        let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        (Some(fd), path)
    };
    // Two threads may race here; the loser's copy is dropped and the winner's used.
    Ok(&EXE.get_or_init(|| made).1)
}

/// The helper's side: when this process was started as a launch helper, serves the one request
/// and exits; otherwise returns at once. Called by [`crate::run_helper_if_requested`] (first
/// thing in `main`, or before it through [`crate::helper_entry!`]).
pub(crate) fn run_if_requested() {
    ENTRY_SEEN.store(true, Ordering::Relaxed);
    let Some(value) = std::env::var_os(MARKER) else { return };
    // Nothing the helper starts (hooks) must take itself for a helper.
    std::env::remove_var(MARKER);
    let code = match value.to_str().and_then(|v| v.parse().ok()) {
        Some(fd) if !sys::spawn::secure_exec() => match sys::spawn::adopt_helper_socket(fd) {
            Ok(sock) if from_parent(&sock) => serve(&sock).map_or(1, |()| 0),
            _ => 1,
        },
        _ => 1,
    };
    sys::process::exit_now(code)
}

/// Whether the socket's other end was made by our parent, as the same user: only the runtime
/// that started us may give orders (not whoever can set an environment variable and an fd).
fn from_parent(sock: &OwnedFd) -> bool {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    getsockopt(sock, PeerCredentials)
        .is_ok_and(|c| c.pid() == nix::unistd::getppid().as_raw() && c.uid() == nix::unistd::geteuid().as_raw())
}

/// Answers one request. Runs single-threaded (checked: the clone below needs it).
fn serve(sock: &OwnedFd) -> std::result::Result<(), SysError> {
    let req = protocol::recv::<Request>(sock.as_fd())?
        .msg
        .ok_or_else(|| SysError::check("launch helper", None, "no request"))?;
    let (resp, console) = match threads() {
        Ok(1) => answer(req),
        Ok(n) => (failed(format!("the helper has {n} threads"), None), None),
        Err(e) => (Response::Failed(e.into()), None),
    };
    let fds: Vec<_> = console.iter().map(|c| c.as_fd()).collect();
    protocol::send(sock.as_fd(), &resp, &fds, false)
}

fn failed(detail: String, path: Option<&str>) -> Response {
    Response::Failed(Error::sys(Step::Spawn, SysError::check("launch helper", path, detail)).into())
}

fn answer(req: Request) -> (Response, Option<OwnedFd>) {
    match req {
        Request::Create { root, id, opts } => match crate::launch::create(&StateStore::new(root), &id, *opts) {
            // The init is our child now and the caller's once we exit: it can wait for it.
            Ok(c) => (Response::Created { state: Box::new(c.state), child: true, warnings: c.warnings }, c.console),
            Err(e) => (Response::Failed(e.into()), None),
        },
        Request::Exec { state, opts } => match crate::launch::exec(&state, &opts) {
            Ok(p) => (Response::Execed { pid: p.pid }, p.console),
            Err(e) => (Response::Failed(e.into()), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::{CreateOptions, Error, Io, Runtime, Stdio};

    /// This unit-test binary never calls `run_helper_if_requested`: re-executing it as a helper
    /// would run libtest's main, so the helper is refused, before anything is made.
    #[test]
    fn no_helper_without_the_entry_point() {
        let root = std::env::temp_dir().join(format!("hull-no-entry-{}", std::process::id()));
        let rt = Runtime::new(&root);
        let opts = CreateOptions::new("/nonexistent").stdio(Stdio::inherit().stdout(Io::Null));
        assert!(matches!(rt.create("c1", opts), Err(Error::HelperEntryMissing)));
        assert!(!root.exists(), "nothing was made");
    }
}
