//! The benchmark's own cgroup subtree (`/hull-bench-<pid>` in every hierarchy): finding the
//! hierarchies, counting what a runtime left behind, removing the subtree, hiding cgroup2.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Where the hybrid layout mounts cgroup2; crun 1.8.1 refuses to run while it is visible.
pub const UNIFIED: &str = "/sys/fs/cgroup/unified";

/// Mount points of every cgroup and cgroup2 filesystem in `mountinfo` (the text of /proc/self/mountinfo).
pub fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (mount, fs) = line.split_once(" - ")?;
            let fstype = fs.split_whitespace().next()?;
            let point = mount.split_whitespace().nth(4)?;
            (fstype == "cgroup" || fstype == "cgroup2").then(|| PathBuf::from(unescape(point)))
        })
        .collect()
}

/// Mountinfo writes space, tab, newline and backslash as three-digit octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal =
            bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup mount points of this process's mount namespace.
pub fn hierarchies() -> Result<Vec<PathBuf>> {
    let text = fs::read_to_string("/proc/self/mountinfo").context("reading /proc/self/mountinfo")?;
    Ok(mount_points(&text))
}

/// `cgroup_path` (absolute, as in config.json) inside each hierarchy.
pub fn dirs_of(cgroup_path: &str) -> Result<Vec<PathBuf>> {
    Ok(hierarchies()?.into_iter().map(|h| h.join(cgroup_path.trim_start_matches('/'))).collect())
}

/// Names of the directories directly under `dir` in any hierarchy: containers whose cgroup a
/// runtime did not remove at delete.
pub fn leftovers(cgroup_path: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for dir in dirs_of(cgroup_path)? {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().is_ok_and(|t| t.is_dir()) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Removes `dir` and every directory below it, deepest first. A cgroup that still holds processes
/// (containers of ours a runtime failed to delete) has them killed first. Missing is fine.
pub fn remove_tree(dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        other => other.with_context(|| format!("listing {}", dir.display()))?,
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    for _ in 0..100 {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(Errno::EBUSY as i32) => kill_members(dir),
            Err(e) => return Err(e).with_context(|| format!("removing {}", dir.display())),
        }
        thread::sleep(Duration::from_millis(10));
    }
    bail!("removing {}: still busy after killing its processes", dir.display())
}

fn kill_members(dir: &Path) {
    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// In a private mount namespace, unmounts cgroup2 from the hybrid layout so crun accepts the host.
/// Every runtime is measured behind the same unmount.
pub fn hide_unified() -> Result<()> {
    if hierarchies()?.iter().any(|h| h == Path::new(UNIFIED)) {
        nix::mount::umount(UNIFIED).with_context(|| format!("umount {UNIFIED}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
33 25 0:28 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755
34 33 0:29 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw
36 33 0:31 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory
37 33 0:32 / /sys/fs/cgroup/odd\\040name rw shared:15 - cgroup cgroup rw,pids
";

    #[test]
    fn mount_points_lists_cgroup_and_cgroup2_only() {
        let points = mount_points(MOUNTINFO);
        let expected: Vec<PathBuf> =
            ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/odd name"].map(PathBuf::from).into();
        assert_eq!(points, expected);
    }

    #[test]
    fn remove_tree_removes_nested_dirs_and_tolerates_missing() {
        let root = std::env::temp_dir().join(format!("hull-bench-cg-test-{}", std::process::id()));
        fs::create_dir_all(root.join("runc/c1")).expect("fixture");
        fs::create_dir_all(root.join("crun")).expect("fixture");
        remove_tree(&root).expect("removed");
        assert!(!root.exists());
        remove_tree(&root).expect("missing is fine");
    }

    #[test]
    fn remove_tree_reports_what_it_cannot_remove() {
        // A plain file blocks rmdir on a normal filesystem (cgroupfs control files never do).
        let root = std::env::temp_dir().join(format!("hull-bench-cg-file-{}", std::process::id()));
        fs::create_dir_all(&root).expect("fixture");
        fs::write(root.join("stray"), "x").expect("fixture");
        let err = remove_tree(&root).expect_err("not empty");
        assert!(err.to_string().contains("removing"), "{err}");
        fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn this_machine_has_cgroup_hierarchies() {
        assert!(!hierarchies().expect("mountinfo").is_empty(), "no cgroup mounts found");
    }
}
