//! `--no-pivot`: the host's mounts stay in the container's mount namespace under the moved root.
//! A full procfs or sysfs among them would let a process in a new user namespace mount a fresh
//! instance (the kernel allows that when an uncovered one is already in the namespace), so they
//! are detached first, or covered with a tmpfs where they are locked (a user namespace), as runc
//! does.

use std::io::Read;

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use super::RootDir;
use crate::error::SysError;
use crate::sys;

/// Detaches (or covers) every full procfs and sysfs mount outside the container's root.
pub(super) fn hide(root: &RootDir, procfs: &ProcfsHandle) -> Result<(), SysError> {
    let root_id = sys::fs::mount_id(root.as_fd(), "rootfs")?;
    let mut text = String::new();
    procfs
        .open(ProcfsBase::ProcSelf, "mountinfo", OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC)
        .map_err(|e| crate::sys::path_err("open", "/proc/self/mountinfo", e))?
        .read_to_string(&mut text)
        .map_err(|e| SysError::io("read", Some("/proc/self/mountinfo"), &e))?;
    for path in to_hide(&text, root_id) {
        match sys::mount::umount_detach(&path) {
            Ok(()) => {}
            // Gone with a mount detached before it.
            Err(e) if e.errno == libc::ENOENT => {}
            // Locked (copied into a user namespace's mount namespace): a tmpfs on top of its
            // root, locked in turn in any namespace made from ours, keeps it from counting as
            // visible.
            Err(e) if e.errno == libc::EINVAL || e.errno == libc::EPERM => {
                let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
                sys::mount::mount(Some("tmpfs"), &path, Some("tmpfs"), flags)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One mountinfo line, reduced to what the choice needs.
struct Entry {
    id: u64,
    parent: u64,
    root: String,
    point: String,
    fstype: String,
}

fn parse(line: &str) -> Option<Entry> {
    let (head, tail) = line.split_once(" - ")?;
    let mut h = head.split(' ');
    let id = h.next()?.parse().ok()?;
    let parent = h.next()?.parse().ok()?;
    let root = unescape(h.nth(1)?);
    let point = unescape(h.next()?);
    let fstype = tail.split(' ').next()?.to_owned();
    Some(Entry { id, parent, root, point, fstype })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.push(d.iter().fold(0u8, |a, c| a.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mount points of full procfs and sysfs mounts not inside the mount `root_id`, last mounted
/// first (so a mount stacked on another, or below another, goes before it).
fn to_hide(mountinfo: &str, root_id: u64) -> Vec<String> {
    let all: Vec<Entry> = mountinfo.lines().filter_map(parse).collect();
    all.iter()
        .rev()
        .filter(|e| matches!(e.fstype.as_str(), "proc" | "sysfs") && e.root == "/" && !inside(&all, e, root_id))
        .map(|e| e.point.clone())
        .collect()
}

/// Whether `e` is the mount `root_id` or below it.
fn inside<'a>(all: &'a [Entry], mut e: &'a Entry, root_id: u64) -> bool {
    // Bounded: a parent chain longer than the table would be a loop.
    for _ in 0..=all.len() {
        if e.id == root_id {
            return true;
        }
        match all.iter().find(|p| p.id == e.parent && p.id != e.id) {
            Some(p) => e = p,
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
22 27 0:21 / /proc rw,relatime shared:5 - proc proc rw
23 27 0:22 / /sys rw,relatime shared:6 - sysfs sysfs rw
40 27 0:30 / /my\\040dir rw - proc proc rw
41 27 0:22 /fs /elsewhere rw - sysfs sysfs rw
50 27 8:1 /b/rootfs /b/rootfs rw - ext4 /dev/sda1 rw
51 50 0:40 / /b/rootfs/proc rw - proc proc rw
52 50 0:41 / /b/rootfs/sys ro - sysfs sysfs ro
53 51 0:43 / /b/rootfs/proc/kcore rw - tmpfs tmpfs rw
";

    #[test]
    fn host_proc_and_sysfs_outside_the_root_last_first() {
        assert_eq!(to_hide(INFO, 50), ["/my dir", "/sys", "/proc"]);
    }

    #[test]
    fn nothing_hidden_when_everything_is_inside() {
        assert_eq!(to_hide(INFO, 27), Vec::<String>::new());
    }

    #[test]
    fn octal_escapes() {
        assert_eq!(unescape("a\\040b\\134c\\011"), "a b\\c\t");
        assert_eq!(unescape("x\\9y\\"), "x\\9y\\");
    }
}
