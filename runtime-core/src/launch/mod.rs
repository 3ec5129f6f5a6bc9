//! Creating the container process: the parent side, the child's step lists, and the protocol between them.

mod console;
mod exec;
mod idmap;
mod init;
mod namespaces;
mod netdev;
mod parent;
mod process;
pub(crate) mod protocol;

pub(crate) use exec::exec;
pub(crate) use netdev::move_out as return_net_devices;
pub(crate) use parent::{create, start_time, stat};

use std::os::fd::OwnedFd;

use crate::error::{Error, Operation, Result};
use crate::state::{State, Status};
use crate::sys;

/// A created container, for the caller to wrap (directly or after the launch helper's trip).
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) state: State,
    /// The pty master, with `ConsoleMode::Return`.
    pub(crate) console: Option<OwnedFd>,
    /// Whether the init is our child (so we can wait for it).
    pub(crate) child: bool,
    /// Warnings for the caller (runc logs them at warning level).
    pub(crate) warnings: Vec<String>,
}

/// A process started in a running container.
#[derive(Debug)]
pub(crate) struct Execed {
    pub(crate) pid: i32,
    /// The pty master, with `ConsoleMode::Return`.
    pub(crate) console: Option<OwnedFd>,
}

/// A pidfd of the container's init, checked against the recorded start time (pid reuse); `op`
/// is refused as for a stopped container when the init is gone.
pub(crate) fn init_pidfd(state: &State, op: Operation) -> Result<OwnedFd> {
    let gone = || wrong_state(state, op, Status::Stopped);
    let fd = sys::process::pidfd_open(state.pid).map_err(|_| gone())?;
    match start_time(state.pid) {
        Ok(t) if t == state.internal.init_start_time => Ok(fd),
        _ => Err(gone()),
    }
}

/// The error for `op` refused in `status`.
pub(crate) fn wrong_state(state: &State, op: Operation, status: Status) -> Error {
    Error::WrongState { id: state.id.clone(), op, status }
}
