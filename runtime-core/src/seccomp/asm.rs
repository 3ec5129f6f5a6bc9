//! A classic-BPF assembler with labels: the code generator names jump targets and this module
//! turns them into offsets, inserting a long `ja` wherever a conditional jump cannot reach its
//! target in the 8-bit offset of cBPF.

use seccompiler::sock_filter;

/// A position in the program, bound once with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Label(usize);

pub(super) const BPF_LD_W_ABS: u16 = 0x20;
pub(super) const BPF_ALU_AND_K: u16 = 0x54;
pub(super) const BPF_RET_K: u16 = 0x06;
pub(super) const BPF_JA: u16 = 0x05;
pub(super) const BPF_JEQ_K: u16 = 0x15;
pub(super) const BPF_JGT_K: u16 = 0x25;
pub(super) const BPF_JGE_K: u16 = 0x35;
pub(super) const BPF_JSET_K: u16 = 0x45;

/// The kernel's limit on the length of a filter (`BPF_MAXINSNS`).
pub(super) const MAX_INSNS: usize = 4096;

#[derive(Debug)]
enum Ins {
    Stmt { code: u16, k: u32 },
    Ja(Label),
    Jump { code: u16, k: u32, jt: Label, jf: Label },
    Bind(Label),
}

/// A program under construction.
#[derive(Debug, Default)]
pub(super) struct Asm {
    ins: Vec<Ins>,
    labels: usize,
}

impl Asm {
    pub(super) fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// Places `l` at the next instruction. Jumps only go forward, so bind after every jump to it.
    pub(super) fn bind(&mut self, l: Label) {
        self.ins.push(Ins::Bind(l));
    }

    /// `A = seccomp_data[off]` (32 bits).
    pub(super) fn load(&mut self, off: u32) {
        self.ins.push(Ins::Stmt { code: BPF_LD_W_ABS, k: off });
    }

    pub(super) fn and(&mut self, k: u32) {
        self.ins.push(Ins::Stmt { code: BPF_ALU_AND_K, k });
    }

    pub(super) fn ret(&mut self, k: u32) {
        self.ins.push(Ins::Stmt { code: BPF_RET_K, k });
    }

    pub(super) fn goto(&mut self, l: Label) {
        self.ins.push(Ins::Ja(l));
    }

    /// A conditional jump; `None` means the instruction that follows.
    pub(super) fn jump(&mut self, code: u16, k: u32, jt: Option<Label>, jf: Option<Label>) {
        let next = self.label();
        let (jt, jf) = (jt.unwrap_or(next), jf.unwrap_or(next));
        self.ins.push(Ins::Jump { code, k, jt, jf });
        self.bind(next);
    }

    /// Resolves labels. A conditional jump whose target is more than 255 instructions away gets a
    /// `ja` trampoline right after it; trampolines move code, so this repeats until nothing changes
    /// (it ends because a jump, once long, stays long).
    pub(super) fn finish(self) -> Result<Vec<sock_filter>, String> {
        let mut far = vec![(false, false); self.ins.len()];
        loop {
            let (pos, at) = self.layout(&far);
            let mut changed = false;
            for (i, ins) in self.ins.iter().enumerate() {
                if let Ins::Jump { jt, jf, .. } = ins {
                    // Offsets count from the next instruction, which is a trampoline when one is needed.
                    let after = pos[i] + 1;
                    let (t, f) = (at[jt.0].ok_or("unbound label")?, at[jf.0].ok_or("unbound label")?);
                    if t < after || f < after {
                        return Err(format!("backward jump at {}", pos[i]));
                    }
                    let want = (far[i].0 || t - after > 255, far[i].1 || f - after > 255);
                    changed |= want != far[i];
                    far[i] = want;
                }
            }
            if !changed {
                return self.emit(&far, &pos, &at);
            }
        }
    }

    /// The address of each instruction and of each label, given which jumps need trampolines.
    fn layout(&self, far: &[(bool, bool)]) -> (Vec<usize>, Vec<Option<usize>>) {
        let mut pos = Vec::with_capacity(self.ins.len());
        let mut at = vec![None; self.labels];
        let mut pc = 0;
        for (i, ins) in self.ins.iter().enumerate() {
            pos.push(pc);
            pc += match ins {
                Ins::Bind(l) => {
                    at[l.0] = Some(pc);
                    0
                }
                Ins::Jump { .. } => 1 + usize::from(far[i].0) + usize::from(far[i].1),
                _ => 1,
            };
        }
        (pos, at)
    }

    fn emit(&self, far: &[(bool, bool)], pos: &[usize], at: &[Option<usize>]) -> Result<Vec<sock_filter>, String> {
        let addr = |l: &Label| at[l.0].ok_or_else(|| "unbound label".to_string());
        let ja = |from: usize, to: usize| -> Result<sock_filter, String> {
            let k = to.checked_sub(from + 1).ok_or("backward jump")?;
            Ok(sock_filter { code: BPF_JA, jt: 0, jf: 0, k: k as u32 })
        };
        let mut out = Vec::with_capacity(pos.last().copied().unwrap_or(0) + 1);
        for (i, ins) in self.ins.iter().enumerate() {
            match ins {
                Ins::Bind(_) => {}
                Ins::Stmt { code, k } => out.push(sock_filter { code: *code, jt: 0, jf: 0, k: *k }),
                Ins::Ja(l) => out.push(ja(pos[i], addr(l)?)?),
                Ins::Jump { code, k, jt, jf } => {
                    let (ft, ff) = far[i];
                    let after = pos[i] + 1;
                    // A long target is reached through its trampoline: the first one sits at
                    // offset 0, the second (jf's) at offset 1 when both are long.
                    let off_t = if ft { 0 } else { addr(jt)? - after };
                    let off_f = if ff { usize::from(ft) } else { addr(jf)? - after };
                    out.push(sock_filter { code: *code, jt: off_t as u8, jf: off_f as u8, k: *k });
                    if ft {
                        out.push(ja(out.len(), addr(jt)?)?);
                    }
                    if ff {
                        out.push(ja(out.len(), addr(jf)?)?);
                    }
                }
            }
        }
        if out.len() > MAX_INSNS {
            return Err(format!("{} instructions, more than the kernel's limit of {MAX_INSNS}", out.len()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_jumps_are_offsets() {
        let mut a = Asm::default();
        let l = a.label();
        a.jump(BPF_JEQ_K, 7, Some(l), None);
        a.ret(1);
        a.bind(l);
        a.ret(2);
        let p = a.finish().unwrap();
        assert_eq!(p[0], sock_filter { code: BPF_JEQ_K, jt: 1, jf: 0, k: 7 });
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn far_jumps_get_trampolines() {
        let mut a = Asm::default();
        let (t, f) = (a.label(), a.label());
        a.jump(BPF_JGT_K, 3, Some(t), Some(f));
        for _ in 0..300 {
            a.ret(0);
        }
        a.bind(t);
        a.ret(1);
        for _ in 0..300 {
            a.ret(0);
        }
        a.bind(f);
        a.ret(2);
        let p = a.finish().unwrap();
        assert_eq!((p[0].jt, p[0].jf), (0, 1));
        assert_eq!(p[1].code, BPF_JA);
        assert_eq!(p[1].k as usize + 2, 303, "ja from index 1 lands on ret 1");
        assert_eq!(p[303].k, 1);
        assert_eq!(p[2].k as usize + 3, 604);
        assert_eq!(p[604].k, 2);
    }

    #[test]
    fn oversized_programs_are_refused() {
        let mut a = Asm::default();
        for _ in 0..=MAX_INSNS {
            a.ret(0);
        }
        assert!(a.finish().unwrap_err().contains("limit"));
    }
}
