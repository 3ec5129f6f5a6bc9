//! Bundle loading: config.json and the rootfs path (the only place that reads the spec from disk).
use std::path::PathBuf;

/// An OCI bundle: its directory, parsed config.json, and the absolute rootfs path.
#[derive(Debug)]
pub struct Bundle {
    /// Absolute bundle directory.
    pub dir: PathBuf,
    /// The parsed config.
    pub spec: oci_spec::runtime::Spec,
    /// Absolute path of the root filesystem.
    pub rootfs: PathBuf,
}
