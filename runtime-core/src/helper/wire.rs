//! What the caller and the launch helper exchange: one request packet, one answer packet (with the
//! pty master as an fd when the caller keeps the console). The options and the state travel as
//! they are (serde, one definition for both ends; the stdio stays behind as the helper's own
//! fds); only [`Error`], which holds a `std::io::Error` and `&'static str`s, gets a wire form.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{ChildError, Error, Operation, Step, SysError};
use crate::options::{CreateOptions, ExecOptions};
use crate::state::{State, Status};

/// One call for the helper to make.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// `Runtime::create` under the state root `root`.
    Create { root: PathBuf, id: String, opts: Box<CreateOptions> },
    /// `Container::exec` in the container whose state (as the caller has it) is `state`.
    Exec { state: Box<State>, opts: Box<ExecOptions> },
}

/// The helper's answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Response {
    Created { state: Box<State>, child: bool, warnings: Vec<String> },
    Execed { pid: i32 },
    Failed(WireError),
}

/// [`Error`] as it crosses the process boundary; it comes back as the same variant.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum WireError {
    InvalidConfig(String),
    Spec(String),
    NotSupported(String),
    Bundle { what: String, path: PathBuf, errno: Option<i32>, message: String },
    InvalidId { id: String },
    Exists { id: String },
    NotFound { id: String },
    WrongState { id: String, op: Operation, status: Status },
    NoCgroup { id: String, op: Operation },
    CgroupFrozen { path: PathBuf },
    ProcessNotRunning { pid: i32 },
    NotAChild { pid: i32 },
    HelperEntryMissing,
    InvalidArgument(String),
    Sys { step: Step, source: SysError },
    Child(ChildError),
}

impl From<Error> for WireError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidConfig(m) => WireError::InvalidConfig(m),
            Error::Spec(m) => WireError::Spec(m),
            Error::NotSupported(m) => WireError::NotSupported(m),
            Error::Bundle { what, path, source } => WireError::Bundle {
                what: what.to_owned(),
                path,
                errno: source.raw_os_error(),
                message: source.to_string(),
            },
            Error::InvalidId { id } => WireError::InvalidId { id },
            Error::Exists { id } => WireError::Exists { id },
            Error::NotFound { id } => WireError::NotFound { id },
            Error::WrongState { id, op, status } => WireError::WrongState { id, op, status },
            Error::NoCgroup { id, op } => WireError::NoCgroup { id, op },
            Error::CgroupFrozen { path } => WireError::CgroupFrozen { path },
            Error::ProcessNotRunning { pid } => WireError::ProcessNotRunning { pid },
            Error::NotAChild { pid } => WireError::NotAChild { pid },
            Error::HelperEntryMissing => WireError::HelperEntryMissing,
            Error::InvalidArgument(m) => WireError::InvalidArgument(m),
            Error::Sys { step, source } => WireError::Sys { step, source },
            Error::Child(c) => WireError::Child(c),
        }
    }
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        match e {
            WireError::InvalidConfig(m) => Error::InvalidConfig(m),
            WireError::Spec(m) => Error::Spec(m),
            WireError::NotSupported(m) => Error::NotSupported(m),
            WireError::Bundle { what, path, errno, message } => Error::Bundle {
                what: bundle_what(&what),
                path,
                source: match errno {
                    Some(n) => std::io::Error::from_raw_os_error(n),
                    None => std::io::Error::other(message),
                },
            },
            WireError::InvalidId { id } => Error::InvalidId { id },
            WireError::Exists { id } => Error::Exists { id },
            WireError::NotFound { id } => Error::NotFound { id },
            WireError::WrongState { id, op, status } => Error::WrongState { id, op, status },
            WireError::NoCgroup { id, op } => Error::NoCgroup { id, op },
            WireError::CgroupFrozen { path } => Error::CgroupFrozen { path },
            WireError::ProcessNotRunning { pid } => Error::ProcessNotRunning { pid },
            WireError::NotAChild { pid } => Error::NotAChild { pid },
            WireError::HelperEntryMissing => Error::HelperEntryMissing,
            WireError::InvalidArgument(m) => Error::InvalidArgument(m),
            WireError::Sys { step, source } => Error::Sys { step, source },
            WireError::Child(c) => Error::Child(c),
        }
    }
}

/// The `what` of a bundle error, back as the static string the library uses.
fn bundle_what(s: &str) -> &'static str {
    ["bundle", "reading config", "rootfs"].into_iter().find(|w| *w == s).unwrap_or("bundle")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(e: Error) -> Error {
        let wire: WireError = e.into();
        let json = serde_json::to_vec(&wire).unwrap();
        serde_json::from_slice::<WireError>(&json).unwrap().into()
    }

    #[test]
    fn errors_come_back_as_the_same_variant_and_text() {
        let cases = vec![
            Error::InvalidConfig("process.args must not be empty".into()),
            Error::NotSupported("time namespace".into()),
            Error::Bundle {
                what: "reading config",
                path: "/b/config.json".into(),
                source: std::io::Error::from_raw_os_error(libc::ENOENT),
            },
            Error::Exists { id: "c1".into() },
            Error::WrongState { id: "c1".into(), op: Operation::Delete, status: Status::Paused },
            Error::sys(Step::Cgroup, SysError::from_errno("mkdir", Some("/sys/fs/cgroup/x"), libc::EACCES)),
            Error::Child(ChildError {
                step: Step::Exec,
                error: crate::ChildCause::Message("exec: \"nope\": executable file not found in $PATH".into()),
            }),
        ];
        for e in cases {
            let text = e.to_string();
            let back = round_trip(e);
            assert_eq!(back.to_string(), text);
        }
        assert!(matches!(
            round_trip(Error::Bundle { what: "rootfs", path: "/r".into(), source: std::io::Error::other("x") }),
            Error::Bundle { what: "rootfs", .. }
        ));
    }

    #[test]
    fn a_spec_survives_the_trip() {
        let spec = crate::spec::example(false);
        let opts = CreateOptions::default().spec(spec.clone()).pid_file("/p").console(crate::ConsoleMode::Return);
        let json =
            serde_json::to_vec(&Request::Create { root: "/r".into(), id: "x".into(), opts: Box::new(opts) }).unwrap();
        let Request::Create { opts, .. } = serde_json::from_slice(&json).unwrap() else { panic!("not a create") };
        assert_eq!(opts.spec, Some(spec));
        assert_eq!(opts.pid_file.as_deref(), Some(std::path::Path::new("/p")));
        assert!(matches!(opts.console, crate::ConsoleMode::Return));
    }
}
