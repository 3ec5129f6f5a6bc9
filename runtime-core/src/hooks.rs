//! OCI hooks: each hook is run with the container's state on stdin, its own argv and env, and an
//! optional timeout; a non-zero exit or a timeout fails the phase.

use std::ffi::{CString, OsStr};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

use crate::error::{Error, Result, Step, SysError};

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
    if let Some(args) = h.args().as_ref().filter(|a| !a.is_empty()) {
        cmd.arg0(&args[0]).args(&args[1..]);
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
    let mut child = cmd.spawn().map_err(|e| fail(phase, h, format!("start: {}", crate::io_error_text(&e))))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is not an error.
        let _ = stdin.write_all(state);
    }
    let deadline = h.timeout().filter(|t| *t > 0).map(|t| Instant::now() + Duration::from_secs(t as u64));
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(fail(phase, h, format!("{status}"))),
            Ok(None) => {}
            Err(e) => return Err(fail(phase, h, format!("wait: {}", crate::io_error_text(&e)))),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(phase, h, format!("timed out after {}s", h.timeout().unwrap_or(0))));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn split_pair(e: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = e.iter().position(|b| *b == b'=')?;
    Some((&e[..i], &e[i + 1..]))
}

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
}
