//! One benchmark invocation inside the private mount namespace: probe each runtime, measure every
//! container in a fresh worker process, interleaving runtimes run by run, then check for leftovers.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::bundle::{Bundle, HOST_BUSYBOX};
use crate::cgroups;
use crate::host::Host;
use crate::measure::{Mode, Sample};
use crate::report::{Measured, Metrics, Report};
use crate::runtimes::{self, Runtime, Skipped};
use crate::spawn;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub runs: usize,
    pub warmup: usize,
    /// Runtime specs as given: `hull`, `runc`, `crun` or `NAME=PATH`.
    pub runtimes: Vec<String>,
    pub hull: PathBuf,
    /// Per runtime command.
    pub timeout: Duration,
    /// The worker binary: this program, re-run as `--worker`.
    pub worker: PathBuf,
    /// Scratch space this invocation owns; removed by the caller.
    pub workdir: PathBuf,
    /// Absolute cgroup path owned by this invocation; containers go below `<it>/<runtime>/<id>`.
    pub cgroup_parent: String,
}

/// A runtime being measured, with its samples so far.
struct Contestant {
    runtime: Runtime,
    root: PathBuf,
    samples: BTreeMap<&'static str, Vec<Sample>>,
}

/// Runs the whole benchmark and returns its report. Runtimes that fail are reported as skipped.
pub fn run(plan: &Plan) -> Result<Report> {
    let host = Host::detect();
    let scratch = plan.workdir.join("scratch");
    fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let bundle = Bundle::create(&plan.workdir.join("bundle"), Path::new(HOST_BUSYBOX), "/unused")?;
    let (mut contestants, mut skipped) = probe_all(plan, &scratch)?;
    preflight(plan, &bundle, Mode::Run, &mut contestants, &mut skipped);
    let mut floor = floor_contestant(plan, &mut skipped)?;
    preflight(plan, &bundle, Mode::Floor, &mut floor, &mut skipped);
    for mode in [Mode::Run, Mode::Sequence] {
        for i in 0..plan.warmup + plan.runs {
            measure_round(plan, &bundle, mode, i, &mut contestants, &mut skipped);
            if mode == Mode::Run {
                measure_round(plan, &bundle, Mode::Floor, i, &mut floor, &mut skipped);
            }
        }
    }
    let floor = floor.first().and_then(|f| Metrics::of(Mode::Floor, f.samples.get("floor")?));
    let measured = contestants.into_iter().map(|c| finish(plan, c)).collect::<Result<Vec<_>>>()?;
    Ok(Report { host, runs: plan.runs, warmup: plan.warmup, measured, floor, skipped })
}

fn probe_all(plan: &Plan, scratch: &Path) -> Result<(Vec<Contestant>, Vec<Skipped>)> {
    let (mut contestants, mut skipped) = (Vec::new(), Vec::new());
    for spec in &plan.runtimes {
        let (name, path) = runtimes::locate(spec, &plan.hull)?;
        match runtimes::probe(&name, &path, scratch) {
            Ok(runtime) => {
                let root = plan.workdir.join(format!("state-{name}"));
                fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
                contestants.push(Contestant { runtime, root, samples: BTreeMap::new() });
            }
            Err(reason) => skipped.push(Skipped { name, reason }),
        }
    }
    Ok((contestants, skipped))
}

/// The no-runtime baseline, run by unshare(1) from util-linux.
fn floor_contestant(plan: &Plan, skipped: &mut Vec<Skipped>) -> Result<Vec<Contestant>> {
    let Some(path) = ["/usr/bin/unshare", "/bin/unshare"].into_iter().map(PathBuf::from).find(|p| p.exists()) else {
        skipped.push(Skipped { name: "floor".into(), reason: "unshare(1) not found".into() });
        return Ok(Vec::new());
    };
    let version = "unshare -mpuin -f chroot rootfs /bin/true".to_string();
    let root = plan.workdir.join("state-floor");
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let runtime = Runtime { name: "floor".into(), path, version };
    Ok(vec![Contestant { runtime, root, samples: BTreeMap::new() }])
}

/// One untimed container per runtime first: a runtime that cannot run the bundle is skipped
/// with its own error line rather than failing the whole benchmark.
fn preflight(plan: &Plan, bundle: &Bundle, mode: Mode, contestants: &mut Vec<Contestant>, skipped: &mut Vec<Skipped>) {
    contestants.retain(|c| {
        let id = format!("{}-preflight", c.runtime.name);
        match worker(plan, bundle, mode, c, &id) {
            Ok(_) => true,
            Err(e) => {
                let reason = format!("preflight `{}` failed: {e:#}", mode.name());
                skipped.push(Skipped { name: c.runtime.name.clone(), reason });
                false
            }
        }
    });
}

fn measure_round(
    plan: &Plan,
    bundle: &Bundle,
    mode: Mode,
    i: usize,
    contestants: &mut Vec<Contestant>,
    skipped: &mut Vec<Skipped>,
) {
    contestants.retain_mut(|c| {
        let id = format!("{}-{}{i}", c.runtime.name, &mode.name()[..1]);
        match worker(plan, bundle, mode, c, &id) {
            Ok(sample) if i >= plan.warmup => {
                c.samples.entry(mode.name()).or_default().push(sample);
                true
            }
            Ok(_) => true,
            Err(e) => {
                let reason = format!("{} #{i} failed: {e:#}", mode.name());
                skipped.push(Skipped { name: c.runtime.name.clone(), reason });
                false
            }
        }
    });
}

/// Measures one container in a fresh process of this program, so rusage covers only it.
fn worker(plan: &Plan, bundle: &Bundle, mode: Mode, c: &Contestant, id: &str) -> Result<Sample> {
    bundle.set_cgroups_path(&format!("{}/{}/{id}", plan.cgroup_parent, c.runtime.name))?;
    let scratch = plan.workdir.join("scratch/worker");
    fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let mut cmd = Command::new(&plan.worker);
    cmd.arg("--worker").arg(mode.name());
    cmd.arg("--runtime").arg(&c.runtime.path).arg("--root").arg(&c.root).arg("--bundle").arg(&bundle.dir);
    cmd.arg("--id").arg(id).arg("--scratch").arg(&scratch);
    cmd.arg("--timeout-ms").arg(plan.timeout.as_millis().to_string());
    // Five runtime commands plus the wait, each with its own deadline, bound the worker.
    let out = spawn::run(&mut cmd, plan.timeout * 7 + Duration::from_secs(5), &plan.workdir.join("scratch"))?;
    if !out.status.success() {
        // The worker's own error line already says what failed; its program name adds nothing.
        bail!("{}", out.stderr.strip_prefix("lifecycle: ").unwrap_or(&out.stderr));
    }
    let value: Value =
        serde_json::from_str(&out.stdout).map_err(|e| anyhow!("worker printed {:?}: {e}", out.stdout))?;
    Sample::from_json(&value)
}

/// Summarises a contestant and cleans up after it: state entries and cgroups it left behind.
fn finish(plan: &Plan, c: Contestant) -> Result<Measured> {
    let metrics = |mode: Mode| {
        let samples = c.samples.get(mode.name()).map(Vec::as_slice).unwrap_or_default();
        Metrics::of(mode, samples).ok_or_else(|| anyhow!("{}: no {} samples", c.runtime.name, mode.name()))
    };
    let (run, sequence) = (metrics(Mode::Run)?, metrics(Mode::Sequence)?);
    let leaked_states = leftover_states(plan, &c)?;
    let leaked_cgroups = cgroups::leftovers(&format!("{}/{}", plan.cgroup_parent, c.runtime.name))?;
    Ok(Measured { runtime: c.runtime, run, sequence, leaked_cgroups, leaked_states })
}

/// Container ids still in the runtime's --root; each is force-deleted so no process survives us.
fn leftover_states(plan: &Plan, c: &Contestant) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(&c.root).with_context(|| format!("listing {}", c.root.display()))? {
        let entry = entry.with_context(|| format!("listing {}", c.root.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            ids.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    ids.sort();
    for id in &ids {
        let mut cmd = Command::new(&c.runtime.path);
        cmd.arg("--root").arg(&c.root).args(["delete", "--force", id]);
        let _ = spawn::run(&mut cmd, plan.timeout, &plan.workdir.join("scratch"));
    }
    Ok(ids)
}
