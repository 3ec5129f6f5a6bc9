//! The systemd cgroup driver (`--systemd-cgroup`), as runc's on cgroup v2: the container's
//! cgroup is a transient scope that systemd creates around the init's pid, in the slice named by
//! `linux.cgroupsPath` (`slice:prefix:name`), with `Delegate=yes`. Limits systemd knows are set
//! as unit properties and, like runc, every limit is also written to the scope's cgroup files by
//! the files driver, which also does pause, kill, stats and ps there. Delete stops the unit.
//!
//! Rootless (`user.rs`), the unit is made by the caller's own systemd instance on the user bus,
//! in `user.slice` below that manager's cgroup, as runc does.
//!
//! `unit.rs`, `user.rs` and `props.rs` (with `gvariant.rs`) are pure; `dbus.rs` talks to systemd.

mod dbus;
mod gvariant;
mod props;
mod unit;
mod user;

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
    /// Rootless: the unit is the caller's own systemd instance's (user bus), and `name.cgroup`
    /// is below that manager's cgroup, known once connected.
    pub(crate) user: bool,
}

/// Plans the unit: where its cgroup is (relative to the hierarchy root) and what it is given.
pub(crate) fn plan(
    cgroups_path: Option<&Path>,
    id: &str,
    resources: Option<&LinuxResources>,
    annotations: &BTreeMap<String, String>,
    user: bool,
) -> crate::Result<UnitPlan> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned());
    let name = unit::parse(raw.as_deref(), id, DEFAULT_PREFIX, if user { "user.slice" } else { "system.slice" })?;
    if let Some(r) = resources {
        // Validated now, computed again at start with the host's /proc/devices.
        props::resource_properties(r, "")?;
    }
    let annotations = props::annotation_properties(annotations)?;
    Ok(UnitPlan { id: id.to_owned(), name, resources: resources.cloned(), annotations, user })
}

/// The systemd side of a container's cgroup: its unit.
#[derive(Debug, Clone)]
pub(crate) struct SystemdDriver {
    unit: String,
    plan: Option<UnitPlan>,
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
            owned: Cell::new(false),
            user: plan.user,
            base: RefCell::new(None),
        }
    }

    /// The driver of a container created earlier, from the unit name in its state (and whether
    /// the user's own manager has it).
    pub(crate) fn loaded(unit: &str, user: bool) -> Self {
        SystemdDriver { unit: unit.to_owned(), plan: None, owned: Cell::new(true), user, base: RefCell::new(None) }
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
        let mut all = props::start_properties(&plan.id, &plan.name.slice, plan.name.is_scope(), pid);
        all.extend(plan.annotations.iter().cloned());
        sd.start_transient_unit(&self.unit, &supported(all, version), &self.owned)?;
        // The limits go in as runc's Set does right after Apply: properties first, files next.
        if let Some(r) = &plan.resources {
            sd.set_unit_properties(&self.unit, &supported(props::resource_properties(r, &proc_devices())?, version))?;
        }
        Ok(())
    }

    fn set(&self, resources: &LinuxResources) -> crate::Result<()> {
        let sd = self.connect()?;
        let version = sd.version()?;
        sd.set_unit_properties(&self.unit, &supported(props::resource_properties(resources, &proc_devices())?, version))
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

/// Rootless: moves the planned directories below the user manager's cgroup `base`, and checks
/// that the scope (made by then) has the controller of every planned write.
pub(crate) fn rebase_user_plan(plan: &mut super::CgroupPlan, base: &Path) -> crate::Result<()> {
    for d in &mut plan.dirs {
        d.path = user::rebase(&d.path, &d.mount_point, base);
    }
    let Some(dir) = plan.dirs.iter().find(|d| d.key.is_empty()) else { return Ok(()) };
    let controllers = super::fs::read_file(&dir.path, "cgroup.controllers")?;
    match user::undelegated(plan.writes.iter().map(|w| w.file.as_str()), &controllers) {
        Some(file) => Err(user::undelegated_error(file, &dir.path, &controllers)),
        None => Ok(()),
    }
}

/// The error for `--systemd-cgroup` on a host whose init is not systemd.
pub(crate) fn no_systemd() -> crate::Error {
    dbus::no_systemd()
}
