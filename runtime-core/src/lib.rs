//! runtime-core: builds and manages OCI containers from a bundle (config.json + rootfs) or from an
//! in-memory [`oci_spec::runtime::Spec`] plus a rootfs. The `hull` binary is a thin layer over
//! this API; the library never prints and never parses argv.
//!
//! ```no_run
//! use std::io::Read;
//! use runtime_core::{CreateOptions, Io, Runtime, Stdio};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     runtime_core::run_helper_if_requested(); // first: see "The launch helper" below
//!     let mut spec = runtime_core::spec::example(false); // `runc spec`'s config, in memory
//!     let process = spec.process_mut().as_mut().expect("the example has a process");
//!     process.set_args(Some(vec!["echo".into(), "hello".into()])).set_terminal(Some(false));
//!     let rt = Runtime::new("/run/my-app");
//!     let opts = CreateOptions::new("/srv/bundle") // `/srv/bundle/rootfs` is the root
//!         .spec(spec)
//!         .stdio(Stdio::inherit().stdout(Io::Piped));
//!     let mut c = rt.create("demo", opts)?;
//!     let mut output = c.take_stdout().expect("piped");
//!     c.start()?;
//!     let mut text = String::new();
//!     output.read_to_string(&mut text)?;
//!     println!("exit status {}, output {text:?}", c.wait()?);
//!     rt.load("demo")?.delete(false)?;
//!     Ok(())
//! }
//! ```
//!
//! What an embedder gets: [`Container::exec`] with [`Stdio`] (inherit, `/dev/null`, pipes handed
//! back, any fd) and an [`ExecProcess`] with its pidfd, `wait` and `try_wait`; typed
//! [`stats::Stats`] (runc's `events --stats` JSON when serialised); a pushed [`events::Events`]
//! stream (OOM kills, exit); [`Error`] variants that name the container and the refused
//! [`Operation`] or failing [`Step`]; [`Container::kill`] with a [`signal::Signal`] and a
//! [`KillTarget`]. The examples (`examples/run.rs`, `exec.rs`, `events.rs`, `async_many.rs`)
//! show each and are run by the crate's tests.
//!
//! # Threads, async and the launch helper
//!
//! Creating a container clones a child that runs Rust code until it executes the container's
//! program; after a fork of a multi-threaded process that would be undefined behaviour (another
//! thread may hold the allocator's lock at that instant). So [`Runtime::create`] and
//! [`Container::exec`] look at the caller first: a single-threaded caller (the `hull` CLI) clones
//! directly; a multi-threaded one (a tokio program, a test harness), or one that redirects the
//! process's [`Stdio`], starts a short-lived *launch helper* instead: this same program,
//! re-executed from a sealed copy, which does the clone single-threaded, reports back, and exits.
//! Every call may be made from any thread; calls for different containers may run concurrently.
//!
//! Linking the library changes nothing in a program by itself. The helper is served by
//! [`run_helper_if_requested`], which such a program calls first thing in `main` (where `main`
//! is not yours, e.g. a libtest harness, [`helper_entry!`] adds an `.init_array` entry that
//! makes the call before it). A program that made neither call gets
//! [`Error::HelperEntryMissing`] from a launch that needs the helper, never a re-execution into
//! its own `main`.
//!
//! To keep the container's init (or exec'd process) a child of the caller after the helper exits,
//! the caller is a child subreaper (`PR_SET_CHILD_SUBREAPER`) while a helper (or an exec into a
//! pid namespace) runs, and only then; the previous setting is restored after (a caller that was
//! a subreaper stays one). What remains: an orphan of the caller's other children that dies
//! within that window is reparented to the caller too, and is the caller's to reap; and the
//! processes started are the caller's children, to be reaped through `wait`/`try_wait` (an
//! ignored `SIGCHLD` makes the kernel reap them, and statuses are then lost).
//!
//! Waiting without blocking: [`Container::pidfd`] and [`ExecProcess::pidfd`] become readable
//! when the process exits, and [`events::Events`] is itself one pollable fd; register them with
//! any event loop and call `try_wait` / [`events::Events::next`] when they fire (see
//! `examples/exec.rs`, `events.rs` and `async_many.rs`, which use tokio's `AsyncFd` on one
//! thread). The library depends on no executor.
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
pub use error::{
    errno_text, go_errno_texts, io_error_text, ChildCause, ChildError, Error, Operation, Result, Step, SysError,
};

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
mod exec;
mod launch;
pub use exec::ExecProcess;
mod stdio;
pub use stdio::{Io, Stdio};
mod rootfs;
mod rootless;
mod seccomp;

mod state;
mod status;
mod subreaper;
pub use rootless::in_user_namespace;
pub use state::{validate_id, State, Status};

mod container;
pub use container::{Container, KillTarget, Runtime};
mod options;
pub use options::{ConsoleMode, CreateOptions, ExecOptions};

pub mod events;
pub mod features;
pub mod hostfile;
pub mod seal;
pub mod signal;
pub mod spec;
pub mod stats;

/// Serves the launch helper's request and exits when this process was started as one; returns
/// at once otherwise (one environment lookup).
///
/// Call it first thing in `main`, before any thread is started, in every program that creates or
/// execs into containers from several threads or with redirected [`Stdio`]; without it those
/// calls fail with [`Error::HelperEntryMissing`]. Where `main` is not yours (a test harness),
/// put [`helper_entry!`] at the top level of the crate instead.
///
/// ```no_run
/// // First line of `main`:
/// runtime_core::run_helper_if_requested();
/// // ... then threads, an async runtime, containers.
/// ```
pub fn run_helper_if_requested() {
    helper::run_if_requested()
}
