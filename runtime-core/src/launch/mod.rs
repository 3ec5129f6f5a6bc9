//! Creating the container process: the parent side, the child's step lists, and the protocol between them.

mod console;
mod init;
mod parent;
pub(crate) mod protocol;

pub(crate) use parent::{create, parse_stat, start_time};
