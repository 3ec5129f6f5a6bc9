//! OCI hooks: each hook is run with the container's state on stdin, its own argv and env, and an
//! optional timeout; a non-zero exit or a timeout fails the phase.

use std::io::Write;
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
    if let Some(args) = h.args().as_ref().filter(|a| !a.is_empty()) {
        cmd.arg0(&args[0]).args(&args[1..]);
    }
    cmd.env_clear();
    for e in h.env().iter().flatten() {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
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
}
