//! Starting the launch helper from a multi-threaded caller, and the helper's side of the hand-over:
//! the opt-in `.init_array` entry ([`crate::helper_entry!`]), adopting the inherited socket, and
//! waiting without blocking for a child that was reparented to us.
//!
//! Between `fork` and `execve` in a multi-threaded process only async-signal-safe calls are
//! allowed; the `pre_exec` closure below makes only `fcntl` and `dup2` calls.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use super::check;
use super::SysError;

/// The process's stdio for the helper: each `None` is inherited from the caller.
pub(crate) type HelperStdio = [Option<OwnedFd>; 3];

/// Runs `exe` with `env` set to the fd number where the helper finds `sock`: fds 3..3+`keep`
/// of the caller are passed on at the same numbers (preserved fds), `sock` lands right after
/// them, and stdio comes from `stdio`.
pub(crate) fn helper(exe: &str, env: &str, keep: u32, sock: OwnedFd, stdio: HelperStdio) -> Result<Child, SysError> {
    let target: RawFd = 3 + keep as RawFd;
    let src = sock.as_raw_fd();
    let mut cmd = Command::new(exe);
    // What `ps` shows for it (the path itself is a /proc/self/fd link).
    cmd.arg0("hull-launch-helper");
    cmd.env(env, target.to_string());
    let [stdin, stdout, stderr] = stdio;
    cmd.stdin(stdin.map_or_else(Stdio::inherit, Stdio::from));
    cmd.stdout(stdout.map_or_else(Stdio::inherit, Stdio::from));
    cmd.stderr(stderr.map_or_else(Stdio::inherit, Stdio::from));
    let pass = move || -> std::io::Result<()> {
        for fd in 3..target {
            // SAFETY: fcntl is async-signal-safe; the caller checked that these fds are open.
            if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        // dup2 onto a different number clears close-on-exec on the copy; onto the same number
        // it does nothing, so the flag is cleared by hand.
        // SAFETY: dup2/fcntl are async-signal-safe and act on this forked child's fd table only.
        let r = unsafe {
            if src == target {
                libc::fcntl(src, libc::F_SETFD, 0)
            } else {
                libc::dup2(src, target)
            }
        };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    // SAFETY: the closure only makes async-signal-safe calls (fcntl, dup2) and allocates nothing.
    unsafe { cmd.pre_exec(pass) };
    let child = cmd.spawn().map_err(|e| SysError::io("spawn", Some(exe), &e))?;
    drop(sock);
    Ok(child)
}

/// Makes `cmd`'s program start with stdin, stdout and stderr only: every other fd of this
/// process (the runtime's own, the caller's, preserved ones) is marked close-on-exec in the
/// child just before its execve. Used for hooks, which must not reach what the runtime holds.
pub(crate) fn only_stdio(cmd: &mut Command) {
    let mark = || -> std::io::Result<()> {
        // SAFETY: close_range only changes flags in this forked child's fd table; async-signal-safe.
        let r = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
        if r == 0 {
            return Ok(());
        }
        // Kernels before 5.11: flag each possible fd (EBADF for closed ones is ignored).
        // SAFETY: sysconf and fcntl are async-signal-safe and touch no memory of ours.
        let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) }.clamp(1024, 1 << 20) as i32;
        for fd in 3..max {
            // SAFETY: as above.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        Ok(())
    };
    // SAFETY: the closure makes only async-signal-safe calls and allocates nothing.
    unsafe { cmd.pre_exec(mark) };
}

/// Takes ownership of the socket the runtime left at `fd`, making it close-on-exec so that
/// nothing the helper starts inherits it.
pub(crate) fn adopt_helper_socket(fd: RawFd) -> Result<OwnedFd, SysError> {
    // SAFETY: F_GETFD only queries; a closed fd is reported instead of adopted.
    check(unsafe { libc::fcntl(fd, libc::F_GETFD) } as _, "fcntl(F_GETFD)", Some("helper socket"))?;
    // SAFETY: the fd is open (checked above) and nothing else in this freshly exec'd process
    // owns it: it was placed by the spawning runtime, and the marker naming it is removed
    // before this is called, so it is adopted once.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: plain fcntl on an fd we own.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } as _, "fcntl(F_SETFD)", Some("helper socket"))?;
    Ok(owned)
}

/// Whether this program was started setuid/setgid or with file capabilities (`AT_SECURE`): such
/// a process must not take orders from its environment, so it never acts as a helper.
pub(crate) fn secure_exec() -> bool {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave this process.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// Reaps `pid` if it has exited: its status the shell way (128+N for signal N), or `None`.
pub(crate) fn try_wait_child(pid: i32) -> Result<Option<i32>, SysError> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if check(r as _, "waitpid", Some(&pid.to_string()))? == 0 {
            return Ok(None);
        }
        break;
    }
    if libc::WIFEXITED(status) {
        Ok(Some(libc::WEXITSTATUS(status)))
    } else if libc::WIFSIGNALED(status) {
        Ok(Some(128 + libc::WTERMSIG(status)))
    } else {
        Ok(Some(255))
    }
}

/// Runs [`crate::run_helper_if_requested`] before `main` in a program whose `main` the embedder
/// does not write (an integration-test harness); one line at the top level of that crate:
///
/// ```
/// runtime_core::helper_entry!();
/// # fn main() {}
/// ```
///
/// It adds an `.init_array` entry (as runc's nsexec constructor does) to that program only. A
/// program with its own `main` calls [`crate::run_helper_if_requested`] there instead.
#[macro_export]
macro_rules! helper_entry {
    () => {
        const _: () = {
            extern "C" fn runtime_core_helper_entry(
                _: i32,
                _: *const *const ::std::os::raw::c_char,
                _: *const *const ::std::os::raw::c_char,
            ) {
                $crate::run_helper_if_requested();
            }
            // glibc and musl call `.init_array` entries with (argc, argv, envp) before `main`.
            #[used]
            #[allow(unsafe_code)]
            #[link_section = ".init_array"]
            static RUNTIME_CORE_HELPER_ENTRY: extern "C" fn(
                i32,
                *const *const ::std::os::raw::c_char,
                *const *const ::std::os::raw::c_char,
            ) = runtime_core_helper_entry;
        };
    };
}
