//! Pausing, resuming, listing and signalling every process of the container through its cgroup:
//! v1 `freezer.state`, v2 `cgroup.freeze`/`cgroup.events`/`cgroup.kill`.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::fs::{open_dir, read_at, read_file, sys, write_at};
use super::{not_supported, Cgroup, Version};

/// How long a v2 freeze may take before it is undone and reported.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

impl Cgroup {
    /// Freezes every process; returns once the kernel reports the cgroup frozen.
    pub(crate) fn freeze(&self) -> crate::Result<()> {
        match self.version {
            Version::V1 => self.freeze_v1(),
            Version::V2 => self.set_frozen_v2(true),
        }
    }

    /// Thaws a frozen cgroup (a no-op when it is not frozen).
    pub(crate) fn thaw(&self) -> crate::Result<()> {
        match self.version {
            Version::V1 => {
                let dir = self.freezer_path()?;
                let fd = open_dir(dir)?;
                write_at(fd.as_fd(), "freezer.state", "THAWED")
                    .map_err(|e| sys("write \"THAWED\" to", &dir.join("freezer.state"), e))
            }
            Version::V2 => self.set_frozen_v2(false),
        }
    }

    /// Whether the cgroup is frozen; a cgroup that no longer exists is not.
    pub(crate) fn is_frozen(&self) -> crate::Result<bool> {
        let (dir, file, frozen) = match self.version {
            Version::V1 => (self.freezer_path()?, "freezer.state", "FROZEN"),
            Version::V2 => (self.unified_path()?, "cgroup.freeze", "1"),
        };
        let fd = match open_dir(dir) {
            Ok(fd) => fd,
            Err(_) if !dir.exists() => return Ok(false),
            Err(e) => return Err(e),
        };
        match read_at(fd.as_fd(), file) {
            Ok(s) => Ok(s.trim() == frozen),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(sys("read", &dir.join(file), e)),
        }
    }

    /// Runs `f` with the cgroup frozen, unless it has no freezer (runc only warns then); a
    /// cgroup that was frozen already stays frozen.
    pub(super) fn frozen_during<T>(&self, f: impl FnOnce() -> crate::Result<T>) -> crate::Result<T> {
        if self.freezer_path().is_err() || self.is_frozen()? {
            return f();
        }
        self.freeze()?;
        let result = f();
        let thawed = self.thaw();
        let value = result?;
        thawed.map(|()| value)
    }

    /// Sends `signal` to every process in the cgroup. SIGKILL on v2 uses `cgroup.kill`, which
    /// cannot miss a process forked meanwhile; otherwise the cgroup is frozen around the
    /// listing and signalling so that no process escapes by forking, then thawed.
    pub(crate) fn kill_all(&self, signal: i32) -> crate::Result<()> {
        let sig =
            Signal::try_from(signal).map_err(|_| crate::Error::InvalidArgument(format!("invalid signal {signal}")))?;
        if self.version == Version::V2 && sig == Signal::SIGKILL {
            let dir = self.unified_path()?;
            let fd = open_dir(dir)?;
            match write_at(fd.as_fd(), "cgroup.kill", "1") {
                Ok(()) => return Ok(()),
                Err(Errno::ENOENT) => {} // before kernel 5.14
                Err(e) => return Err(sys("write \"1\" to", &dir.join("cgroup.kill"), e)),
            }
        }
        let was_frozen = self.is_frozen().unwrap_or(false);
        let frozen = self.freeze().is_ok();
        let result = self.pids().map(|pids| {
            for pid in pids {
                // ESRCH: it exited meanwhile.
                let _ = kill(Pid::from_raw(pid), sig);
            }
        });
        // A paused container stays paused (its processes see the signal on resume), except for
        // SIGKILL, which v1 frozen processes only act on once thawed.
        if frozen && (!was_frozen || sig == Signal::SIGKILL) {
            self.thaw()?;
        }
        result
    }

    /// Pids of every process in the cgroup and the cgroups below it (runc's GetAllPids).
    pub(crate) fn pids(&self) -> crate::Result<Vec<i32>> {
        let dir = self.main_path().ok_or_else(|| not_supported("listing processes without a cgroup"))?;
        let mut pids = Vec::new();
        collect_pids(dir, &mut pids)?;
        Ok(pids)
    }

    fn freezer_path(&self) -> crate::Result<&Path> {
        self.paths
            .get("freezer")
            .map(|p| p.as_path())
            .ok_or_else(|| not_supported("pause: no freezer cgroup controller on this host"))
    }

    fn unified_path(&self) -> crate::Result<&Path> {
        self.paths.get("").map(|p| p.as_path()).ok_or_else(|| not_supported("cgroup v2 without a path"))
    }

    /// v1 freezing can stay in FREEZING while processes fork; like runc, write FROZEN again and
    /// again, thawing briefly now and then, and give up (thawed) after five seconds: a count of
    /// tries alone gives up too soon on a loaded host, where each try is quick but the tasks are
    /// slow to reach the freezer.
    fn freeze_v1(&self) -> crate::Result<()> {
        let dir = self.freezer_path()?;
        let fd = open_dir(dir)?;
        let file = dir.join("freezer.state");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        for i in 0.. {
            if std::time::Instant::now() > deadline {
                break;
            }
            if i % 50 == 49 {
                let _ = write_at(fd.as_fd(), "freezer.state", "THAWED");
                std::thread::sleep(Duration::from_millis(10));
            }
            write_at(fd.as_fd(), "freezer.state", "FROZEN").map_err(|e| sys("write \"FROZEN\" to", &file, e))?;
            if i >= 25 {
                std::thread::sleep(Duration::from_micros(if i % 25 == 24 { 1000 } else { 100 }));
            }
            let state = read_at(fd.as_fd(), "freezer.state").map_err(|e| sys("read", &file, e))?;
            match state.trim() {
                "FROZEN" => return Ok(()),
                "FREEZING" => continue,
                other => {
                    return Err(sys(
                        format!("unexpected freezer state {other:?} after writing FROZEN to"),
                        &file,
                        Errno::EIO,
                    ))
                }
            }
        }
        let _ = write_at(fd.as_fd(), "freezer.state", "THAWED");
        Err(sys("freeze (stuck in FREEZING)", &file, Errno::EBUSY))
    }

    /// Writes cgroup.freeze and waits until cgroup.events reports the new state.
    fn set_frozen_v2(&self, frozen: bool) -> crate::Result<()> {
        let dir = self.unified_path()?;
        let fd = open_dir(dir)?;
        let value = if frozen { "1" } else { "0" };
        match write_at(fd.as_fd(), "cgroup.freeze", value) {
            Ok(()) => {}
            Err(Errno::ENOENT) => return Err(not_supported("pause: cgroup.freeze (kernel 5.2 or later)")),
            Err(e) => return Err(sys(format!("write {value:?} to"), &dir.join("cgroup.freeze"), e)),
        }
        let want = format!("frozen {value}");
        let start = Instant::now();
        let mut delay = Duration::from_micros(100);
        loop {
            let events = read_file(dir, "cgroup.events")?;
            if events.lines().any(|l| l.trim() == want) {
                return Ok(());
            }
            if start.elapsed() > FREEZE_TIMEOUT {
                if frozen {
                    let _ = write_at(fd.as_fd(), "cgroup.freeze", "0");
                }
                return Err(sys(format!("waiting for {want:?} in"), &dir.join("cgroup.events"), Errno::ETIMEDOUT));
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(10));
        }
    }
}

/// runc's checks of a cgroup that already exists before the container uses it: a frozen one is
/// refused (the init would freeze as it joins, and create would hang); processes already in it
/// only earn runc's warning, returned here.
pub(crate) fn check_existing(plan: &super::CgroupPlan) -> crate::Result<Option<String>> {
    let paths = plan.dirs.iter().map(|d| (d.key.clone(), d.path.clone())).collect();
    let cg = Cgroup::load(&paths);
    if cg.main_path().is_none_or(|p| !p.exists()) {
        return Ok(None);
    }
    // Without a freezer there is nothing that could be frozen.
    if cg.is_frozen().unwrap_or(false) {
        return Err(crate::Error::CgroupFrozen { path: cg.main_path().map(Path::to_path_buf).unwrap_or_default() });
    }
    let n = cg.pids().map(|p| p.len()).unwrap_or(0);
    Ok((n > 0).then(|| format!("container's cgroup is not empty: {n} process(es) found")))
}

fn collect_pids(dir: &Path, pids: &mut Vec<i32>) -> crate::Result<()> {
    let procs = read_file(dir, "cgroup.procs")?;
    pids.extend(procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    let entries =
        std::fs::read_dir(dir).map_err(|e| sys("read_dir", dir, Errno::from_raw(e.raw_os_error().unwrap_or(0))))?;
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&entry.path(), pids)?;
        }
    }
    Ok(())
}
