//! The runtime side of `create`: state directory, exec fifo, cgroup, clone, serving the child's
//! messages, and writing state.json and the pid file once the child is ready. Any failure undoes
//! everything made so far.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use super::console;
use super::init::{self, ChildContext};
use super::protocol::{self, ChildMsg, ParentMsg};
use super::Created;
use crate::bundle::Bundle;
use crate::cgroups::Cgroup;
use crate::error::{Error, Result, Step, StepExt, SysError};
use crate::host::HostInfo;
use crate::options::{ConsoleMode, CreateOptions};
use crate::plan::{IdMaps, Plan, PlanOptions};
use crate::rootless::MapWriters;
use crate::seccomp::Program;
use crate::state::{self, ContainerDir, Internal, State, StateStore, Status};
use crate::sys;
use crate::sys::process::Forked;

/// Creates a container: returns when its process is blocked before the user's program.
pub(crate) fn create(store: &StateStore, id: &str, mut opts: CreateOptions) -> Result<Created> {
    state::validate_id(id)?;
    // Everything that can be wrong with the input is found before anything is made.
    let bundle = match opts.spec.take() {
        Some(spec) => {
            let dir = std::path::absolute(&opts.bundle).map_err(|e| Error::Bundle {
                what: "bundle",
                path: opts.bundle.clone(),
                source: e,
            })?;
            Bundle::from_spec(dir, spec)?
        }
        None => Bundle::load(&opts.bundle)?,
    };
    let host = HostInfo::detect_with(opts.rootless)?;
    let popts = PlanOptions {
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        console: !matches!(opts.console, ConsoleMode::None),
        preserve_fds: opts.preserve_fds,
        listen_fds: opts.listen_fds,
        systemd_cgroup: opts.systemd_cgroup,
    };
    let plan = Plan::build(id, &bundle, &popts, &host)?;
    for fd in 3..3 + opts.preserve_fds + opts.listen_fds {
        // Passing an fd we do not hold would hand the container whatever we open there (runc#5474).
        if !sys::process::fd_is_open(fd as i32) {
            return Err(Error::InvalidArgument(format!("--preserve-fds: file descriptor {fd} is not open")));
        }
    }
    crate::rootfs::check_bind_sources(&plan.rootfs.mounts).step(Step::Rootfs)?;
    let mut warnings = plan.process.warnings.clone();
    warnings.extend(crate::cgroups::check_existing(&plan.cgroup)?);
    let dir = store.create_dir(id)?;
    let mut made = Made { dir: Some(dir), cgroup: None, child: None };
    let (state, console) = launch(&plan, &bundle, &opts, &mut made)?;
    // Invariant: `made.dir` is set above and only taken by `disarm` or drop, both after this.
    made.dir.as_ref().expect("state dir").write(&state)?;
    if let Some(p) = &opts.pid_file {
        state::write_pid_file(p, state.pid)?;
    }
    made.disarm();
    Ok(Created {
        state,
        console,
        // After a second fork the init is a grandchild, ours again only if we are a subreaper.
        child: !plan.namespaces.second_fork || nix::sys::prctl::get_child_subreaper().unwrap_or(false),
        warnings,
    })
}

/// What `create` has made so far; dropping it undoes all of it (the failure path).
struct Made {
    dir: Option<ContainerDir>,
    cgroup: Option<Cgroup>,
    child: Option<i32>,
}

impl Made {
    /// Success: keep everything (the state dir lock is released by dropping it).
    fn disarm(&mut self) {
        self.child = None;
        self.cgroup = None;
        self.dir = None;
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        if let Some(pid) = self.child.take() {
            let _ = sys::process::kill_child(pid, libc::SIGKILL);
            let _ = sys::process::wait_child(pid);
        }
        if let Some(cg) = self.cgroup.take() {
            let _ = cg.destroy();
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.remove();
        }
    }
}

fn launch(plan: &Plan, bundle: &Bundle, opts: &CreateOptions, made: &mut Made) -> Result<(State, Option<OwnedFd>)> {
    // Invariant: `create` sets `made.dir` before calling us.
    let dir = made.dir.as_ref().expect("state dir");
    let fifo_path = dir.fifo_path();
    sys::fs::mkfifo(&fifo_path.to_string_lossy(), 0o622).step(Step::State)?;
    // mkfifo's mode went through our umask; the init may run as any user and must open it.
    std::fs::set_permissions(&fifo_path, std::os::unix::fs::PermissionsExt::from_mode(0o622))
        .map_err(|e| Error::sys(Step::State, SysError::io("chmod", Some(&fifo_path.to_string_lossy()), &e)))?;
    let fifo = sys::fs::open_o_path(&fifo_path).step(Step::State)?;
    let ns_fds = plan
        .namespaces
        .join
        .iter()
        .map(|j| Ok((j.nstype, j.kind, open_path_ro(&j.path).step(Step::Namespaces)?)))
        .collect::<Result<Vec<_>>>()?;
    let bind_trees = super::idmap::trees(&plan.rootfs)?;
    let netlink = super::netdev::host_socket(&plan.net_devices).step(Step::Namespaces)?;
    made.cgroup = Some(Cgroup::create(&plan.cgroup)?);
    // Invariant: set on the line above.
    let cgroup = made.cgroup.as_mut().expect("just set");
    let cgroup_paths = v1_mount_dirs(cgroup);
    let (parent_sock, child_sock) = sys::socket::seqpacket_pair().step(Step::Spawn)?;
    sys::socket::enable_passcred(parent_sock.as_fd()).step(Step::Spawn)?;

    match sys::process::clone3(plan.namespaces.clone_flags, cgroup.unified_dir_fd()).step(Step::Spawn)? {
        Forked::Child => {
            drop(parent_sock);
            init::run(ChildContext {
                plan,
                sock: child_sock,
                fifo,
                ns_fds,
                await_cgroup: cgroup.needs_pid(),
                cgroup_procs: cgroup.procs_fds(),
                cgroup_paths,
                bind_trees,
                netlink,
            })
        }
        Forked::Parent(pid) => {
            made.child = Some(pid);
            drop(child_sock);
            drop(ns_fds);
            drop(bind_trees);
            drop(netlink);
            if cgroup.needs_pid() {
                cgroup.start(pid)?;
                protocol::send(parent_sock.as_fd(), &ParentMsg::CgroupReady, &[], false).step(Step::Spawn)?;
            }
            let state = |pid: i32| {
                serde_json::json!({
                    "ociVersion": plan.oci_version, "id": plan.id, "status": "creating", "pid": pid,
                    "bundle": bundle.dir, "annotations": plan.annotations,
                })
            };
            let expect = Expect {
                terminal: plan.process.terminal,
                console: &opts.console,
                seccomp: plan.seccomp.as_ref(),
                state: &state,
                hooks: plan.runtime_hooks(),
                id_maps: plan.namespaces.id_maps.as_ref().map(|m| (m, &plan.namespaces.map_writers)),
                time_offsets: plan.namespaces.time_offsets.as_deref(),
            };
            let (init_pid, console) = serve(&parent_sock, pid, &expect)?;
            if plan.namespaces.second_fork {
                // The intermediate process exits as soon as it has forked the init.
                sys::process::wait_child(pid).step(Step::Spawn)?;
                made.child = None;
            }
            let start_time = start_time(init_pid).step(Step::Spawn)?;
            let state = State {
                oci_version: plan.oci_version.clone(),
                id: plan.id.clone(),
                pid: init_pid,
                status: Status::Created,
                bundle: bundle.dir.clone(),
                rootfs: bundle.rootfs.clone(),
                created: state::now_rfc3339(),
                owner: String::new(),
                annotations: plan.annotations.clone(),
                internal: Internal {
                    init_start_time: start_time,
                    cgroup_paths: cgroup.paths(),
                    cgroup_created: cgroup.created(),
                    cgroup_unit: cgroup.unit(),
                    cgroup_unit_user: cgroup.user_manager(),
                    own_pid_ns: plan.namespaces.own_pid_ns,
                    ns_flags: plan.namespaces.all_flags(),
                    hooks: bundle.spec.hooks().as_ref().map(|h| serde_json::to_value(h).unwrap_or_default()),
                    seccomp: bundle
                        .spec
                        .linux()
                        .as_ref()
                        .and_then(|l| l.seccomp().as_ref())
                        .map(|s| serde_json::to_value(s).unwrap_or_default()),
                    // The flag travels in `seccomp` now; the field is read from older states only.
                    seccomp_wait_killable: false,
                    net_devices: plan.net_devices.iter().map(|d| (d.host_name.clone(), d.name.clone())).collect(),
                    personality: plan.process.attrs.personality,
                },
            };
            Ok((state, console))
        }
    }
}

/// The container's v1 cgroup directories as they appear under its /sys/fs/cgroup: one per
/// hierarchy, named after the controller (`name=systemd` -> `systemd`); the unified one is not
/// shown on hybrid hosts, as with runc.
fn v1_mount_dirs(cgroup: &Cgroup) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for (key, path) in cgroup.paths() {
        if key.is_empty() || out.iter().any(|(_, p)| *p == path) {
            continue;
        }
        out.push((key.trim_start_matches("name=").to_owned(), path));
    }
    out
}

/// What the parent expects from a child, beside `Ready`.
pub(crate) struct Expect<'a> {
    pub(crate) terminal: bool,
    pub(crate) console: &'a ConsoleMode,
    pub(crate) seccomp: Option<&'a Program>,
    /// The OCI state (for a seccomp agent and hooks), given the process's pid.
    pub(crate) state: &'a dyn Fn(i32) -> serde_json::Value,
    /// prestart + createRuntime hooks, run when the child asks.
    pub(crate) hooks: Vec<oci_spec::runtime::Hook>,
    /// Id maps of a new user namespace and how to write them, when the child asks.
    pub(crate) id_maps: Option<(&'a IdMaps, &'a MapWriters)>,
    /// timens_offsets text of a new time namespace, written when the child asks.
    pub(crate) time_offsets: Option<&'a str>,
}

/// Serves the child until `Ready`; returns its pid (as seen here) and a kept console.
pub(crate) fn serve(sock: &OwnedFd, child: i32, ex: &Expect<'_>) -> Result<(i32, Option<OwnedFd>)> {
    let mut console = None;
    let mut expect_console = ex.terminal;
    let mut expect_listener = ex.seccomp.is_some_and(|s| s.needs_listener());
    let mut expect_maps = ex.id_maps;
    let mut expect_offsets = ex.time_offsets;
    loop {
        let m = protocol::recv(sock.as_fd()).step(Step::Spawn)?;
        match m.msg {
            Some(ChildMsg::MapIds) if expect_maps.is_some() => {
                // Always the process we cloned: the second fork comes after the mapping.
                // Invariant: the match guard checked `is_some()`.
                let (maps, with) = expect_maps.take().expect("matched");
                super::namespaces::write_maps(child, maps, with).step(Step::Namespaces)?;
                protocol::send(sock.as_fd(), &ParentMsg::IdsMapped, &[], false).step(Step::Namespaces)?;
            }
            Some(ChildMsg::SetTimeOffsets) if expect_offsets.is_some() && expect_maps.is_none() => {
                // Also the process we cloned: it forks into the time namespace after the reply.
                // Invariant: the match guard checked `is_some()`.
                let text = expect_offsets.take().expect("matched");
                super::namespaces::write_time_offsets(child, text).step(Step::Namespaces)?;
                protocol::send(sock.as_fd(), &ParentMsg::TimeOffsetsSet, &[], false).step(Step::Namespaces)?;
            }
            Some(ChildMsg::Console { name }) if expect_console => {
                expect_console = false;
                let master = m.fds.into_iter().next().ok_or_else(|| {
                    Error::sys(Step::Console, SysError::check("receive console", None, "no fd in the message"))
                })?;
                match ex.console {
                    ConsoleMode::Socket(path) => console::send_to_socket(path, &name, &master).step(Step::Console)?,
                    ConsoleMode::Return => console = Some(master),
                    // The plan refuses a terminal without a console; a child asking anyway is an error.
                    ConsoleMode::None => {
                        return Err(Error::sys(
                            Step::Console,
                            SysError::check("console", None, "no console was asked for"),
                        ))
                    }
                }
            }
            Some(ChildMsg::SeccompListener) if expect_listener && !expect_console => {
                expect_listener = false;
                let (Some(fd), Some(pid), Some(prog)) = (m.fds.first(), m.pid, ex.seccomp) else {
                    return Err(Error::sys(Step::Seccomp, SysError::check("receive listener", None, "no fd")));
                };
                let state = (ex.state)(pid);
                let check = |op: &str, detail: String| Error::sys(Step::Seccomp, SysError::check(op, None, detail));
                let path = prog.listener_path().ok_or_else(|| check("seccomp agent", "no listenerPath".into()))?;
                let msg = prog
                    .agent_message(state.to_string().as_bytes())
                    .map_err(|e| check("seccomp agent message", format!("container state: {e}")))?;
                sys::seccomp::send_to_agent(path, &msg, fd.as_fd()).step(Step::Seccomp)?;
            }
            Some(ChildMsg::RunHooks) if !ex.hooks.is_empty() => {
                let pid =
                    m.pid.ok_or_else(|| Error::sys(Step::Hooks, SysError::check("receive", None, "no credentials")))?;
                let state = (ex.state)(pid).to_string();
                crate::hooks::run("createRuntime", &ex.hooks, state.as_bytes())?;
                protocol::send(sock.as_fd(), &ParentMsg::HooksDone { pid }, &[], false).step(Step::Hooks)?;
            }
            Some(ChildMsg::Ready) if !expect_console && !expect_listener => {
                let pid = m
                    .pid
                    .ok_or_else(|| Error::sys(Step::Spawn, SysError::check("receive ready", None, "no credentials")))?;
                return Ok((pid, console));
            }
            Some(ChildMsg::Failed(e)) => return Err(Error::Child(e)),
            Some(other) => {
                return Err(Error::sys(
                    Step::Spawn,
                    SysError::check("protocol", None, format!("unexpected message {other:?}")),
                ))
            }
            None => {
                let status = sys::process::wait_child(child).unwrap_or(-1);
                return Err(Error::sys(
                    Step::Spawn,
                    SysError::check("container process", None, format!("exited before it was ready (status {status})")),
                ));
            }
        }
    }
}

fn open_path_ro(p: &std::path::Path) -> Result<OwnedFd, SysError> {
    std::fs::File::open(p).map(OwnedFd::from).map_err(|e| SysError::io("open", Some(&p.to_string_lossy()), &e))
}

/// Start time of a process (field 22 of /proc/PID/stat), read through a private procfs.
pub(crate) fn start_time(pid: i32) -> Result<u64, SysError> {
    stat(pid).map(|(_, t)| t)
}

/// State (field 3) and start time (field 22) of a process, from one read of /proc/PID/stat.
pub(crate) fn stat(pid: i32) -> Result<(char, u64), SysError> {
    let s = crate::procfs::stat(pid)?;
    parse_stat(&s).ok_or_else(|| SysError::check("parse", Some(&format!("/proc/{pid}/stat")), "no start time"))
}

/// Parses field 22 (and the state, field 3) of a /proc/PID/stat line; the comm may hold spaces.
pub(crate) fn parse_stat(s: &str) -> Option<(char, u64)> {
    let rest = s.get(s.rfind(')')? + 2..)?;
    let mut f = rest.split(' ');
    let state = f.next()?.chars().next()?;
    let start = f.nth(18)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stat_with_spaces_in_comm() {
        let line = "123 (a b) c) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(super::parse_stat(line), Some(('S', 98765)));
    }
}
