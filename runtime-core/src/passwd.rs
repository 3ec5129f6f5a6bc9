//! The container's /etc/passwd and /etc/group: HOME for the process's uid (read from inside the
//! new root), and runc's `--user user[:group]` spec resolved against the files of a running
//! container (read through an fd of its root, never through a host path).

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use pathrs::flags::OpenFlags;

use crate::error::SysError;

/// Files larger than this are not user databases; stop reading rather than exhaust memory.
const MAX: u64 = 4 << 20;

/// The highest valid id: `(uid_t)-1` means "unchanged" to the kernel.
const MAX_ID: u32 = u32::MAX - 1;

/// The home directory of `uid` in /etc/passwd of the current root, if any.
pub(crate) fn home_of(uid: u32) -> Option<String> {
    // O_NONBLOCK: a fifo planted at /etc/passwd must not hang the runtime.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open("/etc/passwd")
        .ok()?;
    let md = f.metadata().ok()?;
    if !md.file_type().is_file() || md.file_type().is_fifo() {
        return None;
    }
    let mut s = String::new();
    f.take(MAX).read_to_string(&mut s).ok()?;
    parse_home(&s, uid)
}

/// Finds field 6 of the first line whose field 3 is `uid`.
pub(crate) fn parse_home(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_owned())
    })
}

/// Reads `path` (e.g. `etc/passwd`) inside `root`; symlinks stay inside it. None when it does
/// not exist. Only a regular file is opened for reading, so a device node or fifo planted there
/// is never opened by the runtime.
pub(crate) fn read_in_root(root: &pathrs::Root, path: &str) -> Result<Option<String>, SysError> {
    let handle = match root.resolve(path) {
        Ok(h) => h,
        Err(e) if matches!(e.kind(), pathrs::error::ErrorKind::OsError(Some(libc::ENOENT))) => return Ok(None),
        Err(e) => return Err(crate::sys::path_err("resolve", path, e)),
    };
    let shown = format!("/{path}");
    let st = crate::sys::fs::fstat(std::os::fd::AsFd::as_fd(&handle), &shown)?;
    if st.mode & libc::S_IFMT != libc::S_IFREG {
        return Err(SysError::check("open", Some(&shown), "not a regular file"));
    }
    let f = handle
        .reopen(OpenFlags::O_RDONLY | OpenFlags::O_NONBLOCK | OpenFlags::O_CLOEXEC)
        .map_err(|e| crate::sys::path_err("open", &shown, e))?;
    let mut s = String::new();
    f.take(MAX).read_to_string(&mut s).map_err(|e| SysError::io("read", Some(&shown), &e))?;
    Ok(Some(s))
}

/// What a `--user` spec resolved to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ExecUser {
    pub uid: u32,
    /// None: keep the process's gid (runc, for a bare numeric uid).
    pub gid: Option<u32>,
    /// Supplementary groups from /etc/group, only for a user given by name without a group.
    pub sgids: Vec<u32>,
}

/// Resolves runc's `user[:group]`, each part a number or a name (libcontainer/user semantics):
/// a number is always an id, never looked up as a name; a name takes its uid, primary gid and
/// the groups that list it as a member; an explicit group replaces the primary gid and adds no
/// supplementary groups. `passwd`/`group` are the files' contents (None when missing).
pub(crate) fn resolve(spec: &str, passwd: Option<&str>, group: Option<&str>) -> Result<ExecUser, String> {
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let mut out = ExecUser { uid: 0, gid: None, sgids: Vec::new() };
    let mut name = None;
    match numeric(user)? {
        Some(uid) => out.uid = uid,
        None => {
            let entry = passwd.and_then(|p| passwd_entry(p, user));
            let Some((uid, gid)) = entry else {
                return Err(format!("unable to find user {user}: no matching entries in passwd file"));
            };
            (out.uid, out.gid, name) = (uid, Some(gid), Some(user));
        }
    }
    match grp {
        Some(g) => {
            out.gid = Some(match numeric(g)? {
                Some(gid) => gid,
                None => group
                    .and_then(|f| group_gid(f, g))
                    .ok_or_else(|| format!("unable to find group {g}: no matching entries in group file"))?,
            })
        }
        None => {
            if let (Some(n), Some(f)) = (name, group) {
                out.sgids = member_of(f, n);
            }
        }
    }
    Ok(out)
}

/// A decimal id, None for a name; digits that do not fit are an error, never a name (a huge
/// number looked up as a name could map to root in a hostile image).
fn numeric(s: &str) -> Result<Option<u32>, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_ID => Ok(Some(n)),
        _ => Err(format!("uids and gids must be in range 0-{MAX_ID}: {s}")),
    }
}

/// uid and gid of the first passwd line named `name`.
fn passwd_entry(passwd: &str, name: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 || f[0] != name {
            return None;
        }
        Some((f[2].trim().parse().ok()?, f[3].trim().parse().ok()?))
    })
}

fn groups(file: &str) -> impl Iterator<Item = (&str, u32, &str)> {
    file.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3).then_some(())?;
        Some((f[0], f[2].trim().parse().ok()?, f.get(3).copied().unwrap_or("")))
    })
}

fn group_gid(file: &str, name: &str) -> Option<u32> {
    groups(file).find(|(n, _, _)| *n == name).map(|(_, gid, _)| gid)
}

/// gids of every group whose member list names `user`, in file order.
fn member_of(file: &str, user: &str) -> Vec<u32> {
    groups(file).filter(|(_, _, members)| members.split(',').any(|m| m.trim() == user)).map(|(_, g, _)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\ntest:x:1000:1000::/home/test:/bin/sh\n\
                          multi:x:1500:1500::/home/multi:/bin/sh\n1234:x:0:0::/:/bin/sh\n";
    const GROUP: &str = "root:x:0:\ngrpA:x:300:multi,test\ngrpB:x:301:other, multi\nmulti:x:1500:\nbroken\n";

    #[test]
    fn home_lookup() {
        assert_eq!(parse_home(PASSWD, 0).as_deref(), Some("/root"));
        assert_eq!(parse_home(PASSWD, 1000).as_deref(), Some("/home/test"));
        assert_eq!(parse_home(PASSWD, 5), None);
    }

    fn user(spec: &str) -> Result<ExecUser, String> {
        resolve(spec, Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn names_take_passwd_ids_and_member_groups() {
        assert_eq!(user("multi").unwrap(), ExecUser { uid: 1500, gid: Some(1500), sgids: vec![300, 301] });
        assert_eq!(user("test").unwrap(), ExecUser { uid: 1000, gid: Some(1000), sgids: vec![300] });
        assert_eq!(user("root").unwrap(), ExecUser { uid: 0, gid: Some(0), sgids: vec![] });
    }

    #[test]
    fn an_explicit_group_replaces_gid_and_adds_no_supplementary_groups() {
        assert_eq!(user("multi:grpB").unwrap(), ExecUser { uid: 1500, gid: Some(301), sgids: vec![] });
        assert_eq!(user("1000:grpA").unwrap(), ExecUser { uid: 1000, gid: Some(300), sgids: vec![] });
        assert_eq!(user("multi:7").unwrap(), ExecUser { uid: 1500, gid: Some(7), sgids: vec![] });
    }

    #[test]
    fn numbers_are_ids_never_names() {
        // "1234" is also a user name with uid 0 in this passwd: the number wins (CVE-2016-3697).
        assert_eq!(user("1234").unwrap(), ExecUser { uid: 1234, gid: None, sgids: vec![] });
        assert_eq!(user("1:2").unwrap(), ExecUser { uid: 1, gid: Some(2), sgids: vec![] });
        assert_eq!(resolve("7", None, None).unwrap().uid, 7);
        for huge in ["4294967296", "4294967295", "99999999999999999999"] {
            assert!(user(huge).unwrap_err().contains("must be in range"), "{huge}");
        }
        assert!(user("1:4294967296").is_err());
    }

    #[test]
    fn missing_names_use_runc_wording() {
        assert_eq!(user("nosuch").unwrap_err(), "unable to find user nosuch: no matching entries in passwd file");
        assert_eq!(user("1000:nog").unwrap_err(), "unable to find group nog: no matching entries in group file");
        assert_eq!(
            resolve("test", None, None).unwrap_err(),
            "unable to find user test: no matching entries in passwd file"
        );
        assert!(resolve("test:grpA", Some(PASSWD), None).is_err());
    }

    #[test]
    fn reads_only_regular_files_inside_the_root() {
        let d = std::env::temp_dir().join(format!("hull-passwd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root/etc")).unwrap();
        std::fs::create_dir_all(d.join("outside")).unwrap();
        std::fs::write(d.join("outside/passwd"), "host:x:0:0::/:/bin/sh\n").unwrap();
        std::fs::write(d.join("root/passwd.real"), PASSWD).unwrap();
        // An absolute symlink resolves inside the root, not on the host.
        std::os::unix::fs::symlink("/passwd.real", d.join("root/etc/passwd")).unwrap();
        std::os::unix::fs::symlink(d.join("outside/passwd"), d.join("root/etc/group")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root/etc/passwd", d.join("root/etc/magic")).unwrap();
        nix::unistd::mkfifo(&d.join("root/etc/fifo"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let root = pathrs::Root::open(d.join("root")).unwrap();
        assert_eq!(read_in_root(&root, "etc/passwd").unwrap().as_deref(), Some(PASSWD));
        assert_eq!(read_in_root(&root, "etc/group").unwrap(), None, "host file reached through a symlink");
        assert_eq!(read_in_root(&root, "etc/none").unwrap(), None);
        assert!(read_in_root(&root, "etc/fifo").is_err(), "a fifo is not opened");
        assert!(!matches!(read_in_root(&root, "etc/magic"), Ok(Some(_))), "/proc/self/root is the root's own");
        std::fs::remove_dir_all(d).unwrap();
    }
}
