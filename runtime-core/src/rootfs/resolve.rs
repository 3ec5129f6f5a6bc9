//! Paths inside the rootfs, resolved only through fds: openat2(RESOLVE_IN_ROOT) where the kernel
//! has it (every kernel hull targets), libpathrs' checked userspace walker where it does not.
//!
//! The direct openat2 path exists for speed: libpathrs re-validates its procfs handle on every
//! call, which cost hundreds of syscalls per container start. The semantics are the same: the
//! kernel confines `..` and absolute symlinks to the root, and magic links are refused.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use pathrs::flags::OpenFlags;

use crate::error::SysError;
use crate::sys;
use crate::sys::fs::{RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS};
use crate::sys::path_err;

const IN_ROOT: u64 = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/// The rootfs as a directory fd that every lookup starts from.
#[derive(Debug)]
pub(crate) enum RootDir {
    /// The kernel resolves inside the root.
    Openat2(OwnedFd),
    /// libpathrs' userspace resolver (kernels without openat2).
    Pathrs(pathrs::Root),
}

impl RootDir {
    /// Opens the rootfs directory at a host path and picks the resolver.
    pub(crate) fn open(path: &str) -> Result<RootDir, SysError> {
        let file = std::fs::File::open(path).map_err(|e| SysError::io("open rootfs", Some(path), &e))?;
        let fd = OwnedFd::from(file);
        match sys::fs::openat2(fd.as_fd(), ".", libc::O_PATH, 0, IN_ROOT) {
            Ok(_) => Ok(RootDir::Openat2(fd)),
            Err(e) if e.errno == libc::ENOSYS => Ok(RootDir::Pathrs(pathrs::Root::from_fd(fd))),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            RootDir::Openat2(fd) => fd.as_fd(),
            RootDir::Pathrs(r) => r.as_fd(),
        }
    }

    /// An O_PATH fd of `path` (relative to the root), following symlinks inside the root.
    pub(crate) fn resolve(&self, path: &str) -> Result<OwnedFd, SysError> {
        match self {
            RootDir::Openat2(fd) => sys::fs::openat2(fd.as_fd(), path, libc::O_PATH, 0, IN_ROOT),
            RootDir::Pathrs(r) => r.resolve(path).map(OwnedFd::from).map_err(|e| path_err("resolve", path, e)),
        }
    }

    /// An O_PATH fd of `path` whose last component must not be a symlink.
    pub(crate) fn resolve_nofollow(&self, path: &str) -> Result<OwnedFd, SysError> {
        match self {
            RootDir::Openat2(fd) => {
                let (parent, name) = split(path);
                let dir = sys::fs::openat2(fd.as_fd(), parent, libc::O_PATH | libc::O_DIRECTORY, 0, IN_ROOT)?;
                sys::fs::openat2(dir.as_fd(), name, libc::O_PATH | libc::O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS)
            }
            RootDir::Pathrs(r) => r.resolve_nofollow(path).map(OwnedFd::from).map_err(|e| path_err("resolve", path, e)),
        }
    }

    /// Creates every missing directory of `path` (mode 0755) and returns an O_PATH fd of it.
    pub(crate) fn mkdir_all(&self, path: &str) -> Result<OwnedFd, SysError> {
        let root = match self {
            RootDir::Openat2(fd) => fd,
            RootDir::Pathrs(r) => {
                let perm = std::fs::Permissions::from_mode(0o755);
                return r.mkdir_all(path, &perm).map(OwnedFd::from).map_err(|e| path_err("mkdir", path, e));
            }
        };
        match sys::fs::openat2(root.as_fd(), path, libc::O_PATH | libc::O_DIRECTORY, 0, IN_ROOT) {
            Err(e) if e.errno == libc::ENOENT => {}
            other => return other,
        }
        // The deepest existing ancestor first (usually the parent: one lookup, not one per
        // level), then down one component at a time; each created level is re-resolved inside
        // the root, so a symlink planted meanwhile still cannot lead outside.
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
        let mut have = comps.len();
        let mut dir = loop {
            let Some(n) = have.checked_sub(1) else {
                break sys::fs::openat2(root.as_fd(), ".", libc::O_PATH | libc::O_DIRECTORY, 0, IN_ROOT)?;
            };
            have = n;
            if n == 0 {
                continue;
            }
            match sys::fs::openat2(root.as_fd(), &comps[..n].join("/"), libc::O_PATH | libc::O_DIRECTORY, 0, IN_ROOT) {
                Ok(d) => break d,
                Err(e) if e.errno == libc::ENOENT => {}
                Err(e) => return Err(e),
            }
        };
        for (i, comp) in comps.iter().enumerate().skip(have) {
            let done = comps[..=i].join("/");
            match sys::fs::mkdirat(dir.as_fd(), comp, 0o755) {
                Ok(()) => {}
                Err(e) if e.errno == libc::EEXIST => {}
                Err(e) => return Err(e.with_detail(format!("creating /{done}"))),
            }
            dir = sys::fs::openat2(root.as_fd(), &done, libc::O_PATH | libc::O_DIRECTORY, 0, IN_ROOT)?;
        }
        Ok(dir)
    }

    /// Creates an empty regular file at `path` if nothing is there; returns an O_PATH fd of it.
    pub(crate) fn create_file(&self, path: &str) -> Result<OwnedFd, SysError> {
        let (parent, name) = split(path);
        let dir = self.mkdir_all(parent)?;
        match self {
            RootDir::Openat2(_) => {
                let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW;
                drop(sys::fs::openat2(dir.as_fd(), name, flags, 0o644, RESOLVE_NO_SYMLINKS)?);
            }
            RootDir::Pathrs(r) => {
                let perm = std::fs::Permissions::from_mode(0o644);
                match r.create_file(path, OpenFlags::O_WRONLY | OpenFlags::O_CLOEXEC, &perm) {
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), pathrs::error::ErrorKind::OsError(Some(libc::EEXIST))) => {}
                    Err(e) => return Err(path_err("create", path, e)),
                }
            }
        }
        self.resolve(path)
    }
}

/// Splits a relative path into parent ("." for none) and last component.
fn split(path: &str) -> (&str, &str) {
    match Path::new(path).parent().and_then(|p| p.to_str()).filter(|p| !p.is_empty()) {
        Some(p) => (p, path.get(p.len() + 1..).unwrap_or(path)),
        None => (".", path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("hull-resolve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root/etc")).unwrap();
        std::fs::create_dir_all(d.join("outside")).unwrap();
        std::os::unix::fs::symlink("/", d.join("root/abs")).unwrap();
        std::os::unix::fs::symlink("../../../..", d.join("root/etc/up")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root", d.join("root/magic")).unwrap();
        d
    }

    /// Both resolvers must keep every lookup inside the root, whatever the symlinks say.
    fn check(r: &RootDir, base: &Path) {
        let root_ino = sys::fs::fstat(r.as_fd(), "root").unwrap().ino;
        for p in ["abs", "etc/up", "abs/etc/up/..", "../.."] {
            let fd = r.resolve(p).unwrap();
            assert_eq!(sys::fs::fstat(fd.as_fd(), p).unwrap().ino, root_ino, "{p} escaped");
        }
        let made = r.mkdir_all("abs/new/deeper").unwrap();
        assert!(base.join("root/new/deeper").is_dir());
        assert!(!Path::new("/new").exists());
        drop(made);
        // Only the last level missing, under a symlinked ancestor that points outside.
        let last = r.mkdir_all("etc/up/new/deeper/last").unwrap();
        assert_eq!(
            sys::fs::fstat(last.as_fd(), "last").unwrap().ino,
            std::fs::metadata(base.join("root/new/deeper/last"))
                .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
                .unwrap()
        );
        r.create_file("etc/up/file").unwrap();
        assert!(base.join("root/file").is_file());
        // A file in the way is an error, not a directory made elsewhere.
        assert!(r.mkdir_all("file/below").is_err());
        assert!(!base.join("root/file/below").exists() && !Path::new("/file").exists());
        assert!(r
            .resolve_nofollow("abs")
            .is_ok_and(|fd| sys::fs::fstat(fd.as_fd(), "abs").unwrap().mode & libc::S_IFMT == libc::S_IFLNK));
    }

    #[test]
    fn openat2_stays_inside() {
        let d = tree("o2");
        let r = RootDir::open(&d.join("root").to_string_lossy()).unwrap();
        assert!(matches!(r, RootDir::Openat2(_)));
        check(&r, &d);
        assert!(r.resolve("magic").is_err(), "magic links are refused");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn pathrs_fallback_stays_inside() {
        let d = tree("pr");
        let r = RootDir::Pathrs(pathrs::Root::open(d.join("root")).unwrap());
        check(&r, &d);
        std::fs::remove_dir_all(d).unwrap();
    }
}
