//! Files the runtime writes on the host in directories it may not own: pid files, the `--log`
//! file, state files. Whoever can write such a directory can plant a symlink or a file at any
//! name the runtime predicts, and root would then write through it to any file of the host.
//! So nothing here opens a final path component that may follow a symlink or pick up a planted
//! file: a new file is made under an unpredictable temporary name with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` in the same directory (through a directory fd, so the directory
//! cannot be swapped between steps), then `renameat` replaces the target (or `linkat` adds it
//! without replacing anything).

use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::UnlinkatFlags;

use crate::error::SysError;

/// Attempts at a fresh temporary name before giving up (a collision needs the attacker to guess
/// 64 random bits; several in a row mean something else is wrong).
const ATTEMPTS: usize = 16;

/// Writes `content` to `path` as a new file of `mode` (before the umask) and puts it in place
/// with one `rename`: readers see the old file or the whole new one, and a symlink or file an
/// attacker planted at `path` is replaced, never written through.
///
/// ```no_run
/// use std::path::Path;
///
/// runtime_core::hostfile::write_replace(Path::new("/run/demo.pid"), b"1234", 0o644)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_replace(path: &Path, content: &[u8], mode: u32) -> Result<(), SysError> {
    let (dir, name) = open_parent(path)?;
    let (tmp, file) = create_temp(&dir, &name, mode, path)?;
    let shown = path.to_string_lossy();
    let done = (&file).write_all(content).map_err(|e| SysError::io("write", Some(&shown), &e)).and_then(|()| {
        nix::fcntl::renameat(&dir, tmp.as_str(), &dir, name.as_str()).map_err(|e| err("rename", path, e))
    });
    if done.is_err() {
        let _ = nix::unistd::unlinkat(&dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    }
    done
}

/// Opens `path` for appending, creating it with `mode` when missing (the `--log` file).
///
/// In a directory only we can write (ours, not group- or world-writable), this is a plain
/// `open(O_CREAT|O_APPEND)`, symlinks followed, as runc does (`--log /dev/stderr` works). In any
/// other directory an existing file is opened with `O_NOFOLLOW` (a planted symlink fails with
/// ELOOP) and a missing one is created under a temporary name and `linkat`ed into place, which
/// never replaces or follows what is there.
///
/// ```no_run
/// use std::io::Write;
///
/// let mut log = runtime_core::hostfile::open_append(std::path::Path::new("/var/log/demo.log"), 0o600)?;
/// writeln!(log, "started")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_append(path: &Path, mode: u32) -> Result<File, SysError> {
    let (dir, name) = open_parent(path)?;
    let flags = OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CLOEXEC;
    if owned_by_us(&dir, path)? {
        return nix::fcntl::openat(&dir, name.as_str(), flags | OFlag::O_CREAT, Mode::from_bits_truncate(mode))
            .map(File::from)
            .map_err(|e| err("open", path, e));
    }
    for _ in 0..ATTEMPTS {
        match nix::fcntl::openat(&dir, name.as_str(), flags | OFlag::O_NOFOLLOW, Mode::empty()) {
            Ok(fd) => return Ok(File::from(fd)),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(err("open", path, e)),
        }
        let (tmp, file) = create_temp(&dir, &name, mode, path)?;
        let linked = nix::unistd::linkat(&dir, tmp.as_str(), &dir, name.as_str(), AtFlags::empty());
        let _ = nix::unistd::unlinkat(&dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        match linked {
            // Our own new inode is now `path`; `file` still refers to it.
            Ok(()) => return Ok(into_append(file)),
            // Made by someone else in between: open that one, without following it.
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(err("link", path, e)),
        }
    }
    Err(SysError::check("open", Some(&path.to_string_lossy()), "the file keeps changing under us"))
}

/// The just-linked file (created without O_APPEND) switched to appending.
fn into_append(file: File) -> File {
    let fd = OwnedFd::from(file);
    // If this fails the fd still writes at offset 0 of a file nobody else has written yet.
    let _ = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_SETFL(OFlag::O_APPEND | OFlag::O_WRONLY));
    File::from(fd)
}

fn err(op: &str, path: &Path, e: Errno) -> SysError {
    SysError::from_errno(op, Some(&path.to_string_lossy()), e as i32)
}

/// An O_PATH fd of `path`'s directory (the caller's choice, symlinks in it followed) and the
/// final component, which is only ever used relative to that fd.
fn open_parent(path: &Path) -> Result<(OwnedFd, String), SysError> {
    let shown = path.to_string_lossy();
    let name = match path.file_name().and_then(|n| n.to_str()) {
        Some(n) => n.to_owned(),
        None => return Err(SysError::check("open", Some(&shown), "not a file name")),
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let dir = nix::fcntl::open(parent, flags, Mode::empty()).map_err(|e| err("open", parent, e))?;
    Ok((dir, name))
}

/// Whether only we can change the directory's entries: owned by our euid and not writable by
/// group or others (a sticky /tmp is writable by everyone, so it does not count).
fn owned_by_us(dir: &OwnedFd, path: &Path) -> Result<bool, SysError> {
    let st = nix::sys::stat::fstat(dir.as_fd()).map_err(|e| err("stat", path, e))?;
    Ok(st.st_uid == nix::unistd::geteuid().as_raw() && st.st_mode & 0o022 == 0)
}

/// A new, empty file `.<name>.<random>.tmp` in `dir`, created exclusively and never through a
/// symlink, with `mode` (before the umask).
fn create_temp(dir: &OwnedFd, name: &str, mode: u32, path: &Path) -> Result<(String, File), SysError> {
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    for _ in 0..ATTEMPTS {
        let tmp = temp_name(name);
        match nix::fcntl::openat(dir, tmp.as_str(), flags, Mode::from_bits_truncate(mode)) {
            Ok(fd) => return Ok((tmp, File::from(fd))),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(err("create", &path.with_file_name(&tmp), e)),
        }
    }
    Err(SysError::check("create", Some(&path.to_string_lossy()), "no free temporary name"))
}

/// `.<name>.<16 hex digits>.tmp`; the digits come from a hasher keyed with OS randomness (std's
/// `RandomState`), fed with a per-process counter, the pid and the time, so they cannot be
/// predicted by another user.
pub(crate) fn temp_name(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    h.write_u128(now.as_nanos());
    format!(".{name}.{:016x}.tmp", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("hull-hostfile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn temp_names_are_not_predictable() {
        let a = temp_name("pid");
        let b = temp_name("pid");
        assert_ne!(a, b);
        assert!(a.starts_with(".pid.") && a.ends_with(".tmp") && a.len() == ".pid.".len() + 16 + 4, "{a}");
    }

    #[test]
    fn replace_never_writes_through_a_symlink() {
        let d = dir("replace");
        let victim = d.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, d.join("pid")).unwrap();
        write_replace(&d.join("pid"), b"42", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let md = std::fs::symlink_metadata(d.join("pid")).unwrap();
        assert!(md.is_file() && md.permissions().mode() & 0o777 == 0o600);
        assert_eq!(std::fs::read_to_string(d.join("pid")).unwrap(), "42");
        let names: Vec<_> = std::fs::read_dir(&d).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary left: {names:?}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn append_in_a_foreign_directory_refuses_symlinks_and_creates_without_following() {
        let d = dir("append");
        // World-writable: not a directory only we control.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        let victim = d.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, d.join("log")).unwrap();
        assert_eq!(open_append(&d.join("log"), 0o644).unwrap_err().errno, libc::ELOOP);
        // A dangling symlink must not create its target either.
        symlink(d.join("created-by-root"), d.join("log2")).unwrap();
        assert!(open_append(&d.join("log2"), 0o644).is_err());
        assert!(!d.join("created-by-root").exists());
        let mut f = open_append(&d.join("log3"), 0o644).unwrap();
        f.write_all(b"a").unwrap();
        let mut f = open_append(&d.join("log3"), 0o644).unwrap();
        f.write_all(b"b").unwrap();
        assert_eq!(std::fs::read_to_string(d.join("log3")).unwrap(), "ab");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn append_in_our_own_directory_follows_symlinks_like_runc() {
        let d = dir("own");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(d.join("real"), "x").unwrap();
        symlink(d.join("real"), d.join("log")).unwrap();
        open_append(&d.join("log"), 0o644).unwrap().write_all(b"y").unwrap();
        assert_eq!(std::fs::read_to_string(d.join("real")).unwrap(), "xy");
        std::fs::remove_dir_all(d).unwrap();
    }
}
