//! Signal names and numbers as `kill` accepts them: `TERM`, `SIGTERM`, `sigterm`, `15`,
//! `RTMIN`, `RTMIN+3`, `RTMAX-2`.

use crate::error::{Error, Result};

/// The first real-time signal as user space numbers it: glibc (and Docker's signal table) reserve
/// the kernel's 32 and 33 for threading, so `RTMIN` names 34, the number `kill -l` shows.
pub const RTMIN: i32 = 34;
/// The last real-time signal on Linux.
pub const RTMAX: i32 = 64;

/// Standard Linux signal names (without `SIG`) and numbers, including the aliases `kill -l` knows.
const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// A signal number Linux knows (0..=64; 0 only checks that the process exists), as
/// [`crate::Container::kill`] and [`crate::ExecProcess::kill`] take it.
///
/// ```
/// use runtime_core::signal::Signal;
///
/// let s: Signal = "sigterm".parse()?;
/// assert_eq!(s, Signal::TERM);
/// assert_eq!((s.number(), s.to_string()), (15, "SIGTERM".to_owned()));
/// assert_eq!("RTMIN+2".parse::<Signal>()?.number(), 36);
/// assert!(Signal::new(65).is_err());
/// # Ok::<(), runtime_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

impl Signal {
    /// SIGHUP.
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// SIGINT.
    pub const INT: Signal = Signal(libc::SIGINT);
    /// SIGQUIT.
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// SIGKILL.
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// SIGUSR1.
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// SIGUSR2.
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// SIGTERM.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// SIGSTOP.
    pub const STOP: Signal = Signal(libc::SIGSTOP);
    /// SIGCONT.
    pub const CONT: Signal = Signal(libc::SIGCONT);
    /// SIGWINCH.
    pub const WINCH: Signal = Signal(libc::SIGWINCH);

    /// The signal with this number, if Linux has it.
    ///
    /// ```
    /// use runtime_core::signal::Signal;
    ///
    /// assert_eq!(Signal::new(15).unwrap(), Signal::TERM);
    /// assert!(Signal::new(100).is_err());
    /// ```
    pub fn new(number: i32) -> Result<Signal> {
        if (0..=RTMAX).contains(&number) {
            Ok(Signal(number))
        } else {
            Err(Error::InvalidArgument(format!("invalid signal {number}")))
        }
    }

    /// Its number.
    pub fn number(self) -> i32 {
        self.0
    }
}

impl std::str::FromStr for Signal {
    type Err = Error;

    /// As [`parse`]: a number, or a name in any case with or without `SIG`.
    fn from_str(s: &str) -> Result<Signal> {
        parse(s).map(Signal)
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&name(self.0))
    }
}

/// Parses a signal the way `runc kill` does (a decimal number, or a name in any case with or
/// without `SIG`), plus the real-time forms `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n`.
///
/// Numbers must lie in 0..=64 (0 only checks that the process exists).
///
/// ```
/// use runtime_core::signal::parse;
///
/// assert_eq!(parse("TERM").unwrap(), 15);
/// assert_eq!(parse("sigkill").unwrap(), 9);
/// assert_eq!(parse("9").unwrap(), 9);
/// assert!(parse("SIGNOPE").is_err());
/// ```
pub fn parse(s: &str) -> Result<i32> {
    let unknown = || Error::InvalidArgument(format!("unknown signal {s:?}"));
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i32>().ok().filter(|n| (0..=RTMAX).contains(n)).ok_or_else(unknown);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, num)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(num);
    }
    realtime(name).ok_or_else(unknown)
}

/// `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n`, within the real-time range.
fn realtime(name: &str) -> Option<i32> {
    let offset = |rest: &str, sign: char| -> Option<i32> {
        if rest.is_empty() {
            return Some(0);
        }
        let digits = rest.strip_prefix(sign)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i32>().ok()
    };
    let num = if let Some(rest) = name.strip_prefix("RTMIN") {
        RTMIN.checked_add(offset(rest, '+')?)?
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        RTMAX.checked_sub(offset(rest, '-')?)?
    } else {
        return None;
    };
    (RTMIN..=RTMAX).contains(&num).then_some(num)
}

/// The name of a signal for messages (`SIGTERM`, `SIGRTMIN+3`), or its number when it has none.
///
/// ```
/// assert_eq!(runtime_core::signal::name(15), "SIGTERM");
/// ```
pub fn name(signal: i32) -> String {
    if let Some((n, _)) = NAMES.iter().find(|(_, num)| *num == signal) {
        return format!("SIG{n}");
    }
    match signal {
        RTMIN => "SIGRTMIN".to_owned(),
        RTMAX => "SIGRTMAX".to_owned(),
        n if n > RTMIN && n < RTMAX => format!("SIGRTMIN+{}", n - RTMIN),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_and_without_sig_in_any_case() {
        for s in ["TERM", "SIGTERM", "sigterm", "term", "SigTerm", "15"] {
            assert_eq!(parse(s).unwrap(), 15, "{s}");
        }
        assert_eq!(parse("KILL").unwrap(), 9);
        assert_eq!(parse("usr1").unwrap(), 10);
        assert_eq!(parse("SIGUSR2").unwrap(), 12);
        assert_eq!(parse("hup").unwrap(), 1);
        assert_eq!(parse("WINCH").unwrap(), 28);
        assert_eq!(parse("SIGCLD").unwrap(), 17);
        assert_eq!(parse("iot").unwrap(), 6);
    }

    #[test]
    fn numbers_in_range() {
        assert_eq!(parse("0").unwrap(), 0);
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("64").unwrap(), 64);
        for bad in ["65", "-1", "+9", "99999999999", " 9", "9 "] {
            assert!(matches!(parse(bad), Err(Error::InvalidArgument(_))), "{bad:?}");
        }
    }

    #[test]
    fn realtime_forms() {
        assert_eq!(parse("RTMIN").unwrap(), 34);
        assert_eq!(parse("SIGRTMIN").unwrap(), 34);
        assert_eq!(parse("rtmin+3").unwrap(), 37);
        assert_eq!(parse("SIGRTMIN+30").unwrap(), 64);
        assert_eq!(parse("RTMAX").unwrap(), 64);
        assert_eq!(parse("RTMAX-1").unwrap(), 63);
        assert_eq!(parse("sigrtmax-30").unwrap(), 34);
        for bad in ["RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+x", "RTMIN3", "RTMAX--1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_uses_runc_wording() {
        let e = parse("FOO").unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)));
        assert_eq!(e.to_string(), r#"unknown signal "FOO""#);
        assert_eq!(parse("").unwrap_err().to_string(), r#"unknown signal """#);
        assert!(parse("SIG").is_err());
    }

    #[test]
    fn names_for_messages() {
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(34), "SIGRTMIN");
        assert_eq!(name(37), "SIGRTMIN+3");
        assert_eq!(name(64), "SIGRTMAX");
        assert_eq!(name(32), "32");
        for n in 1..=64 {
            if n == 32 || n == 33 {
                continue;
            }
            assert_eq!(parse(&name(n)).unwrap(), n, "round trip of {n}");
        }
    }
}

/// Every signal a foreground runtime passes on to its container, as runc does: all but those
/// about the runtime's own children (SIGCHLD), its urgent data (SIGURG) and the uncatchable
/// ones. SIGWINCH is included: the caller resizes the container's terminal on it.
pub fn forwardable() -> Vec<i32> {
    (1..=RTMAX).filter(|s| ![libc::SIGCHLD, libc::SIGURG, libc::SIGKILL, libc::SIGSTOP, 32, 33].contains(s)).collect()
}

/// A signalfd for [`forwardable`] signals, which stay blocked in the calling thread.
#[derive(Debug)]
pub struct Forwarder {
    fd: std::os::fd::OwnedFd,
}

impl Forwarder {
    /// Blocks the forwardable signals in this thread and opens a non-blocking signalfd for them.
    /// Threads spawned later inherit the mask, so only this fd sees the signals.
    pub fn new() -> Result<Forwarder> {
        let fd = crate::sys::signal::block_and_signalfd(&forwardable())
            .map_err(|e| Error::sys(crate::error::Step::Lifecycle, e))?;
        Ok(Forwarder { fd })
    }

    /// The next pending signal, or None.
    pub fn next(&self) -> Option<i32> {
        crate::sys::signal::read_signalfd(std::os::fd::AsFd::as_fd(&self.fd))
    }
}

impl std::os::fd::AsFd for Forwarder {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.fd)
    }
}

/// Copies the window size of the terminal `from` (the caller's) to `to` (a pty master).
pub fn copy_window_size(from: std::os::fd::BorrowedFd<'_>, to: std::os::fd::BorrowedFd<'_>) -> Result<()> {
    match crate::sys::tty::get_winsize(from) {
        Some((rows, cols)) => {
            crate::sys::tty::set_winsize(to, rows, cols).map_err(|e| Error::sys(crate::error::Step::Console, e))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod forward_tests {
    #[test]
    fn forwardable_covers_realtime_and_skips_the_runtimes_own() {
        let f = super::forwardable();
        assert!(f.contains(&libc::SIGTERM) && f.contains(&34) && f.contains(&64) && f.contains(&libc::SIGWINCH));
        assert!(!f.contains(&libc::SIGCHLD) && !f.contains(&libc::SIGKILL) && !f.contains(&32));
    }
}
