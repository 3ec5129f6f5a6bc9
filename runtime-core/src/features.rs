//! The OCI features document (runtime-spec `features.md`) that `hull features` prints: what hull
//! supports today. Flip the constants here as features land; nothing else decides.

use serde_json::{json, Value};

use crate::spec::SPEC_VERSION;

/// Namespaces a config may ask for: all eight, created or joined by path.
pub const NAMESPACES: &[&str] = &["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"];

/// Hook phases hull runs (hooks.rs, launch/): all of them, prestart included.
pub const HOOKS: &[&str] = &["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

/// Mount options hull understands (plan/mounts.rs): the per-mount attributes and their recursive
/// `mount_setattr` forms, propagation, bind, idmapped binds, the superblock flags and `tmpcopyup`
/// (tmpfs). Callers read `rro` as "recursive read-only supported" (containerd, dockerd, CRI-O).
pub const MOUNT_OPTIONS: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "lazytime",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

/// Cgroup support: (v1, v2, systemd, systemdUser): cgroupfs drivers for both versions, the systemd
/// driver on cgroup v2 and v1 hybrid (system instance only).
pub const CGROUP: (bool, bool, bool, bool) = (true, true, true, false);

/// Every capability name the kernel headers of this release know (CAP_LAST_CAP = 40).
const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The features document. `linux` is always present (containerd dereferences it unconditionally).
///
/// ```
/// let doc = runtime_core::features::document();
/// assert!(doc["linux"]["namespaces"].as_array().unwrap().iter().any(|n| n == "user"));
/// ```
pub fn document() -> Value {
    let (v1, v2, systemd, systemd_user) = CGROUP;
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": HOOKS,
        "mountOptions": MOUNT_OPTIONS,
        "linux": {
            "namespaces": NAMESPACES,
            "capabilities": CAPABILITIES,
            "cgroup": { "v1": v1, "v2": v2, "systemd": systemd, "systemdUser": systemd_user, "rdma": false },
            "seccomp": {
                "enabled": true,
                "actions": crate::seccomp::FEATURE_ACTIONS,
                "operators": crate::seccomp::FEATURE_OPERATORS,
                "archs": crate::seccomp::FEATURE_ARCHS,
                "knownFlags": crate::seccomp::FEATURE_FLAGS,
                "supportedFlags": crate::seccomp::FEATURE_FLAGS
            },
            "apparmor": { "enabled": true },
            "selinux": { "enabled": true },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": true } },
            "netDevices": { "enabled": true }
        },
        "potentiallyUnsafeConfigAnnotations": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_the_oci_features_type() {
        let doc = document();
        let f: oci_spec::runtime::Features = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(f.oci_version_min(), "1.0.0");
        assert_eq!(f.oci_version_max(), SPEC_VERSION);
        assert_eq!(f.hooks().as_ref().map(Vec::len), Some(6));
        let linux = f.linux().as_ref().unwrap();
        let ns = linux.namespaces().as_ref().unwrap();
        assert_eq!(ns.len(), NAMESPACES.len());
    }

    #[test]
    fn claims_only_what_is_supported() {
        let doc = document();
        let opts: Vec<&str> = doc["mountOptions"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(opts.contains(&"ro") && opts.contains(&"rbind") && opts.contains(&"rro"));
        assert!(opts.contains(&"idmap") && opts.contains(&"ridmap") && opts.contains(&"tmpcopyup"));
        let mut sorted = opts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, opts, "sorted and unique, as runc lists them");
        let ns: Vec<&str> = doc["linux"]["namespaces"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(ns.contains(&"user") && ns.contains(&"time"));
        assert_eq!(doc["linux"]["seccomp"]["enabled"], true);
        assert!(doc["linux"]["seccomp"]["actions"].as_array().unwrap().contains(&json!("SCMP_ACT_NOTIFY")));
        assert_eq!(doc["linux"]["mountExtensions"]["idmap"]["enabled"], true);
        assert_eq!(doc["potentiallyUnsafeConfigAnnotations"], json!([]));
    }

    #[test]
    fn capabilities_are_unique_and_known_names() {
        let mut caps = CAPABILITIES.to_vec();
        caps.sort_unstable();
        caps.dedup();
        assert_eq!(caps.len(), 41);
        assert!(CAPABILITIES.iter().all(|c| c.starts_with("CAP_")));
    }

    #[test]
    fn every_listed_mount_option_is_accepted_by_the_planner() {
        use crate::plan::{Plan, PlanOptions};
        let dir = std::env::temp_dir().join(format!("hull-features-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        let host = crate::host::HostInfo::detect().unwrap();
        for opt in MOUNT_OPTIONS {
            let mut doc = serde_json::to_value(crate::spec::example(false)).unwrap();
            doc["process"]["terminal"] = json!(false);
            let mount = if opt.ends_with("idmap") {
                // Idmapped binds without mappings of their own use the container's.
                doc["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
                doc["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
                doc["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
                json!({ "destination": "/mnt", "type": "none", "source": "/tmp", "options": ["rbind", opt] })
            } else if opt.ends_with("bind") {
                json!({ "destination": "/mnt", "type": "none", "source": "/tmp", "options": [opt] })
            } else {
                json!({ "destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": [opt] })
            };
            doc["mounts"].as_array_mut().unwrap().push(mount);
            let spec = serde_json::from_value(doc).unwrap();
            let bundle = crate::Bundle::from_spec(dir.clone(), spec).unwrap();
            let plan = Plan::build("t", &bundle, &PlanOptions::default(), &host);
            assert!(plan.is_ok(), "mount option {opt}: {:?}", plan.err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
