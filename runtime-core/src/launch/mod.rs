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
