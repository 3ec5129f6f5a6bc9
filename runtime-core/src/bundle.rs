//! Bundle loading: config.json and the rootfs path (the only place that reads the spec from disk).

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Capability, LinuxIdMapping, Spec};

use crate::error::{Error, Result};

/// An OCI bundle: its directory, parsed config.json, and the absolute rootfs path.
#[derive(Debug)]
pub struct Bundle {
    /// Absolute bundle directory.
    pub dir: PathBuf,
    /// The parsed config.
    pub spec: Spec,
    /// Absolute path of the root filesystem.
    pub rootfs: PathBuf,
    /// mounts[i].uidMappings/gidMappings (runtime-spec 1.2), which oci-spec's `Mount` drops:
    /// read from the raw JSON, one entry per mount.
    pub(crate) mount_idmaps: Vec<Option<MountMaps>>,
    /// linux.seccomp.flags held SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (runtime-spec 1.2), which
    /// oci-spec's flag enum cannot parse: taken out of the raw JSON here.
    pub(crate) seccomp_wait_killable: bool,
    /// Names in process.capabilities that are no capability oci-spec knows (runtime-spec: "MUST be
    /// logged as a warning", "SHOULD NOT fail"): taken out of the raw JSON, sorted, once each.
    pub(crate) unknown_caps: Vec<String>,
}

/// The id mappings of one idmapped mount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MountMaps {
    pub(crate) uid: Vec<LinuxIdMapping>,
    pub(crate) gid: Vec<LinuxIdMapping>,
}

impl Bundle {
    /// Reads `dir/config.json` and checks that the rootfs exists.
    pub fn load(dir: &Path) -> Result<Bundle> {
        let dir = std::path::absolute(dir).map_err(|e| Error::Bundle {
            what: "bundle",
            path: dir.to_path_buf(),
            source: e,
        })?;
        let cfg = dir.join("config.json");
        let data =
            std::fs::read(&cfg).map_err(|e| Error::Bundle { what: "reading config", path: cfg.clone(), source: e })?;
        let raw: serde_json::Value = serde_json::from_slice(&data).map_err(|e| match e.classify() {
            // What Go's decoder (and so runc) says of a truncated file.
            serde_json::error::Category::Eof => Error::Spec("unexpected EOF".into()),
            _ => Error::InvalidConfig(format!("{}: {e}", cfg.display())),
        })?;
        let mount_idmaps = mount_idmaps(&raw)?;
        let mut raw = raw;
        let seccomp_wait_killable = take_wait_killable(&mut raw);
        let unknown_caps = take_unknown_caps(&mut raw);
        let spec: Spec =
            serde_json::from_value(raw).map_err(|e| Error::InvalidConfig(format!("{}: {e}", cfg.display())))?;
        let mut b = Self::from_spec(dir, spec)?;
        b.mount_idmaps = mount_idmaps;
        b.seccomp_wait_killable = seccomp_wait_killable;
        b.unknown_caps = unknown_caps;
        Ok(b)
    }

    /// A bundle from an in-memory spec; a relative `root.path` is taken relative to `dir`.
    pub fn from_spec(dir: PathBuf, spec: Spec) -> Result<Bundle> {
        let root = spec.root().as_ref().ok_or_else(|| Error::Spec("root must be specified".into()))?;
        let rootfs = dir.join(root.path());
        let md = std::fs::metadata(&rootfs).map_err(|e| Error::Bundle {
            what: "rootfs",
            path: rootfs.clone(),
            source: e,
        })?;
        if !md.is_dir() {
            return Err(Error::Bundle {
                what: "rootfs",
                path: rootfs,
                source: std::io::Error::from_raw_os_error(libc::ENOTDIR),
            });
        }
        Ok(Bundle {
            dir,
            spec,
            rootfs,
            mount_idmaps: Vec::new(),
            seccomp_wait_killable: false,
            unknown_caps: Vec::new(),
        })
    }
}

/// mounts[].uidMappings/gidMappings of runtime-spec 1.2, which the oci-spec crate's types drop
/// while parsing: read here so that nothing in config.json is silently ignored.
fn mount_idmaps(raw: &serde_json::Value) -> Result<Vec<Option<MountMaps>>> {
    let mut out = Vec::new();
    for (i, m) in raw.get("mounts").and_then(|m| m.as_array()).into_iter().flatten().enumerate() {
        let list = |key: &str| -> Result<Option<Vec<LinuxIdMapping>>> {
            m.get(key)
                .map(|v| {
                    serde_json::from_value(v.clone())
                        .map_err(|e| Error::InvalidConfig(format!("mounts[{i}].{key}: {e}")))
                })
                .transpose()
        };
        out.push(match (list("uidMappings")?, list("gidMappings")?) {
            (None, None) => None,
            (Some(uid), Some(gid)) => Some(MountMaps { uid, gid }),
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "mounts[{i}]: uidMappings and gidMappings must be given together"
                )))
            }
        });
    }
    Ok(out)
}

const WAIT_KILLABLE_RECV: &str = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";

/// Removes WAIT_KILLABLE_RECV from linux.seccomp.flags; whether it was there.
fn take_wait_killable(raw: &mut serde_json::Value) -> bool {
    let Some(flags) = raw.pointer_mut("/linux/seccomp/flags").and_then(|f| f.as_array_mut()) else { return false };
    let before = flags.len();
    flags.retain(|f| f != WAIT_KILLABLE_RECV);
    flags.len() != before
}

/// Removes the names no [`Capability`] parses from the five process.capabilities sets; the names.
fn take_unknown_caps(raw: &mut serde_json::Value) -> Vec<String> {
    let mut unknown = Vec::new();
    let Some(sets) = raw.pointer_mut("/process/capabilities").and_then(|c| c.as_object_mut()) else {
        return unknown;
    };
    for set in sets.values_mut().filter_map(|s| s.as_array_mut()) {
        set.retain(|name| {
            let known = serde_json::from_value::<Capability>(name.clone()).is_ok();
            if !known {
                unknown.push(name.as_str().map_or_else(|| name.to_string(), str::to_owned));
            }
            known
        });
    }
    unknown.sort();
    unknown.dedup();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hull-bundle-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn malformed_and_missing() {
        let d = tmp("bad");
        assert!(matches!(Bundle::load(&d), Err(Error::Bundle { what: "reading config", .. })));
        std::fs::write(d.join("config.json"), "{not json").unwrap();
        let e = Bundle::load(&d).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)), "{e}");
        std::fs::write(d.join("config.json"), r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"}}"#).unwrap();
        assert!(matches!(Bundle::load(&d), Err(Error::Bundle { what: "rootfs", .. })));
        std::fs::create_dir(d.join("rootfs")).unwrap();
        let b = Bundle::load(&d).unwrap();
        assert_eq!(b.rootfs, d.join("rootfs"));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn wait_killable_recv_is_taken_from_the_raw_flags() {
        let d = tmp("wkr");
        std::fs::create_dir(d.join("rootfs")).unwrap();
        let cfg = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"linux":{"seccomp":{"defaultAction":
            "SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV","SECCOMP_FILTER_FLAG_LOG"]}}}"#;
        std::fs::write(d.join("config.json"), cfg).unwrap();
        let b = Bundle::load(&d).unwrap();
        assert!(b.seccomp_wait_killable);
        let flags = b.spec.linux().as_ref().unwrap().seccomp().as_ref().unwrap().flags().clone().unwrap();
        assert_eq!(flags.len(), 1);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn unknown_capabilities_are_taken_out_and_named_once() {
        let d = tmp("caps");
        std::fs::create_dir(d.join("rootfs")).unwrap();
        let cfg = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["x"],
            "user":{"uid":0,"gid":0},"capabilities":{"bounding":["CAP_CHOWN","CAP_TEST"],
            "effective":["CAP_TEST","CAP_AARDVARK","CAP_KILL"]}}}"#;
        std::fs::write(d.join("config.json"), cfg).unwrap();
        let b = Bundle::load(&d).unwrap();
        assert_eq!(b.unknown_caps, ["CAP_AARDVARK", "CAP_TEST"]);
        let caps = b.spec.process().as_ref().unwrap().capabilities().clone().unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 1);
        assert_eq!(caps.effective().as_ref().unwrap().len(), 1);
        std::fs::remove_dir_all(d).unwrap();
    }
}
