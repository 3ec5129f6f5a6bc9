//! /dev: device nodes (created with mknodat in a directory fd, or bound from the host's node in
//! a user namespace, where mknod is not allowed; then verified) and the standard symlinks.
//!
//! /dev may be the rootfs's own directory (no /dev mount): nodes and links already there are kept
//! as runc keeps them, a node only when it is the same device (checked without following links).

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use super::RootDir;
use crate::error::SysError;
use crate::plan::{DeviceNode, DEV_SYMLINKS};
use crate::sys;

/// Creates every device node, then the /dev symlinks (unless /dev is a bind mount, as runc).
pub(super) fn populate(root: &RootDir, devices: &[DeviceNode], userns: bool) -> Result<(), SysError> {
    create_nodes(root, devices, userns)?;
    let dev = root.resolve("dev")?;
    for (name, target) in DEV_SYMLINKS {
        if *name == "ptmx" {
            // A ptmx node from linux.devices would shadow the devpts instance's (runc: the link wins).
            sys::fs::unlinkat(dev.as_fd(), name)?;
        }
        match sys::fs::symlinkat(target, dev.as_fd(), name) {
            // The rootfs's own /dev may have them already (runc keeps what is there).
            Err(e) if e.errno == libc::EEXIST => {}
            other => other?,
        }
    }
    Ok(())
}

/// Creates the device nodes of the plan.
pub(super) fn create_nodes(root: &RootDir, devices: &[DeviceNode], userns: bool) -> Result<(), SysError> {
    for d in devices {
        if userns {
            bind_node(root, d)?;
            continue;
        }
        let path = Path::new(&d.path);
        let parent = path.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = root.mkdir_all(&parent)?;
        let shown = format!("/{}", d.path);
        match sys::fs::mknodat(dir.as_fd(), &name, d.kind | d.mode, d.major, d.minor) {
            // Already in the rootfs's own /dev: kept (runc does so) when it is that very device.
            Err(e) if e.errno == libc::EEXIST => {
                verify(&dir, &name, d, &shown, "exists and is another file or device")?;
                continue;
            }
            other => other.map_err(|e| e.with_detail(shown.clone()))?,
        }
        // mknod's mode went through the umask; the spec's fileMode is exact.
        sys::fs::fchmodat(dir.as_fd(), &name, d.mode)?;
        sys::fs::fchownat(dir.as_fd(), &name, d.uid, d.gid)?;
        verify(&dir, &name, d, &shown, "the created node does not match")?;
    }
    Ok(())
}

/// Binds the host's node of the same path over an empty file (runc does the same): the node's
/// owner and mode are the host's.
fn bind_node(root: &RootDir, d: &DeviceNode) -> Result<(), SysError> {
    let shown = format!("/{}", d.path);
    let target = match root.resolve(&d.path) {
        Err(e) if e.errno == libc::ENOENT => root.create_file(&d.path)?,
        other => other?,
    };
    let tree = sys::mount::open_tree(None, &shown, false)?;
    let st = sys::fs::fstat(tree.as_fd(), &shown)?;
    if st.mode & libc::S_IFMT != d.kind || (d.kind != libc::S_IFIFO && (st.major, st.minor) != (d.major, d.minor)) {
        return Err(SysError::check("bind device", Some(&shown), "the host's node is another device"));
    }
    sys::mount::move_mount(tree.as_fd(), target.as_fd(), &shown)
}

/// Checks that what now sits at the path is the node we made (nothing swapped it meanwhile).
fn verify(dir: &OwnedFd, name: &str, d: &DeviceNode, shown: &str, mismatch: &str) -> Result<(), SysError> {
    let fd = sys::fs::openat(dir.as_fd(), name, libc::O_PATH, shown)?;
    let st = sys::fs::fstat(fd.as_fd(), shown)?;
    let ok =
        st.mode & libc::S_IFMT == d.kind && (d.kind == libc::S_IFIFO || (st.major == d.major && st.minor == d.minor));
    if ok {
        Ok(())
    } else {
        Err(SysError::check("mknod", Some(shown), mismatch))
    }
}
