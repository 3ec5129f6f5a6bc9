//! The runtime binary under test: locating it, running one subcommand with a timeout, capturing the outcome.
//!
//! stdout/stderr go to files, not pipes: after `create` the container init inherits the runtime's stdio,
//! so a pipe would not reach EOF until the container exits, and the container's later output is wanted anyway.

use std::fs::{self, File};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::Value;

/// Default limit for one runtime invocation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// What one invocation of the runtime did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub argv: Vec<String>,
    /// Exit code when the runtime exited normally.
    pub code: Option<i32>,
    /// Signal number when the runtime was killed.
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    stdout_path: PathBuf,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the full context unless the runtime exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(self.success(), "runtime failed: {self}");
        self
    }

    /// stdout as read now: for `create`, the container keeps writing there after the runtime exited.
    pub fn stdout_now(&self) -> String {
        fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// stdout parsed as one JSON value (the last non-empty line when several are printed).
    #[track_caller]
    pub fn json(&self) -> Value {
        parse_json(&self.stdout).unwrap_or_else(|| panic!("no JSON on stdout: {self}"))
    }

    /// The error text a user would see: stderr's non-empty lines.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| !l.trim().is_empty()).collect()
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` -> code {:?} signal {:?}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.argv.join(" "),
            self.code,
            self.signal,
            if self.timed_out { " TIMED OUT" } else { "" },
            self.stdout,
            self.stderr
        )
    }
}

/// Parses the whole text as JSON, or else its last non-empty line.
pub fn parse_json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok().or_else(|| text.lines().rev().find(|l| !l.trim().is_empty())?.parse().ok())
}

/// The runtime chosen by the `conformance` runner; it wins over `$RUNTIME`.
static SELECTED: RwLock<Option<PathBuf>> = RwLock::new(None);

/// Selects the binary every following [`Case`](crate::Case) drives (the runner runs one runtime at a time).
pub fn select_binary(binary: &Path) {
    *SELECTED.write().unwrap_or_else(|e| e.into_inner()) = Some(binary.to_owned());
}

/// A runc-compatible binary with a private `--root` state directory.
#[derive(Debug)]
pub struct RuntimeUnderTest {
    pub binary: PathBuf,
    pub root: PathBuf,
    pub timeout: Duration,
    /// Working directory for the runtime process (default: the test's own).
    pub cwd: Option<PathBuf>,
    /// Variables added to the runtime's environment (which it otherwise inherits from the test).
    pub env: Vec<(String, String)>,
    out_dir: PathBuf,
    seq: AtomicU32,
}

impl RuntimeUnderTest {
    /// `root` is passed as `--root`; each invocation's stdout/stderr files go in `out_dir`.
    pub fn new(binary: PathBuf, root: PathBuf, out_dir: PathBuf) -> Self {
        RuntimeUnderTest {
            binary,
            root,
            timeout: DEFAULT_TIMEOUT,
            cwd: None,
            env: Vec::new(),
            out_dir,
            seq: AtomicU32::new(0),
        }
    }

    /// The runner's selection, else `$RUNTIME` (or `$HULL`, as scripts/test.sh sets), else the workspace's release hull, else its
    /// debug hull (under `target/x86_64-unknown-linux-musl/`, see .cargo/config.toml).
    pub fn binary_from_env() -> PathBuf {
        if let Some(p) = SELECTED.read().unwrap_or_else(|e| e.into_inner()).clone() {
            return p;
        }
        if let Some(p) = std::env::var_os("RUNTIME").or_else(|| std::env::var_os("HULL")) {
            return PathBuf::from(p);
        }
        let target = crate::workspace_dir().join("target/x86_64-unknown-linux-musl");
        let release = target.join("release/hull");
        if release.exists() {
            release
        } else {
            target.join("debug/hull")
        }
    }

    /// Short name for messages and runtime-specific expectations: `runc`, `crun`, `hull`.
    pub fn name(&self) -> String {
        self.binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Runs `<binary> --root <root> <args...>` with stdin from /dev/null.
    pub fn exec(&self, args: &[&str]) -> Outcome {
        self.exec_with(args, Stdio::null())
    }

    pub fn exec_with(&self, args: &[&str], stdin: Stdio) -> Outcome {
        let mut full: Vec<String> = vec!["--root".into(), self.root.to_string_lossy().into_owned()];
        full.extend(args.iter().map(|s| s.to_string()));
        self.exec_raw(&full, stdin)
    }

    /// Runs the binary with exactly `args` (no `--root` added).
    pub fn exec_raw(&self, args: &[String], stdin: Stdio) -> Outcome {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let sub = args.iter().find(|a| !a.starts_with('-') && !a.starts_with('/')).cloned().unwrap_or_default();
        let out_path = self.out_dir.join(format!("{n:02}-{sub}.stdout"));
        let err_path = self.out_dir.join(format!("{n:02}-{sub}.stderr"));
        let mut argv = vec![self.binary.to_string_lossy().into_owned()];
        argv.extend(args.iter().cloned());
        let spawned =
            File::create(&out_path).and_then(|o| File::create(&err_path).map(|e| (o, e))).and_then(|(o, e)| {
                // Own process group, so a timeout can kill the runtime together with any helper it forked.
                let mut cmd = Command::new(&self.binary);
                if let Some(dir) = &self.cwd {
                    cmd.current_dir(dir);
                }
                cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
                cmd.args(args).stdin(stdin).stdout(o).stderr(e).process_group(0).spawn()
            });
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                return Outcome {
                    argv,
                    code: None,
                    signal: None,
                    timed_out: false,
                    stdout: String::new(),
                    stderr: format!("harness: cannot spawn {}: {e}", self.binary.display()),
                    stdout_path: out_path,
                }
            }
        };
        let deadline = Instant::now() + self.timeout;
        let mut timed_out = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                    break child.wait().ok();
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break None,
            }
        };
        Outcome {
            argv,
            code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            timed_out,
            stdout: fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: fs::read_to_string(&err_path).unwrap_or_default(),
            stdout_path: out_path,
        }
    }

    /// The state directory the runtime keeps for `id` (runc: `<root>/<id>`).
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    pub fn exists(&self) -> bool {
        Path::new(&self.binary).is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_json;

    #[test]
    fn parse_json_whole_text_or_last_line() {
        assert_eq!(parse_json("{\"a\": 1}\n").unwrap()["a"], 1);
        assert_eq!(parse_json("ready\n{\"b\": 2}\n\n").unwrap()["b"], 2);
        assert!(parse_json("no json here\n").is_none());
        assert!(parse_json("").is_none());
    }
}
