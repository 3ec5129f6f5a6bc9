//! The process steps shared by `create`'s init and `exec`: credentials, seccomp, the program
//! lookup, the environment, and the final execve with every foreign fd closed.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd};

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::protocol::{self, ChildMsg};
use crate::error::{ChildCause, ChildError, Step, SysError};
use crate::plan::ProcessPlan;
use crate::seccomp::Program;
use crate::sys;

pub(crate) type StepResult<T = ()> = Result<T, ChildError>;

/// Wraps a `SysError` as the child's error at `step`.
pub(crate) fn at(step: Step) -> impl Fn(SysError) -> ChildError {
    move |e| ChildError { step, error: ChildCause::Sys(e) }
}

/// Installs the filter and hands a notify listener to the runtime.
pub(crate) fn seccomp_now(prog: Option<&Program>, sock: BorrowedFd<'_>) -> StepResult {
    let Some(prog) = prog else { return Ok(()) };
    if let Some(listener) = sys::seccomp::install(&prog.filter, prog.flags).map_err(at(Step::Seccomp))? {
        protocol::send(sock, &ChildMsg::SeccompListener, &[listener.as_fd()], true).map_err(at(Step::Seccomp))?;
    }
    Ok(())
}

/// Loading a filter without no_new_privs needs CAP_SYS_ADMIN in the effective set.
const CAP_SYS_ADMIN: u64 = 1 << 21;

/// rlimits, then runc's privilege-drop order: bounding set while privileged, keep caps across the
/// uid switch, groups, gid, uid, then the final capability sets and the ambient set.
///
/// A filter loaded late without no_new_privs needs CAP_SYS_ADMIN at load time: it stays effective
/// (never in the bounding, inheritable or ambient sets, so nothing exec'd before gains it) until
/// [`final_exec`] loads the filter and drops it with one `capset`.
pub(crate) fn credentials(p: &ProcessPlan, seccomp: Option<&Program>, sock: BorrowedFd<'_>) -> StepResult {
    let err = at(Step::Credentials);
    attrs(p)?;
    for r in &p.rlimits {
        sys::process::setrlimit(r.resource, r.soft, r.hard, &r.name).map_err(&err)?;
    }
    if !p.no_new_privileges {
        // A listener must reach the runtime over the socket: load it now, while privileged.
        seccomp_now(seccomp.filter(|s| s.needs_listener()), sock)?;
    }
    // runc's order: the cwd is entered while still privileged, so a directory only root may
    // enter works for any user; a failure is retried as the final user below (root squashed
    // on NFS, for one).
    let entered = sys::process::chdir(&p.cwd).is_ok();
    let held = held_for_seccomp(p, seccomp);
    for cap in 0..64u64 {
        if p.caps.bounding & (1 << cap) == 0 {
            match sys::process::prctl(libc::PR_CAPBSET_DROP, cap, "PR_CAPBSET_DROP") {
                // EINVAL: past the kernel's last capability.
                Err(e) if e.errno == libc::EINVAL => break,
                r => r.map_err(&err)?,
            };
        }
    }
    if p.terminal {
        // runc: the user must be able to use its console, so the pty (our stdin) becomes the
        // user's; the group stays devpts's. EINVAL/EPERM: an id not mapped in a user namespace.
        match sys::fs::fchown(sys::process::stdin(), p.uid, u32::MAX, "console") {
            Err(e) if e.errno == libc::EINVAL || e.errno == libc::EPERM => {}
            r => r.map_err(&err)?,
        }
    }
    sys::process::prctl(libc::PR_SET_KEEPCAPS, 1, "PR_SET_KEEPCAPS").map_err(&err)?;
    match sys::process::setgroups(&p.additional_gids) {
        // Only when setgroups is denied in our user namespace (a rootless single-gid mapping,
        // where we hold CAP_SETGID otherwise): runc skips setgroups there too.
        Err(e) if e.errno == libc::EPERM && p.additional_gids.is_empty() => {}
        Err(e) if e.errno == libc::EPERM => {
            return Err(err(e.with_detail(
                "setgroups is denied in this user namespace (rootless, one gid mapped): additional gids need \
                 gid ranges mapped through newgidmap",
            )))
        }
        r => r.map_err(&err)?,
    }
    sys::process::setresgid(p.gid).map_err(&err)?;
    sys::process::setresuid(p.uid).map_err(&err)?;
    sys::process::prctl(libc::PR_SET_KEEPCAPS, 0, "PR_SET_KEEPCAPS").map_err(&err)?;
    sys::process::capset(p.caps.effective | held, p.caps.permitted | held, p.caps.inheritable).map_err(&err)?;
    sys::process::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as u64, "PR_CAP_AMBIENT").map_err(&err)?;
    for cap in 0..64u64 {
        if p.caps.ambient & (1 << cap) != 0 {
            sys::process::prctl_ambient_raise(cap).map_err(&err)?;
        }
    }
    if !entered {
        sys::process::chdir(&p.cwd).map_err(at(Step::Exec))?;
    }
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

/// Scheduler, I/O priority, memory policy and personality, while we still hold the capabilities
/// a realtime policy or class needs.
fn attrs(p: &ProcessPlan) -> StepResult {
    let err = at(Step::Credentials);
    let a = &p.attrs;
    if let Some(s) = &a.scheduler {
        sys::sched::sched_setattr(s.policy, s.flags, s.nice, s.priority, [s.runtime, s.deadline, s.period])
            .map_err(&err)?;
    }
    if let Some(v) = a.ioprio {
        sys::sched::ioprio_set(v).map_err(&err)?;
    }
    if let Some(m) = &a.mempolicy {
        sys::sched::set_mempolicy(m.mode, &m.nodes).map_err(&err)?;
    }
    if let Some(v) = a.personality {
        sys::sched::personality(v).map_err(&err)?;
    }
    Ok(())
}

/// The LSM labels for the coming execve, written through the private procfs (so a container's
/// own /proc cannot redirect them, CVE-2019-16884 / CVE-2025-52881).
pub(crate) fn lsm_labels(p: &ProcessPlan, procfs: &ProcfsHandle) -> StepResult {
    let err = at(Step::Credentials);
    if let Some(profile) = &p.attrs.apparmor {
        let value = format!("exec {profile}");
        // The LSM-specific file first (Linux 5.1+ with stacking), then the shared one.
        write_proc(procfs, ProcfsBase::ProcThreadSelf, "attr/apparmor/exec", &value)
            .or_else(|_| write_proc(procfs, ProcfsBase::ProcThreadSelf, "attr/exec", &value))
            .map_err(&err)?;
    }
    if let Some(label) = &p.attrs.selinux_label {
        write_proc(procfs, ProcfsBase::ProcThreadSelf, "attr/exec", label).map_err(&err)?;
    }
    Ok(())
}

/// execCPUAffinity.initial: where the runtime's own steps run inside the container.
pub(crate) fn initial_affinity(p: &ProcessPlan) -> StepResult {
    match &p.attrs.affinity_initial {
        Some(m) => sys::sched::sched_setaffinity(m).map_err(at(Step::Spawn)),
        None => Ok(()),
    }
}

/// Finds the program like runc (exec.LookPath with the container's PATH), inside the new root.
pub(crate) fn lookup(p: &ProcessPlan) -> StepResult<CString> {
    let not_found = |m: String| ChildError { step: Step::Exec, error: ChildCause::Message(m) };
    // The plan refuses empty args; checked again rather than indexed.
    let first = p.args.first().ok_or_else(|| not_found("exec: process.args is empty".into()))?;
    let arg0 = first.to_string_lossy().into_owned();
    let is_exec = |path: &str| {
        std::fs::metadata(path)
            .map(|m| m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
    };
    if arg0.contains('/') {
        return match is_exec(&arg0) {
            Ok(true) => Ok(first.clone()),
            Ok(false) => Err(not_found(format!("exec: {arg0:?}: permission denied"))),
            Err(e) => Err(not_found(format!("exec: {arg0:?}: stat {arg0}: {}", crate::io_error_text(&e)))),
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
pub(crate) fn with_home(p: &ProcessPlan) -> Vec<CString> {
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

/// Writes `value` to a /proc file through the private procfs handle (checked to be procfs, so a
/// container cannot redirect the write with its own mounts or symlinks).
pub(crate) fn write_proc(procfs: &ProcfsHandle, base: ProcfsBase, sub: &str, value: &str) -> Result<(), SysError> {
    let shown = match base {
        ProcfsBase::ProcSelf => format!("/proc/self/{sub}"),
        _ => format!("/proc/{sub}"),
    };
    let f = procfs
        .open(base, sub, OpenFlags::O_WRONLY | OpenFlags::O_CLOEXEC)
        .map_err(|e| crate::sys::path_err("open", &shown, e))?;
    sys::fs::write_all(f.as_fd(), value.as_bytes(), &shown)
}

/// process.oomScoreAdj, before the privilege drop (lowering it needs CAP_SYS_RESOURCE).
pub(crate) fn oom_score_adj(p: &ProcessPlan, procfs: &ProcfsHandle) -> StepResult {
    match p.oom_score_adj {
        Some(v) => {
            write_proc(procfs, ProcfsBase::ProcSelf, "oom_score_adj", &v.to_string()).map_err(at(Step::Credentials))
        }
        None => Ok(()),
    }
}

/// Ends a child whose runtime is already gone: the process's stderr is all that is left.
pub(crate) fn fail_late(e: SysError) -> ! {
    let msg = format!("hull: {e}\n");
    let _ = sys::fs::write_all(sys::process::stderr(), msg.as_bytes(), "stderr");
    sys::process::exit_now(127)
}

/// Marks every fd beyond stdio and the preserved ones close-on-exec (the kernel closes them at
/// execve, before the program runs), resets signal dispositions, loads a late seccomp filter and
/// execs: the filter goes in last, so a profile needs to allow nothing of the runtime's but the
/// execve (and, without no_new_privs, the `capset` that drops what loading needed). With
/// `report`, a failure goes to the runtime over that socket, whose closing at execve tells the
/// runtime that the program is running. Never returns.
pub(crate) fn final_exec(
    p: &ProcessPlan,
    path: &CString,
    env: &[CString],
    late_seccomp: Option<&Program>,
    report: Option<BorrowedFd<'_>>,
) -> ! {
    let fail = |e: SysError| -> ! {
        if let Some(sock) = report {
            let err = ChildError { step: Step::Exec, error: ChildCause::Sys(e.clone()) };
            if protocol::send(sock, &ChildMsg::Failed(err), &[], false).is_ok() {
                sys::process::exit_now(127)
            }
        }
        // No runtime to tell (or the filter refuses the socket): the process's stderr is left.
        fail_late(e)
    };
    let first = 3 + p.preserve_fds;
    for fd in 3..first {
        if let Err(e) = sys::process::clear_cloexec(fd as i32) {
            fail(e)
        }
    }
    if let Err(e) = sys::process::close_range(first, true) {
        fail(e)
    }
    if let Some(m) = &p.attrs.affinity_final {
        if let Err(e) = sys::sched::sched_setaffinity(m) {
            fail(e)
        }
    }
    sys::process::reset_signals();
    if let Some(prog) = late_seccomp {
        if let Err(e) = sys::seccomp::install(&prog.filter, prog.flags) {
            fail(e)
        }
        if held_for_seccomp(p, Some(prog)) != 0 {
            // Failing closed: the program must never run with what loading needed.
            if let Err(e) = sys::process::capset(p.caps.effective, p.caps.permitted, p.caps.inheritable) {
                fail(e)
            }
        }
    }
    fail(sys::process::execve(path, &p.args, env))
}

/// Capabilities the process holds beyond its own until a late filter is loaded without
/// no_new_privs (CAP_SYS_ADMIN, unless the container keeps it anyway).
fn held_for_seccomp(p: &ProcessPlan, prog: Option<&Program>) -> u64 {
    match late_seccomp(prog) {
        Some(_) if !p.no_new_privileges => CAP_SYS_ADMIN & !p.caps.effective,
        _ => 0,
    }
}

/// The filter to install right before the execve, if any: every filter without a listener to hand
/// over (with no_new_privs, or holding CAP_SYS_ADMIN until then without it).
pub(crate) fn late_seccomp(prog: Option<&Program>) -> Option<&Program> {
    prog.filter(|s| !s.needs_listener())
}

/// The filter to install right after the credentials (before `Ready`), if any.
pub(crate) fn seccomp_before_ready<'a>(p: &ProcessPlan, prog: Option<&'a Program>) -> Option<&'a Program> {
    // Without no_new_privs a listener's filter was installed inside credentials(), still privileged.
    prog.filter(|s| p.no_new_privileges && s.needs_listener())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Plan, PlanOptions};

    fn process(no_new_privs: bool, caps: &[&str]) -> ProcessPlan {
        let mut v = crate::plan::tests::base();
        v["process"]["noNewPrivileges"] = json!(no_new_privs);
        v["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
        let dir = std::env::temp_dir().join(format!("hull-process-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        let bundle = crate::bundle::Bundle::from_spec(dir, serde_json::from_value(v).unwrap()).unwrap();
        let host = crate::host::HostInfo::detect().unwrap();
        Plan::build("t", &bundle, &PlanOptions::default(), &host).unwrap().process
    }

    fn program(listener: bool) -> Program {
        let mut v =
            json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}]});
        if listener {
            v["listenerPath"] = json!("/run/agent.sock");
            v["syscalls"][0]["action"] = json!("SCMP_ACT_NOTIFY");
        }
        crate::seccomp::compile(&serde_json::from_value(v).unwrap()).unwrap()
    }

    #[test]
    fn every_filter_without_a_listener_goes_in_last() {
        let (plain, notify) = (program(false), program(true));
        assert!(late_seccomp(Some(&plain)).is_some());
        assert!(late_seccomp(Some(&notify)).is_none(), "its listener must reach the runtime before Ready");
        assert!(late_seccomp(None).is_none());
        assert!(seccomp_before_ready(&process(true, &[]), Some(&notify)).is_some());
        assert!(seccomp_before_ready(&process(false, &[]), Some(&notify)).is_none(), "loaded in credentials()");
    }

    #[test]
    fn cap_sys_admin_is_held_only_to_load_a_filter_without_no_new_privs() {
        let plain = program(false);
        assert_eq!(held_for_seccomp(&process(false, &["CAP_KILL"]), Some(&plain)), CAP_SYS_ADMIN);
        assert_eq!(held_for_seccomp(&process(true, &["CAP_KILL"]), Some(&plain)), 0, "no_new_privs suffices");
        assert_eq!(held_for_seccomp(&process(false, &["CAP_SYS_ADMIN"]), Some(&plain)), 0, "kept anyway");
        assert_eq!(held_for_seccomp(&process(false, &["CAP_KILL"]), None), 0);
        assert_eq!(held_for_seccomp(&process(false, &["CAP_KILL"]), Some(&program(true))), 0, "loaded early");
    }
}
