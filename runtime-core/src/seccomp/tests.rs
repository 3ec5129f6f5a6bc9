//! Compiled programs run in the test interpreter: every rule of real profiles is checked against
//! a direct evaluation of the resolved rules, and runc's semantics against hand-picked cases.

use oci_spec::runtime::LinuxSeccomp;

use super::arch::{Arch, X32_SYSCALL_BIT};
use super::bpf_interp::{run, run_counted, Data};
use super::profile::{self, Action, ArchRules, Cond, Op, Profile};
use super::{compile_for, Program, FLAG_LOG, FLAG_NEW_LISTENER, FLAG_SPEC_ALLOW};
use super::{FEATURE_ACTIONS, FEATURE_ARCHS, FEATURE_FLAGS, FEATURE_OPERATORS};
use crate::Error;

const DOCKER: &str = include_str!("testdata/docker-default.json");
const ARGS: &str = include_str!("testdata/args.json");

const AUDIT_X86_64: u32 = 0xc000_003e;
const AUDIT_I386: u32 = 0x4000_0003;
const AUDIT_AARCH64: u32 = 0xc000_00b7;
const EPERM: u32 = 0x0005_0001;
const ENOSYS: u32 = 0x0005_0026;
const ALLOW: u32 = 0x7fff_0000;
const KILL_THREAD: u32 = 0;

pub(super) fn spec(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).expect("test profile parses")
}

/// `json` with its `architectures` replaced.
fn with_arches(json: &str, arches: &[&str]) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["architectures"] = serde_json::json!(arches);
    v.to_string()
}

fn compile(json: &str) -> Program {
    compile_for(&spec(json), Arch::X86_64).expect("profile compiles")
}

fn eval(p: &Program, arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    run(&p.filter, &Data { nr, arch, args })
}

fn nr(arch: Arch, name: &str) -> u32 {
    arch.syscall(name).unwrap_or_else(|| panic!("{name} not in {arch:?}"))
}

/// What the program must return, evaluated straight from the resolved rules.
fn reference(p: &Profile, d: &Data) -> u32 {
    let pick = |a: Arch| p.arches.iter().find(|r| r.arch == a);
    let has_x32 = pick(Arch::X32).is_some();
    let rules: Option<&ArchRules> = match d.arch {
        // libseccomp: syscall(-1) goes to the x86_64 rules when x32 is not filtered, past the stub.
        // (No syscall has that number, so the default applies.) Other numbers above the x32 bit
        // are a bad ABI, once past the stub.
        AUDIT_X86_64 if d.nr == u32::MAX && !has_x32 => return p.default.ret(),
        AUDIT_X86_64 if d.nr & X32_SYSCALL_BIT != 0 => pick(Arch::X32),
        AUDIT_X86_64 if d.nr >= X32_SYSCALL_BIT && !has_x32 => {
            let stubbed = pick(Arch::X86_64).and_then(|r| r.stub_max).is_some_and(|m| d.nr > m);
            return if stubbed { ENOSYS } else { KILL_THREAD };
        }
        AUDIT_X86_64 => pick(Arch::X86_64),
        AUDIT_I386 => pick(Arch::X86),
        AUDIT_AARCH64 => pick(Arch::Aarch64),
        _ => None,
    };
    let Some(r) = rules else { return KILL_THREAD };
    if r.stub_max.is_some_and(|m| d.nr > m) {
        return ENOSYS;
    }
    let holds = |c: &Cond| {
        let arg = d.args[c.index as usize];
        let (arg, v, w) = if r.arch.args64() {
            (arg, c.value, c.value_two)
        } else {
            (arg & 0xffff_ffff, c.value & 0xffff_ffff, c.value_two & 0xffff_ffff)
        };
        match c.op {
            Op::Eq => arg == v,
            Op::Ne => arg != v,
            Op::Lt => arg < v,
            Op::Le => arg <= v,
            Op::Gt => arg > v,
            Op::Ge => arg >= v,
            Op::MaskedEq => arg & v == w,
        }
    };
    r.rules_of(d.nr).iter().find(|rule| rule.conds.iter().all(holds)).map_or(p.default, |rule| rule.action).ret()
}

/// Argument values around every constant the syscall's conditions use, both halves varied.
fn candidates(conds: &[&Cond], index: u8) -> Vec<u64> {
    let mut out = vec![0, u64::MAX, 1 << 32, 0xffff_ffff];
    for c in conds.iter().filter(|c| c.index == index) {
        for v in [c.value, c.value_two, c.value_two | !c.value] {
            out.extend([v, v.wrapping_add(1), v.wrapping_sub(1), v ^ (1 << 32), v & 0xffff_ffff, v | !0xffff_ffff]);
        }
    }
    out
}

/// xorshift: reproducible sampling without a dependency.
pub(super) fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Runs the compiled program on every syscall number of each ABI (plus numbers beyond the tables)
/// and, for syscalls with conditions, on sampled arguments; compares with [`reference`].
pub(super) fn check_every_rule(json: &str, native: Arch) -> usize {
    let s = spec(json);
    let prog = compile_for(&s, native).unwrap();
    let prof = profile::resolve(&s, native).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    let mut checked = 0;
    for r in &prof.arches {
        let base = if r.arch == Arch::X32 { X32_SYSCALL_BIT } else { 0 };
        let numbers = (base..base + 1100).chain([base + 0x3fff_ffff, u32::MAX, 0x8000_0001]);
        for nr in numbers {
            let conds: Vec<&Cond> = r.rules_of(nr).iter().flat_map(|rule| &rule.conds).collect();
            let cand: Vec<Vec<u64>> = (0..6).map(|i| candidates(&conds, i)).collect();
            let samples = if conds.is_empty() { 2 } else { 400 };
            for _ in 0..samples {
                let args = std::array::from_fn(|i| cand[i][(next(&mut seed) % cand[i].len() as u64) as usize]);
                let d = Data { nr, arch: r.arch.audit(), args };
                assert_eq!(run(&prog.filter, &d), reference(&prof, &d), "{:?} nr {nr:#x} args {args:x?}", r.arch);
                checked += 1;
            }
        }
    }
    for arch in [AUDIT_X86_64, AUDIT_I386, AUDIT_AARCH64, 0x4000_0028, 0] {
        let d = Data { nr: 0, arch, args: [0; 6] };
        assert_eq!(run(&prog.filter, &d), reference(&prof, &d), "arch {arch:#x}");
    }
    checked
}

#[test]
fn docker_profile_every_rule_x86_64_host() {
    assert!(check_every_rule(DOCKER, Arch::X86_64) > 3 * 1100);
}

#[test]
fn docker_profile_every_rule_aarch64_host() {
    check_every_rule(DOCKER, Arch::Aarch64);
    let aarch64 = with_arches(DOCKER, &["SCMP_ARCH_AARCH64"]);
    check_every_rule(&aarch64, Arch::Aarch64);
    let listed = compile_for(&spec(&aarch64), Arch::Aarch64).unwrap();
    let unlisted = compile_for(&spec(DOCKER), Arch::Aarch64).unwrap();
    let a = |p: &Program, name: &str| eval(p, AUDIT_AARCH64, nr(Arch::Aarch64, name), [0; 6]);
    assert_eq!(a(&listed, "openat"), ALLOW);
    assert_eq!(a(&listed, "mount"), EPERM);
    assert_eq!(eval(&listed, AUDIT_AARCH64, 1000, [0; 6]), ENOSYS);
    assert_eq!(eval(&unlisted, AUDIT_AARCH64, 1000, [0; 6]), EPERM, "no stub for an unlisted ABI, as runc");
    assert_eq!(eval(&listed, AUDIT_X86_64, 0, [0; 6]), KILL_THREAD);
}

#[test]
fn args_profile_every_rule() {
    check_every_rule(ARGS, Arch::X86_64);
    check_every_rule(ARGS, Arch::Aarch64);
}

#[test]
fn docker_profile_decisions() {
    let p = compile(DOCKER);
    let x = |name: &str, args: [u64; 6]| eval(&p, AUDIT_X86_64, nr(Arch::X86_64, name), args);
    assert_eq!(x("read", [0; 6]), ALLOW);
    assert_eq!(x("mount", [0; 6]), EPERM);
    assert_eq!(x("clone3", [0; 6]), ENOSYS, "clone3 gets ENOSYS so libcs fall back to clone");
    assert_eq!(x("clone", [0x0120_0011, 0, 0, 0, 0, 0]), ALLOW, "fork-like clone");
    assert_eq!(x("clone", [0x1000_0000 | 0x11, 0, 0, 0, 0, 0]), EPERM, "CLONE_NEWUSER");
    assert_eq!(x("personality", [8, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(x("personality", [0xffff_ffff, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(x("personality", [1, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(x("personality", [0x1_0000_0008, 0, 0, 0, 0, 0]), EPERM, "high half compared on x86_64");
    assert_eq!(x("socket", [2, 1, 0, 0, 0, 0]), ALLOW);
    assert_eq!(x("socket", [40, 1, 0, 0, 0, 0]), EPERM, "AF_VSOCK");
    // Newer than the profile: ENOSYS, so that callers fall back; older and unlisted: EPERM.
    assert_eq!(eval(&p, AUDIT_X86_64, 1000, [0; 6]), ENOSYS);
    assert_eq!(eval(&p, AUDIT_X86_64, nr(Arch::X86_64, "reboot"), [0; 6]), EPERM);
    // i386 and x32 have their own tables.
    assert_eq!(eval(&p, AUDIT_I386, nr(Arch::X86, "read"), [0; 6]), ALLOW);
    assert_eq!(eval(&p, AUDIT_I386, nr(Arch::X86, "socketcall"), [0; 6]), ALLOW);
    assert_eq!(eval(&p, AUDIT_I386, nr(Arch::X86, "mount"), [0; 6]), EPERM);
    assert_eq!(eval(&p, AUDIT_I386, nr(Arch::X86, "personality"), [0x1_0000_0008, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(eval(&p, AUDIT_X86_64, nr(Arch::X32, "read"), [0; 6]), ALLOW);
    assert_eq!(eval(&p, AUDIT_X86_64, X32_SYSCALL_BIT + 1000, [0; 6]), ENOSYS);
    assert_eq!(eval(&p, AUDIT_AARCH64, 63, [0; 6]), KILL_THREAD, "ABI not in the filter");
    assert_eq!(p.flags, FLAG_SPEC_ALLOW, "runc's default flags");
    assert!(!p.needs_listener());
}

#[test]
fn search_cost_stays_flat() {
    let p = compile(DOCKER);
    let worst =
        (0..600).map(|n| run_counted(&p.filter, &Data { nr: n, arch: AUDIT_X86_64, args: [0; 6] }).1).max().unwrap();
    // ~350 syscalls: a linear chain would need hundreds of steps.
    assert!(worst <= 20, "worst case {worst} instructions");
    assert!(p.filter.len() < 1000, "{} instructions", p.filter.len());
}

#[test]
fn one_profile_per_action() {
    let cases: [(&str, &str, u32); 10] = [
        ("SCMP_ACT_KILL", "", 0),
        ("SCMP_ACT_KILL_THREAD", "", 0),
        ("SCMP_ACT_KILL_PROCESS", "", 0x8000_0000),
        ("SCMP_ACT_TRAP", "", 0x0003_0000),
        ("SCMP_ACT_ERRNO", "", EPERM),
        ("SCMP_ACT_ERRNO", r#","errnoRet": 42"#, 0x0005_002a),
        ("SCMP_ACT_TRACE", r#","errnoRet": 7"#, 0x7ff0_0007),
        ("SCMP_ACT_LOG", "", 0x7ffc_0000),
        ("SCMP_ACT_NOTIFY", "", 0x7fc0_0000),
        ("SCMP_ACT_TRACE", "", 0x7ff0_0001),
    ];
    for (action, extra, want) in cases {
        let json = format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
                "syscalls": [{{"names": ["getppid"], "action": "{action}"{extra}}}]}}"#
        );
        let p = compile(&json);
        assert_eq!(eval(&p, AUDIT_X86_64, nr(Arch::X86_64, "getppid"), [0; 6]), want, "{action}{extra}");
        assert_eq!(eval(&p, AUDIT_X86_64, nr(Arch::X86_64, "getpid"), [0; 6]), ALLOW);
        assert_eq!(p.needs_listener(), action == "SCMP_ACT_NOTIFY");
        assert_eq!(p.listener_path().is_some(), action == "SCMP_ACT_NOTIFY");
    }
}

#[test]
fn default_action_and_errno() {
    let p = compile(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5, "syscalls": []}"#);
    assert_eq!(eval(&p, AUDIT_X86_64, 0, [0; 6]), 0x0005_0005);
    let p = compile(r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS"}"#);
    assert_eq!(eval(&p, AUDIT_X86_64, 0, [0; 6]), 0x8000_0000);
}

#[test]
fn rules_equal_to_the_default_are_dropped() {
    // Kept, the unconditional ERRNO rule would shadow the conditional ALLOW.
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(eval(&p, AUDIT_X86_64, 0, [5, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(eval(&p, AUDIT_X86_64, 0, [6, 0, 0, 0, 0, 0]), EPERM);
}

#[test]
fn unconditional_rules_win_as_in_libseccomp() {
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 6},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7}]}"#,
    );
    let getppid = nr(Arch::X86_64, "getppid");
    assert_eq!(eval(&p, AUDIT_X86_64, getppid, [1, 0, 0, 0, 0, 0]), 0x0005_0006);
    assert_eq!(eval(&p, AUDIT_X86_64, getppid, [0; 6]), 0x0005_0006);
}

#[test]
fn unknown_names_are_skipped() {
    // socketcall exists on i386 only: filtered there, as libseccomp translates names per ABI.
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
            {"names": ["no_such_syscall", "getppid", "socketcall"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(eval(&p, AUDIT_X86_64, nr(Arch::X86_64, "getppid"), [0; 6]), EPERM);
    assert_eq!(eval(&p, AUDIT_I386, nr(Arch::X86, "getppid"), [0; 6]), EPERM);
    assert_eq!(eval(&p, AUDIT_I386, nr(Arch::X86, "socketcall"), [0; 6]), EPERM);
    assert_eq!(eval(&p, AUDIT_X86_64, X32_SYSCALL_BIT, [0; 6]), KILL_THREAD, "x32 not in the filter");
}

#[test]
fn enosys_stub_follows_runc() {
    let rules = r#""syscalls": [{"names": ["read", "getppid"], "action": "SCMP_ACT_ALLOW"}]"#;
    let with = |head: &str| compile(&format!("{{{head}, {rules}}}"));
    let getppid = nr(Arch::X86_64, "getppid");
    let p = with(r#""defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"]"#);
    assert_eq!(eval(&p, AUDIT_X86_64, getppid + 1, [0; 6]), ENOSYS);
    assert_eq!(eval(&p, AUDIT_X86_64, getppid - 1, [0; 6]), EPERM);
    // runc builds the stub only for the listed architectures...
    let p = with(r#""defaultAction": "SCMP_ACT_ERRNO""#);
    assert_eq!(eval(&p, AUDIT_X86_64, getppid + 1, [0; 6]), EPERM);
    // ...and not when the default lets syscalls through.
    for d in ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"] {
        let p = with(&format!(r#""defaultAction": "{d}", "architectures": ["SCMP_ARCH_X86_64"]"#));
        assert_ne!(eval(&p, AUDIT_X86_64, getppid + 1, [0; 6]), ENOSYS, "{d}");
    }
    let p = with(r#""defaultAction": "SCMP_ACT_KILL", "architectures": ["SCMP_ARCH_X86_64"]"#);
    assert_eq!(eval(&p, AUDIT_X86_64, 1000, [0; 6]), ENOSYS);
}

#[test]
fn flags() {
    let flags = |f: &str| compile(&format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW"{f}}}"#)).flags;
    assert_eq!(flags(""), FLAG_SPEC_ALLOW);
    assert_eq!(flags(r#", "flags": []"#), 0);
    assert_eq!(flags(r#", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"]"#), FLAG_LOG);
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": [], "listenerPath": "/a", "listenerMetadata": "m",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
    );
    assert_eq!(p.flags, FLAG_NEW_LISTENER);
    assert_eq!(p.listener_path(), Some(std::path::Path::new("/a")));
}

#[test]
fn bad_profiles_are_refused() {
    let invalid = [
        (r#"{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/a"}"#, "default action"),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}"#,
            "write syscall",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
            "listenerPath",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
            "index 6",
        ),
        (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [""], "action": "SCMP_ACT_ERRNO"}]}"#, "empty"),
    ];
    for (json, want) in invalid {
        match compile_for(&spec(json), Arch::X86_64) {
            Err(Error::InvalidConfig(m)) => assert!(m.contains(want), "{m:?} lacks {want:?}"),
            other => panic!("{json}: {other:?}"),
        }
    }
    let arm = spec(r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_ARM"]}"#);
    assert!(matches!(compile_for(&arm, Arch::Aarch64), Err(Error::NotSupported(m)) if m.contains("SCMP_ARCH_ARM")));
    assert!(compile_for(&arm, Arch::X86_64).is_ok(), "an x86_64 kernel never reports ARM");
}

#[test]
fn agent_message_is_runcs_container_process_state() {
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "listenerMetadata": "meta",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
    );
    let state = br#"{"ociVersion": "1.2.0", "id": "c1", "status": "creating", "pid": 42, "bundle": "/b"}"#;
    let msg: serde_json::Value = serde_json::from_slice(&p.agent_message(state).unwrap()).unwrap();
    assert_eq!(msg["fds"], serde_json::json!(["seccompFd"]));
    assert_eq!(msg["pid"], 42);
    assert_eq!(msg["metadata"], "meta");
    assert_eq!(msg["ociVersion"], "1.2.0");
    assert_eq!(msg["state"]["id"], "c1");
    assert!(p.agent_message(b"not json").is_err());
}

#[test]
fn actions_order_as_the_kernel_ranks_them() {
    // Sanity for the values compared against above: the kernel's ranking is by RET_ACTION_FULL.
    let ranked = [Action::KillProcess, Action::KillThread, Action::Trap, Action::Errno(1), Action::Notify];
    assert!(ranked.windows(2).all(|w| (w[0].ret() as i32) < (w[1].ret() as i32)));
}

#[test]
fn features_lists_what_compiles() {
    for action in FEATURE_ACTIONS {
        let json = format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
                "syscalls": [{{"names": ["getppid"], "action": "{action}"}}]}}"#
        );
        compile(&json);
    }
    for op in FEATURE_OPERATORS {
        let json = format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{{"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
                "args": [{{"index": 1, "value": 3, "valueTwo": 1, "op": "{op}"}}]}}]}}"#
        );
        compile(&json);
    }
    for arch in FEATURE_ARCHS {
        compile(&format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["{arch}"]}}"#));
    }
    for flag in FEATURE_FLAGS {
        compile(&format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["{flag}"]}}"#));
    }
}

#[test]
fn wait_killable_recv_goes_with_a_listener_only() {
    let wkr = crate::seccomp::FLAG_WAIT_KILLABLE_RECV;
    let head = r#""defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]"#;
    let notify = r#""listenerPath": "/a", "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]"#;
    assert_ne!(compile(&format!("{{{head}, {notify}}}")).flags & wkr, 0);
    assert_eq!(compile(&format!("{{{head}}}")).flags & wkr, 0);
}

#[test]
fn x86_64_without_x32_as_libseccomp() {
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["read", "getppid"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(eval(&p, AUDIT_X86_64, u32::MAX, [0; 6]), EPERM, "syscall(-1) reaches the rules, past the stub");
    assert_eq!(eval(&p, AUDIT_X86_64, X32_SYSCALL_BIT, [0; 6]), KILL_THREAD, "x32 is not filtered");
    assert_eq!(eval(&p, AUDIT_X86_64, 0x8000_0001, [0; 6]), ENOSYS, "runc's stub comes first");
    let p =
        compile(r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG"}]}"#);
    assert_eq!(eval(&p, AUDIT_X86_64, u32::MAX, [0; 6]), ALLOW);
    assert_eq!(eval(&p, AUDIT_X86_64, 0x8000_0001, [0; 6]), KILL_THREAD);
    check_every_rule(&with_arches(DOCKER, &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]), Arch::X86_64);
    check_every_rule(&with_arches(ARGS, &["SCMP_ARCH_X86_64"]), Arch::X86_64);
}

#[test]
fn i386_multiplexers_follow_their_calls() {
    let p = compile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["shmget"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9},
            {"names": ["bind"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7, "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    let i386 = |name: &str, args: [u64; 6]| eval(&p, AUDIT_I386, nr(Arch::X86, name), args);
    assert_eq!(i386("socket", [2, 1, 0, 0, 0, 0]), EPERM);
    assert_eq!(i386("socketcall", [1, 0x1000, 0, 0, 0, 0]), EPERM, "SYS_SOCKET");
    assert_eq!(i386("socketcall", [3, 0x1000, 0, 0, 0, 0]), ALLOW, "SYS_CONNECT");
    assert_eq!(i386("ipc", [23, 0, 0, 0, 0, 0]), 0x0005_0009, "SHMGET");
    assert_eq!(i386("ipc", [24, 0, 0, 0, 0, 0]), ALLOW, "SHMCTL");
    // libseccomp replaces a condition on the first argument with the call number.
    assert_eq!(i386("socketcall", [2, 0x1000, 0, 0, 0, 0]), 0x0005_0007, "SYS_BIND");
    assert_eq!(i386("bind", [3, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(eval(&p, AUDIT_X86_64, nr(Arch::X86_64, "socket"), [0; 6]), EPERM);
    check_every_rule(&with_arches(DOCKER, &["SCMP_ARCH_X86"]), Arch::X86_64);
}
