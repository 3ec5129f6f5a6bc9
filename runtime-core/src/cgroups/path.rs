//! Where the container's cgroup lives in each hierarchy: `linux.cgroupsPath` resolved the way
//! runc's cgroupfs driver does, with `..` refused so that no path can leave its hierarchy.

use std::path::{Component, Path, PathBuf};

use super::layout::{Layout, Mode};
use super::{invalid, PlannedDir};

/// The cleaned cgroups path: absolute, or relative to the runtime's cgroup. Empty means `<id>`.
pub(crate) fn inner_path(cgroups_path: Option<&Path>, id: &str) -> crate::Result<PathBuf> {
    let raw = cgroups_path.filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(id));
    let mut out = if raw.is_absolute() { PathBuf::from("/") } else { PathBuf::new() };
    for c in raw.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(invalid(format!("linux.cgroupsPath {raw:?}: \"..\" is not allowed")));
            }
        }
    }
    if out.as_os_str().is_empty() || out == Path::new("/") {
        return Err(invalid(format!("linux.cgroupsPath {raw:?} names the root cgroup")));
    }
    Ok(out)
}

/// One directory per hierarchy the container joins: every mounted v1 hierarchy (plus the
/// hybrid cgroup2 one, as runc does), or the single cgroup2 one.
pub(crate) fn dirs(inner: &Path, layout: &Layout) -> crate::Result<Vec<PlannedDir>> {
    let mut dirs = Vec::new();
    if layout.mode != Mode::Unified {
        if !layout.v1.contains_key("devices") {
            // Without the devices controller a container could open any device node it can create.
            return Err(crate::Error::NotSupported("cgroup v1 host without the devices controller".into()));
        }
        for (key, h) in &layout.v1 {
            dirs.push(dir(key, &h.mount_point, &h.own, inner));
        }
    }
    if let Some(h) = &layout.unified {
        // On pure v2 the runtime's own cgroup holds processes, so it cannot delegate controllers
        // to a child: relative paths go beside it, under its parent, as runc does.
        let own = match layout.mode {
            Mode::Unified => h.own.parent().unwrap_or(Path::new("/")).to_path_buf(),
            _ => h.own.clone(),
        };
        dirs.push(dir("", &h.mount_point, &own, inner));
    }
    Ok(dirs)
}

fn dir(key: &str, mount_point: &Path, own: &Path, inner: &Path) -> PlannedDir {
    let below = if inner.is_absolute() { inner.to_path_buf() } else { own.join(inner) };
    let rel = below.strip_prefix("/").unwrap_or(&below);
    PlannedDir { key: key.to_owned(), path: mount_point.join(rel), mount_point: mount_point.to_path_buf() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(mounts: &str, own: &str) -> Layout {
        Layout::parse(mounts, own, "cpu memory").unwrap()
    }

    const V1: &str = "\
36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
    const V2: &str = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

    #[test]
    fn inner_path_forms() {
        assert_eq!(inner_path(None, "c1").unwrap(), Path::new("c1"));
        assert_eq!(inner_path(Some(Path::new("")), "c1").unwrap(), Path::new("c1"));
        assert_eq!(inner_path(Some(Path::new("/a//b/./c/")), "x").unwrap(), Path::new("/a/b/c"));
        assert_eq!(inner_path(Some(Path::new("a/b")), "x").unwrap(), Path::new("a/b"));
        for bad in ["/a/../../etc", "..", "a/..", "/", "."] {
            let e = inner_path(Some(Path::new(bad)), "x").unwrap_err().to_string();
            assert!(e.starts_with("invalid config: linux.cgroupsPath"), "{bad}: {e}");
        }
    }

    #[test]
    fn v1_absolute_and_relative_paths() {
        let l = layout(V1, "5:devices:/dev-own\n4:memory:/mem/own\n0::/uni\n");
        let abs = dirs(Path::new("/k/c"), &l).unwrap();
        let got: Vec<_> = abs.iter().map(|d| (d.key.as_str(), d.path.to_str().unwrap())).collect();
        assert_eq!(
            got,
            [
                ("devices", "/sys/fs/cgroup/devices/k/c"),
                ("memory", "/sys/fs/cgroup/memory/k/c"),
                ("", "/sys/fs/cgroup/unified/k/c")
            ]
        );
        let rel = dirs(Path::new("c1"), &l).unwrap();
        let got: Vec<_> = rel.iter().map(|d| d.path.to_str().unwrap()).collect();
        assert_eq!(
            got,
            ["/sys/fs/cgroup/devices/dev-own/c1", "/sys/fs/cgroup/memory/mem/own/c1", "/sys/fs/cgroup/unified/uni/c1"]
        );
        assert_eq!(rel[1].mount_point, Path::new("/sys/fs/cgroup/memory"));
    }

    #[test]
    fn v2_relative_path_goes_under_the_parent_of_own_cgroup() {
        let l = layout(V2, "0::/user.slice/session-1.scope\n");
        let d = dirs(Path::new("c1"), &l).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].key.as_str(), d[0].path.as_path()), ("", Path::new("/sys/fs/cgroup/user.slice/c1")));
        let d = dirs(Path::new("/machine/c1"), &l).unwrap();
        assert_eq!(d[0].path, Path::new("/sys/fs/cgroup/machine/c1"));
    }

    #[test]
    fn v1_without_devices_controller_is_refused() {
        let l = layout("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "");
        let e = dirs(Path::new("c"), &l).unwrap_err().to_string();
        assert_eq!(e, "not supported: cgroup v1 host without the devices controller");
    }
}
