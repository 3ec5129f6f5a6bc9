//! config.md apparmorProfile / selinuxLabel and config-linux.md mountLabel on a host where the LSM
//! is not active: create must fail with a clear error (never run the container unconfined) and
//! leave nothing behind.

use crate::{requires, Case};
use serde_json::{json, Value};

fn apparmor_active() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").is_ok_and(|s| s.trim() == "Y")
}

fn selinux_active() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

fn refused(edit: impl FnOnce(&mut Value), want: &str) {
    let c = Case::new();
    c.build(c.bundle().with(edit));
    let out = c.create(&[]);
    assert!(!out.success(), "{want}: the container was created unconfined");
    assert!(out.stderr.to_lowercase().contains(want), "{want}: {out}");
    c.assert_clean();
}

pub fn apparmor_profile_without_apparmor_is_refused() {
    requires!(root, runtime);
    if apparmor_active() {
        return crate::skip("AppArmor is active on this host");
    }
    refused(|s| s["process"]["apparmorProfile"] = json!("docker-default"), "apparmor");
}

pub fn selinux_labels_without_selinux_are_refused() {
    requires!(root, runtime);
    if selinux_active() {
        return crate::skip("SELinux is active on this host");
    }
    refused(|s| s["process"]["selinuxLabel"] = json!("system_u:system_r:container_t:s0"), "selinux");
    refused(|s| s["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0"), "selinux");
}

pub fn exec_labels_without_the_lsm_are_refused() {
    requires!(root, runtime);
    if apparmor_active() || selinux_active() {
        return crate::skip("an LSM is active on this host");
    }
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    for (flag, value, want) in [
        ("--apparmor", "docker-default", "apparmor"),
        ("--process-label", "system_u:system_r:container_t:s0", "selinux"),
    ] {
        let out = c.exec(&["exec", flag, value, &c.id, "/bin/true"]);
        assert_eq!(out.code, Some(255), "{flag}: {out}");
        assert!(out.stderr.to_lowercase().contains(want), "{flag}: {out}");
    }
    c.delete(true).ok();
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(apparmor_profile_without_apparmor_is_refused, "config.md#linux-process"),
    entry!(selinux_labels_without_selinux_are_refused, "config.md#linux-process"),
    entry!(exec_labels_without_the_lsm_are_refused, "runc-cli#exec"),
];
