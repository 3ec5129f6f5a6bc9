//! cgroup v2 device control: loading an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE and
//! attaching it to a cgroup directory (the only unsafe part of the cgroup layer).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::SysError;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Lets other programs (a parent's, systemd's) stay attached beside ours: all must allow.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The BPF_PROG_LOAD part of `union bpf_attr`, field for field (72 bytes, no padding).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The BPF_PROG_ATTACH part of `union bpf_attr` (24 bytes, no padding).
#[repr(C)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    relative_fd: u32,
}

fn load(insns: &[[u8; 8]], log: Option<&mut [u8]>) -> libc::c_long {
    let license = c"Apache";
    let (log_level, log_size, log_buf) = match log {
        Some(buf) => (1, buf.len() as u32, buf.as_mut_ptr() as u64),
        None => (0, 0, 0),
    };
    let mut prog_name = [0u8; 16];
    prog_name[..4].copy_from_slice(b"hull");
    let attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        prog_name,
        ..Default::default()
    };
    // SAFETY: `attr` is a fully initialised prefix of `union bpf_attr` for BPF_PROG_LOAD; the
    // kernel reads `insn_cnt` 8-byte instructions from `insns`, the NUL-terminated license, and
    // writes at most `log_size` bytes into the log buffer; all of them outlive the call.
    unsafe { libc::syscall(libc::SYS_bpf, BPF_PROG_LOAD, &attr as *const ProgLoadAttr, size_of::<ProgLoadAttr>()) }
}

/// Loads the device program and attaches it to the cgroup directory `cgroup` (named `path`
/// in errors). The cgroup keeps the program alive; the program fd is closed on return.
pub(crate) fn attach_device_program(cgroup: BorrowedFd<'_>, insns: &[[u8; 8]], path: &str) -> Result<(), SysError> {
    let fd = load(insns, None);
    if fd < 0 {
        let err = SysError::last("bpf(BPF_PROG_LOAD, cgroup device program) for", Some(path));
        // Load again with the verifier's log, whose last line says what it refused.
        let mut log = vec![0u8; 16 * 1024];
        load(insns, Some(&mut log));
        let text = String::from_utf8_lossy(&log);
        let last = text.trim_end_matches('\0').lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").to_owned();
        return Err(if last.is_empty() { err } else { err.with_detail(last) });
    }
    // SAFETY: BPF_PROG_LOAD returned a new file descriptor that nothing else owns.
    let prog = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
        relative_fd: 0,
    };
    // SAFETY: `attr` is a fully initialised prefix of `union bpf_attr` for BPF_PROG_ATTACH and
    // both fds stay open for the duration of the call.
    let rc = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_PROG_ATTACH, &attr as *const ProgAttachAttr, size_of::<ProgAttachAttr>())
    };
    if rc < 0 {
        return Err(SysError::last("bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) to", Some(path)));
    }
    Ok(())
}

const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;

/// The BPF_PROG_QUERY part of `union bpf_attr` (32 bytes, no padding).
#[repr(C)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    pad: u32,
}

/// The BPF_PROG_GET_FD_BY_ID part of `union bpf_attr`.
#[repr(C)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// Ids of the device programs attached to this cgroup itself (not inherited ones).
pub(crate) fn device_program_ids(cgroup: BorrowedFd<'_>, path: &str) -> Result<Vec<u32>, SysError> {
    let mut ids = [0u32; 64];
    let mut attr = ProgQueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        query_flags: 0,
        attach_flags: 0,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        pad: 0,
    };
    // SAFETY: `attr` is a fully initialised BPF_PROG_QUERY attr; the kernel writes at most
    // `prog_cnt` ids into `ids`, which outlives the call, and updates `attr.prog_cnt`.
    let rc = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_PROG_QUERY, &mut attr as *mut ProgQueryAttr, size_of::<ProgQueryAttr>())
    };
    if rc < 0 {
        return Err(SysError::last("bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE) on", Some(path)));
    }
    Ok(ids[..(attr.prog_cnt as usize).min(ids.len())].to_vec())
}

fn prog_fd_by_id(id: u32, path: &str) -> Result<OwnedFd, SysError> {
    let attr = GetFdByIdAttr { prog_id: id, next_id: 0, open_flags: 0 };
    // SAFETY: `attr` is a fully initialised BPF_PROG_GET_FD_BY_ID attr.
    let fd = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_PROG_GET_FD_BY_ID, &attr as *const GetFdByIdAttr, size_of::<GetFdByIdAttr>())
    };
    if fd < 0 {
        return Err(SysError::last(format!("bpf(BPF_PROG_GET_FD_BY_ID, {id}) for"), Some(path)));
    }
    // SAFETY: the kernel returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Replaces the device programs attached to the cgroup by a new one. The new program is
/// attached before the old ones are detached: in between both apply (a request must pass
/// both), so there is never a moment without device control.
pub(crate) fn replace_device_program(cgroup: BorrowedFd<'_>, insns: &[[u8; 8]], path: &str) -> Result<(), SysError> {
    let old: Vec<OwnedFd> =
        device_program_ids(cgroup, path)?.into_iter().map(|id| prog_fd_by_id(id, path)).collect::<Result<_, _>>()?;
    attach_device_program(cgroup, insns, path)?;
    for prog in old {
        let attr = ProgAttachAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_bpf_fd: prog.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            attach_flags: 0,
            replace_bpf_fd: 0,
            relative_fd: 0,
        };
        // SAFETY: `attr` is a fully initialised BPF_PROG_DETACH attr; both fds are open.
        let rc = unsafe {
            libc::syscall(libc::SYS_bpf, BPF_PROG_DETACH, &attr as *const ProgAttachAttr, size_of::<ProgAttachAttr>())
        };
        if rc < 0 {
            return Err(SysError::last("bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE) from", Some(path)));
        }
    }
    Ok(())
}
