//! The benchmark's result: medians per runtime, ratios to crun and runc, as markdown and JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::host::Host;
use crate::load::LoadSummary;
use crate::measure::{Mode, Sample};
use crate::runtimes::{Runtime, Skipped};
use crate::stats::{ratio, Summary};

/// Wall, CPU and peak RSS over the measured samples of one mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub wall_ms: Summary,
    pub cpu_ms: Summary,
    pub rss_mib: Summary,
    /// Wall time of each step, in the mode's step order.
    pub steps_ms: Vec<(String, Summary)>,
}

impl Metrics {
    pub fn of(mode: Mode, samples: &[Sample]) -> Option<Metrics> {
        let ms = |f: &dyn Fn(&Sample) -> f64| Summary::of(&samples.iter().map(f).collect::<Vec<_>>());
        let step = |name: &str| {
            let walls: Vec<f64> = samples
                .iter()
                .filter_map(|s| s.steps.iter().find(|(n, _)| n == name).map(|(_, d)| d.as_secs_f64() * 1e3))
                .collect();
            Summary::of(&walls).map(|s| (name.to_string(), s))
        };
        Some(Metrics {
            wall_ms: ms(&|s| s.wall.as_secs_f64() * 1e3)?,
            cpu_ms: ms(&|s| s.cpu.as_secs_f64() * 1e3)?,
            rss_mib: ms(&|s| s.maxrss_kb as f64 / 1024.0)?,
            steps_ms: mode.steps().iter().filter_map(|n| step(n)).collect(),
        })
    }

    fn medians(&self) -> [f64; 3] {
        [self.wall_ms.median, self.cpu_ms.median, self.rss_mib.median]
    }

    fn to_json(&self) -> Value {
        let steps: serde_json::Map<String, Value> =
            self.steps_ms.iter().map(|(n, s)| (n.clone(), s.to_json())).collect();
        json!({"wall_ms": self.wall_ms.to_json(), "cpu_ms": self.cpu_ms.to_json(),
               "peak_rss_mib": self.rss_mib.to_json(), "steps_wall_ms": steps})
    }
}

/// One runtime that was measured all the way through.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub runtime: Runtime,
    pub run: Metrics,
    /// `run` of the bundle with Docker's default seccomp profile, or why it was not measured.
    pub run_seccomp: Result<Metrics, String>,
    pub sequence: Metrics,
    /// `exec /bin/true` into a running container, or why it was not measured.
    pub exec: Result<Metrics, String>,
    /// `create` + `delete` with a Kubernetes resource set, or why it was not measured.
    pub k8s: Result<Metrics, String>,
    /// [`Report::load`] concurrent `run`s, or why they were not measured.
    pub load: Result<LoadSummary, String>,
    /// [`Report::load`] concurrent create+start+wait+state+delete sequences, or why not.
    pub load_sequence: Result<LoadSummary, String>,
    /// Smallest memory limit (bytes) a `run` succeeded in, or why there is none.
    pub min_memory: Result<u64, String>,
    /// Container cgroups (by id) the runtime left behind after delete; the benchmark removed them.
    pub leaked_cgroups: Vec<String>,
    /// Container state entries the runtime left in its --root; force-deleted by the benchmark.
    pub leaked_states: Vec<String>,
}

impl Measured {
    /// Run wall, CPU, RSS then sequence wall, CPU, RSS medians.
    fn medians(&self) -> [f64; 6] {
        let (r, s) = (self.run.medians(), self.sequence.medians());
        [r[0], r[1], r[2], s[0], s[1], s[2]]
    }
}

/// Everything one invocation found.
#[derive(Debug, Clone)]
pub struct Report {
    pub host: Host,
    pub runs: usize,
    pub warmup: usize,
    /// Containers started at once for the load table; 0: not measured.
    pub load: usize,
    pub measured: Vec<Measured>,
    /// The no-runtime baseline (`unshare -mpuin -f chroot rootfs /bin/true`), when it ran.
    pub floor: Option<Metrics>,
    pub skipped: Vec<Skipped>,
}

const NOTES: &str =
    "Each runtime is a separate process per command, timed from spawn to reap; runtimes are interleaved \
run by run in a rotating order, all inside one `unshare -m` with /sys/fs/cgroup/unified unmounted (crun needs it hidden). CPU = user+sys \
of the runtime and every process it reaped, including the container's init (the runtime itself before execve of \
/bin/true). Peak RSS = ru_maxrss over that same process tree (what GNU time reports), taken per container. The \
sequence is create, start, wait for the init to exit (we are its subreaper, like containerd's shim), state until \
stopped, delete; its wall is the sum of those steps. The seccomp table runs the same bundle with Docker's default \
profile, after checking inside a container that each runtime really applies it.";

impl Report {
    fn reference(&self, name: &str) -> Option<[f64; 6]> {
        self.measured.iter().find(|m| m.runtime.name == name).map(Measured::medians)
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let h = &self.host;
        let _ = writeln!(out, "## Container lifecycle: whole-process medians\n");
        let _ = writeln!(
            out,
            "{} | kernel {} | {} CPUs ({}) | {} MiB memory | {} runs after {} warmup per runtime and mode\n",
            h.date, h.kernel, h.cpus, h.cpu_model, h.mem_mib, self.runs, self.warmup
        );
        if self.measured.is_empty() {
            let _ = writeln!(out, "No runtime was measured.");
            self.problems(&mut out);
            return out;
        }
        let _ = writeln!(out, "| runtime | version | run wall ms | run CPU ms | run peak RSS MiB | sequence wall ms | sequence CPU ms | sequence peak RSS MiB |");
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
        for m in &self.measured {
            let cells: Vec<String> = m.medians().iter().map(|v| format!("{v:.1}")).collect();
            let _ = writeln!(out, "| {} | {} | {} |", m.runtime.name, m.runtime.version, cells.join(" | "));
        }
        self.floor_line(&mut out);
        for reference in ["crun", "runc"] {
            self.ratio_table(&mut out, reference);
        }
        self.seccomp_table(&mut out);
        self.exec_table(&mut out);
        self.k8s_table(&mut out);
        self.load_table(&mut out);
        self.memory_line(&mut out);
        self.steps_table(&mut out);
        self.problems(&mut out);
        let _ = writeln!(out, "\n{NOTES}");
        out
    }

    fn ratio_table(&self, out: &mut String, reference: &str) {
        let Some(base) = self.reference(reference) else {
            let _ = writeln!(out, "\nNo ratios to {reference}: it was not measured.");
            return;
        };
        let _ = writeln!(out, "\n### Ratio to {reference} (median / {reference}'s median; below 1 is better)\n");
        let _ =
            writeln!(out, "| runtime | run wall | run CPU | run RSS | sequence wall | sequence CPU | sequence RSS |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for m in &self.measured {
            let cells: Vec<String> = m
                .medians()
                .iter()
                .zip(base)
                .map(|(v, b)| ratio(*v, Some(b)).map_or("-".to_string(), |r| format!("{r:.2}")))
                .collect();
            let _ = writeln!(out, "| {} | {} |", m.runtime.name, cells.join(" | "));
        }
    }

    fn floor_line(&self, out: &mut String) {
        let Some(floor) = &self.floor else { return };
        let [wall, cpu, rss] = floor.medians();
        let _ = write!(
            out,
            "\nFloor, no runtime (`unshare -mpuin -f chroot rootfs /bin/true`): wall {wall:.1} ms, CPU {cpu:.1} ms, \
             peak RSS {rss:.1} MiB. `run` wall / floor:"
        );
        for m in &self.measured {
            let r = ratio(m.run.wall_ms.median, Some(wall)).map_or("-".to_string(), |r| format!("{r:.1}"));
            let _ = write!(out, " {} {r};", m.runtime.name);
        }
        out.pop();
        out.push('\n');
    }

    fn seccomp_table(&self, out: &mut String) {
        let cpu_of = |name: &str| {
            let m = self.measured.iter().find(|m| m.runtime.name == name)?;
            m.run_seccomp.as_ref().ok().map(|s| s.cpu_ms.median)
        };
        let (crun, runc) = (cpu_of("crun"), cpu_of("runc"));
        let _ = writeln!(out, "\n### `run` with Docker's default seccomp profile (381 syscalls, 3 architectures)\n");
        let _ = writeln!(
            out,
            "| runtime | wall ms | CPU ms | peak RSS MiB | CPU added by the profile ms | CPU / crun | CPU / runc |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        let show = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.2}"));
        for m in &self.measured {
            let Ok(s) = &m.run_seccomp else { continue };
            let (cpu, added) = (s.cpu_ms.median, s.cpu_ms.median - m.run.cpu_ms.median);
            let _ = writeln!(
                out,
                "| {} | {:.1} | {cpu:.1} | {:.1} | {added:.1} | {} | {} |",
                m.runtime.name,
                s.wall_ms.median,
                s.rss_mib.median,
                show(ratio(cpu, crun)),
                show(ratio(cpu, runc))
            );
        }
    }

    fn k8s_table(&self, out: &mut String) {
        let of = |name: &str| self.measured.iter().find(|m| m.runtime.name == name).and_then(|m| m.k8s.as_ref().ok());
        let (crun, runc) = (of("crun"), of("runc"));
        let _ = writeln!(
            out,
            "\n### `create` + `delete` with a Kubernetes resource set (CPU shares/quota, memory+swap, device list)\n"
        );
        let _ = writeln!(out, "| runtime | wall ms | CPU ms | peak RSS MiB | CPU / crun | CPU / runc |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        let show = |v: f64, base: Option<f64>| ratio(v, base).map_or("-".to_string(), |r| format!("{r:.2}"));
        for m in &self.measured {
            let Ok(k) = &m.k8s else { continue };
            let _ = writeln!(
                out,
                "| {} | {:.1} | {:.1} | {:.1} | {} | {} |",
                m.runtime.name,
                k.wall_ms.median,
                k.cpu_ms.median,
                k.rss_mib.median,
                show(k.cpu_ms.median, crun.map(|c| c.cpu_ms.median)),
                show(k.cpu_ms.median, runc.map(|c| c.cpu_ms.median))
            );
        }
    }

    fn exec_table(&self, out: &mut String) {
        let of = |name: &str| self.measured.iter().find(|m| m.runtime.name == name).and_then(|m| m.exec.as_ref().ok());
        let (crun, runc) = (of("crun"), of("runc"));
        let _ = writeln!(out, "\n### `exec /bin/true` into a running container\n");
        let _ = writeln!(
            out,
            "| runtime | wall ms | CPU ms | peak RSS MiB | wall / crun | CPU / crun | wall / runc | CPU / runc |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
        let show = |v: f64, base: Option<f64>| ratio(v, base).map_or("-".to_string(), |r| format!("{r:.2}"));
        for m in &self.measured {
            let Ok(e) = &m.exec else { continue };
            let (wall, cpu) = (e.wall_ms.median, e.cpu_ms.median);
            let _ = writeln!(
                out,
                "| {} | {wall:.1} | {cpu:.1} | {:.1} | {} | {} | {} | {} |",
                m.runtime.name,
                e.rss_mib.median,
                show(wall, crun.map(|c| c.wall_ms.median)),
                show(cpu, crun.map(|c| c.cpu_ms.median)),
                show(wall, runc.map(|r| r.wall_ms.median)),
                show(cpu, runc.map(|r| r.cpu_ms.median))
            );
        }
    }

    fn load_table(&self, out: &mut String) {
        if self.load == 0 {
            return;
        }
        let n = self.load;
        self.load_kind_table(out, &format!("{n} `run`s started at once"), |m| &m.load);
        let title = format!(
            "{n} containerd-style sequences at once (`create --pid-file --log`, `start`, wait, `state`, `delete`)"
        );
        self.load_kind_table(out, &title, |m| &m.load_sequence);
    }

    /// One load table: latency = spawn to reap of each unit; throughput = units per second of
    /// the whole burst.
    fn load_kind_table(&self, out: &mut String, title: &str, of: impl Fn(&Measured) -> &Result<LoadSummary, String>) {
        let find = |name: &str| self.measured.iter().find(|m| m.runtime.name == name).and_then(|m| of(m).as_ref().ok());
        let crun = find("crun");
        let _ = writeln!(out, "\n### {title} (latency = spawn to reap of each)\n");
        let _ = writeln!(
            out,
            "| runtime | all done ms | per s | CPU ms | median latency ms | p99 latency ms | max ms | p50 / crun | p99 / crun | throughput / crun |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let show = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.2}"));
        let per_s = |l: &LoadSummary| l.count as f64 / (l.wall_ms / 1e3);
        for m in &self.measured {
            let Ok(l) = of(m) else { continue };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
                m.runtime.name,
                l.wall_ms,
                per_s(l),
                l.cpu_ms,
                l.latency_ms.median,
                l.p99_ms,
                l.latency_ms.max,
                show(ratio(l.latency_ms.median, crun.map(|c| c.latency_ms.median))),
                show(ratio(l.p99_ms, crun.map(|c| c.p99_ms))),
                show(ratio(per_s(l), crun.map(per_s)))
            );
        }
    }

    fn memory_line(&self, out: &mut String) {
        let found: Vec<String> = self
            .measured
            .iter()
            .filter_map(|m| m.min_memory.as_ref().ok().map(|b| format!("{} {} KiB", m.runtime.name, b / 1024)))
            .collect();
        if !found.is_empty() {
            let _ = writeln!(
                out,
                "\nSmallest memory limit `run` succeeds in (tried 128 KiB to 64 MiB, limit checked on the cgroup): {}",
                found.join("; ")
            );
        }
    }

    fn steps_table(&self, out: &mut String) {
        let steps = Mode::Sequence.steps();
        let _ = writeln!(out, "\n### Sequence steps (median wall ms)\n");
        let _ = writeln!(out, "| runtime | {} |", steps.join(" | "));
        let _ = writeln!(out, "|---|{}", "---:|".repeat(steps.len()));
        for m in &self.measured {
            let cells: Vec<String> = steps
                .iter()
                .map(|n| {
                    m.sequence
                        .steps_ms
                        .iter()
                        .find(|(s, _)| s == n)
                        .map_or("-".into(), |(_, s)| format!("{:.1}", s.median))
                })
                .collect();
            let _ = writeln!(out, "| {} | {} |", m.runtime.name, cells.join(" | "));
        }
    }

    fn problems(&self, out: &mut String) {
        for s in &self.skipped {
            let _ = writeln!(out, "\n- {} not measured: {}", s.name, s.reason);
        }
        for m in &self.measured {
            if let Err(reason) = &m.run_seccomp {
                let _ = writeln!(out, "\n- {} with seccomp not measured: {reason}", m.runtime.name);
            }
            if let Err(reason) = &m.k8s {
                let _ = writeln!(out, "\n- {} Kubernetes create+delete not measured: {reason}", m.runtime.name);
            }
            if let Err(reason) = &m.exec {
                let _ = writeln!(out, "\n- {} exec not measured: {reason}", m.runtime.name);
            }
            if let Err(reason) = &m.min_memory {
                let _ = writeln!(out, "\n- {} smallest memory limit not found: {reason}", m.runtime.name);
            }
            if let (Err(reason), true) = (&m.load, self.load > 0) {
                let _ = writeln!(out, "\n- {} under load not measured: {reason}", m.runtime.name);
            }
            if let (Err(reason), true) = (&m.load_sequence, self.load > 0) {
                let _ = writeln!(out, "\n- {} concurrent sequences not measured: {reason}", m.runtime.name);
            }
            if !m.leaked_cgroups.is_empty() {
                let _ = writeln!(
                    out,
                    "\n- {} left {} container cgroups after delete (removed by the benchmark)",
                    m.runtime.name,
                    m.leaked_cgroups.len()
                );
            }
            if !m.leaked_states.is_empty() {
                let _ = writeln!(
                    out,
                    "\n- {} left state for {:?} after delete (force-deleted)",
                    m.runtime.name, m.leaked_states
                );
            }
        }
    }

    pub fn to_json(&self) -> Value {
        let ratios = |m: &Measured, reference: &str| {
            self.reference(reference).map(|base| {
                let keys = ["run_wall", "run_cpu", "run_rss", "sequence_wall", "sequence_cpu", "sequence_rss"];
                let pairs =
                    keys.iter().zip(m.medians()).zip(base).map(|((k, v), b)| (k.to_string(), json!(ratio(v, Some(b)))));
                Value::Object(pairs.collect())
            })
        };
        let measured: Vec<Value> = self
            .measured
            .iter()
            .map(|m| {
                json!({"name": m.runtime.name, "path": m.runtime.path, "version": m.runtime.version,
                       "run": m.run.to_json(), "sequence": m.sequence.to_json(),
                       "run_seccomp": m.run_seccomp.as_ref().ok().map(Metrics::to_json),
                       "run_seccomp_failure": m.run_seccomp.as_ref().err(),
                       "exec": m.exec.as_ref().ok().map(Metrics::to_json), "exec_failure": m.exec.as_ref().err(),
                       "k8s": m.k8s.as_ref().ok().map(Metrics::to_json), "k8s_failure": m.k8s.as_ref().err(),
                       "load": m.load.as_ref().ok().map(LoadSummary::to_json), "load_failure": m.load.as_ref().err(),
                       "load_sequence": m.load_sequence.as_ref().ok().map(LoadSummary::to_json),
                       "load_sequence_failure": m.load_sequence.as_ref().err(),
                       "min_memory_limit_bytes": m.min_memory.as_ref().ok(), "min_memory_failure": m.min_memory.as_ref().err(),
                       "ratio_to_crun": ratios(m, "crun"), "ratio_to_runc": ratios(m, "runc"),
                       "run_wall_to_floor": ratio(m.run.wall_ms.median, self.floor.as_ref().map(|f| f.wall_ms.median)),
                       "leaked_cgroups": m.leaked_cgroups, "leaked_states": m.leaked_states})
            })
            .collect();
        let skipped: Vec<Value> = self.skipped.iter().map(|s| json!({"name": s.name, "reason": s.reason})).collect();
        json!({"host": self.host.to_json(), "runs": self.runs, "warmup": self.warmup, "load": self.load,
               "runtimes": measured, "floor": self.floor.as_ref().map(Metrics::to_json),
               "skipped": skipped, "notes": NOTES})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    fn sample(wall_ms: u64, cpu_ms: u64, rss_kb: u64) -> Sample {
        let wall = Duration::from_millis(wall_ms);
        Sample { wall, cpu: Duration::from_millis(cpu_ms), maxrss_kb: rss_kb, steps: vec![("run".into(), wall)] }
    }

    fn measured(name: &str, wall: u64, cpu: u64, rss_kb: u64) -> Measured {
        let samples =
            [sample(wall, cpu, rss_kb), sample(wall + 100, cpu + 100, rss_kb * 2), sample(wall - 1, cpu - 1, rss_kb)];
        let metrics = Metrics::of(Mode::Run, &samples).expect("samples");
        let runtime = Runtime { name: name.into(), path: PathBuf::from("/bin/x"), version: format!("{name} 1") };
        Measured {
            runtime,
            run: metrics.clone(),
            run_seccomp: Ok(metrics.clone()),
            exec: Ok(metrics.clone()),
            k8s: Ok(metrics.clone()),
            load: Err("not requested".into()),
            load_sequence: Err("not requested".into()),
            min_memory: Ok(512 * 1024),
            sequence: metrics,
            leaked_cgroups: vec![],
            leaked_states: vec![],
        }
    }

    fn report(measured: Vec<Measured>) -> Report {
        let host = Host { date: "d".into(), kernel: "6.18".into(), cpus: 2, cpu_model: "cpu".into(), mem_mib: 1024 };
        let skipped = vec![Skipped { name: "hull".into(), reason: "not built".into() }];
        let floor = Metrics::of(Mode::Floor, &[sample(4, 2, 1024)]);
        Report { host, runs: 3, warmup: 0, load: 0, measured, floor, skipped }
    }

    #[test]
    fn metrics_take_medians_not_means() {
        let m = measured("crun", 10, 8, 2048);
        assert_eq!(m.run.wall_ms.median, 10.0);
        assert_eq!(m.run.cpu_ms.median, 8.0);
        assert_eq!(m.run.rss_mib.median, 2.0);
        assert_eq!(m.run.steps_ms[0].1.median, 10.0);
    }

    #[test]
    fn markdown_has_medians_ratios_and_skip_reasons() {
        let text = report(vec![measured("runc", 20, 22, 10240), measured("crun", 10, 11, 2048)]).markdown();
        assert!(text.contains("| runc | runc 1 | 20.0 | 22.0 | 10.0 | 20.0 | 22.0 | 10.0 |"), "{text}");
        assert!(text.contains("### Ratio to crun"), "{text}");
        assert!(text.contains("| runc | 2.00 | 2.00 | 5.00 | 2.00 | 2.00 | 5.00 |"), "{text}");
        assert!(text.contains("| crun | 0.50 | 0.50 | 0.20 |"), "{text}");
        assert!(text.contains("hull not measured: not built"), "{text}");
        assert!(text.contains("kernel 6.18 | 2 CPUs"), "{text}");
        assert!(text.contains("| runc | 20.0 | 22.0 | 10.0 | 0.0 | 2.00 | 1.00 |"), "{text}");
        assert!(text.contains("| crun | 10.0 | 11.0 | 2.0 | 1.00 | 1.00 | 0.50 | 0.50 |"), "{text}");
        assert!(text.contains("limit checked on the cgroup): runc 512 KiB; crun 512 KiB\n"), "{text}");
        let floor = "wall 4.0 ms, CPU 2.0 ms, peak RSS 1.0 MiB. `run` wall / floor: runc 5.0; crun 2.5\n";
        assert!(text.contains(floor), "{text}");
    }

    #[test]
    fn a_runtime_without_seccomp_figures_says_why() {
        let mut hull = measured("hull", 10, 8, 2048);
        hull.run_seccomp = Err("`run-seccomp` #0 failed: not supported: seccomp".into());
        let r = report(vec![hull, measured("crun", 10, 11, 2048)]);
        let text = r.markdown();
        assert!(
            text.contains("- hull with seccomp not measured: `run-seccomp` #0 failed: not supported: seccomp"),
            "{text}"
        );
        assert!(!text.contains("| hull | 10.0 | 8.0 | 2.0 | 0.0 |"), "{text}");
        assert_eq!(r.to_json()["runtimes"][0]["run_seccomp"], Value::Null);
        assert!(r.to_json()["runtimes"][0]["run_seccomp_failure"].as_str().unwrap().contains("not supported"));
    }

    #[test]
    fn missing_reference_is_said_not_invented() {
        assert!(report(vec![]).markdown().contains("No runtime was measured.\n\n- hull not measured: not built"));
        let r = report(vec![measured("runc", 20, 22, 10240)]);
        assert!(r.markdown().contains("No ratios to crun: it was not measured."));
        let json = r.to_json();
        assert_eq!(json["runtimes"][0]["ratio_to_crun"], Value::Null);
        assert_eq!(json["runtimes"][0]["ratio_to_runc"]["run_wall"], 1.0);
        assert_eq!(json["skipped"][0]["reason"], "not built");
        assert_eq!(json["runtimes"][0]["run"]["wall_ms"]["median"], 20.0);
    }
}
