//! The table of checks that refuse a spec: fields hull does not implement yet, and semantic errors
//! that the kernel would otherwise report late and vaguely.

use oci_spec::runtime::{Hook, Spec};

use super::mounts::{MountKind, MountStep};
use super::namespaces::NamespacePlan;
use crate::error::{Error, Result};
use crate::host::HostInfo;

fn unsupported(field: &str) -> Error {
    Error::NotSupported(field.to_owned())
}

/// Fields that must be absent (or empty) because hull does not implement them yet.
pub(super) fn check(spec: &Spec) -> Result<()> {
    if spec.root().is_none() {
        return Err(Error::Spec("root must be specified".into()));
    }
    let Some(l) = spec.linux() else { return Err(Error::InvalidConfig("linux: missing".into())) };
    let checks: [(&str, bool); 1] = [("linux.intelRdt", l.intel_rdt().is_some())];
    first_set(&checks)
}

fn first_set(checks: &[(&str, bool)]) -> Result<()> {
    match checks.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(unsupported(name)),
        None => Ok(()),
    }
}

/// hostname and domainname need a UTS namespace of the container's, new or joined (runc refuses
/// them otherwise: they would rename the host).
pub(super) fn identity(spec: &Spec, ns: &NamespacePlan) -> Result<()> {
    let set = |v: &Option<String>| v.as_ref().is_some_and(|s| !s.is_empty());
    if (set(spec.hostname()) || set(spec.domainname())) && !ns.own_uts {
        return Err(Error::InvalidConfig("unable to set hostname without a private UTS namespace".into()));
    }
    for (field, v) in [("hostname", spec.hostname()), ("domainname", spec.domainname())] {
        if v.as_ref().is_some_and(|s| s.len() > 64 || s.contains('\0')) {
            return Err(Error::InvalidConfig(format!("{field}: longer than 64 bytes or contains NUL")));
        }
    }
    Ok(())
}

/// What needs a mount namespace of the container's: masked and read-only paths (runc's rule and
/// words), and rootfsPropagation, which would otherwise apply to the caller's mounts.
pub(super) fn mount_namespace(spec: &Spec, ns: &NamespacePlan) -> Result<()> {
    let Some(l) = spec.linux().as_ref().filter(|_| !ns.own_mount) else { return Ok(()) };
    let set = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    if set(l.masked_paths()) || set(l.readonly_paths()) {
        return Err(Error::InvalidConfig("unable to restrict sys entries without a private MNT namespace".into()));
    }
    if ns.in_userns() {
        // Going back to the caller's mount namespace needs the caller's user namespace.
        return Err(Error::NotSupported("a user namespace without a mount namespace".into()));
    }
    if l.rootfs_propagation().as_ref().is_some_and(|p| !p.is_empty()) {
        return Err(Error::InvalidConfig("linux.rootfsPropagation: needs a mount namespace of the container's".into()));
    }
    Ok(())
}

/// LSM labels apply only where the LSM is active; elsewhere a clear error (runc's wording for
/// SELinux), never a silently unconfined container.
pub(super) fn lsm(spec: &Spec, host: &HostInfo) -> Result<Lsm> {
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let p = spec.process().as_ref();
    let apparmor = p.and_then(|p| set(p.apparmor_profile()));
    let selinux = p.and_then(|p| set(p.selinux_label()));
    let mount_label = spec.linux().as_ref().and_then(|l| set(l.mount_label()));
    if apparmor.is_some() && !host.apparmor {
        return Err(Error::InvalidConfig(
            "apparmor profile is specified in config, but AppArmor is not enabled on this host".into(),
        ));
    }
    if (selinux.is_some() || mount_label.is_some()) && !host.selinux {
        return Err(Error::InvalidConfig(
            "selinux label is specified in config, but selinux is disabled or not supported".into(),
        ));
    }
    for (field, v) in [("process.apparmorProfile", &apparmor), ("process.selinuxLabel", &selinux)] {
        if v.as_ref().is_some_and(|s| s.contains('\0') || s.contains('\n')) {
            return Err(Error::InvalidConfig(format!("{field}: contains a NUL byte or a newline")));
        }
    }
    Ok(Lsm { apparmor, selinux, mount_label })
}

/// The same rule for a process started by exec (its `apparmorProfile`/`selinuxLabel`, or
/// `--apparmor`/`--process-label`).
pub(crate) fn process_lsm(p: &super::ProcessPlan) -> Result<()> {
    if p.attrs.apparmor.is_none() && p.attrs.selinux_label.is_none() {
        return Ok(());
    }
    let mut spec = Spec::default();
    let mut process = oci_spec::runtime::Process::default();
    process.set_apparmor_profile(p.attrs.apparmor.clone()).set_selinux_label(p.attrs.selinux_label.clone());
    spec.set_process(Some(process)).set_linux(None);
    lsm(&spec, &HostInfo::detect()?).map(drop)
}

/// The LSM labels of the container, checked against the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lsm {
    pub(crate) apparmor: Option<String>,
    pub(crate) selinux: Option<String>,
    pub(crate) mount_label: Option<String>,
}

/// `(uid_t)-1` / `(gid_t)-1`: setresuid, setresgid and chown read it as "leave unchanged", so a
/// process asked to run as 4294967295 would keep the runtime's root identity.
pub(crate) const UNCHANGED_ID: u32 = u32::MAX;

/// The user and groups a process runs as: no id may be one the kernel treats specially.
pub(super) fn ids(uid: u32, gid: u32, additional: &[u32]) -> Result<()> {
    let special = |field: &str, v: u32| {
        Error::InvalidConfig(format!(
            "{field}: {v} is (uid_t)-1, which the kernel reads as \"unchanged\"; ids must be in range 0-{}",
            UNCHANGED_ID - 1
        ))
    };
    if uid == UNCHANGED_ID {
        return Err(special("process.user.uid", uid));
    }
    if gid == UNCHANGED_ID {
        return Err(special("process.user.gid", gid));
    }
    match additional.iter().find(|g| **g == UNCHANGED_ID) {
        Some(g) => Err(special("process.user.additionalGids", *g)),
        None => Ok(()),
    }
}

/// config.md: a hook's `path` MUST be absolute. A relative one would run whatever the runtime's
/// (or the container's) working directory holds under that name; all six kinds are checked.
pub(super) fn hooks(spec: &Spec) -> Result<()> {
    let Some(h) = spec.hooks() else { return Ok(()) };
    #[allow(deprecated)]
    let kinds: [(&str, &Option<Vec<Hook>>); 6] = [
        ("prestart", h.prestart()),
        ("createRuntime", h.create_runtime()),
        ("createContainer", h.create_container()),
        ("startContainer", h.start_container()),
        ("poststart", h.poststart()),
        ("poststop", h.poststop()),
    ];
    for (kind, list) in kinds {
        for (i, hook) in list.iter().flatten().enumerate() {
            if !hook.path().is_absolute() {
                return Err(Error::InvalidConfig(format!(
                    "hooks.{kind}[{i}].path: {:?} must be an absolute path",
                    hook.path()
                )));
            }
        }
    }
    Ok(())
}

/// The files below /proc that lxcfs-style tools overlay with a bind mount (runc's list).
pub(crate) const PROC_FILE_BINDS: [&str; 10] = [
    "proc/cpuinfo",
    "proc/diskstats",
    "proc/meminfo",
    "proc/stat",
    "proc/swaps",
    "proc/uptime",
    "proc/loadavg",
    "proc/slabinfo",
    "proc/net/dev",
    "proc/sys/kernel/ns_last_pid",
];

/// Only procfs goes on /proc and only sysfs on /sys (a bind is accepted there when its source is
/// that filesystem, checked before the clone and again on the opened tree); below /proc only
/// binds of [`PROC_FILE_BINDS`]. Anything else would hide or fake what the runtime itself reads
/// and writes through /proc, and crashed the init before this check.
pub(super) fn special_mounts(mounts: &[MountStep]) -> Result<()> {
    for m in mounts {
        let (bind, fstype) = match &m.kind {
            MountKind::Bind { .. } => (true, ""),
            MountKind::Fs { fstype, .. } => (false, fstype.as_str()),
            MountKind::CgroupV1Tree => (false, "cgroup"),
        };
        let dest = m.dest.as_str();
        let ok = match dest {
            "proc" => bind || fstype == "proc",
            "sys" => bind || fstype == "sysfs",
            d if d.starts_with("proc/") => bind && PROC_FILE_BINDS.contains(&d),
            _ => true,
        };
        if !ok {
            let what = if bind { "a bind mount".to_owned() } else { format!("type {fstype}") };
            let rule = match dest {
                "proc" => "only proc may be mounted on /proc",
                "sys" => "only sysfs may be mounted on /sys",
                _ => "below /proc only bind mounts of the files lxcfs overlays are allowed",
            };
            return Err(Error::InvalidConfig(format!("mount on /{dest} ({what}) refused: {rule}")));
        }
    }
    Ok(())
}
