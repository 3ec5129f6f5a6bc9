//! Spec -> plan tests: defaults, namespaces, mount options, devices, process and refusals.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;
use crate::plan::MountAttr;

fn rootfs() -> PathBuf {
    let d = std::env::temp_dir().join(format!("hull-plan-test-{}", std::process::id()));
    std::fs::create_dir_all(d.join("rootfs")).unwrap();
    d
}

/// A config like `runc spec` writes, minus the terminal.
pub(crate) fn base() -> Value {
    json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "h",
        "process": {
            "terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
            "env": ["PATH=/bin:/usr/bin", "TERM=xterm"],
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]
        }
    })
}

fn build_with(v: Value, opts: PlanOptions) -> Result<Plan> {
    let spec = serde_json::from_value(v).map_err(|e| Error::InvalidConfig(e.to_string()))?;
    let bundle = Bundle::from_spec(rootfs(), spec)?;
    Plan::build("t", &bundle, &opts, &HostInfo::detect()?)
}

fn build(v: Value) -> Result<Plan> {
    build_with(v, PlanOptions::default())
}

fn with(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut v);
    v
}

#[test]
fn defaults_of_a_runc_like_spec() {
    let p = build(base()).unwrap();
    let ns = &p.namespaces;
    let want =
        (libc::CLONE_NEWPID | libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | libc::CLONE_NEWNS) as u64;
    assert_eq!(ns.clone_flags, want);
    assert!(ns.join.is_empty() && !ns.second_fork && ns.own_pid_ns);
    assert!(p.rootfs.readonly && p.rootfs.populate_dev);
    assert_eq!(p.rootfs.propagation, libc::MS_SLAVE | libc::MS_REC);
    assert_eq!(p.rootfs.masked, vec!["proc/kcore"]);
    assert_eq!(p.process.umask, 0o022);
    assert_eq!(p.process.caps.bounding, 1 << 5);
    assert_eq!(p.process.path_env, "/bin:/usr/bin");
    assert_eq!(i64::from(p.process.rlimits[0].resource), libc::RLIMIT_NOFILE as i64);
    assert_eq!(p.rootfs.devices.len(), 6);
    assert!(p.new_keyring);
}

#[test]
fn mount_options_become_attributes_and_data() {
    let p = build(base()).unwrap();
    let dev = &p.rootfs.mounts[1];
    assert_eq!(dev.dest, "dev");
    assert_eq!(dev.attr, MountAttr { set: 0x2 | 0x20, clr: 0x70, propagation: 0 });
    match &dev.kind {
        MountKind::Fs { fstype, data, .. } => {
            assert_eq!(fstype, "tmpfs");
            assert_eq!(data, &vec![("mode".into(), Some("755".into())), ("size".into(), Some("65536k".into()))]);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(p.rootfs.mounts[2].attr.set, 0x1 | 0x2 | 0x4 | 0x8);
}

#[test]
fn bind_recursive_attrs_and_propagation() {
    let v = with(base(), |v| {
        v["mounts"] =
            json!([{"destination": "/data/../x", "source": "/tmp", "options": ["rbind", "rro", "rprivate", "nosuid"]}]);
    });
    let m = &build(v).unwrap().rootfs.mounts[0];
    assert_eq!(m.dest, "x");
    assert_eq!(m.kind, MountKind::Bind { source: "/tmp".into(), recursive: true });
    assert_eq!(m.rattr.set, 0x1);
    assert_eq!(m.attr.set, 0x2);
    assert_eq!(m.propagation, Some((libc::MS_PRIVATE, true)));
}

#[test]
fn readonly_dev_and_tmpfs_are_made_readonly_last() {
    let v = with(base(), |v| {
        v["mounts"] = json!([
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "nosuid"]},
            {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["rro"]},
            {"destination": "/w", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]},
            {"destination": "/b", "source": "/tmp", "options": ["bind", "ro"]}
        ]);
    });
    let p = build(v).unwrap();
    let m = &p.rootfs.mounts;
    assert_eq!((m[0].attr.set, m[0].late_ro), (0x2, Some(false)));
    assert_eq!((m[1].rattr.set, m[1].late_ro), (0, Some(true)));
    assert_eq!(m[2].late_ro, None);
    assert_eq!((m[3].attr.set & 0x1, m[3].late_ro), (0x1, None));
    assert_eq!((m[4].attr.set & 0x1, m[4].late_ro), (0x1, None));
}

#[test]
fn dev_is_populated_unless_it_is_a_bind_mount() {
    let none = with(base(), |v| v["mounts"] = json!([]));
    assert!(build(none).unwrap().rootfs.populate_dev);
    let bind = with(base(), |v| v["mounts"] = json!([{"destination": "/dev", "source": "/dev", "options": ["rbind"]}]));
    assert!(!build(bind).unwrap().rootfs.populate_dev);
}

#[test]
fn bind_ignores_filesystem_data_but_keeps_flags() {
    let v = with(base(), |v| {
        v["mounts"] = json!([{"destination": "/b", "type": "bind", "source": "/tmp",
                              "options": ["rbind", "ro", "mode=0700", "size=1m", "uid=1000", "sync"]}]);
    });
    let m = &build(v).unwrap().rootfs.mounts[0];
    assert_eq!(m.kind, MountKind::Bind { source: "/tmp".into(), recursive: true });
    assert_eq!(m.attr.set & libc::MOUNT_ATTR_RDONLY, libc::MOUNT_ATTR_RDONLY);
}

#[test]
fn tmpcopyup_only_on_tmpfs() {
    let v = with(base(), |v| {
        v["mounts"] =
            json!([{"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "nosuid"]}]);
    });
    let m = &build(v).unwrap().rootfs.mounts[0];
    assert!(m.copy_up && matches!(&m.kind, MountKind::Fs { data, .. } if data.is_empty()));
    let bind = with(base(), |v| {
        v["mounts"] =
            json!([{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["rbind", "tmpcopyup"]}]);
    });
    let e = build(bind).unwrap_err().to_string();
    assert!(e.contains("not supported: mounts[/x]: option tmpcopyup"), "{e}");
}

#[test]
fn sysfs_without_netns_is_a_bind_of_the_hosts() {
    let v = with(base(), |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "pid"}]));
    let v = with(v, |v| v.as_object_mut().unwrap().remove("hostname").map(drop).unwrap_or(()));
    let p = build(v).unwrap();
    assert_eq!(p.rootfs.mounts[2].kind, MountKind::Bind { source: "/sys".into(), recursive: true });
}

#[test]
fn refusals_name_the_field() {
    let cases: Vec<(Value, &str)> = vec![
        (with(base(), |v| v["linux"]["intelRdt"] = json!({"closID": "x"})), "not supported: linux.intelRdt"),
        (with(base(), |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "user"}])), "user"),
        (with(base(), |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "mount"}])), "listed twice"),
        (with(base(), |v| v["linux"]["namespaces"] = json!([{"type": "uts"}])), "without a private MNT namespace"),
        (with(base(), |v| v["linux"]["namespaces"] = json!([{"type": "mount"}])), "private UTS namespace"),
        (with(base(), |v| v["process"]["args"] = json!([])), "args must not be empty"),
        (with(base(), |v| v["process"]["cwd"] = json!("rel")), "absolute"),
        (with(base(), |v| v["process"]["terminal"] = json!(true)), "console socket"),
        (with(base(), |v| v["mounts"] = json!([{"destination": "/", "type": "tmpfs"}])), "cannot mount over the root"),
        (with(base(), |v| v["mounts"] = json!([{"destination": "/x", "type": "bind"}])), "without a source"),
        (
            with(base(), |v| v["mounts"] = json!([{"destination": "/x", "type": "tmpfs", "options": ["idmap"]}])),
            "idmap",
        ),
        (
            with(base(), |v| {
                v["mounts"] = json!([{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["rbind"],
                    "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}])
            }),
            "mounts[/x]: uidMappings and gidMappings must be given together",
        ),
        (with(base(), |v| v["linux"]["rootfsPropagation"] = json!("sideways")), "rootfsPropagation"),
        (
            with(
                base(),
                |v| v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}, {"type": "RLIMIT_NOFILE", "hard": 2, "soft": 2}]),
            ),
            "duplicate",
        ),
        (
            with(base(), |v| v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}])),
            "soft limit above hard",
        ),
        (
            with(base(), |v| v["linux"]["devices"] = json!([{"path": "/dev/x", "type": "c", "major": -1, "minor": 0}])),
            "out of range",
        ),
    ];
    for (v, want) in cases {
        let e = build(v).expect_err(want).to_string();
        assert!(e.contains(want), "{e:?} should contain {want:?}");
    }
}

#[test]
fn joined_namespaces_are_ordered_and_pid_needs_a_second_fork() {
    let v = with(base(), |v| {
        v["linux"]["namespaces"] = json!([
            {"type": "mount", "path": "/proc/1/ns/mnt"}, {"type": "pid", "path": "/proc/1/ns/pid"},
            {"type": "uts"}, {"type": "network", "path": "/proc/1/ns/net"}
        ]);
    });
    let ns = build(v).unwrap().namespaces;
    let kinds: Vec<_> = ns.join.iter().map(|j| j.kind).collect();
    assert_eq!(kinds, ["network", "pid", "mount"]);
    assert!(ns.second_fork && ns.own_pid_ns);
    assert_eq!(ns.clone_flags, libc::CLONE_NEWUTS as u64);
}

#[test]
fn without_a_mount_namespace_the_root_is_detached() {
    let unmasked = |v: &mut Value| {
        v["linux"].as_object_mut().unwrap().remove("maskedPaths");
        v["linux"].as_object_mut().unwrap().remove("readonlyPaths");
        v.as_object_mut().unwrap().remove("hostname");
    };
    let none = with(with(base(), unmasked), |v| v["linux"]["namespaces"] = json!([]));
    let p = build(none.clone()).unwrap();
    assert!(p.rootfs.detached && !p.namespaces.own_mount);
    assert_eq!((p.namespaces.clone_flags, p.namespaces.unshare_flags), (0, 0), "every namespace is the caller's");
    let joined =
        with(none.clone(), |v| v["linux"]["namespaces"] = json!([{"type": "mount", "path": "/proc/1/ns/mnt"}]));
    assert!(!build(joined).unwrap().rootfs.detached, "a joined mount namespace is the container's");
    assert!(!build(base()).unwrap().rootfs.detached);
    let e = build(with(none.clone(), |v| v["linux"]["rootfsPropagation"] = json!("shared"))).unwrap_err();
    assert!(e.to_string().contains("rootfsPropagation"), "{e}");
    let e = build(with(none, |v| v["linux"]["readonlyPaths"] = json!(["/proc/sys"]))).unwrap_err();
    assert!(e.to_string().contains("unable to restrict sys entries without a private MNT namespace"), "{e}");
}

#[test]
fn hostname_in_a_joined_uts_namespace_is_accepted() {
    let v = with(base(), |v| {
        v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts", "path": "/proc/1/ns/uts"}]);
        v["domainname"] = json!("d");
    });
    let p = build(v).unwrap();
    assert!(p.namespaces.own_uts);
    assert_eq!(p.hostname.as_deref(), Some("h"));
    assert_eq!(p.namespaces.join.iter().map(|j| j.kind).collect::<Vec<_>>(), ["uts"]);
}

fn userns(v: &mut Value) {
    v["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
}

#[test]
fn new_user_namespace_alone_is_created_with_the_clone() {
    let ns = build(with(base(), userns)).unwrap().namespaces;
    assert!(ns.clone_flags & libc::CLONE_NEWUSER as u64 != 0 && ns.clone_flags & libc::CLONE_NEWPID as u64 != 0);
    assert!(!ns.unshare_user && !ns.second_fork && ns.in_userns());
    assert_eq!(ns.id_maps.unwrap().uid_map, "0 100000 65536\n");
    assert!(build(with(base(), userns)).unwrap().rootfs.userns);
}

#[test]
fn user_namespace_with_joins_is_unshared_after_them() {
    let v = with(base(), |v| {
        userns(v);
        let ns = v["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({"type": "network", "path": "/proc/1/ns/net"}));
    });
    let ns = build(v).unwrap().namespaces;
    assert_eq!(ns.clone_flags, 0);
    assert!(ns.unshare_user && ns.second_fork);
    let want = libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | libc::CLONE_NEWNS;
    assert_eq!(ns.unshare_flags, want);
    // Joined user namespace: entered first, mappings kept only to be checked.
    let v = with(base(), |v| {
        userns(v);
        let ns = v["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "user");
        ns.push(json!({"type": "user", "path": "/proc/1/ns/user"}));
        ns.push(json!({"type": "cgroup", "path": "/proc/1/ns/cgroup"}));
    });
    let ns = build(v).unwrap().namespaces;
    assert_eq!(ns.join.iter().map(|j| j.kind).collect::<Vec<_>>(), ["user", "cgroup"]);
    assert!(ns.id_maps.is_none() && ns.joined_maps.is_some() && !ns.unshare_user && ns.in_userns());
}

#[test]
fn time_namespace_unshares_pid_with_it_and_forks() {
    let v = with(base(), |v| {
        v["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "time"}));
        v["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 5}});
    });
    let ns = build(v).unwrap().namespaces;
    assert_eq!(ns.clone_flags & libc::CLONE_NEWPID as u64, 0);
    assert_eq!(ns.unshare_flags, libc::CLONE_NEWTIME | libc::CLONE_NEWPID);
    assert!(ns.second_fork && ns.own_pid_ns);
    assert_eq!(ns.time_offsets.as_deref(), Some("monotonic 5 0\n"));
}

#[test]
fn ambient_without_inheritable_is_dropped_with_a_warning() {
    let v = with(base(), |v| v["process"]["capabilities"]["ambient"] = json!(["CAP_KILL"]));
    let p = build(v).unwrap();
    assert_eq!(p.process.caps.ambient, 0);
    assert_eq!(p.process.warnings.len(), 1);
    let v = with(base(), |v| {
        v["process"]["capabilities"]["ambient"] = json!(["CAP_KILL"]);
        v["process"]["capabilities"]["inheritable"] = json!(["CAP_KILL"]);
    });
    assert_eq!(build(v).unwrap().process.caps.ambient, 1 << 5);
}

#[test]
fn listen_fds_are_preserved_and_announced() {
    let p = build_with(base(), PlanOptions { preserve_fds: 1, listen_fds: 2, ..Default::default() }).unwrap();
    assert_eq!(p.process.preserve_fds, 3);
    let env: Vec<String> = p.process.env.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    assert!(env.contains(&"LISTEN_FDS=2".to_string()) && env.contains(&"LISTEN_PID=1".to_string()));
}

#[test]
fn env_names_appear_once_with_their_last_value() {
    let env = |v: &[&str]| super::process::setenv_each(v.iter().map(|s| s.to_string()).collect());
    assert_eq!(env(&["A=1", "B=2", "A=3", "C", "C", "B="]), ["A=3", "B=", "C", "C"]);
    let v = with(base(), |v| v["process"]["env"] = json!(["PATH=/bin", "TERM=xterm", "TERM=vt100", "PATH=/sbin"]));
    let p = build(v).unwrap();
    let got: Vec<String> = p.process.env.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    assert_eq!(got, ["PATH=/sbin", "TERM=vt100"]);
    assert_eq!(p.process.path_env, "/sbin");
}

#[test]
fn configured_device_replaces_default() {
    let v = with(base(), |v| {
        v["linux"]["devices"] = json!([{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600}, {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]);
    });
    let d = build(v).unwrap().rootfs.devices;
    assert_eq!(d.len(), 7);
    assert_eq!(d.iter().find(|d| d.path == "dev/null").unwrap().mode, 0o600);
}

#[test]
fn sysctls_need_their_namespace() {
    let v = with(base(), |v| {
        v["linux"]["sysctl"] = json!({"net/ipv4/ip_forward": "1", "kernel.shmmni": "100", "fs.mqueue.msg_max": "20"})
    });
    let p = build(v).unwrap();
    let keys: Vec<&str> = p.sysctl.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["sys/fs/mqueue/msg_max", "sys/kernel/shmmni", "sys/net/ipv4/ip_forward"]);
    for (sysctl, ns, want) in [
        (json!({"kernel.panic": "1"}), json!([{"type": "mount"}, {"type": "uts"}]), "not in a namespace"),
        (json!({"net.ipv4.ip_forward": "1"}), json!([{"type": "mount"}, {"type": "uts"}]), "network namespace"),
        (json!({"kernel.shmmni": "1"}), json!([{"type": "mount"}, {"type": "uts"}]), "IPC namespace"),
        (json!({"kernel.hostname": "x"}), json!([{"type": "mount"}, {"type": "uts"}]), "hostname"),
        (json!({"net..x": "1"}), json!([{"type": "mount"}, {"type": "uts"}, {"type": "network"}]), "valid key"),
    ] {
        let v = with(base(), |v| {
            v["linux"]["sysctl"] = sysctl;
            v["linux"]["namespaces"] = ns;
        });
        let e = build(v).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn net_devices_are_renamed_and_checked() {
    let v = with(base(), |v| v["linux"]["netDevices"] = json!({"eth1": {"name": "ctr0"}, "eth2": {}}));
    let p = build(v).unwrap();
    let got: Vec<(&str, &str)> = p.net_devices.iter().map(|d| (d.host_name.as_str(), d.name.as_str())).collect();
    assert_eq!(got, [("eth1", "ctr0"), ("eth2", "eth2")]);
    for (devs, want) in [
        (json!({"eth1": {"name": "x"}, "eth2": {"name": "x"}}), "two devices named"),
        (json!({"eth1": {"name": "waytoolongname0123"}}), "invalid interface name"),
    ] {
        let e = build(with(base(), |v| v["linux"]["netDevices"] = devs)).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    let e = build(with(base(), |v| {
        userns(v);
        v["linux"]["netDevices"] = json!({"eth1": {}});
    }))
    .unwrap_err();
    assert!(e.to_string().contains("not supported: linux.netDevices with a user namespace"), "{e}");
}

#[test]
fn lsm_labels_need_their_lsm() {
    let mut host = HostInfo::detect().unwrap();
    host.apparmor = false;
    host.selinux = false;
    let spec = |f: fn(&mut Value)| -> oci_spec::runtime::Spec { serde_json::from_value(with(base(), f)).unwrap() };
    let aa = spec(|v| v["process"]["apparmorProfile"] = json!("docker-default"));
    let se = spec(|v| v["process"]["selinuxLabel"] = json!("system_u:system_r:container_t:s0"));
    let ml = spec(|v| v["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0"));
    assert!(validate::lsm(&aa, &host).unwrap_err().to_string().contains("AppArmor is not enabled"));
    for s in [&se, &ml] {
        assert!(validate::lsm(s, &host).unwrap_err().to_string().contains("selinux is disabled or not supported"));
    }
    host.apparmor = true;
    host.selinux = true;
    assert_eq!(validate::lsm(&aa, &host).unwrap().apparmor.as_deref(), Some("docker-default"));
    let lsm = validate::lsm(&ml, &host).unwrap();
    let mut mounts = build(base()).unwrap().rootfs.mounts;
    mounts::apply_mount_label(&mut mounts, lsm.mount_label.as_deref().unwrap());
    let context = |dest: &str| match &mounts.iter().find(|m| m.dest == dest).unwrap().kind {
        MountKind::Fs { data, .. } => data.iter().any(|(k, _)| k == "context"),
        _ => false,
    };
    assert!(context("dev") && !context("proc") && !context("sys"));
}

#[test]
fn rootless_needs_a_user_namespace_and_picks_map_writers_and_cgroup_rules() {
    let mut host = HostInfo::detect_with(Some(true)).unwrap();
    host.caller = Some(crate::rootless::Caller { euid: 1001, egid: 1001, ..Default::default() });
    let plan = |v: Value, host: &HostInfo| {
        let spec = serde_json::from_value(v).unwrap();
        Plan::build("t", &Bundle::from_spec(rootfs(), spec).unwrap(), &PlanOptions::default(), host)
    };
    let e = plan(base(), &host).unwrap_err().to_string();
    assert!(e.contains("rootless container requires user namespaces"), "{e}");
    let own = |v: &mut Value| {
        v["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1001, "size": 1}]);
        v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 1001, "size": 1}]);
    };
    let p = plan(with(base(), own), &host).unwrap();
    assert_eq!(p.namespaces.map_writers.gid, crate::rootless::MapWriter::DenySetgroups);
    assert!(p.rootfs.userns && p.cgroup.rootless && p.cgroup.skip_unreachable);
    let p = plan(with(base(), |v| (own(v), v["linux"]["cgroupsPath"] = json!("/mine")).1), &host).unwrap();
    assert!(p.cgroup.rootless && !p.cgroup.skip_unreachable, "an explicit path must exist or fail");
    // Ranges beyond the caller's own ids need /etc/subuid delegation (none here).
    let e = plan(
        with(base(), |v| {
            own(v);
            v["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 1001, "size": 1}, {"containerID": 1, "hostID": 5000, "size": 10}]);
        }),
        &host,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("/etc/subuid"), "{e}");
}
