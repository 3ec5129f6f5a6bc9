//! Facts about the host read once per command (cgroup layout, active LSMs, an unprivileged
//! caller, systemd as init) and passed to the plan.

use crate::cgroups::{self, Layout};
use crate::error::Result;
use crate::rootless::{self, Caller};

/// What the plan needs to know about the host.
#[derive(Debug)]
pub(crate) struct HostInfo {
    pub(crate) cgroups: Layout,
    /// AppArmor is loaded and enabled (profiles can be applied).
    pub(crate) apparmor: bool,
    /// SELinux is enabled (selinuxfs is mounted).
    pub(crate) selinux: bool,
    /// The caller when euid is not 0 (runc's `RootlessEUID`): a user namespace is required and
    /// id maps other than its own ids go through newuidmap/newgidmap.
    pub(crate) caller: Option<Caller>,
    /// The runtime itself runs in a user namespace: device nodes are bound, not made.
    pub(crate) in_userns: bool,
    /// runc's rootless cgroup manager: without `linux.cgroupsPath`, a hierarchy where the
    /// container's cgroup cannot be made is skipped (and device rules are best effort).
    pub(crate) rootless_cgroups: bool,
    /// systemd is the init (for `--systemd-cgroup`).
    pub(crate) systemd: bool,
}

impl HostInfo {
    /// Reads the host facts, with `--rootless` auto-detected.
    pub(crate) fn detect() -> Result<HostInfo> {
        Self::detect_with(None)
    }

    /// Reads the host facts; `rootless` is runc's `--rootless` (None: auto).
    pub(crate) fn detect_with(rootless: Option<bool>) -> Result<HostInfo> {
        let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .is_ok_and(|s| s.trim() == "Y")
            && std::path::Path::new("/sys/kernel/security/apparmor").is_dir();
        let selinux = std::path::Path::new("/sys/fs/selinux/enforce").exists();
        let root = nix::unistd::geteuid().is_root();
        let in_userns = rootless::in_user_namespace();
        Ok(HostInfo {
            cgroups: cgroups::detect()?,
            apparmor,
            selinux,
            caller: (!root).then(Caller::detect),
            in_userns,
            // runc: not root, or root inside a user namespace, which may not own its cgroups.
            rootless_cgroups: rootless.unwrap_or(!root || in_userns),
            systemd: cgroups::systemd_booted(),
        })
    }
}
