//! Which cgroup hierarchies the host has mounted, and where the runtime itself sits in each:
//! read once from /proc/self/mountinfo and /proc/self/cgroup, parsed by pure functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Version;
use crate::error::{Step, SysError};

/// The v1 controllers runc manages, in runc's order; `name=systemd` is joined but never limited.
pub(crate) const V1_CONTROLLERS: &[&str] = &[
    "cpuset",
    "devices",
    "memory",
    "cpu",
    "cpuacct",
    "pids",
    "blkio",
    "hugetlb",
    "net_cls",
    "net_prio",
    "perf_event",
    "freezer",
    "rdma",
    "misc",
    "name=systemd",
];

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// cgroup v1 only.
    Legacy,
    /// cgroup v1 controllers plus a cgroup2 mount beside them (usually /sys/fs/cgroup/unified).
    Hybrid,
    /// cgroup2 only.
    Unified,
}

/// One mounted hierarchy and the runtime's own cgroup in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hierarchy {
    /// Where the hierarchy is mounted.
    pub(crate) mount_point: PathBuf,
    /// The runtime's own cgroup, relative to the mount (absolute form, `/` for the root).
    pub(crate) own: PathBuf,
}

/// The host's cgroup layout, detected once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) mode: Mode,
    /// v1 hierarchies by controller key (two keys share a hierarchy when co-mounted).
    pub(crate) v1: BTreeMap<String, Hierarchy>,
    /// The cgroup2 hierarchy (pure v2, or the hybrid one beside v1).
    pub(crate) unified: Option<Hierarchy>,
    /// Controllers available in the cgroup2 root (its `cgroup.controllers`).
    pub(crate) controllers: Vec<String>,
}

impl Layout {
    /// The interface limits are written to: v2 only on a pure cgroup2 host, as runc does.
    pub(crate) fn version(&self) -> Version {
        if self.mode == Mode::Unified {
            Version::V2
        } else {
            Version::V1
        }
    }

    pub(crate) fn v1_keys(&self) -> Vec<String> {
        self.v1.keys().cloned().collect()
    }

    pub(crate) fn unified_controllers(&self) -> Vec<String> {
        self.controllers.clone()
    }

    /// Builds a layout from the text of /proc/self/mountinfo and /proc/self/cgroup and the
    /// cgroup2 root's `cgroup.controllers`. Pure.
    pub(crate) fn parse(mountinfo: &str, proc_cgroup: &str, controllers: &str) -> Result<Layout, String> {
        let own = parse_proc_cgroup(proc_cgroup);
        let mut v1 = BTreeMap::new();
        let mut unified = None;
        for m in mountinfo.lines().filter_map(parse_mount_line) {
            if m.fstype == "cgroup2" {
                if unified.is_none() {
                    let own_path = own.get("").cloned().unwrap_or_else(|| "/".into());
                    unified = Some(Hierarchy { mount_point: m.mount_point, own: relative_to(&own_path, &m.root) });
                }
                continue;
            }
            for key in m.super_opts.split(',').filter(|o| V1_CONTROLLERS.contains(o)) {
                if v1.contains_key(key) {
                    continue;
                }
                let own_path = own.get(key).cloned().unwrap_or_else(|| "/".into());
                let h = Hierarchy { mount_point: m.mount_point.clone(), own: relative_to(&own_path, &m.root) };
                v1.insert(key.to_owned(), h);
            }
        }
        let mode = match (v1.is_empty(), unified.is_some()) {
            (true, true) => Mode::Unified,
            (false, true) => Mode::Hybrid,
            (false, false) => Mode::Legacy,
            (true, false) => return Err("no cgroup filesystem is mounted".into()),
        };
        let controllers = controllers.split_whitespace().map(str::to_owned).collect();
        Ok(Layout { mode, v1, unified, controllers })
    }
}

/// Detects the host's cgroup layout from /proc/self/mountinfo and /proc/self/cgroup.
pub(crate) fn detect() -> crate::Result<Layout> {
    let read = |p: &str| {
        std::fs::read_to_string(p).map_err(|e| crate::Error::sys(Step::Cgroup, SysError::io("read", Some(p), &e)))
    };
    let mountinfo = read("/proc/self/mountinfo")?;
    let proc_cgroup = read("/proc/self/cgroup")?;
    let probe = Layout::parse(&mountinfo, &proc_cgroup, "")
        .map_err(|e| crate::Error::sys(Step::Cgroup, SysError::check("detect cgroups", None, e)))?;
    let Some(unified) = &probe.unified else { return Ok(probe) };
    // Missing on a cgroup2 mount that has no controller file (never on a real kernel): no controllers.
    let controllers = std::fs::read_to_string(unified.mount_point.join("cgroup.controllers")).unwrap_or_default();
    Layout::parse(&mountinfo, &proc_cgroup, &controllers)
        .map_err(|e| crate::Error::sys(Step::Cgroup, SysError::check("detect cgroups", None, e)))
}

struct MountLine {
    root: PathBuf,
    mount_point: PathBuf,
    fstype: String,
    super_opts: String,
}

/// One line of mountinfo: `id parent maj:min root mountpoint opts [optional...] - fstype source superopts`.
fn parse_mount_line(line: &str) -> Option<MountLine> {
    let (left, right) = line.split_once(" - ")?;
    let fields: Vec<&str> = left.split(' ').collect();
    let mut rest = right.split(' ');
    let fstype = rest.next()?;
    if fstype != "cgroup" && fstype != "cgroup2" {
        return None;
    }
    let _source = rest.next()?;
    Some(MountLine {
        root: PathBuf::from(unescape(fields.get(3)?)),
        mount_point: PathBuf::from(unescape(fields.get(4)?)),
        fstype: fstype.to_owned(),
        super_opts: rest.next().unwrap_or("").to_owned(),
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let Some(d) = octal {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// /proc/self/cgroup: `hierarchy-id:controller,list:/path`; v2 is `0::/path`, keyed `""`.
fn parse_proc_cgroup(text: &str) -> BTreeMap<String, PathBuf> {
    let mut own = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        if ctrls.is_empty() {
            own.insert(String::new(), PathBuf::from(path));
        }
        for c in ctrls.split(',').filter(|c| !c.is_empty()) {
            own.insert(c.to_owned(), PathBuf::from(path));
        }
    }
    own
}

/// The own cgroup as seen inside a mount whose root is `root` (bind mounts of a sub-tree).
fn relative_to(own: &Path, root: &Path) -> PathBuf {
    match own.strip_prefix(root) {
        Ok(rel) => Path::new("/").join(rel),
        Err(_) => own.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/net_cls,net_prio rw,relatime shared:5 - cgroup cgroup rw,net_cls,net_prio
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_SELF: &str = "9:name=systemd:/\n4:memory:/process_api/x\n3:net_cls,net_prio:/\n1:cpu:/a\n0::/u\n";

    #[test]
    fn hybrid_host_has_v1_keys_and_the_unified_mount() {
        let l = Layout::parse(HYBRID_MOUNTS, HYBRID_SELF, "hugetlb\n").unwrap();
        assert_eq!(l.mode, Mode::Hybrid);
        assert_eq!(l.version(), Version::V1);
        assert_eq!(l.v1_keys(), ["cpu", "cpuacct", "memory", "name=systemd", "net_cls", "net_prio"]);
        assert_eq!(l.v1["memory"].own, Path::new("/process_api/x"));
        assert_eq!(l.v1["net_prio"].mount_point, Path::new("/sys/fs/cgroup/net_cls,net_prio"));
        let u = l.unified.as_ref().unwrap();
        assert_eq!((u.mount_point.as_path(), u.own.as_path()), (Path::new("/sys/fs/cgroup/unified"), Path::new("/u")));
        assert_eq!(l.controllers, ["hugetlb"]);
    }

    #[test]
    fn pure_v2_and_bind_mounted_subtree() {
        let mounts = "30 23 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let l = Layout::parse(mounts, "0::/kubepods/pod1\n", "cpu io memory pids").unwrap();
        assert_eq!(l.mode, Mode::Unified);
        assert_eq!(l.version(), Version::V2);
        assert_eq!(l.unified.unwrap().own, Path::new("/pod1"));
        assert_eq!(l.controllers, ["cpu", "io", "memory", "pids"]);
    }

    #[test]
    fn legacy_without_cgroup2_and_none_at_all() {
        let l = Layout::parse(&HYBRID_MOUNTS.replace("cgroup2 cgroup2", "tmpfs tmpfs"), "", "").unwrap();
        assert_eq!(l.mode, Mode::Legacy);
        assert!(l.unified.is_none());
        assert_eq!(l.v1["cpu"].own, Path::new("/"));
        assert!(Layout::parse("1 0 0:1 / / rw - ext4 /dev/sda rw\n", "", "").is_err());
    }

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape(r"/mnt/a\040b\134c"), "/mnt/a b\\c");
        assert_eq!(unescape(r"/x\0"), r"/x\0");
    }

    #[test]
    fn detect_reads_this_host() {
        let l = detect().unwrap();
        assert!(!l.v1.is_empty() || l.unified.is_some());
    }
}
