//! Attacks the reference security list names, each against a real container: the runtime binary
//! through /proc/PID/exe (T1, CVE-2019-5736), a cwd leaking a runtime fd (T3, CVE-2024-21626),
//! a /proc symlink in the rootfs (T6, CVE-2019-19921), a hostile /dev/null for masking (T9,
//! CVE-2025-31133), and seccomp's default-deny seen from inside.

use std::path::Path;

use crate::{requires, Case};
use serde_json::{json, Value};

/// T1: while the init still runs the runtime's image (created, before start), its exe must not
/// be writable, neither through the magic link nor by an O_PATH reopen.
pub fn runtime_binary_is_not_writable_through_proc_exe() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    let pid = c.state_json().and_then(|s| s["pid"].as_i64()).expect("pid");
    let err =
        std::fs::OpenOptions::new().write(true).open(format!("/proc/{pid}/exe")).expect_err("exe opened for writing");
    // EROFS (sealed overlay), ETXTBSY or EPERM (sealed memfd): anything but success.
    assert!(matches!(err.raw_os_error(), Some(libc::EROFS | libc::ETXTBSY | libc::EPERM | libc::EACCES)), "{err}");
    c.delete(true).ok();
    c.assert_clean();
}

/// T3: a cwd of /proc/self/fd/N must never land on a host directory the runtime held open.
pub fn cwd_through_runtime_fds_never_reaches_the_host() {
    requires!(root, runtime);
    for n in 3..16 {
        let c = Case::new();
        let cwd = format!("/proc/self/fd/{n}");
        c.build(c.bundle().args(&["/probe", "report"]).with(|s| s["process"]["cwd"] = json!(cwd)));
        let o = c.run(&[]);
        if o.success() {
            let r: Value = serde_json::from_str(o.stdout.trim()).expect("probe report");
            let seen = r["cwd"].as_str().unwrap_or_default();
            assert!(
                !seen.contains("unreachable") && !seen.starts_with("/sys") && !seen.starts_with("/run"),
                "fd {n}: cwd {seen}"
            );
        }
        c.assert_clean();
    }
}

/// T6: /proc in the rootfs is a symlink out of it: create fails clearly and leaves nothing.
pub fn proc_symlink_in_rootfs_is_refused() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle());
    let proc_dir = b.join("rootfs/proc");
    let _ = std::fs::remove_dir_all(&proc_dir);
    std::os::unix::fs::symlink("/tmp", &proc_dir).unwrap();
    let o = c.create(&[]);
    assert!(!o.success(), "{o}");
    assert!(!o.error_lines().is_empty(), "{o}");
    c.assert_clean();
}

/// T9: with /dev from the rootfs (no /dev mount), /dev/null is a symlink to a file the attacker
/// wants masked paths bound from: masking must refuse it rather than bind it.
pub fn hostile_dev_null_is_not_used_for_masking() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle().with(|s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.retain(|m| !m["destination"].as_str().is_some_and(|d| d.starts_with("/dev")));
        s["linux"]["maskedPaths"] = json!(["/proc/kcore"]);
    }));
    let dev = b.join("rootfs/dev");
    std::fs::create_dir_all(&dev).unwrap();
    let _ = std::fs::remove_file(dev.join("null"));
    std::os::unix::fs::symlink("/etc/passwd", dev.join("null")).unwrap();
    let o = c.run(&[]);
    // Either refused, or the node was re-created as the real device: never the passwd file.
    if o.success() {
        assert!(!Path::new(&b.join("rootfs/dev/null")).is_symlink(), "symlink was used");
    } else {
        assert!(!o.error_lines().is_empty(), "{o}");
    }
    c.assert_clean();
}

/// A Docker-like default-deny profile seen from inside: unshare, mount and keyctl get EPERM,
/// ordinary work goes on.
pub fn seccomp_errno_rules_apply_inside() {
    requires!(root, runtime);
    let c = Case::new();
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["unshare", "mount", "keyctl", "mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    });
    c.build(c.bundle().args(&["/bin/sh", "-c", "mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status"]).with(
        |s| {
            s["linux"]["seccomp"] = profile;
            s["root"]["readonly"] = json!(false);
        },
    ));
    let o = c.run(&[]);
    assert!(o.success(), "{o}");
    assert!(o.stdout.contains("rc=1") && o.stdout.contains("Seccomp:\t2"), "{o}");
    c.assert_clean();
}

/// SCMP_ACT_KILL_PROCESS: the process making the call dies of SIGSYS (the shell sees 128+31).
pub fn seccomp_kill_process_kills() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", "mkdir /tmp/y; echo status=$?"]).with(|s| {
        s["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]
        });
    }));
    let o = c.run(&[]);
    assert!(o.success(), "{o}");
    assert!(o.stdout.contains("status=159"), "{o}");
    c.assert_clean();
}

/// A profile error is a clear error at create, with nothing left behind.
pub fn seccomp_profile_errors_fail_create_cleanly() {
    requires!(root, runtime);
    for bad in [
        json!({"defaultAction": "SCMP_ACT_BOGUS"}),
        json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]}),
    ] {
        let c = Case::new();
        c.build(c.bundle().with(|s| s["linux"]["seccomp"] = bad));
        let o = c.create(&[]);
        assert!(!o.success() && !o.error_lines().is_empty(), "{o}");
        c.assert_clean();
    }
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(runtime_binary_is_not_writable_through_proc_exe, "security#t1-cve-2019-5736"),
    entry!(cwd_through_runtime_fds_never_reaches_the_host, "security#t3-cve-2024-21626"),
    entry!(proc_symlink_in_rootfs_is_refused, "security#t6-cve-2019-19921"),
    entry!(hostile_dev_null_is_not_used_for_masking, "security#t9-cve-2025-31133"),
    entry!(seccomp_errno_rules_apply_inside, "config-linux.md#seccomp"),
    entry!(seccomp_kill_process_kills, "config-linux.md#seccomp"),
    entry!(seccomp_profile_errors_fail_create_cleanly, "config-linux.md#seccomp"),
];
