//! The child's namespace steps for `create`: join by path, enter or make the user namespace and
//! become its root, unshare the late namespaces, set time offsets, and fork where the kernel
//! only moves children.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::process::{self, at, StepResult};
use super::protocol::{self, ChildMsg, ParentMsg};
use crate::error::{ChildCause, ChildError, Step, SysError};
use crate::plan::{IdMaps, NamespacePlan};
use crate::rootfs;
use crate::sys;
use crate::sys::process::Forked;

/// Runs the namespace steps in order; returns in the process that goes on to be the init.
pub(crate) fn enter(ns: &NamespacePlan, ns_fds: &[(i32, &'static str, OwnedFd)], sock: BorrowedFd<'_>) -> StepResult {
    for (nstype, kind, fd) in ns_fds {
        sys::process::setns(fd.as_fd(), *nstype, kind).map_err(at(Step::Namespaces))?;
    }
    if ns.unshare_user {
        sys::process::unshare(libc::CLONE_NEWUSER).map_err(at(Step::Namespaces))?;
    }
    if ns.id_maps.is_some() {
        request_maps(sock)?;
    }
    if let Some(want) = &ns.joined_maps {
        check_joined_maps(want)?;
    }
    if ns.in_userns() {
        // Our ids are still the host's (unmapped here): take the namespace's root, whose
        // capabilities we hold, so files we create belong to mapped ids.
        sys::process::setresgid(0).map_err(at(Step::Namespaces))?;
        sys::process::setresuid(0).map_err(at(Step::Namespaces))?;
    }
    if ns.unshare_flags != 0 {
        sys::process::unshare(ns.unshare_flags).map_err(at(Step::Namespaces))?;
    }
    if let Some(text) = &ns.time_offsets {
        let procfs = procfs()?;
        process::write_proc(&procfs, ProcfsBase::ProcSelf, "timens_offsets", text).map_err(at(Step::Namespaces))?;
    }
    if ns.second_fork {
        // setns/unshare of a pid namespace and a new time namespace only apply to our children.
        if let Forked::Parent(_) = sys::process::fork().map_err(at(Step::Namespaces))? {
            sys::process::exit_now(0);
        }
    }
    Ok(())
}

fn procfs() -> StepResult<ProcfsHandle> {
    ProcfsHandle::new().map_err(|e| at(Step::Namespaces)(rootfs::path_err("open", "procfs", e)))
}

/// Asks the runtime to write our id maps (only a process outside the namespace can).
fn request_maps(sock: BorrowedFd<'_>) -> StepResult {
    // No credentials: unmapped ids cannot be sent (EINVAL); the runtime knows our pid.
    protocol::send(sock, &ChildMsg::MapIds, &[], false).map_err(at(Step::Namespaces))?;
    match protocol::recv::<ParentMsg>(sock).map_err(at(Step::Namespaces))?.msg {
        Some(ParentMsg::IdsMapped) => Ok(()),
        // The runtime failed and will report it; it kills us.
        _ => sys::process::exit_now(1),
    }
}

/// Mappings given with a user namespace joined by path must be the ones it has.
fn check_joined_maps(want: &IdMaps) -> StepResult {
    let procfs = procfs()?;
    for (file, text) in [("uid_map", &want.uid_map), ("gid_map", &want.gid_map)] {
        if text.is_empty() {
            continue;
        }
        let have = read_proc(&procfs, file)?;
        if parse_map(&have) != parse_map(text) {
            let msg = format!(
                "linux.{}Mappings do not match the joined user namespace (it has {:?})",
                file.trim_end_matches("_map"),
                have.trim()
            );
            return Err(ChildError { step: Step::Namespaces, error: ChildCause::Message(msg) });
        }
    }
    Ok(())
}

fn read_proc(procfs: &ProcfsHandle, file: &str) -> StepResult<String> {
    let shown = format!("/proc/self/{file}");
    let mut f = procfs
        .open(ProcfsBase::ProcSelf, file, OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC)
        .map_err(|e| at(Step::Namespaces)(rootfs::path_err("open", &shown, e)))?;
    let mut s = String::new();
    std::io::Read::read_to_string(&mut f, &mut s)
        .map_err(|e| at(Step::Namespaces)(SysError::io("read", Some(&shown), &e)))?;
    Ok(s)
}

/// The ranges of a map file, order-independent.
pub(crate) fn parse_map(text: &str) -> Vec<(u32, u32, u32)> {
    let mut v: Vec<(u32, u32, u32)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(|n| n.parse::<u32>().ok());
            Some((f.next()??, f.next()??, f.next()??))
        })
        .collect();
    v.sort_unstable();
    v
}

/// The runtime's side of `MapIds`: writes gid_map and uid_map of `pid` (the kernel takes each
/// map in one write, once).
pub(crate) fn write_maps(pid: i32, maps: &IdMaps) -> Result<(), SysError> {
    let procfs = ProcfsHandle::new().map_err(|e| rootfs::path_err("open", "procfs", e))?;
    process::write_proc(&procfs, ProcfsBase::ProcRoot, &format!("{pid}/uid_map"), &maps.uid_map)?;
    process::write_proc(&procfs, ProcfsBase::ProcRoot, &format!("{pid}/gid_map"), &maps.gid_map)
}

#[cfg(test)]
mod tests {
    #[test]
    fn map_files_compare_by_ranges() {
        let kernel = "         0     100000      65536\n      1000       5000          1\n";
        assert_eq!(super::parse_map(kernel), super::parse_map("1000 5000 1\n0 100000 65536\n"));
        assert_ne!(super::parse_map(kernel), super::parse_map("0 100000 65536\n"));
    }
}
