//! linux.namespaces: new namespaces differ from the host's, absent ones are shared, paths are joined;
//! hostname and domainname land in the new UTS namespace.

use std::process::{Child, Command};
use std::time::Duration;

use crate::{requires, Case};
use serde_json::{json, Value};

fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap().to_string_lossy().into_owned()
}

pub fn configured_namespaces_are_new() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    for kind in ["pid", "net", "ipc", "uts", "mnt"] {
        assert_ne!(r["ns"][kind], host_ns(kind), "{kind} namespace is the host's");
    }
    assert_eq!(r["pid"].as_u64(), Some(1), "first process of a new pid namespace is pid 1");
}

pub fn unlisted_namespaces_are_shared_with_host() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        s["linux"]["namespaces"] = json!([{"type": "mount"}]);
        // Setting a hostname without a private UTS namespace is an error (it would rename the host).
        s.as_object_mut().unwrap().remove("hostname");
    }));
    for kind in ["pid", "net", "ipc", "uts", "user", "cgroup"] {
        assert_eq!(r["ns"][kind], host_ns(kind), "{kind} namespace should be the host's");
    }
    assert_ne!(r["pid"].as_u64(), Some(1));
}

/// No mount namespace (or none at all) listed: the container runs in the caller's, in its rootfs
/// (the probe exists only there). The caller's mount table must not keep anything of it: runc
/// 1.1.5 mounts in the caller's namespace and chroots, leaving the rootfs bind and the container's
/// mounts behind after the container is gone, so that part is checked for other runtimes only.
pub fn no_mount_namespace_runs_in_the_callers() {
    requires!(root, runtime);
    for listed in [json!([]), json!([{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}])] {
        let c = Case::new();
        let own: Vec<String> =
            listed.as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap().to_owned()).collect();
        c.build(c.bundle().with(|s| {
            s["linux"]["namespaces"] = listed.clone();
            if !own.iter().any(|t| t == "uts") {
                s.as_object_mut().unwrap().remove("hostname");
            }
            // runc's rule: masked and read-only paths need a mount namespace of the container's.
            s["linux"].as_object_mut().unwrap().remove("maskedPaths");
            s["linux"].as_object_mut().unwrap().remove("readonlyPaths");
        }));
        let o = c.run(&[]);
        assert!(o.success(), "namespaces {listed}: {o}");
        let r = o.json();
        for (kind, listed_as) in [("pid", "pid"), ("net", "network"), ("ipc", "ipc"), ("uts", "uts"), ("mnt", "mount")]
        {
            let shared = !own.iter().any(|t| t == listed_as);
            assert_eq!(r["ns"][kind] == host_ns(kind), shared, "{kind} with namespaces {listed}");
        }
        if c.rt.name() != "runc" {
            c.assert_clean();
        }
    }
}

/// masked and read-only paths need a mount namespace of the container's (runc's rule).
pub fn masked_paths_without_a_mount_namespace_are_refused() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "mount");
    }));
    let o = c.create(&[]);
    assert!(!o.success() && !o.error_lines().is_empty(), "{o}");
    c.assert_clean();
}

pub fn cgroup_namespace_when_requested() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "cgroup"}));
    }));
    assert_ne!(r["ns"]["cgroup"], host_ns("cgroup"));
    // Inside its own cgroup namespace the container sees its cgroup as the root.
    let lines: Vec<&str> = r["cgroup"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(lines.iter().any(|l| l.ends_with(":/")), "{lines:?}");
}

pub fn hostname_is_set_in_new_uts_namespace() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["hostname"] = json!("box-42")));
    assert_eq!(r["hostname"], "box-42");
}

/// runc 1.1.5 ignores `domainname` (support came in runc 1.2): an expected failure against it.
pub fn domainname_is_set_in_new_uts_namespace() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["domainname"] = json!("example.test")));
    assert_eq!(r["domainname"], "example.test");
}

pub fn new_network_namespace_has_only_loopback() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/ls", "/sys/class/net"]));
    assert_eq!(c.run(&[]).ok().stdout.split_whitespace().collect::<Vec<_>>(), ["lo"]);
}

/// A host process in fresh namespaces, killed on drop.
struct Holder(Child);

impl Holder {
    fn spawn(flags: &[&str]) -> Holder {
        let child = Command::new("unshare").args(flags).args(["sleep", "60"]).spawn().expect("spawn unshare");
        let h = Holder(child);
        // unshare execs sleep after unsharing; wait until the namespace differs from ours.
        let kind = match flags.first().copied() {
            Some("--net") => "net",
            Some("--uts") => "uts",
            _ => "ipc",
        };
        for _ in 0..200 {
            if h.ns(kind) != host_ns(kind) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        h
    }

    fn ns(&self, kind: &str) -> String {
        let p = format!("/proc/{}/ns/{kind}", self.0.id());
        std::fs::read_link(p).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
    }

    fn path(&self, kind: &str) -> String {
        format!("/proc/{}/ns/{kind}", self.0.id())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn joins_network_namespace_by_path() {
    requires!(root, runtime);
    let holder = Holder::spawn(&["--net"]);
    let c = Case::new();
    let path = holder.path("net");
    let r = c.report(c.bundle().with(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({"type": "network", "path": path}));
    }));
    assert_eq!(r["ns"]["net"], holder.ns("net"));
    assert_ne!(r["ns"]["net"], host_ns("net"));
}

pub fn joins_ipc_namespace_by_path() {
    requires!(root, runtime);
    let holder = Holder::spawn(&["--ipc"]);
    let c = Case::new();
    let path = holder.path("ipc");
    let r = c.report(c.bundle().with(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "ipc");
        ns.push(json!({"type": "ipc", "path": path}));
    }));
    assert_eq!(r["ns"]["ipc"], holder.ns("ipc"));
}

/// A UTS namespace joined by path is the container's own: the hostname is set there (runc does),
/// so the holder of that namespace sees it and the host's does not change.
pub fn hostname_is_set_in_joined_uts_namespace() {
    requires!(root, runtime);
    let holder = Holder::spawn(&["--uts"]);
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let c = Case::new();
    let path = holder.path("uts");
    let r = c.report(c.bundle().with(|s| {
        s["hostname"] = json!("joined-uts");
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "uts");
        ns.push(json!({"type": "uts", "path": path}));
    }));
    assert_eq!(r["ns"]["uts"], holder.ns("uts"));
    assert_eq!(r["hostname"], "joined-uts");
    let seen = Command::new("nsenter").arg(format!("--uts={}", holder.path("uts"))).arg("hostname").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&seen.stdout).trim(), "joined-uts", "the joined namespace's hostname");
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), host_name, "the host's hostname changed");
}

pub fn two_containers_share_a_network_namespace() {
    requires!(root, runtime);
    let first = Case::new();
    first.build(first.bundle().args(&["/probe", "sleep", "30"]));
    first.create(&[]).ok();
    let pid = first.state_json().unwrap()["pid"].as_i64().unwrap();
    let second = Case::new();
    let path = format!("/proc/{pid}/ns/net");
    let want = std::fs::read_link(&path).unwrap().to_string_lossy().into_owned();
    let r = second.report(second.bundle().with(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({"type": "network", "path": path}));
    }));
    assert_eq!(r["ns"]["net"], want);
}

/// config-linux.md#user-namespace-mappings: in a new user namespace the process sees the configured maps.
/// A runtime that answers `not supported` is reported as a skip with its words, never as a pass.
pub fn user_namespace_maps_ids() {
    requires!(root, runtime, userns);
    let c = Case::new();
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    c.build(c.bundle().args(&["/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"]).with(|s| {
        s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        s["linux"]["uidMappings"] = map.clone();
        s["linux"]["gidMappings"] = map;
    }));
    let out = c.run(&[]);
    c.assert_clean();
    if let Some(line) = out.error_lines().into_iter().find(|l| l.contains("not supported")) {
        crate::skip(&format!("the runtime does not support it: {line}"));
        return;
    }
    assert!(out.success(), "run failed: {out}");
    let maps: Vec<Vec<&str>> = out.stdout.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(maps, [["0", "100000", "65536"], ["0", "100000", "65536"]], "{out}");
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(configured_namespaces_are_new, "config-linux.md#namespaces"),
    entry!(unlisted_namespaces_are_shared_with_host, "config-linux.md#namespaces"),
    entry!(no_mount_namespace_runs_in_the_callers, "config-linux.md#namespaces"),
    entry!(masked_paths_without_a_mount_namespace_are_refused, "config-linux.md#masked-paths"),
    entry!(cgroup_namespace_when_requested, "config-linux.md#namespaces"),
    entry!(hostname_is_set_in_new_uts_namespace, "config.md#hostname"),
    entry!(domainname_is_set_in_new_uts_namespace, "config.md#domainname"),
    entry!(new_network_namespace_has_only_loopback, "config-linux.md#namespaces"),
    entry!(joins_network_namespace_by_path, "config-linux.md#namespaces"),
    entry!(joins_ipc_namespace_by_path, "config-linux.md#namespaces"),
    entry!(hostname_is_set_in_joined_uts_namespace, "config.md#hostname"),
    entry!(two_containers_share_a_network_namespace, "config-linux.md#namespaces"),
    entry!(user_namespace_maps_ids, "config-linux.md#user-namespace-mappings"),
];
