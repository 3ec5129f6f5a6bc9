//! The systemd cgroup driver (`--systemd-cgroup`), as runc's: the container's cgroup is a
//! transient scope that systemd creates around the init's pid, in the slice named by
//! `linux.cgroupsPath` (`slice:prefix:name`), with `Delegate=yes`. Limits systemd knows are set
//! as unit properties and, like runc, every limit is also written to the scope's cgroup files by
//! the files driver, which also does pause, kill, stats and ps there. Delete stops the unit.
//! On a cgroup v1 (hybrid) host systemd makes the scope's directory only in the hierarchies it
//! manages; the files driver makes the same path in the others (cpuset, freezer, net_cls...),
//! moves the init there and removes them after the unit is stopped, as runc's legacy manager.
//!
//! On a v1 host the unit gets systemd's v1 property names (`v1.rs`, pure). Rootless (`user.rs`),
//! the unit is made by the caller's own systemd instance on the user bus, in `user.slice` below
//! that manager's cgroup, as runc does.
//!
//! `unit.rs`, `user.rs`, `v1.rs` and `props.rs` (with `gvariant.rs`) are pure; `dbus.rs` talks to systemd.

mod dbus;
mod gvariant;
mod props;
mod unit;
mod user;
mod v1;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

pub(crate) use dbus::systemd_booted;
use props::Property;

/// The prefix of scope names when `linux.cgroupsPath` is empty (runc uses `runc`).
pub(crate) const DEFAULT_PREFIX: &str = "hull";

/// What create needs to start the unit, computed (and validated) with the plan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnitPlan {
    pub(crate) id: String,
    pub(crate) name: unit::UnitName,
    pub(crate) resources: Option<LinuxResources>,
    /// From `org.systemd.property.*` annotations; they come last, so they win.
    pub(crate) annotations: Vec<Property>,
    /// A cgroup v1 (hybrid) host: systemd's v1 property names.
    pub(crate) legacy: bool,
    /// Rootless: the unit is the caller's own systemd instance's (user bus), and `name.cgroup`
    /// is below that manager's cgroup, known once connected.
    pub(crate) user: bool,
}

/// Plans the unit: where its cgroup is (relative to the hierarchy root) and what it is given.
/// `legacy`: the host has cgroup v1 controllers (legacy or hybrid).
pub(crate) fn plan(
    cgroups_path: Option<&Path>,
    id: &str,
    resources: Option<&LinuxResources>,
    annotations: &BTreeMap<String, String>,
    legacy: bool,
    user: bool,
) -> crate::Result<UnitPlan> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned());
    let name = unit::parse(raw.as_deref(), id, DEFAULT_PREFIX, if user { "user.slice" } else { "system.slice" })?;
    if let Some(r) = resources {
        // Validated now, computed again at start with the host's /proc/devices.
        resource_properties(r, "", legacy)?;
    }
    let annotations = props::annotation_properties(annotations)?;
    Ok(UnitPlan { id: id.to_owned(), name, resources: resources.cloned(), annotations, legacy, user })
}

fn resource_properties(r: &LinuxResources, proc_devices: &str, legacy: bool) -> crate::Result<Vec<Property>> {
    if legacy {
        v1::resource_properties(r, proc_devices)
    } else {
        props::resource_properties(r, proc_devices)
    }
}

/// The systemd side of a container's cgroup: its unit.
#[derive(Debug, Clone)]
pub(crate) struct SystemdDriver {
    unit: String,
    plan: Option<UnitPlan>,
    legacy: bool,
    /// Whether the unit is ours to stop: a create that found the name taken must not stop
    /// the unit that holds it when it cleans up.
    owned: Cell<bool>,
    /// The unit is the caller's own systemd instance's (rootless).
    user: bool,
    /// Rootless, once started: the user manager's cgroup, below the hierarchy root.
    base: RefCell<Option<PathBuf>>,
}

impl SystemdDriver {
    pub(crate) fn new(plan: &UnitPlan) -> Self {
        SystemdDriver {
            unit: plan.name.unit.clone(),
            plan: Some(plan.clone()),
            legacy: plan.legacy,
            owned: Cell::new(false),
            user: plan.user,
            base: RefCell::new(None),
        }
    }

    /// The driver of a container created earlier, from the unit name in its state; `legacy`
    /// when its cgroup is a v1 one, `user` when the user's own manager has it.
    pub(crate) fn loaded(unit: &str, legacy: bool, user: bool) -> Self {
        SystemdDriver {
            unit: unit.to_owned(),
            plan: None,
            legacy,
            owned: Cell::new(true),
            user,
            base: RefCell::new(None),
        }
    }

    fn connect(&self) -> crate::Result<dbus::Systemd> {
        if self.user {
            dbus::Systemd::connect_user()
        } else {
            dbus::Systemd::connect()
        }
    }
}

fn proc_devices() -> String {
    std::fs::read_to_string("/proc/devices").unwrap_or_default()
}

/// Drops the properties this systemd is too old for (their values still reach the files).
fn supported(props: Vec<Property>, version: u32) -> Vec<Property> {
    props.into_iter().filter(|p| p.min_version <= version).collect()
}

impl super::Driver for SystemdDriver {
    fn needs_pid(&self) -> bool {
        true
    }

    fn start(&self, pid: i32) -> crate::Result<()> {
        let Some(plan) = &self.plan else { return Ok(()) };
        let sd = self.connect()?;
        let version = sd.version()?;
        if self.user {
            // Before the unit: a manager without a usable cgroup makes nothing.
            *self.base.borrow_mut() = Some(user::manager_cgroup(&sd.manager_cgroup()?)?);
        }
        let (slice, scope) = (&plan.name.slice, plan.name.is_scope());
        if self.legacy {
            // On v1 the limits (device rules always) go in with the unit itself, not after it:
            // a controller a later SetUnitProperties adds to the unit can be added to its slice
            // too, and systemd then moves every process below that slice into the slice's own
            // cgroup of that controller (as runc 1.1.5's init ends up in a new slice's devices
            // cgroup, outside its scope's device rules).
            let mut all = v1::start_properties(&plan.id, slice, scope, pid);
            let mut r = plan.resources.clone().unwrap_or_default();
            if r.devices().is_none() {
                r.set_devices(Some(Vec::new()));
            }
            all.extend(resource_properties(&r, &proc_devices(), true)?);
            all.extend(plan.annotations.iter().cloned());
            return sd.start_transient_unit(&self.unit, &supported(all, version), &self.owned);
        }
        let mut all = props::start_properties(&plan.id, slice, scope, pid);
        all.extend(plan.annotations.iter().cloned());
        sd.start_transient_unit(&self.unit, &supported(all, version), &self.owned)?;
        // The limits go in as runc's Set does right after Apply: properties first, files next.
        if let Some(r) = &plan.resources {
            sd.set_unit_properties(
                &self.unit,
                &supported(resource_properties(r, &proc_devices(), self.legacy)?, version),
            )?;
        }
        Ok(())
    }

    fn set(&self, resources: &LinuxResources) -> crate::Result<()> {
        let sd = self.connect()?;
        let version = sd.version()?;
        let props = resource_properties(resources, &proc_devices(), self.legacy)?;
        sd.set_unit_properties(&self.unit, &supported(props, version))
    }

    fn stop(&self) -> crate::Result<()> {
        if !self.owned.get() {
            return Ok(());
        }
        self.connect()?.stop_unit(&self.unit)
    }

    fn unit(&self) -> Option<String> {
        Some(self.unit.clone())
    }

    fn user_manager(&self) -> bool {
        self.user
    }

    fn cgroup_base(&self) -> Option<PathBuf> {
        self.base.borrow().clone()
    }
}

/// Rootless: moves the planned directories below the user manager's cgroup `base`.
pub(crate) fn rebase_user_dirs(plan: &mut super::CgroupPlan, base: &Path) {
    for d in &mut plan.dirs {
        d.path = user::rebase(&d.path, &d.mount_point, base);
    }
}

/// Rootless: whether the scope (made by then), whose `cgroup.controllers` reads `controllers`,
/// has the controller of every planned write.
pub(crate) fn check_delegated(plan: &super::CgroupPlan, dir: &Path, controllers: &str) -> crate::Result<()> {
    match user::undelegated(plan.writes.iter().map(|w| w.file.as_str()), controllers) {
        Some(file) => Err(user::undelegated_error(file, dir, controllers)),
        None => Ok(()),
    }
}

/// The error for `--systemd-cgroup` on a host whose init is not systemd.
pub(crate) fn no_systemd() -> crate::Error {
    dbus::no_systemd()
}
