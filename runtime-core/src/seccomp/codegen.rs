//! Code generation: a resolved [`Profile`] becomes a cBPF program.
//!
//! Shape of the program:
//! ```text
//! ld arch; jeq AUDIT_ARCH_<a> -> block_a ...; ret KILL_THREAD        (libseccomp's bad-arch action)
//! block_x86_64: ld nr; jge X32_BIT -> block_x32 (or bad arch)
//!   [jgt <largest nr in profile> -> ret ERRNO(ENOSYS)]                  (runc's patchbpf stub)
//!   binary search on nr: jge pivots down to leaves of <= 4 jeq,
//!   each syscall's rules: argument checks (64-bit args as two 32-bit halves), ret action
//! ```
//! The binary search keeps the per-syscall cost at about log2(n) comparisons however long the
//! profile, where a linear chain (seccompiler's own shape, and libseccomp without optimisation)
//! costs up to n.

use seccompiler::sock_filter;

use super::arch::{Arch, X32_SYSCALL_BIT};
use super::asm::{Asm, Label, BPF_JEQ_K, BPF_JGE_K, BPF_JGT_K};
use super::profile::{Action, ArchRules, Cond, Op, Profile, Rule};

/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;

/// libseccomp's default action for an ABI the filter does not know.
const BAD_ARCH: Action = Action::KillThread;
const ENOSYS: Action = Action::Errno(libc::ENOSYS as u16);

/// Syscalls compared one by one at the bottom of the search tree (libseccomp also uses 4).
const LEAF: usize = 4;

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
        let x86_64 = group.iter().find(|r| r.arch != Arch::X32);
        let x32 = group.iter().find(|r| r.arch == Arch::X32);
        match (x86_64, x32) {
            (Some(n), None) if n.arch == Arch::X86_64 => {
                return_if(&mut a, BPF_JGE_K, X32_SYSCALL_BIT, BAD_ARCH);
                arch_block(&mut a, n, p.default);
            }
            (Some(n), None) => arch_block(&mut a, n, p.default),
            (Some(n), Some(x)) => {
                let lx = a.label();
                a.jump(BPF_JGE_K, X32_SYSCALL_BIT, Some(lx), None);
                arch_block(&mut a, n, p.default);
                a.bind(lx);
                arch_block(&mut a, x, p.default);
            }
            (None, Some(x)) => {
                let lx = a.label();
                a.jump(BPF_JGE_K, X32_SYSCALL_BIT, Some(lx), None);
                a.ret(BAD_ARCH.ret());
                a.bind(lx);
                arch_block(&mut a, x, p.default);
            }
            (None, None) => unreachable!("a group has at least one ABI"),
        }
    }
    a.finish()
}

fn arch_block(a: &mut Asm, r: &ArchRules, default: Action) {
    if let Some(max) = r.stub_max {
        return_if(a, BPF_JGT_K, max, ENOSYS);
    }
    let items: Vec<(u32, &[Rule])> = r.syscalls.iter().map(|(nr, rules)| (*nr, rules.as_slice())).collect();
    tree(a, &items, default, r.arch.args64());
}

/// `if (A <op> k) return action;`
fn return_if(a: &mut Asm, code: u16, k: u32, action: Action) {
    let otherwise = a.label();
    a.jump(code, k, None, Some(otherwise));
    a.ret(action.ret());
    a.bind(otherwise);
}

/// Binary search over syscall numbers, sorted ascending.
fn tree(a: &mut Asm, items: &[(u32, &[Rule])], default: Action, args64: bool) {
    if items.len() <= LEAF {
        return leaf(a, items, default, args64);
    }
    let mid = items.len() / 2;
    let right = a.label();
    a.jump(BPF_JGE_K, items[mid].0, Some(right), None);
    tree(a, &items[..mid], default, args64);
    a.bind(right);
    tree(a, &items[mid..], default, args64);
}

fn leaf(a: &mut Asm, items: &[(u32, &[Rule])], default: Action, args64: bool) {
    // Syscalls with one unconditional rule share a `ret` per action.
    let mut shared: Vec<(Action, Label)> = Vec::new();
    let mut bodies: Vec<(Label, &[Rule])> = Vec::new();
    for (nr, rules) in items {
        let target = match rules {
            [r] if r.conds.is_empty() => match shared.iter().find(|(act, _)| *act == r.action) {
                Some((_, l)) => *l,
                None => {
                    let l = a.label();
                    shared.push((r.action, l));
                    l
                }
            },
            _ => {
                let l = a.label();
                bodies.push((l, rules));
                l
            }
        };
        a.jump(BPF_JEQ_K, *nr, Some(target), None);
    }
    a.ret(default.ret());
    for (action, l) in shared {
        a.bind(l);
        a.ret(action.ret());
    }
    for (l, rules) in bodies {
        a.bind(l);
        syscall_rules(a, rules, default, args64);
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
