//! A failed system call as the `sys` wrappers report it ([`SysError`]: the operation, its object,
//! the errno), and errno texts in the words runc (Go) prints them. The bottom of the error
//! vocabulary: `crate::error::Error` wraps it, nothing here knows the layers above.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An errno as Go's `syscall.Errno` prints it, which is what runc prints: glibc's text with its
/// first letter lowered when the second is lower case (`no such file or directory`, but `RFS
/// specific error`), from a table (not the C library hull links, see `errno_texts`), and `errno N`
/// for a number Linux does not define. Docker and podman
/// match on these texts, so every errno hull shows goes through here.
///
/// ```
/// assert_eq!(runtime_core::errno_text(libc::ENOENT), "no such file or directory");
/// ```
pub fn errno_text(errno: i32) -> String {
    match usize::try_from(errno).ok().and_then(|n| super::errno_texts::TEXTS.get(n).copied().flatten()) {
        Some(text) => text.to_owned(),
        None => format!("errno {errno}"),
    }
}

/// An I/O error's text: [`errno_text`] for an OS error, else the error's own words.
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_text(n),
        None => e.to_string(),
    }
}

/// Rewrites the errno texts that Rust's `io::Error` puts in a message (`No such file or directory
/// (os error 2)`) into [`errno_text`]'s form: the last pass over a message from code hull does not
/// own (libraries that format their I/O errors themselves).
pub fn go_errno_texts(msg: &str) -> String {
    const MARK: &str = " (os error ";
    let mut out = msg.to_owned();
    let mut from = 0;
    while let Some(at) = out[from..].find(MARK).map(|i| from + i) {
        let digits = &out[at + MARK.len()..];
        let len = digits.bytes().take_while(u8::is_ascii_digit).count();
        let number = digits[..len].parse::<i32>().ok().filter(|_| digits[len..].starts_with(')'));
        let Some(n) = number else {
            from = at + MARK.len();
            continue;
        };
        let std_text = std::io::Error::from_raw_os_error(n).to_string();
        let end = at + MARK.len() + len + 1;
        match out[..end].strip_suffix(std_text.as_str()) {
            Some(head) => {
                let head_len = head.len();
                let go = errno_text(n);
                out.replace_range(head_len..end, &go);
                from = head_len + go.len();
            }
            None => from = end,
        }
    }
    out
}

/// A failed system call, built inside the `sys` wrapper so that the operation and its object are never lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SysError {
    /// The operation, e.g. `mount(proc, /proc, MS_NOSUID)` or `openat2`.
    pub op: String,
    /// The object the operation was applied to (a path inside the rootfs, a cgroup file...), if any.
    pub path: Option<String>,
    /// The errno returned by the kernel (0 when the failure was a check of ours, not a syscall).
    pub errno: i32,
    /// Extra context, e.g. "expected a character device 1:3".
    pub detail: Option<String>,
}

impl SysError {
    /// An error from the current `errno`.
    pub fn last(op: impl Into<String>, path: Option<&str>) -> Self {
        Self::from_errno(op, path, std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// An error from an explicit errno value.
    pub fn from_errno(op: impl Into<String>, path: Option<&str>, errno: i32) -> Self {
        SysError { op: op.into(), path: path.map(str::to_owned), errno, detail: None }
    }

    /// An error from a `std::io::Error`.
    pub fn io(op: impl Into<String>, path: Option<&str>, e: &std::io::Error) -> Self {
        let mut s = Self::from_errno(op, path, e.raw_os_error().unwrap_or(0));
        if e.raw_os_error().is_none() {
            s.detail = Some(e.to_string());
        }
        s
    }

    /// A failed check of ours (not an errno), such as a file of the wrong type.
    pub fn check(op: impl Into<String>, path: Option<&str>, detail: impl Into<String>) -> Self {
        SysError { op: op.into(), path: path.map(str::to_owned), errno: 0, detail: Some(detail.into()) }
    }

    /// Adds context to the error.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl From<nix::Error> for SysError {
    fn from(e: nix::Error) -> Self {
        SysError::from_errno("syscall", None, e as i32)
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.op)?;
        if let Some(p) = &self.path {
            write!(f, " {p}")?;
        }
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        if self.errno != 0 {
            write!(f, ": {}", errno_text(self.errno))?;
        }
        Ok(())
    }
}

impl std::error::Error for SysError {}

/// Converts a libpathrs error into ours, keeping its errno.
pub(crate) fn path_err(op: &str, path: &str, e: pathrs::error::Error) -> SysError {
    let errno = match e.kind() {
        pathrs::error::ErrorKind::OsError(Some(n)) => n,
        _ => 0,
    };
    SysError { op: op.to_owned(), path: Some(path.to_owned()), errno, detail: Some(e.to_string()) }
}
