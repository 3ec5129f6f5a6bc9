//! The container's event stream ([`crate::Container::events`]): OOM kills and the init's exit,
//! pushed by the kernel as they happen (cgroup v2 `memory.events` through inotify, cgroup v1
//! `memory.oom_control` through an eventfd, the init's pidfd), never polled.
//!
//! [`Events`] is one pollable fd ([`AsFd`]): block in [`Events::next`] (or iterate), or register
//! it with an event loop and call [`Events::next`] with a zero timeout when it is readable.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::cgroups::OomWatch;
use crate::error::{Result, Step, StepExt};
use crate::sys;

const PIDFD: u64 = 1;
const OOM: u64 = 2;

/// Something that happened to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The OOM killer struck in the container's memory cgroup (on cgroup v1: the memory cgroup
    /// ran out of memory, which the kernel signals once per OOM).
    Oom,
    /// The container's init exited: the container is stopped. The stream ends after it.
    Exited,
}

/// A stream of [`Event`]s of one container.
///
/// ```no_run
/// use runtime_core::{events::Event, Runtime};
///
/// let c = Runtime::new("/run/my-app").load("demo")?;
/// for event in c.events()? {
///     match event? {
///         Event::Oom => eprintln!("demo: OOM kill"),
///         Event::Exited => eprintln!("demo: stopped"),
///         _ => {}
///     }
/// }
/// # Ok::<(), runtime_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Events {
    epoll: OwnedFd,
    /// Registered in `epoll`; kept open for as long.
    _pidfd: OwnedFd,
    oom: Option<OomWatch>,
    /// OOM events counted but not handed out yet (one notification may stand for several).
    pending: u64,
    ended: bool,
}

impl Events {
    pub(crate) fn new(pidfd: OwnedFd, oom: Option<OomWatch>) -> Result<Events> {
        let epoll = sys::notify::epoll().step(Step::Lifecycle)?;
        sys::notify::epoll_add(epoll.as_fd(), pidfd.as_fd(), PIDFD).step(Step::Lifecycle)?;
        if let Some(w) = &oom {
            sys::notify::epoll_add(epoll.as_fd(), w.fd(), OOM).step(Step::Lifecycle)?;
        }
        Ok(Events { epoll, _pidfd: pidfd, oom, pending: 0, ended: false })
    }

    /// Whether OOM kills are watched (false when the container has no memory cgroup).
    pub fn watches_oom(&self) -> bool {
        self.oom.is_some()
    }

    /// The next event, waiting at most `timeout` (`None`: until there is one). `Ok(None)` when
    /// the time ran out, or once the stream has ended with [`Event::Exited`].
    pub fn next(&mut self, timeout: Option<Duration>) -> Result<Option<Event>> {
        if self.ended {
            return Ok(None);
        }
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        if self.pending == 0 {
            let ready = sys::notify::epoll_wait(self.epoll.as_fd(), ms).step(Step::Lifecycle)?;
            if ready.contains(&OOM) {
                if let Some(w) = &mut self.oom {
                    self.pending += w.fired()?;
                }
            }
            if ready.contains(&PIDFD) && self.pending == 0 {
                // An OOM kill of the init itself is reported before its exit.
                if let Some(w) = &mut self.oom {
                    if sys::fs::poll_readable(w.fd(), 0).step(Step::Lifecycle)? {
                        self.pending += w.fired()?;
                    }
                }
                if self.pending == 0 {
                    self.ended = true;
                    return Ok(Some(Event::Exited));
                }
            }
        }
        if self.pending > 0 {
            self.pending -= 1;
            return Ok(Some(Event::Oom));
        }
        Ok(None)
    }
}

impl AsFd for Events {
    /// Readable while an event is pending (an epoll fd over the pidfd and the OOM source).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl AsRawFd for Events {
    /// The same fd as [`AsFd`] (for event loops that take raw fds, such as tokio's `AsyncFd`).
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }
}

impl Iterator for Events {
    type Item = Result<Event>;

    /// Blocks until the next event; ends after [`Event::Exited`].
    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            match Events::next(self, None) {
                Ok(Some(e)) => return Some(Ok(e)),
                Ok(None) if self.ended => return None,
                Ok(None) => continue, // a notification that was no OOM (memory.high, say)
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
