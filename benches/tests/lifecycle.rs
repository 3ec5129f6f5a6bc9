//! The `lifecycle` binary end to end: real runtimes as root, the report it prints and writes, and
//! that nothing (cgroups, scratch dir, processes) survives it.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const RUNC: &str = "/usr/sbin/runc";
const CRUN: &str = "/usr/bin/crun";

/// Why this machine cannot run the test, if it cannot.
fn unmet(needs: &[&str]) -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("needs root".into());
    }
    needs.iter().find(|p| !Path::new(p).exists()).map(|p| format!("needs {p}"))
}

macro_rules! require {
    ($($need:expr),*) => {
        if let Some(reason) = unmet(&[$($need),*]) {
            eprintln!("skipped: {reason}");
            return;
        }
    };
}

/// A test's own directory, removed even when an assertion fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("hull-bench-it-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the benchmark and returns its output and pid (which names its cgroup and scratch dir).
fn lifecycle(args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_lifecycle"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn lifecycle");
    let pid = child.id();
    (child.wait_with_output().expect("lifecycle output"), pid)
}

fn assert_nothing_left(pid: u32) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    for hierarchy in benches::cgroups::mount_points(&mountinfo) {
        let dir = hierarchy.join(format!("hull-bench-{pid}"));
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    let workdir = std::env::temp_dir().join(format!("hull-bench-{pid}"));
    assert!(!workdir.exists(), "{} left behind", workdir.display());
}

/// Runs the benchmark over `runtimes` and returns its JSON report, after checking the run left nothing.
fn measure(name: &str, runtimes: &str, hull: &str) -> Value {
    let dir = Scratch::new(name);
    let json_path = dir.0.join("report.json");
    let json_arg = json_path.to_str().expect("utf-8");
    let args =
        ["--runs", "3", "--warmup", "1", "--runtimes", runtimes, "--hull", hull, "--load", "10", "--json", json_arg];
    let (out, pid) = lifecycle(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("### Ratio to crun") && stdout.contains("| crun | crun version"), "{stdout}");
    assert_nothing_left(pid);
    serde_json::from_slice(&std::fs::read(&json_path).expect("json written")).expect("json")
}

/// Every measured runtime has full, positive figures and left neither state nor cgroups after delete.
fn assert_complete(report: &Value) {
    for rt in report["runtimes"].as_array().expect("list") {
        for mode in ["run", "sequence"] {
            assert_eq!(rt[mode]["wall_ms"]["n"], 3, "{report}");
            assert!(rt[mode]["wall_ms"]["median"].as_f64().unwrap() > 0.5, "{report}");
            assert!(rt[mode]["cpu_ms"]["median"].as_f64().unwrap() > 0.1, "{report}");
            assert!(rt[mode]["peak_rss_mib"]["median"].as_f64().unwrap() > 0.1, "{report}");
        }
        // Every real runtime applies Docker's profile (checked inside the container) and costs CPU doing so.
        assert!(rt["run_seccomp"]["cpu_ms"]["median"].as_f64().unwrap_or(0.0) > 0.1, "{report}");
        // Ten containers at once, each with its own latency, and none of them left behind (checked below).
        assert_eq!(rt["load"]["count"], 10, "{report}");
        assert!(rt["load"]["p99_latency_ms"].as_f64().unwrap() >= rt["load"]["latency_ms"]["median"].as_f64().unwrap());
        // The same for ten containerd-style sequences (create, start, wait, state, delete) at once.
        assert_eq!(rt["load_sequence"]["count"], 10, "{report}");
        assert!(rt["load_sequence"]["latency_ms"]["median"].as_f64().unwrap() > 0.5, "{report}");
        // Started under a memory limit it really set on the cgroup, one of the limits tried.
        let limit = rt["min_memory_limit_bytes"].as_u64().unwrap_or(0);
        assert!(benches::memory::LIMITS_KIB.contains(&(limit / 1024)), "{report}");
        let steps = rt["sequence"]["steps_wall_ms"].as_object().expect("steps");
        assert_eq!(steps.len(), 5, "{report}");
        assert_eq!(rt["leaked_states"], serde_json::json!([]), "{}: {report}", rt["name"]);
        assert_eq!(rt["leaked_cgroups"], serde_json::json!([]), "{}: {report}", rt["name"]);
    }
}

fn names(report: &Value) -> Vec<&str> {
    report["runtimes"].as_array().expect("list").iter().map(|r| r["name"].as_str().unwrap()).collect()
}

#[test]
fn compares_runc_and_crun_per_container_and_leaves_nothing_behind() {
    require!(RUNC, CRUN);
    let report = measure("compare", "runc,crun,hull", "/nonexistent/hull");
    assert_eq!(names(&report), ["runc", "crun"]);
    assert_complete(&report);
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("/nonexistent/hull"), "{report}");
    let rss = |rt: usize| report["runtimes"][rt]["run"]["peak_rss_mib"]["median"].as_f64().unwrap();
    // Peak RSS is per container, not the worst child so far: Go runc is several times crun's size.
    assert!(rss(0) > 1.5 * rss(1), "{report}");
    assert_eq!(report["runtimes"][1]["ratio_to_crun"]["run_wall"], 1.0);
    assert_eq!(report["runtimes"][0]["ratio_to_runc"]["sequence_cpu"], 1.0);
    for rt in 0..2 {
        let exec = &report["runtimes"][rt]["exec"];
        assert!(exec["cpu_ms"]["median"].as_f64().unwrap_or(0.0) > 0.1 && exec["wall_ms"]["n"] == 3, "{report}");
    }
    // The no-runtime floor ran beside them and every runtime costs more than it.
    let floor = report["floor"]["wall_ms"]["median"].as_f64().expect("floor measured");
    assert!(floor > 0.0 && report["runtimes"][1]["run_wall_to_floor"].as_f64().unwrap() > 1.0, "{report}");
}

#[test]
fn measures_the_built_hull_beside_crun() {
    // scripts/test.sh says which hull it built; otherwise this workspace's release build.
    let hull = std::env::var("HULL").map(PathBuf::from).unwrap_or_else(|_| benches::runtimes::default_hull());
    let hull = hull.to_str().expect("utf-8");
    require!(CRUN, hull);
    let report = measure("hull", "hull,crun", hull);
    assert_eq!(names(&report), ["hull", "crun"], "{report}");
    assert_complete(&report);
    assert!(report["runtimes"][0]["ratio_to_crun"]["run_cpu"].as_f64().unwrap() > 0.0, "{report}");
    // hull's exec is either measured or says why not; never silently absent.
    let hull_exec = &report["runtimes"][0];
    assert!(hull_exec["exec"]["wall_ms"]["n"] == 3 || hull_exec["exec_failure"].is_string(), "{report}");
    // issue 19: a container limited to 2 MiB of memory starts and runs /bin/true under hull
    // (runc needs about 7 MB); the limit was read back from the cgroup by the benchmark.
    let limit = report["runtimes"][0]["min_memory_limit_bytes"].as_u64().unwrap_or(u64::MAX);
    assert!(limit <= 2 << 20, "hull needs more than 2 MiB: {report}");
}

#[test]
fn broken_and_hanging_runtimes_are_skipped_with_their_reasons_in_bounded_time() {
    require!();
    let dir = Scratch::new("fakes");
    let pids = dir.0.join("hung.pid");
    let hang = dir.0.join("hang");
    let broken = dir.0.join("broken");
    let script = |path: &Path, body: &str| {
        let text = format!("#!/bin/sh\ncase \"$1\" in --version) echo fake 0; exit 0;; esac\n{body}\n");
        std::fs::write(path, text).expect("script");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    };
    script(&hang, &format!("echo $$ >> {}\nexec sleep 30", pids.display()));
    script(&broken, "echo 'broken: no such thing' >&2; exit 1");
    let runtimes = format!("hang={},broken={}", hang.display(), broken.display());
    let started = Instant::now();
    let (out, pid) = lifecycle(&["--runs", "1", "--warmup", "0", "--timeout-ms", "500", "--runtimes", &runtimes]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "nothing measured must fail: {stdout}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(stdout.contains("hang not measured: preflight `run` failed: timed out after 500 ms"), "{stdout}");
    assert!(stdout.contains("broken not measured: preflight `run` failed: run failed"), "{stdout}");
    assert!(stdout.contains("broken: no such thing"), "{stdout}");
    for hung in std::fs::read_to_string(&pids).expect("hang ran").lines() {
        let alive = Path::new(&format!("/proc/{hung}")).exists();
        assert!(!alive, "hung runtime {hung} survived");
    }
    assert_nothing_left(pid);
}

#[test]
fn bad_flags_get_one_clear_error_line() {
    for (args, expected) in [
        (&["--runs", "0"][..], "must not be empty or zero"),
        (&["--runtimes", "kata"][..], "unknown runtime \"kata\""),
        (&["--runs", "many"][..], "--runs wants a whole number"),
        (&["--bogus"][..], "unknown argument \"--bogus\""),
        (&["--runtimes", "runc,runc"][..], "\"runc\" given twice or reserved"),
        (&["--runtimes", "floor=/bin/true"][..], "\"floor\" given twice or reserved"),
        (&["--json", "/nonexistent/dir/r.json"][..], "--json: directory /nonexistent/dir does not exist"),
    ] {
        let (out, _) = lifecycle(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(stderr.starts_with("lifecycle: ") && stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed a report");
    }
}

#[test]
fn interrupted_midway_it_still_removes_everything() {
    require!(CRUN);
    let child = Command::new(env!("CARGO_BIN_EXE_lifecycle"))
        .args(["--runs", "500", "--warmup", "0", "--runtimes", "crun"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn lifecycle");
    let pid = child.id();
    // Long enough to be mid-measurement, with containers and cgroups of ours in flight.
    std::thread::sleep(Duration::from_millis(1500));
    let group = nix::unistd::Pid::from_raw(pid as i32);
    // SIGTERM, as `kill` or a service manager sends it: a shell starts background jobs (CI's
    // runner among them) with SIGINT ignored, which a Ctrl-C test would then never deliver.
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM).expect("interrupt");
    let out = child.wait_with_output().expect("exits");
    assert!(!out.status.success(), "an interrupted run must not report success");
    assert_nothing_left(pid);
}
