//! OCI hooks: each hook is run with the container's state on stdin, its own argv and env, and an
//! optional timeout; a non-zero exit or a timeout fails the phase.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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

/// Runs `hooks` of `phase` in order; the first failure stops the phase. A hook without `env`
/// inherits the runtime's environment (runc's exec.Cmd with a nil Env).
pub(crate) fn run(phase: &str, hooks: &[Hook], state: &[u8]) -> Result<()> {
    hooks.iter().try_for_each(|h| run_one(phase, h, state, None))
}

/// [`run`] for hooks run in the container, where the environment a hook without `env` inherits
/// is the container process's, `process_env` (as in runc, whose init has set it by then).
pub(crate) fn run_in_container(phase: &str, hooks: &[Hook], state: &[u8], process_env: &[CString]) -> Result<()> {
    hooks.iter().try_for_each(|h| run_one(phase, h, state, Some(process_env)))
}

/// Runs every hook of a phase whose failures only warn (poststart, poststop: runtime.md says the
/// remaining hooks and the lifecycle go on); returns one message per failed hook.
pub(crate) fn run_warn(phase: &str, hooks: &[Hook], state: &[u8]) -> Vec<String> {
    hooks.iter().filter_map(|h| run_one(phase, h, state, None).err()).map(|e| e.to_string()).collect()
}

fn fail(phase: &str, h: &Hook, detail: String) -> Error {
    Error::sys(Step::Hooks, SysError::check(format!("{phase} hook"), Some(&h.path().to_string_lossy()), detail))
}

fn run_one(phase: &str, h: &Hook, state: &[u8], inherited: Option<&[CString]>) -> Result<()> {
    let mut cmd = Command::new(h.path());
    if let Some((arg0, rest)) = h.args().as_deref().and_then(<[String]>::split_first) {
        cmd.arg0(arg0).args(rest);
    }
    let pairs: Vec<(&[u8], &[u8])> = match (h.env(), inherited) {
        (Some(env), _) => {
            env.iter().filter_map(|e| e.split_once('=')).map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect()
        }
        (None, Some(env)) => env.iter().filter_map(|e| split_pair(e.as_bytes())).collect(),
        // The runtime's own environment, as Command leaves it.
        (None, None) => Vec::new(),
    };
    if h.env().is_some() || inherited.is_some() {
        cmd.env_clear();
        cmd.envs(pairs.into_iter().map(|(k, v)| (OsStr::from_bytes(k), OsStr::from_bytes(v))));
    }
    // stdout is not ours to write on (callers parse it); stderr reaches the caller's log.
    cmd.stdin(Stdio::piped()).stdout(Stdio::null());
    // Nothing else: no state-dir lock, socket, fifo or procfs handle of ours, no caller's fd.
    sys::spawn::only_stdio(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| fail(phase, h, format!("start: {}", crate::io_error_text(&e))))?;
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

fn split_pair(e: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = e.iter().position(|b| *b == b'=')?;
    Some((&e[..i], &e[i + 1..]))
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

    #[test]
    fn a_hook_without_env_inherits_its_runners_environment() {
        let out = std::env::temp_dir().join(format!("hull-hooks-env-{}", std::process::id()));
        let show =
            hook(serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", format!("env > {}", out.display())]}));
        // What the shell adds by itself is left out.
        let seen = || -> Vec<String> {
            let text = std::fs::read_to_string(&out).unwrap();
            let own = ["PWD=", "SHLVL=", "_=", "OLDPWD="];
            text.lines().filter(|l| !own.iter().any(|p| l.starts_with(p))).map(str::to_owned).collect()
        };
        run("prestart", std::slice::from_ref(&show), b"{}").unwrap();
        // Plain names with one-line values, which `env` prints as they are.
        let plain = |k: &str, v: &str| k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !v.contains('\n');
        let ours: Vec<String> = std::env::vars()
            .filter(|(k, v)| plain(k, v) && !["PWD", "SHLVL", "_", "OLDPWD"].contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let inherited = seen();
        let missing: Vec<&String> = ours.iter().filter(|v| !inherited.contains(v)).collect();
        assert!(!ours.is_empty() && missing.is_empty(), "not inherited: {missing:?}");
        let env = [CString::new("A=1").unwrap(), CString::new("PATH=/bin").unwrap()];
        run_in_container("startContainer", &[show], b"{}", &env).unwrap();
        assert_eq!(seen(), ["A=1", "PATH=/bin"], "only the process's environment");
        std::fs::remove_file(out).unwrap();
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
