//! Device nodes: the spec's default devices plus `linux.devices`, and the /dev symlinks.

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use super::mounts::clean_dest;
use crate::error::{Error, Result};

/// One device node to create inside the rootfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceNode {
    /// Path relative to the rootfs.
    pub(crate) path: String,
    /// S_IFCHR, S_IFBLK or S_IFIFO.
    pub(crate) kind: u32,
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// Symlinks every container's /dev gets (name relative to /dev, target).
pub(crate) const DEV_SYMLINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

const DEFAULTS: &[(&str, u32, u32)] = &[
    ("dev/null", 1, 3),
    ("dev/zero", 1, 5),
    ("dev/full", 1, 7),
    ("dev/random", 1, 8),
    ("dev/urandom", 1, 9),
    ("dev/tty", 5, 0),
];

/// The default devices, then the configured ones (a configured path replaces a default one).
pub(crate) fn plan(devices: &[LinuxDevice]) -> Result<Vec<DeviceNode>> {
    let mut out: Vec<DeviceNode> = DEFAULTS
        .iter()
        .map(|&(path, major, minor)| DeviceNode {
            path: path.to_owned(),
            kind: libc::S_IFCHR,
            major,
            minor,
            mode: 0o666,
            uid: 0,
            gid: 0,
        })
        .collect();
    for d in devices {
        let field = format!("linux.devices[{}]", d.path().display());
        let path = clean_dest(d.path(), &field)?;
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
            LinuxDeviceType::B => libc::S_IFBLK,
            LinuxDeviceType::P => libc::S_IFIFO,
            LinuxDeviceType::A => {
                return Err(Error::InvalidConfig(format!("{field}: type \"a\" is not a device node")))
            }
        };
        let num = |v: i64, what: &str| {
            u32::try_from(v).map_err(|_| Error::InvalidConfig(format!("{field}: {what} {v} out of range")))
        };
        let node = DeviceNode {
            path,
            kind,
            major: num(d.major(), "major")?,
            minor: num(d.minor(), "minor")?,
            mode: d.file_mode().unwrap_or(0o666) & 0o7777,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        };
        out.retain(|o| o.path != node.path);
        out.push(node);
    }
    Ok(out)
}
