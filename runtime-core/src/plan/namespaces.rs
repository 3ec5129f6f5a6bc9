//! Which namespaces the container creates and which it joins by path, and the clone strategy.

use std::path::PathBuf;

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::error::{Error, Result};
use crate::host::HostInfo;

/// A namespace to join: its CLONE_NEW* type and the host path of its nsfs file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NsJoin {
    pub(crate) nstype: i32,
    pub(crate) kind: &'static str,
    pub(crate) path: PathBuf,
}

/// The namespace plan.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct NamespacePlan {
    /// CLONE_NEW* flags given to clone3 (namespaces created with the process).
    pub(crate) clone_flags: u64,
    /// Flags unshared by the child after joining its cgroup (the cgroup namespace must be
    /// created after the move, or its root would be the runtime's cgroup).
    pub(crate) unshare_flags: i32,
    /// Namespaces joined by path, in the order they must be entered (mount last).
    pub(crate) join: Vec<NsJoin>,
    /// Joining a pid namespace only affects children: the child forks once more.
    pub(crate) second_fork: bool,
    /// The container has a pid namespace of its own.
    pub(crate) own_pid_ns: bool,
    pub(crate) new_uts: bool,
    pub(crate) new_net: bool,
    pub(crate) new_mount: bool,
    pub(crate) new_cgroup: bool,
}

impl NamespacePlan {
    /// Every namespace type the container has, created or joined.
    pub(crate) fn all_flags(&self) -> i32 {
        self.clone_flags as i32 | self.unshare_flags | self.join.iter().fold(0, |a, j| a | j.nstype)
    }
}

fn flag_of(t: LinuxNamespaceType) -> Result<(i32, &'static str)> {
    Ok(match t {
        LinuxNamespaceType::Pid => (libc::CLONE_NEWPID, "pid"),
        LinuxNamespaceType::Network => (libc::CLONE_NEWNET, "network"),
        LinuxNamespaceType::Mount => (libc::CLONE_NEWNS, "mount"),
        LinuxNamespaceType::Ipc => (libc::CLONE_NEWIPC, "ipc"),
        LinuxNamespaceType::Uts => (libc::CLONE_NEWUTS, "uts"),
        LinuxNamespaceType::Cgroup => (libc::CLONE_NEWCGROUP, "cgroup"),
        LinuxNamespaceType::User => return Err(Error::NotSupported("linux.namespaces: user".into())),
        LinuxNamespaceType::Time => return Err(Error::NotSupported("linux.namespaces: time".into())),
    })
}

/// Order of entry for joined namespaces: mount last, because after it host paths change meaning.
fn join_rank(nstype: i32) -> u8 {
    match nstype {
        libc::CLONE_NEWIPC => 0,
        libc::CLONE_NEWUTS => 1,
        libc::CLONE_NEWNET => 2,
        libc::CLONE_NEWPID => 3,
        libc::CLONE_NEWCGROUP => 4,
        _ => 5,
    }
}

pub(crate) fn plan(list: &[LinuxNamespace], _host: &HostInfo) -> Result<NamespacePlan> {
    let mut p = NamespacePlan::default();
    let mut seen = 0i32;
    for ns in list {
        let (flag, kind) = flag_of(ns.typ())?;
        if seen & flag != 0 {
            return Err(Error::InvalidConfig(format!("linux.namespaces: {kind} listed twice")));
        }
        seen |= flag;
        match ns.path() {
            Some(path) if !path.as_os_str().is_empty() => {
                if !path.is_absolute() {
                    return Err(Error::InvalidConfig(format!("linux.namespaces: {kind} path must be absolute")));
                }
                p.join.push(NsJoin { nstype: flag, kind, path: path.clone() });
                if flag == libc::CLONE_NEWPID {
                    p.second_fork = true;
                    p.own_pid_ns = true;
                }
            }
            _ => {
                match flag {
                    libc::CLONE_NEWCGROUP => p.unshare_flags |= flag,
                    _ => p.clone_flags |= flag as u64,
                }
                match flag {
                    libc::CLONE_NEWPID => p.own_pid_ns = true,
                    libc::CLONE_NEWUTS => p.new_uts = true,
                    libc::CLONE_NEWNET => p.new_net = true,
                    libc::CLONE_NEWNS => p.new_mount = true,
                    libc::CLONE_NEWCGROUP => p.new_cgroup = true,
                    _ => {}
                }
            }
        }
    }
    if seen & libc::CLONE_NEWNS == 0 {
        // Without a mount namespace the rootfs setup would change the host's mounts.
        return Err(Error::InvalidConfig("linux.namespaces: a mount namespace is required".into()));
    }
    p.join.sort_by_key(|j| join_rank(j.nstype));
    Ok(p)
}
