//! Facts about the host read once per command (cgroup layout, active LSMs, systemd as init) and passed to the plan.

use crate::cgroups::{self, Layout};
use crate::error::Result;

/// What the plan needs to know about the host.
#[derive(Debug)]
pub(crate) struct HostInfo {
    pub(crate) cgroups: Layout,
    /// AppArmor is loaded and enabled (profiles can be applied).
    pub(crate) apparmor: bool,
    /// SELinux is enabled (selinuxfs is mounted).
    pub(crate) selinux: bool,
    /// systemd is the init (for `--systemd-cgroup`).
    pub(crate) systemd: bool,
}

impl HostInfo {
    /// Reads the host facts.
    pub(crate) fn detect() -> Result<HostInfo> {
        let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .is_ok_and(|s| s.trim() == "Y")
            && std::path::Path::new("/sys/kernel/security/apparmor").is_dir();
        let selinux = std::path::Path::new("/sys/fs/selinux/enforce").exists();
        Ok(HostInfo { cgroups: cgroups::detect()?, apparmor, selinux, systemd: cgroups::systemd_booted() })
    }
}
