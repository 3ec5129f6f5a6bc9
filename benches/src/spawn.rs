//! Running one command with a deadline, and reading what the kernel accounted to our reaped children.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::time::TimeValLike;
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag};
use nix::unistd::Pid;

/// What one finished command did.
#[derive(Debug)]
pub struct Outcome {
    pub wall: Duration,
    pub status: ExitStatus,
    pub stdout: String,
    /// First non-empty line of its stderr, for error messages.
    pub stderr: String,
}

impl Outcome {
    /// Turns a non-zero exit into an error naming `what` and the command's own complaint.
    pub fn check(self, what: &str) -> Result<Outcome> {
        if !self.status.success() {
            bail!("{what} failed ({}): {}", self.status, self.stderr);
        }
        Ok(self)
    }
}

/// Cumulative CPU (user + sys) and largest peak RSS (KiB) of every child this process has reaped,
/// each child's figure covering its own reaped descendants too.
pub fn children_usage() -> Result<(Duration, u64)> {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage(RUSAGE_CHILDREN)")?;
    let micros = usage.user_time().num_microseconds() + usage.system_time().num_microseconds();
    Ok((Duration::from_micros(micros.max(0) as u64), usage.max_rss().max(0) as u64))
}

/// Runs `cmd` with no stdin, stdout and stderr in files under `scratch`, in its own process group,
/// and reaps it. Files rather than pipes: nothing to drain while timing. After `timeout` the whole
/// group is killed and an error returned.
pub fn run(cmd: &mut Command, timeout: Duration, scratch: &Path) -> Result<Outcome> {
    let (out_path, err_path) = (scratch.join("stdout"), scratch.join("stderr"));
    let create = |p: &Path| File::create(p).with_context(|| format!("creating {}", p.display()));
    cmd.stdin(Stdio::null()).stdout(create(&out_path)?).stderr(create(&err_path)?).process_group(0);
    let shown = format!("{:?}", cmd);
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("spawning {shown}"))?;
    let pid = Pid::from_raw(child.id() as i32);
    let (exited, fired) = with_deadline(timeout, || killpg(pid, Signal::SIGKILL), || wait_exited(pid));
    let wall = start.elapsed();
    let status = child.wait().with_context(|| format!("reaping {shown}"))?;
    exited.with_context(|| format!("waiting for {shown}"))?;
    if fired {
        bail!("timed out after {} ms: {shown}", timeout.as_millis());
    }
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let stderr = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
    Ok(Outcome { wall, status, stdout, stderr })
}

/// Waits for `pid` (a child of ours, e.g. a container init re-parented to us as subreaper) to exit,
/// reaps it, and kills it after `timeout`. Returns false when it is not our child (nothing waited).
pub fn wait_child(pid: Pid, timeout: Duration) -> Result<bool> {
    let (exited, fired) = with_deadline(timeout, || kill(pid, Signal::SIGKILL), || wait_exited(pid));
    match exited {
        Err(Errno::ECHILD) => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("waitid({pid})")),
        Ok(()) => {}
    }
    waitpid(pid, None).with_context(|| format!("waitpid({pid})"))?;
    if fired {
        bail!("container process {pid} still running after {} ms, killed", timeout.as_millis());
    }
    Ok(true)
}

/// Waits until `pid` is gone from /proc or a zombie, for processes we cannot wait for.
pub fn poll_gone(pid: Pid, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let stat = format!("/proc/{pid}/stat");
    loop {
        match std::fs::read_to_string(&stat) {
            Err(_) => return Ok(()),
            // The state letter follows the ")" that closes the command name.
            Ok(s) if s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')) => return Ok(()),
            Ok(_) if Instant::now() >= deadline => bail!("process {pid} still running after {timeout:?}"),
            Ok(_) => thread::sleep(Duration::from_micros(200)),
        }
    }
}

/// Blocks until `pid` has exited, leaving it a zombie so its pid cannot be reused under a pending kill.
fn wait_exited(pid: Pid) -> nix::Result<()> {
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Err(Errno::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

/// Runs `wait` while a watchdog calls `kill` once `timeout` passes; `kill` only ever runs before
/// `wait` has returned, i.e. while the target is not yet reaped. Returns `wait`'s value and whether it fired.
fn with_deadline<T, K>(timeout: Duration, kill: K, wait: impl FnOnce() -> T) -> (T, bool)
where
    K: FnOnce() -> nix::Result<()> + Send,
{
    let done = (Mutex::new(false), Condvar::new());
    thread::scope(|s| {
        let watchdog = s.spawn(|| {
            let (lock, cv) = &done;
            let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (guard, _) =
                cv.wait_timeout_while(guard, timeout, |finished| !*finished).unwrap_or_else(|e| e.into_inner());
            let fire = !*guard;
            if fire {
                // ESRCH is fine: it exited between the timeout and now, and stays unreaped until we return.
                let _ = kill();
            }
            fire
        });
        let value = wait();
        *done.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        done.1.notify_all();
        (value, watchdog.join().unwrap_or(false))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hull-bench-spawn-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn run_reports_exit_status_and_stderr_line() {
        let path = scratch("status");
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "echo said; echo 'first complaint' >&2; exit 3"]);
        let out = run(&mut cmd, Duration::from_secs(10), &path).expect("runs");
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, "said\n");
        assert_eq!(out.stderr, "first complaint");
        let err = out.check("sh").expect_err("exit 3 is an error");
        assert!(err.to_string().contains("first complaint"), "{err}");
        let _ = std::fs::remove_dir_all(path);
    }

    #[test]
    fn run_kills_the_whole_group_at_the_deadline() {
        let path = scratch("timeout");
        let marker = path.join("grandchild-pid");
        let mut cmd = Command::new("/bin/sh");
        // A grandchild in the same group must die too, or a hung runtime would leave its children behind.
        cmd.args(["-c", &format!("sleep 30 & echo $! > {}; wait", marker.display())]);
        let started = Instant::now();
        let err = run(&mut cmd, Duration::from_millis(300), &path).expect_err("must time out");
        assert!(err.to_string().contains("timed out after 300 ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let grandchild: i32 = std::fs::read_to_string(&marker).expect("pid").trim().parse().expect("number");
        poll_gone(Pid::from_raw(grandchild), Duration::from_secs(5)).expect("grandchild killed");
        let _ = std::fs::remove_dir_all(path);
    }

    #[test]
    fn children_usage_accounts_a_reaped_childs_cpu() {
        let path = scratch("cpu");
        let (cpu_before, _) = children_usage().expect("rusage");
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]);
        let out = run(&mut cmd, Duration::from_secs(60), &path).expect("runs").check("loop").expect("ok");
        let (cpu_after, maxrss) = children_usage().expect("rusage");
        // Other tests' children can only add to the delta, never hide this one's CPU.
        let cpu = cpu_after - cpu_before;
        assert!(cpu >= out.wall / 4, "cpu {cpu:?} for a busy loop of wall {:?}", out.wall);
        assert!(cpu >= Duration::from_millis(20), "cpu {cpu:?}");
        assert!(maxrss > 0);
        let _ = std::fs::remove_dir_all(path);
    }

    #[test]
    fn poll_gone_times_out_on_a_live_process() {
        let err = poll_gone(Pid::this(), Duration::from_millis(20)).expect_err("we are alive");
        assert!(err.to_string().contains("still running"), "{err}");
    }

    #[test]
    fn wait_child_says_false_for_a_process_that_is_not_ours() {
        // pid 1 is never our child.
        assert!(!wait_child(Pid::from_raw(1), Duration::from_secs(1)).expect("ECHILD is not an error"));
    }
}
