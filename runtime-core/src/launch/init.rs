//! The child's ordered step list for `create`: from the clone to the execve of the user program.
//!
//! Runs in a fork-like child of a single-threaded runtime, so ordinary Rust is sound here; it never
//! returns into the parent's stack: every path ends in `execve` or `_exit`.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::console;
use super::process::{self, at, StepResult};
use super::protocol::{self, ChildMsg, ParentMsg};
use crate::error::{Step, SysError};
use crate::hooks;
use crate::plan::Plan;
use crate::rootfs;
use crate::sys;

/// What the parent hands to the child across the clone.
#[derive(Debug)]
pub(crate) struct ChildContext<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) sock: OwnedFd,
    /// O_PATH fd of the exec fifo, reopened for writing through procfs at the end.
    pub(crate) fifo: OwnedFd,
    /// Namespaces to join, opened by the parent: type, name, fd.
    pub(crate) ns_fds: Vec<(i32, &'static str, OwnedFd)>,
    /// cgroup.procs of each hierarchy, written "0" to join.
    pub(crate) cgroup_procs: Vec<BorrowedFd<'a>>,
    /// The cgroup is made around this process once cloned: wait for `CgroupReady` first.
    pub(crate) await_cgroup: bool,
    /// v1 hierarchy name -> host directory of the container's cgroup (for the cgroup mount).
    pub(crate) cgroup_paths: Vec<(String, PathBuf)>,
    /// Detached bind trees opened by the runtime (idmapped ones; all of them with a new user
    /// namespace): (index in the plan's mounts, tree).
    pub(crate) bind_trees: Vec<(usize, OwnedFd)>,
    /// A route socket in the host's network namespace, when devices are to be moved in.
    pub(crate) netlink: Option<OwnedFd>,
}

/// Runs the child to the end. Never returns.
pub(crate) fn run(ctx: ChildContext<'_>) -> ! {
    let sock = ctx.sock.as_fd();
    match setup(&ctx) {
        Ok(exec) => exec_program(&ctx, exec),
        Err(e) => {
            let _ = protocol::send(sock, &ChildMsg::Failed(e), &[], false);
            sys::process::exit_now(1)
        }
    }
}

/// The program to execute, resolved before `Ready` so a missing binary fails `create` (runc does so).
struct Exec {
    /// The init's pid as the runtime sees it (0 when no hook needed it).
    pid: i32,
    path: CString,
    env: Vec<CString>,
    procfs: ProcfsHandle,
}

fn setup(ctx: &ChildContext<'_>) -> StepResult<Exec> {
    let plan = ctx.plan;
    if ctx.await_cgroup {
        match protocol::recv::<ParentMsg>(ctx.sock.as_fd()).map_err(at(Step::Cgroup))?.msg {
            Some(ParentMsg::CgroupReady) => {}
            // The parent failed to make the cgroup and reports it; it kills us.
            _ => sys::process::exit_now(1),
        }
    }
    if plan.process.oom_score_adj.is_some() {
        // First, while dumpable and still the caller in the host's namespaces: an unprivileged
        // runtime may only open its own /proc files then (runc writes it before its clone). The
        // value survives everything below; lowering it needs CAP_SYS_RESOURCE, as on the host.
        let host_proc = ProcfsHandle::new().map_err(|e| at(Step::Credentials)(sys::path_err("open", "procfs", e)))?;
        process::oom_score_adj(&plan.process, &host_proc)?;
    }
    // Other container processes must not reach our memory or /proc/self/exe before the execve.
    sys::process::prctl(libc::PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE").map_err(at(Step::Spawn))?;
    process::initial_affinity(&plan.process)?;
    for fd in &ctx.cgroup_procs {
        sys::fs::write_all(*fd, b"0", "cgroup.procs").map_err(at(Step::Cgroup))?;
    }
    super::namespaces::enter(&plan.namespaces, &ctx.ns_fds, ctx.sock.as_fd())?;
    // A private procfs instance of our own pid namespace, made while we still may mount.
    let procfs = ProcfsHandle::new().map_err(|e| at(Step::Spawn)(sys::path_err("open", "procfs", e)))?;
    if let Some(host) = &ctx.netlink {
        let netns = procfs
            .open_follow(ProcfsBase::ProcThreadSelf, "ns/net", OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC)
            .map_err(|e| at(Step::Namespaces)(sys::path_err("open", "/proc/thread-self/ns/net", e)))?;
        super::netdev::move_in(host.as_fd(), netns.as_fd(), &plan.net_devices).map_err(at(Step::Namespaces))?;
    }
    identity(plan)?;
    let caller_mnt = if plan.rootfs.detached { Some(throwaway_mount_namespace(&procfs)?) } else { None };
    let (root, mut late_ro) =
        rootfs::prepare(&plan.rootfs, &ctx.cgroup_paths, &ctx.bind_trees).map_err(|(s, e)| at(s)(e))?;
    let pid = hooks_before_pivot(ctx, &root)?;
    rootfs::switch_root(&root, &plan.rootfs, caller_mnt.as_ref().map(|f| f.as_fd()), &mut late_ro, &procfs)
        .map_err(at(Step::Pivot))?;
    drop(caller_mnt);
    drop(root);
    for (path, value) in &plan.sysctl {
        process::write_proc(&procfs, ProcfsBase::ProcRoot, path, value).map_err(at(Step::Identity))?;
    }
    sys::process::setsid().map_err(at(Step::Console))?;
    if plan.process.terminal {
        console::setup_child(ctx.sock.as_fd(), plan.process.console_size, plan.rootfs.populate_dev)
            .map_err(at(Step::Console))?;
    }
    // Only now: /dev/console had to be bound onto a file in a writable /dev (runc's order).
    rootfs::finish_readonly(late_ro, &plan.rootfs).map_err(at(Step::Pivot))?;
    if plan.new_keyring {
        sys::process::join_session_keyring(&format!("_ses.{}", plan.id)).map_err(at(Step::Credentials))?;
    }
    process::lsm_labels(&plan.process, &procfs)?;
    process::credentials(&plan.process, plan.seccomp.as_ref(), ctx.sock.as_fd())?;
    process::seccomp_now(process::seccomp_before_ready(&plan.process, plan.seccomp.as_ref()), ctx.sock.as_fd())?;
    let path = process::lookup(&plan.process)?;
    let env = process::with_home(&plan.process);
    protocol::send(ctx.sock.as_fd(), &ChildMsg::Ready, &[], true).map_err(at(Step::Spawn))?;
    Ok(Exec { path, env, procfs, pid })
}

/// Without a mount namespace of the container's: the caller's, kept for the way back, and a
/// private one to prepare the root in (rootfs::switch_root leaves it with a copy of the root).
fn throwaway_mount_namespace(procfs: &ProcfsHandle) -> StepResult<OwnedFd> {
    let flags = OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC;
    let mnt = procfs
        .open_follow(ProcfsBase::ProcThreadSelf, "ns/mnt", flags)
        .map_err(|e| at(Step::Namespaces)(sys::path_err("open", "/proc/thread-self/ns/mnt", e)))?;
    sys::process::unshare(libc::CLONE_NEWNS).map_err(at(Step::Namespaces))?;
    Ok(OwnedFd::from(mnt))
}

/// createRuntime (and prestart) hooks run by the runtime, then createContainer hooks here, in the
/// container's namespaces with the host's paths still reachable (before pivot_root, as runc).
fn hooks_before_pivot(ctx: &ChildContext<'_>, root: &rootfs::RootDir) -> StepResult<i32> {
    let plan = ctx.plan;
    let mut pid = 0;
    if !plan.runtime_hooks().is_empty() {
        let sock = ctx.sock.as_fd();
        protocol::send(sock, &ChildMsg::RunHooks, &[], true).map_err(at(Step::Hooks))?;
        match protocol::recv::<ParentMsg>(sock).map_err(at(Step::Hooks))?.msg {
            Some(ParentMsg::HooksDone { pid: p }) => pid = p,
            _ => sys::process::exit_now(1),
        }
    }
    if let Some(hooks) = plan.hooks.create_container().as_ref().filter(|h| !h.is_empty()) {
        let state =
            hooks::state_json(&plan.oci_version, &plan.id, "creating", pid, &plan.rootfs.bundle, &plan.annotations);
        // runc runs them from inside the rootfs, with the container process's environment.
        sys::process::fchdir(root.as_fd(), "rootfs").map_err(at(Step::Hooks))?;
        hooks::run_in_container("createContainer", hooks, &state, &plan.process.env).map_err(hook_err)?;
    }
    Ok(pid)
}

fn hook_err(e: crate::Error) -> crate::ChildError {
    crate::ChildError { step: Step::Hooks, error: crate::ChildCause::Message(e.to_string()) }
}

fn identity(plan: &Plan) -> StepResult {
    if let Some(h) = plan.hostname.as_deref().filter(|h| !h.is_empty()) {
        sys::process::sethostname(h).map_err(at(Step::Identity))?;
    }
    if let Some(d) = plan.domainname.as_deref().filter(|d| !d.is_empty()) {
        sys::process::setdomainname(d).map_err(at(Step::Identity))?;
    }
    Ok(())
}

/// After `Ready`: wait for `start` on the exec fifo, then the shared final steps.
fn exec_program(ctx: &ChildContext<'_>, exec: Exec) -> ! {
    let p = &ctx.plan.process;
    let fifo = match crate::procfs::reopen(exec.procfs.as_fd(), ctx.fifo.as_fd(), libc::O_WRONLY, "exec fifo") {
        Ok(f) => f,
        Err(e) => process::fail_late(e),
    };
    if let Err(e) = sys::fs::write_all(fifo.as_fd(), b"0", "exec fifo") {
        process::fail_late(e)
    }
    drop(fifo);
    let plan = ctx.plan;
    // Loaded last, right before execve, so it constrains the program and not hull's own steps.
    let mut late = process::late_seccomp(plan.seccomp.as_ref());
    if let Some(hooks) = plan.hooks.start_container().as_ref().filter(|h| !h.is_empty()) {
        // As runc: with noNewPrivileges the filter is in place before startContainer hooks run
        // (without it, loading needs the CAP_SYS_ADMIN kept for final_exec, so it waits there).
        if let Some(prog) = late.take_if(|_| p.no_new_privileges) {
            if let Err(e) = sys::seccomp::install(&prog.filter, prog.flags) {
                process::fail_late(e)
            }
        }
        // In the container, after start, before the program: paths resolve in the container.
        let state =
            hooks::state_json(&plan.oci_version, &plan.id, "created", exec.pid, &plan.rootfs.bundle, &plan.annotations);
        if let Err(e) = hooks::run_in_container("startContainer", hooks, &state, &exec.env) {
            process::fail_late(SysError::check("startContainer hook", None, e.to_string()))
        }
    }
    process::final_exec(p, &exec.path, &exec.env, late, None)
}
