//! One measured container lifecycle (`run`, or create/start/wait/state/delete), taken inside a fresh
//! worker process so that its RUSAGE_CHILDREN figures belong to this one container alone.
//!
//! CPU is user + sys of the runtime processes and everything they (or we, as subreaper) reaped:
//! the runtime's helpers and the container's init, which before its execve was the runtime itself.
//! Peak RSS is `ru_maxrss` over the same tree: the largest of those processes, as GNU time reports.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::spawn::{self, children_usage, Outcome};

/// Which lifecycle a sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `RUNTIME run --bundle B ID`.
    Run,
    /// The same `run` of a bundle carrying Docker's default seccomp profile.
    RunSeccomp,
    /// `create`, `start`, wait for the init to exit, `state` until stopped, `delete`: each its own process.
    Sequence,
    /// `RUNTIME exec ID /bin/true` into a running container (busybox sleep) started beforehand.
    Exec,
    /// `create` then `delete` of a container carrying a Kubernetes resource set (kubelet-like).
    K8s,
    /// No runtime: `unshare -mpuin -f chroot ROOTFS /bin/true`, the same namespaces as the bundle
    /// without cgroups, mounts or capabilities: what any runtime's `run` costs at least.
    Floor,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::RunSeccomp => "run-seccomp",
            Mode::Sequence => "sequence",
            Mode::Exec => "exec",
            Mode::K8s => "k8s",
            Mode::Floor => "floor",
        }
    }

    pub fn parse(s: &str) -> Result<Mode> {
        match s {
            "run" => Ok(Mode::Run),
            "run-seccomp" => Ok(Mode::RunSeccomp),
            "sequence" => Ok(Mode::Sequence),
            "exec" => Ok(Mode::Exec),
            "k8s" => Ok(Mode::K8s),
            "floor" => Ok(Mode::Floor),
            other => bail!("unknown mode {other:?} (want run, run-seccomp, sequence, exec, k8s or floor)"),
        }
    }

    /// The step names, in order, that a sample of this mode reports.
    pub fn steps(self) -> &'static [&'static str] {
        match self {
            Mode::Run | Mode::RunSeccomp => &["run"],
            Mode::Sequence => &["create", "start", "wait", "state", "delete"],
            Mode::Exec => &["exec"],
            Mode::K8s => &["create", "delete"],
            Mode::Floor => &["floor"],
        }
    }
}

/// The container a worker drives.
#[derive(Debug, Clone)]
pub struct Target {
    pub runtime: PathBuf,
    pub root: PathBuf,
    pub bundle: PathBuf,
    pub id: String,
    /// A private directory for the commands' stdout/stderr and the pid file.
    pub scratch: PathBuf,
    pub timeout: Duration,
}

/// What one container cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Sum of the steps' wall times.
    pub wall: Duration,
    pub cpu: Duration,
    pub maxrss_kb: u64,
    /// Wall time of each step, named as in [`Mode::steps`].
    pub steps: Vec<(String, Duration)>,
}

impl Sample {
    pub fn to_json(&self) -> Value {
        let steps: serde_json::Map<String, Value> =
            self.steps.iter().map(|(name, d)| (name.clone(), json!(d.as_micros() as u64))).collect();
        json!({"wall_us": self.wall.as_micros() as u64, "cpu_us": self.cpu.as_micros() as u64,
               "maxrss_kb": self.maxrss_kb, "steps_us": steps})
    }

    pub fn from_json(v: &Value) -> Result<Sample> {
        let micros = |v: &Value, key: &str| {
            v.as_u64().map(Duration::from_micros).ok_or_else(|| anyhow!("sample field {key} is not a number"))
        };
        let steps = v["steps_us"].as_object().ok_or_else(|| anyhow!("sample has no steps_us"))?;
        Ok(Sample {
            wall: micros(&v["wall_us"], "wall_us")?,
            cpu: micros(&v["cpu_us"], "cpu_us")?,
            maxrss_kb: v["maxrss_kb"].as_u64().ok_or_else(|| anyhow!("sample has no maxrss_kb"))?,
            steps: steps.iter().map(|(k, d)| Ok((k.clone(), micros(d, k)?))).collect::<Result<_>>()?,
        })
    }
}

/// Measures one container. Must run in a process of its own that has reaped no other child.
/// On failure the container is force-deleted so that nothing is left behind.
pub fn measure(mode: Mode, target: &Target) -> Result<Sample> {
    let (cpu_before, _) = children_usage()?;
    let steps = match mode {
        Mode::Run | Mode::RunSeccomp => run_steps(target),
        Mode::Sequence => sequence_steps(target),
        Mode::Exec => exec_steps(target),
        Mode::K8s => create_delete_steps(target),
        Mode::Floor => floor_steps(target),
    };
    let steps = match steps {
        Ok(steps) => steps,
        Err(e) => {
            // The exec target outlives a failed exec; the suite deletes it.
            if mode != Mode::Floor && mode != Mode::Exec {
                force_delete(target);
            }
            return Err(e);
        }
    };
    let (cpu_after, maxrss_kb) = children_usage()?;
    let wall = steps.iter().map(|(_, d)| *d).sum();
    Ok(Sample { wall, cpu: cpu_after.saturating_sub(cpu_before), maxrss_kb, steps })
}

fn run_steps(t: &Target) -> Result<Vec<(String, Duration)>> {
    let out = invoke(t, &["run", "--bundle", path_str(&t.bundle)?, &t.id])?.check("run")?;
    Ok(vec![("run".to_string(), out.wall)])
}

/// The kubelet's path for a container that is created and removed: its process never starts.
fn create_delete_steps(t: &Target) -> Result<Vec<(String, Duration)>> {
    let create = invoke(t, &["create", "--bundle", path_str(&t.bundle)?, &t.id])?.check("create")?;
    let delete = invoke(t, &["delete", "--force", &t.id])?.check("delete")?;
    Ok(vec![("create".to_string(), create.wall), ("delete".to_string(), delete.wall)])
}

fn exec_steps(t: &Target) -> Result<Vec<(String, Duration)>> {
    let out = invoke(t, &["exec", &t.id, "/bin/true"])?.check("exec")?;
    Ok(vec![("exec".to_string(), out.wall)])
}

/// `target.runtime` is unshare(1) here; the bundle's rootfs is entered with chroot.
fn floor_steps(t: &Target) -> Result<Vec<(String, Duration)>> {
    let rootfs = t.bundle.join("rootfs");
    let mut cmd = Command::new(&t.runtime);
    cmd.args(["--mount", "--pid", "--uts", "--ipc", "--net", "--fork", "chroot"]).arg(rootfs).arg("/bin/true");
    let out = spawn::run(&mut cmd, t.timeout, &t.scratch)?.check("unshare")?;
    Ok(vec![("floor".to_string(), out.wall)])
}

fn sequence_steps(t: &Target) -> Result<Vec<(String, Duration)>> {
    // Like containerd's shim: the init is re-parented to us when `create` exits, so we can wait for it.
    nix::sys::prctl::set_child_subreaper(true).context("PR_SET_CHILD_SUBREAPER")?;
    let pid_file = t.scratch.join("init.pid");
    let bundle = path_str(&t.bundle)?;
    let create = invoke(t, &["create", "--bundle", bundle, "--pid-file", path_str(&pid_file)?, &t.id])?;
    let create = create.check("create")?;
    let pid = read_pid(&pid_file)?;
    let start = invoke(t, &["start", &t.id])?.check("start")?;
    let waited = Instant::now();
    if !spawn::wait_child(pid, t.timeout)? {
        spawn::poll_gone(pid, t.timeout)?;
    }
    let wait = waited.elapsed();
    let state = state_until_stopped(t)?;
    let delete = invoke(t, &["delete", &t.id])?.check("delete")?;
    Ok(vec![
        ("create".to_string(), create.wall),
        ("start".to_string(), start.wall),
        ("wait".to_string(), wait),
        ("state".to_string(), state),
        ("delete".to_string(), delete.wall),
    ])
}

/// Calls `state` until it says stopped; returns the summed wall time of those calls.
fn state_until_stopped(t: &Target) -> Result<Duration> {
    let deadline = Instant::now() + t.timeout;
    let mut spent = Duration::ZERO;
    loop {
        let out = invoke(t, &["state", &t.id])?.check("state")?;
        spent += out.wall;
        let state: Value =
            serde_json::from_str(&out.stdout).with_context(|| format!("state output {:?}", out.stdout))?;
        match state["status"].as_str() {
            Some("stopped") => return Ok(spent),
            Some(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_micros(500)),
            other => bail!("state still says {other:?} after the init exited"),
        }
    }
}

fn invoke(t: &Target, args: &[&str]) -> Result<Outcome> {
    let mut cmd = Command::new(&t.runtime);
    cmd.arg("--root").arg(&t.root).args(args);
    spawn::run(&mut cmd, t.timeout, &t.scratch)
}

fn force_delete(t: &Target) {
    let _ = invoke(t, &["delete", "--force", &t.id]);
}

fn read_pid(path: &Path) -> Result<Pid> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading pid file {}", path.display()))?;
    let pid: i32 = text.trim().parse().with_context(|| format!("pid file {} holds {text:?}", path.display()))?;
    Ok(Pid::from_raw(pid))
}

/// Runtimes take paths as argv strings; ours are all UTF-8 (we made them).
pub fn path_str(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| anyhow!("path {} is not UTF-8", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_survives_the_worker_json_round_trip() {
        let sample = Sample {
            wall: Duration::from_micros(12_345),
            cpu: Duration::from_micros(6_789),
            maxrss_kb: 3_100,
            steps: vec![
                ("create".into(), Duration::from_micros(5_000)),
                ("delete".into(), Duration::from_micros(7_345)),
            ],
        };
        let back = Sample::from_json(&sample.to_json()).expect("parses");
        assert_eq!(back.wall, sample.wall);
        assert_eq!(back.cpu, sample.cpu);
        assert_eq!(back.maxrss_kb, 3_100);
        let mut steps = back.steps.clone();
        steps.sort();
        assert_eq!(steps, sample.steps);
    }

    #[test]
    fn from_json_rejects_a_sample_without_cpu() {
        let err = Sample::from_json(&json!({"wall_us": 1, "maxrss_kb": 1, "steps_us": {}})).expect_err("no cpu");
        assert!(err.to_string().contains("cpu_us"), "{err}");
    }

    #[test]
    fn mode_names_round_trip() {
        for mode in [Mode::Run, Mode::RunSeccomp, Mode::Sequence, Mode::Exec, Mode::Floor] {
            assert_eq!(Mode::parse(mode.name()).expect("known"), mode);
        }
        assert!(Mode::parse("pause").is_err());
    }
}
