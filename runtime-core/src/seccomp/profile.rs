//! The OCI `linux.seccomp` object turned into per-architecture rule lists, with runc's semantics:
//! which rules are dropped, how conditions combine, and which syscalls get the ENOSYS stub.

use std::collections::BTreeMap;

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction as OciAction, LinuxSeccompOperator as OciOp};

use super::arch::{Arch, Resolved};
use crate::{Error, Result};

const EPERM: u16 = libc::EPERM as u16;

/// What the filter tells the kernel to do with a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    KillProcess,
    KillThread,
    Trap,
    Errno(u16),
    Notify,
    Trace(u16),
    Log,
    Allow,
}

impl Action {
    /// The filter's return value (`SECCOMP_RET_*` with its data).
    pub(crate) fn ret(self) -> u32 {
        match self {
            Action::KillProcess => 0x8000_0000,
            Action::KillThread => 0,
            Action::Trap => 0x0003_0000,
            Action::Errno(e) => 0x0005_0000 | u32::from(e),
            Action::Notify => 0x7fc0_0000,
            Action::Trace(m) => 0x7ff0_0000 | u32::from(m),
            Action::Log => 0x7ffc_0000,
            Action::Allow => 0x7fff_0000,
        }
    }

    /// As runc's getAction: errnoRet is the errno of ERRNO and the message of TRACE (EPERM when
    /// absent), truncated to 16 bits as libseccomp does; other actions ignore it.
    fn from_oci(a: OciAction, errno_ret: Option<u32>) -> Action {
        let data = errno_ret.map_or(EPERM, |e| e as u16);
        match a {
            OciAction::ScmpActKill | OciAction::ScmpActKillThread => Action::KillThread,
            OciAction::ScmpActKillProcess => Action::KillProcess,
            OciAction::ScmpActTrap => Action::Trap,
            OciAction::ScmpActErrno => Action::Errno(data),
            OciAction::ScmpActNotify => Action::Notify,
            OciAction::ScmpActTrace => Action::Trace(data),
            OciAction::ScmpActLog => Action::Log,
            OciAction::ScmpActAllow => Action::Allow,
        }
    }

    /// Actions after which a syscall newer than the profile may still run; runc gives no ENOSYS
    /// stub to profiles whose default is one of them.
    fn is_permissive(self) -> bool {
        matches!(self, Action::Allow | Action::Log | Action::Trace(_))
    }
}

/// A comparison operator (`SCMP_CMP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & value) == value_two`.
    MaskedEq,
}

/// One argument condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cond {
    pub(crate) index: u8,
    pub(crate) op: Op,
    pub(crate) value: u64,
    pub(crate) value_two: u64,
}

/// An action taken when all conditions hold (always, when there are none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) action: Action,
    pub(crate) conds: Vec<Cond>,
}

/// The rules of one ABI: for each syscall number, rules tried in order (an unconditional rule, if
/// any, is alone), and the number above which the ENOSYS stub answers.
#[derive(Debug)]
pub(crate) struct ArchRules {
    pub(crate) arch: Arch,
    pub(crate) syscalls: BTreeMap<u32, Vec<Rule>>,
    pub(crate) stub_max: Option<u32>,
}

/// A profile checked and resolved for one host.
#[derive(Debug)]
pub(crate) struct Profile {
    pub(crate) default: Action,
    pub(crate) arches: Vec<ArchRules>,
    pub(crate) notify: bool,
}

/// A rule of the spec for one syscall name, in spec order.
struct Named<'a> {
    name: &'a str,
    rule: Rule,
}

/// Resolves `spec` for a host whose native ABI is `native`.
pub(crate) fn resolve(spec: &LinuxSeccomp, native: Arch) -> Result<Profile> {
    let default = Action::from_oci(spec.default_action(), spec.default_errno_ret());
    if default == Action::Notify {
        return Err(invalid("SCMP_ACT_NOTIFY cannot be used as default action"));
    }
    let named = named_rules(spec)?;
    let notify = named.iter().any(|n| n.rule.action == Action::Notify);
    if notify && spec.listener_path().is_none() {
        return Err(invalid("linux.seccomp.listenerPath is required by SCMP_ACT_NOTIFY"));
    }
    // libseccomp always filters the native ABI; the ENOSYS stub covers only the listed ones.
    let mut arches = vec![(native, false)];
    for oci in spec.architectures().iter().flatten() {
        match native.resolve(*oci) {
            Resolved::Compiled(a) => match arches.iter_mut().find(|(x, _)| *x == a) {
                Some(entry) => entry.1 = true,
                None => arches.push((a, true)),
            },
            Resolved::Foreign => {}
            Resolved::Unsupported => return Err(Error::NotSupported(format!("linux.seccomp.architectures: {oci}"))),
        }
    }
    let stub = !default.is_permissive() && default != Action::Errno(libc::ENOSYS as u16);
    let all_names: Vec<&str> = spec.syscalls().iter().flatten().flat_map(|c| c.names()).map(String::as_str).collect();
    let arches = arches
        .into_iter()
        .map(|(arch, listed)| {
            let stub_max = if stub && listed { stub_max(arch, &all_names) } else { None };
            arch_rules(arch, &named, stub_max)
        })
        .collect();
    Ok(Profile { default, arches, notify })
}

/// One [`Named`] per name and per OR-ed condition group, minus rules equal to the default.
fn named_rules(spec: &LinuxSeccomp) -> Result<Vec<Named<'_>>> {
    let default = Action::from_oci(spec.default_action(), spec.default_errno_ret());
    let mut out = Vec::new();
    for call in spec.syscalls().iter().flatten() {
        let action = Action::from_oci(call.action(), call.errno_ret());
        let conds = call.args().iter().flatten().map(cond).collect::<Result<Vec<_>>>()?;
        for name in call.names() {
            if name.is_empty() {
                return Err(invalid("empty string is not a valid syscall"));
            }
            if action == Action::Notify && name == "write" {
                return Err(invalid("SCMP_ACT_NOTIFY cannot be used for the write syscall"));
            }
            // runc skips rules that repeat the default action (libseccomp refuses them).
            if action == default {
                continue;
            }
            for conds in condition_groups(&conds) {
                out.push(Named { name, rule: Rule { action, conds } });
            }
        }
    }
    Ok(out)
}

/// runc ANDs the conditions of a rule, unless two of them test the same argument: then each
/// condition becomes a rule of its own, which ORs them.
fn condition_groups(conds: &[Cond]) -> Vec<Vec<Cond>> {
    let repeated = conds.iter().enumerate().any(|(i, c)| conds[..i].iter().any(|d| d.index == c.index));
    if repeated {
        conds.iter().map(|c| vec![*c]).collect()
    } else {
        vec![conds.to_vec()]
    }
}

fn cond(a: &oci_spec::runtime::LinuxSeccompArg) -> Result<Cond> {
    let index = u8::try_from(a.index()).ok().filter(|i| *i < 6).ok_or_else(|| {
        invalid(&format!("linux.seccomp.syscalls[].args[].index {} is out of range (0-5)", a.index()))
    })?;
    let op = match a.op() {
        OciOp::ScmpCmpNe => Op::Ne,
        OciOp::ScmpCmpLt => Op::Lt,
        OciOp::ScmpCmpLe => Op::Le,
        OciOp::ScmpCmpEq => Op::Eq,
        OciOp::ScmpCmpGe => Op::Ge,
        OciOp::ScmpCmpGt => Op::Gt,
        OciOp::ScmpCmpMaskedEq => Op::MaskedEq,
    };
    Ok(Cond { index, op, value: a.value(), value_two: a.value_two().unwrap_or(0) })
}

/// The rules of one ABI. A name applies where this ABI has it: libseccomp resolves a name known to
/// any ABI (socketcall on an x86_64 host) to a pseudo-number and translates it per ABI, and runc
/// skips only names libseccomp does not know at all.
fn arch_rules(arch: Arch, named: &[Named<'_>], stub_max: Option<u32>) -> ArchRules {
    let mut syscalls: BTreeMap<u32, Vec<Rule>> = BTreeMap::new();
    for n in named {
        let Some(nr) = arch.syscall(n.name) else { continue };
        let rules = syscalls.entry(nr).or_default();
        // libseccomp: once a syscall has an unconditional rule, later rules for it are dropped,
        // and an unconditional rule replaces the conditional ones added before it.
        if rules.last().is_some_and(|r| r.conds.is_empty()) {
            continue;
        }
        if n.rule.conds.is_empty() {
            rules.clear();
        }
        rules.push(n.rule.clone());
    }
    ArchRules { arch, syscalls, stub_max }
}

/// runc's patchbpf: the largest number, in this ABI, of any syscall the profile names (even in
/// rules that were dropped); anything above it is newer than the profile and gets ENOSYS.
fn stub_max(arch: Arch, names: &[&str]) -> Option<u32> {
    names.iter().filter_map(|n| arch.syscall(n)).max().filter(|m| *m != 0)
}

fn invalid(msg: &str) -> Error {
    Error::InvalidConfig(format!("seccomp: {msg}"))
}
