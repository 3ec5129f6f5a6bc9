//! The child's namespace steps for `create`: join by path, enter or make the user namespace and
//! become its root, unshare the late namespaces, have the runtime set time offsets, and fork where
//! the kernel only moves children.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::process::{self, at, StepResult};
use super::protocol::{self, ChildMsg, ParentMsg};
use crate::error::{ChildCause, ChildError, Step, SysError};
use crate::plan::{IdMaps, NamespacePlan};
use crate::rootless::{MapWriter, MapWriters};
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
        // An unprivileged runtime can only open /proc/PID/*_map of a dumpable process (runc
        // lifts the flag around this request too); nothing of the container is set up yet.
        let unprivileged = ns.map_writers != MapWriters::default();
        if unprivileged {
            sys::process::prctl(libc::PR_SET_DUMPABLE, 1, "PR_SET_DUMPABLE").map_err(at(Step::Namespaces))?;
        }
        request_maps(sock)?;
        if unprivileged {
            sys::process::prctl(libc::PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE").map_err(at(Step::Namespaces))?;
        }
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
    if ns.time_offsets.is_some() {
        // Not dumpable, we cannot open our own /proc/self/timens_offsets once in a user namespace
        // (the file belongs to the host's root): the runtime writes them (as runc 1.2 does).
        ask_parent(sock, ChildMsg::SetTimeOffsets, ParentMsg::TimeOffsetsSet)?;
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
    ProcfsHandle::new().map_err(|e| at(Step::Namespaces)(sys::path_err("open", "procfs", e)))
}

/// Asks the runtime to write our id maps (only a process outside the namespace can).
fn request_maps(sock: BorrowedFd<'_>) -> StepResult {
    ask_parent(sock, ChildMsg::MapIds, ParentMsg::IdsMapped)
}

/// Sends a request about our own /proc files and waits for its answer.
fn ask_parent(sock: BorrowedFd<'_>, ask: ChildMsg, answer: ParentMsg) -> StepResult {
    // No credentials: unmapped ids cannot be sent (EINVAL); the runtime knows our pid.
    protocol::send(sock, &ask, &[], false).map_err(at(Step::Namespaces))?;
    match protocol::recv::<ParentMsg>(sock).map_err(at(Step::Namespaces))?.msg {
        Some(m) if m == answer => Ok(()),
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
        .map_err(|e| at(Step::Namespaces)(sys::path_err("open", &shown, e)))?;
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

/// The runtime's side of `MapIds`: writes uid_map and gid_map of `pid` (the kernel takes each
/// map in one write, once), directly or through newuidmap/newgidmap.
pub(crate) fn write_maps(pid: i32, maps: &IdMaps, with: &MapWriters) -> Result<(), SysError> {
    let procfs = ProcfsHandle::new().map_err(|e| sys::path_err("open", "procfs", e))?;
    for (file, text, writer) in [("uid_map", &maps.uid_map, &with.uid), ("gid_map", &maps.gid_map, &with.gid)] {
        match writer {
            MapWriter::Direct => {}
            MapWriter::DenySetgroups => {
                process::write_proc(&procfs, ProcfsBase::ProcRoot, &format!("{pid}/setgroups"), "deny")?
            }
            MapWriter::Helper(tool) => {
                run_helper(tool, pid, text)?;
                continue;
            }
        }
        process::write_proc(&procfs, ProcfsBase::ProcRoot, &format!("{pid}/{file}"), text)?;
    }
    Ok(())
}

/// Runs newuidmap/newgidmap (setuid root; they check the ranges against /etc/subuid, /etc/subgid).
fn run_helper(tool: &std::path::Path, pid: i32, text: &str) -> Result<(), SysError> {
    let shown = tool.display().to_string();
    let out = std::process::Command::new(tool)
        .arg(pid.to_string())
        .args(crate::rootless::helper_args(text))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| SysError::io("run", Some(&shown), &e))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_owned();
    Err(SysError::check("run", Some(&shown), format!("{} ({said})", out.status)))
}

/// The runtime's side of `SetTimeOffsets`: writes the offsets of the time namespace `pid` has
/// unshared (its children's), before any process is in it.
pub(crate) fn write_time_offsets(pid: i32, text: &str) -> Result<(), SysError> {
    let procfs = ProcfsHandle::new().map_err(|e| sys::path_err("open", "procfs", e))?;
    process::write_proc(&procfs, ProcfsBase::ProcRoot, &format!("{pid}/timens_offsets"), text)
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
