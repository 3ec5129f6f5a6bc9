//! The systemd cgroup driver (`--systemd-cgroup`), as runc's on cgroup v2: the container's
//! cgroup is a transient scope that systemd creates around the init's pid, in the slice named by
//! `linux.cgroupsPath` (`slice:prefix:name`), with `Delegate=yes`. Limits systemd knows are set
//! as unit properties and, like runc, every limit is also written to the scope's cgroup files by
//! the files driver, which also does pause, kill, stats and ps there. Delete stops the unit.
//!
//! `unit.rs` and `props.rs` (with `gvariant.rs`) are pure; `dbus.rs` talks to systemd.

mod dbus;
mod gvariant;
mod props;
mod unit;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;

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
}

/// Plans the unit: where its cgroup is (relative to the hierarchy root) and what it is given.
pub(crate) fn plan(
    cgroups_path: Option<&Path>,
    id: &str,
    resources: Option<&LinuxResources>,
    annotations: &BTreeMap<String, String>,
) -> crate::Result<UnitPlan> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned());
    let name = unit::parse(raw.as_deref(), id, DEFAULT_PREFIX)?;
    if let Some(r) = resources {
        // Validated now, computed again at start with the host's /proc/devices.
        props::resource_properties(r, "")?;
    }
    let annotations = props::annotation_properties(annotations)?;
    Ok(UnitPlan { id: id.to_owned(), name, resources: resources.cloned(), annotations })
}

/// The systemd side of a container's cgroup: its unit.
#[derive(Debug, Clone)]
pub(crate) struct SystemdDriver {
    unit: String,
    plan: Option<UnitPlan>,
    /// Whether the unit is ours to stop: a create that found the name taken must not stop
    /// the unit that holds it when it cleans up.
    owned: Cell<bool>,
}

impl SystemdDriver {
    pub(crate) fn new(plan: &UnitPlan) -> Self {
        SystemdDriver { unit: plan.name.unit.clone(), plan: Some(plan.clone()), owned: Cell::new(false) }
    }

    /// The driver of a container created earlier, from the unit name in its state.
    pub(crate) fn loaded(unit: &str) -> Self {
        SystemdDriver { unit: unit.to_owned(), plan: None, owned: Cell::new(true) }
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
        let sd = dbus::Systemd::connect()?;
        let version = sd.version()?;
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
        let sd = dbus::Systemd::connect()?;
        let version = sd.version()?;
        sd.set_unit_properties(&self.unit, &supported(props::resource_properties(resources, &proc_devices())?, version))
    }

    fn stop(&self) -> crate::Result<()> {
        if !self.owned.get() {
            return Ok(());
        }
        dbus::Systemd::connect()?.stop_unit(&self.unit)
    }

    fn unit(&self) -> Option<String> {
        Some(self.unit.clone())
    }
}

/// The error for `--systemd-cgroup` on a host whose init is not systemd.
pub(crate) fn no_systemd() -> crate::Error {
    dbus::no_systemd()
}
