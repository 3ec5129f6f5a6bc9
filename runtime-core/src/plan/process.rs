//! The container process: argv, envp, cwd, user and groups, capabilities, rlimits, umask, nnp,
//! terminal. Everything becomes C strings and numbers here, once.

use std::ffi::CString;

use oci_spec::runtime::{Capabilities, PosixRlimitType, Process};

use super::attrs::{self, ProcessAttrs};
use super::PlanOptions;
use crate::error::{Error, Result};

/// Capability sets as bitmasks (bit N = capability N).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    pub(crate) bounding: u64,
    pub(crate) effective: u64,
    pub(crate) permitted: u64,
    pub(crate) inheritable: u64,
    pub(crate) ambient: u64,
}

/// One rlimit: resource number, soft, hard, and the name for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rlimit {
    pub(crate) resource: i32,
    pub(crate) soft: u64,
    pub(crate) hard: u64,
    pub(crate) name: String,
}

/// The resolved process.
#[derive(Debug, Clone)]
pub(crate) struct ProcessPlan {
    pub(crate) args: Vec<CString>,
    pub(crate) env: Vec<CString>,
    /// The PATH the program is looked up in (from the container's env, runc's behaviour).
    pub(crate) path_env: String,
    pub(crate) cwd: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) additional_gids: Vec<u32>,
    pub(crate) umask: u32,
    pub(crate) caps: Caps,
    pub(crate) rlimits: Vec<Rlimit>,
    pub(crate) no_new_privileges: bool,
    pub(crate) terminal: bool,
    pub(crate) console_size: Option<(u16, u16)>,
    pub(crate) preserve_fds: u32,
    pub(crate) oom_score_adj: Option<i32>,
    /// Scheduler, I/O priority, CPU affinity, personality, memory policy.
    pub(crate) attrs: ProcessAttrs,
    /// Things accepted for runc compatibility but not applied as written.
    pub(crate) warnings: Vec<String>,
}

fn cstring(s: &str, field: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidConfig(format!("{field}: {s:?} contains a NUL byte")))
}

fn cap_mask(set: &Option<Capabilities>) -> Result<u64> {
    let mut m = 0u64;
    for c in set.iter().flatten() {
        let name = c.to_string();
        let name = name.trim_start_matches("CAP_");
        let cap: caps::Capability = format!("CAP_{name}")
            .parse()
            .map_err(|_| Error::InvalidConfig(format!("process.capabilities: unknown capability {name}")))?;
        m |= cap.bitmask();
    }
    Ok(m)
}

// The constants are u32 in the libc crate's glibc bindings and i32 in its musl ones.
#[allow(clippy::unnecessary_cast)]
fn rlimit_number(t: PosixRlimitType) -> i32 {
    (match t {
        PosixRlimitType::RlimitCpu => libc::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => libc::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => libc::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => libc::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => libc::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => libc::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => libc::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => libc::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => libc::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => libc::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => libc::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => libc::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => libc::RLIMIT_RTTIME,
    }) as i32
}

pub(crate) fn plan(p: &Process, opts: &PlanOptions) -> Result<ProcessPlan> {
    let args = p.args().as_deref().unwrap_or(&[]);
    if args.is_empty() {
        return Err(Error::Spec("args must not be empty".into()));
    }
    if p.command_line().is_some() {
        return Err(Error::NotSupported("process.commandLine (Windows only)".into()));
    }
    let cwd = p.cwd().to_str().ok_or_else(|| Error::InvalidConfig("process.cwd: not UTF-8".into()))?;
    if !cwd.starts_with('/') {
        return Err(Error::Spec("Cwd must be an absolute path".into()));
    }
    let mut env: Vec<String> = p.env().clone().unwrap_or_default();
    if opts.listen_fds > 0 {
        env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
        env.push(format!("LISTEN_FDS={}", opts.listen_fds));
        env.push("LISTEN_PID=1".into());
    }
    let env = setenv_each(env);
    let path_env = env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .to_owned();
    let user = p.user();
    super::validate::ids(user.uid(), user.gid(), user.additional_gids().as_deref().unwrap_or(&[]))?;
    let caps = match p.capabilities() {
        Some(c) => Caps {
            bounding: cap_mask(c.bounding())?,
            effective: cap_mask(c.effective())?,
            permitted: cap_mask(c.permitted())?,
            inheritable: cap_mask(c.inheritable())?,
            ambient: cap_mask(c.ambient())?,
        },
        None => Caps::default(),
    };
    let mut warnings = Vec::new();
    let mut caps = caps;
    let unraisable = caps.ambient & !(caps.inheritable & caps.permitted);
    if unraisable != 0 {
        // runc's own `spec` lists ambient caps without inheritable ones; runc warns and goes on.
        warnings.push(format!(
            "ambient capabilities not in both the permitted and inheritable sets are not raised (mask {unraisable:#x})"
        ));
        caps.ambient &= !unraisable;
    }
    let mut rlimits: Vec<Rlimit> = Vec::new();
    for r in p.rlimits().as_deref().unwrap_or(&[]) {
        let name = r.typ().to_string();
        let resource = rlimit_number(r.typ());
        if rlimits.iter().any(|o| o.resource == resource) {
            return Err(Error::InvalidConfig(format!("process.rlimits: duplicate {name}")));
        }
        if r.soft() > r.hard() {
            return Err(Error::InvalidConfig(format!("process.rlimits: {name} soft limit above hard limit")));
        }
        rlimits.push(Rlimit { resource, soft: r.soft(), hard: r.hard(), name });
    }
    Ok(ProcessPlan {
        args: args.iter().map(|a| cstring(a, "process.args")).collect::<Result<_>>()?,
        env: env.iter().map(|e| cstring(e, "process.env")).collect::<Result<_>>()?,
        path_env,
        cwd: cwd.to_owned(),
        uid: user.uid(),
        gid: user.gid(),
        additional_gids: user.additional_gids().clone().unwrap_or_default(),
        umask: user.umask().unwrap_or(0o022),
        caps,
        rlimits,
        no_new_privileges: p.no_new_privileges().unwrap_or(false),
        terminal: p.terminal().unwrap_or(false),
        console_size: p.console_size().map(|b| (b.height() as u16, b.width() as u16)),
        preserve_fds: opts.preserve_fds + opts.listen_fds,
        oom_score_adj: p.oom_score_adj(),
        attrs: attrs_of(p)?,
        warnings,
    })
}

/// The environment as runc builds it, by setting each `K=V` in turn: a name appears once, at its
/// first position, with its last value (so `exec --env K=V` replaces the config's `K`).
pub(crate) fn setenv_each(env: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(env.len());
    for e in env {
        let name = e.split_once('=').map(|(k, _)| k);
        match name.and_then(|k| out.iter().position(|o| o.split_once('=').map(|(ok, _)| ok) == Some(k))) {
            Some(i) => out[i] = e,
            None => out.push(e),
        }
    }
    out
}

/// The process-level attributes; the linux-level ones (personality, memoryPolicy) are added by the
/// caller for the init only.
fn attrs_of(p: &Process) -> Result<ProcessAttrs> {
    let (affinity_initial, affinity_final) = match p.exec_cpu_affinity() {
        Some(a) => attrs::affinity(a)?,
        None => (None, None),
    };
    Ok(ProcessAttrs {
        scheduler: p.scheduler().as_ref().map(attrs::scheduler).transpose()?,
        ioprio: p.io_priority().as_ref().map(attrs::ioprio).transpose()?,
        affinity_initial,
        affinity_final,
        personality: None,
        mempolicy: None,
        // Checked against the host's LSMs by the caller (validate::lsm, validate::process_lsm).
        apparmor: p.apparmor_profile().clone().filter(|s| !s.is_empty()),
        selinux_label: p.selinux_label().clone().filter(|s| !s.is_empty()),
    })
}
