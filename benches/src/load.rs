//! Start latency under load: N `run`s of one runtime started at once, or N containerd-style
//! sequences (`create --pid-file --log`, `start`, wait, `state`, `delete`, each a process), each
//! container with its own bundle directory (sharing one read-only rootfs) and its own cgroup.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use nix::unistd::Pid;

use crate::bundle;
use crate::measure::path_str;
use crate::spawn::{self, children_usage};
use crate::stats::{percentile, Summary};

/// What each of the N concurrent units does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One `run` in the foreground.
    Run,
    /// `create`, `start`, wait for the init, `state`, `delete`: separate processes, as a shim.
    Sequence,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sequence => "sequence",
        }
    }

    pub fn parse(s: &str) -> Result<Kind> {
        match s {
            "run" => Ok(Kind::Run),
            "sequence" => Ok(Kind::Sequence),
            _ => bail!("unknown load kind {s:?}"),
        }
    }
}

/// What N concurrent containers cost, measured by one worker process.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSample {
    /// From the first spawn to the last reap.
    pub wall: Duration,
    /// User + sys of all N runtimes and their containers.
    pub cpu: Duration,
    /// Spawn to reap of each `run`.
    pub latencies: Vec<Duration>,
}

/// Writes `dir/<k>/config.json` for k in 0..count: container k runs `rootfs` in cgroup `<cgroup_prefix>-<k>`.
pub fn write_bundles(dir: &Path, rootfs: &Path, cgroup_prefix: &str, count: usize) -> Result<()> {
    for k in 0..count {
        let bundle = dir.join(k.to_string());
        fs::create_dir_all(&bundle).with_context(|| format!("creating {}", bundle.display()))?;
        let mut config = bundle::config(&format!("{cgroup_prefix}-{k}"));
        config["root"]["path"] = json!(path_str(rootfs)?);
        let path = bundle.join("config.json");
        fs::write(&path, config.to_string()).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Starts `RUNTIME --root R run --bundle <dir>/<k> <id_prefix>-<k>` (or the sequence) for every
/// bundle at once and waits for all. Must run in a process of its own (CPU comes from
/// RUSAGE_CHILDREN; for sequences it is the inits' subreaper, as a shim is).
pub fn measure(
    kind: Kind,
    runtime: &Path,
    root: &Path,
    dir: &Path,
    id_prefix: &str,
    scratch: &Path,
    timeout: Duration,
) -> Result<LoadSample> {
    let count = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?.count();
    if kind == Kind::Sequence {
        nix::sys::prctl::set_child_subreaper(true).context("PR_SET_CHILD_SUBREAPER")?;
    }
    let (cpu_before, _) = children_usage()?;
    let start = Instant::now();
    let results: Vec<Result<Duration>> = thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .map(|k| {
                s.spawn(move || {
                    let one = if kind == Kind::Run { run_one } else { sequence_one };
                    one(
                        runtime,
                        root,
                        &dir.join(k.to_string()),
                        &format!("{id_prefix}-{k}"),
                        &scratch.join(k.to_string()),
                        timeout,
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("measuring thread panicked")))).collect()
    });
    let wall = start.elapsed();
    let (cpu_after, _) = children_usage()?;
    let failed: Vec<String> = results.iter().filter_map(|r| r.as_ref().err().map(|e| format!("{e:#}"))).collect();
    if let Some(first) = failed.first() {
        for k in 0..count {
            let mut cmd = Command::new(runtime);
            cmd.arg("--root").arg(root).args(["delete", "--force", &format!("{id_prefix}-{k}")]);
            let _ = spawn::run(&mut cmd, timeout, &scratch.join(k.to_string()));
        }
        bail!("{} of {count} concurrent {}s failed, first: {first}", failed.len(), kind.name());
    }
    let latencies = results.into_iter().filter_map(Result::ok).collect();
    Ok(LoadSample { wall, cpu: cpu_after.saturating_sub(cpu_before), latencies })
}

fn run_one(
    runtime: &Path,
    root: &Path,
    bundle: &Path,
    id: &str,
    scratch: &Path,
    timeout: Duration,
) -> Result<Duration> {
    fs::create_dir_all(scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let mut cmd = Command::new(runtime);
    cmd.arg("--root").arg(root).arg("run").arg("--bundle").arg(bundle).arg(id);
    Ok(spawn::run(&mut cmd, timeout, scratch)?.check("run")?.wall)
}

/// create (with the pid file and log a shim passes), start, wait for the init (re-parented to
/// this process, the subreaper), state until stopped, delete; spawn of create to reap of delete.
fn sequence_one(
    runtime: &Path,
    root: &Path,
    bundle: &Path,
    id: &str,
    scratch: &Path,
    timeout: Duration,
) -> Result<Duration> {
    fs::create_dir_all(scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let invoke = |args: &[&str]| -> Result<spawn::Outcome> {
        let mut cmd = Command::new(runtime);
        cmd.arg("--root").arg(root).args(args);
        spawn::run(&mut cmd, timeout, scratch)
    };
    let (pid_file, log) = (scratch.join("init.pid"), scratch.join("log.json"));
    let start = Instant::now();
    let (pid_arg, log_arg, bundle_arg) = (path_str(&pid_file)?, path_str(&log)?, path_str(bundle)?);
    invoke(&["--log", log_arg, "--log-format", "json", "create", "--bundle", bundle_arg, "--pid-file", pid_arg, id])?
        .check("create")?;
    let text = fs::read_to_string(&pid_file).with_context(|| format!("reading {}", pid_file.display()))?;
    let pid = Pid::from_raw(text.trim().parse().with_context(|| format!("pid file holds {text:?}"))?);
    invoke(&["--log", log_arg, "--log-format", "json", "start", id])?.check("start")?;
    if !spawn::wait_child(pid, timeout)? {
        spawn::poll_gone(pid, timeout)?;
    }
    let deadline = Instant::now() + timeout;
    loop {
        let out = invoke(&["state", id])?.check("state")?;
        let state: Value =
            serde_json::from_str(&out.stdout).with_context(|| format!("state output {:?}", out.stdout))?;
        match state["status"].as_str() {
            Some("stopped") => break,
            Some(_) if Instant::now() < deadline => thread::sleep(Duration::from_micros(500)),
            other => bail!("state still says {other:?} after the init exited"),
        }
    }
    invoke(&["--log", log_arg, "--log-format", "json", "delete", id])?.check("delete")?;
    Ok(start.elapsed())
}

impl LoadSample {
    pub fn to_json(&self) -> Value {
        let latencies: Vec<u64> = self.latencies.iter().map(|d| d.as_micros() as u64).collect();
        json!({"wall_us": self.wall.as_micros() as u64, "cpu_us": self.cpu.as_micros() as u64, "latencies_us": latencies})
    }

    pub fn from_json(v: &Value) -> Result<LoadSample> {
        let micros = |v: &Value| {
            v.as_u64().map(Duration::from_micros).ok_or_else(|| anyhow!("load sample field is not a number"))
        };
        let list = v["latencies_us"].as_array().ok_or_else(|| anyhow!("load sample has no latencies_us"))?;
        Ok(LoadSample {
            wall: micros(&v["wall_us"])?,
            cpu: micros(&v["cpu_us"])?,
            latencies: list.iter().map(micros).collect::<Result<_>>()?,
        })
    }
}

/// The figures the report quotes for a load run, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSummary {
    pub count: usize,
    pub wall_ms: f64,
    pub cpu_ms: f64,
    pub latency_ms: Summary,
    pub p99_ms: f64,
}

impl LoadSummary {
    pub fn of(sample: &LoadSample) -> Option<LoadSummary> {
        let ms: Vec<f64> = sample.latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        Some(LoadSummary {
            count: ms.len(),
            wall_ms: sample.wall.as_secs_f64() * 1e3,
            cpu_ms: sample.cpu.as_secs_f64() * 1e3,
            latency_ms: Summary::of(&ms)?,
            p99_ms: percentile(&ms, 99.0)?,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({"count": self.count, "wall_ms": self.wall_ms, "cpu_ms": self.cpu_ms,
               "latency_ms": self.latency_ms.to_json(), "p99_latency_ms": self.p99_ms})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_share_the_rootfs_and_get_their_own_cgroup() {
        let dir = std::env::temp_dir().join(format!("hull-bench-load-{}", std::process::id()));
        write_bundles(&dir, Path::new("/abs/rootfs"), "/p/crun/crun-load", 3).expect("written");
        let read = |k: usize| -> Value {
            serde_json::from_slice(&fs::read(dir.join(format!("{k}/config.json"))).unwrap()).unwrap()
        };
        assert_eq!(read(0)["root"]["path"], "/abs/rootfs");
        assert_eq!(read(2)["linux"]["cgroupsPath"], "/p/crun/crun-load-2");
        assert!(!dir.join("3").exists());
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn summary_has_p99_and_survives_json() {
        let sample = LoadSample {
            wall: Duration::from_millis(900),
            cpu: Duration::from_millis(1500),
            latencies: (1..=100).map(Duration::from_millis).collect(),
        };
        let back = LoadSample::from_json(&sample.to_json()).expect("parses");
        assert_eq!(back, sample);
        let summary = LoadSummary::of(&back).expect("latencies");
        assert_eq!((summary.count, summary.p99_ms, summary.latency_ms.max), (100, 99.0, 100.0));
    }
}
