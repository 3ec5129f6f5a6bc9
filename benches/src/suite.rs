//! One benchmark invocation inside the private mount namespace: probe each runtime, measure every
//! container in a fresh worker process, interleaving runtimes run by run, then check for leftovers.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::bundle::{docker_default_seccomp, kubernetes_resources, Bundle, HOST_BUSYBOX};
use crate::cgroups;
use crate::host::Host;
use crate::load::{self, LoadSample, LoadSummary};
use crate::measure::{path_str, Mode, Sample};
use crate::memory;
use crate::report::{Measured, Metrics, Report};
use crate::runtimes::{self, Runtime, Skipped};
use crate::spawn;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub runs: usize,
    pub warmup: usize,
    /// Containers started at once for the load figures; 0 skips them.
    pub load: usize,
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

/// A runtime being measured, with its samples so far and the modes it failed in.
struct Contestant {
    runtime: Runtime,
    root: PathBuf,
    samples: BTreeMap<&'static str, Vec<Sample>>,
    /// Mode name -> why it stopped being measured in that mode.
    failures: BTreeMap<&'static str, String>,
    load: Option<Result<LoadSummary, String>>,
    load_sequence: Option<Result<LoadSummary, String>>,
    min_memory: Option<Result<u64, String>>,
}

/// The bundle each mode runs: the plain one, the one with Docker's seccomp profile, and the
/// long-running one that exec enters.
struct Bundles {
    plain: Bundle,
    seccomp: Bundle,
    exec: Bundle,
    k8s: Bundle,
}

impl Bundles {
    fn of(&self, mode: Mode) -> &Bundle {
        match mode {
            Mode::RunSeccomp => &self.seccomp,
            Mode::K8s => &self.k8s,
            _ => &self.plain,
        }
    }
}

/// Runs the whole benchmark and returns its report. Runtimes that fail are reported as skipped.
pub fn run(plan: &Plan) -> Result<Report> {
    let host = Host::detect();
    let scratch = plan.workdir.join("scratch");
    fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let busybox = Path::new(HOST_BUSYBOX);
    let mut bundles = Bundles {
        plain: Bundle::create(&plan.workdir.join("bundle"), busybox, None)?,
        seccomp: Bundle::create(&plan.workdir.join("bundle-seccomp"), busybox, Some(docker_default_seccomp()))?,
        exec: Bundle::create(&plan.workdir.join("bundle-exec"), busybox, None)?,
        k8s: Bundle::create(&plan.workdir.join("bundle-k8s"), busybox, None)?,
    };
    bundles.k8s.resources = Some(kubernetes_resources());
    bundles.exec.args = ["/bin/busybox", "sleep", "3600"].map(String::from).into();
    let (mut contestants, mut skipped) = probe_all(plan, &scratch)?;
    preflight(plan, &bundles.plain, Mode::Run, &mut contestants, &mut skipped);
    check_seccomp_applied(plan, &mut contestants)?;
    let mut floor = floor_contestant(plan, &mut skipped)?;
    preflight(plan, &bundles.plain, Mode::Floor, &mut floor, &mut skipped);
    for mode in [Mode::Run, Mode::RunSeccomp, Mode::Sequence, Mode::K8s, Mode::Exec] {
        if mode == Mode::Exec {
            start_exec_targets(plan, &bundles.exec, &mut contestants)?;
        }
        for i in 0..plan.warmup + plan.runs {
            measure_round(plan, bundles.of(mode), mode, i, &mut contestants);
            if mode == Mode::Run {
                measure_round(plan, &bundles.plain, Mode::Floor, i, &mut floor);
            }
        }
    }
    stop_exec_targets(plan, &contestants);
    if plan.load > 0 {
        for c in contestants.iter_mut() {
            std::thread::sleep(LOAD_SETTLE);
            c.load = Some(measure_load(plan, &bundles.plain, c, load::Kind::Run).map_err(|e| format!("{e:#}")));
            std::thread::sleep(LOAD_SETTLE);
            c.load_sequence =
                Some(measure_load(plan, &bundles.plain, c, load::Kind::Sequence).map_err(|e| format!("{e:#}")));
        }
    }
    let mut memory_bundle = Bundle::create(&plan.workdir.join("bundle-memory"), busybox, None)?;
    for c in contestants.iter_mut() {
        let subject = memory::Subject {
            runtime: &c.runtime.path,
            root: &c.root,
            cgroup_prefix: format!("{}/{}/{}-mem", plan.cgroup_parent, c.runtime.name, c.runtime.name),
            scratch: &scratch,
            timeout: plan.timeout,
        };
        c.min_memory = Some(memory::smallest_limit(&subject, &mut memory_bundle).map_err(|e| format!("{e:#}")));
    }
    let floor = floor.first().and_then(|f| Metrics::of(Mode::Floor, f.samples.get("floor")?));
    let mut measured = Vec::new();
    for c in contestants {
        match finish(plan, c)? {
            Ok(m) => measured.push(m),
            Err(s) => skipped.push(s),
        }
    }
    Ok(Report { host, runs: plan.runs, warmup: plan.warmup, load: plan.load, measured, floor, skipped })
}

fn probe_all(plan: &Plan, scratch: &Path) -> Result<(Vec<Contestant>, Vec<Skipped>)> {
    let (mut contestants, mut skipped) = (Vec::new(), Vec::new());
    for spec in &plan.runtimes {
        let (name, path) = runtimes::locate(spec, &plan.hull)?;
        match runtimes::probe(&name, &path, scratch) {
            Ok(runtime) => {
                let root = plan.workdir.join(format!("state-{name}"));
                fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
                contestants.push(Contestant {
                    runtime,
                    root,
                    samples: BTreeMap::new(),
                    failures: BTreeMap::new(),
                    load: None,
                    load_sequence: None,
                    min_memory: None,
                });
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
    Ok(vec![Contestant {
        runtime,
        root,
        samples: BTreeMap::new(),
        failures: BTreeMap::new(),
        load: None,
        load_sequence: None,
        min_memory: None,
    }])
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

/// A runtime that ignored the profile would look cheap: each must show the filter inside the
/// container (`Seccomp: 2` in /proc/self/status) or it gets no seccomp figures.
fn check_seccomp_applied(plan: &Plan, contestants: &mut [Contestant]) -> Result<()> {
    let mut bundle = Bundle::create(
        &plan.workdir.join("bundle-seccomp-check"),
        Path::new(HOST_BUSYBOX),
        Some(docker_default_seccomp()),
    )?;
    bundle.args = ["/bin/busybox", "grep", "^Seccomp:", "/proc/self/status"].map(String::from).into();
    let scratch = plan.workdir.join("scratch");
    for c in contestants.iter_mut() {
        let id = format!("{}-seccomp-check", c.runtime.name);
        bundle.set_cgroups_path(&format!("{}/{}/{id}", plan.cgroup_parent, c.runtime.name))?;
        let mut cmd = Command::new(&c.runtime.path);
        cmd.arg("--root").arg(&c.root).arg("run").arg("--bundle").arg(&bundle.dir).arg(&id);
        let verdict = match spawn::run(&mut cmd, plan.timeout, &scratch).and_then(|o| o.check("run")) {
            Ok(out) if seccomp_mode(&out.stdout) == Some(2) => continue,
            Ok(out) => format!("the container ran without a seccomp filter (it saw {:?})", out.stdout.trim()),
            Err(e) => format!("checking the profile is applied: {e:#}"),
        };
        c.failures.insert(Mode::RunSeccomp.name(), verdict);
    }
    Ok(())
}

/// The number on the `Seccomp:` line of /proc/<pid>/status: 0 none, 1 strict, 2 filter.
fn seccomp_mode(status: &str) -> Option<u32> {
    status.lines().find_map(|l| l.strip_prefix("Seccomp:")).and_then(|v| v.trim().parse().ok())
}

fn exec_target(c: &Contestant) -> String {
    format!("{}-exec-target", c.runtime.name)
}

/// Creates and starts the container each runtime's exec measurements enter.
fn start_exec_targets(plan: &Plan, bundle: &Bundle, contestants: &mut [Contestant]) -> Result<()> {
    for c in contestants.iter_mut() {
        let id = exec_target(c);
        bundle.set_cgroups_path(&format!("{}/{}/{id}", plan.cgroup_parent, c.runtime.name))?;
        let started = runtime_cmd(plan, c, &["create", "--bundle", path_str(&bundle.dir)?, &id])
            .and_then(|()| runtime_cmd(plan, c, &["start", &id]));
        if let Err(e) = started {
            c.failures.insert(Mode::Exec.name(), format!("starting the container to exec into: {e:#}"));
        }
    }
    Ok(())
}

/// Kills and deletes the exec targets (errors show up as leftover state at the end).
fn stop_exec_targets(plan: &Plan, contestants: &[Contestant]) {
    for c in contestants {
        let _ = runtime_cmd(plan, c, &["delete", "--force", &exec_target(c)]);
    }
}

/// One untimed runtime command with the per-command deadline; a non-zero exit is an error.
fn runtime_cmd(plan: &Plan, c: &Contestant, args: &[&str]) -> Result<()> {
    let mut cmd = Command::new(&c.runtime.path);
    cmd.arg("--root").arg(&c.root).args(args);
    spawn::run(&mut cmd, plan.timeout, &plan.workdir.join("scratch"))?.check(args[0])?;
    Ok(())
}

/// The pause before each burst of `--load` containers. Part of a container's teardown runs after
/// its runtime has exited (the network namespace's cleanup is a kernel work item); a burst leaves
/// a hundred of them, which must not slow the next runtime's burst.
const LOAD_SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Container `i` of `mode` for each contestant still measured in that mode; a failure ends that
/// mode for that runtime only. The order rotates from round to round, so that no runtime always
/// follows the same one: the teardown work a container leaves to the kernel slowed the next one
/// (with hull after crun in every round, hull's `run` wall was 5 ms longer than the same binary's
/// placed first; 2026-12-03, 30 runs). A pause between containers did not help: after 30 ms idle
/// every runtime's `run` wall doubled on this VM.
fn measure_round(plan: &Plan, bundle: &Bundle, mode: Mode, i: usize, contestants: &mut [Contestant]) {
    let n = contestants.len().max(1);
    let mut order: Vec<&mut Contestant> = contestants.iter_mut().collect();
    order.rotate_left(i % n);
    for c in order.into_iter().filter(|c| !c.failures.contains_key(mode.name())) {
        let id = if mode == Mode::Exec { exec_target(c) } else { format!("{}-{}-{i}", c.runtime.name, mode.name()) };
        match worker(plan, bundle, mode, c, &id) {
            Ok(sample) if i >= plan.warmup => c.samples.entry(mode.name()).or_default().push(sample),
            Ok(_) => {}
            Err(e) => {
                c.failures.insert(mode.name(), format!("`{}` #{i} failed: {e:#}", mode.name()));
            }
        }
    }
}

/// Measures one container in a fresh process of this program, so rusage covers only it.
fn worker(plan: &Plan, bundle: &Bundle, mode: Mode, c: &Contestant, id: &str) -> Result<Sample> {
    if mode != Mode::Exec {
        bundle.set_cgroups_path(&format!("{}/{}/{id}", plan.cgroup_parent, c.runtime.name))?;
    }
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

/// `plan.load` concurrent `run`s (or sequences) of one runtime, measured by one worker.
fn measure_load(plan: &Plan, plain: &Bundle, c: &Contestant, kind: load::Kind) -> Result<LoadSummary> {
    let name = &c.runtime.name;
    let tag = match kind {
        load::Kind::Run => "load",
        load::Kind::Sequence => "loadseq",
    };
    let dir = plan.workdir.join(format!("{tag}-{name}"));
    load::write_bundles(
        &dir,
        &plain.dir.join("rootfs"),
        &format!("{}/{name}/{name}-{tag}", plan.cgroup_parent),
        plan.load,
    )?;
    let scratch = plan.workdir.join(format!("scratch/{tag}"));
    let mut cmd = Command::new(&plan.worker);
    cmd.args(["--worker", "load", "--kind", kind.name(), "--runtime"]).arg(&c.runtime.path);
    cmd.arg("--root").arg(&c.root).arg("--bundle").arg(&dir).arg("--id").arg(format!("{name}-{tag}"));
    cmd.arg("--scratch").arg(&scratch);
    cmd.arg("--timeout-ms").arg(plan.timeout.as_millis().to_string());
    // Every run has its own deadline; after a failure each container gets a force-delete with one too.
    let out = spawn::run(&mut cmd, plan.timeout * 3 + Duration::from_secs(10), &plan.workdir.join("scratch"))?;
    if !out.status.success() {
        bail!("{}", out.stderr.strip_prefix("lifecycle: ").unwrap_or(&out.stderr));
    }
    let value: Value =
        serde_json::from_str(&out.stdout).map_err(|e| anyhow!("worker printed {:?}: {e}", out.stdout))?;
    LoadSummary::of(&LoadSample::from_json(&value)?).ok_or_else(|| anyhow!("no container latencies"))
}

/// Cleans up after a contestant (state entries it left behind, force-deleted) and summarises it:
/// measured when `run` and the sequence both completed, skipped with the reason otherwise.
fn finish(plan: &Plan, c: Contestant) -> Result<Result<Measured, Skipped>> {
    let leaked_states = leftover_states(plan, &c)?;
    let leaked_cgroups = cgroups::leftovers(&format!("{}/{}", plan.cgroup_parent, c.runtime.name))?;
    let metrics = |mode: Mode| -> Result<Metrics, String> {
        if let Some(reason) = c.failures.get(mode.name()) {
            return Err(reason.clone());
        }
        let samples = c.samples.get(mode.name()).map(Vec::as_slice).unwrap_or_default();
        Metrics::of(mode, samples).ok_or_else(|| format!("no `{}` samples", mode.name()))
    };
    let (run, sequence) = match (metrics(Mode::Run), metrics(Mode::Sequence)) {
        (Ok(run), Ok(sequence)) => (run, sequence),
        (Err(a), Err(b)) => return Ok(Err(Skipped { name: c.runtime.name, reason: format!("{a}; {b}") })),
        (Err(reason), _) | (_, Err(reason)) => return Ok(Err(Skipped { name: c.runtime.name, reason })),
    };
    let (run_seccomp, exec, k8s) = (metrics(Mode::RunSeccomp), metrics(Mode::Exec), metrics(Mode::K8s));
    let load = c.load.unwrap_or_else(|| Err("not requested".into()));
    let load_sequence = c.load_sequence.unwrap_or_else(|| Err("not requested".into()));
    let min_memory = c.min_memory.unwrap_or_else(|| Err("not measured".into()));
    let runtime = c.runtime;
    Ok(Ok(Measured {
        runtime,
        run,
        run_seccomp,
        sequence,
        exec,
        k8s,
        load,
        load_sequence,
        min_memory,
        leaked_cgroups,
        leaked_states,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_mode_reads_the_status_line() {
        assert_eq!(seccomp_mode("Seccomp:\t2\n"), Some(2));
        assert_eq!(seccomp_mode("Name:\ttrue\nSeccomp:\t0\nSeccomp_filters:\t0\n"), Some(0));
        assert_eq!(seccomp_mode(""), None);
    }
}
