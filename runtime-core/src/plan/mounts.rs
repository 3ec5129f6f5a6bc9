//! Mount entries: option strings to mount attributes, filesystem data, propagation and recursive
//! attributes; destinations normalised to paths relative to the rootfs.

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxIdMapping, Mount};

use super::namespaces::NamespacePlan;
use super::userns::{self, IdMaps};
use crate::error::{Error, Result};
use crate::host::HostInfo;
use libc::{
    MOUNT_ATTR_NOATIME as ATTR_NOATIME, MOUNT_ATTR_NODEV as ATTR_NODEV, MOUNT_ATTR_NODIRATIME as ATTR_NODIRATIME,
    MOUNT_ATTR_NOEXEC as ATTR_NOEXEC, MOUNT_ATTR_NOSUID as ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW as ATTR_NOSYMFOLLOW,
    MOUNT_ATTR_RDONLY as ATTR_RDONLY, MOUNT_ATTR_RELATIME as ATTR_RELATIME, MOUNT_ATTR_STRICTATIME as ATTR_STRICTATIME,
    MOUNT_ATTR__ATIME as ATTR_ATIME_MASK,
};

/// Read-only and inert: what masking tmpfs and read-only paths get.
pub(crate) const ATTR_LOCKED_DOWN: u64 = ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC;

/// Mount attributes (MOUNT_ATTR_*) plus propagation, as `mount_setattr` takes them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MountAttr {
    /// Attributes to set.
    pub(crate) set: u64,
    /// Attributes to clear.
    pub(crate) clr: u64,
    /// MS_PRIVATE, MS_SHARED, MS_SLAVE or MS_UNBINDABLE, or 0.
    pub(crate) propagation: u64,
}

impl MountAttr {
    /// The three values `sys::mount::mount_setattr` takes.
    pub(crate) fn raw(self) -> [u64; 3] {
        [self.set, self.clr, self.propagation]
    }
}

/// What kind of mount a step makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountKind {
    /// A bind mount of a host path (relative sources are relative to the bundle).
    Bind { source: PathBuf, recursive: bool },
    /// A new filesystem instance.
    Fs {
        fstype: String,
        source: String,
        /// fsconfig parameters: key and optional value (a flag when `None`).
        data: Vec<(String, Option<String>)>,
    },
    /// cgroup v1: a tmpfs with one cgroup hierarchy per controller under it.
    CgroupV1Tree,
}

/// One resolved mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountStep {
    /// Destination relative to the rootfs, without leading "/" ("" never: "/" is refused).
    pub(crate) dest: String,
    pub(crate) kind: MountKind,
    /// Attributes of the mount itself.
    pub(crate) attr: MountAttr,
    /// Attributes applied recursively (rro, rnosuid...), via mount_setattr(AT_RECURSIVE).
    pub(crate) rattr: MountAttr,
    /// Propagation after attaching (MS_* flag) and whether recursive.
    pub(crate) propagation: Option<(u64, bool)>,
    /// tmpfs only (`tmpcopyup`): starts with the content of the directory it covers.
    pub(crate) copy_up: bool,
    /// An idmapped bind mount: the maps of the user namespace it is mapped through.
    pub(crate) idmap: Option<MountIdmap>,
    /// `ro`/`rro` taken out of `attr`/`rattr` to be applied once the rootfs and the console are
    /// done (recursive: `rro`): /dev and tmpfs mounts get files and mounts put in them (runc).
    pub(crate) late_ro: Option<bool>,
}

/// The id mapping of an idmapped mount (made by the runtime before the clone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountIdmap {
    pub(crate) maps: IdMaps,
    /// `ridmap`: the mapping applies to every mount of the tree.
    pub(crate) recursive: bool,
}

fn attr_opt(o: &str) -> Option<(u64, u64)> {
    // (set, clear)
    Some(match o {
        "ro" => (ATTR_RDONLY, 0),
        "rw" => (0, ATTR_RDONLY),
        "nosuid" => (ATTR_NOSUID, 0),
        "suid" => (0, ATTR_NOSUID),
        "nodev" => (ATTR_NODEV, 0),
        "dev" => (0, ATTR_NODEV),
        "noexec" => (ATTR_NOEXEC, 0),
        "exec" => (0, ATTR_NOEXEC),
        "noatime" => (ATTR_NOATIME, ATTR_ATIME_MASK),
        "atime" | "relatime" | "norelatime" | "nostrictatime" => (ATTR_RELATIME, ATTR_ATIME_MASK),
        "strictatime" => (ATTR_STRICTATIME, ATTR_ATIME_MASK),
        "nodiratime" => (ATTR_NODIRATIME, 0),
        "diratime" => (0, ATTR_NODIRATIME),
        "nosymfollow" => (ATTR_NOSYMFOLLOW, 0),
        "symfollow" => (0, ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

fn propagation_opt(o: &str) -> Option<(u64, bool)> {
    Some(match o {
        "private" => (libc::MS_PRIVATE, false),
        "rprivate" => (libc::MS_PRIVATE, true),
        "shared" => (libc::MS_SHARED, false),
        "rshared" => (libc::MS_SHARED, true),
        "slave" => (libc::MS_SLAVE, false),
        "rslave" => (libc::MS_SLAVE, true),
        "unbindable" => (libc::MS_UNBINDABLE, false),
        "runbindable" => (libc::MS_UNBINDABLE, true),
        _ => return None,
    })
}

/// Superblock flags, passed to fsconfig as flags on new filesystems.
fn sb_flag(o: &str) -> bool {
    matches!(o, "sync" | "async" | "dirsync" | "mand" | "nomand" | "lazytime" | "nolazytime")
}

fn set(a: &mut MountAttr, (s, c): (u64, u64)) {
    a.set = (a.set & !c) | s;
    a.clr = (a.clr & !s) | c;
}

/// Normalises a destination to a clean path relative to the rootfs, refusing NULs and "/".
pub(crate) fn clean_dest(dest: &Path, field: &str) -> Result<String> {
    let s = dest.to_str().ok_or_else(|| Error::InvalidConfig(format!("{field}: not UTF-8")))?;
    if s.contains('\0') {
        return Err(Error::InvalidConfig(format!("{field}: {s:?} contains a NUL byte")));
    }
    if !dest.is_absolute() {
        return Err(Error::InvalidConfig(format!("{field}: {s:?} must be an absolute path")));
    }
    // Lexical cleaning only: ".." is resolved inside the root later, where it cannot escape.
    let mut parts: Vec<&str> = Vec::new();
    for c in dest.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        return Err(Error::InvalidConfig(format!("{field}: cannot mount over the root {s:?}")));
    }
    Ok(parts.join("/"))
}

/// maskedPaths and readonlyPaths: a relative entry is taken from the container's "/" (runc
/// accepts them and applies them once inside the new root, whose "/" is its cwd).
pub(crate) fn clean_paths(paths: &[String], field: &str) -> Result<Vec<String>> {
    paths
        .iter()
        .map(|p| match p.starts_with('/') {
            true => clean_dest(Path::new(p), field),
            false => clean_dest(Path::new(&format!("/{p}")), field),
        })
        .collect()
}

/// Propagation of "/" in the container (rootfsPropagation); runc's default is rslave.
pub(crate) fn root_propagation(v: Option<&str>) -> Result<u64> {
    match v {
        None | Some("") => Ok(libc::MS_SLAVE | libc::MS_REC),
        Some(o) => match propagation_opt(o) {
            Some((f, rec)) => Ok(if rec { f | libc::MS_REC } else { f }),
            None => Err(Error::InvalidConfig(format!("linux.rootfsPropagation: unknown value {o:?}"))),
        },
    }
}

/// Resolves every mount of the spec.
pub(crate) fn plan(mounts: &[Mount], bundle: &Path, ns: &NamespacePlan, host: &HostInfo) -> Result<Vec<MountStep>> {
    mounts.iter().map(|m| one(m, bundle, ns, host)).collect()
}

fn one(m: &Mount, bundle: &Path, ns: &NamespacePlan, host: &HostInfo) -> Result<MountStep> {
    let field = format!("mounts[{}]", m.destination().display());
    let maps = match (m.uid_mappings(), m.gid_mappings()) {
        (None, None) => None,
        (Some(uid), Some(gid)) => Some((uid.as_slice(), gid.as_slice())),
        _ => return Err(Error::InvalidConfig(format!("{field}: uidMappings and gidMappings must be given together"))),
    };
    let dest = clean_dest(m.destination(), &field)?;
    let mut attr = MountAttr::default();
    let mut rattr = MountAttr::default();
    let mut propagation = None;
    let mut data = Vec::new();
    let mut bind = None;
    let mut copy_up = false;
    let mut idmap_opt = None;
    for o in m.options().as_deref().unwrap_or(&[]) {
        let o = o.as_str();
        if o.contains('\0') {
            return Err(Error::InvalidConfig(format!("{field}: option {o:?} contains a NUL byte")));
        }
        if let Some(a) = attr_opt(o) {
            set(&mut attr, a);
        } else if let Some(a) = o.strip_prefix('r').and_then(attr_opt) {
            set(&mut rattr, a);
        } else if let Some(p) = propagation_opt(o) {
            propagation = Some(p);
        } else if o == "bind" || o == "rbind" {
            bind = Some(o == "rbind");
        } else if o == "remount" || o == "defaults" {
            // "defaults" means nothing; "remount" on a fresh mount is what we do anyway.
        } else if o == "tmpcopyup" {
            copy_up = true;
        } else if o == "idmap" || o == "ridmap" {
            idmap_opt = Some(o == "ridmap");
        } else if matches!(o, "copy-symlink" | "src-nofollow") {
            return Err(Error::NotSupported(format!("{field}: option {o}")));
        } else if sb_flag(o) {
            data.push((o.to_owned(), None));
        } else {
            match o.split_once('=') {
                Some((k, v)) => data.push((k.to_owned(), Some(v.to_owned()))),
                None => data.push((o.to_owned(), None)),
            }
        }
    }
    let typ = m.typ().as_deref().unwrap_or("");
    let source = m.source().as_ref().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if source.contains('\0') || typ.contains('\0') {
        return Err(Error::InvalidConfig(format!("{field}: source or type contains a NUL byte")));
    }
    if copy_up && (typ != "tmpfs" || bind.is_some()) {
        return Err(Error::NotSupported(format!("{field}: option tmpcopyup on a mount that is not a tmpfs")));
    }
    let kind = if let Some(recursive) = bind.or((typ == "bind").then_some(false)) {
        // A bind has no filesystem of its own to take data (mode=, size=, uid=...): ignored, as
        // mount(2) ignores it with MS_BIND (runc passes it there).
        if source.is_empty() {
            return Err(Error::InvalidConfig(format!("{field}: bind mount without a source")));
        }
        MountKind::Bind { source: bundle.join(&source), recursive }
    } else if typ == "sysfs" && !ns.new_net {
        // A sysfs instance belongs to a network namespace the container does not own: bind the host's.
        MountKind::Bind { source: "/sys".into(), recursive: true }
    } else if typ == "cgroup" && host.cgroups.version() == crate::cgroups::Version::V1 {
        MountKind::CgroupV1Tree
    } else if typ.is_empty() {
        return Err(Error::InvalidConfig(format!("{field}: no type and no bind option")));
    } else {
        let fstype = if typ == "cgroup" { "cgroup2" } else { typ };
        MountKind::Fs { fstype: fstype.to_owned(), source, data }
    };
    let idmap = idmap_plan(&field, &kind, idmap_opt, maps, ns)?;
    let late_ro = match &kind {
        MountKind::Fs { fstype, .. } if fstype == "tmpfs" || dest == "dev" => late_readonly(&mut attr, &mut rattr),
        _ => None,
    };
    Ok(MountStep { dest, kind, attr, rattr, propagation, copy_up, idmap, late_ro })
}

/// Takes `ro`/`rro` out of the attributes, to be set after the mount was filled.
fn late_readonly(attr: &mut MountAttr, rattr: &mut MountAttr) -> Option<bool> {
    let (ro, rro) = (attr.set & ATTR_RDONLY != 0, rattr.set & ATTR_RDONLY != 0);
    attr.set &= !ATTR_RDONLY;
    rattr.set &= !ATTR_RDONLY;
    (ro || rro).then_some(rro)
}

/// runtime-spec 1.2 idmapped mounts: bind mounts only; mappings of their own, or the container's
/// when only the `idmap`/`ridmap` option is given.
fn idmap_plan(
    field: &str,
    kind: &MountKind,
    opt: Option<bool>,
    maps: Option<(&[LinuxIdMapping], &[LinuxIdMapping])>,
    ns: &NamespacePlan,
) -> Result<Option<MountIdmap>> {
    if opt.is_none() && maps.is_none() {
        return Ok(None);
    }
    let MountKind::Bind { recursive: rbind, .. } = kind else {
        return Err(Error::InvalidConfig(format!("{field}: idmapped mounts are only for bind mounts")));
    };
    let maps = match maps {
        Some((uid, gid)) => {
            if uid.is_empty() || gid.is_empty() {
                return Err(Error::InvalidConfig(format!("{field}: empty uidMappings or gidMappings")));
            }
            IdMaps {
                uid_map: userns::map_text(uid, &format!("{field}.uidMappings"))?,
                gid_map: userns::map_text(gid, &format!("{field}.gidMappings"))?,
            }
        }
        None => ns.id_maps.clone().ok_or_else(|| {
            Error::InvalidConfig(format!("{field}: idmap without mappings needs a new user namespace with mappings"))
        })?,
    };
    Ok(Some(MountIdmap { maps, recursive: opt.unwrap_or(*rbind) }))
}

/// linux.mountLabel: the SELinux context of every new filesystem that takes one (runc leaves
/// proc, sysfs and cgroup mounts alone).
pub(crate) fn apply_mount_label(mounts: &mut [MountStep], label: &str) {
    for m in mounts {
        if let MountKind::Fs { fstype, data, .. } = &mut m.kind {
            if !matches!(fstype.as_str(), "proc" | "sysfs" | "cgroup" | "cgroup2") {
                data.push(("context".into(), Some(format!("\"{label}\""))));
            }
        }
    }
}
