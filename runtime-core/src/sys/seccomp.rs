//! Installing a compiled seccomp program (in the child) and handing a NOTIFY listener to the
//! seccomp agent (in the parent), as runc does: one unix-socket message carrying the container's
//! `ContainerProcessState` JSON and the listener fd (SCM_RIGHTS).

use std::io::{IoSlice, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

use super::SysError;

/// Loads the cBPF `filter` into the calling thread with `flags` (`SECCOMP_FILTER_FLAG_*`).
/// Returns the listener fd when `flags` asks for one (NOTIFY rules).
///
/// Needs no_new_privs or CAP_SYS_ADMIN; the child calls it while single-threaded, so no thread is
/// left unfiltered (and TSYNC is not needed).
pub(crate) fn install(filter: &[seccompiler::sock_filter], flags: u32) -> Result<Option<OwnedFd>, SysError> {
    let op = || format!("seccomp(SECCOMP_SET_MODE_FILTER, {flags:#x}, {} instructions)", filter.len());
    let len = u16::try_from(filter.len()).map_err(|_| SysError::check(op(), None, "program too long"))?;
    let fprog = libc::sock_fprog {
        len,
        // seccompiler's sock_filter is #[repr(C)] with the same fields as the kernel's struct.
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `fprog` points at `len` initialised instructions that outlive the call; the kernel
    // copies the program and does not keep the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            &fprog as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(SysError::last(op(), None));
    }
    if flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32 == 0 {
        return Ok(None);
    }
    let fd = i32::try_from(rc).map_err(|_| SysError::check(op(), None, "listener fd out of range"))?;
    // SAFETY: with SECCOMP_FILTER_FLAG_NEW_LISTENER the kernel returns a new fd that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Sends `listener` with `msg` (runc's `ContainerProcessState` JSON) to the agent listening on
/// `path` (the profile's listenerPath).
pub(crate) fn send_to_agent(path: &Path, msg: &[u8], listener: BorrowedFd<'_>) -> Result<(), SysError> {
    let shown = path.display().to_string();
    let mut sock = UnixStream::connect(path).map_err(|e| SysError::io("connect to seccomp agent", Some(&shown), &e))?;
    let fds = [listener.as_raw_fd()];
    let sent = sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(msg)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(|e| SysError::from_errno("sendmsg(SCM_RIGHTS) to seccomp agent", Some(&shown), e as i32))?;
    // A stream socket may take part of a large state; the fd went with the first byte.
    sock.write_all(msg.get(sent..).unwrap_or_default())
        .map_err(|e| SysError::io("write to seccomp agent", Some(&shown), &e))
}

/// Kernel-backed: each test forks a child that installs a compiled filter and makes syscalls; the
/// parent reads the outcome from the child's exit status. Needs root (CAP_SYS_ADMIN stands in for
/// no_new_privs).
#[cfg(test)]
mod tests {
    use std::io::{IoSliceMut, Read, Seek};
    use std::os::fd::AsFd;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::net::UnixListener;

    use nix::sys::signal::Signal;
    use nix::sys::socket::{recvmsg, socketpair, AddressFamily, ControlMessageOwned, SockFlag, SockType};
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult, Pid};

    use super::*;
    use crate::seccomp::{compile, Arch, Program};

    fn nr(name: &str) -> libc::c_long {
        libc::c_long::from(Arch::native().unwrap().syscall(name).unwrap())
    }

    fn program(json: &str) -> Program {
        compile(&serde_json::from_str(json).unwrap()).unwrap()
    }

    fn is_root() -> bool {
        if nix::unistd::geteuid().is_root() {
            return true;
        }
        crate::test_skip::skip("seccomp kernel test", "needs root to install seccomp filters without no_new_privs");
        false
    }

    /// Forks; the child installs `p`, runs `body` and exits with its result (200 + errno when
    /// install fails).
    fn in_child(p: &Program, body: impl FnOnce(Option<OwnedFd>) -> i32) -> (Pid, WaitStatus) {
        // SAFETY: the child only installs the filter, makes raw syscalls and _exits; it takes no
        // lock another test thread could hold (glibc's malloc is reset across fork).
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let code = match install(&p.filter, p.flags) {
                    Ok(listener) => body(listener),
                    Err(e) => 200 + e.errno,
                };
                // SAFETY: _exit ends the child without running the parent's destructors or atexit hooks.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => (child, waitpid(child, None).unwrap()),
        }
    }

    /// The errno of syscall `nr` in a child under `p` (0 on success).
    fn errno_of(p: &Program, nr: libc::c_long) -> i32 {
        let (_, status) = in_child(p, |_| {
            // SAFETY: the syscalls used here take no pointers (zero arguments are read as NULL).
            let rc = unsafe { libc::syscall(nr, 0, 0, 0, 0, 0, 0) };
            if rc == -1 {
                std::io::Error::last_os_error().raw_os_error().unwrap_or(1)
            } else {
                0
            }
        });
        match status {
            WaitStatus::Exited(_, code) => code,
            other => panic!("child did not exit: {other:?}"),
        }
    }

    fn signal_of(p: &Program, nr: libc::c_long) -> Option<Signal> {
        // SAFETY: as in errno_of.
        match in_child(p, |_| unsafe { libc::syscall(nr, 0, 0, 0, 0, 0, 0) } as i32).1 {
            WaitStatus::Signaled(_, sig, _) => Some(sig),
            _ => None,
        }
    }

    fn one_rule(action: &str) -> Program {
        program(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{{"names": ["getppid"], "action": "{action}"}}]}}"#
        ))
    }

    #[test]
    fn errno_value_reaches_the_caller() {
        if !is_root() {
            return;
        }
        let p = program(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42},
                {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}]}]}"#,
        );
        assert_eq!(errno_of(&p, nr("getppid")), 42);
        assert_eq!(errno_of(&p, nr("getpid")), 0, "argument 0 is 0: the condition does not hold");
        assert_eq!(errno_of(&p, nr("getuid")), 0);
    }

    #[test]
    fn newer_syscalls_get_enosys_older_ones_the_default() {
        if !is_root() {
            return;
        }
        let p = program(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_NATIVE"], "syscalls": [
                {"names": ["exit_group", "exit", "getppid"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        assert_eq!(errno_of(&p, nr("getppid")), 0);
        assert_eq!(errno_of(&p, nr("getpid")), libc::EPERM, "older than the newest rule");
        assert_eq!(errno_of(&p, nr("pidfd_open")), libc::ENOSYS, "newer than the profile");
        assert_eq!(errno_of(&p, 5000), libc::ENOSYS);
    }

    #[test]
    fn kill_and_trap_end_the_process_with_sigsys() {
        if !is_root() {
            return;
        }
        for action in ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"] {
            assert_eq!(signal_of(&one_rule(action), nr("getppid")), Some(Signal::SIGSYS), "{action}");
        }
        assert_eq!(signal_of(&one_rule("SCMP_ACT_KILL"), nr("getpid")), None, "other syscalls run");
    }

    #[test]
    fn trace_without_a_tracer_is_enosys_and_log_allows() {
        if !is_root() {
            return;
        }
        assert_eq!(errno_of(&one_rule("SCMP_ACT_TRACE"), nr("getppid")), libc::ENOSYS);
        // LOG lets the call through and records it: audit type 1326 in the kernel log when no
        // audit daemon takes the records. kauditd prints them later and under printk's rate
        // limit (which the KILL tests running alongside also use), so wait, and retry once
        // after the limit's 5 s window.
        for attempt in 0..2 {
            let kmsg = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open("/dev/kmsg")
                .and_then(|mut f| f.seek(std::io::SeekFrom::End(0)).map(|_| f));
            let (child, status) = in_child(&one_rule("SCMP_ACT_LOG"), |_| {
                // SAFETY: getppid takes no arguments.
                unsafe { libc::syscall(nr("getppid")) as i32 == nix::unistd::getppid().as_raw() }.into()
            });
            assert_eq!(status, WaitStatus::Exited(child, 1), "getppid ran and returned the parent");
            let mut f = match kmsg {
                Ok(f) => f,
                Err(e) => return crate::test_skip::skip("SCMP_ACT_LOG record check", &format!("/dev/kmsg: {e}")),
            };
            if audit_logged(&mut f, child, nr("getppid")) {
                break;
            }
            assert!(attempt == 0, "no seccomp audit record (code=0x7ffc0000) for pid {child} in /dev/kmsg");
            std::thread::sleep(std::time::Duration::from_millis(5500));
        }
        let p = program(r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}"#);
        assert_eq!(errno_of(&p, nr("getppid")), 0, "the LOG flag is accepted by the kernel");
    }

    #[test]
    fn wait_killable_recv_reaches_the_kernel() {
        if !is_root() {
            return;
        }
        let json = r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
            "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}"#;
        let mut p = program(json);
        p.flags |= crate::seccomp::FLAG_WAIT_KILLABLE_RECV;
        assert_eq!(errno_of(&p, nr("getppid")), 0, "accepted with a listener");
        p.flags &= !crate::seccomp::FLAG_NEW_LISTENER;
        assert_eq!(errno_of(&p, nr("getppid")), 200 + libc::EINVAL, "the flag reached the kernel");
    }

    #[test]
    fn install_reports_the_kernel_error() {
        if !is_root() {
            return;
        }
        let mut p = one_rule("SCMP_ACT_ERRNO");
        p.flags |= 1 << 31; // no such flag
        assert_eq!(errno_of(&p, nr("getppid")), 200 + libc::EINVAL);
    }

    #[test]
    fn notify_listener_reaches_the_agent_and_answers_syscalls() {
        if !is_root() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("hull-seccomp-agent-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let sock_path = dir.join("agent.sock");
        let agent = UnixListener::bind(&sock_path).unwrap();
        let p = program(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "{}", "listenerMetadata": "meta",
                "syscalls": [{{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}}]}}"#,
            sock_path.display()
        ));
        let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC).unwrap();
        let getppid = nr("getppid");
        // SAFETY: as in errno_of; the child passes the listener up, then blocks in getppid until
        // the agent answers.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let code = match install(&p.filter, p.flags) {
                    Ok(Some(l)) => {
                        let fds = [l.as_raw_fd()];
                        let cmsg = [ControlMessage::ScmRights(&fds)];
                        let _ =
                            sendmsg::<()>(theirs.as_raw_fd(), &[IoSlice::new(b"L")], &cmsg, MsgFlags::empty(), None);
                        // SAFETY: getppid takes no arguments.
                        let rc = unsafe { libc::syscall(getppid) };
                        if rc == 4242 {
                            0
                        } else {
                            1
                        }
                    }
                    Ok(None) => 2,
                    Err(e) => 200 + e.errno,
                };
                // SAFETY: as in in_child.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                let listener = recv_fd(ours.as_fd()).expect("child sends its listener");
                let state = format!(
                    r#"{{"ociVersion": "1.2.0", "id": "t", "status": "creating", "pid": {child}, "bundle": "/"}}"#
                );
                let msg = p.agent_message(state.as_bytes()).unwrap();
                send_to_agent(p.listener_path().unwrap(), &msg, listener.as_fd()).unwrap();
                drop(listener);
                let (conn, _) = agent.accept().unwrap();
                let mut buf = vec![0u8; 4096];
                let (len, agent_fd) = recv_with_fd(conn.as_fd(), &mut buf);
                let msg: serde_json::Value = serde_json::from_slice(&buf[..len]).unwrap();
                assert_eq!(msg["fds"], serde_json::json!(["seccompFd"]));
                assert_eq!(msg["metadata"], "meta");
                assert_eq!(msg["pid"], child.as_raw());
                answer_one(agent_fd.as_fd(), getppid as i32, child.as_raw() as u32);
                assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Runs `argv` under `p` (installed, then execve) and returns its exit status.
    fn exec_under(p: &Program, argv: &[&str]) -> WaitStatus {
        let args: Vec<std::ffi::CString> = argv.iter().map(|a| std::ffi::CString::new(*a).unwrap()).collect();
        in_child(p, |_| {
            let _ = nix::unistd::execv(&args[0], &args);
            127
        })
        .1
    }

    #[test]
    fn real_programs_run_under_the_docker_profile() {
        if !is_root() {
            return;
        }
        let p = program(include_str!("../seccomp/testdata/docker-default.json"));
        let ok = |s: WaitStatus| matches!(s, WaitStatus::Exited(_, 0));
        assert!(ok(exec_under(&p, &["/bin/true"])), "a dynamic binary starts and exits");
        assert!(ok(exec_under(&p, &["/bin/sh", "-c", "echo x > /dev/null; exit 0"])));
        if std::path::Path::new("/usr/bin/unshare").exists() {
            let open = exec_under(&one_rule("SCMP_ACT_LOG"), &["/usr/bin/unshare", "-U", "/bin/true"]);
            let filtered = exec_under(&p, &["/usr/bin/unshare", "-U", "/bin/true"]);
            assert!(ok(open), "unshare -U works without the profile: {open:?}");
            assert!(!ok(filtered), "unshare(CLONE_NEWUSER) is refused by the profile");
        } else {
            crate::test_skip::skip("seccomp unshare check", "no /usr/bin/unshare");
        }
    }

    /// Whether a SECCOMP_RET_LOG audit record for `pid` and `nr` shows up in `kmsg` within a second.
    fn audit_logged(kmsg: &mut std::fs::File, pid: Pid, nr: libc::c_long) -> bool {
        let (who, call) = (format!("pid={pid} "), format!("syscall={nr} "));
        let mut rec = vec![0u8; 8192];
        for _ in 0..50 {
            loop {
                match kmsg.read(&mut rec) {
                    Ok(n) => {
                        let r = String::from_utf8_lossy(&rec[..n]);
                        if r.contains("type=1326") && r.contains(&who) && r.contains(&call) && r.contains("0x7ffc0000")
                        {
                            return true;
                        }
                    }
                    // EPIPE: records were overwritten under us; keep reading the newer ones.
                    Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
                    Err(_) => break,
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }

    /// An i386 syscall from this 64-bit process (no arguments), through the compat entry point.
    #[cfg(target_arch = "x86_64")]
    fn int80(nr: i32) -> i32 {
        let ret: i32;
        // SAFETY: `int 0x80` enters the kernel's i386 compat path; only eax (the result) and r8-r11
        // (not preserved by every kernel on that path) change. The syscalls used take no arguments
        // or are refused by the filter before they run.
        unsafe {
            std::arch::asm!("int 0x80", inlateout("eax") nr => ret, out("r8") _, out("r9") _, out("r10") _,
                out("r11") _, options(nostack));
        }
        ret
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn i386_and_x32_syscalls_take_their_own_branches() {
        if !is_root() {
            return;
        }
        const I386_GETPID: i32 = 20;
        if int80(I386_GETPID) != std::process::id() as i32 {
            crate::test_skip::skip(
                "i386_and_x32_syscalls_take_their_own_branches",
                "this kernel runs no i386 syscalls (ia32 emulation off)",
            );
            return;
        }
        let p = program(include_str!("../seccomp/testdata/docker-default.json"));
        let x32 = |n: libc::c_long| {
            // SAFETY: x32 syscalls with zero arguments; the filter refuses them before they run.
            if unsafe { libc::syscall(0x4000_0000 | n, 0, 0, 0, 0, 0, 0) } == -1 {
                std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
            } else {
                0
            }
        };
        let (_, status) = in_child(&p, |_| {
            // Each failed check sets one bit of the exit code.
            let checks = [
                int80(I386_GETPID) > 0,       // allowed on i386
                int80(21) == -libc::EPERM,    // i386 mount: not in the profile
                int80(1000) == -libc::ENOSYS, // newer than the profile's i386 syscalls
                x32(165) == libc::EPERM,      // x32 mount: the x32 branch, not x86_64's
                x32(1000) == libc::ENOSYS,    // x32 stub
                x32(39) != libc::EPERM,       // x32 getpid is allowed (the kernel may lack x32)
            ];
            checks.iter().enumerate().filter(|(_, ok)| !**ok).map(|(i, _)| 1 << i).sum()
        });
        assert_eq!(status, WaitStatus::Exited(status.pid().unwrap(), 0), "bits are failed checks");
    }

    fn recv_fd(sock: BorrowedFd<'_>) -> Option<OwnedFd> {
        let mut buf = [0u8; 16];
        Some(recv_with_fd(sock, &mut buf).1)
    }

    fn recv_with_fd(sock: BorrowedFd<'_>, buf: &mut [u8]) -> (usize, OwnedFd) {
        let mut space = nix::cmsg_space!([libc::c_int; 1]);
        let mut iov = [IoSliceMut::new(buf)];
        let m = recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty()).unwrap();
        let fd = m
            .cmsgs()
            .unwrap()
            .find_map(|c| match c {
                ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
                _ => None,
            })
            .expect("an fd in SCM_RIGHTS");
        // SAFETY: SCM_RIGHTS installed a new fd in this process that nothing else owns.
        (m.bytes, unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Receives one notification, checks it, and makes the syscall return 4242.
    fn answer_one(listener: BorrowedFd<'_>, want_nr: i32, want_pid: u32) {
        // SAFETY: seccomp_notif is plain data; the kernel requires it zeroed before NOTIF_RECV.
        let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: `n` is a valid, writable seccomp_notif for the duration of the call.
        let rc = unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) };
        assert_eq!(rc, 0, "NOTIF_RECV: {}", std::io::Error::last_os_error());
        assert_eq!((n.data.nr, n.pid), (want_nr, want_pid));
        let mut resp = libc::seccomp_notif_resp { id: n.id, val: 4242, error: 0, flags: 0 };
        // SAFETY: `resp` is a valid seccomp_notif_resp for the duration of the call.
        let rc = unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
        assert_eq!(rc, 0, "NOTIF_SEND: {}", std::io::Error::last_os_error());
    }
}
