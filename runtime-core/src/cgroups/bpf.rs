//! Device rules as a cgroup v2 eBPF device program (BPF_PROG_TYPE_CGROUP_DEVICE). Pure: the
//! rules are first reduced the way the v1 kernel applies `devices.allow`/`devices.deny` writes
//! (a default plus exceptions), so both versions grant the same access; the result is compiled
//! to a list of eBPF instructions (the reduction, `DeviceState`, lives in `devices`). Loading
//! and attaching live in `sys::cgroup`.

use oci_spec::runtime::LinuxDeviceCgroup;

// `DeviceState` is named here by the systemd driver's properties as well.
pub(crate) use super::devices::DeviceState;
use super::devices::{access_bits, configured_rules, default_rules, Rule};

/// The configured rules followed by the defaults, as the eBPF device program that v2 attaches,
/// encoded for BPF_PROG_LOAD.
pub(crate) fn v2_program(devices: &[LinuxDeviceCgroup]) -> crate::Result<Vec<[u8; 8]>> {
    let mut rules = configured_rules(devices)?;
    rules.extend(default_rules());
    let state = DeviceState::from_rules(&rules);
    Ok(compile(&state).into_iter().map(|i| i.encode()).collect())
}

/// BPF_DEVCG_DEV_BLOCK (1) and BPF_DEVCG_DEV_CHAR (2).
fn dev_type(kind: char) -> i32 {
    if kind == 'b' {
        1
    } else {
        2
    }
}

/// One eBPF instruction, encoded as the kernel's `struct bpf_insn` (little-endian u64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub(crate) code: u8,
    pub(crate) dst: u8,
    pub(crate) src: u8,
    pub(crate) off: i16,
    pub(crate) imm: i32,
}

pub(crate) const LDX_W: u8 = 0x61; // dst = *(u32 *)(src + off)
pub(crate) const AND32_K: u8 = 0x54;
pub(crate) const RSH32_K: u8 = 0x74;
pub(crate) const MOV64_X: u8 = 0xbf;
pub(crate) const MOV32_K: u8 = 0xb4;
pub(crate) const JNE_K: u8 = 0x55; // if dst != imm goto pc + 1 + off
pub(crate) const JEQ_K: u8 = 0x15; // if dst == imm goto pc + 1 + off
pub(crate) const EXIT: u8 = 0x95;

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn { code, dst, src, off, imm }
    }

    /// The 8 bytes of `struct bpf_insn`, in memory order.
    pub(crate) fn encode(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = (self.src << 4) | (self.dst & 0x0f);
        b[2..4].copy_from_slice(&self.off.to_le_bytes());
        b[4..8].copy_from_slice(&self.imm.to_le_bytes());
        b
    }
}

/// Compiles the device state: registers r2 = type, r3 = access, r4 = major, r5 = minor from
/// `struct bpf_cgroup_dev_ctx`; one block per exception returning the exception's verdict;
/// the default verdict at the end.
pub(crate) fn compile(state: &DeviceState) -> Vec<Insn> {
    let mut prog = vec![
        Insn::new(LDX_W, 2, 1, 0, 0),
        Insn::new(AND32_K, 2, 0, 0, 0xffff),
        Insn::new(LDX_W, 3, 1, 0, 0),
        Insn::new(RSH32_K, 3, 0, 0, 16),
        Insn::new(LDX_W, 4, 1, 4, 0),
        Insn::new(LDX_W, 5, 1, 8, 0),
    ];
    for e in &state.exceptions {
        prog.extend(block(e));
    }
    prog.push(Insn::new(MOV32_K, 0, 0, 0, i32::from(state.default_allow)));
    prog.push(Insn::new(EXIT, 0, 0, 0, 0));
    prog
}

/// One exception: each check jumps past the block when it does not match.
fn block(e: &Rule) -> Vec<Insn> {
    // Jump offsets are filled in once the block's length is known (None marks a jump).
    let mut b: Vec<(Insn, bool)> = Vec::new();
    if e.kind != 'a' {
        b.push((Insn::new(JNE_K, 2, 0, 0, dev_type(e.kind)), true));
    }
    let acc = access_bits(&e.access);
    if acc != 7 {
        b.push((Insn::new(MOV64_X, 1, 3, 0, 0), false));
        if e.allow {
            // An allow exception covers a request only when it grants every asked bit.
            b.push((Insn::new(AND32_K, 1, 0, 0, (!acc & 7) as i32), false));
            b.push((Insn::new(JNE_K, 1, 0, 0, 0), true));
        } else {
            // A deny exception refuses a request that asks for any of its bits.
            b.push((Insn::new(AND32_K, 1, 0, 0, acc as i32), false));
            b.push((Insn::new(JEQ_K, 1, 0, 0, 0), true));
        }
    }
    // Device numbers above i32::MAX cannot exist (majors are 12 bits, minors 20).
    if let Some(m) = e.major {
        b.push((Insn::new(JNE_K, 4, 0, 0, m as i32), true));
    }
    if let Some(m) = e.minor {
        b.push((Insn::new(JNE_K, 5, 0, 0, m as i32), true));
    }
    b.push((Insn::new(MOV32_K, 0, 0, 0, i32::from(e.allow)), false));
    b.push((Insn::new(EXIT, 0, 0, 0, 0), false));
    let len = b.len();
    b.into_iter()
        .enumerate()
        .map(|(i, (mut insn, jump))| {
            if jump {
                insn.off = (len - i - 1) as i16;
            }
            insn
        })
        .collect()
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
mod tests;
