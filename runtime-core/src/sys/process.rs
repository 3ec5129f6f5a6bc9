//! Process creation and identity syscalls: clone3, setns/unshare, ids, prctl, rlimits, exec, pidfds.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::check;
use super::SysError;

/// Which side of a fork-like clone we are on.
#[derive(Debug)]
pub(crate) enum Forked {
    /// In the parent, with the child's pid.
    Parent(i32),
    /// In the child.
    Child,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// A fork-like `clone3` (no shared memory, child continues on a copy of this stack) with
/// namespace flags and, when given, `CLONE_INTO_CGROUP`.
///
/// Sound only while the calling process is single-threaded (see the crate docs).
pub(crate) fn clone3(flags: u64, cgroup: Option<BorrowedFd<'_>>) -> Result<Forked, SysError> {
    let mut args = CloneArgs { flags, exit_signal: libc::SIGCHLD as u64, ..Default::default() };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: clone3 without CLONE_VM duplicates the address space like fork; `args` is a valid
    // clone_args of the size passed and lives across the call.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) };
    match check(ret, "clone3", None)? {
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// Plain fork (used for the second fork a joined pid namespace needs).
pub(crate) fn fork() -> Result<Forked, SysError> {
    clone3(0, None)
}

/// Leaves the process immediately, without running destructors or atexit handlers (child side).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Joins the namespace behind `fd` (`nstype` is a CLONE_NEW* flag or 0).
pub(crate) fn setns(fd: BorrowedFd<'_>, nstype: i32, what: &str) -> Result<(), SysError> {
    // SAFETY: plain syscall on a borrowed, open fd.
    let r = unsafe { libc::setns(fd.as_raw_fd(), nstype) };
    check(r as _, "setns", Some(what)).map(drop)
}

/// Creates new namespaces for this process.
pub(crate) fn unshare(flags: i32) -> Result<(), SysError> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::unshare(flags) };
    check(r as _, &format!("unshare({flags:#x})"), None).map(drop)
}

/// Sets the UTS hostname.
pub(crate) fn sethostname(name: &str) -> Result<(), SysError> {
    // SAFETY: pointer and length describe `name`.
    let r = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    check(r as _, "sethostname", Some(name)).map(drop)
}

/// Sets the UTS domainname.
pub(crate) fn setdomainname(name: &str) -> Result<(), SysError> {
    // SAFETY: pointer and length describe `name`.
    let r = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    check(r as _, "setdomainname", Some(name)).map(drop)
}

/// Starts a new session (the container process is a session leader).
pub(crate) fn setsid() -> Result<(), SysError> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::setsid() };
    check(r as _, "setsid", None).map(drop)
}

/// Sets supplementary groups.
pub(crate) fn setgroups(gids: &[u32]) -> Result<(), SysError> {
    // SAFETY: pointer and length describe `gids`; gid_t is u32.
    let r = unsafe { libc::syscall(libc::SYS_setgroups, gids.len(), gids.as_ptr()) };
    check(r, "setgroups", None).map(drop)
}

/// Sets real, effective and saved gid (raw syscall: applies to this thread, and we have one).
pub(crate) fn setresgid(gid: u32) -> Result<(), SysError> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    check(r, "setresgid", Some(&gid.to_string())).map(drop)
}

/// Sets real, effective and saved uid.
pub(crate) fn setresuid(uid: u32) -> Result<(), SysError> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    check(r, "setresuid", Some(&uid.to_string())).map(drop)
}

/// `prctl` with integer arguments.
pub(crate) fn prctl(option: i32, arg2: u64, what: &str) -> Result<i32, SysError> {
    // SAFETY: integer-only prctl options.
    let r = unsafe { libc::prctl(option, arg2, 0u64, 0u64, 0u64) };
    check(r as _, "prctl", Some(what)).map(|v| v as i32)
}

/// Sets one rlimit.
pub(crate) fn setrlimit(resource: i32, soft: u64, hard: u64, name: &str) -> Result<(), SysError> {
    let lim = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: `lim` is a valid rlimit; the resource number was validated by the plan.
    let r = unsafe { libc::setrlimit(resource as _, &lim) };
    check(r as _, "setrlimit", Some(name)).map(drop)
}

/// Sets the file mode creation mask.
pub(crate) fn umask(mask: u32) {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask) };
}

/// Changes directory to an open directory fd.
pub(crate) fn fchdir(fd: BorrowedFd<'_>, what: &str) -> Result<(), SysError> {
    // SAFETY: plain syscall on a borrowed fd.
    let r = unsafe { libc::fchdir(fd.as_raw_fd()) };
    check(r as _, "fchdir", Some(what)).map(drop)
}

/// Changes directory by path.
pub(crate) fn chdir(path: &str) -> Result<(), SysError> {
    let c = super::cstr(path, "chdir")?;
    // SAFETY: valid C string.
    let r = unsafe { libc::chdir(c.as_ptr()) };
    check(r as _, "chdir", Some(path)).map(drop)
}

/// The raw `getcwd(2)` answer, which says "(unreachable)" for a cwd outside the root.
pub(crate) fn getcwd() -> Result<String, SysError> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: the buffer is writable for its whole length.
    let r = unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) };
    let n = check(r, "getcwd", None)? as usize;
    buf.truncate(n.saturating_sub(1));
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Closes (or marks close-on-exec with `cloexec`) every fd from `first` up.
pub(crate) fn close_range(first: u32, cloexec: bool) -> Result<(), SysError> {
    let flags = if cloexec { libc::CLOSE_RANGE_CLOEXEC } else { 0 };
    // SAFETY: closes fds this process owns; callers own no OwnedFd in that range afterwards
    // (the exec path is the only caller without cloexec and execs right after).
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, flags) };
    check(r, "close_range", None).map(drop)
}

/// Closes every fd from `first` up except those in `keep`: the exec child drops whatever its
/// caller left open (host directories included) before it enters the container.
pub(crate) fn close_all_except(first: u32, keep: &[RawFd]) -> Result<(), SysError> {
    let mut keep: Vec<u32> = keep.iter().filter_map(|&f| u32::try_from(f).ok()).filter(|&f| f >= first).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut lo = first;
    for k in keep.into_iter().chain([u32::MAX]) {
        if k > lo {
            // SAFETY: the only caller is the exec child, which never returns into the frames that
            // own these fds (it execs or _exits), so no OwnedFd of a closed number is used again;
            // libpathrs revalidates its cached procfs fd and opens a new one when it is gone.
            let r = unsafe { libc::syscall(libc::SYS_close_range, lo, k - 1, 0) };
            check(r, "close_range", None)?;
        }
        lo = k.saturating_add(1);
    }
    Ok(())
}

/// Clears FD_CLOEXEC on an fd that must survive exec (preserved fds, stdio).
pub(crate) fn clear_cloexec(fd: RawFd) -> Result<(), SysError> {
    // SAFETY: fcntl on an fd number; a closed fd gives EBADF, reported as an error.
    let r = unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    check(r as _, "fcntl(F_SETFD)", Some(&fd.to_string())).map(drop)
}

/// Whether `fd` is open in this process.
pub(crate) fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Duplicates `fd` onto `target` (stdio setup), clearing close-on-exec on the copy.
pub(crate) fn dup2(fd: BorrowedFd<'_>, target: RawFd) -> Result<(), SysError> {
    // SAFETY: dup2 onto a target number; the previous fd there (stdio) is not owned by Rust code.
    let r = unsafe { libc::dup2(fd.as_raw_fd(), target) };
    check(r as _, "dup2", Some(&target.to_string())).map(drop)
}

/// Replaces the process image. Returns only on failure.
pub(crate) fn execve(path: &CString, argv: &[CString], envp: &[CString]) -> SysError {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    SysError::last("execve", Some(&path.to_string_lossy()))
}

/// A pidfd for `pid`.
pub(crate) fn pidfd_open(pid: i32) -> Result<OwnedFd, SysError> {
    // SAFETY: plain syscall; on success the returned fd is new and ours.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = check(r, "pidfd_open", Some(&pid.to_string()))?;
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends a signal through a pidfd (immune to pid reuse).
pub(crate) fn pidfd_send_signal(fd: BorrowedFd<'_>, sig: i32) -> Result<(), SysError> {
    // SAFETY: plain syscall on a borrowed pidfd, no siginfo.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_send_signal, fd.as_raw_fd(), sig, 0usize, 0u32) };
    check(r, "pidfd_send_signal", Some(&sig.to_string())).map(drop)
}

/// Waits until the process behind `fd` exits, or `timeout_ms` passes; true if it exited.
pub(crate) fn pidfd_wait_exit(fd: BorrowedFd<'_>, timeout_ms: i32) -> Result<bool, SysError> {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r as _, "poll(pidfd)", None).map(|n| n > 0);
    }
}

/// Waits for a child and returns its status the shell way (exit code, or 128+signal).
pub(crate) fn wait_child(pid: i32) -> Result<i32, SysError> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        check(r as _, "waitpid", Some(&pid.to_string()))?;
        break;
    }
    if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Ok(128 + libc::WTERMSIG(status))
    } else {
        Ok(255)
    }
}

/// Sends a signal by pid (only to our own child, whose pid cannot be reused before we reap it).
pub(crate) fn kill_child(pid: i32, sig: i32) -> Result<(), SysError> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::kill(pid, sig) };
    check(r as _, "kill", Some(&pid.to_string())).map(drop)
}

/// Resets every signal disposition to default and unblocks all signals (before exec in the child).
pub(crate) fn reset_signals() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: SIG_DFL is always a valid disposition; invalid numbers just fail.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    // SAFETY: an empty set is valid.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid set pointers.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// Sets effective, permitted and inheritable capabilities in one capset (v3, 64-bit masks).
pub(crate) fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), SysError> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut h = Header { version: 0x2008_0522, pid: 0 };
    let lo = |m: u64| m as u32;
    let hi = |m: u64| (m >> 32) as u32;
    let d = [
        Data { effective: lo(effective), permitted: lo(permitted), inheritable: lo(inheritable) },
        Data { effective: hi(effective), permitted: hi(permitted), inheritable: hi(inheritable) },
    ];
    // SAFETY: header and a two-element data array as the v3 ABI requires.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut Header, d.as_ptr()) };
    check(r, "capset", None).map(drop)
}

/// Joins a new session keyring named `name` (kernel keyrings are not namespaced).
pub(crate) fn join_session_keyring(name: &str) -> Result<(), SysError> {
    let n = super::cstr(name, "keyctl")?;
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING takes a C string.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, libc::KEYCTL_JOIN_SESSION_KEYRING, n.as_ptr()) };
    let id = check(r, "keyctl(JOIN_SESSION_KEYRING)", Some(name))?;
    // Possessor, user: all but setattr; group and other: nothing (runc's mask).
    let perm: u32 = 0x3f3f_0000;
    // SAFETY: integer arguments.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, libc::KEYCTL_SETPERM, id, perm) };
    check(r, "keyctl(SETPERM)", Some(name)).map(drop)
}

/// Raises one capability in the ambient set.
pub(crate) fn prctl_ambient_raise(cap: u64) -> Result<(), SysError> {
    // SAFETY: integer-only prctl.
    let r = unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as u64, cap, 0u64, 0u64) };
    check(r as _, "prctl(PR_CAP_AMBIENT_RAISE)", Some(&cap.to_string())).map(drop)
}

/// fd 0 (the pty's peer once a console is set up).
pub(crate) fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process (or the call just fails with EBADF).
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// fd 2, for the last words of a child whose parent is gone.
pub(crate) fn stderr() -> BorrowedFd<'static> {
    // SAFETY: fd 2 stays open for the life of the process (or the write just fails with EBADF).
    unsafe { BorrowedFd::borrow_raw(2) }
}

/// execveat(fd, "", AT_EMPTY_PATH): runs the file behind `fd`. Returns only on failure.
pub(crate) fn execveat_empty(fd: BorrowedFd<'_>, argv: &[CString], envp: &[CString]) -> SysError {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings that outlive the call; empty path.
    unsafe {
        libc::syscall(libc::SYS_execveat, fd.as_raw_fd(), c"".as_ptr(), a.as_ptr(), e.as_ptr(), libc::AT_EMPTY_PATH)
    };
    SysError::last("execveat", Some("sealed exe"))
}
