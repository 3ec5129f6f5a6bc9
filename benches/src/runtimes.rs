//! Which runtime binaries are compared, where they live, and why one is left out.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::spawn;

/// A runc-compatible binary under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Runtime {
    pub name: String,
    pub path: PathBuf,
    /// First line of `--version`, or why there is none.
    pub version: String,
}

/// A runtime that is not in the tables, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// hull as built by `cargo build --release -p runtime-cli` in this workspace.
pub fn default_hull() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/x86_64-unknown-linux-musl/release/hull")
}

/// Where each requested runtime lives: `hull`, `runc`, `crun` have known homes; `NAME=PATH` names any other.
pub fn locate(spec: &str, hull: &Path) -> Result<(String, PathBuf)> {
    let (name, path) = match spec.split_once('=') {
        Some((name, path)) => (name, PathBuf::from(path)),
        None => match spec {
            "hull" => (spec, hull.to_path_buf()),
            "runc" => (spec, PathBuf::from("/usr/sbin/runc")),
            "crun" => (spec, PathBuf::from("/usr/bin/crun")),
            other => bail!("unknown runtime {other:?}: use hull, runc, crun or NAME=PATH"),
        },
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("runtime name {name:?} must be letters, digits, '-' or '_'");
    }
    Ok((name.to_string(), path))
}

/// Checks that `path` is an executable file and reads its version; the error is the skip reason.
pub fn probe(name: &str, path: &Path, scratch: &Path) -> Result<Runtime, String> {
    let hint =
        if name == "hull" { " (build it: cargo build --release -p runtime-cli, or pass --hull PATH)" } else { "" };
    let meta = std::fs::metadata(path).map_err(|e| format!("{} not usable: {e}{hint}", path.display()))?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(format!("{} is not an executable file{hint}", path.display()));
    }
    let version = match spawn::run(Command::new(path).arg("--version"), Duration::from_secs(10), scratch) {
        Ok(out) if out.status.success() => out.stdout.lines().next().unwrap_or("").trim().to_string(),
        Ok(out) => format!("unknown (--version: {}: {})", out.status, out.stderr),
        Err(e) => format!("unknown (--version: {e:#})"),
    };
    Ok(Runtime { name: name.to_string(), path: path.to_path_buf(), version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_knows_the_three_and_accepts_name_equals_path() {
        let hull = Path::new("/x/hull");
        assert_eq!(locate("hull", hull).expect("known"), ("hull".into(), hull.to_path_buf()));
        assert_eq!(locate("crun", hull).expect("known").1, Path::new("/usr/bin/crun"));
        assert_eq!(locate("youki=/opt/youki", hull).expect("named").1, Path::new("/opt/youki"));
        assert!(locate("kata", hull).is_err());
        assert!(locate("a b=/bin/true", hull).is_err());
    }

    #[test]
    fn probe_explains_a_missing_hull() {
        let scratch = std::env::temp_dir();
        let reason = probe("hull", Path::new("/nonexistent/hull"), &scratch).expect_err("missing");
        assert!(reason.contains("/nonexistent/hull") && reason.contains("cargo build --release"), "{reason}");
    }

    #[test]
    fn probe_rejects_a_non_executable_file() {
        let file = std::env::temp_dir().join(format!("hull-bench-noexec-{}", std::process::id()));
        std::fs::write(&file, "#!/bin/sh\n").expect("fixture");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let reason = probe("x", &file, &std::env::temp_dir()).expect_err("not executable");
        assert!(reason.contains("not an executable"), "{reason}");
        std::fs::remove_file(file).expect("cleanup");
    }
}
