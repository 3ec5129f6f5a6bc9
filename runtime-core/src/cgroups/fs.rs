//! The container's cgroup on the filesystem: directories created from a [`CgroupPlan`], limit
//! files written through directory fds, the fds the child joins with, update and removal.
//!
//! Removal rule: `destroy` removes each leaf directory (and any sub-cgroups below it, which
//! `rmdir` only allows once they hold no process), then the parent directories this runtime
//! created for it, from the leaf upwards, stopping at the first one that is not empty. Parents
//! are only known when the `Cgroup` came from [`Cgroup::create`] or [`Cgroup::load_created`];
//! after a plain [`Cgroup::load`] only the leaf is removed, as runc does, because a parent that
//! exists without our knowledge belongs to someone else (a pod cgroup, a slice).

use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{mkdirat, Mode};
use oci_spec::runtime::LinuxResources;

use super::{v1, v2, CgroupPlan, Driver, FsDriver, Version, Write, WriteMode};
use crate::error::{Step, SysError};

/// A container's cgroup: one directory per hierarchy, and the manager that owns it.
#[derive(Debug)]
pub(crate) struct Cgroup {
    driver: Box<dyn Driver>,
    /// A plan whose directories the driver makes only once the init's pid is known.
    pending: Option<CgroupPlan>,
    pub(super) version: Version,
    /// Hierarchy key (`memory`, `name=systemd`, `""` for cgroup2) -> the container's directory.
    pub(super) paths: BTreeMap<String, PathBuf>,
    /// Hierarchy key -> the top-most directory this runtime created on the way to the leaf.
    pub(super) created: BTreeMap<String, PathBuf>,
    /// One entry per distinct directory, opened at create (or at load where it exists).
    opened: Vec<Opened>,
}

#[derive(Debug)]
struct Opened {
    path: PathBuf,
    dir: OwnedFd,
    procs: OwnedFd,
}

pub(super) fn sys(op: impl Into<String>, path: &Path, errno: Errno) -> crate::Error {
    crate::Error::sys(Step::Cgroup, SysError::from_errno(op, Some(&path.display().to_string()), errno as i32))
}

pub(super) fn open_dir(path: &Path) -> crate::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    nix::fcntl::open(path, flags, Mode::empty()).map_err(|e| sys("open", path, e))
}

/// A permission error (the caller may not make or join the cgroup): skippable when rootless.
fn denied(e: &crate::Error) -> bool {
    matches!(e, crate::Error::Sys { source, .. } if [libc::EACCES, libc::EPERM, libc::EROFS].contains(&source.errno))
}

/// Whether the caller may write `file` in `dir` (checked with access(2)'s rules, by the real ids,
/// which are the effective ones for hull).
fn writable(dir: &Path, file: &str) -> bool {
    nix::unistd::access(&dir.join(file), nix::unistd::AccessFlags::W_OK).is_ok()
}

/// Writes `value` with a single write(2), as cgroup files require.
pub(super) fn write_at(dir: BorrowedFd<'_>, file: &str, value: &str) -> nix::Result<()> {
    let fd = openat(dir, file, OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW, Mode::empty())?;
    let n = nix::unistd::write(&fd, value.as_bytes())?;
    if n != value.len() {
        return Err(Errno::EIO);
    }
    Ok(())
}

pub(super) fn read_at(dir: BorrowedFd<'_>, file: &str) -> nix::Result<String> {
    let fd = openat(dir, file, OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW, Mode::empty())?;
    std::io::read_to_string(std::fs::File::from(fd)).map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// Reads `file` in the directory `dir`, with an error naming the file.
pub(super) fn read_file(dir: &Path, file: &str) -> crate::Result<String> {
    let fd = open_dir(dir)?;
    read_at(fd.as_fd(), file).map_err(|e| sys("read", &dir.join(file), e))
}

impl Cgroup {
    /// Creates the directories of `plan` (remembering which ones did not exist), applies its
    /// writes and opens the fds the child joins with. On failure nothing created is left.
    /// With a driver that needs the init's pid, nothing is made until [`Cgroup::start`].
    pub(crate) fn create(plan: &CgroupPlan) -> crate::Result<Cgroup> {
        let driver: Box<dyn Driver> = match &plan.systemd {
            Some(unit) => Box::new(super::systemd::SystemdDriver::new(unit)),
            None => Box::new(FsDriver),
        };
        let pending = driver.needs_pid().then(|| plan.clone());
        let mut cg = Cgroup {
            driver,
            pending,
            version: plan.version,
            paths: plan.dirs.iter().map(|d| (d.key.clone(), d.path.clone())).collect(),
            created: BTreeMap::new(),
            opened: Vec::new(),
        };
        if cg.pending.is_some() {
            return Ok(cg);
        }
        if let Err(e) = cg.build(plan) {
            // Only what this call created: a leaf that existed before is someone else's.
            for top in cg.created.values() {
                let _ = remove_tree(top);
            }
            return Err(e);
        }
        Ok(cg)
    }

    /// Whether the child must wait for [`Cgroup::start`] before its first step.
    pub(crate) fn needs_pid(&self) -> bool {
        self.pending.is_some()
    }

    /// With a driver that needs the init's pid: makes the cgroup around `pid`, then applies the
    /// plan's writes to its files. Nothing to do for the files driver. On failure the caller
    /// destroys the cgroup (the driver's part too).
    pub(crate) fn start(&mut self, pid: i32) -> crate::Result<()> {
        let Some(mut plan) = self.pending.clone() else { return Ok(()) };
        // Until the driver made it, the directory (if any) is not ours to remove: see destroy.
        self.driver.start(pid)?;
        self.pending = None;
        if let Some(base) = self.driver.cgroup_base() {
            for d in &plan.dirs {
                self.paths.remove(&d.key);
            }
            super::systemd::rebase_user_dirs(&mut plan, &base);
            self.paths.extend(plan.dirs.iter().map(|d| (d.key.clone(), d.path.clone())));
            if let Some(dir) = plan.dirs.iter().find(|d| d.key.is_empty()) {
                let controllers = read_file(&dir.path, "cgroup.controllers")?;
                super::systemd::check_delegated(&plan, &dir.path, &controllers)?;
            }
        }
        self.build(&plan)?;
        if self.version == Version::V1 {
            self.enter(pid)?;
        }
        Ok(())
    }

    /// Moves `pid` into the container's v1 directories: systemd placed it only in the
    /// hierarchies it manages. Its own tracking ones (`name=systemd`, the hybrid cgroup2) are
    /// left to it, as runc's legacy manager does. Then checks /proc/<pid>/cgroup: a process
    /// outside its directory in any hierarchy (systemd moving it meanwhile) fails the create.
    fn enter(&self, pid: i32) -> crate::Result<()> {
        let value = pid.to_string();
        let joined = |key: &String| !key.is_empty() && key != "name=systemd";
        for (_, path) in self.paths.iter().filter(|(k, _)| joined(k)) {
            let Some(o) = self.opened.iter().find(|o| &o.path == path) else { continue };
            match nix::unistd::write(&o.procs, value.as_bytes()) {
                Ok(n) if n == value.len() => {}
                Ok(_) => return Err(sys(format!("write {value:?} to"), &path.join("cgroup.procs"), Errno::EIO)),
                Err(e) => return Err(sys(format!("write {value:?} to"), &path.join("cgroup.procs"), e)),
            }
        }
        let text = crate::procfs::pid_file(pid, "cgroup").map_err(|e| crate::Error::sys(Step::Cgroup, e))?;
        for (key, path) in self.paths.iter().filter(|(k, _)| joined(k)) {
            if let Some(at) = super::v1::outside(&text, key, path) {
                return Err(crate::Error::sys(
                    Step::Cgroup,
                    SysError::check(
                        format!("join {key} cgroup"),
                        Some(&path.display().to_string()),
                        format!("the init is in {at} (moved by systemd?)"),
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The manager's name for the cgroup (a systemd unit), to keep in the state.
    pub(crate) fn unit(&self) -> Option<String> {
        self.driver.unit()
    }

    /// Whether [`Cgroup::unit`] is the caller's own systemd instance's, to keep in the state.
    pub(crate) fn user_manager(&self) -> bool {
        self.driver.user_manager()
    }

    fn build(&mut self, plan: &CgroupPlan) -> crate::Result<()> {
        for d in &plan.dirs {
            if self.opened.iter().any(|o| o.path == d.path) {
                // Co-mounted controllers (cpu,cpuacct) share one directory.
                let twin = self.paths.iter().find(|(k, p)| **p == d.path && self.created.contains_key(*k));
                if let Some(top) = twin.map(|(k, _)| self.created[k].clone()) {
                    self.created.insert(d.key.clone(), top);
                }
                continue;
            }
            let (dir, top) = match make_dirs(&d.mount_point, &d.path, &d.key, plan.version) {
                Err(e) if plan.skip_unreachable && denied(&e) => {
                    self.paths.remove(&d.key);
                    continue;
                }
                r => r?,
            };
            let procs = match openat(dir.as_fd(), "cgroup.procs", OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty()) {
                Ok(fd) => fd,
                Err(e) if plan.skip_unreachable && matches!(e, Errno::EACCES | Errno::EPERM | Errno::EROFS) => {
                    if let Some(top) = top {
                        let _ = remove_tree(&top);
                    }
                    self.paths.remove(&d.key);
                    continue;
                }
                Err(e) => {
                    if let Some(top) = top.clone() {
                        self.created.insert(d.key.clone(), top);
                    }
                    return Err(sys("open", &d.path.join("cgroup.procs"), e));
                }
            };
            if let Some(top) = top {
                self.created.insert(d.key.clone(), top);
            }
            self.opened.push(Opened { path: d.path.clone(), dir, procs });
        }
        let writes = self.reachable_writes(plan)?;
        self.apply(&writes)?;
        if let Some(program) = &plan.device_program {
            if plan.rootless && !self.paths.contains_key("") {
                return Ok(());
            }
            let path =
                self.paths.get("").ok_or_else(|| super::not_supported("device program without a cgroup2 path"))?;
            let dir = self.opened.iter().find(|o| &o.path == path).map(|o| o.dir.as_fd());
            let dir = dir.ok_or_else(|| super::not_supported("device program without a cgroup2 directory"))?;
            match crate::sys::cgroup::attach_device_program(dir, program, &path.display().to_string()) {
                // Attaching needs CAP_SYS_ADMIN in the initial user namespace.
                Err(e) if plan.rootless && e.errno == libc::EPERM => {}
                r => r.map_err(|e| crate::Error::sys(Step::Cgroup, e))?,
            }
        }
        Ok(())
    }

    /// The plan's writes for the hierarchies the container has. Rootless, runc's rules: device
    /// rules are dropped where the devices cgroup is missing or not writable; any other limit
    /// for a hierarchy that was left out fails.
    fn reachable_writes(&self, plan: &CgroupPlan) -> crate::Result<Vec<Write>> {
        let mut out = Vec::new();
        for w in &plan.writes {
            if self.paths.contains_key(&w.key) {
                let devices_denied = plan.rootless && w.key == "devices" && !writable(&self.paths[&w.key], &w.file);
                if !devices_denied {
                    out.push(w.clone());
                }
            } else if !(plan.rootless && w.key == "devices") {
                let controller = if w.key.is_empty() { w.file.split('.').next().unwrap_or("") } else { &w.key };
                return Err(crate::Error::sys(
                    Step::Cgroup,
                    SysError::check(
                        format!("cannot set {controller} limit"),
                        None,
                        "container could not join or create cgroup (rootless: no cgroup this user may write; \
                         see README, Rootless)",
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// The cgroup of a container created earlier, from the paths stored in its state. Only
    /// the leaf directories will be removed by [`Cgroup::destroy`].
    pub(crate) fn load(paths: &BTreeMap<String, PathBuf>) -> Cgroup {
        Self::load_created(paths, &BTreeMap::new(), None, false)
    }

    /// Like [`Cgroup::load`], with the directories [`Cgroup::created`] reported at create time,
    /// so that `destroy` also removes the parents made for this container. An entry that is not
    /// the leaf or one of its ancestors is ignored. `unit` and `user` are what [`Cgroup::unit`]
    /// and [`Cgroup::user_manager`] reported.
    pub(crate) fn load_created(
        paths: &BTreeMap<String, PathBuf>,
        created: &BTreeMap<String, PathBuf>,
        unit: Option<&str>,
        user: bool,
    ) -> Cgroup {
        let version = if paths.keys().all(|k| k.is_empty()) { Version::V2 } else { Version::V1 };
        let created = created
            .iter()
            .filter(|(k, top)| paths.get(*k).is_some_and(|p| p.starts_with(top) && top.components().count() > 1))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut opened: Vec<Opened> = Vec::new();
        for path in paths.values() {
            if opened.iter().any(|o| &o.path == path) {
                continue;
            }
            let Ok(dir) = open_dir(path) else { continue };
            let flags = OFlag::O_WRONLY | OFlag::O_CLOEXEC;
            if let Ok(procs) = openat(dir.as_fd(), "cgroup.procs", flags, Mode::empty()) {
                opened.push(Opened { path: path.clone(), dir, procs });
            }
        }
        Cgroup {
            driver: super::driver_for(unit, version, user),
            pending: None,
            version,
            paths: paths.clone(),
            created,
            opened,
        }
    }

    /// `cgroup.procs` of each distinct directory, opened write-only: the child writes "0" into
    /// each to join before it does anything else.
    pub(crate) fn procs_fds(&self) -> Vec<BorrowedFd<'_>> {
        self.opened.iter().map(|o| o.procs.as_fd()).collect()
    }

    /// The cgroup directory on a pure v2 host, for clone3's CLONE_INTO_CGROUP.
    pub(crate) fn unified_dir_fd(&self) -> Option<BorrowedFd<'_>> {
        let path = self.paths.get("").filter(|_| self.version == Version::V2)?;
        self.opened.iter().find(|o| &o.path == path).map(|o| o.dir.as_fd())
    }

    /// Hierarchy key -> directory, as runc stores them in its state (`cgroup_paths`).
    pub(crate) fn paths(&self) -> BTreeMap<String, PathBuf> {
        self.paths.clone()
    }

    /// Hierarchy key -> the top-most directory created for this container; persist it beside
    /// [`Cgroup::paths`] and pass it to [`Cgroup::load_created`] so that delete removes them.
    pub(crate) fn created(&self) -> BTreeMap<String, PathBuf> {
        self.created.clone()
    }

    /// The directory used for listing processes and freezing: the cgroup2 one on v2, else the
    /// v1 `freezer` (or `devices`, which every v1 container has).
    pub(super) fn main_path(&self) -> Option<&Path> {
        let keys: &[&str] = match self.version {
            Version::V2 => &[""],
            Version::V1 => &["freezer", "devices", ""],
        };
        keys.iter().find_map(|k| self.paths.get(*k)).map(PathBuf::as_path)
    }

    /// Applies writes in order; EINVALs of `RetryOnEinval` writes are retried once at the end.
    fn apply(&self, writes: &[Write]) -> crate::Result<()> {
        let mut dirs: BTreeMap<&str, OwnedFd> = BTreeMap::new();
        for w in writes {
            let path =
                self.paths.get(&w.key).ok_or_else(|| super::not_supported(format!("cgroup controller {}", w.key)))?;
            if !dirs.contains_key(w.key.as_str()) {
                dirs.insert(&w.key, open_dir(path)?);
            }
        }
        let mut retry = Vec::new();
        for w in writes {
            let dir = dirs[w.key.as_str()].as_fd();
            match write_one(dir, w) {
                Err(Errno::EINVAL) if w.mode == WriteMode::RetryOnEinval => retry.push(w),
                Err(e) => return Err(write_error(&self.paths[&w.key], w, e)),
                Ok(()) if w.mode == WriteMode::Verify => verify(dir, &self.paths[&w.key], w)?,
                Ok(()) => {}
            }
        }
        for w in retry {
            write_one(dirs[w.key.as_str()].as_fd(), w).map_err(|e| write_error(&self.paths[&w.key], w, e))?;
        }
        Ok(())
    }

    /// Changes the limits of a created cgroup: only the resources present in `resources` are
    /// written. `memory.checkBeforeUpdate` refuses a limit below the current usage.
    pub(crate) fn update(&self, resources: &LinuxResources) -> crate::Result<()> {
        let writes = match self.version {
            Version::V1 => {
                // Device rules move by difference, not by reset: see `devices::v1_update_writes`.
                let mut rest = resources.clone();
                rest.set_devices(None);
                let mut writes = v1::writes(&rest, &self.paths.keys().cloned().collect::<Vec<_>>(), false)?;
                if let (Some(rules), Some(dir)) = (resources.devices(), self.paths.get("devices")) {
                    writes.splice(0..0, super::devices::v1_update_writes(&read_file(dir, "devices.list")?, rules)?);
                }
                writes
            }
            Version::V2 => {
                let dir = self.paths.get("").ok_or_else(|| super::not_supported("cgroup v2 without a path"))?;
                let ctrls = read_file(dir, "cgroup.controllers")?;
                v2::writes(resources, &ctrls.split_whitespace().map(str::to_owned).collect::<Vec<_>>())?
            }
        };
        self.check_before_update(resources)?;
        if self.version == Version::V1 && self.driver.unit().is_some() {
            // On v1 systemd applies a unit's device rules again on any property change, by
            // denying all first (runc's freezeBeforeSet): the container is frozen meanwhile so
            // that it cannot see a spurious EPERM.
            self.frozen_during(|| self.driver.set(resources))?;
        } else {
            self.driver.set(resources)?;
        }
        self.apply(&writes)?;
        match (self.version, resources.devices()) {
            (Version::V2, Some(rules)) => self.replace_device_program(rules),
            _ => Ok(()),
        }
    }

    /// New device rules on v2: the container's program is swapped for one built from `rules`.
    fn replace_device_program(&self, rules: &[oci_spec::runtime::LinuxDeviceCgroup]) -> crate::Result<()> {
        let program = super::bpf::v2_program(rules)?;
        let path = self.paths.get("").ok_or_else(|| super::not_supported("cgroup v2 without a path"))?;
        let dir = open_dir(path)?;
        crate::sys::cgroup::replace_device_program(dir.as_fd(), &program, &path.display().to_string())
            .map_err(|e| crate::Error::sys(Step::Cgroup, e))
    }

    fn check_before_update(&self, resources: &LinuxResources) -> crate::Result<()> {
        let Some(m) = resources.memory() else { return Ok(()) };
        let limit = m.limit().unwrap_or(0);
        if m.check_before_update() != Some(true) || limit <= 0 {
            return Ok(());
        }
        let (key, file) = match self.version {
            Version::V1 => ("memory", "memory.usage_in_bytes"),
            Version::V2 => ("", "memory.current"),
        };
        let Some(dir) = self.paths.get(key) else { return Ok(()) };
        let usage: i64 = read_file(dir, file)?.trim().parse().unwrap_or(0);
        if limit < usage {
            return Err(crate::Error::InvalidArgument(format!(
                "rejecting memory limit {limit} below current usage {usage}"
            )));
        }
        Ok(())
    }

    /// Removes the container's directories (see the module doc for which ones).
    pub(crate) fn destroy(&self) -> crate::Result<()> {
        let mut first_error = self.driver.stop().err();
        if self.pending.is_some() {
            return first_error.map_or(Ok(()), Err);
        }
        let mut done: Vec<&Path> = Vec::new();
        for (key, path) in &self.paths {
            if done.contains(&path.as_path()) {
                continue;
            }
            done.push(path);
            if let Err(e) = remove_tree(path) {
                first_error.get_or_insert(e);
                continue;
            }
            // The pure check first: usually the container's own directory is all we created,
            // and the two stats of `below_hierarchy_root` are not needed.
            let top = self.created.get(key).filter(|t| path.parent().is_some_and(|d| d.starts_with(t)));
            if let Some(top) = top.filter(|t| below_hierarchy_root(t)) {
                let mut dir = path.parent();
                while let Some(d) = dir.filter(|d| d.starts_with(top)) {
                    // ENOTEMPTY or EBUSY: another cgroup or process lives there now; keep it.
                    if rmdir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A hierarchy's root is a mount point: its parent lies on another filesystem. Everything
/// strictly below it shares the root's device.
fn below_hierarchy_root(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    matches!((dev(dir), dir.parent().and_then(dev)), (Some(a), Some(b)) if a == b)
}

/// Writes `w` (or its preferred alternative when that file exists).
fn write_one(dir: BorrowedFd<'_>, w: &Write) -> nix::Result<()> {
    if let Some((file, value)) = &w.prefer {
        match write_at(dir, file, value) {
            Err(Errno::ENOENT) => {}
            other => return other,
        }
    }
    match write_at(dir, &w.file, &w.value) {
        Err(Errno::ENOENT) if w.mode == WriteMode::IfExists => Ok(()),
        other => other,
    }
}

/// Fails when the kernel kept another value than the one written.
fn verify(dir: BorrowedFd<'_>, path: &Path, w: &Write) -> crate::Result<()> {
    let file = path.join(&w.file);
    let kept = read_at(dir, &w.file).map_err(|e| sys("read", &file, e))?;
    if kept.trim() == w.value {
        return Ok(());
    }
    // runc's wording: "the maximum allowed cpu-shares is 262144".
    let (asked, kept) = (w.value.parse::<i64>().unwrap_or(0), kept.trim());
    let bound = if asked > kept.parse().unwrap_or(0) { "maximum" } else { "minimum" };
    let detail = format!("the {bound} allowed {} is {kept}", w.file.replace('.', "-"));
    let op = format!("write {:?} to", w.value);
    Err(crate::Error::sys(Step::Cgroup, SysError::check(op, Some(&file.display().to_string()), detail)))
}

fn write_error(dir: &Path, w: &Write, e: Errno) -> crate::Error {
    sys(format!("write {:?} to", w.value), &dir.join(&w.file), e)
}

/// Creates `path` below `mount_point` one level at a time through dirfds. Returns the leaf's fd
/// and the top-most directory that did not exist before.
fn make_dirs(
    mount_point: &Path,
    path: &Path,
    key: &str,
    version: Version,
) -> crate::Result<(OwnedFd, Option<PathBuf>)> {
    let rel = path.strip_prefix(mount_point).map_err(|_| sys("outside its hierarchy", path, Errno::EINVAL))?;
    let mut dir = open_dir(mount_point)?;
    let mut current = mount_point.to_path_buf();
    let mut top = None;
    for name in rel.components() {
        if version == Version::V2 {
            enable_controllers(dir.as_fd());
        }
        current.push(name);
        let made = match mkdirat(dir.as_fd(), name.as_os_str(), Mode::from_bits_truncate(0o755)) {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(e) => return Err(sys("mkdir", &current, e)),
        };
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let child = openat(dir.as_fd(), name.as_os_str(), flags, Mode::empty()).map_err(|e| sys("open", &current, e));
        if made && top.is_none() {
            top = Some(current.clone());
        }
        let child = match child {
            Ok(c) => c,
            Err(e) => return Err(undo(top, e)),
        };
        if key == "cpuset" {
            // A new v1 cpuset starts with no cpus and mems, and no task can join it until set.
            // Done on every level, made by us or not: a concurrent create may have made the
            // directory and not filled it yet (copy_cpuset only fills what is empty).
            if let Err(e) = copy_cpuset(dir.as_fd(), child.as_fd(), &current) {
                return Err(undo(top, e));
            }
        }
        dir = child;
    }
    Ok((dir, top))
}

fn undo(top: Option<PathBuf>, e: crate::Error) -> crate::Error {
    if let Some(t) = top {
        let _ = remove_tree(&t);
    }
    e
}

fn copy_cpuset(parent: BorrowedFd<'_>, child: BorrowedFd<'_>, path: &Path) -> crate::Result<()> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let value = read_at(parent, file).map_err(|e| sys("read", &path.with_file_name(file), e))?;
        if read_at(child, file).unwrap_or_default().trim().is_empty() {
            write_at(child, file, value.trim())
                .map_err(|e| sys(format!("write {:?} to", value.trim()), &path.join(file), e))?;
        }
    }
    Ok(())
}

/// runc enables every available controller on the way down so that the leaf can use them; a
/// controller the parent cannot delegate is left out and reported by the write that needs it.
fn enable_controllers(dir: BorrowedFd<'_>) {
    let Ok(available) = read_at(dir, "cgroup.controllers") else { return };
    let all: Vec<String> = available.split_whitespace().map(|c| format!("+{c}")).collect();
    if all.is_empty() || write_at(dir, "cgroup.subtree_control", &all.join(" ")).is_ok() {
        return;
    }
    for c in &all {
        let _ = write_at(dir, "cgroup.subtree_control", c);
    }
}

/// Removes a cgroup directory and the cgroups below it, deepest first. rmdir of a cgroup fails
/// with EBUSY while its last processes are still exiting, so that is retried for about a second.
pub(super) fn remove_tree(path: &Path) -> crate::Result<()> {
    // Most containers have no sub-cgroups and no process left: one rmdir does it.
    match rmdir(path) {
        Ok(()) | Err(Errno::ENOENT) => return Ok(()),
        Err(_) => {}
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(crate::Error::sys(
                Step::Cgroup,
                SysError::io("read_dir", Some(&path.display().to_string()), &e),
            ))
        }
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    let mut delay = Duration::from_millis(10);
    loop {
        match rmdir(path) {
            Ok(()) | Err(Errno::ENOENT) => return Ok(()),
            Err(Errno::EBUSY) if delay < Duration::from_millis(640) => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(sys("rmdir", path, e)),
        }
    }
}

fn rmdir(path: &Path) -> nix::Result<()> {
    std::fs::remove_dir(path).map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}
