//! runtime-core: builds and manages OCI containers from a bundle (config.json + rootfs).
//!
//! The library never prints and never parses argv; the `hull` binary is a thin layer over it.
//!
//! Data flow: [`Bundle`] is read once, turned into a pure `plan::Plan` (validated, resolved, with
//! every default applied), and the launch code executes that plan in a cloned child. Everything
//! that touches the kernel lives behind `sys`, the only module allowed to use `unsafe`.
//!
//! The runtime process stays single-threaded until the container's program is exec'd: the child
//! is created with a fork-like `clone3` and runs ordinary Rust code, which is sound only because
//! no other thread can hold a lock (allocator, stdio) at the moment of the clone. Embedders in a
//! threaded program must therefore not call [`Runtime::create`] from a multi-threaded process.
#![deny(unsafe_code)]

pub mod console;
pub mod error;
pub use error::{ChildCause, ChildError, Error, Result, Step, SysError};

mod bundle;
pub use bundle::Bundle;

mod hooks;
mod host;
mod passwd;
mod plan;

#[allow(unsafe_code)]
mod sys;

mod cgroups;
mod launch;
pub use launch::{ExecOptions, ExecProcess};
mod rootfs;
mod seccomp;

mod state;
pub use state::{validate_id, State, Status};

mod container;
pub use container::{ConsoleMode, Container, CreateOptions, Runtime};

pub mod features;
pub mod seal;
pub mod signal;
pub mod spec;
