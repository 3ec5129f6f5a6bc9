//! OCI hooks: each hook is run with the container's state on stdin, its own argv and env, and an
//! optional timeout; a non-zero exit or a timeout fails the phase.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use oci_spec::runtime::Hook;

use crate::error::{Error, Result, Step, SysError};
use crate::sys;

/// The state document hooks receive (the OCI state).
pub(crate) fn state_json(
    oci_version: &str,
    id: &str,
    status: &str,
    pid: i32,
    bundle: &std::path::Path,
    annotations: &std::collections::BTreeMap<String, String>,
) -> Vec<u8> {
    serde_json::json!({
        "ociVersion": oci_version, "id": id, "status": status, "pid": pid,
        "bundle": bundle, "annotations": annotations,
    })
    .to_string()
    .into_bytes()
}

/// Runs `hooks` of `phase` in order; the first failure stops the phase.
pub(crate) fn run(phase: &str, hooks: &[Hook], state: &[u8]) -> Result<()> {
    hooks.iter().try_for_each(|h| run_one(phase, h, state))
}

/// Runs every hook of a phase whose failures only warn (poststart, poststop: runtime.md says the
/// remaining hooks and the lifecycle go on); returns one message per failed hook.
pub(crate) fn run_warn(phase: &str, hooks: &[Hook], state: &[u8]) -> Vec<String> {
    hooks.iter().filter_map(|h| run_one(phase, h, state).err()).map(|e| e.to_string()).collect()
}

fn fail(phase: &str, h: &Hook, detail: String) -> Error {
    Error::sys(Step::Hooks, SysError::check(format!("{phase} hook"), Some(&h.path().to_string_lossy()), detail))
}

fn run_one(phase: &str, h: &Hook, state: &[u8]) -> Result<()> {
    let mut cmd = Command::new(h.path());
    if let Some((arg0, rest)) = h.args().as_deref().and_then(<[String]>::split_first) {
        cmd.arg0(arg0).args(rest);
    }
    cmd.env_clear();
    for e in h.env().iter().flatten() {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
    }
    // stdout is not ours to write on (callers parse it); stderr reaches the caller's log.
    cmd.stdin(Stdio::piped()).stdout(Stdio::null());
    // Nothing else: no state-dir lock, socket, fifo or procfs handle of ours, no caller's fd.
    sys::spawn::only_stdio(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| fail(phase, h, format!("start: {e}")))?;
    let deadline = h.timeout().filter(|t| *t > 0).map(|t| Instant::now() + Duration::from_secs(t as u64));
    match feed_and_wait(&mut child, state, deadline) {
        Ok(Some(status)) if status.success() => Ok(()),
        Ok(Some(status)) => Err(fail(phase, h, format!("{status}"))),
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(fail(phase, h, format!("timed out after {}s", h.timeout().unwrap_or(0))))
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(fail(phase, h, e))
        }
    }
}

/// Writes the state to the hook's stdin and waits for it to exit, both under one deadline: a
/// hook that never reads a state larger than the pipe holds cannot block us past its timeout.
/// `None` when the deadline passed.
fn feed_and_wait(
    child: &mut Child,
    state: &[u8],
    deadline: Option<Instant>,
) -> std::result::Result<Option<ExitStatus>, String> {
    let mut stdin = child.stdin.take().map(OwnedFd::from);
    if let Some(fd) = &stdin {
        fcntl(fd.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(|e| format!("stdin: {e}"))?;
    }
    let mut rest = state;
    if rest.is_empty() {
        stdin = None;
    }
    // Without pidfds (Linux < 5.3) exits are noticed by polling in short steps.
    let pidfd = sys::process::pidfd_open(child.id() as i32).ok();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("wait: {e}"))? {
            return Ok(Some(status));
        }
        let left = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(None),
            },
            None => None,
        };
        let step = if pidfd.is_some() { left } else { Some(left.map_or(STEP, |l| l.min(STEP))) };
        let timeout = match step {
            Some(d) => PollTimeout::try_from(d.max(Duration::from_millis(1))).unwrap_or(PollTimeout::MAX),
            None => PollTimeout::NONE,
        };
        let mut fds = Vec::with_capacity(2);
        if let Some(p) = &pidfd {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        if let Some(fd) = &stdin {
            fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLOUT));
        }
        let ready = match poll(&mut fds, timeout) {
            Ok(n) => n > 0 && stdin.is_some() && fds.last().and_then(PollFd::revents).is_some_and(|r| !r.is_empty()),
            Err(Errno::EINTR) => false,
            Err(e) => return Err(format!("poll: {e}")),
        };
        drop(fds);
        if ready {
            let fd = stdin.as_ref().map(|f| f.as_fd());
            match fd.map(|fd| nix::unistd::write(fd, rest)) {
                Some(Ok(n)) => rest = rest.get(n..).unwrap_or_default(),
                Some(Err(Errno::EAGAIN | Errno::EINTR)) => {}
                // EPIPE: a hook that does not read its stdin is not an error.
                _ => rest = &[],
            }
            if rest.is_empty() {
                // EOF for the hook.
                stdin = None;
            }
        }
    }
}

/// How often the exit is checked without a pidfd.
const STEP: Duration = Duration::from_millis(20);

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(v: serde_json::Value) -> Hook {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn state_on_stdin_args_env_and_failures() {
        let dir = std::env::temp_dir().join(format!("hull-hooks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let ok = hook(
            serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo $0 $X; cat > {}", out.display())], "env": ["X=1"]}),
        );
        run("createRuntime", &[ok], b"{\"id\":\"c\"}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":\"c\"}");
        let bad = hook(serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}));
        let e = run("poststart", &[bad], b"{}").unwrap_err().to_string();
        assert!(e.contains("poststart hook /bin/sh") && e.contains("3"), "{e}");
        let slow = hook(serde_json::json!({"path": "/bin/sleep", "args": ["sleep", "10"], "timeout": 1}));
        let t = Instant::now();
        assert!(run("prestart", &[slow], b"{}").unwrap_err().to_string().contains("timed out"));
        assert!(t.elapsed() < Duration::from_secs(5));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A hook that never reads a state larger than a pipe holds still times out on time.
    #[test]
    fn timeout_holds_when_stdin_is_never_read() {
        let big = vec![b'x'; 1 << 20];
        let h = hook(serde_json::json!({"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}));
        let t = Instant::now();
        let e = run("createRuntime", &[h], &big).unwrap_err().to_string();
        assert!(e.contains("timed out"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        // Without a timeout, a hook that exits without reading is fine.
        run("createRuntime", &[hook(serde_json::json!({"path": "/bin/true"}))], &big).unwrap();
    }

    /// Only stdin, stdout and stderr reach a hook, even fds this process leaves inheritable.
    #[test]
    fn hooks_get_only_stdio() {
        let dir = std::env::temp_dir().join(format!("hull-hooks-fds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("fds");
        let f = std::fs::File::open("/etc/hostname").unwrap();
        // dup() makes a copy without close-on-exec, like an fd the caller handed us.
        let leaked = nix::unistd::dup(std::os::fd::AsFd::as_fd(&f)).unwrap();
        let script = format!("ls /proc/self/fd > {}", out.display());
        run("prestart", &[hook(serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", script]}))], b"{}").unwrap();
        drop(leaked);
        let fds: Vec<String> = std::fs::read_to_string(&out).unwrap().split_whitespace().map(str::to_owned).collect();
        // ls itself holds one fd for the directory it lists (3), and the shell's redirect is 1.
        assert!(fds.iter().all(|n| ["0", "1", "2", "3"].contains(&n.as_str())), "{fds:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
