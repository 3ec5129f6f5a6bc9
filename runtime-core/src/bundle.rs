//! Bundle loading: config.json and the rootfs path (the only place that reads the spec from disk).

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Capability, Spec};

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
    /// Names in process.capabilities that are no capability oci-spec knows (runtime-spec: "MUST be
    /// logged as a warning", "SHOULD NOT fail"): taken out of the raw JSON, sorted, once each.
    /// The one side channel left: oci-spec's `Capability` is a closed enum (0.10 too), so such a
    /// name cannot be in a typed `Spec` at all, and config.json is the only way one arrives.
    pub(crate) unknown_caps: Vec<String>,
}

impl Bundle {
    /// Reads `dir/config.json` and checks that the rootfs exists.
    ///
    /// ```no_run
    /// let b = runtime_core::Bundle::load(std::path::Path::new("/srv/bundle"))?;
    /// println!("rootfs {}", b.rootfs.display());
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
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
        let mut raw = raw;
        let unknown_caps = take_unknown_caps(&mut raw);
        let spec: Spec =
            serde_json::from_value(raw).map_err(|e| Error::InvalidConfig(format!("{}: {e}", cfg.display())))?;
        let mut b = Self::from_spec(dir, spec)?;
        b.unknown_caps = unknown_caps;
        Ok(b)
    }

    /// A bundle from an in-memory spec; a relative `root.path` is taken relative to `dir`.
    ///
    /// ```no_run
    /// let spec = runtime_core::spec::example(false); // root.path "rootfs"
    /// let b = runtime_core::Bundle::from_spec("/srv/bundle".into(), spec)?;
    /// assert_eq!(b.rootfs, std::path::Path::new("/srv/bundle/rootfs"));
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
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
        Ok(Bundle { dir, spec, rootfs, unknown_caps: Vec::new() })
    }
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
    fn runtime_spec_1_2_fields_arrive_typed() {
        let d = tmp("typed");
        std::fs::create_dir(d.join("rootfs")).unwrap();
        let cfg = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"linux":{"seccomp":{"defaultAction":
            "SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV","SECCOMP_FILTER_FLAG_LOG"]}},
            "mounts":[{"destination":"/m","type":"bind","source":"/tmp","options":["rbind"],
            "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
            "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}]}"#;
        std::fs::write(d.join("config.json"), cfg).unwrap();
        let b = Bundle::load(&d).unwrap();
        let flags = b.spec.linux().as_ref().unwrap().seccomp().as_ref().unwrap().flags().clone().unwrap();
        assert_eq!(flags.len(), 2);
        let m = &b.spec.mounts().as_ref().unwrap()[0];
        assert_eq!(m.uid_mappings().as_ref().unwrap()[0].host_id(), 1000);
        assert_eq!(m.gid_mappings().as_ref().unwrap().len(), 1);
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
