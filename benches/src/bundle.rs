//! The benchmark's OCI bundle: a busybox rootfs running `/bin/true`, configured like `runc spec`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Where the static busybox that becomes the whole rootfs comes from.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// A bundle directory on disk; its config is rewritten per container so each gets its own cgroup.
#[derive(Debug)]
pub struct Bundle {
    pub dir: PathBuf,
}

impl Bundle {
    /// Lays out `dir/rootfs/bin/{busybox,true}` from `busybox` and writes a config with `cgroups_path`.
    pub fn create(dir: &Path, busybox: &Path, cgroups_path: &str) -> Result<Bundle> {
        let bin = dir.join("rootfs/bin");
        fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
        let target = bin.join("busybox");
        fs::copy(busybox, &target).with_context(|| format!("copying {} to {}", busybox.display(), target.display()))?;
        symlink("busybox", bin.join("true")).with_context(|| format!("symlinking {}/true", bin.display()))?;
        let bundle = Bundle { dir: dir.to_path_buf() };
        bundle.set_cgroups_path(cgroups_path)?;
        Ok(bundle)
    }

    /// Rewrites config.json so the next container lands in `cgroups_path` (done outside any timing).
    pub fn set_cgroups_path(&self, cgroups_path: &str) -> Result<()> {
        let path = self.dir.join("config.json");
        let text = serde_json::to_string_pretty(&config(cgroups_path)).context("serializing config.json")?;
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// The config `runc spec` generates (runc 1.1.5), with `terminal: false` and `/bin/true` as args.
pub fn config(cgroups_path: &str) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/true"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runc",
        "mounts": mounts(),
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            "cgroupsPath": cgroups_path
        }
    })
}

fn mounts() -> Value {
    json!([
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hull-bench-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn config_runs_true_without_terminal_in_given_cgroup() {
        let c = config("/hull-bench-1/runc/c0");
        assert_eq!(c["process"]["terminal"], false);
        assert_eq!(c["process"]["args"], json!(["/bin/true"]));
        assert_eq!(c["linux"]["cgroupsPath"], "/hull-bench-1/runc/c0");
        assert_eq!(c["root"]["path"], "rootfs");
    }

    #[test]
    fn create_lays_out_rootfs_and_rewrites_cgroup_path() {
        let dir = temp_dir("bundle");
        let bundle = Bundle::create(&dir, Path::new(HOST_BUSYBOX), "/a/b").expect("bundle");
        let link = fs::read_link(dir.join("rootfs/bin/true")).expect("true is a symlink");
        assert_eq!(link, Path::new("busybox"));
        let size = fs::metadata(dir.join("rootfs/bin/busybox")).expect("busybox copied").len();
        assert_eq!(size, fs::metadata(HOST_BUSYBOX).expect("host busybox").len());
        bundle.set_cgroups_path("/c/d").expect("rewrite");
        let written: Value = serde_json::from_slice(&fs::read(dir.join("config.json")).expect("read")).expect("json");
        assert_eq!(written["linux"]["cgroupsPath"], "/c/d");
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
