//! Scheduling and execution-domain syscalls: sched_setattr, ioprio_set, sched_setaffinity,
//! personality, set_mempolicy.

use super::check;
use super::SysError;

/// struct sched_attr, version 1 (with the utilization clamps left at zero).
#[repr(C)]
struct RawSchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

/// Sets the calling thread's scheduling policy and parameters (sched_attr's fields, in order;
/// `runtime`, `deadline` and `period` only matter for SCHED_DEADLINE).
pub(crate) fn sched_setattr(
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    [runtime, deadline, period]: [u64; 3],
) -> Result<(), SysError> {
    let raw = RawSchedAttr {
        size: std::mem::size_of::<RawSchedAttr>() as u32,
        policy,
        flags,
        nice,
        priority,
        runtime,
        deadline,
        period,
        util_min: 0,
        util_max: 0,
    };
    // SAFETY: `raw` is a valid sched_attr whose `size` field tells the kernel how much to read.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &raw as *const RawSchedAttr, 0) };
    check(r, "sched_setattr", None).map(|_| ())
}

/// Sets the calling process's I/O priority (IOPRIO_WHO_PROCESS, self).
pub(crate) fn ioprio_set(value: u32) -> Result<(), SysError> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::syscall(libc::SYS_ioprio_set, 1, 0, value as libc::c_long) };
    check(r, "ioprio_set", None).map(|_| ())
}

/// Pins the calling thread to the CPUs of `mask` (64 per word).
pub(crate) fn sched_setaffinity(mask: &[u64]) -> Result<(), SysError> {
    // SAFETY: the pointer and byte length describe `mask`, which the kernel only reads.
    let r = unsafe { libc::syscall(libc::SYS_sched_setaffinity, 0, std::mem::size_of_val(mask), mask.as_ptr()) };
    check(r, "sched_setaffinity", None).map(|_| ())
}

/// Sets the execution domain.
pub(crate) fn personality(persona: u64) -> Result<(), SysError> {
    // SAFETY: plain integer argument.
    let r = unsafe { libc::personality(persona as libc::c_ulong) };
    check(r as libc::c_long, "personality", None).map(|_| ())
}

/// Sets the calling thread's NUMA memory policy: `mode` with its flags, and the node bitmask.
pub(crate) fn set_mempolicy(mode: i32, nodes: &[u64]) -> Result<(), SysError> {
    let (ptr, bits) = if nodes.is_empty() { (std::ptr::null(), 0) } else { (nodes.as_ptr(), nodes.len() * 64) };
    // SAFETY: `ptr` is null or points at `bits` bits of `nodes`, which the kernel only reads.
    let r = unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, ptr, bits as libc::c_ulong) };
    check(r, "set_mempolicy", None).map(|_| ())
}
