//! The child's ordered step list for `create`: from the clone to the execve of the user program.
//!
//! Runs in a fork-like child of a single-threaded runtime, so ordinary Rust is sound here; it never
//! returns into the parent's stack: every path ends in `execve` or `_exit`.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::console;
use super::protocol::{self, ChildMsg};
use crate::error::{ChildCause, ChildError, Step, SysError};
use crate::plan::{Plan, ProcessPlan};
use crate::rootfs;
use crate::sys;
use crate::sys::process::Forked;

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
    /// v1 hierarchy name -> host directory of the container's cgroup (for the cgroup mount).
    pub(crate) cgroup_paths: Vec<(String, PathBuf)>,
}

type StepResult<T = ()> = Result<T, ChildError>;

fn at(step: Step) -> impl Fn(SysError) -> ChildError {
    move |e| ChildError { step, error: ChildCause::Sys(e) }
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
    path: CString,
    env: Vec<CString>,
    procfs: ProcfsHandle,
}

fn setup(ctx: &ChildContext<'_>) -> StepResult<Exec> {
    let plan = ctx.plan;
    // Other container processes must not reach our memory or /proc/self/exe before the execve.
    sys::process::prctl(libc::PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE").map_err(at(Step::Spawn))?;
    for fd in &ctx.cgroup_procs {
        sys::fs::write_all(*fd, b"0", "cgroup.procs").map_err(at(Step::Cgroup))?;
    }
    for (nstype, kind, fd) in &ctx.ns_fds {
        sys::process::setns(fd.as_fd(), *nstype, kind).map_err(at(Step::Namespaces))?;
    }
    if plan.namespaces.second_fork {
        // setns(CLONE_NEWPID) only places our children in the namespace.
        if let Forked::Parent(_) = sys::process::fork().map_err(at(Step::Namespaces))? {
            sys::process::exit_now(0);
        }
    }
    if plan.namespaces.unshare_flags != 0 {
        sys::process::unshare(plan.namespaces.unshare_flags).map_err(at(Step::Namespaces))?;
    }
    // A private procfs instance of our own pid namespace, made while we still may mount.
    let procfs = ProcfsHandle::new().map_err(|e| at(Step::Spawn)(rootfs::path_err("open", "procfs", e)))?;
    identity(plan)?;
    let root = rootfs::prepare(&plan.rootfs, &ctx.cgroup_paths).map_err(|(s, e)| at(s)(e))?;
    rootfs::switch_root(&root, plan.rootfs.no_pivot, plan.rootfs.propagation).map_err(at(Step::Pivot))?;
    drop(root);
    if plan.rootfs.readonly {
        rootfs::finish_readonly_root().map_err(at(Step::Pivot))?;
    }
    sys::process::setsid().map_err(at(Step::Console))?;
    if plan.process.terminal {
        console::setup_child(ctx.sock.as_fd(), plan.process.console_size, plan.rootfs.populate_dev)
            .map_err(at(Step::Console))?;
    }
    if plan.new_keyring {
        sys::process::join_session_keyring(&format!("_ses.{}", plan.id)).map_err(at(Step::Credentials))?;
    }
    credentials(plan, ctx.sock.as_fd())?;
    if plan.process.no_new_privileges && plan.seccomp.as_ref().is_some_and(|s| s.needs_listener()) {
        // The listener must reach the runtime before it exits, so no late install here.
        seccomp_now(plan, ctx.sock.as_fd())?;
    }
    let path = lookup(&plan.process)?;
    let env = with_home(&plan.process);
    protocol::send(ctx.sock.as_fd(), &ChildMsg::Ready, &[], true).map_err(at(Step::Spawn))?;
    Ok(Exec { path, env, procfs })
}

/// Installs the filter and hands a notify listener to the runtime.
fn seccomp_now(plan: &Plan, sock: BorrowedFd<'_>) -> StepResult {
    let Some(prog) = &plan.seccomp else { return Ok(()) };
    if let Some(listener) = sys::seccomp::install(prog).map_err(at(Step::Seccomp))? {
        protocol::send(sock, &ChildMsg::SeccompListener, &[listener.as_fd()], true).map_err(at(Step::Seccomp))?;
    }
    Ok(())
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

/// rlimits, then runc's privilege-drop order: bounding set while privileged, keep caps across the
/// uid switch, groups, gid, uid, then the final capability sets and the ambient set.
fn credentials(plan: &Plan, sock: BorrowedFd<'_>) -> StepResult {
    let p = &plan.process;
    let err = at(Step::Credentials);
    for r in &p.rlimits {
        sys::process::setrlimit(r.resource, r.soft, r.hard, &r.name).map_err(&err)?;
    }
    if !p.no_new_privileges {
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before dropping caps.
        seccomp_now(plan, sock)?;
    }
    for cap in 0..64u64 {
        if p.caps.bounding & (1 << cap) == 0 {
            match sys::process::prctl(libc::PR_CAPBSET_DROP, cap, "PR_CAPBSET_DROP") {
                // EINVAL: past the kernel's last capability.
                Err(e) if e.errno == libc::EINVAL => break,
                r => r.map_err(&err)?,
            };
        }
    }
    sys::process::prctl(libc::PR_SET_KEEPCAPS, 1, "PR_SET_KEEPCAPS").map_err(&err)?;
    sys::process::setgroups(&p.additional_gids).map_err(&err)?;
    sys::process::setresgid(p.gid).map_err(&err)?;
    sys::process::setresuid(p.uid).map_err(&err)?;
    sys::process::prctl(libc::PR_SET_KEEPCAPS, 0, "PR_SET_KEEPCAPS").map_err(&err)?;
    sys::process::capset(p.caps.effective, p.caps.permitted, p.caps.inheritable).map_err(&err)?;
    sys::process::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as u64, "PR_CAP_AMBIENT").map_err(&err)?;
    for cap in 0..64u64 {
        if p.caps.ambient & (1 << cap) != 0 {
            sys::process::prctl_ambient_raise(cap).map_err(&err)?;
        }
    }
    sys::process::chdir(&p.cwd).map_err(at(Step::Exec))?;
    let cwd = sys::process::getcwd().map_err(at(Step::Exec))?;
    if !cwd.starts_with('/') {
        return Err(at(Step::Exec)(SysError::check("chdir", Some(&p.cwd), "cwd is outside the container")));
    }
    sys::process::umask(p.umask);
    if p.no_new_privileges {
        sys::process::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS").map_err(&err)?;
    }
    Ok(())
}

/// Finds the program like runc (exec.LookPath with the container's PATH), inside the new root.
fn lookup(p: &ProcessPlan) -> StepResult<CString> {
    let arg0 = p.args[0].to_string_lossy().into_owned();
    let not_found = |m: String| ChildError { step: Step::Exec, error: ChildCause::Message(m) };
    let is_exec = |path: &str| {
        std::fs::metadata(path)
            .map(|m| m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
    };
    if arg0.contains('/') {
        return match is_exec(&arg0) {
            Ok(true) => Ok(p.args[0].clone()),
            Ok(false) => Err(not_found(format!("exec: {arg0:?}: permission denied"))),
            Err(e) => Err(not_found(format!("exec: {arg0:?}: stat {arg0}: {}", errno_text(&e)))),
        };
    }
    for dir in p.path_env.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = format!("{dir}/{arg0}");
        if let Ok(true) = is_exec(&cand) {
            return CString::new(cand).map_err(|_| not_found(format!("exec: {arg0:?}: invalid path")));
        }
    }
    Err(not_found(format!("exec: {arg0:?}: executable file not found in $PATH")))
}

/// The environment, with HOME from the container's /etc/passwd when the config sets none (runc).
fn with_home(p: &ProcessPlan) -> Vec<CString> {
    let mut env = p.env.clone();
    if env.iter().any(|e| e.as_bytes().starts_with(b"HOME=")) {
        return env;
    }
    let home = crate::passwd::home_of(p.uid).unwrap_or_else(|| "/".to_owned());
    if let Ok(c) = CString::new(format!("HOME={home}")) {
        env.push(c);
    }
    env
}

fn errno_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_lowercase(),
        None => e.to_string(),
    }
}

/// After `Ready`: wait for `start` on the exec fifo, load a late seccomp filter, close every fd we
/// do not pass on, and execve.
fn exec_program(ctx: &ChildContext<'_>, exec: Exec) -> ! {
    let p = &ctx.plan.process;
    let fail = |e: SysError| -> ! {
        // The runtime is gone by now; the container's stderr is all we have.
        let msg = format!("hull: {e}\n");
        let _ = sys::fs::write_all(sys::process::stderr(), msg.as_bytes(), "stderr");
        sys::process::exit_now(127)
    };
    let fifo_path = format!("fd/{}", ctx.fifo.as_raw_fd());
    let fifo = match exec.procfs.open_follow(
        ProcfsBase::ProcThreadSelf,
        &fifo_path,
        OpenFlags::O_WRONLY | OpenFlags::O_CLOEXEC,
    ) {
        Ok(f) => f,
        Err(e) => fail(rootfs::path_err("open", "exec fifo", e)),
    };
    if let Err(e) = sys::fs::write_all(fifo.as_fd(), b"0", "exec fifo") {
        fail(e)
    }
    drop(fifo);
    if let Some(prog) = ctx.plan.seccomp.as_ref().filter(|s| p.no_new_privileges && !s.needs_listener()) {
        // As late as possible: everything above runs unfiltered, only execve follows.
        if let Err(e) = sys::seccomp::install(prog) {
            fail(e)
        }
    }
    let first = 3 + p.preserve_fds;
    for fd in 3..first {
        if let Err(e) = sys::process::clear_cloexec(fd as i32) {
            fail(e)
        }
    }
    if let Err(e) = sys::process::close_range(first, false) {
        fail(e)
    }
    sys::process::reset_signals();
    fail(sys::process::execve(&exec.path, &p.args, &exec.env))
}
