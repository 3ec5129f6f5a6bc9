//! Kernel-backed tests on a pure cgroup v2 host (run inside the VM of `v2vm/run.sh`): elsewhere
//! they say they belong to that lane and return.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::kernel_tests::{read, res, spawn_into, ticks_over, Guard};
use super::{detect, plan, Cgroup, Layout, Version};

fn v2_host(test: &str) -> Option<Layout> {
    if !nix::unistd::geteuid().is_root() {
        crate::test_skip::skip(test, "needs root");
        return None;
    }
    let layout = detect().unwrap();
    if layout.version() != Version::V2 {
        crate::test_skip::other_lane(test, "pure cgroup v2 VM (runtime-core/src/cgroups/v2vm/run.sh)");
        return None;
    }
    Some(layout)
}

#[test]
fn v2_limits_join_freeze_stats_kill_and_destroy() {
    let Some(layout) = v2_host("v2_limits_join_freeze_stats_kill_and_destroy") else { return };
    let mut guard = Guard::new("v2life", &layout);
    let r = res(r#"{
        "memory": {"limit": 67108864, "reservation": 33554432},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0"},
        "pids": {"limit": 16},
        "devices": [{"allow": false, "access": "rwm"}],
        "unified": {"memory.high": "50331648"}
    }"#);
    let inner = guard.path("nested/c1");
    let p = plan(Some(&inner), "c1", Some(&r), &layout).unwrap();
    let cg = Cgroup::create(&p).unwrap();
    assert_eq!(cg.paths().keys().collect::<Vec<_>>(), [""]);
    assert_eq!(read(&cg, "", "memory.max"), "67108864");
    assert_eq!(read(&cg, "", "memory.low"), "33554432");
    assert_eq!(read(&cg, "", "memory.high"), "50331648");
    assert_eq!(read(&cg, "", "cpu.weight"), "39");
    assert_eq!(read(&cg, "", "cpu.max"), "50000 100000");
    assert_eq!(read(&cg, "", "cpuset.cpus"), "0");
    assert_eq!(read(&cg, "", "pids.max"), "16");
    let parent = std::fs::read_to_string(cg.paths()[""].parent().unwrap().join("cgroup.subtree_control")).unwrap();
    assert!(parent.contains("memory") && parent.contains("pids"), "controllers enabled on the way: {parent}");
    assert!(cg.unified_dir_fd().is_some(), "a directory fd for CLONE_INTO_CGROUP");

    let pid = spawn_into(&cg, &mut guard, "while :; do :; done");
    assert_eq!(cg.pids().unwrap(), [pid]);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert_eq!(own.trim(), format!("0::{}", inner.display()));
    assert!(ticks_over(pid, 500) > 0, "busy child runs before freezing");
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    assert_eq!(ticks_over(pid, 500), 0, "a frozen child gets no CPU");
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());
    assert!(ticks_over(pid, 500) > 0, "thawed child runs again");

    let stats = serde_json::to_value(cg.stats().unwrap()).unwrap();
    assert_eq!(stats["pids"]["current"], 1, "{stats}");
    assert_eq!(stats["memory"]["usage"]["limit"], 67108864);
    assert!(stats["cpu"]["usage"]["total"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["cpuset"]["cpus"], serde_json::json!([0]));

    cg.kill_all(libc::SIGKILL).unwrap();
    let status = guard.children[0].wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
    cg.destroy().unwrap();
    assert_eq!(guard.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn v2_kill_all_term_update_and_check_before_update() {
    let Some(layout) = v2_host("v2_kill_all_term_update_and_check_before_update") else { return };
    let mut guard = Guard::new("v2upd", &layout);
    let cg = Cgroup::create(&plan(Some(&guard.path("c")), "c", None, &layout).unwrap()).unwrap();
    let file = format!("/tmp/{}", guard.top);
    let script = format!("sleep 1; dd if=/dev/zero of={file} bs=1M count=24 2>/dev/null; sleep 100");
    spawn_into(&cg, &mut guard, &script);
    spawn_into(&cg, &mut guard, "exec sleep 100");
    let deadline = Instant::now() + Duration::from_secs(30);
    while read(&cg, "", "memory.current").parse::<u64>().unwrap() < 16 << 20 {
        assert!(Instant::now() < deadline, "the dd child never charged its page cache");
        std::thread::sleep(Duration::from_millis(100));
    }
    let e = cg.update(&res(r#"{"memory": {"limit": 1048576, "checkBeforeUpdate": true}}"#)).unwrap_err();
    assert!(e.to_string().starts_with("rejecting memory limit 1048576 below current usage"), "{e}");
    assert_eq!(read(&cg, "", "memory.max"), "max", "the limit was left alone");
    cg.update(&res(r#"{"memory": {"limit": 268435456}, "pids": {"limit": 50}, "cpu": {"shares": 2}}"#)).unwrap();
    assert_eq!((read(&cg, "", "memory.max"), read(&cg, "", "pids.max")), ("268435456".into(), "50".into()));
    assert_eq!(read(&cg, "", "cpu.weight"), "1");

    cg.kill_all(libc::SIGTERM).unwrap();
    for c in &mut guard.children {
        let status = c.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGTERM));
    }
    assert!(!cg.is_frozen().unwrap());
    let _ = std::fs::remove_file(&file);
    cg.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}

#[test]
fn v2_rejected_value_names_file_and_value_and_leaves_nothing() {
    let Some(layout) = v2_host("v2_rejected_value_names_file_and_value_and_leaves_nothing") else { return };
    let guard = Guard::new("v2rej", &layout);
    let r = res(r#"{"cpu": {"cpus": "999"}}"#);
    let e = Cgroup::create(&plan(Some(&guard.path("a/b")), "b", Some(&r), &layout).unwrap()).unwrap_err().to_string();
    assert!(e.starts_with("cgroups: write \"999\" to ") && e.contains("/a/b/cpuset.cpus"), "{e}");
    assert_eq!(guard.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn v2_device_program_enforces_the_rules() {
    let Some(layout) = v2_host("v2_device_program_enforces_the_rules") else { return };
    let mut guard = Guard::new("v2dev", &layout);
    super::kernel_tests::check_device_rules(&layout, &mut guard);
    assert!(guard.leftovers().is_empty());
}

#[test]
fn v2_oom_kills_are_counted() {
    let Some(layout) = v2_host("v2_oom_kills_are_counted") else { return };
    let mut guard = Guard::new("v2oom", &layout);
    super::kernel_tests::check_oom(&layout, &mut guard);
    assert!(guard.leftovers().is_empty());
}

#[test]
fn v2_update_swaps_the_device_program() {
    let Some(layout) = v2_host("v2_update_swaps_the_device_program") else { return };
    let mut guard = Guard::new("v2devupd", &layout);
    let cg = Cgroup::create(&plan(Some(&guard.path("c")), "c", None, &layout).unwrap()).unwrap();
    let dir = super::fs::open_dir(&cg.paths()[""]).unwrap();
    let ids = || crate::sys::cgroup::device_program_ids(std::os::fd::AsFd::as_fd(&dir), "test").unwrap();
    let first = ids();
    assert_eq!(first.len(), 1, "one program after create");
    let probe = |guard: &mut Guard| {
        spawn_into(&cg, guard, super::kernel_tests::DEVICE_PROBE);
        guard.children.last_mut().unwrap().wait().unwrap().code()
    };
    assert_eq!(probe(&mut guard), Some(0), "/dev/kmsg denied by default");
    cg.update(&res(r#"{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}]}"#)).unwrap();
    let second = ids();
    assert_eq!(second.len(), 1, "the old program was detached");
    assert_ne!(first, second);
    assert_eq!(probe(&mut guard), Some(2), "/dev/kmsg readable after the update");
    cg.update(&res(r#"{"devices": []}"#)).unwrap();
    assert_eq!(probe(&mut guard), Some(0), "denied again");
    cg.destroy().unwrap();
    assert!(guard.leftovers().is_empty());
}
