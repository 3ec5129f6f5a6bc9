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

/// T10 (CVE-2025-52565): a createContainer hook (after the mounts, before pivot_root) makes
/// /dev/console a symlink to /proc/sys/kernel/core_pattern. The runtime must not bind the
/// terminal over what the link points at: create fails, or the container has no mount there.
pub fn console_symlink_is_not_followed_for_the_terminal_bind() {
    requires!(root, runtime);
    let c = Case::new();
    let rootfs = c.bundle_dir().join("rootfs");
    let hook = format!("rm -f {0}/dev/console; ln -s /proc/sys/kernel/core_pattern {0}/dev/console", rootfs.display());
    c.build(c.bundle().args(&["/bin/cat", "/proc/self/mountinfo"]).with(|s| {
        s["process"]["terminal"] = json!(true);
        s["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", hook]}]});
    }));
    let before = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let sock = crate::ConsoleSocket::bind(&c.dir.join("console.sock")).expect("bind console socket");
    let created = c.create(&["--console-socket", &sock.path.to_string_lossy()]);
    if created.success() {
        let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
        let mounts = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
        assert!(!mounts.contains("core_pattern"), "the terminal was bound through the symlink: {mounts}");
        c.delete(true).ok();
    }
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(), before);
    c.assert_clean();
}

/// T10: with /dev from the rootfs (no /dev mount), /dev/ptmx is a regular file, not the devpts
/// multiplexer: the runtime must refuse it as the terminal's source (and leave nothing).
pub fn fake_ptmx_is_refused_for_the_terminal() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle().with(|s| {
        s["process"]["terminal"] = json!(true);
        s["mounts"].as_array_mut().unwrap().retain(|m| m["destination"] != "/dev" && m["destination"] != "/dev/pts");
    }));
    let dev = b.join("rootfs/dev");
    std::fs::create_dir_all(&dev).unwrap();
    let _ = std::fs::remove_file(dev.join("ptmx"));
    std::fs::write(dev.join("ptmx"), "not a pty").unwrap();
    let sock = crate::ConsoleSocket::bind(&c.dir.join("console.sock")).expect("bind console socket");
    let created = c.create(&["--console-socket", &sock.path.to_string_lossy()]);
    assert!(!created.success(), "a regular file was accepted as /dev/ptmx: {created}");
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(mount_destination_symlinks_stay_inside_the_rootfs, "security#t8-mount-destination-symlinks"),
    entry!(dev_symlink_to_a_host_dir_gets_no_device_nodes, "security#t12-dev-symlink"),
    entry!(cwd_created_under_a_symlink_stays_inside, "security#t17-cwd-symlink"),
    entry!(sysctl_writes_are_not_redirected_by_a_covered_proc_sys, "security#t11-covered-proc-sys"),
    entry!(console_symlink_is_not_followed_for_the_terminal_bind, "security#t10-console"),
    entry!(fake_ptmx_is_refused_for_the_terminal, "security#t10-console"),
];
