//! An unprivileged runtime (runc's rootless mode): who the caller is, which host ids it may map
//! (`/etc/subuid`, `/etc/subgid`) and through which setuid helper (`newuidmap`, `newgidmap`), and
//! the pure choice of how each id map of a new user namespace gets written.
//!
//! The kernel lets an unprivileged process write one line mapping its own euid (uid_map) or its
//! own egid (gid_map, only once `setgroups` is denied); anything else goes through the helpers of
//! the `uidmap` package, which check the ranges against /etc/subuid and /etc/subgid.

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxIdMapping;

use crate::error::{Error, Result};

/// Facts about an unprivileged caller (euid != 0), read once by the host detection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) euid: u32,
    pub(crate) egid: u32,
    /// The login name of euid (from /etc/passwd), which /etc/subuid lines usually name.
    pub(crate) name: Option<String>,
    /// Host ranges (start, count) delegated to the caller in /etc/subuid.
    pub(crate) subuid: Vec<(u64, u64)>,
    /// The same from /etc/subgid.
    pub(crate) subgid: Vec<(u64, u64)>,
    pub(crate) newuidmap: Option<PathBuf>,
    pub(crate) newgidmap: Option<PathBuf>,
}

impl Caller {
    /// Reads the caller's ids, name, delegated ranges and helpers.
    pub(crate) fn detect() -> Caller {
        let euid = nix::unistd::geteuid().as_raw();
        let egid = nix::unistd::getegid().as_raw();
        let name = std::fs::read_to_string("/etc/passwd").ok().and_then(|t| passwd_name(&t, euid));
        let ranges = |file: &str| {
            std::fs::read_to_string(file).map(|t| sub_ranges(&t, name.as_deref(), euid)).unwrap_or_default()
        };
        Caller {
            euid,
            egid,
            subuid: ranges("/etc/subuid"),
            subgid: ranges("/etc/subgid"),
            name,
            newuidmap: find_in_path("newuidmap"),
            newgidmap: find_in_path("newgidmap"),
        }
    }

    fn who(&self) -> String {
        match &self.name {
            Some(n) => format!("user {n} (uid {})", self.euid),
            None => format!("uid {}", self.euid),
        }
    }
}

/// Whether this process runs in a user namespace other than the initial one (runc's
/// `RunningInUserNS`): device nodes cannot be made there, whatever the euid.
///
/// ```
/// if runtime_core::in_user_namespace() {
///     println!("device nodes will be bind mounts of the host's");
/// }
/// ```
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| !is_initial_map(&m))
}

fn is_initial_map(map: &str) -> bool {
    let fields: Vec<&str> = map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

/// The host pids of a container that has no cgroup (rootless): every process in the init's pid
/// namespace when it has its own, else the init alone. Processes this user may not inspect are
/// not the container's (a container's processes run under ids its user namespace maps, which
/// its owner may inspect).
pub(crate) fn container_pids(init: i32, own_pid_ns: bool) -> Vec<i32> {
    let ns = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let Some(want) = ns(init) else { return Vec::new() };
    if !own_pid_ns {
        return vec![init];
    }
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter(|&pid| ns(pid).as_ref() == Some(&want))
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}

/// How the runtime writes one id map of the container's new user namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum MapWriter {
    /// Write /proc/PID/{uid,gid}_map (root, or the caller's own uid).
    #[default]
    Direct,
    /// Write "deny" to /proc/PID/setgroups, then gid_map: the kernel's condition for an
    /// unprivileged process mapping its own gid.
    DenySetgroups,
    /// Run this `newuidmap`/`newgidmap` with PID and the ranges.
    Helper(PathBuf),
}

/// The writers of both maps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MapWriters {
    pub(crate) uid: MapWriter,
    pub(crate) gid: MapWriter,
}

/// Chooses the writers for `uids`/`gids` (None: the runtime is root and writes them all).
pub(crate) fn writers(caller: Option<&Caller>, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<MapWriters> {
    let Some(c) = caller else { return Ok(MapWriters::default()) };
    let uid = match uids {
        [m] if m.host_id() == c.euid && m.size() == 1 => MapWriter::Direct,
        _ => helper(c, uids, Kind::Uid)?,
    };
    let gid = match gids {
        [m] if m.host_id() == c.egid && m.size() == 1 => MapWriter::DenySetgroups,
        _ => helper(c, gids, Kind::Gid)?,
    };
    Ok(MapWriters { uid, gid })
}

#[derive(Clone, Copy)]
enum Kind {
    Uid,
    Gid,
}

fn helper(c: &Caller, list: &[LinuxIdMapping], kind: Kind) -> Result<MapWriter> {
    let (tool, file, field, own, ranges, path) = match kind {
        Kind::Uid => ("newuidmap", "/etc/subuid", "linux.uidMappings", c.euid, &c.subuid, &c.newuidmap),
        Kind::Gid => ("newgidmap", "/etc/subgid", "linux.gidMappings", c.egid, &c.subgid, &c.newgidmap),
    };
    for m in list {
        let (h, n) = (m.host_id() as u64, m.size() as u64);
        let own_id = n == 1 && h == own as u64;
        if !own_id && !ranges.iter().any(|&(s, cnt)| h >= s && h + n <= s + cnt) {
            return Err(Error::InvalidConfig(format!(
                "rootless: {field}: host range {h}-{} (container {}) is not delegated to {} in {file}",
                h + n - 1,
                m.container_id(),
                c.who()
            )));
        }
    }
    let path = path.clone().ok_or_else(|| {
        Error::NotSupported(format!(
            "rootless: {field} other than your own id need {tool} (package uidmap), which is not in PATH"
        ))
    })?;
    Ok(MapWriter::Helper(path))
}

/// The arguments of `newuidmap PID` / `newgidmap PID`: "container host size" triples from map text.
pub(crate) fn helper_args(map_text: &str) -> Vec<String> {
    map_text.split_whitespace().map(str::to_owned).collect()
}

/// The name of `uid` in /etc/passwd text.
fn passwd_name(text: &str, uid: u32) -> Option<String> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2].parse() == Ok(uid)).then(|| f[0].to_owned())
    })
}

/// The ranges of /etc/subuid-format text that belong to `name` or to the numeric `uid`.
fn sub_ranges(text: &str, name: Option<&str>, uid: u32) -> Vec<(u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?.parse().ok()?, f.next()?.parse().ok()?);
            (Some(who) == name || who.parse() == Ok(uid)).then_some((start, count))
        })
        .collect()
}

fn find_in_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(c: u32, h: u32, n: u32) -> LinuxIdMapping {
        serde_json::from_value(serde_json::json!({"containerID": c, "hostID": h, "size": n})).unwrap()
    }

    fn caller() -> Caller {
        Caller {
            euid: 1001,
            egid: 1002,
            name: Some("alice".into()),
            subuid: vec![(300_000, 65_536)],
            subgid: vec![(400_000, 65_536)],
            newuidmap: Some("/usr/bin/newuidmap".into()),
            newgidmap: Some("/usr/bin/newgidmap".into()),
        }
    }

    #[test]
    fn own_ids_are_written_directly_with_setgroups_denied() {
        let w = writers(Some(&caller()), &[map(0, 1001, 1)], &[map(0, 1002, 1)]).unwrap();
        assert_eq!(w, MapWriters { uid: MapWriter::Direct, gid: MapWriter::DenySetgroups });
        assert_eq!(writers(None, &[map(0, 5, 9)], &[map(0, 5, 9)]).unwrap(), MapWriters::default());
    }

    #[test]
    fn ranges_go_through_the_helpers_and_must_be_delegated() {
        let uids = [map(0, 1001, 1), map(1, 300_000, 65_536)];
        let gids = [map(0, 400_000, 10)];
        let w = writers(Some(&caller()), &uids, &gids).unwrap();
        assert_eq!(w.uid, MapWriter::Helper("/usr/bin/newuidmap".into()));
        assert_eq!(w.gid, MapWriter::Helper("/usr/bin/newgidmap".into()));
        let e = writers(Some(&caller()), &[map(0, 300_001, 65_536)], &[map(0, 1002, 1)]).unwrap_err().to_string();
        assert!(e.contains("host range 300001-365536") && e.contains("/etc/subuid") && e.contains("alice"), "{e}");
        let e = writers(Some(&caller()), &[map(0, 1001, 1)], &[map(0, 1001, 1)]).unwrap_err().to_string();
        assert!(e.contains("/etc/subgid"), "{e}");
    }

    #[test]
    fn a_missing_helper_is_named() {
        let c = Caller { newgidmap: None, ..caller() };
        let e = writers(Some(&c), &[map(0, 1001, 1)], &[map(0, 400_000, 2)]).unwrap_err().to_string();
        assert!(e.contains("newgidmap") && e.contains("uidmap"), "{e}");
    }

    #[test]
    fn subid_files_match_name_or_uid() {
        let text = "bob:100000:65536\nalice:200000:10\n1001:300000:5\nbad line\n";
        assert_eq!(sub_ranges(text, Some("alice"), 1001), vec![(200_000, 10), (300_000, 5)]);
        assert_eq!(
            passwd_name("root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/h:/bin/sh\n", 1001).as_deref(),
            Some("alice")
        );
        assert!(is_initial_map("         0          0 4294967295\n"));
        assert!(!is_initial_map("0 1001 1\n"));
        assert_eq!(helper_args("0 1001 1\n1 300000 65536\n"), ["0", "1001", "1", "1", "300000", "65536"]);
    }
}
