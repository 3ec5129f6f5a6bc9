//! runtime-core: builds and manages OCI containers from a bundle (config.json + rootfs) or from an
//! in-memory [`oci_spec::runtime::Spec`] plus a rootfs. The `hull` binary is a thin layer over
//! this API; the library never prints and never parses argv.
//!
//! ```no_run
//! use runtime_core::{CreateOptions, Runtime, Stdio};
//!
//! let mut spec = runtime_core::spec::example(false); // `runc spec`'s config, in memory
//! let process = spec.process_mut().as_mut().expect("the example has a process");
//! process.set_args(Some(vec!["echo".into(), "hello".into()])).set_terminal(Some(false));
//! let (mut read, write) = std::os::unix::net::UnixStream::pair()?; // or a pipe
//! let stdio = Stdio { stdout: Some(write.into()), ..Default::default() };
//! let rt = Runtime::new("/run/my-app");
//! let opts = CreateOptions { bundle: "/srv/bundle".into(), spec: Some(spec), stdio, ..Default::default() };
//! let mut c = rt.create("demo", opts)?; // `/srv/bundle/rootfs` is the root
//! c.start()?;
//! let mut output = String::new();
//! std::io::Read::read_to_string(&mut read, &mut output)?;
//! println!("exit status {}, output {output:?}", c.wait()?);
//! rt.load("demo")?.delete(false)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Threads, async and the launch helper
//!
//! Creating a container clones a child that runs Rust code until it executes the container's
//! program; after a fork of a multi-threaded process that would be undefined behaviour (another
//! thread may hold the allocator's lock at that instant). So [`Runtime::create`] and
//! [`Container::exec`] look at the caller first: a single-threaded caller (the `hull` CLI) clones
//! directly; a multi-threaded one (a tokio program, a test harness), or one that gives the
//! container its own [`Stdio`], starts a short-lived *launch helper* instead: this same program,
//! re-executed from a sealed copy, which does the clone single-threaded, reports back, and exits.
//! Every call may be made from any thread; calls for different containers may run concurrently.
//!
//! The helper is caught before `main` by an `.init_array` entry the library links into every
//! program that uses it, so nothing is needed from the embedder. Where constructors do not run
//! (an unusual runtime or linker), call [`run_helper_if_requested`] first thing in `main`.
//!
//! To keep the container's init (or exec'd process) a child of the caller after the helper exits,
//! the caller becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`) the first time a helper is
//! used. Orphaned descendants of its other children are then reparented to it as well, and it
//! should reap them (or ignore `SIGCHLD`-driven zombies at its own risk).
//!
//! Waiting without blocking: [`Container::pidfd`] becomes readable when the init exits; register
//! it with any event loop and call [`Container::try_wait`] (see `examples/async_many.rs`, which
//! uses tokio's `AsyncFd`). The library depends on no executor.
//!
//! # CVE-2019-5736
//!
//! A container process must never be able to open the runtime's binary for writing through
//! `/proc/PID/exe`. Call [`seal::ensure_sealed`] first thing in `main` of any program that
//! creates or execs into containers: it re-executes the program from a read-only overlay (or a
//! sealed memfd) before anything else runs. The launch helper always runs from a sealed copy,
//! whether or not the caller is sealed; the single-threaded direct path is protected only when
//! the caller is.
//!
//! # Layout
//!
//! [`Bundle`] is read once and turned into a pure internal plan (validated, resolved, every
//! default applied); the launch code executes that plan in a cloned child. Everything that
//! touches the kernel lives behind an internal `sys` module, the only one allowed `unsafe`.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod console;
mod error;
pub use error::{errno_text, go_errno_texts, io_error_text, ChildCause, ChildError, Error, Result, Step, SysError};

mod bundle;
pub use bundle::Bundle;

mod helper;
mod hooks;
mod host;
mod passwd;
mod plan;
mod procfs;

#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod test_skip;

mod cgroups;
mod launch;
pub use launch::{ExecOptions, ExecProcess};
mod rootfs;
mod rootless;
mod seccomp;

mod state;
pub use rootless::in_user_namespace;
pub use state::{validate_id, State, Status};

mod container;
pub use container::{ConsoleMode, Container, CreateOptions, Runtime, Stdio};

pub mod features;
pub mod seal;
pub mod signal;
pub mod spec;

/// Serves the launch helper's request and exits when this process was started as one; returns
/// at once otherwise.
///
/// The library already does this before `main` (an `.init_array` entry), so calling it is only
/// needed where such constructors do not run. Call it first thing in `main`, before any thread
/// is started.
pub fn run_helper_if_requested() {
    helper::run_if_requested()
}
