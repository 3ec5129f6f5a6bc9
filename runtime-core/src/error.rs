//! The one error type of the library: what failed (the step and the object) and what the caller can do about it.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The phase of container setup or management in which an error happened.
///
/// Printed once in front of the low-level cause, so that "mounting /proc: mount(...): EPERM" reads
/// as a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Step {
    /// Reading config.json and the bundle.
    LoadBundle,
    /// Creating, locking or reading the state directory.
    State,
    /// Creating or joining cgroups.
    Cgroup,
    /// Creating the container process (clone) and talking to it.
    Spawn,
    /// Joining or creating namespaces inside the child.
    Namespaces,
    /// Preparing the root filesystem and mounts.
    Rootfs,
    /// Creating device nodes.
    Devices,
    /// Switching into the root filesystem (pivot_root or chroot).
    Pivot,
    /// Masking and read-only paths.
    MaskedPaths,
    /// Hostname, domainname, sysctls.
    Identity,
    /// Console and stdio.
    Console,
    /// Setting user, groups, capabilities, rlimits, no_new_privs.
    Credentials,
    /// Installing the seccomp filter.
    Seccomp,
    /// Looking up and executing the container's program.
    Exec,
    /// Starting, signalling, pausing or deleting a container.
    Lifecycle,
    /// Running hooks.
    Hooks,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Step::LoadBundle => "loading bundle",
            Step::State => "container state",
            Step::Cgroup => "cgroups",
            Step::Spawn => "starting container process",
            Step::Namespaces => "namespaces",
            Step::Rootfs => "preparing rootfs",
            Step::Devices => "creating devices",
            Step::Pivot => "pivot root",
            Step::MaskedPaths => "masked and readonly paths",
            Step::Identity => "hostname and sysctls",
            Step::Console => "console",
            Step::Credentials => "user, capabilities and limits",
            Step::Seccomp => "seccomp",
            Step::Exec => "exec",
            Step::Lifecycle => "container lifecycle",
            Step::Hooks => "hooks",
        };
        f.write_str(s)
    }
}

/// A failed system call, built inside the `sys` wrapper so that the operation and its object are never lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SysError {
    /// The operation, e.g. `mount(proc, /proc, MS_NOSUID)` or `openat2`.
    pub op: String,
    /// The object the operation was applied to (a path inside the rootfs, a cgroup file...), if any.
    pub path: Option<String>,
    /// The errno returned by the kernel (0 when the failure was a check of ours, not a syscall).
    pub errno: i32,
    /// Extra context, e.g. "expected a character device 1:3".
    pub detail: Option<String>,
}

impl SysError {
    /// An error from the current `errno`.
    pub fn last(op: impl Into<String>, path: Option<&str>) -> Self {
        Self::from_errno(op, path, std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// An error from an explicit errno value.
    pub fn from_errno(op: impl Into<String>, path: Option<&str>, errno: i32) -> Self {
        SysError { op: op.into(), path: path.map(str::to_owned), errno, detail: None }
    }

    /// An error from a `std::io::Error`.
    pub fn io(op: impl Into<String>, path: Option<&str>, e: &std::io::Error) -> Self {
        let mut s = Self::from_errno(op, path, e.raw_os_error().unwrap_or(0));
        if e.raw_os_error().is_none() {
            s.detail = Some(e.to_string());
        }
        s
    }

    /// A failed check of ours (not an errno), such as a file of the wrong type.
    pub fn check(op: impl Into<String>, path: Option<&str>, detail: impl Into<String>) -> Self {
        SysError { op: op.into(), path: path.map(str::to_owned), errno: 0, detail: Some(detail.into()) }
    }

    /// Adds context to the error.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl From<nix::Error> for SysError {
    fn from(e: nix::Error) -> Self {
        SysError::from_errno("syscall", None, e as i32)
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.op)?;
        if let Some(p) = &self.path {
            write!(f, " {p}")?;
        }
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        if self.errno != 0 {
            write!(f, ": {}", nix::errno::Errno::from_raw(self.errno).desc())?;
        }
        Ok(())
    }
}

impl std::error::Error for SysError {}

/// An error reported by the container's child process before it exec'd the user program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildError {
    /// The step of the child's setup that failed.
    pub step: Step,
    /// The failure itself.
    pub error: ChildCause,
}

/// What went wrong in the child: a system call, or a condition such as a missing executable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildCause {
    /// A failed system call or check.
    Sys(SysError),
    /// Any other failure, already worded for the user.
    Message(String),
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            ChildCause::Sys(e) => write!(f, "{}: {e}", self.step),
            // Messages such as runc's `exec: "x": executable file not found in $PATH` are
            // matched by callers, so they are printed without a prefix.
            ChildCause::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ChildError {}

/// Everything the library can fail with. Variants are grouped by what the caller must do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// config.json is malformed or asks for something inconsistent.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// The config or a flag asks for something hull does not implement.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// The bundle cannot be read (missing config.json or rootfs).
    #[error("{what} {path}: {source}")]
    Bundle {
        /// What was being read.
        what: &'static str,
        /// The path on the host.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The container id is not acceptable.
    #[error("invalid container id {0:?}: must be 1 or more of [A-Za-z0-9_+.-] and not . or ..")]
    InvalidId(String),
    /// A container with this id already exists.
    #[error("container with id exists: {0}")]
    Exists(String),
    /// No container with this id exists.
    #[error("container does not exist")]
    NotFound(String),
    /// The operation is not allowed in the container's current status (runc's wording).
    #[error("{0}")]
    WrongState(String),
    /// An invalid argument from the caller (a bad signal name, a bad flag value).
    #[error("{0}")]
    InvalidArgument(String),
    /// A system call failed in the runtime process.
    #[error("{step}: {source}")]
    Sys {
        /// Where.
        step: Step,
        /// What.
        source: SysError,
    },
    /// The container's process failed during setup.
    #[error("unable to start container process: {0}")]
    Child(ChildError),
}

impl Error {
    /// A failed system call in `step`.
    pub fn sys(step: Step, source: SysError) -> Self {
        Error::Sys { step, source }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a [`Step`] to a `Result<_, SysError>`.
pub(crate) trait StepExt<T> {
    fn step(self, step: Step) -> Result<T>;
}

impl<T> StepExt<T> for std::result::Result<T, SysError> {
    fn step(self, step: Step) -> Result<T> {
        self.map_err(|e| Error::sys(step, e))
    }
}
