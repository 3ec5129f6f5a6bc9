//! config-linux.md user and time namespaces: uidMappings/gidMappings (several ranges), the init as
//! the namespace's root with files owned by mapped ids, joining by path, exec into them, timeOffsets,
//! and the refusals for inconsistent configs.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::{requires, Case};
use serde_json::{json, Value};

const BASE: u32 = 100_000;

/// A user namespace mapping 0..65536 to BASE.., and gids likewise. In rootless mode the bundle
/// already maps 0 to the caller and 1.. to its /etc/subuid range (see `crate::rootless`).
fn with_userns(s: &mut Value) {
    if crate::rootless() {
        return;
    }
    s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    s["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": BASE, "size": 65536}]);
    s["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": BASE, "size": 65536}]);
}

/// The host id of the container's root: BASE, or the caller's own id in rootless mode.
fn root_host_id() -> u32 {
    if crate::rootless() {
        crate::rootless_ids().uid
    } else {
        BASE
    }
}

fn chown_rootfs(c: &Case, uid: u32) {
    if crate::rootless() {
        // The caller's files are already root's inside; it may not give them away.
        return;
    }
    let root = c.bundle_dir().join("rootfs");
    let st = Command::new("chown").args(["-R", &format!("{uid}:{uid}")]).arg(&root).status().unwrap();
    assert!(st.success(), "chown of the test rootfs failed");
}

fn host_status_ids(pid: i64, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find(|l| l.starts_with(key)).unwrap_or_default().split_whitespace().nth(1).unwrap_or("").to_owned()
}

pub fn init_is_root_inside_and_mapped_outside() {
    requires!(root, runtime, userns);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(with_userns));
    chown_rootfs(&c, BASE);
    c.create(&[]).ok();
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    let (uid, gid) = if crate::rootless() { (root_host_id(), crate::rootless_ids().gid) } else { (BASE, BASE) };
    assert_eq!(host_status_ids(pid, "Uid:"), uid.to_string(), "host view of the init's uid");
    assert_eq!(host_status_ids(pid, "Gid:"), gid.to_string(), "host view of the init's gid");
    if crate::rootless() {
        // A created init is not dumpable yet: its ns links are root's until its execve.
        c.start().ok();
    }
    let host_user = std::fs::read_link("/proc/self/ns/user").unwrap();
    assert_ne!(std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap(), host_user);
    let out = c.exec(&["exec", &c.id, "/bin/sh", "-c", "id -u; id -g; cat /proc/self/uid_map"]).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(&lines[..2], ["0", "0"], "exec'd process is root inside: {out}");
    let size = if crate::rootless() { "1" } else { "65536" };
    assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["0", &uid.to_string(), size]);
    c.delete(true).ok();
    c.assert_clean();
}

pub fn several_ranges_and_the_process_user() {
    requires!(root, runtime, userns);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        with_userns(s);
        s["linux"]["uidMappings"] = match crate::rootless_ids() {
            // Three ranges: the caller's uid for root, then two pieces of its /etc/subuid range.
            ids if crate::rootless() => {
                let (sub, _) = ids.subuid.expect("rootless several ranges need an /etc/subuid range");
                json!([
                    {"containerID": 0, "hostID": ids.uid, "size": 1},
                    {"containerID": 1, "hostID": sub, "size": 999},
                    {"containerID": 1000, "hostID": sub + 1000, "size": 10}
                ])
            }
            _ => json!([
                {"containerID": 0, "hostID": BASE, "size": 1000},
                {"containerID": 1000, "hostID": 300_000, "size": 10}
            ]),
        };
        s["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5]});
    }));
    assert_eq!(r["uid"], 1000);
    assert_eq!(r["gid"], 1000);
    assert_eq!(r["groups"], json!([5]));
}

pub fn files_made_inside_belong_to_mapped_ids() {
    requires!(root, runtime, userns);
    let c = Case::new();
    let shared = c.bundle_dir().with_file_name("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::chown(&shared, Some(BASE), Some(BASE)).unwrap();
    let src = shared.to_string_lossy().into_owned();
    c.build(c.bundle().args(&["/bin/sh", "-c", "touch /shared/f && chown 7:8 /shared/f && ls -ln /dev/null"]).with(
        |s| {
            with_userns(s);
            for set in ["bounding", "effective", "permitted"] {
                s["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_CHOWN"));
            }
            s["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/shared", "type": "bind", "source": src, "options": ["rbind", "rw"]
            }));
        },
    ));
    chown_rootfs(&c, BASE);
    let out = c.run(&[]).ok();
    let md = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(shared.join("f")).unwrap());
    let gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(shared.join("f")).unwrap());
    assert_eq!((md, gid), (BASE + 7, BASE + 8), "owner on the host of a file chowned to 7:8 inside");
    // mknod is not allowed in a user namespace: /dev/null is the host's node, bound.
    assert!(out.stdout.starts_with("crw-rw-rw-"), "{out}");
    assert!(out.stdout.contains("1,   3"), "{out}");
    c.assert_clean();
}

pub fn user_namespace_without_network_namespace_still_gets_sys() {
    requires!(root, runtime, userns);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/ls", "/sys/class/net"]).with(|s| {
        with_userns(s);
        s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "network");
    }));
    let out = c.run(&[]).ok();
    assert!(out.stdout.split_whitespace().any(|n| n == "lo"), "{out}");
    c.assert_clean();
}

/// A second container joining the first one's user namespace (and its network namespace, which the
/// user namespace owns): as CRI and podman pods do.
pub fn joins_user_namespace_by_path() {
    requires!(root, runtime, userns);
    let first = Case::new();
    first.build(first.bundle().args(&["/probe", "sleep", "30"]).with(with_userns));
    chown_rootfs(&first, BASE);
    first.create(&[]).ok();
    let pid = first.state_json().unwrap()["pid"].as_i64().unwrap();
    let want_user = std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap().to_string_lossy().into_owned();
    let want_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap().to_string_lossy().into_owned();
    let second = Case::new();
    second.build(second.bundle().with(|s| {
        with_userns(s);
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "user" && n["type"] != "network");
        ns.push(json!({"type": "user", "path": format!("/proc/{pid}/ns/user")}));
        ns.push(json!({"type": "network", "path": format!("/proc/{pid}/ns/net")}));
    }));
    chown_rootfs(&second, BASE);
    let out = second.run(&[]);
    assert!(out.success(), "{out}");
    let r = out.json();
    assert_eq!(r["ns"]["user"], want_user);
    assert_eq!(r["ns"]["net"], want_net);
    assert_eq!(r["uid"], 0);
    second.assert_clean();

    // Mappings that are not the joined namespace's are an error, not silently ignored.
    let third = Case::new();
    third.build(third.bundle().with(|s| {
        with_userns(s);
        s["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 200_000, "size": 65536}]);
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "user");
        ns.push(json!({"type": "user", "path": format!("/proc/{pid}/ns/user")}));
    }));
    let out = third.run(&[]);
    assert!(!out.success(), "mismatching mappings accepted: {out}");
    assert!(out.stderr.contains("uidMappings do not match"), "{out}");
    third.assert_clean();
    first.delete(true).ok();
}

pub fn inconsistent_user_namespace_configs_are_refused() {
    requires!(root, runtime);
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit); 3] = [
        ("mappings specified, but user namespace isn't enabled", |s| {
            s["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": BASE, "size": 1}]);
        }),
        ("no namespace path to join nor mappings", |s| {
            s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        }),
        ("overlap", |s| {
            with_userns(s);
            s["linux"]["uidMappings"] = json!([
                {"containerID": 0, "hostID": BASE, "size": 10}, {"containerID": 5, "hostID": 1, "size": 10}
            ]);
        }),
    ];
    for (want, f) in cases {
        let c = Case::new();
        c.build(c.bundle().with(f));
        let out = c.create(&[]);
        assert!(!out.success(), "{want}: accepted");
        assert!(out.stderr.contains(want), "{want}: {out}");
        assert_eq!(out.error_lines().len(), 1, "{out}");
        c.assert_clean();
    }
}

fn uptime(out: &str) -> f64 {
    out.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no uptime in {out:?}"))
}

pub fn time_namespace_offsets_move_the_clocks() {
    requires!(root, runtime, timens);
    let host = uptime(&std::fs::read_to_string("/proc/uptime").unwrap());
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "time"}));
        s["linux"]["timeOffsets"] = json!({"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 7}});
    }));
    c.create(&[]).ok();
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    assert_ne!(
        std::fs::read_link(format!("/proc/{pid}/ns/time")).unwrap(),
        std::fs::read_link("/proc/self/ns/time").unwrap()
    );
    let offsets = std::fs::read_to_string(format!("/proc/{pid}/timens_offsets")).unwrap();
    assert!(offsets.contains("monotonic") && offsets.split_whitespace().any(|w| w == "7"), "{offsets}");
    // exec joins the time namespace too: /proc/uptime follows CLOCK_BOOTTIME.
    let out = c.exec(&["exec", &c.id, "/bin/cat", "/proc/uptime"]).ok();
    let inside = uptime(&out.stdout);
    assert!(inside >= host + 864000.0 && inside < host + 864000.0 + 60.0, "uptime {inside} vs host {host}");
    c.delete(true).ok();
    c.assert_clean();
}

/// A time namespace owned by a new user namespace: the offsets must still be set (the init, not
/// dumpable, cannot write its own /proc/self/timens_offsets there; runc 1.2 has its parent write
/// them). runc 1.1.5 has no time namespaces (support came in runc 1.2): an expected failure
/// against it ("namespace time does not exist").
pub fn time_namespace_in_a_user_namespace_gets_its_offsets() {
    requires!(root, runtime, userns, timens);
    let host = uptime(&std::fs::read_to_string("/proc/uptime").unwrap());
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", "cat /proc/uptime /proc/self/timens_offsets"]).with(|s| {
        with_userns(s);
        s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "time"}));
        s["linux"]["timeOffsets"] = json!({"boottime": {"secs": 864000}, "monotonic": {"secs": 7}});
    }));
    chown_rootfs(&c, BASE);
    let out = c.run(&[]).ok();
    let inside = uptime(&out.stdout);
    assert!(inside >= host + 864000.0 && inside < host + 864000.0 + 60.0, "uptime {inside} vs host {host}: {out}");
    assert!(out.stdout.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["monotonic", "7", "0"]), "{out}");
    c.assert_clean();
}

pub fn time_offsets_without_a_new_time_namespace_are_refused() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["linux"]["timeOffsets"] = json!({"boottime": {"secs": 1}})));
    let out = c.create(&[]);
    assert!(!out.success() && out.stderr.contains("timeOffsets"), "{out}");
    c.assert_clean();
}

/// A host directory with a file owned by 0 and one by 1000, for idmapped mounts.
fn id_source(c: &Case) -> String {
    let dir = c.bundle_dir().with_file_name("idsrc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a"), "").unwrap();
    std::fs::write(dir.join("b"), "").unwrap();
    std::os::unix::fs::chown(dir.join("b"), Some(1000), Some(1000)).unwrap();
    dir.to_string_lossy().into_owned()
}

fn owners(ls: &str) -> Vec<(String, String, String)> {
    ls.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 9).then(|| (f[8].to_owned(), f[2].to_owned(), f[3].to_owned()))
        })
        .collect()
}

pub fn idmapped_bind_mount_with_its_own_mappings() {
    requires!(root, runtime);
    let c = Case::new();
    let src = id_source(&c);
    c.build(c.bundle().args(&["/bin/ls", "-ln", "/m"]).with(|s| {
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/m", "type": "bind", "source": src, "options": ["rbind", "ro"],
            "uidMappings": [{"containerID": 0, "hostID": 5000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 7000, "size": 65536}]
        }));
    }));
    let out = c.run(&[]).ok();
    let want = [("a", "5000", "7000"), ("b", "6000", "8000")].map(|(a, b, c)| (a.into(), b.into(), c.into()));
    assert_eq!(owners(&out.stdout), want, "{out}");
    // The host's view of the source is unchanged.
    let md = std::fs::metadata(format!("{src}/b")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&md), 1000);
    c.assert_clean();
}

pub fn idmap_option_maps_host_root_files_to_the_container_root() {
    requires!(root, runtime, userns);
    let c = Case::new();
    let src = id_source(&c);
    c.build(c.bundle().args(&["/bin/ls", "-ln", "/m"]).with(|s| {
        with_userns(s);
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/m", "type": "bind", "source": src, "options": ["bind", "idmap"]
        }));
    }));
    chown_rootfs(&c, BASE);
    let out = c.run(&[]).ok();
    let want = [("a", "0", "0"), ("b", "1000", "1000")].map(|(a, b, c)| (a.into(), b.into(), c.into()));
    assert_eq!(owners(&out.stdout), want, "{out}");
    c.assert_clean();
}

/// A bind source whose path only the host's root may walk (under a 0700 directory) is still bound
/// into a user-namespaced container: the runtime opens it before entering the user namespace
/// (runc passes such sources to its init as fds).
pub fn bind_source_only_host_root_can_reach() {
    requires!(root, runtime, userns);
    let c = Case::new();
    let data = c.dir.join("secret/data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("file"), "reached\n").unwrap();
    std::fs::set_permissions(c.dir.join("secret"), std::fs::Permissions::from_mode(0o700)).unwrap();
    c.build(c.bundle().args(&["/bin/cat", "/m/file"]).with(|s| {
        with_userns(s);
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/m", "type": "bind", "source": data, "options": ["rbind", "ro"]
        }));
    }));
    chown_rootfs(&c, BASE);
    let out = c.run(&[]).ok();
    assert_eq!(out.stdout, "reached\n", "{out}");
    c.assert_clean();
}

pub fn bad_idmapped_mounts_are_refused() {
    requires!(root, runtime);
    let cases: [(&str, Value); 3] = [
        (
            "only for bind mounts",
            json!({"destination": "/m", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}),
        ),
        (
            "needs a new user namespace",
            json!({"destination": "/m", "type": "bind", "source": "/tmp", "options": ["rbind", "idmap"]}),
        ),
        (
            "must be given together",
            json!({"destination": "/m", "type": "bind", "source": "/tmp", "options": ["rbind"],
            "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}),
        ),
    ];
    for (want, mount) in cases {
        let c = Case::new();
        c.build(c.bundle().with(|s| s["mounts"].as_array_mut().unwrap().push(mount)));
        let out = c.create(&[]);
        assert!(!out.success(), "{want}: accepted");
        assert!(out.stderr.contains(want), "{want}: {out}");
        c.assert_clean();
    }
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(init_is_root_inside_and_mapped_outside, "config-linux.md#user-namespace-mappings"),
    entry!(several_ranges_and_the_process_user, "config-linux.md#user-namespace-mappings"),
    entry!(files_made_inside_belong_to_mapped_ids, "config-linux.md#user-namespace-mappings"),
    entry!(user_namespace_without_network_namespace_still_gets_sys, "config-linux.md#default-filesystems"),
    entry!(joins_user_namespace_by_path, "config-linux.md#namespaces"),
    entry!(inconsistent_user_namespace_configs_are_refused, "config-linux.md#user-namespace-mappings"),
    entry!(time_namespace_offsets_move_the_clocks, "config-linux.md#offset-for-time-namespace"),
    entry!(time_namespace_in_a_user_namespace_gets_its_offsets, "config-linux.md#offset-for-time-namespace"),
    entry!(time_offsets_without_a_new_time_namespace_are_refused, "config-linux.md#offset-for-time-namespace"),
    entry!(idmapped_bind_mount_with_its_own_mappings, "config.md#mounts"),
    entry!(idmap_option_maps_host_root_files_to_the_container_root, "config.md#mounts"),
    entry!(bad_idmapped_mounts_are_refused, "config.md#mounts"),
    entry!(bind_source_only_host_root_can_reach, "config.md#mounts"),
];
