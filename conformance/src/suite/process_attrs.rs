//! config.md process.scheduler, ioPriority, execCPUAffinity and config-linux.md personality and
//! memoryPolicy: each seen from inside (or from the host on the init), and each bad value refused.

use crate::{requires, Case};
use serde_json::{json, Value};

/// Runs `sh -c script` with the config edit and returns stdout.
fn run_sh(edit: impl FnOnce(&mut Value), script: &str) -> String {
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(edit));
    let out = c.run(&[]);
    assert!(out.success(), "{out}");
    c.assert_clean();
    out.stdout
}

/// Field `n` (1-based, as proc(5) counts) of /proc/PID/stat.
fn stat_field(pid: i64, n: usize) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &s[s.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(n - 3).unwrap().to_owned()
}

pub fn scheduler_policy_and_nice_apply_to_the_init() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 5});
    }));
    c.create(&[]).ok();
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    assert_eq!(stat_field(pid, 41), "3", "policy SCHED_BATCH");
    assert_eq!(stat_field(pid, 19), "5", "nice");
    c.delete(true).ok();
    c.assert_clean();
}

pub fn io_priority_class_is_set() {
    requires!(root, runtime);
    let out = run_sh(|s| s["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 0}), "ionice");
    assert_eq!(out.trim(), "idle", "{out}");
    let out = run_sh(|s| s["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 6}), "ionice");
    assert_eq!(out.trim(), "best-effort: prio 6", "{out}");
}

pub fn final_cpu_affinity_is_in_place_at_execve() {
    requires!(root, runtime);
    let out =
        run_sh(|s| s["process"]["execCPUAffinity"] = json!({"final": "0"}), "grep Cpus_allowed_list /proc/self/status");
    assert_eq!(out.split_whitespace().last(), Some("0"), "{out}");
}

pub fn initial_cpu_affinity_is_applied_and_checked_by_the_kernel() {
    requires!(root, runtime);
    // CPU 1000 does not exist here: the kernel refuses the mask, so create must fail cleanly.
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["execCPUAffinity"] = json!({"initial": "1000"})));
    let out = c.create(&[]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("sched_setaffinity"), "{out}");
    c.assert_clean();
}

pub fn personality_linux32_changes_the_machine() {
    requires!(root, runtime);
    let out = run_sh(|s| s["linux"]["personality"] = json!({"domain": "LINUX32"}), "uname -m");
    assert!(["i686", "i386"].contains(&out.trim()), "{out}");
    let out = run_sh(|s| s["linux"]["personality"] = json!({"domain": "LINUX"}), "uname -m");
    assert_eq!(out.trim(), std::env::consts::ARCH);
}

pub fn memory_policy_binds_the_process() {
    requires!(root, runtime);
    let out = run_sh(
        |s| s["linux"]["memoryPolicy"] = json!({"mode": "MPOL_INTERLEAVE", "nodes": "0"}),
        "cat /proc/self/numa_maps",
    );
    assert!(out.contains("interleave:0"), "{out}");
    let out = run_sh(
        |s| s["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}),
        "cat /proc/self/numa_maps",
    );
    assert!(out.contains("bind=static:0"), "{out}");
}

pub fn bad_attribute_values_are_refused() {
    requires!(root, runtime);
    let cases: [(&str, Value, Value); 5] = [
        ("ioPriority", json!(["process", "ioPriority"]), json!({"class": "IOPRIO_CLASS_BE", "priority": 9})),
        ("scheduler", json!(["process", "scheduler"]), json!({"policy": "SCHED_FIFO", "priority": 0})),
        ("memoryPolicy", json!(["linux", "memoryPolicy"]), json!({"mode": "MPOL_BIND"})),
        ("personality.flags", json!(["linux", "personality"]), json!({"domain": "LINUX", "flags": ["X"]})),
        ("execCPUAffinity", json!(["process", "execCPUAffinity"]), json!({"final": "3-1"})),
    ];
    for (want, path, value) in cases {
        let c = Case::new();
        let (a, b) = (path[0].as_str().unwrap().to_owned(), path[1].as_str().unwrap().to_owned());
        c.build(c.bundle().with(|s| s[&a][&b] = value));
        let out = c.create(&[]);
        assert!(!out.success(), "{want}: accepted");
        assert!(out.stderr.contains(want), "{want}: {out}");
        assert_eq!(out.error_lines().len(), 1, "{out}");
        c.assert_clean();
    }
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(scheduler_policy_and_nice_apply_to_the_init, "config.md#linux-process"),
    entry!(io_priority_class_is_set, "config.md#linux-process"),
    entry!(final_cpu_affinity_is_in_place_at_execve, "config.md#linux-process"),
    entry!(initial_cpu_affinity_is_applied_and_checked_by_the_kernel, "config.md#linux-process"),
    entry!(personality_linux32_changes_the_machine, "config-linux.md#personality"),
    entry!(memory_policy_binds_the_process, "config-linux.md#memory-policy"),
    entry!(bad_attribute_values_are_refused, "config.md#linux-process"),
];
