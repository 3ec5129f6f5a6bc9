//! Which namespaces the container creates and which it joins by path, and the clone strategy.

use std::path::PathBuf;

use oci_spec::runtime::{Linux, LinuxNamespaceType};

use super::userns::{self, IdMaps};

use crate::error::{Error, Result};
use crate::host::HostInfo;
use crate::rootless::{self, MapWriters};

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
    /// A new user namespace made by unshare after the joins (namespaces joined by path belong to
    /// the host's user namespace: setns into them needs the host's capabilities).
    pub(crate) unshare_user: bool,
    /// Id maps of a new user namespace, written by the runtime when the child asks.
    pub(crate) id_maps: Option<IdMaps>,
    /// How the runtime writes them (directly, or through newuidmap/newgidmap when rootless).
    pub(crate) map_writers: MapWriters,
    /// Mappings given with a user namespace joined by path: the child checks that they hold.
    pub(crate) joined_maps: Option<IdMaps>,
    /// Flags unshared by the child after joining its cgroup and its user namespace (the cgroup
    /// namespace must be created after the move, or its root would be the runtime's cgroup; a
    /// time namespace takes offsets before any process enters it).
    pub(crate) unshare_flags: i32,
    /// Text for /proc/self/timens_offsets of a new time namespace.
    pub(crate) time_offsets: Option<String>,
    /// Namespaces joined by path, in the order they must be entered (user first, mount last).
    pub(crate) join: Vec<NsJoin>,
    /// A pid namespace joined or unshared, or a new time namespace, only affects children: the
    /// child forks once more.
    pub(crate) second_fork: bool,
    /// The container has a pid namespace of its own.
    pub(crate) own_pid_ns: bool,
    /// A UTS namespace created or joined by path: either is the container's own for hostname and
    /// domainname (runc sets them in a joined one too).
    pub(crate) own_uts: bool,
    pub(crate) new_net: bool,
    pub(crate) new_mount: bool,
    /// A mount namespace created or joined: without one the container shares the caller's, and
    /// its root is a detached copy of the rootfs that is never attached there (rootfs/pivot.rs).
    pub(crate) own_mount: bool,
    pub(crate) new_cgroup: bool,
}

impl NamespacePlan {
    /// Every namespace type the container has, created or joined.
    pub(crate) fn all_flags(&self) -> i32 {
        let user = if self.id_maps.is_some() { libc::CLONE_NEWUSER } else { 0 };
        self.clone_flags as i32 | self.unshare_flags | user | self.join.iter().fold(0, |a, j| a | j.nstype)
    }

    /// The container runs in a user namespace of its own or a joined one.
    pub(crate) fn in_userns(&self) -> bool {
        self.all_flags() & libc::CLONE_NEWUSER != 0
    }
}

fn flag_of(t: LinuxNamespaceType) -> (i32, &'static str) {
    match t {
        LinuxNamespaceType::Pid => (libc::CLONE_NEWPID, "pid"),
        LinuxNamespaceType::Network => (libc::CLONE_NEWNET, "network"),
        LinuxNamespaceType::Mount => (libc::CLONE_NEWNS, "mount"),
        LinuxNamespaceType::Ipc => (libc::CLONE_NEWIPC, "ipc"),
        LinuxNamespaceType::Uts => (libc::CLONE_NEWUTS, "uts"),
        LinuxNamespaceType::Cgroup => (libc::CLONE_NEWCGROUP, "cgroup"),
        LinuxNamespaceType::User => (libc::CLONE_NEWUSER, "user"),
        LinuxNamespaceType::Time => (libc::CLONE_NEWTIME, "time"),
    }
}

/// Order of entry for joined namespaces: user first (it grants the rights to enter the ones it
/// owns), mount last, because after it host paths change meaning.
fn join_rank(nstype: i32) -> u8 {
    match nstype {
        libc::CLONE_NEWUSER => 0,
        libc::CLONE_NEWIPC => 1,
        libc::CLONE_NEWUTS => 2,
        libc::CLONE_NEWNET => 3,
        libc::CLONE_NEWPID => 4,
        libc::CLONE_NEWCGROUP => 5,
        libc::CLONE_NEWTIME => 6,
        _ => 7,
    }
}

/// Namespaces created late, by unshare, even without a user namespace.
const LATE: i32 = libc::CLONE_NEWCGROUP | libc::CLONE_NEWTIME;

pub(crate) fn plan(linux: &Linux, host: &HostInfo) -> Result<NamespacePlan> {
    let mut p = NamespacePlan::default();
    let mut new = 0i32;
    let mut seen = 0i32;
    for ns in linux.namespaces().as_deref().unwrap_or(&[]) {
        let (flag, kind) = flag_of(ns.typ());
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
            }
            _ => new |= flag,
        }
    }
    if host.caller.is_some() && seen & libc::CLONE_NEWUSER == 0 {
        // Without a user namespace of its own an unprivileged runtime holds no capability at all.
        return Err(Error::InvalidConfig("rootless container requires user namespaces".into()));
    }
    user_plan(&mut p, linux, new, seen)?;
    if p.id_maps.is_some() {
        let uids = linux.uid_mappings().as_deref().unwrap_or(&[]);
        let gids = linux.gid_mappings().as_deref().unwrap_or(&[]);
        p.map_writers = rootless::writers(host.caller.as_ref(), uids, gids)?;
    }
    time_plan(&mut p, linux, new)?;
    let joined = p.join.iter().fold(0, |a, j| a | j.nstype);
    // Namespaces joined by path belong to the host's user namespace (or the joined one): the
    // namespaces a user namespace owns are made after entering it, by unshare.
    let staged =
        seen & libc::CLONE_NEWUSER != 0 && joined & !libc::CLONE_NEWUSER != 0 || joined & libc::CLONE_NEWUSER != 0;
    let rest = new & !libc::CLONE_NEWUSER;
    if staged {
        p.unshare_user = new & libc::CLONE_NEWUSER != 0;
        p.unshare_flags = rest;
        p.second_fork = rest & libc::CLONE_NEWPID != 0;
    } else {
        // A new time namespace needs a fork after its unshare; the process that forks must not be
        // the init of a new pid namespace (its exit would kill the namespace), so the pid
        // namespace is unshared with it.
        let late = if new & libc::CLONE_NEWTIME != 0 { LATE | libc::CLONE_NEWPID } else { LATE };
        p.clone_flags = (new & !late) as u64;
        p.unshare_flags = rest & late;
    }
    p.second_fork |= joined & libc::CLONE_NEWPID != 0 || new & libc::CLONE_NEWTIME != 0;
    p.own_pid_ns = seen & libc::CLONE_NEWPID != 0;
    p.own_uts = seen & libc::CLONE_NEWUTS != 0;
    p.new_net = new & libc::CLONE_NEWNET != 0;
    p.new_mount = new & libc::CLONE_NEWNS != 0;
    p.own_mount = seen & libc::CLONE_NEWNS != 0;
    p.new_cgroup = new & libc::CLONE_NEWCGROUP != 0;
    p.join.sort_by_key(|j| join_rank(j.nstype));
    Ok(p)
}

/// linux.uidMappings/gidMappings against the user namespace entry (runc's rules and wording).
fn user_plan(p: &mut NamespacePlan, linux: &Linux, new: i32, seen: i32) -> Result<()> {
    let uids = linux.uid_mappings().as_deref().unwrap_or(&[]);
    let gids = linux.gid_mappings().as_deref().unwrap_or(&[]);
    let has_maps = !uids.is_empty() || !gids.is_empty();
    if seen & libc::CLONE_NEWUSER == 0 {
        if has_maps {
            return Err(Error::InvalidConfig(
                "user namespace mappings specified, but user namespace isn't enabled in the config".into(),
            ));
        }
        return Ok(());
    }
    if new & libc::CLONE_NEWUSER != 0 {
        if !has_maps {
            return Err(Error::InvalidConfig(
                "user namespaces enabled, but no namespace path to join nor mappings to apply specified".into(),
            ));
        }
        p.id_maps = Some(userns::id_maps(uids, gids)?);
    } else if has_maps {
        p.joined_maps = Some(IdMaps {
            uid_map: userns::map_text(uids, "linux.uidMappings")?,
            gid_map: userns::map_text(gids, "linux.gidMappings")?,
        });
    }
    Ok(())
}

/// linux.timeOffsets need a new time namespace: offsets are set before any process enters it.
fn time_plan(p: &mut NamespacePlan, linux: &Linux, new: i32) -> Result<()> {
    let offsets = linux.time_offsets().as_ref().filter(|o| !o.is_empty());
    match offsets {
        Some(_) if new & libc::CLONE_NEWTIME == 0 => {
            Err(Error::InvalidConfig("linux.timeOffsets: needs a new time namespace (not joined by path)".into()))
        }
        Some(o) => {
            p.time_offsets = Some(userns::time_offsets(o)?);
            Ok(())
        }
        None => Ok(()),
    }
}

/// One host interface to move into the container: its host name and its name inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NetDevice {
    pub(crate) host_name: String,
    pub(crate) name: String,
}

fn check_ifname(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.len() > 15
        || name == "."
        || name == ".."
        || name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0');
    if bad {
        return Err(Error::InvalidConfig(format!("linux.netDevices: invalid interface name {name:?}")));
    }
    Ok(())
}

/// linux.netDevices: moved into the container's own network namespace (runc's rule), by the child
/// with the host's capabilities, so not from inside a user namespace.
pub(crate) fn net_devices(linux: &Linux, ns: &NamespacePlan) -> Result<Vec<NetDevice>> {
    let Some(map) = linux.net_devices().as_ref().filter(|m| !m.is_empty()) else { return Ok(Vec::new()) };
    if !ns.new_net {
        return Err(Error::InvalidConfig("linux.netDevices: needs a new network namespace".into()));
    }
    if ns.in_userns() {
        return Err(Error::NotSupported("linux.netDevices with a user namespace".into()));
    }
    let mut out: Vec<NetDevice> = Vec::new();
    let mut hosts: Vec<&String> = map.keys().collect();
    hosts.sort();
    for host in hosts {
        let name = map[host].name().clone().filter(|n| !n.is_empty()).unwrap_or_else(|| host.clone());
        check_ifname(host)?;
        check_ifname(&name)?;
        if out.iter().any(|d| d.name == name) {
            return Err(Error::InvalidConfig(format!("linux.netDevices: two devices named {name:?} inside")));
        }
        out.push(NetDevice { host_name: host.clone(), name });
    }
    Ok(out)
}
