//! Differential fuzzing of the compiler: random profiles (actions, errnos, architectures, up to
//! three argument conditions per rule with every operator and boundary values) are compiled and
//! run in the interpreter on every syscall number and sampled arguments, against the reference
//! evaluation of the resolved rules. The seed is fixed so a failure reproduces; set
//! `HULL_SECCOMP_FUZZ_SEED` / `HULL_SECCOMP_FUZZ_ROUNDS` to explore further.

use serde_json::{json, Value};

use super::arch::Arch;
use super::compile_for;
use super::tests::{check_every_rule, next, spec as spec_of};

const NAMES: &[&str] = &[
    "read",
    "write",
    "openat",
    "close",
    "mmap",
    "mprotect",
    "clone",
    "clone3",
    "unshare",
    "mount",
    "umount2",
    "personality",
    "socket",
    "socketpair",
    "bind",
    "connect",
    "ioctl",
    "prctl",
    "kill",
    "tgkill",
    "getppid",
    "getpid",
    "execve",
    "execveat",
    "ptrace",
    "keyctl",
    "add_key",
    "bpf",
    "perf_event_open",
    "setns",
    "chmod",
    "fchmodat",
    "shmget",
    "msgsnd",
    "semop",
    "ipc",
    "socketcall",
    "open",
    "stat",
    "nosuch_syscall_x",
    "io_uring_setup",
    "futex",
    "epoll_wait",
    "pidfd_open",
    "landlock_create_ruleset",
];
const ACTIONS: &[&str] = &[
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_LOG",
    "SCMP_ACT_TRACE",
];
const OPS: &[&str] =
    &["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"];
const ARCHES: &[&str] = &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"];

fn pick<'a, T>(seed: &mut u64, from: &'a [T]) -> &'a T {
    &from[(next(seed) % from.len() as u64) as usize]
}

fn value(seed: &mut u64) -> u64 {
    match next(seed) % 6 {
        0 => 0,
        1 => next(seed) % 16,
        2 => 0xffff_ffff,
        3 => (1 << 32) | (next(seed) % 4),
        4 => u64::MAX - next(seed) % 2,
        _ => next(seed),
    }
}

fn rule(seed: &mut u64) -> Value {
    let names: Vec<&str> = (0..1 + next(seed) % 3).map(|_| *pick(seed, NAMES)).collect();
    let mut r = json!({"names": names, "action": pick(seed, ACTIONS)});
    if next(seed).is_multiple_of(3) {
        r["errnoRet"] = json!(next(seed) % 200);
    }
    let conds: Vec<Value> = (0..next(seed) % 4)
        .map(|_| {
            let op = *pick(seed, OPS);
            let mut c = json!({"index": next(seed) % 6, "value": value(seed), "op": op});
            if op == "SCMP_CMP_MASKED_EQ" {
                c["valueTwo"] = json!(value(seed));
            }
            c
        })
        .collect();
    if !conds.is_empty() {
        r["args"] = json!(conds);
    }
    r
}

fn profile(seed: &mut u64) -> Value {
    let mut p = json!({
        "defaultAction": pick(seed, ACTIONS),
        "syscalls": (0..next(seed) % 25).map(|_| rule(seed)).collect::<Vec<_>>(),
    });
    if next(seed).is_multiple_of(2) {
        p["defaultErrnoRet"] = json!(1 + next(seed) % 100);
    }
    if next(seed).is_multiple_of(2) {
        let arches: Vec<&str> = ARCHES.iter().copied().filter(|_| next(seed).is_multiple_of(2)).collect();
        p["architectures"] = json!(arches);
    }
    p
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn random_profiles_compile_to_what_their_rules_say() {
    let mut seed = env_u64("HULL_SECCOMP_FUZZ_SEED", 0x5eed_cafe_f00d_0001);
    let rounds = env_u64("HULL_SECCOMP_FUZZ_ROUNDS", 60);
    let (mut checked, mut refused) = (0, 0);
    for round in 0..rounds {
        let json = profile(&mut seed).to_string();
        let native = if round % 4 == 3 { Arch::Aarch64 } else { Arch::X86_64 };
        // Profiles the compiler refuses (e.g. an architecture list without the native one on a
        // host that cannot run it) are fine: only accepted ones must behave.
        if compile_for(&spec_of(&json), native).is_err() {
            refused += 1;
            continue;
        }
        checked += check_every_rule(&json, native);
    }
    assert!(refused < rounds / 4, "{refused} of {rounds} random profiles refused: the generator is off");
    assert!(checked > rounds as usize * 1000, "only {checked} decisions checked");
}
