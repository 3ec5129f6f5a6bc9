//! The container's cgroups on v1, hybrid and v2 hosts: layout detection, the pure translation of
//! `linux.resources` into ordered file writes, and the filesystem driver that creates, joins,
//! freezes, signals, measures and removes the cgroup directories.
//!
//! The split follows what can be tested without a kernel: [`detect`] reads the host once into a
//! [`Layout`]; [`plan`] is pure and turns (cgroupsPath, id, resources, layout) into a
//! [`CgroupPlan`] of directories and [`Write`]s (table-tested for both versions); [`Cgroup`]
//! executes a plan through directory fds and manages the result for the container's lifetime.
//! Which manager owns the cgroup is a [`Driver`]: the files alone (cgroupfs), or systemd
//! (`systemd/`), which makes the cgroup as a unit and keeps some limits as unit properties.

mod bpf;
mod devices;
mod freezer;
mod fs;
mod layout;
mod oom;
mod path;
mod stats;
mod systemd;
mod v1;
mod v2;

#[cfg(test)]
mod kernel_tests;
#[cfg(test)]
mod kernel_tests_v2;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

pub(crate) use freezer::check_existing;
pub(crate) use fs::Cgroup;
#[allow(unused_imports)] // detect is called by the host detection once wired
pub(crate) use layout::{detect, Layout};
pub(crate) use oom::OomWatch;
pub(crate) use systemd::{no_systemd, systemd_booted};

/// What differs between cgroup managers. Everything else (limits in files, freezer, kill,
/// stats, pids, removing the directory) goes through the cgroup's files with any of them.
pub(crate) trait Driver: std::fmt::Debug {
    /// Whether the cgroup can only be made once the init's pid is known: the child then waits
    /// for [`Cgroup::start`] before it does anything.
    fn needs_pid(&self) -> bool {
        false
    }
    /// Makes the manager's cgroup around `pid` (systemd: the unit, with the pid in it).
    fn start(&self, _pid: i32) -> crate::Result<()> {
        Ok(())
    }
    /// Records new limits where the manager keeps them, before the files get them.
    fn set(&self, _resources: &LinuxResources) -> crate::Result<()> {
        Ok(())
    }
    /// Releases the manager's cgroup (systemd: stops the unit and waits), before the files go.
    fn stop(&self) -> crate::Result<()> {
        Ok(())
    }
    /// The manager's name for the cgroup, kept in the state so later commands use the same one.
    fn unit(&self) -> Option<String> {
        None
    }
}

/// The cgroupfs driver: the runtime makes and removes the directories itself.
#[derive(Debug)]
pub(crate) struct FsDriver;

impl Driver for FsDriver {}

/// The driver of a created container, from what its state recorded.
pub(crate) fn driver_for(unit: Option<&str>, version: Version) -> Box<dyn Driver> {
    match unit {
        Some(u) => Box::new(systemd::SystemdDriver::loaded(u, version == Version::V1)),
        None => Box::new(FsDriver),
    }
}

/// Which cgroup interface the container's limits are written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// One hierarchy per controller (legacy or hybrid host).
    V1,
    /// The unified hierarchy only.
    V2,
}

/// How a [`Write`] reacts when the kernel does not take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteMode {
    /// Any failure is an error.
    Required,
    /// Skipped when the file does not exist (features that depend on kernel version or config).
    IfExists,
    /// An EINVAL is retried once after all other writes: pairs of limits (memory and
    /// memory+swap, cfs period and quota) are only accepted by the kernel in one order, which
    /// depends on the values currently set.
    RetryOnEinval,
    /// Read back after writing: the kernel silently clamps some values (cpu.shares to
    /// 2..262144), which runc reports as an error instead of running with another limit.
    Verify,
}

/// One value written to one cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Write {
    /// The hierarchy: a v1 controller name (`memory`, `name=systemd`) or `""` for the unified one.
    pub(crate) key: String,
    /// File name inside the cgroup directory.
    pub(crate) file: String,
    /// The exact bytes to write.
    pub(crate) value: String,
    /// Error handling.
    pub(crate) mode: WriteMode,
    /// A file (and value) written instead when it exists: BFQ's weight files replace the
    /// generic ones when that scheduler is active, as runc does.
    pub(crate) prefer: Option<(String, String)>,
}

impl Write {
    fn new(key: &str, file: impl Into<String>, value: impl Into<String>) -> Self {
        Write { key: key.into(), file: file.into(), value: value.into(), mode: WriteMode::Required, prefer: None }
    }

    fn mode(mut self, mode: WriteMode) -> Self {
        self.mode = mode;
        self
    }

    fn prefer(mut self, file: impl Into<String>, value: impl Into<String>) -> Self {
        self.prefer = Some((file.into(), value.into()));
        self
    }
}

/// One directory of the container's cgroup in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedDir {
    /// Hierarchy key, as in [`Write::key`].
    pub(crate) key: String,
    /// The container's cgroup directory.
    pub(crate) path: PathBuf,
    /// The hierarchy's mount point: never created nor removed.
    pub(crate) mount_point: PathBuf,
}

/// The pure result of [`plan`]: where the cgroup lives and what to write into it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CgroupPlan {
    /// Version the writes are meant for.
    pub(crate) version: Version,
    /// One directory per hierarchy, in a stable order.
    pub(crate) dirs: Vec<PlannedDir>,
    /// The writes, in order.
    pub(crate) writes: Vec<Write>,
    /// On v2: the eBPF device program (encoded `struct bpf_insn`s) attached to the cgroup.
    pub(crate) device_program: Option<Vec<[u8; 8]>>,
    /// runc's rootless cgroup manager: device rules are best effort (an unprivileged container
    /// cannot make device nodes anyway).
    pub(crate) rootless: bool,
    /// Rootless without `linux.cgroupsPath`: a hierarchy where the directory cannot be made or
    /// joined (EACCES, EPERM, EROFS) is left out; a limit for it then fails the create.
    pub(crate) skip_unreachable: bool,
    /// With `--systemd-cgroup`: the unit that systemd makes (the directory is its cgroup).
    pub(crate) systemd: Option<systemd::UnitPlan>,
}

/// Computes the container's cgroup directories and limit writes. Pure: nothing is read or written.
///
/// `cgroups_path` follows runc's cgroupfs driver: absolute paths are taken from each hierarchy's
/// root; relative ones are placed under the runtime's own cgroup (under its parent on pure v2,
/// whose own cgroup cannot have children with controllers while it holds processes); empty means
/// the relative path `<id>`. A `..` component is refused.
pub(crate) fn plan(
    cgroups_path: Option<&Path>,
    id: &str,
    resources: Option<&LinuxResources>,
    layout: &Layout,
) -> crate::Result<CgroupPlan> {
    let inner = path::inner_path(cgroups_path, id)?;
    let dirs = path::dirs(&inner, layout)?;
    let empty = LinuxResources::default();
    let resources = resources.unwrap_or(&empty);
    let (writes, device_program) = match layout.version() {
        Version::V1 => (v1::writes(resources, &layout.v1_keys(), true)?, None),
        Version::V2 => {
            let program = bpf::v2_program(resources.devices().as_deref().unwrap_or_default())?;
            (v2::writes(resources, &layout.unified_controllers())?, Some(program))
        }
    };
    Ok(CgroupPlan {
        version: layout.version(),
        dirs,
        writes,
        device_program,
        rootless: false,
        skip_unreachable: false,
        systemd: None,
    })
}

/// [`plan`] for the systemd driver: the cgroup is the unit's, named by `cgroups_path` in runc's
/// `slice:prefix:name` form; the files get the same writes as with the files driver. On a v1
/// (hybrid) host that path is the unit's in every hierarchy, as runc's legacy manager has it:
/// systemd makes it in the ones it manages, the files driver in the others.
pub(crate) fn plan_systemd(
    cgroups_path: Option<&Path>,
    id: &str,
    resources: Option<&LinuxResources>,
    annotations: &BTreeMap<String, String>,
    layout: &Layout,
) -> crate::Result<CgroupPlan> {
    let unit = systemd::plan(cgroups_path, id, resources, annotations, layout.version() == Version::V1)?;
    let mut p = plan(Some(&Path::new("/").join(&unit.name.cgroup)), id, resources, layout)?;
    p.systemd = Some(unit);
    Ok(p)
}

fn not_supported(what: impl Into<String>) -> crate::Error {
    crate::Error::NotSupported(what.into())
}

fn invalid(what: impl Into<String>) -> crate::Error {
    crate::Error::InvalidConfig(what.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";

    #[test]
    fn v1_plan_joins_every_hierarchy_and_writes_device_rules() {
        let layout = Layout::parse(HYBRID, "4:memory:/m\n5:devices:/d\n0::/u\n", "hugetlb").unwrap();
        let r: LinuxResources = serde_json::from_str(r#"{"memory":{"limit":1024}}"#).unwrap();
        let p = plan(None, "c1", Some(&r), &layout).unwrap();
        assert_eq!(p.version, Version::V1);
        let dirs: Vec<_> = p.dirs.iter().map(|d| d.path.to_str().unwrap()).collect();
        assert_eq!(dirs, ["/sys/fs/cgroup/devices/d/c1", "/sys/fs/cgroup/memory/m/c1", "/sys/fs/cgroup/unified/u/c1"]);
        assert!(p.device_program.is_none());
        assert_eq!(p.writes.iter().filter(|w| w.key == "devices").count(), 1 + devices::default_rules().len());
        assert_eq!(p.writes.last().unwrap().file, "memory.limit_in_bytes");
    }

    #[test]
    fn systemd_plan_on_hybrid_puts_the_scope_in_every_hierarchy() {
        let mounts = format!("{HYBRID}40 31 0:37 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n");
        let layout = Layout::parse(&mounts, "4:memory:/user.slice\n5:devices:/\n0::/init.scope\n", "").unwrap();
        let r: LinuxResources = serde_json::from_str(r#"{"memory":{"limit":1024}}"#).unwrap();
        let path = Path::new("machine-a.slice:p:c1");
        let p = plan_systemd(Some(path), "c1", Some(&r), &BTreeMap::new(), &layout).unwrap();
        assert_eq!(p.version, Version::V1);
        let unit = p.systemd.as_ref().unwrap();
        assert!(unit.legacy);
        // The scope's path from each hierarchy's root, wherever the runtime itself runs.
        let dirs: Vec<_> = p.dirs.iter().map(|d| (d.key.as_str(), d.path.to_str().unwrap())).collect();
        let scope = "machine.slice/machine-a.slice/p-c1.scope";
        assert_eq!(
            dirs,
            [
                ("devices", format!("/sys/fs/cgroup/devices/{scope}").as_str()),
                ("freezer", &format!("/sys/fs/cgroup/freezer/{scope}")),
                ("memory", &format!("/sys/fs/cgroup/memory/{scope}")),
                ("", &format!("/sys/fs/cgroup/unified/{scope}")),
            ]
        );
        // The files get v1's writes, as with the files driver; a controller that is not mounted
        // refuses its limit.
        assert!(p.writes.iter().any(|w| w.file == "memory.limit_in_bytes" && w.value == "1024"));
        let pids: LinuxResources = serde_json::from_str(r#"{"pids":{"limit":3}}"#).unwrap();
        let e = plan_systemd(Some(path), "c1", Some(&pids), &BTreeMap::new(), &layout).unwrap_err();
        assert_eq!(e.to_string(), "not supported: linux.resources.pids: no pids cgroup controller on this host");
        let unified: LinuxResources = serde_json::from_str(r#"{"unified":{"memory.max":"1"}}"#).unwrap();
        let e = plan_systemd(Some(path), "c1", Some(&unified), &BTreeMap::new(), &layout).unwrap_err();
        assert_eq!(e.to_string(), "not supported: linux.resources.unified on cgroup v1");
    }

    #[test]
    fn v2_plan_carries_a_device_program() {
        let layout = Layout::parse("1 0 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/a/b\n", "pids").unwrap();
        let r: LinuxResources = serde_json::from_str(r#"{"pids":{"limit":5}}"#).unwrap();
        let p = plan(Some(Path::new("x/y")), "id", Some(&r), &layout).unwrap();
        assert_eq!((p.version, p.dirs[0].path.to_str().unwrap()), (Version::V2, "/sys/fs/cgroup/a/x/y"));
        assert_eq!(p.writes.len(), 1);
        // No configured rules: like runc, deny-all plus the default allow-list.
        let prog = p.device_program.unwrap();
        assert_eq!(prog[prog.len() - 2], [0xb4, 0, 0, 0, 0, 0, 0, 0], "the last verdict denies");
        assert!(prog.len() > 8 + devices::default_rules().len() * 2);
        assert!(plan(Some(Path::new("../escape")), "id", None, &layout).is_err());
    }
}
