//! Kernel-backed tests on this host's v1 (hybrid) hierarchies, as root: real cgroups under
//! `/hull-cgtest-<pid>-<name>` in every hierarchy, real processes moved in, frozen, killed, and
//! everything removed afterwards (a Drop guard cleans up when an assertion fails).

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use oci_spec::runtime::LinuxResources;

use super::fs::remove_tree;
use super::layout::Mode;
use super::{detect, plan, Cgroup, Layout, Version};

/// Kills the test's processes and removes its cgroup trees, whatever happened.
pub(super) struct Guard {
    pub(super) top: String,
    pub(super) mounts: Vec<PathBuf>,
    pub(super) children: Vec<Child>,
}

impl Guard {
    pub(super) fn new(name: &str, layout: &Layout) -> Guard {
        let mut mounts: Vec<PathBuf> = layout.v1.values().map(|h| h.mount_point.clone()).collect();
        mounts.extend(layout.unified.iter().map(|h| h.mount_point.clone()));
        mounts.dedup();
        Guard { top: format!("hull-cgtest-{}-{name}", std::process::id()), mounts, children: Vec::new() }
    }

    pub(super) fn path(&self, rest: &str) -> PathBuf {
        Path::new("/").join(&self.top).join(rest)
    }

    pub(super) fn leftovers(&self) -> Vec<PathBuf> {
        self.mounts.iter().map(|m| m.join(&self.top)).filter(|p| p.exists()).collect()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Grandchildren too (a shell's forks), in any sub-cgroup, thawed so SIGKILL takes effect.
        for m in &self.mounts {
            kill_tree(&m.join(&self.top));
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for m in &self.mounts {
            let _ = remove_tree(&m.join(&self.top));
        }
    }
}

fn kill_tree(dir: &Path) {
    let _ = std::fs::write(dir.join("freezer.state"), "THAWED");
    let _ = std::fs::write(dir.join("cgroup.freeze"), "0");
    for pid in std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default().lines() {
        if let Ok(pid) = pid.trim().parse() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            kill_tree(&entry.path());
        }
    }
}

/// The host layout when these tests can run here, or None after printing why not.
fn v1_host(test: &str) -> Option<Layout> {
    if !nix::unistd::geteuid().is_root() {
        crate::test_skip::skip(test, "needs root");
        return None;
    }
    let layout = detect().unwrap();
    if layout.version() != Version::V1 {
        crate::test_skip::other_lane(test, "cgroup v1 host");
        return None;
    }
    Some(layout)
}

pub(super) fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

pub(super) fn read(cg: &Cgroup, key: &str, file: &str) -> String {
    std::fs::read_to_string(cg.paths()[key].join(file)).unwrap().trim().to_owned()
}

/// Spawns `sh -c script` and moves it into the cgroup through the procs fds.
pub(super) fn spawn_into(cg: &Cgroup, guard: &mut Guard, script: &str) -> i32 {
    let child = Command::new("sh").arg("-c").arg(script).spawn().unwrap();
    let pid = child.id() as i32;
    guard.children.push(child);
    for fd in cg.procs_fds() {
        nix::unistd::write(fd.as_fd(), pid.to_string().as_bytes()).unwrap();
    }
    pid
}

/// user + system CPU ticks of `pid`.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after_comm.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

pub(super) fn ticks_over(pid: i32, ms: u64) -> u64 {
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_millis(ms));
    cpu_ticks(pid) - before
}

#[test]
fn limits_join_freeze_stats_kill_and_destroy() {
    let Some(layout) = v1_host("limits_join_freeze_stats_kill_and_destroy") else { return };
    let mut guard = Guard::new("life", &layout);
    let r = res(r#"{
        "memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 16},
        "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 4, "minor": 4, "access": "r"}]
    }"#);
    let inner = guard.path("nested/c1");
    let p = plan(Some(&inner), "c1", Some(&r), &layout).unwrap();
    let cg = Cgroup::create(&p).unwrap();
    assert_eq!(read(&cg, "memory", "memory.limit_in_bytes"), "67108864");
    if cg.paths()["memory"].join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(read(&cg, "memory", "memory.memsw.limit_in_bytes"), "134217728");
    }
    assert_eq!(read(&cg, "memory", "memory.soft_limit_in_bytes"), "33554432");
    assert_eq!(read(&cg, "cpu", "cpu.shares"), "512");
    assert_eq!(read(&cg, "cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(read(&cg, "cpuset", "cpuset.cpus"), "0");
    assert_eq!(read(&cg, "pids", "pids.max"), "16");
    let devices = read(&cg, "devices", "devices.list");
    assert!(devices.contains("c 4:4 r") && devices.contains("c 1:3 rwm") && !devices.contains("a *:*"), "{devices}");
    // A parent created on the way (nested/) got cpus and mems so that the leaf could too.
    assert_eq!(
        std::fs::read_to_string(cg.paths()["cpuset"].parent().unwrap().join("cpuset.mems")).unwrap().trim(),
        "0"
    );

    let pid = spawn_into(&cg, &mut guard, "while :; do :; done");
    assert_eq!(cg.pids().unwrap(), [pid]);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(own.contains(&format!("memory:{}", inner.display())), "{own}");
    if layout.mode == Mode::Hybrid {
        assert!(own.contains(&format!("0::{}", inner.display())), "hybrid host: joins cgroup2 too: {own}");
    }

    assert!(ticks_over(pid, 300) > 0, "busy child runs before freezing");
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    assert_eq!(ticks_over(pid, 300), 0, "a frozen child gets no CPU");
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());
    assert!(ticks_over(pid, 300) > 0, "thawed child runs again");

    let stats = serde_json::to_value(cg.stats().unwrap()).unwrap();
    assert_eq!(stats["pids"]["current"], 1, "{stats}");
    assert_eq!(stats["pids"]["limit"], 16);
    assert!(stats["cpu"]["usage"]["total"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["memory"]["usage"]["limit"], 67108864);
    assert_eq!(stats["cpuset"]["cpus"], serde_json::json!([0]));
    assert!(stats["network_interfaces"].is_null() && stats["hugetlb"].is_object());

    cg.kill_all(libc::SIGKILL).unwrap();
    let status = guard.children[0].wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
    cg.destroy().unwrap();
    assert_eq!(guard.leftovers(), Vec::<PathBuf>::new(), "destroy removes the leaf and the parents it created");
}

#[test]
fn kill_all_with_a_catchable_signal_reaches_every_process() {
    let Some(layout) = v1_host("kill_all_with_a_catchable_signal_reaches_every_process") else { return };
    let mut guard = Guard::new("term", &layout);
    let cg = Cgroup::create(&plan(Some(&guard.path("c")), "c", None, &layout).unwrap()).unwrap();
    let a = spawn_into(&cg, &mut guard, "exec sleep 100");
    let b = spawn_into(&cg, &mut guard, "exec sleep 100");
    let mut pids = cg.pids().unwrap();
    pids.sort();
    assert_eq!(pids, {
        let mut v = vec![a, b];
        v.sort();
        v
    });
    cg.freeze().unwrap();
    cg.kill_all(libc::SIGTERM).unwrap();
    assert!(cg.is_frozen().unwrap(), "a paused container stays paused");
    assert_eq!(cg.pids().unwrap().len(), 2, "nothing acted on the signal while frozen");
    cg.thaw().unwrap();
    for c in &mut guard.children {
        let status = c.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGTERM));
    }
    assert!(!cg.is_frozen().unwrap(), "thawed again after signalling");
    cg.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}

#[test]
fn update_orders_memory_and_swap_and_changes_limits() {
    let Some(layout) = v1_host("update_orders_memory_and_swap_and_changes_limits") else { return };
    let guard = Guard::new("update", &layout);
    let r = res(r#"{"memory": {"limit": 67108864, "swap": 134217728}, "pids": {"limit": 10}}"#);
    let cg = Cgroup::create(&plan(Some(&guard.path("c")), "c", Some(&r), &layout).unwrap()).unwrap();
    let swap = cg.paths()["memory"].join("memory.memsw.limit_in_bytes").exists();
    // Raising both above the current swap limit only works swap first: the retry handles it.
    let up = if swap {
        r#"{"memory": {"limit": 268435456, "swap": 536870912}, "pids": {"limit": -1}, "cpu": {"shares": 100}}"#
    } else {
        r#"{"memory": {"limit": 268435456}, "pids": {"limit": -1}, "cpu": {"shares": 100}}"#
    };
    cg.update(&res(up)).unwrap();
    assert_eq!(read(&cg, "memory", "memory.limit_in_bytes"), "268435456");
    if swap {
        assert_eq!(read(&cg, "memory", "memory.memsw.limit_in_bytes"), "536870912");
        // And lowering both only works memory first.
        cg.update(&res(r#"{"memory": {"limit": 16777216, "swap": 33554432}}"#)).unwrap();
        assert_eq!(read(&cg, "memory", "memory.memsw.limit_in_bytes"), "33554432");
    }
    assert_eq!(read(&cg, "pids", "pids.max"), "max");
    assert_eq!(read(&cg, "cpu", "cpu.shares"), "100");
    let devices_before = read(&cg, "devices", "devices.list");
    cg.update(&res(r#"{"cpu": {"shares": 200}}"#)).unwrap();
    assert_eq!(read(&cg, "devices", "devices.list"), devices_before, "update without devices leaves the rules");
    cg.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}

#[test]
fn rejected_value_names_file_and_value_and_leaves_nothing() {
    let Some(layout) = v1_host("rejected_value_names_file_and_value_and_leaves_nothing") else { return };
    let guard = Guard::new("reject", &layout);
    let r = res(r#"{"cpu": {"cpus": "999"}}"#);
    let e = Cgroup::create(&plan(Some(&guard.path("a/b")), "b", Some(&r), &layout).unwrap()).unwrap_err().to_string();
    let file = format!("/sys/fs/cgroup/cpuset/{}/a/b/cpuset.cpus", guard.top);
    assert!(e.starts_with("cgroups: write \"999\" to ") && e.contains(&file), "{e}");
    assert_eq!(guard.leftovers(), Vec::<PathBuf>::new(), "a failed create removes what it made");
}

#[test]
fn clamped_cpu_shares_are_refused() {
    let Some(layout) = v1_host("clamped_cpu_shares_are_refused") else { return };
    let guard = Guard::new("shares", &layout);
    let r = res(r#"{"cpu": {"shares": 1000000}}"#);
    let e = Cgroup::create(&plan(Some(&guard.path("c")), "c", Some(&r), &layout).unwrap()).unwrap_err().to_string();
    assert!(e.ends_with("cpu.shares: the maximum allowed cpu-shares is 262144"), "{e}");
    assert!(guard.leftovers().is_empty());
}

#[test]
fn failed_create_keeps_a_leaf_that_existed_before() {
    let Some(layout) = v1_host("failed_create_keeps_a_leaf_that_existed_before") else { return };
    let guard = Guard::new("exists", &layout);
    let p = plan(Some(&guard.path("c")), "c", None, &layout).unwrap();
    let first = Cgroup::create(&p).unwrap();
    let bad = plan(Some(&guard.path("c")), "c", Some(&res(r#"{"cpu": {"cpus": "999"}}"#)), &layout).unwrap();
    assert!(Cgroup::create(&bad).is_err());
    assert!(first.paths()["memory"].exists(), "the other cgroup is untouched");
    first.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}

#[test]
fn destroy_after_load_removes_created_parents_only_when_told() {
    let Some(layout) = v1_host("destroy_after_load_removes_created_parents_only_when_told") else { return };
    let guard = Guard::new("load", &layout);
    let cg = Cgroup::create(&plan(Some(&guard.path("p/c")), "c", None, &layout).unwrap()).unwrap();
    let (paths, created) = (cg.paths(), cg.created());
    assert_eq!(created["memory"], layout.v1["memory"].mount_point.join(&guard.top));
    drop(cg);
    let loaded = Cgroup::load(&paths);
    assert_eq!(loaded.paths(), paths);
    assert_eq!(loaded.procs_fds().len(), paths.values().collect::<std::collections::BTreeSet<_>>().len());
    assert!(loaded.unified_dir_fd().is_none(), "no CLONE_INTO_CGROUP on a v1 host");
    loaded.destroy().unwrap();
    assert!(paths.values().all(|p| !p.exists()), "leaves removed");
    assert_eq!(guard.leftovers().len(), guard.mounts.len(), "plain load keeps the parents");

    let cg = Cgroup::create(&plan(Some(&guard.path("p/c")), "c", None, &layout).unwrap()).unwrap();
    assert_eq!(cg.created()["memory"], cg.paths()["memory"], "the parents existed this time, only the leaf is new");
    let mut bogus = BTreeMap::new();
    bogus.insert("memory".to_owned(), PathBuf::from("/sys/fs/cgroup/memory"));
    Cgroup::load_created(&cg.paths(), &bogus, None, false).destroy().unwrap();
    assert!(
        layout.v1["memory"].mount_point.exists(),
        "a created entry that is not below the leaf's hierarchy is ignored"
    );
    Cgroup::load_created(&paths, &created, None, false).destroy().unwrap();
    assert!(guard.leftovers().is_empty(), "load_created removes the parents too");
}

#[test]
fn check_before_update_refuses_a_limit_below_usage() {
    let Some(layout) = v1_host("check_before_update_refuses_a_limit_below_usage") else { return };
    let mut guard = Guard::new("cbu", &layout);
    let cg = Cgroup::create(&plan(Some(&guard.path("c")), "c", None, &layout).unwrap()).unwrap();
    let file = format!("/tmp/{}", guard.top);
    // Page cache written from inside the cgroup is charged to it.
    spawn_into(&cg, &mut guard, &format!("sleep 0.5; dd if=/dev/zero of={file} bs=1M count=24 2>/dev/null; sleep 100"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while read(&cg, "memory", "memory.usage_in_bytes").parse::<u64>().unwrap() < 16 << 20 {
        assert!(std::time::Instant::now() < deadline, "the dd child never charged its page cache");
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = read(&cg, "memory", "memory.limit_in_bytes");
    let e = cg.update(&res(r#"{"memory": {"limit": 1048576, "checkBeforeUpdate": true}}"#)).unwrap_err();
    assert!(e.to_string().starts_with("rejecting memory limit 1048576 below current usage"), "{e}");
    assert_eq!(read(&cg, "memory", "memory.limit_in_bytes"), before, "the limit was left alone");
    cg.kill_all(libc::SIGKILL).unwrap();
    let _ = guard.children[0].wait();
    let _ = std::fs::remove_file(&file);
    cg.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}

/// Exit 0: /dev/null opens and /dev/kmsg (c 1:11, not allowed) does not; exit 2: kmsg opened.
pub(super) const DEVICE_PROBE: &str =
    "sleep 1; : < /dev/null || exit 1; ( : < /dev/kmsg ) 2>/dev/null && exit 2; exit 0";

/// Runs [`DEVICE_PROBE`] outside (as a control) and inside a deny-all cgroup.
pub(super) fn check_device_rules(layout: &Layout, guard: &mut Guard) {
    let control = Command::new("sh").arg("-c").arg(DEVICE_PROBE.replace("sleep 1; ", "")).status().unwrap();
    assert_eq!(control.code(), Some(2), "outside the cgroup /dev/kmsg opens (the probe can fail)");
    let explicit = r#"{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}"#;
    // runc's behaviour: deny-all applies even when the rules do not start with it.
    let implicit = r#"{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}"#;
    for (name, json) in [("explicit", explicit), ("implicit", implicit), ("none", "{}")] {
        let cg = Cgroup::create(&plan(Some(&guard.path(name)), name, Some(&res(json)), layout).unwrap()).unwrap();
        spawn_into(&cg, guard, DEVICE_PROBE);
        let status = guard.children.last_mut().unwrap().wait().unwrap();
        assert_eq!(status.code(), Some(0), "{name}: default devices open, /dev/kmsg for reading does not");
        cg.destroy().unwrap();
    }
}

#[test]
fn device_rules_are_enforced() {
    let Some(layout) = v1_host("device_rules_are_enforced") else { return };
    let mut guard = Guard::new("dev", &layout);
    check_device_rules(&layout, &mut guard);
    assert!(guard.leftovers().is_empty());
}

/// A child that needs 32 MiB in a 16 MiB cgroup without swap is OOM-killed; the count and
/// the stats show it. Shared by the v1 and v2 tests.
pub(super) fn check_oom(layout: &Layout, guard: &mut Guard) {
    let r = res(r#"{"memory": {"limit": 16777216, "swap": 16777216}}"#);
    let cg = Cgroup::create(&plan(Some(&guard.path("oom")), "oom", Some(&r), layout).unwrap()).unwrap();
    assert_eq!(cg.oom_kills().unwrap(), 0);
    // The kernel pushes the kill to this fd (eventfd on v1, inotify on memory.events on v2).
    let mut watch = cg.oom_watch().unwrap().expect("a memory cgroup");
    assert!(!crate::sys::fs::poll_readable(watch.fd(), 0).unwrap(), "nothing yet");
    spawn_into(&cg, guard, "sleep 1; exec dd if=/dev/zero of=/dev/null bs=32M count=1");
    let status = guard.children.last_mut().unwrap().wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL), "OOM-killed");
    assert_eq!(cg.oom_kills().unwrap(), 1);
    assert!(crate::sys::fs::poll_readable(watch.fd(), 1000).unwrap(), "the OOM was notified");
    assert!(watch.fired().unwrap() >= 1, "counted as an OOM event");
    // On v2 the kill touches memory.events twice (oom, then oom_kill), and the kernel sends the
    // second inotify event up to 10 ms after the first (cgroup_file_notify's rate limit) from a
    // work item: it can arrive after the drain above (seen once in the tcg VM).
    if crate::sys::fs::poll_readable(watch.fd(), 200).unwrap() {
        watch.fired().unwrap();
    }
    assert!(!crate::sys::fs::poll_readable(watch.fd(), 0).unwrap(), "drained");
    let stats = serde_json::to_value(cg.stats().unwrap()).unwrap();
    assert!(stats["memory"]["usage"]["max"].as_u64().unwrap() > 8 << 20, "peak usage near the limit: {stats}");
    cg.destroy().unwrap();
    assert!(cg.stats().is_err(), "no stats once the cgroup is gone");
}

#[test]
fn oom_kills_are_counted() {
    let Some(layout) = v1_host("oom_kills_are_counted") else { return };
    let mut guard = Guard::new("oom", &layout);
    check_oom(&layout, &mut guard);
    assert!(guard.leftovers().is_empty());
}

#[test]
fn device_update_changes_access_of_a_running_container() {
    let Some(layout) = v1_host("device_update_changes_access_of_a_running_container") else { return };
    let mut guard = Guard::new("devupd", &layout);
    let cg = Cgroup::create(&plan(Some(&guard.path("c")), "c", None, &layout).unwrap()).unwrap();
    let probe = |guard: &mut Guard| {
        spawn_into(&cg, guard, DEVICE_PROBE);
        guard.children.last_mut().unwrap().wait().unwrap().code()
    };
    assert_eq!(probe(&mut guard), Some(0), "/dev/kmsg denied by default");
    let kmsg = r#"{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}]}"#;
    cg.update(&res(kmsg)).unwrap();
    assert_eq!(probe(&mut guard), Some(2), "/dev/kmsg readable after the update");
    // The same rules at create time give the same list.
    let fresh = Cgroup::create(&plan(Some(&guard.path("fresh")), "f", Some(&res(kmsg)), &layout).unwrap()).unwrap();
    let sorted = |cg: &Cgroup| {
        let mut l: Vec<String> = read(cg, "devices", "devices.list").lines().map(str::to_owned).collect();
        l.sort();
        l
    };
    assert_eq!(sorted(&cg), sorted(&fresh));
    cg.update(&res(r#"{"devices": []}"#)).unwrap();
    assert_eq!(probe(&mut guard), Some(0), "denied again");
    fresh.destroy().unwrap();
    cg.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}
