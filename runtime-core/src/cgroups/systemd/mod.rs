//! The systemd cgroup driver (`--systemd-cgroup`), as runc's: the container's cgroup is a
//! transient scope that systemd creates around the init's pid, in the slice named by
//! `linux.cgroupsPath` (`slice:prefix:name`), with `Delegate=yes`. Limits systemd knows are set
//! as unit properties and, like runc, every limit is also written to the scope's cgroup files by
//! the files driver, which also does pause, kill, stats and ps there. Delete stops the unit.
//! On a cgroup v1 (hybrid) host systemd makes the scope's directory only in the hierarchies it
//! manages; the files driver makes the same path in the others (cpuset, freezer, net_cls...),
//! moves the init there and removes them after the unit is stopped, as runc's legacy manager.
//!
//! `unit.rs`, `props.rs` (with `gvariant.rs`) and `v1.rs` are pure; `dbus.rs` talks to systemd.

mod dbus;
mod gvariant;
mod props;
mod unit;
mod v1;

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
    /// A cgroup v1 (hybrid) host: systemd's v1 property names.
    pub(crate) legacy: bool,
}

/// Plans the unit: where its cgroup is (relative to the hierarchy root) and what it is given.
/// `legacy`: the host has cgroup v1 controllers (legacy or hybrid).
pub(crate) fn plan(
    cgroups_path: Option<&Path>,
    id: &str,
    resources: Option<&LinuxResources>,
    annotations: &BTreeMap<String, String>,
    legacy: bool,
) -> crate::Result<UnitPlan> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned());
    let name = unit::parse(raw.as_deref(), id, DEFAULT_PREFIX)?;
    if let Some(r) = resources {
        // Validated now, computed again at start with the host's /proc/devices.
        resource_properties(r, "", legacy)?;
    }
    let annotations = props::annotation_properties(annotations)?;
    Ok(UnitPlan { id: id.to_owned(), name, resources: resources.cloned(), annotations, legacy })
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
}

impl SystemdDriver {
    pub(crate) fn new(plan: &UnitPlan) -> Self {
        let (unit, legacy) = (plan.name.unit.clone(), plan.legacy);
        SystemdDriver { unit, plan: Some(plan.clone()), legacy, owned: Cell::new(false) }
    }

    /// The driver of a container created earlier, from the unit name in its state; `legacy`
    /// when its cgroup is a v1 one.
    pub(crate) fn loaded(unit: &str, legacy: bool) -> Self {
        SystemdDriver { unit: unit.to_owned(), plan: None, legacy, owned: Cell::new(true) }
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
        let sd = dbus::Systemd::connect()?;
        let version = sd.version()?;
        let props = resource_properties(resources, &proc_devices(), self.legacy)?;
        sd.set_unit_properties(&self.unit, &supported(props, version))
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
