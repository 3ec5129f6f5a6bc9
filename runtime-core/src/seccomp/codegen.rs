//! Code generation: a resolved [`Profile`] becomes a cBPF program.
//!
//! Shape of the program:
//! ```text
//! ld arch; jeq AUDIT_ARCH_<a> -> block_a ...; ret KILL_THREAD        (libseccomp's bad-arch action)
//! block_x86_64: ld nr; jset X32_BIT -> block_x32 (or bad arch, but for nr -1)
//!   [jgt <largest nr in profile> -> ret ERRNO(ENOSYS)]                  (runc's patchbpf stub)
//!   binary search on nr over ranges of equal outcome (runs of syscalls with the same action, and
//!   the gaps between them): jge pivots down to a `ret`, or to one syscall's argument checks
//!   (64-bit args as two 32-bit halves)
//! ```
//! The binary search keeps the per-syscall cost at about log2(n) comparisons however long the
//! profile, where a linear chain (seccompiler's own shape, and libseccomp without optimisation)
//! costs up to n.

use seccompiler::sock_filter;

use super::arch::{Arch, X32_SYSCALL_BIT};
use super::asm::{Asm, Label, BPF_JEQ_K, BPF_JGE_K, BPF_JGT_K, BPF_JSET_K};
use super::profile::{Action, ArchRules, Cond, Op, Profile, Rule};

/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;

/// libseccomp's default action for an ABI the filter does not know.
const BAD_ARCH: Action = Action::KillThread;
const ENOSYS: Action = Action::Errno(libc::ENOSYS as u16);

pub(crate) fn generate(p: &Profile) -> Result<Vec<sock_filter>, String> {
    let mut a = Asm::default();
    // x86_64 and x32 share an audit token, so they share an entry.
    let mut groups: Vec<(u32, Vec<&ArchRules>)> = Vec::new();
    for r in &p.arches {
        match groups.iter_mut().find(|(audit, _)| *audit == r.arch.audit()) {
            Some((_, g)) => g.push(r),
            None => groups.push((r.arch.audit(), vec![r])),
        }
    }
    a.load(OFF_ARCH);
    let entries: Vec<Label> = groups.iter().map(|_| a.label()).collect();
    for ((audit, _), l) in groups.iter().zip(&entries) {
        a.jump(BPF_JEQ_K, *audit, Some(*l), None);
    }
    a.ret(BAD_ARCH.ret());
    for ((_, group), l) in groups.iter().zip(entries) {
        a.bind(l);
        a.load(OFF_NR);
        abi_group(&mut a, group, p.default);
    }
    a.finish()
}

/// The ABIs that share one audit token: x86_64 and x32 are told apart by the x32 bit of the
/// syscall number, tested with jset as libseccomp and runc's stub do.
fn abi_group(a: &mut Asm, group: &[&ArchRules], default: Action) {
    let x86_64 = group.iter().find(|r| r.arch != Arch::X32);
    let x32 = group.iter().find(|r| r.arch == Arch::X32);
    match (x86_64, x32) {
        (Some(n), None) if n.arch == Arch::X86_64 => {
            // Without x32, an x32 syscall is a bad ABI; syscall(-1), which tracers use to skip a
            // syscall, is not: libseccomp sends it to the x86_64 rules, past runc's stub.
            let rules = a.label();
            a.jump(BPF_JEQ_K, u32::MAX, Some(rules), None);
            return_if(a, BPF_JSET_K, X32_SYSCALL_BIT, BAD_ARCH);
            stub(a, n);
            return_if(a, BPF_JGE_K, X32_SYSCALL_BIT, BAD_ARCH);
            a.bind(rules);
            arch_rules(a, n, default);
        }
        (Some(n), None) => arch_block(a, n, default),
        (n, Some(x)) => {
            let lx = a.label();
            a.jump(BPF_JSET_K, X32_SYSCALL_BIT, Some(lx), None);
            match n {
                Some(n) => arch_block(a, n, default),
                None => a.ret(BAD_ARCH.ret()),
            }
            a.bind(lx);
            arch_block(a, x, default);
        }
        // Invariant: groups are built from the profile's ABIs, never empty. Compiled in the
        // runtime at plan time, never in the container's child.
        (None, None) => unreachable!("a group has at least one ABI"),
    }
}

fn arch_block(a: &mut Asm, r: &ArchRules, default: Action) {
    stub(a, r);
    arch_rules(a, r, default);
}

/// runc's patchbpf: ENOSYS for numbers above the profile's newest syscall.
fn stub(a: &mut Asm, r: &ArchRules) {
    if let Some(max) = r.stub_max {
        return_if(a, BPF_JGT_K, max, ENOSYS);
    }
}

fn arch_rules(a: &mut Asm, r: &ArchRules, default: Action) {
    tree(a, &segments(r, default), default, r.arch.args64());
}

/// What the filter does for a range of syscall numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Body<'a> {
    Ret(Action),
    /// One syscall with argument conditions.
    Rules(&'a [Rule]),
}

/// The syscall numbers cut into ranges, each starting at the number given and ending where the
/// next one starts: neighbouring syscalls with the same unconditional action share a range (as do
/// the gaps between them with the default), which keeps the search tree small.
fn segments<'a>(r: &'a ArchRules, default: Action) -> Vec<(u32, Body<'a>)> {
    let mut segs: Vec<(u32, Body<'a>)> = Vec::with_capacity(2 * r.syscalls().len() + 1);
    let mut push = |start: u64, body: Body<'a>| {
        let extends = matches!((segs.last(), body), (Some((_, Body::Ret(x))), Body::Ret(y)) if *x == y);
        if !extends {
            segs.push((start as u32, body));
        }
    };
    let mut covered = 0u64;
    for (nr, rules) in r.syscalls() {
        if u64::from(nr) > covered {
            push(covered, Body::Ret(default));
        }
        push(
            u64::from(nr),
            match rules {
                [rule] if rule.conds.is_empty() => Body::Ret(rule.action),
                _ => Body::Rules(rules),
            },
        );
        covered = u64::from(nr) + 1;
    }
    if covered <= u64::from(u32::MAX) {
        push(covered, Body::Ret(default));
    }
    segs
}

/// `if (A <op> k) return action;`
fn return_if(a: &mut Asm, code: u16, k: u32, action: Action) {
    let otherwise = a.label();
    a.jump(code, k, None, Some(otherwise));
    a.ret(action.ret());
    a.bind(otherwise);
}

/// Binary search over the ranges: one `jge` per level, then the range's body.
fn tree(a: &mut Asm, segs: &[(u32, Body<'_>)], default: Action, args64: bool) {
    match segs {
        [] => a.ret(default.ret()),
        [(_, Body::Ret(action))] => a.ret(action.ret()),
        [(_, Body::Rules(rules))] => syscall_rules(a, rules, default, args64),
        _ => {
            let mid = segs.len() / 2;
            let right = a.label();
            a.jump(BPF_JGE_K, segs[mid].0, Some(right), None);
            tree(a, &segs[..mid], default, args64);
            a.bind(right);
            tree(a, &segs[mid..], default, args64);
        }
    }
}

/// The rules of one syscall, first match wins; the default when none matches.
fn syscall_rules(a: &mut Asm, rules: &[Rule], default: Action, args64: bool) {
    for rule in rules {
        if rule.conds.is_empty() {
            a.ret(rule.action.ret());
            return;
        }
        let next = a.label();
        for c in &rule.conds {
            cond(a, c, next, args64);
        }
        a.ret(rule.action.ret());
        a.bind(next);
    }
    a.ret(default.ret());
}

/// Falls through when `c` holds, jumps to `fail` otherwise. On 64-bit ABIs the high halves decide
/// unless they are equal, as in libseccomp; 32-bit ABIs compare the low halves only.
fn cond(a: &mut Asm, c: &Cond, fail: Label, args64: bool) {
    let lo_off = OFF_ARGS + 8 * u32::from(c.index);
    let (v_hi, v_lo) = ((c.value >> 32) as u32, c.value as u32);
    let (w_hi, w_lo) = ((c.value_two >> 32) as u32, c.value_two as u32);
    let pass = a.label();
    if args64 {
        a.load(lo_off + 4);
        match c.op {
            Op::Eq => a.jump(BPF_JEQ_K, v_hi, None, Some(fail)),
            Op::Ne => a.jump(BPF_JEQ_K, v_hi, None, Some(pass)),
            Op::Gt | Op::Ge => {
                a.jump(BPF_JGT_K, v_hi, Some(pass), None);
                a.jump(BPF_JEQ_K, v_hi, None, Some(fail));
            }
            Op::Lt | Op::Le => {
                a.jump(BPF_JGT_K, v_hi, Some(fail), None);
                a.jump(BPF_JEQ_K, v_hi, None, Some(pass));
            }
            Op::MaskedEq => {
                a.and(v_hi);
                a.jump(BPF_JEQ_K, w_hi, None, Some(fail));
            }
        }
    }
    a.load(lo_off);
    match c.op {
        Op::Eq => a.jump(BPF_JEQ_K, v_lo, None, Some(fail)),
        Op::Ne => a.jump(BPF_JEQ_K, v_lo, Some(fail), None),
        Op::Gt => a.jump(BPF_JGT_K, v_lo, None, Some(fail)),
        Op::Ge => a.jump(BPF_JGE_K, v_lo, None, Some(fail)),
        Op::Lt => a.jump(BPF_JGE_K, v_lo, Some(fail), None),
        Op::Le => a.jump(BPF_JGT_K, v_lo, Some(fail), None),
        Op::MaskedEq => {
            a.and(v_lo);
            a.jump(BPF_JEQ_K, w_lo, None, Some(fail));
        }
    }
    a.bind(pass);
}
