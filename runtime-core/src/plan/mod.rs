//! PURE: turns a bundle, the create options and the host facts into a resolved [`Plan`]: every
//! default applied, every string parsed, every unsupported field refused. No syscalls, no writes:
//! once a plan exists, every later failure is an environment failure, never a spec-parsing one.

mod attrs;
mod devices;
mod mounts;
mod namespaces;
mod process;
mod sysctl;
mod userns;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) use devices::{DeviceNode, DEV_SYMLINKS};
pub(crate) use mounts::{MountAttr, MountKind, MountStep, ATTR_LOCKED_DOWN};
pub(crate) use namespaces::{NamespacePlan, NetDevice};
pub(crate) use process::{plan as process_plan, ProcessPlan};
pub(crate) use userns::IdMaps;
pub(crate) use validate::process_lsm;

use crate::bundle::Bundle;
use crate::cgroups::{self, CgroupPlan};
use crate::error::{Error, Result};
use crate::host::HostInfo;
use crate::seccomp;

/// Options of `create` that shape the plan (the rest are handled by the launcher).
#[derive(Debug, Default, Clone)]
pub(crate) struct PlanOptions {
    pub(crate) no_pivot: bool,
    pub(crate) no_new_keyring: bool,
    pub(crate) console: bool,
    pub(crate) preserve_fds: u32,
    pub(crate) listen_fds: u32,
    /// `--systemd-cgroup`: the cgroup is a systemd unit.
    pub(crate) systemd_cgroup: bool,
}

/// The root filesystem part of the plan.
#[derive(Debug)]
pub(crate) struct RootfsPlan {
    /// Host path of the bundle (for hook state).
    pub(crate) bundle: PathBuf,
    /// Host path of the rootfs.
    pub(crate) path: PathBuf,
    pub(crate) readonly: bool,
    /// Propagation of "/" inside the container's mount namespace (MS_* flags).
    pub(crate) propagation: u64,
    pub(crate) no_pivot: bool,
    /// No mount namespace of the container's: the root is prepared in a throwaway one and entered
    /// as a detached copy by chroot, so nothing is mounted in (or propagates to) the caller's.
    pub(crate) detached: bool,
    pub(crate) mounts: Vec<MountStep>,
    /// Whether hull populates /dev (devices, symlinks, /dev/console): unless /dev is a bind mount,
    /// as runc; without a /dev mount that is the rootfs's own /dev.
    pub(crate) populate_dev: bool,
    pub(crate) devices: Vec<DeviceNode>,
    /// In a user namespace: device nodes are bound from the host, sysfs may have to be bound.
    pub(crate) userns: bool,
    pub(crate) masked: Vec<String>,
    pub(crate) readonly_paths: Vec<String>,
    /// The process's cwd relative to the rootfs, created when missing (runc does).
    pub(crate) cwd: Option<String>,
}

/// Everything the launcher needs, resolved.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) id: String,
    pub(crate) oci_version: String,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) namespaces: NamespacePlan,
    pub(crate) rootfs: RootfsPlan,
    pub(crate) hostname: Option<String>,
    pub(crate) domainname: Option<String>,
    pub(crate) process: ProcessPlan,
    pub(crate) cgroup: CgroupPlan,
    pub(crate) seccomp: Option<seccomp::Program>,
    pub(crate) new_keyring: bool,
    pub(crate) hooks: oci_spec::runtime::Hooks,
    /// (path under /proc, value), written in the container's namespaces.
    pub(crate) sysctl: Vec<(String, String)>,
    /// Host interfaces moved into the container's network namespace.
    pub(crate) net_devices: Vec<NetDevice>,
}

impl Plan {
    /// Builds the plan. Pure: reads nothing but its arguments.
    pub(crate) fn build(id: &str, bundle: &Bundle, opts: &PlanOptions, host: &HostInfo) -> Result<Plan> {
        let spec = &bundle.spec;
        validate::check(spec)?;
        validate::hooks(spec)?;
        let linux = spec.linux().as_ref().ok_or_else(|| Error::InvalidConfig("linux: missing".into()))?;
        let process =
            spec.process().as_ref().ok_or_else(|| Error::Spec("process property must not be empty".into()))?;

        let namespaces = namespaces::plan(linux, host)?;
        validate::identity(spec, &namespaces)?;
        validate::mount_namespace(spec, &namespaces)?;
        let mut process = process::plan(process, opts)?;
        if !bundle.unknown_caps.is_empty() {
            // runtime-spec (config.md, capabilities): logged as a warning; runc's wording.
            process
                .warnings
                .push(format!("ignoring unknown or unavailable capabilities: [{}]", bundle.unknown_caps.join(" ")));
        }
        process.attrs.personality = linux.personality().as_ref().map(attrs::personality).transpose()?;
        process.attrs.mempolicy = linux.memory_policy().as_ref().map(attrs::mempolicy).transpose()?;
        let lsm = validate::lsm(spec, host)?;
        process.attrs.apparmor = lsm.apparmor;
        process.attrs.selinux_label = lsm.selinux;
        if process.terminal && !opts.console {
            return Err(Error::InvalidConfig(
                "cannot allocate tty if runc will detach without setting console socket".into(),
            ));
        }
        let (path, resources) = (linux.cgroups_path().as_deref(), linux.resources().as_ref());
        let mut cgroup = if opts.systemd_cgroup {
            if !host.systemd {
                return Err(cgroups::no_systemd());
            }
            let annotations = spec.annotations().clone().unwrap_or_default().into_iter().collect();
            cgroups::plan_systemd(path, id, resources, &annotations, &host.cgroups)?
        } else {
            cgroups::plan(path, id, resources, &host.cgroups)?
        };
        if host.rootless_cgroups {
            cgroup.rootless = true;
            cgroup.skip_unreachable = linux.cgroups_path().as_ref().is_none_or(|p| p.as_os_str().is_empty());
        }
        let seccomp = linux.seccomp().as_ref().map(seccomp::compile).transpose()?;
        let mut rootfs = rootfs_plan(bundle, opts, &namespaces, host)?;
        if let Some(label) = &lsm.mount_label {
            mounts::apply_mount_label(&mut rootfs.mounts, label);
        }
        let sysctl = sysctl::plan(&linux.sysctl().clone().unwrap_or_default(), &namespaces)?;
        let net_devices = namespaces::net_devices(linux, &namespaces)?;
        Ok(Plan {
            id: id.to_owned(),
            oci_version: spec.version().clone(),
            annotations: spec.annotations().clone().unwrap_or_default().into_iter().collect(),
            namespaces,
            rootfs,
            hostname: spec.hostname().clone(),
            domainname: spec.domainname().clone(),
            process,
            cgroup,
            seccomp,
            new_keyring: !opts.no_new_keyring,
            hooks: spec.hooks().clone().unwrap_or_default(),
            sysctl,
            net_devices,
        })
    }
}

fn rootfs_plan(bundle: &Bundle, opts: &PlanOptions, ns: &NamespacePlan, host: &HostInfo) -> Result<RootfsPlan> {
    let spec = &bundle.spec;
    let linux = spec.linux().as_ref().expect("checked by Plan::build");
    let readonly = spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false);
    let propagation = mounts::root_propagation(linux.rootfs_propagation().as_deref())?;
    let mounts = mounts::plan(spec.mounts().as_deref().unwrap_or(&[]), &bundle.dir, ns, host)?;
    validate::special_mounts(&mounts)?;
    let populate_dev = !mounts.iter().any(|m| m.dest == "dev" && matches!(m.kind, MountKind::Bind { .. }));
    let devices = devices::plan(linux.devices().as_deref().unwrap_or(&[]))?;
    let masked = mounts::clean_paths(linux.masked_paths().as_deref().unwrap_or(&[]), "linux.maskedPaths")?;
    let readonly_paths = mounts::clean_paths(linux.readonly_paths().as_deref().unwrap_or(&[]), "linux.readonlyPaths")?;
    Ok(RootfsPlan {
        bundle: bundle.dir.clone(),
        path: bundle.rootfs.clone(),
        readonly,
        propagation,
        no_pivot: opts.no_pivot,
        detached: !ns.own_mount,
        mounts,
        populate_dev,
        devices,
        // runc binds device nodes whenever the container or the runtime is in a user namespace.
        userns: ns.in_userns() || host.in_userns,
        masked,
        readonly_paths,
        cwd: spec.process().as_ref().and_then(|p| mounts::clean_dest(p.cwd(), "process.cwd").ok()),
    })
}

impl Plan {
    /// The hooks the runtime runs while the child waits: prestart (deprecated), then createRuntime.
    pub(crate) fn runtime_hooks(&self) -> Vec<oci_spec::runtime::Hook> {
        let h = &self.hooks;
        h.prestart().iter().flatten().chain(h.create_runtime().iter().flatten()).cloned().collect()
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod security_tests;
