//! Bind-mount trees the runtime opens before the clone, inherited by the child, which only attaches
//! them: idmapped ones (a throwaway process holds a user namespace with the mount's maps just long
//! enough to open it, and the detached tree is mapped through it), and with a new user namespace
//! every other bind source, since the child may no longer reach paths only the host's root can
//! (runc passes such sources to its init as fds).

use std::os::fd::{AsFd, OwnedFd};

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::protocol::{self, ParentMsg};
use crate::error::{Error, Result, Step, StepExt, SysError};
use crate::plan::{IdMaps, MountKind, RootfsPlan};
use crate::sys;
use crate::sys::process::Forked;

/// Detached trees for the plan's idmapped mounts, and in a user namespace for all its bind
/// mounts: (index in `plan.mounts`, tree).
pub(crate) fn trees(plan: &RootfsPlan) -> Result<Vec<(usize, OwnedFd)>> {
    let mut out = Vec::new();
    // Plain sources are opened ahead only by a runtime that is root of the initial user namespace:
    // open_tree(OPEN_TREE_CLONE) needs CAP_SYS_ADMIN there, and an unprivileged (rootless) runtime
    // reaches no more than its child will.
    let privileged = plan.userns && nix::unistd::geteuid().is_root() && !crate::rootless::in_user_namespace();
    for (i, m) in plan.mounts.iter().enumerate() {
        let MountKind::Bind { source, recursive } = &m.kind else { continue };
        if m.idmap.is_none() && !privileged {
            continue;
        }
        let src = source.to_string_lossy();
        let tree = sys::mount::open_tree(None, &src, *recursive).step(Step::Rootfs)?;
        let Some(idmap) = &m.idmap else {
            out.push((i, tree));
            continue;
        };
        let userns = userns_with(&idmap.maps)?;
        sys::mount::set_idmap(tree.as_fd(), idmap.recursive, userns.as_fd(), &format!("/{}", m.dest))
            .step(Step::Rootfs)?;
        out.push((i, tree));
    }
    Ok(out)
}

/// A user namespace fd with `maps`: cloned into a child that waits until we have opened it.
fn userns_with(maps: &IdMaps) -> Result<OwnedFd> {
    let (ours, theirs) = sys::socket::seqpacket_pair().step(Step::Namespaces)?;
    match sys::process::clone3(libc::CLONE_NEWUSER as u64, None).step(Step::Namespaces)? {
        Forked::Child => {
            drop(ours);
            // Returns when the runtime closes its end.
            let _ = protocol::recv::<ParentMsg>(theirs.as_fd());
            sys::process::exit_now(0)
        }
        Forked::Parent(pid) => {
            drop(theirs);
            let opened = open_userns(pid, maps);
            drop(ours);
            let _ = sys::process::wait_child(pid);
            opened.map_err(|e| Error::sys(Step::Namespaces, e))
        }
    }
}

fn open_userns(pid: i32, maps: &IdMaps) -> Result<OwnedFd, SysError> {
    super::namespaces::write_maps(pid, maps, &Default::default())?;
    let procfs = ProcfsHandle::new().map_err(|e| sys::path_err("open", "procfs", e))?;
    let sub = format!("{pid}/ns/user");
    procfs
        .open_follow(ProcfsBase::ProcRoot, &sub, OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC)
        .map(OwnedFd::from)
        .map_err(|e| sys::path_err("open", &format!("/proc/{sub}"), e))
}
