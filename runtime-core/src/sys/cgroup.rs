//! cgroup v2 device control: loading an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE and
//! attaching it to a cgroup directory (the only unsafe part of the cgroup layer).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::SysError;

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
