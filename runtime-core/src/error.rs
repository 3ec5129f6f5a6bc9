//! The one error type of the library: what failed (the step and the object) and what the caller can do about it.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::status::Status;
pub use crate::sys::error::{errno_text, go_errno_texts, io_error_text, SysError};

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

/// The container operation an [`Error::WrongState`] or [`Error::NoCgroup`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Operation {
    /// [`crate::Container::start`].
    Start,
    /// [`crate::Container::kill`].
    Kill,
    /// [`crate::Container::delete`].
    Delete,
    /// [`crate::Container::pause`].
    Pause,
    /// [`crate::Container::resume`].
    Resume,
    /// [`crate::Container::exec`].
    Exec,
    /// [`crate::Container::update`].
    Update,
    /// [`crate::Container::stats`].
    Stats,
    /// [`crate::Container::events`].
    Events,
    /// [`crate::Container::pidfd`] (and everything that needs the live init).
    Pidfd,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Start => "start",
            Operation::Kill => "kill",
            Operation::Delete => "delete",
            Operation::Pause => "pause",
            Operation::Resume => "resume",
            Operation::Exec => "exec",
            Operation::Update => "update",
            Operation::Stats => "stats",
            Operation::Events => "events",
            Operation::Pidfd => "pidfd",
        })
    }
}

/// Everything the library can fail with. Variants are grouped by what the caller must do; those
/// about one container name it, and the operation or step and object that failed. Printed in
/// runc's words where runc has words for it (tools match on them); [`std::error::Error::source`]
/// leads to the underlying cause.
///
/// ```
/// use runtime_core::{Error, Operation, Status};
///
/// let e = Error::WrongState { id: "web".into(), op: Operation::Delete, status: Status::Running };
/// assert_eq!(e.to_string(), "cannot delete container web that is not stopped: running");
/// assert_eq!(e.container_id(), Some("web"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// config.json is malformed or asks for something inconsistent.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// config.json is malformed, in runc's words (`process property must not be empty`), which
    /// people and tools compare with what runc says.
    #[error("{0}")]
    Spec(String),
    /// The config or a flag asks for something hull does not implement.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// The bundle cannot be read (missing config.json or rootfs); printed in runc's words.
    #[error("{}", bundle_text(what, path, source))]
    Bundle {
        /// What was being read.
        what: &'static str,
        /// The path on the host.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The container id is not acceptable.
    /// (runc's words; the rule is 1 or more of `[A-Za-z0-9_+.-]`, and not `.` or `..`.)
    #[error("{}", if id.is_empty() { "container id cannot be empty" } else { "invalid container ID format" })]
    InvalidId {
        /// The id given.
        id: String,
    },
    /// A container with this id already exists.
    #[error("container with given ID already exists")]
    Exists {
        /// The container id.
        id: String,
    },
    /// No container with this id exists.
    #[error("container does not exist")]
    NotFound {
        /// The container id.
        id: String,
    },
    /// The operation is not allowed in the container's current status (printed in runc's words).
    #[error("{}", wrong_state_text(id, *op, *status))]
    WrongState {
        /// The container id.
        id: String,
        /// What was refused.
        op: Operation,
        /// The container's status at that moment.
        status: Status,
    },
    /// The operation needs the container's cgroup, which a rootless create left out.
    #[error(
        "not supported: {op}: the container has no cgroup (rootless without a cgroup this user may write; see README, Rootless)"
    )]
    NoCgroup {
        /// The container id.
        id: String,
        /// What needed it.
        op: Operation,
    },
    /// The cgroup the container was to use already exists and is frozen (runc refuses it too).
    #[error("container's cgroup unexpectedly frozen")]
    CgroupFrozen {
        /// The cgroup directory.
        path: PathBuf,
    },
    /// A process started by exec is no longer running.
    #[error("process {pid} not running")]
    ProcessNotRunning {
        /// Its host pid.
        pid: i32,
    },
    /// `wait` on a process that is not a child of the caller (detached, or a container loaded
    /// rather than created here).
    #[error("wait: process {pid} is not a child of this process")]
    NotAChild {
        /// Its host pid.
        pid: i32,
    },
    /// An invalid argument from the caller (a bad signal name, a bad flag value).
    #[error("{0}")]
    InvalidArgument(String),
    /// `create` or `exec` needs the launch helper (the caller has several threads, or redirects
    /// stdio), but this program does not serve it: call [`crate::run_helper_if_requested`]
    /// first thing in `main` (or use [`crate::helper_entry!`] where `main` is not yours).
    #[error(
        "the launch helper is not set up: call runtime_core::run_helper_if_requested() first in main \
         (or runtime_core::helper_entry!() where main is not yours)"
    )]
    HelperEntryMissing,
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
    Child(#[source] ChildError),
}

/// runc's texts for an operation refused in a status.
fn wrong_state_text(id: &str, op: Operation, status: Status) -> String {
    match (op, status) {
        (Operation::Start, Status::Stopped) => "cannot start a container that has stopped".into(),
        (Operation::Start, _) => "cannot start an already running container".into(),
        (Operation::Delete, s) => format!("cannot delete container {id} that is not stopped: {s}"),
        (Operation::Exec, Status::Paused) => {
            "cannot exec in a paused container (use --ignore-paused to override)".into()
        }
        (Operation::Exec, _) => "cannot exec in a stopped container".into(),
        (Operation::Resume, _) => "container not paused".into(),
        _ => "container not running".into(),
    }
}

/// A bundle error as runc words it: a missing config.json by its name, the rootfs as `stat` saw it.
fn bundle_text(what: &str, path: &std::path::Path, source: &std::io::Error) -> String {
    let cause = io_error_text(source);
    match what {
        "reading config" if source.kind() == std::io::ErrorKind::NotFound => {
            "JSON specification file config.json not found".to_owned()
        }
        "reading config" => format!("open {}: {cause}", path.display()),
        "rootfs" => format!("invalid rootfs: stat {}: {cause}", path.display()),
        _ => format!("{what} {}: {cause}", path.display()),
    }
}

impl Error {
    /// A failed system call in `step`.
    pub fn sys(step: Step, source: SysError) -> Self {
        Error::Sys { step, source }
    }

    /// The container the error is about, when it is about one.
    pub fn container_id(&self) -> Option<&str> {
        match self {
            Error::InvalidId { id }
            | Error::Exists { id }
            | Error::NotFound { id }
            | Error::WrongState { id, .. }
            | Error::NoCgroup { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Whether the error means the container (or process) has stopped running: what a
    /// `kill --all` of a container that is already gone may ignore.
    pub fn is_not_running(&self) -> bool {
        matches!(self, Error::ProcessNotRunning { .. })
            || matches!(self, Error::WrongState { op, status: Status::Stopped, .. } if *op != Operation::Start && *op != Operation::Exec)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_texts_are_go_s() {
        assert_eq!(errno_text(libc::EPERM), "operation not permitted");
        assert_eq!(errno_text(libc::ENOENT), "no such file or directory");
        assert_eq!(errno_text(libc::EIO), "input/output error");
        assert_eq!(errno_text(libc::EAGAIN), "resource temporarily unavailable");
        assert_eq!(errno_text(libc::ENOTTY), "inappropriate ioctl for device");
        assert_eq!(errno_text(libc::EDOTDOT), "RFS specific error");
        assert_eq!(errno_text(4242), "errno 4242");
        assert_eq!(errno_text(-1), "errno -1");
        // Where musl's strerror words it otherwise: hull prints glibc's (Go's) text all the same.
        assert_eq!(errno_text(libc::EBUSY), "device or resource busy");
        assert_eq!(errno_text(libc::ELOOP), "too many levels of symbolic links");
        assert_eq!(errno_text(libc::EMFILE), "too many open files");
        assert_eq!(errno_text(libc::EOPNOTSUPP), "operation not supported");
        let io = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(io_error_text(&io), "permission denied");
        assert_eq!(io_error_text(&std::io::Error::other("own words")), "own words");
    }

    #[test]
    fn std_renderings_are_rewritten() {
        let enoent = std::io::Error::from_raw_os_error(libc::ENOENT);
        let eperm = std::io::Error::from_raw_os_error(libc::EPERM);
        let msg = format!("open /x: {enoent}; mount: {eperm} (os error x) (os error 9999999999)");
        assert_eq!(
            go_errno_texts(&msg),
            "open /x: no such file or directory; mount: operation not permitted (os error x) (os error 9999999999)"
        );
        assert_eq!(go_errno_texts("plain (os error 2)"), "plain (os error 2)");
        assert_eq!(go_errno_texts(""), "");
    }

    #[test]
    fn sys_and_bundle_errors_print_go_texts() {
        let e = SysError::from_errno("mount", Some("/proc"), libc::EPERM);
        assert_eq!(e.to_string(), "mount /proc: operation not permitted");
        let e = Error::Bundle { what: "rootfs", path: "/r".into(), source: std::io::Error::from_raw_os_error(2) };
        assert_eq!(e.to_string(), "invalid rootfs: stat /r: no such file or directory");
        let enoent = std::io::Error::from_raw_os_error(libc::ENOENT);
        let e = Error::Bundle { what: "reading config", path: "/b/config.json".into(), source: enoent };
        assert_eq!(e.to_string(), "JSON specification file config.json not found");
        let e = Error::Bundle {
            what: "reading config",
            path: "/b/config.json".into(),
            source: std::io::Error::from_raw_os_error(libc::EACCES),
        };
        assert_eq!(e.to_string(), "open /b/config.json: permission denied");
        assert_eq!(Error::InvalidId { id: String::new() }.to_string(), "container id cannot be empty");
        assert_eq!(Error::InvalidId { id: "a b".into() }.to_string(), "invalid container ID format");
    }

    #[test]
    fn wrong_states_in_runc_words() {
        let e = |op, status| Error::WrongState { id: "c1".into(), op, status };
        assert_eq!(e(Operation::Start, Status::Stopped).to_string(), "cannot start a container that has stopped");
        assert_eq!(e(Operation::Start, Status::Paused).to_string(), "cannot start an already running container");
        assert_eq!(
            e(Operation::Delete, Status::Paused).to_string(),
            "cannot delete container c1 that is not stopped: paused"
        );
        assert_eq!(e(Operation::Kill, Status::Stopped).to_string(), "container not running");
        assert_eq!(e(Operation::Resume, Status::Running).to_string(), "container not paused");
        assert_eq!(
            e(Operation::Exec, Status::Paused).to_string(),
            "cannot exec in a paused container (use --ignore-paused to override)"
        );
        assert!(e(Operation::Kill, Status::Stopped).is_not_running());
        assert!(!e(Operation::Resume, Status::Running).is_not_running());
        assert_eq!(e(Operation::Pause, Status::Stopped).container_id(), Some("c1"));
    }
}
