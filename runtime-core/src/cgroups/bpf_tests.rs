//! The device program is run by a small eBPF interpreter (only the instructions `compile`
//! emits) and compared with the v1 semantics of `DeviceState::allows` over many requests.

use super::*;
use crate::cgroups::devices::{configured_rules, default_rules};

/// Runs `prog` on a `struct bpf_cgroup_dev_ctx` of (access << 16 | type, major, minor).
fn run(prog: &[Insn], ty: u32, acc: u32, major: u32, minor: u32) -> u64 {
    let ctx = [acc << 16 | ty, major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    for _ in 0..10_000 {
        let i = prog[pc];
        let (d, s) = (usize::from(i.dst), usize::from(i.src));
        let imm = i.imm as i64 as u64;
        let jump = |cond: bool| if cond { pc + 1 + i.off as usize } else { pc + 1 };
        pc = match i.code {
            LDX_W => {
                assert_eq!(s, 1, "loads only from the context");
                r[d] = u64::from(ctx[i.off as usize / 4]);
                pc + 1
            }
            AND32_K => {
                r[d] = (r[d] as u32 & imm as u32) as u64;
                pc + 1
            }
            RSH32_K => {
                r[d] = ((r[d] as u32) >> imm) as u64;
                pc + 1
            }
            MOV64_X => {
                r[d] = r[s];
                pc + 1
            }
            MOV32_K => {
                r[d] = imm as u32 as u64;
                pc + 1
            }
            JNE_K => jump(r[d] != imm),
            JEQ_K => jump(r[d] == imm),
            EXIT => return r[0],
            other => panic!("unexpected opcode {other:#x}"),
        };
        assert!(pc < prog.len(), "jump out of the program");
    }
    panic!("no exit");
}

fn rules(json: &str) -> Vec<Rule> {
    configured_rules(&serde_json::from_str::<Vec<oci_spec::runtime::LinuxDeviceCgroup>>(json).unwrap()).unwrap()
}

/// Every combination of a few devices and all access sets: program == reference.
fn check_equivalent(state: &DeviceState) {
    let prog = compile(state);
    for kind in ['b', 'c'] {
        for major in [1, 4, 5, 8, 10, 136] {
            for minor in [0, 1, 2, 3, 5, 7, 9, 11, 200] {
                for acc in 1..=7 {
                    let want = state.allows(kind, major, minor, acc);
                    let got = run(&prog, dev_type(kind) as u32, acc, major as u32, minor as u32);
                    assert_eq!(got, u64::from(want), "{kind} {major}:{minor} acc {acc} in {state:?}");
                }
            }
        }
    }
}

#[test]
fn docker_style_rules_deny_all_but_the_defaults() {
    let mut r = rules(r#"[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":4,"minor":1,"access":"r"}]"#);
    r.extend(default_rules());
    let s = DeviceState::from_rules(&r);
    assert!(!s.default_allow);
    assert!(s.allows('c', 1, 3, 6), "/dev/null rw");
    assert!(s.allows('c', 136, 7, 6), "a pty");
    assert!(s.allows('b', 8, 0, 1), "mknod of anything");
    assert!(!s.allows('b', 8, 0, 2), "reading a disk");
    assert!(!s.allows('c', 1, 11, 2), "/dev/kmsg");
    assert!(s.allows('c', 4, 1, 2) && !s.allows('c', 4, 1, 6), "configured read-only tty1");
    check_equivalent(&s);
}

#[test]
fn allow_list_mode_with_partial_denials() {
    // After an allow-all rule deny rules become exceptions, as on v1.
    let r = rules(
        r#"[{"allow":true,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":3,"access":"w"},
            {"allow":false,"type":"b","access":"rwm"}]"#,
    );
    let s = DeviceState::from_rules(&r);
    assert!(s.default_allow);
    assert!(s.allows('c', 1, 3, 2) && !s.allows('c', 1, 3, 4) && !s.allows('c', 1, 3, 6));
    assert!(!s.allows('b', 8, 0, 1));
    assert!(s.allows('c', 5, 0, 7));
    check_equivalent(&s);
}

#[test]
fn later_rules_narrow_and_reset_earlier_ones() {
    let r = rules(
        r#"[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":5,"access":"rwm"},
            {"allow":false,"type":"c","major":1,"minor":5,"access":"w"},{"allow":true,"type":"c","major":1,"minor":5,"access":"r"}]"#,
    );
    let s = DeviceState::from_rules(&r);
    assert_eq!(s.exceptions.len(), 1);
    assert_eq!(s.exceptions[0].access, "rm");
    check_equivalent(&s);
    let reset = rules(r#"[{"allow":true,"type":"c","major":1,"minor":5,"access":"r"},{"allow":true,"access":"rwm"}]"#);
    assert_eq!(DeviceState::from_rules(&reset), DeviceState { default_allow: true, exceptions: vec![] });
    check_equivalent(&DeviceState::from_rules(&reset));
    let implicit = DeviceState::from_rules(&rules(r#"[{"allow":true,"type":"c","major":1,"minor":5,"access":"r"}]"#));
    assert!(!implicit.default_allow, "deny-all is implied, as in runc");
    assert!(implicit.allows('c', 1, 5, 2) && !implicit.allows('c', 1, 6, 2));
}

#[test]
fn encoding_matches_struct_bpf_insn() {
    assert_eq!(Insn { code: LDX_W, dst: 4, src: 1, off: 4, imm: 0 }.encode(), [0x61, 0x14, 4, 0, 0, 0, 0, 0]);
    assert_eq!(Insn { code: JNE_K, dst: 2, src: 0, off: 3, imm: 2 }.encode(), [0x55, 0x02, 3, 0, 2, 0, 0, 0]);
    let prog = compile(&DeviceState { default_allow: false, exceptions: vec![] });
    assert_eq!(prog.len(), 8, "prologue, then `return 0`");
    assert_eq!(
        prog[6..],
        [Insn { code: MOV32_K, dst: 0, src: 0, off: 0, imm: 0 }, Insn { code: EXIT, dst: 0, src: 0, off: 0, imm: 0 }]
    );
}
