//! The example `config.json` that `hull spec` writes: runc's template with safer defaults
//! (no inheritable or ambient capabilities, `noNewPrivileges`, nosuid/noexec/nodev on /proc).

use oci_spec::runtime::Spec;
use serde_json::{json, Value};

/// The OCI runtime spec version hull implements and writes into new configs.
pub const SPEC_VERSION: &str = "1.2.0";

/// Capabilities of the example process: the same small set as runc's template.
const CAPS: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// Paths hidden from the container (runc's and crun's list).
pub const MASKED_PATHS: [&str; 10] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

/// Paths made read-only in the container.
pub const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// The example spec, like `runc spec` (with `rootless`, like `runc spec --rootless` for the caller's
/// effective uid and gid).
///
/// ```
/// let spec = runtime_core::spec::example(false);
/// assert_eq!(spec.process().as_ref().unwrap().args().as_ref().unwrap()[0], "sh");
/// let opts = runtime_core::CreateOptions::new("/srv/bundle").spec(spec);
/// ```
pub fn example(rootless: bool) -> Spec {
    let mut doc = base();
    if rootless {
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        make_rootless(&mut doc, uid, gid);
    }
    // The document is a literal of valid OCI fields; failing to parse it is a bug in this file.
    serde_json::from_value(doc).expect("the example spec is a valid OCI config")
}

fn base() -> Value {
    json!({
        "ociVersion": SPEC_VERSION,
        "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"
            ],
            "cwd": "/",
            // Inheritable and ambient stay empty: a non-empty inheritable set let unprivileged
            // programs regain capabilities through file caps (CVE-2022-29162).
            "capabilities": {
                "bounding": CAPS,
                "effective": CAPS,
                "permitted": CAPS
            },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "hull",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
              "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
              "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
              "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs",
              "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
              "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
        ],
        "linux": {
            "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
            "namespaces": [
                { "type": "pid" },
                { "type": "network" },
                { "type": "ipc" },
                { "type": "uts" },
                { "type": "mount" }
            ],
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS
        }
    })
}

/// runc's `ToRootless`: a user namespace mapping root to the caller, no network namespace (an
/// unprivileged user could not configure it), /sys bound from the host (sysfs cannot be mounted
/// without owning the network namespace), no devpts gid (group 5 is not mapped), no device cgroup.
fn make_rootless(doc: &mut Value, uid: u32, gid: u32) {
    let linux = &mut doc["linux"];
    linux["uidMappings"] = json!([{ "containerID": 0, "hostID": uid, "size": 1 }]);
    linux["gidMappings"] = json!([{ "containerID": 0, "hostID": gid, "size": 1 }]);
    if let Some(obj) = linux.as_object_mut() {
        obj.remove("resources");
    }
    if let Some(ns) = linux["namespaces"].as_array_mut() {
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({ "type": "user" }));
    }
    for m in doc["mounts"].as_array_mut().into_iter().flatten() {
        match m["destination"].as_str() {
            Some("/sys") => {
                *m = json!({ "destination": "/sys", "type": "none", "source": "/sys",
                             "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] });
            }
            Some("/dev/pts") => {
                if let Some(opts) = m["options"].as_array_mut() {
                    opts.retain(|o| o.as_str().is_some_and(|s| !s.starts_with("gid=")));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxNamespaceType, Spec};

    fn round_trip(s: &Spec) -> Spec {
        let text = serde_json::to_string(s).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn ns_types(s: &Spec) -> Vec<LinuxNamespaceType> {
        let linux = s.linux().as_ref().unwrap();
        linux.namespaces().as_ref().unwrap().iter().map(|n| n.typ()).collect()
    }

    #[test]
    fn example_has_safe_defaults() {
        let s = example(false);
        assert_eq!(s.version(), SPEC_VERSION);
        let p = s.process().as_ref().unwrap();
        assert_eq!(p.no_new_privileges(), Some(true));
        let caps = p.capabilities().as_ref().unwrap();
        assert!(caps.inheritable().as_ref().is_none_or(|c| c.is_empty()));
        assert!(caps.ambient().as_ref().is_none_or(|c| c.is_empty()));
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 3);
        assert_eq!(s.root().as_ref().unwrap().readonly(), Some(true));
        let linux = s.linux().as_ref().unwrap();
        assert_eq!(linux.masked_paths().as_ref().unwrap().len(), MASKED_PATHS.len());
        assert!(linux.masked_paths().as_ref().unwrap().iter().any(|p| p == "/proc/kcore"));
        assert!(linux.readonly_paths().as_ref().unwrap().iter().any(|p| p == "/proc/sys"));
        assert!(linux.uid_mappings().is_none());
        assert_eq!(
            ns_types(&s),
            [
                LinuxNamespaceType::Pid,
                LinuxNamespaceType::Network,
                LinuxNamespaceType::Ipc,
                LinuxNamespaceType::Uts,
                LinuxNamespaceType::Mount
            ]
        );
    }

    #[test]
    fn example_mounts_are_nosuid_and_sys_readonly() {
        let s = example(false);
        let mounts = s.mounts().as_ref().unwrap();
        assert_eq!(mounts.len(), 7);
        for m in mounts {
            let opts = m.options().as_ref().unwrap();
            assert!(opts.iter().any(|o| o == "nosuid"), "{:?}", m.destination());
        }
        let opts_of = |d: &str| {
            let m = mounts.iter().find(|m| m.destination().to_str() == Some(d)).unwrap();
            m.options().clone().unwrap()
        };
        assert!(opts_of("/proc").contains(&"noexec".to_string()));
        assert!(opts_of("/sys").contains(&"ro".to_string()));
        assert!(opts_of("/sys/fs/cgroup").contains(&"ro".to_string()));
    }

    #[test]
    fn example_round_trips_through_serde() {
        for rootless in [false, true] {
            let s = example(rootless);
            // Capability sets are hash sets in oci-spec: compare parsed values, not text.
            assert_eq!(round_trip(&s), s);
        }
    }

    #[test]
    fn rootless_maps_the_caller_and_drops_network() {
        let mut doc = base();
        make_rootless(&mut doc, 1234, 5678);
        let s: Spec = serde_json::from_value(doc).unwrap();
        let linux = s.linux().as_ref().unwrap();
        let uid = &linux.uid_mappings().as_ref().unwrap()[0];
        assert_eq!((uid.container_id(), uid.host_id(), uid.size()), (0, 1234, 1));
        let gid = &linux.gid_mappings().as_ref().unwrap()[0];
        assert_eq!((gid.container_id(), gid.host_id(), gid.size()), (0, 5678, 1));
        let types = ns_types(&s);
        assert!(types.contains(&LinuxNamespaceType::User));
        assert!(!types.contains(&LinuxNamespaceType::Network));
        assert!(linux.resources().is_none());
        let mounts = s.mounts().as_ref().unwrap();
        let sys = mounts.iter().find(|m| m.destination().to_str() == Some("/sys")).unwrap();
        assert_eq!(sys.typ().as_deref(), Some("none"));
        assert!(sys.options().as_ref().unwrap().contains(&"rbind".to_string()));
        let pts = mounts.iter().find(|m| m.destination().to_str() == Some("/dev/pts")).unwrap();
        assert!(!pts.options().as_ref().unwrap().iter().any(|o| o.starts_with("gid=")));
    }

    #[test]
    fn rootless_example_uses_effective_ids() {
        let s = example(true);
        let linux = s.linux().as_ref().unwrap();
        let uid = &linux.uid_mappings().as_ref().unwrap()[0];
        assert_eq!(uid.host_id(), nix::unistd::geteuid().as_raw());
    }
}
