//! The parent/child protocol: one SEQPACKET socketpair, one JSON message per packet, fds in the same
//! sendmsg. The parent's loop accepts messages only in the order below.
//!
//! | # | child -> parent            | fds        | parent does                                          |
//! |---|----------------------------|------------|------------------------------------------------------|
//! |   |   parent -> child: `CgroupReady`       | | first, only when the cgroup manager needs the pid   |
//! | 0 | `MapIds`                   | -          | writes uid_map, gid_map of the sender's pid          |
//! |   |   parent -> child: `IdsMapped`         | | the child becomes root of its user namespace        |
//! | 0 | `SetTimeOffsets`           | -          | writes timens_offsets of the sender's pid            |
//! |   |   parent -> child: `TimeOffsetsSet`    | | the child forks into the time namespace             |
//! | 1 | `Console { name }`         | pty master | sends it to `--console-socket`, or keeps it (`run`)  |
//! | 2 | `RunHooks`                 | -          | runs prestart + createRuntime hooks, replies         |
//! |   |   parent -> child: `HooksDone { pid }` | | the child then runs createContainer hooks itself    |
//! | 3 | `SeccompListener`          | listener   | hands it with the state to the agent (listenerPath)  |
//! | 4 | `Ready`                    | -          | pid (from SCM_CREDENTIALS), state.json, pid file     |
//! | - | `Failed(ChildError)`       | -          | kills and reaps the child, removes everything, fails |
//! | - | (socket closed, no Ready)  | -          | the child died: same cleanup, reports its exit       |
//!
//! `CgroupReady` is sent before anything else when the cgroup is made around the child's pid
//! (systemd's scope): the child waits for it before its first step, so that everything it does
//! and forks happens inside its cgroup. `MapIds` comes first and only when the container has a new user namespace, from the process the
//! runtime cloned (before any second fork), without credentials: unmapped ids cannot be sent;
//! `SetTimeOffsets` likewise, after it, only with linux.timeOffsets. `Console` comes only when `process.terminal` is true, `SeccompListener` only when the seccomp
//! profile has SCMP_ACT_NOTIFY rules, `RunHooks` only when prestart or createRuntime hooks exist
//! (all three carry credentials, like `Ready`). A hook failure in the parent ends the create: the
//! parent kills the waiting child instead of replying. The child sends `Ready` with
//! SCM_CREDENTIALS so the kernel translates its pid into the parent's pid namespace, which also
//! covers the second fork a joined pid namespace needs. The parent speaks only to reply.

use std::os::fd::{BorrowedFd, OwnedFd};

use serde::{Deserialize, Serialize};

use crate::error::{ChildError, SysError};
use crate::sys::socket;

/// Messages from the container's child to the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ChildMsg {
    /// In a new user namespace, not yet mapped: write the id maps and reply.
    MapIds,
    /// The time namespace for our children is unshared: write its offsets and reply.
    SetTimeOffsets,
    /// The pty master follows as an fd; `name` is its /dev/pts path inside the container.
    Console { name: String },
    /// Mounts are done, pivot_root is not: run the runtime-namespace hooks and reply.
    RunHooks,
    /// The seccomp notify listener follows as an fd.
    SeccompListener,
    /// Set up and about to block on the exec fifo.
    Ready,
    /// Setup failed; the child exits after sending this.
    Failed(ChildError),
}

/// Replies from the runtime to the child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ParentMsg {
    /// The runtime's hooks ran; `pid` is the child's pid as the runtime sees it (for hook state).
    HooksDone { pid: i32 },
    /// The id maps are written.
    IdsMapped,
    /// The time namespace offsets are written.
    TimeOffsetsSet,
    /// The child's cgroup now holds it (made around its pid by the cgroup manager).
    CgroupReady,
}

/// A received message with what came beside it.
#[derive(Debug)]
pub(crate) struct Incoming<M = ChildMsg> {
    /// None when the peer closed the socket.
    pub(crate) msg: Option<M>,
    pub(crate) fds: Vec<OwnedFd>,
    pub(crate) pid: Option<i32>,
}

pub(crate) fn send<M: Serialize>(
    sock: BorrowedFd<'_>,
    msg: &M,
    fds: &[BorrowedFd<'_>],
    creds: bool,
) -> Result<(), SysError> {
    let data = serde_json::to_vec(msg).map_err(|e| SysError::check("encode message", None, e.to_string()))?;
    socket::send(sock, &data, fds, creds)
}

pub(crate) fn recv<M: serde::de::DeserializeOwned>(sock: BorrowedFd<'_>) -> Result<Incoming<M>, SysError> {
    let r = socket::recv(sock)?;
    if r.data.is_empty() {
        return Ok(Incoming { msg: None, fds: r.fds, pid: r.pid });
    }
    let msg = serde_json::from_slice(&r.data).map_err(|e| SysError::check("decode message", None, e.to_string()))?;
    Ok(Incoming { msg: Some(msg), fds: r.fds, pid: r.pid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ChildCause, Step};
    use std::os::fd::AsFd;

    #[test]
    fn round_trip_with_fd_and_pid() {
        let (a, b) = socket::seqpacket_pair().unwrap();
        socket::enable_passcred(b.as_fd()).unwrap();
        let f = std::fs::File::open("/dev/null").unwrap();
        send(a.as_fd(), &ChildMsg::Console { name: "/dev/pts/0".into() }, &[f.as_fd()], false).unwrap();
        let err = ChildError { step: Step::Rootfs, error: ChildCause::Message("x".into()) };
        send(a.as_fd(), &ChildMsg::Failed(err.clone()), &[], true).unwrap();
        let m1 = recv::<ChildMsg>(b.as_fd()).unwrap();
        assert_eq!(m1.msg, Some(ChildMsg::Console { name: "/dev/pts/0".into() }));
        assert_eq!(m1.fds.len(), 1);
        let m2 = recv::<ChildMsg>(b.as_fd()).unwrap();
        assert_eq!(m2.msg, Some(ChildMsg::Failed(err)));
        assert_eq!(m2.pid, Some(std::process::id() as i32));
        drop(a);
        assert!(recv::<ChildMsg>(b.as_fd()).unwrap().msg.is_none());
    }

    #[test]
    fn oversize_is_refused() {
        let (a, _b) = socket::seqpacket_pair().unwrap();
        let big = ChildMsg::Failed(ChildError { step: Step::Exec, error: ChildCause::Message("x".repeat(70_000)) });
        assert!(send(a.as_fd(), &big, &[], false).is_err());
    }
}
