//! linux.cgroupsPath and linux.resources: the container lands in its own cgroup with the limits written,
//! and the limits hold. Each reads the cgroup v1 file on a v1 or hybrid host and the cgroup2 file (with
//! runc's value conversions) on a unified host; `runtime-core/src/cgroups/v2vm/run.sh` runs them on one.

use std::path::PathBuf;

use crate::bundle::cgroup_path;
use crate::{requires, Case};
use serde_json::{json, Value};

fn unified() -> bool {
    std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// The container's cgroup file: `v1` (controller, file) on a v1 host, `v2` on a unified one.
fn cg_file(c: &Case, v1: (&str, &str), v2: &str) -> String {
    let rel = cgroup_path(&c.id);
    let rel = rel.trim_start_matches('/');
    let p = if unified() {
        PathBuf::from("/sys/fs/cgroup").join(rel).join(v2)
    } else {
        PathBuf::from("/sys/fs/cgroup").join(v1.0).join(rel).join(v1.1)
    };
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim().to_owned()
}

/// With systemd cgroups (`CONFORMANCE_SYSTEMD_CGROUP=1`): asserts a property of the container's
/// scope as `systemctl show` prints it; the runtime sets the limits systemd knows as properties.
fn assert_unit_property(c: &Case, name: &str, want: &str) {
    if !crate::bundle::systemd_cgroup() {
        return;
    }
    let unit = format!("hull-conformance-{}.scope", c.id);
    let o = std::process::Command::new("systemctl").args(["show", "-p", name, "--value", &unit]).output();
    let got = o.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default();
    assert_eq!(got, want, "systemctl show -p {name} {unit}");
}

/// systemd's name for the memory limit: v1's `MemoryLimit` on a v1 or hybrid host (runc's
/// legacy manager sets that one), `MemoryMax` on a unified one.
fn memory_property() -> &'static str {
    if unified() {
        "MemoryMax"
    } else {
        "MemoryLimit"
    }
}

/// Creates a sleeping container with `resources` and leaves it in `created`.
fn created_with(c: &Case, resources: Value) {
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        for (k, v) in resources.as_object().unwrap() {
            s["linux"]["resources"][k] = v.clone();
        }
    }));
    c.create(&[]).ok();
}

pub fn container_is_in_its_configured_cgroup() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    let r = c.report(c.bundle());
    let lines: Vec<&str> = r["cgroup"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let want = cgroup_path(&c.id);
    if unified() {
        assert!(lines.iter().any(|l| l.starts_with("0::") && l.ends_with(&want)), "{lines:?}, want {want}");
        return;
    }
    for controller in ["memory", "pids", "cpu", "devices", "freezer"] {
        let line = lines.iter().find(|l| l.split(':').nth(1).is_some_and(|cs| cs.split(',').any(|x| x == controller)));
        let line = line.unwrap_or_else(|| panic!("no {controller} line: {lines:?}"));
        assert!(line.ends_with(&want), "{controller} cgroup: {line}, want {want}");
    }
}

pub fn init_pid_is_in_cgroup_after_create() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    created_with(&c, json!({}));
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    let procs = cg_file(&c, ("pids", "cgroup.procs"), "cgroup.procs");
    assert!(procs.lines().any(|l| l == pid.to_string()), "pid {pid} not in {procs:?}");
}

pub fn memory_limit() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    created_with(&c, json!({"memory": {"limit": 64 * 1024 * 1024}}));
    assert_eq!(cg_file(&c, ("memory", "memory.limit_in_bytes"), "memory.max"), (64 * 1024 * 1024).to_string());
    assert_unit_property(&c, memory_property(), &(64 * 1024 * 1024).to_string());
    assert_unit_property(&c, "Delegate", "yes");
    assert_unit_property(&c, "Slice", "system.slice");
}

pub fn pids_limit() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    created_with(&c, json!({"pids": {"limit": 42}}));
    assert_eq!(cg_file(&c, ("pids", "pids.max"), "pids.max"), "42");
    assert_unit_property(&c, "TasksMax", "42");
}

pub fn cpu_shares_and_quota() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    created_with(&c, json!({"cpu": {"shares": 512, "quota": 50000, "period": 100000}}));
    if unified() {
        // runc's conversion: weight = 1 + (shares - 2) * 9999 / 262142.
        assert_eq!(cg_file(&c, ("", ""), "cpu.weight"), "20");
        assert_eq!(cg_file(&c, ("", ""), "cpu.max"), "50000 100000");
        assert_unit_property(&c, "CPUWeight", "20");
        assert_unit_property(&c, "CPUQuotaPerSecUSec", "500ms");
        return;
    }
    assert_eq!(cg_file(&c, ("cpu", "cpu.shares"), ""), "512");
    assert_eq!(cg_file(&c, ("cpu", "cpu.cfs_quota_us"), ""), "50000");
    assert_eq!(cg_file(&c, ("cpu", "cpu.cfs_period_us"), ""), "100000");
    assert_unit_property(&c, "CPUShares", "512");
    assert_unit_property(&c, "CPUQuotaPerSecUSec", "500ms");
}

pub fn cgroup_dirs_removed_on_delete() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    created_with(&c, json!({"pids": {"limit": 10}}));
    assert!(!c.footprint().cgroup_dirs().is_empty(), "no cgroup dir while created");
    c.delete(true).ok();
    c.assert_clean();
    // systemd forgets a stopped transient scope: nothing of the unit is left either.
    assert_unit_property(&c, "LoadState", "not-found");
}

pub fn pids_limit_is_enforced() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    // sh plus three background sleeps fill the limit of 4; busybox sh gives up (exit 2) at the failed fork.
    let script = "sleep 5 & sleep 5 & sleep 5 & sleep 5 & sleep 5 & echo done";
    c.build(
        c.bundle().args(&["/bin/sh", "-c", script]).with(|s| s["linux"]["resources"]["pids"] = json!({"limit": 4})),
    );
    let o = c.run(&[]);
    assert!(o.stderr.contains("can't fork") && !o.stdout.contains("done"), "fork limit not enforced: {o}");
}

/// A process that allocates past memory.limit is killed by the OOM killer (SIGKILL: 137).
pub fn memory_hog_is_oom_killed_at_the_limit() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    // dd allocates one 64 MiB buffer; the limit is 16 MiB.
    let script = "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo status=$?";
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(|s| {
        s["linux"]["resources"]["memory"] = json!({"limit": 16 << 20});
    }));
    let o = c.run(&[]);
    assert!(o.stdout.contains("status=137"), "not OOM-killed: {o}");
    c.assert_clean();
}

/// The loop's counter; `echo > file` truncates before it writes, so an empty read is retried.
fn counter(c: &Case) -> u64 {
    for _ in 0..50 {
        let text = std::fs::read_to_string(c.bundle_dir().join("rootfs/tmp/n")).unwrap_or_default();
        if let Ok(n) = text.trim().parse() {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    0
}

/// pause freezes every process (a counter stops), resume lets it go on.
pub fn paused_container_makes_no_progress() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    let script = "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done";
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(|s| s["root"]["readonly"] = json!(false)));
    c.create(&[]).ok();
    c.start().ok();
    std::thread::sleep(std::time::Duration::from_millis(300));
    c.exec(&["pause", &c.id]).ok();
    assert_eq!(c.status().as_deref(), Some("paused"));
    let frozen = counter(&c);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(counter(&c), frozen, "a paused container made progress");
    c.exec(&["resume", &c.id]).ok();
    // Polled: on a loaded host the thawed loop may need a while for its next iteration.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while counter(&c) <= frozen && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(counter(&c) > frozen, "resume did not let it run");
    c.delete(true).ok();
    c.assert_clean();
}

/// update changes the limits of a running container, from flags and from JSON on stdin.
pub fn update_changes_limits_of_a_running_container() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    created_with(&c, json!({"memory": {"limit": 64 << 20}, "pids": {"limit": 50}}));
    c.start().ok();
    c.exec(&["update", "--memory", "32m", "--pids-limit", "7", &c.id]).ok();
    assert_eq!(cg_file(&c, ("memory", "memory.limit_in_bytes"), "memory.max"), (32u64 << 20).to_string());
    assert_eq!(cg_file(&c, ("pids", "pids.max"), "pids.max"), "7");
    assert_unit_property(&c, memory_property(), &(32u64 << 20).to_string());
    assert_unit_property(&c, "TasksMax", "7");
    c.delete(true).ok();
    c.assert_clean();
}

/// Access strings of device rules as runc takes them: r, w and m in any order and number, other
/// letters ignored; the rule written is the set named (v1's devices.list shows it).
pub fn device_rule_access_strings_as_runc_takes_them() {
    requires!(root, runtime, cgroup_v1);
    for (given, want) in [("wr", "rw"), ("rrrw", "rw"), ("mmmmr", "rm"), ("mwr", "rwm"), ("rx", "r")] {
        let c = Case::new();
        created_with(
            &c,
            json!({"devices": [{"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 229, "access": given}]}),
        );
        let list = cg_file(&c, ("devices", "devices.list"), "");
        let line = list.lines().find(|l| l.contains(" 10:229 ")).unwrap_or_default();
        assert_eq!(line, format!("c 10:229 {want}"), "access {given:?}: {list}");
    }
}

/// A host process kept in a test-made cgroup, killed (and reaped) on drop.
struct Sleeper(std::process::Child);

impl Sleeper {
    fn into_cgroup(dir: &std::path::Path) -> Sleeper {
        let child = std::process::Command::new("sleep").arg("60").spawn().expect("spawn sleep");
        std::fs::write(dir.join("cgroup.procs"), child.id().to_string()).expect("move the sleeper");
        Sleeper(child)
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The cgroup directory of container `c` in hierarchy `v1` (or the unified one), made by the test.
fn premade(c: &Case, v1: &str) -> PathBuf {
    let rel = cgroup_path(&c.id);
    let base = if unified() { PathBuf::from("/sys/fs/cgroup") } else { PathBuf::from("/sys/fs/cgroup").join(v1) };
    let dir = base.join(rel.trim_start_matches('/'));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An existing cgroup that is frozen is refused with runc's error, promptly (the init would
/// freeze as it joins it), and nothing is left.
pub fn joining_a_frozen_cgroup_is_refused() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    let dir = premade(&c, "freezer");
    let (file, frozen, thawed) =
        if unified() { ("cgroup.freeze", "1", "0") } else { ("freezer.state", "FROZEN", "THAWED") };
    std::fs::write(dir.join(file), frozen).unwrap();
    // Thawed before the case's cleanup (declared after it, so dropped first): a runtime that
    // hangs in the frozen cgroup (crun 1.8.1) can then be killed and the cgroup removed.
    let _thaw = Thaw(dir.join(file), thawed);
    let o = c.create(&[]);
    assert!(!o.success() && !o.timed_out, "{o}");
    assert!(o.stderr.contains("container's cgroup unexpectedly frozen"), "{o}");
    assert_eq!(o.error_lines().len(), 1, "{o}");
    assert!(!c.rt.state_dir(&c.id).exists(), "state left behind");
}

/// Writes the thawed state to a freezer file when dropped.
struct Thaw(PathBuf, &'static str);

impl Drop for Thaw {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, self.1);
    }
}

/// An existing cgroup that already holds processes is used, with runc's warning.
pub fn joining_a_non_empty_cgroup_warns() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    // runc counts the processes of the devices hierarchy on v1, hull those of the freezer one.
    let dirs: Vec<PathBuf> =
        if unified() { vec![premade(&c, "")] } else { vec![premade(&c, "devices"), premade(&c, "freezer")] };
    let sleepers: Vec<Sleeper> = dirs.iter().map(|d| Sleeper::into_cgroup(d)).collect();
    // Warnings go to the log (runc: also to stderr without --log; hull: only with --log).
    let log = c.dir.join("log");
    let b = c.bundle_dir().to_string_lossy().into_owned();
    c.exec(&["--log", &log.to_string_lossy(), "create", "--bundle", &b, &c.id]).ok();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("container's cgroup is not empty: 1 process(es) found"), "{text}");
    assert_eq!(c.status().as_deref(), Some("created"));
    drop(sleepers);
    c.delete(true).ok();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(container_is_in_its_configured_cgroup, "config-linux.md#cgroups-path"),
    entry!(init_pid_is_in_cgroup_after_create, "config-linux.md#control-groups"),
    entry!(memory_limit, "config-linux.md#memory"),
    entry!(pids_limit, "config-linux.md#pids"),
    entry!(cpu_shares_and_quota, "config-linux.md#cpu"),
    entry!(cgroup_dirs_removed_on_delete, "runtime.md#delete"),
    entry!(pids_limit_is_enforced, "config-linux.md#pids"),
    entry!(memory_hog_is_oom_killed_at_the_limit, "config-linux.md#memory"),
    entry!(paused_container_makes_no_progress, "runc-cli#pause"),
    entry!(update_changes_limits_of_a_running_container, "runc-cli#update"),
    entry!(device_rule_access_strings_as_runc_takes_them, "config-linux.md#allowed-device-list"),
    entry!(joining_a_frozen_cgroup_is_refused, "config-linux.md#control-groups"),
    entry!(joining_a_non_empty_cgroup_warns, "config-linux.md#control-groups"),
];
