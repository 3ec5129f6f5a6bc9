//! A cBPF interpreter for tests: runs a compiled filter on a synthetic `seccomp_data` the way the
//! kernel does, and rejects anything the kernel's checker would (backward or out-of-range jumps,
//! falling off the end, unknown opcodes, misaligned loads).

use seccompiler::sock_filter;

use super::asm::{
    BPF_ALU_AND_K, BPF_JA, BPF_JEQ_K, BPF_JGE_K, BPF_JGT_K, BPF_JSET_K, BPF_LD_W_ABS, BPF_RET_K, MAX_INSNS,
};

/// `struct seccomp_data`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Data {
    pub(super) nr: u32,
    pub(super) arch: u32,
    pub(super) args: [u64; 6],
}

impl Data {
    /// The 32-bit word at byte offset `off`, as the kernel lays the struct out on a little-endian host.
    fn word(&self, off: u32) -> u32 {
        assert!(off.is_multiple_of(4) && off < 64, "load at bad offset {off}");
        match off {
            0 => self.nr,
            4 => self.arch,
            8 | 12 => 0, // instruction_pointer
            _ => {
                let arg = self.args[((off - 16) / 8) as usize];
                if off.is_multiple_of(8) {
                    arg as u32
                } else {
                    (arg >> 32) as u32
                }
            }
        }
    }
}

/// The filter's return value for `d`; panics on a program the kernel would refuse.
pub(super) fn run(prog: &[sock_filter], d: &Data) -> u32 {
    run_counted(prog, d).0
}

/// The return value and the number of instructions executed.
pub(super) fn run_counted(prog: &[sock_filter], d: &Data) -> (u32, usize) {
    let mut steps = 0;
    assert!(!prog.is_empty() && prog.len() <= MAX_INSNS, "program length {}", prog.len());
    let (mut pc, mut a) = (0usize, 0u32);
    loop {
        steps += 1;
        let ins = prog.get(pc).unwrap_or_else(|| panic!("fell off the end at {pc}"));
        let next = pc + 1;
        let (jt, jf) = (next + ins.jt as usize, next + ins.jf as usize);
        pc = match ins.code {
            BPF_LD_W_ABS => {
                a = d.word(ins.k);
                next
            }
            BPF_ALU_AND_K => {
                a &= ins.k;
                next
            }
            BPF_RET_K => return (ins.k, steps),
            BPF_JA => next + ins.k as usize,
            BPF_JEQ_K => pick(a == ins.k, jt, jf),
            BPF_JGT_K => pick(a > ins.k, jt, jf),
            BPF_JGE_K => pick(a >= ins.k, jt, jf),
            BPF_JSET_K => pick(a & ins.k != 0, jt, jf),
            c => panic!("unknown opcode {c:#x} at {pc}"),
        };
        assert!(pc < prog.len(), "jump out of the program to {pc}");
    }
}

fn pick(cond: bool, t: usize, f: usize) -> usize {
    if cond {
        t
    } else {
        f
    }
}
