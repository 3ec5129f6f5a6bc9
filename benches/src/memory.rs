//! The smallest memory limit (cgroup v1 `memory.limit_in_bytes`) a runtime can start a container
//! in: its own footprint inside the container's cgroup before the user's program runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bundle::Bundle;
use crate::measure::path_str;
use crate::spawn;

/// Limits tried, smallest first, in KiB: 128 KiB to 64 MiB.
pub const LIMITS_KIB: [u64; 13] = [128, 256, 512, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 16384, 32768, 65536];

/// One runtime's binary, state root and the cgroup path prefix its containers get.
#[derive(Debug)]
pub struct Subject<'a> {
    pub runtime: &'a Path,
    pub root: &'a Path,
    /// Absolute cgroup path prefix; `<prefix>-<limit>` per attempt.
    pub cgroup_prefix: String,
    pub scratch: &'a Path,
    pub timeout: Duration,
}

/// Runs the bundle under each limit in turn and returns the first (bytes) that `run` succeeds
/// in, after checking that the runtime really set it on the container's cgroup.
pub fn smallest_limit(s: &Subject, bundle: &mut Bundle) -> Result<u64> {
    for kib in LIMITS_KIB {
        let limit = kib * 1024;
        bundle.memory_limit = Some(limit);
        let id = format!("mem-{kib}k");
        bundle.set_cgroups_path(&format!("{}-{kib}k", s.cgroup_prefix))?;
        let ran = runtime(s, &["run", "--bundle", path_str(&bundle.dir)?, &id]);
        // At the edge a runtime may start once and fail the next time: only a limit under which
        // the check's create also succeeds counts.
        if ran.is_ok() {
            bundle.memory_limit = None;
            if verify_applied(s, bundle, limit)? {
                return Ok(limit);
            }
        }
        // A failed start may leave its container behind; nothing of it may outlive the attempt.
        let _ = runtime(s, &["delete", "--force", &id]);
    }
    bail!("no `run` succeeded with a limit of up to {} MiB", LIMITS_KIB[LIMITS_KIB.len() - 1] / 1024)
}

/// A runtime that ignored the limit would look frugal: create a container under `limit` and read
/// `memory.limit_in_bytes` of its cgroup from the host side. False when that create does not
/// start at this limit (a borderline limit); an error when the limit is not applied.
fn verify_applied(s: &Subject, bundle: &mut Bundle, limit: u64) -> Result<bool> {
    let cgroup = format!("{}-check", s.cgroup_prefix);
    bundle.memory_limit = Some(limit);
    bundle.set_cgroups_path(&cgroup)?;
    bundle.memory_limit = None;
    let id = "mem-check";
    if runtime(s, &["create", "--bundle", path_str(&bundle.dir)?, id]).is_err() {
        let _ = runtime(s, &["delete", "--force", id]);
        return Ok(false);
    }
    let (hierarchy, limit_file) = memory_hierarchy()?;
    let file = hierarchy.join(cgroup.trim_start_matches('/')).join(limit_file);
    let read = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()));
    let _ = runtime(s, &["delete", "--force", id]);
    let set: u64 = read?.trim().parse().with_context(|| format!("{} is not a number", file.display()))?;
    if set != limit {
        bail!("the runtime does not apply memory limits: asked {limit}, {} says {set}", file.display());
    }
    Ok(true)
}

/// Where the memory controller's limit file of a cgroup lives: (hierarchy mount, file name).
fn memory_hierarchy() -> Result<(PathBuf, &'static str)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").context("reading /proc/self/mountinfo")?;
    for line in text.lines() {
        let (Some(point), Some(fs)) = (line.split_whitespace().nth(4), line.split(" - ").nth(1)) else { continue };
        if fs.starts_with("cgroup ") && fs.contains("memory") {
            return Ok((PathBuf::from(point), "memory.limit_in_bytes"));
        }
        let controllers = Path::new(point).join("cgroup.controllers");
        if fs.starts_with("cgroup2 ") && std::fs::read_to_string(controllers).is_ok_and(|c| c.contains("memory")) {
            return Ok((PathBuf::from(point), "memory.max"));
        }
    }
    bail!("not supported: memory limits need a cgroup memory controller")
}

fn runtime(s: &Subject, args: &[&str]) -> Result<()> {
    let mut cmd = Command::new(s.runtime);
    cmd.arg("--root").arg(s.root).args(args);
    spawn::run(&mut cmd, s.timeout, s.scratch)?.check(args[0])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_rise_strictly() {
        assert!(LIMITS_KIB.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn this_machine_has_a_memory_hierarchy_or_says_not_supported() {
        match memory_hierarchy() {
            Ok((point, file)) => assert!(point.join(file).exists() || file == "memory.max", "{}", point.display()),
            Err(e) => assert!(e.to_string().starts_with("not supported:"), "{e}"),
        }
    }
}
