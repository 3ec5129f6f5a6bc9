//! security.md T8, T11, T12, T17: a rootfs whose symlinks point out of it (mount destinations, /dev,
//! the cwd) and a container that hides /proc/sys from the runtime's sysctl writes. Each checks that
//! nothing on the host changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{requires, Case};
use serde_json::json;

/// A host directory the attacker aims at, beside the bundle (so the case's cleanup removes it).
fn host_target(c: &Case) -> PathBuf {
    let d = c.bundle_dir().with_file_name("host-target");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn host_mounts_under(dir: &Path) -> Vec<String> {
    let d = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&d))
        .map(str::to_owned)
        .collect()
}

/// T8: a mount destination under an absolute and a relative symlink that lead out of the rootfs
/// lands inside the rootfs; the host directory gets no new entry and no mount.
pub fn mount_destination_symlinks_stay_inside_the_rootfs() {
    requires!(root, runtime);
    for relative in [false, true] {
        let c = Case::new();
        let target = host_target(&c);
        let b =
            c.build(c.bundle().args(&["/bin/sh", "-c", "grep ' /evil/sub ' /proc/self/mountinfo | wc -l"]).with(|s| {
                s["mounts"].as_array_mut().unwrap().push(json!({
                    "destination": "/evil/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]
                }));
            }));
        let link = b.join("rootfs/evil");
        let to = if relative {
            PathBuf::from(format!("../../../../../../../..{}", target.display()))
        } else {
            target.clone()
        };
        std::os::unix::fs::symlink(&to, &link).unwrap();
        let out = c.run(&[]);
        assert!(entries(&target).is_empty(), "host dir got {:?} (relative={relative}): {out}", entries(&target));
        assert!(host_mounts_under(&target).is_empty(), "a mount reached the host dir");
        // The runtime may create the destination inside the rootfs or refuse: never the host.
        if out.success() {
            assert_eq!(out.stdout.trim(), "0", "the tmpfs is not at /evil/sub as the container sees it: {out}");
        }
        c.assert_clean();
    }
}

/// T12: /dev is a symlink to a host directory and there is no /dev mount: device nodes and the
/// /dev symlinks must not be created on the host.
pub fn dev_symlink_to_a_host_dir_gets_no_device_nodes() {
    requires!(root, runtime);
    for with_dev_mount in [false, true] {
        let c = Case::new();
        let target = host_target(&c);
        let b = c.build(c.bundle().with(|s| {
            if !with_dev_mount {
                s["mounts"].as_array_mut().unwrap().retain(|m| !m["destination"].as_str().unwrap().starts_with("/dev"));
            }
            s["linux"]["devices"] = json!([{"path": "/dev/evil", "type": "c", "major": 1, "minor": 3}]);
        }));
        let dev = b.join("rootfs/dev");
        let _ = std::fs::remove_dir_all(&dev);
        std::os::unix::fs::symlink(&target, &dev).unwrap();
        let _ = c.run(&[]);
        assert!(entries(&target).is_empty(), "host dir got {:?} (dev mount: {with_dev_mount})", entries(&target));
        assert!(host_mounts_under(&target).is_empty(), "a mount reached the host dir");
        c.assert_clean();
    }
}

/// T17: a missing cwd under a symlink out of the rootfs is created inside it, never on the host.
pub fn cwd_created_under_a_symlink_stays_inside() {
    requires!(root, runtime);
    let c = Case::new();
    let target = host_target(&c);
    let b = c.build(c.bundle().args(&["/bin/pwd"]).with(|s| s["process"]["cwd"] = json!("/work/deep/er")));
    std::os::unix::fs::symlink(&target, b.join("rootfs/work")).unwrap();
    let out = c.run(&[]);
    assert!(entries(&target).is_empty(), "host dir got {:?}: {out}", entries(&target));
    c.assert_clean();
}

/// T11: a createContainer hook (running after the mounts, before pivot_root) covers the
/// container's /proc/sys with a tmpfs; the runtime's sysctl write must still reach the kernel.
pub fn sysctl_writes_are_not_redirected_by_a_covered_proc_sys() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.bundle_dir();
    let hook =
        format!("mount -t tmpfs hostile {}/rootfs/proc/sys && mkdir -p {0}/rootfs/proc/sys/net/ipv4", b.display());
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
        s["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", hook]}]});
    }));
    let created = c.create(&[]);
    if !created.success() {
        // Refusing the hostile /proc is also safe; it must be clean.
        c.assert_clean();
        return;
    }
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    let real = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-n", "cat", "/proc/sys/net/ipv4/ip_forward"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&real.stdout).trim(), "1", "the sysctl did not reach the container's netns");
    let fake = format!("/proc/{pid}/root/proc/sys/net/ipv4/ip_forward");
    assert!(!Path::new(&fake).exists(), "the runtime wrote into the container's tmpfs");
    c.delete(true).ok();
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(mount_destination_symlinks_stay_inside_the_rootfs, "security#t8-mount-destination-symlinks"),
    entry!(dev_symlink_to_a_host_dir_gets_no_device_nodes, "security#t12-dev-symlink"),
    entry!(cwd_created_under_a_symlink_stays_inside, "security#t17-cwd-symlink"),
    entry!(sysctl_writes_are_not_redirected_by_a_covered_proc_sys, "security#t11-covered-proc-sys"),
];
