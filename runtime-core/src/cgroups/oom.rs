//! OOM notifications pushed by the kernel rather than polled: cgroup v2 `memory.events` raises
//! an inotify modification on every change (its `oom_kill` count tells a kill from other memory
//! events); cgroup v1 signals an eventfd registered through `cgroup.event_control` for
//! `memory.oom_control`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use super::fs::read_file;
use super::stats::flat_keyed;
use super::{Cgroup, Version};
use crate::error::{Error, Result, Step, SysError};

/// A readable fd that fires on OOM in the container's memory cgroup.
#[derive(Debug)]
pub(crate) struct OomWatch {
    fd: OwnedFd,
    dir: PathBuf,
    version: Version,
    /// v2: the `oom_kill` count already reported.
    kills: u64,
    /// v1: `memory.oom_control`, held open while the eventfd is registered on it.
    _control: Option<std::fs::File>,
}

impl Cgroup {
    /// Starts watching the memory cgroup for OOM kills; `None` without a memory cgroup.
    pub(crate) fn oom_watch(&self) -> Result<Option<OomWatch>> {
        let key = if self.version == Version::V1 { "memory" } else { "" };
        let Some(dir) = self.paths.get(key).cloned() else { return Ok(None) };
        let err = |e: SysError| Error::sys(Step::Cgroup, e);
        match self.version {
            Version::V2 => {
                let events = dir.join("memory.events");
                if !events.exists() {
                    return Ok(None); // memory controller not enabled for this cgroup
                }
                // Watched before the count is read: a kill in between is then seen twice at worst
                // (and reported once, the count being compared), never missed.
                let fd = crate::sys::notify::inotify_modify(&events.to_string_lossy()).map_err(err)?;
                let kills = oom_kills(&read_file(&dir, "memory.events")?);
                Ok(Some(OomWatch { fd, dir, version: Version::V2, kills, _control: None }))
            }
            Version::V1 => {
                let control = std::fs::File::open(dir.join("memory.oom_control")).map_err(|e| {
                    err(SysError::io("open", Some(&dir.join("memory.oom_control").to_string_lossy()), &e))
                })?;
                let fd = crate::sys::notify::eventfd().map_err(err)?;
                let line = format!("{} {}", fd.as_raw_fd(), control.as_raw_fd());
                let ctl = dir.join("cgroup.event_control");
                std::fs::write(&ctl, line).map_err(|e| err(SysError::io("write", Some(&ctl.to_string_lossy()), &e)))?;
                Ok(Some(OomWatch { fd, dir, version: Version::V1, kills: 0, _control: Some(control) }))
            }
        }
    }
}

impl OomWatch {
    /// The fd to poll.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// After the fd fired: how many OOM events happened since the last call (0 when the
    /// notification was about something else, such as `memory.high` being hit).
    pub(crate) fn fired(&mut self) -> Result<u64> {
        let n = crate::sys::notify::drain(self.fd.as_fd()).map_err(|e| Error::sys(Step::Cgroup, e))?;
        match self.version {
            Version::V1 => Ok(n),
            Version::V2 => {
                let text = match read_file(&self.dir, "memory.events") {
                    Ok(t) => t,
                    // The cgroup went away with the container.
                    Err(_) if !self.dir.exists() => return Ok(0),
                    Err(e) => return Err(e),
                };
                let now = oom_kills(&text);
                let new = now.saturating_sub(self.kills);
                self.kills = now;
                Ok(new)
            }
        }
    }
}

fn oom_kills(memory_events: &str) -> u64 {
    flat_keyed(memory_events).get("oom_kill").copied().unwrap_or(0)
}
