//! `tmpcopyup` (podman's `--tmpfs` and the tmpfs mounts of `--read-only`): a new tmpfs starts with
//! the content of the rootfs directory it is about to cover. The copy runs from an fd of that
//! directory (resolved inside the root) into the still-detached tmpfs, entry by entry through
//! `*at` calls that never follow symlinks, so a hostile image cannot redirect it to the host.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::dir::{Dir, Type};
use nix::fcntl::{self, OFlag};
use nix::sys::stat::{self, Mode, SFlag};
use nix::unistd::{self, Gid, Uid};

use crate::error::SysError;

/// Copies the tree under `src` (an fd of the directory being covered, O_PATH is enough) into the
/// root of the new tmpfs `dst`, keeping type, mode and ownership. `what` names the mount in errors.
pub(super) fn copy(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, what: &str) -> Result<(), SysError> {
    let from = open_dir(src, ".", what)?;
    copy_dir(from.as_fd(), dst, what)
}

fn err(op: &str, path: &str, e: nix::Error) -> SysError {
    SysError::from_errno(op, Some(path), e as i32)
}

fn open_dir(dir: BorrowedFd<'_>, name: &str, path: &str) -> Result<OwnedFd, SysError> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    fcntl::openat(dir, name, flags, Mode::empty()).map_err(|e| err("open (tmpcopyup)", path, e))
}

/// The names in a directory, without "." and "..".
fn names(dir: BorrowedFd<'_>, path: &str) -> Result<Vec<String>, SysError> {
    let fd = open_dir(dir, ".", path)?;
    let mut d = Dir::from_fd(fd).map_err(|e| err("opendir (tmpcopyup)", path, e))?;
    let mut out = Vec::new();
    for entry in d.iter() {
        let entry = entry.map_err(|e| err("readdir (tmpcopyup)", path, e))?;
        let name = entry.file_name().to_string_lossy();
        if name != "." && name != ".." && entry.file_type() != Some(Type::Socket) {
            out.push(name.into_owned());
        }
    }
    Ok(out)
}

fn copy_dir(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, path: &str) -> Result<(), SysError> {
    for name in names(src, path)? {
        let p = format!("{path}/{name}");
        let st = stat::fstatat(src, name.as_str(), fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| err("stat (tmpcopyup)", &p, e))?;
        let perm = Mode::from_bits_truncate(st.st_mode & 0o7777);
        match SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT) {
            SFlag::S_IFDIR => {
                stat::mkdirat(dst, name.as_str(), Mode::S_IRWXU).map_err(|e| err("mkdir (tmpcopyup)", &p, e))?;
                let (s, d) = (open_dir(src, &name, &p)?, open_dir(dst, &name, &p)?);
                copy_dir(s.as_fd(), d.as_fd(), &p)?;
            }
            SFlag::S_IFREG => copy_file(src, dst, &name, &p)?,
            SFlag::S_IFLNK => {
                let target = fcntl::readlinkat(src, name.as_str()).map_err(|e| err("readlink (tmpcopyup)", &p, e))?;
                unistd::symlinkat(target.as_os_str(), dst, name.as_str())
                    .map_err(|e| err("symlink (tmpcopyup)", &p, e))?;
            }
            kind => {
                // fifos and device nodes: recreated, not read.
                stat::mknodat(dst, name.as_str(), kind, perm, st.st_rdev)
                    .map_err(|e| err("mknod (tmpcopyup)", &p, e))?;
            }
        }
        let nofollow = fcntl::AtFlags::AT_SYMLINK_NOFOLLOW;
        let (uid, gid) = (Some(Uid::from_raw(st.st_uid)), Some(Gid::from_raw(st.st_gid)));
        unistd::fchownat(dst, name.as_str(), uid, gid, nofollow).map_err(|e| err("chown (tmpcopyup)", &p, e))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            // After chown, which clears setuid/setgid bits; mkdir and open applied the umask.
            stat::fchmodat(dst, name.as_str(), perm, stat::FchmodatFlags::NoFollowSymlink)
                .map_err(|e| err("chmod (tmpcopyup)", &p, e))?;
        }
    }
    Ok(())
}

fn copy_file(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, name: &str, path: &str) -> Result<(), SysError> {
    let ro = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let from = fcntl::openat(src, name, ro, Mode::empty()).map_err(|e| err("open (tmpcopyup)", path, e))?;
    let wo = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let to =
        fcntl::openat(dst, name, wo, Mode::S_IRUSR | Mode::S_IWUSR).map_err(|e| err("create (tmpcopyup)", path, e))?;
    let (mut from, mut to) = (std::fs::File::from(from), std::fs::File::from(to));
    std::io::copy(&mut from, &mut to).map_err(|e| SysError::io("copy (tmpcopyup)", Some(path), &e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// A tree with every kind of entry the copy handles, copied between two plain directories
    /// (the kernel behaves the same for a detached tmpfs; the podman client test covers that).
    #[test]
    fn copies_tree_with_modes_owners_and_symlinks() {
        let base = std::env::temp_dir().join(format!("hull-tmpcopyup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (from, to) = (base.join("from"), base.join("to"));
        std::fs::create_dir_all(from.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(from.join("sub/deeper/file"), b"content").unwrap();
        std::os::unix::fs::chown(from.join("sub/deeper/file"), Some(1000), Some(2000)).unwrap();
        std::fs::set_permissions(from.join("sub/deeper/file"), std::fs::Permissions::from_mode(0o4751)).unwrap();
        std::fs::set_permissions(from.join("sub"), std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", from.join("link")).unwrap();
        nix::unistd::mkfifo(&from.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();

        let s = OwnedFd::from(std::fs::File::open(&from).unwrap());
        let d = OwnedFd::from(std::fs::File::open(&to).unwrap());
        copy(s.as_fd(), d.as_fd(), "/test").unwrap();

        assert_eq!(std::fs::read(to.join("sub/deeper/file")).unwrap(), b"content");
        let m = std::fs::metadata(to.join("sub/deeper/file")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o4751, 1000, 2000));
        assert_eq!(std::fs::metadata(to.join("sub")).unwrap().mode() & 0o7777, 0o1777);
        assert_eq!(std::fs::read_link(to.join("link")).unwrap().to_str(), Some("/etc/shadow"));
        assert!(std::fs::symlink_metadata(to.join("link")).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::metadata(to.join("fifo")).unwrap().mode() & libc::S_IFMT, libc::S_IFIFO);
        std::fs::remove_dir_all(base).unwrap();
    }
}
