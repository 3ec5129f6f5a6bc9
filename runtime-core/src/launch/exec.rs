//! `exec`: the child's ordered step list for a process joining a running container, and the
//! runtime side that starts it. Nothing of the spec is re-read: the process comes from the
//! caller, the namespaces from the init's pidfd, the cgroup and seccomp profile from the state.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompFilterFlag, Process};

use super::console;
use super::parent::{serve, Expect};
use super::process::{self, at, StepResult};
use super::protocol::{self, ChildMsg};
use super::{wrong_state, Execed};
use crate::error::{Error, Operation, Result, Step, StepExt, SysError};
use crate::options::{ConsoleMode, ExecOptions};
use crate::plan::{self, PlanOptions, ProcessPlan};
use crate::seccomp::{self, Program};
use crate::state::{self, State, Status};
use crate::sys;
use crate::sys::process::Forked;

struct ExecContext<'a> {
    process: &'a ProcessPlan,
    seccomp: Option<&'a Program>,
    sock: OwnedFd,
    pidfd: BorrowedFd<'a>,
    ns_flags: i32,
    /// The init's root, for a container without a mount namespace of its own (no setns brings it).
    root: Option<OwnedFd>,
    cgroup_procs: Vec<OwnedFd>,
    preserve_fds: u32,
}

/// Starts `opts.process` inside the running container whose state is `c`.
pub(crate) fn exec(c: &State, opts: &ExecOptions) -> Result<Execed> {
    match c.status {
        Status::Stopped | Status::Creating => return Err(wrong_state(c, Operation::Exec, Status::Stopped)),
        Status::Paused if !opts.ignore_paused => return Err(wrong_state(c, Operation::Exec, Status::Paused)),
        _ => {}
    }
    let pidfd = super::init_pidfd(c, Operation::Pidfd)?;
    let mut process = opts.process.clone();
    if let Some(spec) = &opts.user {
        apply_user(c, pidfd.as_fd(), spec, &mut process)?;
    }
    let popts = PlanOptions {
        systemd_cgroup: false,
        console: !matches!(opts.console, ConsoleMode::None),
        preserve_fds: opts.preserve_fds,
        ..Default::default()
    };
    let mut proc_plan = plan::process_plan(&process, &popts)?;
    // linux.personality is the container's, not the init's alone.
    proc_plan.attrs.personality = c.internal.personality;
    plan::process_lsm(&proc_plan)?;
    if proc_plan.terminal && !popts.console {
        return Err(Error::InvalidConfig("cannot allocate tty without setting console socket".into()));
    }
    let seccomp = match &c.internal.seccomp {
        Some(v) => {
            let mut spec: LinuxSeccomp = serde_json::from_value(v.clone())
                .map_err(|e| Error::InvalidConfig(format!("stored seccomp profile: {e}")))?;
            if c.internal.seccomp_wait_killable {
                // A state written before oci-spec could carry the flag in the profile itself.
                let mut flags = spec.flags().clone().unwrap_or_default();
                flags.push(LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv);
                spec.set_flags(Some(flags));
            }
            Some(seccomp::compile(&spec)?)
        }
        None => None,
    };
    for fd in 3..3 + opts.preserve_fds {
        if !sys::process::fd_is_open(fd as i32) {
            return Err(Error::InvalidArgument(format!("--preserve-fds: file descriptor {fd} is not open")));
        }
    }
    let cgroup_procs = open_procs(c, &opts.sub_cgroups)?;
    let root = match c.internal.ns_flags & libc::CLONE_NEWNS {
        0 => Some(init_root(c, pidfd.as_fd())?),
        _ => None,
    };
    let forks = c.internal.ns_flags & libc::CLONE_NEWPID != 0;
    // The process is a grandchild; a subreaper until the intermediate is reaped makes it ours
    // to wait for (the guard is never dropped in the child, which execs).
    let _reaper = if forks && !opts.detach { Some(crate::subreaper::Scope::enter().step(Step::Spawn)?) } else { None };
    let (parent_sock, child_sock) = sys::socket::seqpacket_pair().step(Step::Spawn)?;
    sys::socket::enable_passcred(parent_sock.as_fd()).step(Step::Spawn)?;
    match sys::process::clone3(0, None).step(Step::Spawn)? {
        Forked::Child => {
            drop(parent_sock);
            run(ExecContext {
                preserve_fds: opts.preserve_fds,
                process: &proc_plan,
                seccomp: seccomp.as_ref(),
                sock: child_sock,
                pidfd: pidfd.as_fd(),
                ns_flags: c.internal.ns_flags,
                root,
                cgroup_procs,
            })
        }
        Forked::Parent(child) => {
            drop(child_sock);
            drop(cgroup_procs);
            drop(root);
            let st = c;
            let state = |pid: i32| {
                serde_json::json!({"ociVersion": st.oci_version, "id": st.id, "status": "running", "pid": pid,
                    "bundle": st.bundle, "annotations": st.annotations})
            };
            let expect = Expect {
                terminal: proc_plan.terminal,
                console: &opts.console,
                seccomp: seccomp.as_ref(),
                state: &state,
                hooks: Vec::new(),
                id_maps: None,
                time_offsets: None,
            };
            let served = serve(&parent_sock, child, &expect);
            let (pid, console) = match served {
                Ok(v) => v,
                Err(e) => {
                    let _ = sys::process::kill_child(child, libc::SIGKILL);
                    let _ = sys::process::wait_child(child);
                    return Err(e);
                }
            };
            if forks {
                sys::process::wait_child(child).step(Step::Spawn)?;
            }
            // In a paused container the process freezes before its execve; do not wait for it.
            if c.status != Status::Paused {
                wait_for_execve(&parent_sock, pid, forks)?;
            }
            if let Some(p) = &opts.pid_file {
                state::write_pid_file(p, pid)?;
            }
            Ok(Execed { pid, console })
        }
    }
}

/// Waits until the process's end of the socket closes (its execve) or it reports a failure.
fn wait_for_execve(sock: &OwnedFd, pid: i32, forked: bool) -> Result<()> {
    match protocol::recv::<ChildMsg>(sock.as_fd()).step(Step::Exec)?.msg {
        None => Ok(()),
        Some(ChildMsg::Failed(e)) => {
            if !forked {
                let _ = sys::process::wait_child(pid);
            }
            Err(Error::Child(e))
        }
        Some(other) => Err(Error::sys(Step::Exec, SysError::check("protocol", None, format!("unexpected {other:?}")))),
    }
}

/// cgroup.procs of each of the container's cgroup directories (or of the requested sub-cgroups),
/// opened for the child to join. A sub-cgroup must exist: it is never created here.
fn open_procs(c: &State, sub_specs: &[String]) -> Result<Vec<OwnedFd>> {
    let paths = &c.internal.cgroup_paths;
    let subs = sub_cgroups(sub_specs, paths)?;
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for (key, base) in paths {
        let dir = match subs.get(key) {
            Some(sub) => base.join(sub),
            None => base.clone(),
        };
        if seen.contains(&dir) {
            continue;
        }
        let p = dir.join("cgroup.procs");
        seen.push(dir);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .map_err(|e| Error::sys(Step::Cgroup, SysError::io("open", Some(&p.to_string_lossy()), &e)))?;
        out.push(OwnedFd::from(f));
    }
    Ok(out)
}

/// Parses runc's `--cgroup` values into a relative sub-path per cgroup key (controller name, or
/// "" for the unified hierarchy); a later value overrides an earlier one for the same key.
fn sub_cgroups(specs: &[String], paths: &BTreeMap<String, PathBuf>) -> Result<BTreeMap<String, PathBuf>> {
    let unified_only = paths.keys().all(|k| k.is_empty());
    let mut out = BTreeMap::new();
    for spec in specs {
        let (ctrls, path) = match spec.split_once(':') {
            Some((c, p)) => (Some(c), p),
            None => (None, spec.as_str()),
        };
        let sub = sub_path(path)?;
        match ctrls {
            None => paths.keys().for_each(|k| drop(out.insert(k.clone(), sub.clone()))),
            Some(_) if unified_only => {
                return Err(Error::InvalidArgument(format!(
                    "--cgroup {spec}: cgroup v2 takes a path without controllers"
                )))
            }
            Some(list) => {
                for ctrl in list.split(',') {
                    if !paths.contains_key(ctrl) || ctrl.is_empty() {
                        return Err(Error::InvalidArgument(format!("unknown controller {ctrl} in SubCgroupPaths")));
                    }
                    out.insert(ctrl.to_owned(), sub.clone());
                }
            }
        }
    }
    Ok(out)
}

/// A cgroup path below the container's own, cleaned lexically; `..` may not climb out of it.
fn sub_path(p: &str) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for comp in Path::new(p).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::ParentDir if out.pop() => {}
            Component::ParentDir => return Err(Error::InvalidArgument(format!("{p} is not a sub cgroup path"))),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

/// Applies a `--user` spec; names are looked up in the container's own files, read through its
/// init's root (`/proc/PID/root` of the pidfd-checked init, resolved with the root as the limit).
fn apply_user(c: &State, pidfd: BorrowedFd<'_>, spec: &str, p: &mut Process) -> Result<()> {
    let named = spec.split(':').any(|part| !part.bytes().all(|b| b.is_ascii_digit()));
    let (passwd, group) = if named {
        let root = container_root(c, pidfd)?;
        let read = |path| crate::passwd::read_in_root(&root, path).map_err(|e| Error::sys(Step::Credentials, e));
        (read("etc/passwd")?, read("etc/group")?)
    } else {
        (None, None)
    };
    let u = crate::passwd::resolve(spec, passwd.as_deref(), group.as_deref()).map_err(Error::InvalidArgument)?;
    let mut user = p.user().clone();
    user.set_uid(u.uid);
    if let Some(gid) = u.gid {
        user.set_gid(gid);
    }
    if !u.sgids.is_empty() {
        let mut gids = u.sgids;
        gids.extend(user.additional_gids().clone().unwrap_or_default());
        user.set_additional_gids(Some(gids));
    }
    p.set_user(user);
    Ok(())
}

/// The init's root directory, opened through a private procfs; the pidfd still being alive
/// afterwards proves the pid was not reused in between.
fn container_root(c: &State, pidfd: BorrowedFd<'_>) -> Result<pathrs::Root> {
    init_root(c, pidfd).map(pathrs::Root::from_fd)
}

fn init_root(c: &State, pidfd: BorrowedFd<'_>) -> Result<OwnedFd> {
    use pathrs::flags::OpenFlags;
    use pathrs::procfs::{ProcfsBase, ProcfsHandle};
    let sub = format!("{}/root", c.pid);
    let err = |e| Error::sys(Step::Credentials, crate::sys::path_err("open", &format!("/proc/{sub}"), e));
    let procfs = ProcfsHandle::new().map_err(err)?;
    let root =
        procfs.open_follow(ProcfsBase::ProcRoot, &sub, OpenFlags::O_PATH | OpenFlags::O_DIRECTORY).map_err(err)?;
    sys::process::pidfd_send_signal(pidfd, 0).map_err(|_| wrong_state(c, Operation::Exec, Status::Stopped))?;
    Ok(OwnedFd::from(root))
}

fn run(ctx: ExecContext<'_>) -> ! {
    let sock = ctx.sock.as_fd();
    // Nothing the caller left open (a host directory above all) may enter the container: it
    // would be reachable through /proc/self/fd from the cwd, the program path or a ptrace.
    let mut keep = vec![sock.as_raw_fd(), ctx.pidfd.as_raw_fd()];
    keep.extend(ctx.cgroup_procs.iter().map(|f| f.as_raw_fd()));
    keep.extend(ctx.root.iter().map(|f| f.as_raw_fd()));
    if let Err(e) = sys::process::close_all_except(3 + ctx.preserve_fds, &keep) {
        let _ = protocol::send(sock, &ChildMsg::Failed(at(Step::Spawn)(e)), &[], false);
        sys::process::exit_now(1)
    }
    match setup(&ctx) {
        Ok((path, env)) => {
            // Joined only now, after `Ready`: in a paused container the process freezes here,
            // and exec still returns (runc's --ignore-paused). Nothing of the caller runs
            // before this, and the program cannot fork before it is in the cgroup.
            for fd in &ctx.cgroup_procs {
                if let Err(e) = sys::fs::write_all(fd.as_fd(), b"0", "cgroup.procs") {
                    let err = crate::ChildError { step: Step::Cgroup, error: crate::ChildCause::Sys(e) };
                    let _ = protocol::send(sock, &ChildMsg::Failed(err), &[], false);
                    sys::process::exit_now(1)
                }
            }
            drop(ctx.cgroup_procs);
            let late = process::late_seccomp(ctx.seccomp);
            process::final_exec(ctx.process, &path, &env, late, Some(sock))
        }
        Err(e) => {
            let _ = protocol::send(sock, &ChildMsg::Failed(e), &[], false);
            sys::process::exit_now(1)
        }
    }
}

fn setup(ctx: &ExecContext<'_>) -> StepResult<(std::ffi::CString, Vec<std::ffi::CString>)> {
    let p = ctx.process;
    let labels = p.attrs.apparmor.is_some() || p.attrs.selinux_label.is_some();
    // Made while still in the host's namespaces: the container's /proc (which it may have
    // replaced) is never consulted.
    let procfs = if p.oom_score_adj.is_some() || labels {
        Some(
            pathrs::procfs::ProcfsHandle::new()
                .map_err(|e| at(Step::Credentials)(crate::sys::path_err("open", "procfs", e)))?,
        )
    } else {
        None
    };
    if let Some(procfs) = procfs.as_ref().filter(|_| p.oom_score_adj.is_some()) {
        // The value survives the setns, the fork and the execve.
        process::oom_score_adj(p, procfs)?;
    }
    // Not reachable from the container (ptrace, /proc/PID/exe, fds) until the execve; after the
    // write above, which an unprivileged runtime can only make while dumpable.
    sys::process::prctl(libc::PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE").map_err(at(Step::Spawn))?;
    // One setns through the init's pidfd joins every namespace at once; the mount namespace
    // brings the container's root and cwd with it.
    if ctx.ns_flags != 0 {
        sys::process::setns(ctx.pidfd, ctx.ns_flags, "init's namespaces").map_err(at(Step::Namespaces))?;
    }
    if let Some(root) = &ctx.root {
        // The caller's mount namespace: the container's root comes from the init, by chroot.
        sys::process::fchdir(root.as_fd(), "init's root").map_err(at(Step::Namespaces))?;
        sys::mount::chroot_dot().map_err(at(Step::Namespaces))?;
        sys::process::chdir("/").map_err(at(Step::Namespaces))?;
    }
    process::initial_affinity(p)?;
    if ctx.ns_flags & libc::CLONE_NEWPID != 0 {
        if let Forked::Parent(_) = sys::process::fork().map_err(at(Step::Namespaces))? {
            sys::process::exit_now(0);
        }
    }
    sys::process::setsid().map_err(at(Step::Console))?;
    if p.terminal {
        console::setup_child(ctx.sock.as_fd(), p.console_size, false).map_err(at(Step::Console))?;
    }
    if let Some(procfs) = procfs.as_ref().filter(|_| labels) {
        // In the final process (after any fork): the labels apply at its execve.
        process::lsm_labels(p, procfs)?;
    }
    process::credentials(p, ctx.seccomp, ctx.sock.as_fd())?;
    process::seccomp_now(process::seccomp_before_ready(p, ctx.seccomp), ctx.sock.as_fd())?;
    let path = process::lookup(p)?;
    let env = process::with_home(p);
    protocol::send(ctx.sock.as_fd(), &ChildMsg::Ready, &[], true).map_err(at(Step::Spawn))?;
    Ok((path, env))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1() -> BTreeMap<String, PathBuf> {
        ["", "memory", "pids", "name=systemd"]
            .iter()
            .map(|k| (k.to_string(), PathBuf::from(format!("/cg/{k}/c"))))
            .collect()
    }

    fn subs(specs: &[&str], paths: &BTreeMap<String, PathBuf>) -> Result<Vec<(String, String)>> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        let m = sub_cgroups(&specs, paths)?;
        Ok(m.into_iter().map(|(k, v)| (k, v.to_string_lossy().into_owned())).collect())
    }

    #[test]
    fn sub_paths_stay_below_the_container() {
        assert_eq!(sub_path("a/b").unwrap(), PathBuf::from("a/b"));
        assert_eq!(sub_path("/a/./b/../c").unwrap(), PathBuf::from("a/c"));
        assert_eq!(sub_path("").unwrap(), PathBuf::new());
        for bad in ["..", "../x", "a/../../x", "/.."] {
            assert_eq!(sub_path(bad).unwrap_err().to_string(), format!("{bad} is not a sub cgroup path"));
        }
    }

    #[test]
    fn cgroup_specs_per_controller_or_for_all() {
        let p = v1();
        let all = subs(&["s"], &p).unwrap();
        assert_eq!(all.len(), 4, "{all:?}");
        let one = subs(&["memory,pids:s", "pids:t"], &p).unwrap();
        assert_eq!(one, [("memory".into(), "s".into()), ("pids".into(), "t".into())]);
        let e = subs(&["bogus:s"], &p).unwrap_err().to_string();
        assert_eq!(e, "unknown controller bogus in SubCgroupPaths");
        let v2: BTreeMap<String, PathBuf> = [(String::new(), PathBuf::from("/cg/c"))].into();
        assert_eq!(subs(&["s"], &v2).unwrap(), [(String::new(), "s".into())]);
        assert!(subs(&["memory:s"], &v2).is_err(), "v2 takes no controllers");
    }
}
