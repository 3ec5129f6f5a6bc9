//! linux.seccomp constrains the container's program, not the runtime: a default-deny profile that
//! allows only what the program itself needs after its execve runs, for `create`/`start` and for
//! `exec`, with noNewPrivileges true and false.
//!
//! What the runtime does between loading the filter and the execve also passes through the filter,
//! so the later the filter goes in, the less a profile must allow for the runtime's sake. With
//! noNewPrivileges the filter can go in right before the execve. Without it the kernel wants
//! CAP_SYS_ADMIN at load time, so the capabilities the process does not keep are dropped after the
//! load: `capset` is the one call such a profile cannot avoid allowing.

use crate::{requires, Case};
use serde_json::{json, Value};

/// What the static probe makes from its execve to its exit for `cat` and `sleep` (strace).
const PROBE: &[&str] = &[
    "execve",
    "arch_prctl",
    "brk",
    "clock_nanosleep",
    "close",
    "exit",
    "exit_group",
    "getrandom",
    "gettid",
    "mmap",
    "mprotect",
    "munmap",
    "newfstatat",
    "openat",
    "poll",
    "prlimit64",
    "read",
    "readlink",
    "rseq",
    "rt_sigaction",
    "sched_getaffinity",
    "set_robust_list",
    "set_tid_address",
    "sigaltstack",
    "statx",
    "write",
];

/// Without noNewPrivileges: the capability drop after the load (loading needed CAP_SYS_ADMIN).
const DROP_AFTER_LOAD: &[&str] = &["capset"];

/// runc 1.1.5 loads the filter earlier (before its exec fifo wait, and before its privilege drop
/// without noNewPrivileges) and runs Go code after it: what its init makes from the load to the
/// execve, measured with strace for `run` and `exec`, plus the Go runtime's background calls.
const RUNC_1_1_5: &[&str] = &[
    "close",
    "epoll_ctl",
    "epoll_pwait",
    "fstatfs",
    "futex",
    "getdents64",
    "getpid",
    "madvise",
    "nanosleep",
    "openat",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_yield",
    "tgkill",
    "write",
];
const RUNC_1_1_5_PRIVILEGED: &[&str] = &[
    "capget",
    "capset",
    "chdir",
    "faccessat2",
    "fcntl",
    "fstat",
    "getcwd",
    "getppid",
    "newfstatat",
    "prctl",
    "setgid",
    "setgroups",
    "setuid",
];

/// A profile that refuses (EPERM) everything but the probe's needs and, for runc, its own.
fn profile(c: &Case, no_new_privs: bool) -> Value {
    let mut names: Vec<&str> = PROBE.to_vec();
    if !no_new_privs {
        names.extend_from_slice(DROP_AFTER_LOAD);
    }
    if c.rt.name() == "runc" {
        names.extend_from_slice(RUNC_1_1_5);
        if !no_new_privs {
            names.extend_from_slice(RUNC_1_1_5_PRIVILEGED);
        }
    }
    names.sort_unstable();
    names.dedup();
    json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]})
}

/// The filter is on and noNewPrivileges is as asked, in the probe's own /proc/self/status.
#[track_caller]
fn assert_filtered(status: &str, no_new_privs: bool) {
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_default();
    assert_eq!(field("Seccomp:"), "2", "{status}");
    assert_eq!(field("NoNewPrivs:"), if no_new_privs { "1" } else { "0" }, "{status}");
}

pub fn errno_default_profile_constrains_only_the_program() {
    requires!(root, runtime);
    for nnp in [true, false] {
        let c = Case::new();
        let p = profile(&c, nnp);
        c.build(c.bundle().args(&["/probe", "cat", "/proc/self/status"]).with(|s| {
            s["process"]["noNewPrivileges"] = json!(nnp);
            s["linux"]["seccomp"] = p;
        }));
        let o = c.run(&[]);
        assert!(o.success(), "noNewPrivileges {nnp}: {o}");
        assert_filtered(&o.stdout, nnp);
        c.assert_clean();
    }
}

pub fn errno_default_profile_constrains_only_the_exec_program() {
    requires!(root, runtime);
    let c = Case::new();
    let p = profile(&c, false);
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["process"]["noNewPrivileges"] = json!(false);
        s["linux"]["seccomp"] = p;
    }));
    c.create(&[]).ok();
    c.start().ok();
    for nnp in [true, false] {
        let process = json!({
            "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/", "noNewPrivileges": nnp,
            "args": ["/probe", "cat", "/proc/self/status"], "env": ["PATH=/bin"],
        });
        let path = c.dir.join("process.json");
        std::fs::write(&path, process.to_string()).unwrap();
        let o = c.exec(&["exec", "--process", &path.to_string_lossy(), &c.id]);
        assert!(o.success(), "noNewPrivileges {nnp}: {o}");
        assert_filtered(&o.stdout, nnp);
    }
    assert_eq!(c.status().as_deref(), Some("running"), "the init runs under the same profile");
    c.delete(true).ok();
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(errno_default_profile_constrains_only_the_program, "config-linux.md#seccomp"),
    entry!(errno_default_profile_constrains_only_the_exec_program, "config-linux.md#seccomp"),
];
