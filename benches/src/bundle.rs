//! The benchmark's OCI bundle: a busybox rootfs running `/bin/true`, configured like `runc spec`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Where the static busybox that becomes the whole rootfs comes from.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// Docker's default seccomp profile in OCI form (381 syscall names, 3 architectures), as the
/// runtime-core tests use it: what `docker run` hands every runtime unless told otherwise.
pub fn docker_default_seccomp() -> Value {
    serde_json::from_str(include_str!("../data/docker-default-seccomp.json")).expect("bundled profile is JSON")
}

/// A bundle directory on disk; its config is rewritten per container so each gets its own cgroup.
#[derive(Debug)]
pub struct Bundle {
    pub dir: PathBuf,
    /// `linux.seccomp` of every config written, if any.
    pub seccomp: Option<Value>,
    /// `process.args`; `/bin/true` unless a check needs the container to report something.
    pub args: Vec<String>,
    /// `linux.resources.memory.limit` in bytes, if any.
    pub memory_limit: Option<u64>,
    /// `linux.resources` of every config written (merged under `memory_limit`), if any.
    pub resources: Option<Value>,
}

impl Bundle {
    /// Lays out `dir/rootfs/bin/{busybox,true}` from `busybox`; the config comes with [`Bundle::set_cgroups_path`].
    pub fn create(dir: &Path, busybox: &Path, seccomp: Option<Value>) -> Result<Bundle> {
        let bin = dir.join("rootfs/bin");
        fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
        let target = bin.join("busybox");
        fs::copy(busybox, &target).with_context(|| format!("copying {} to {}", busybox.display(), target.display()))?;
        symlink("busybox", bin.join("true")).with_context(|| format!("symlinking {}/true", bin.display()))?;
        Ok(Bundle {
            dir: dir.to_path_buf(),
            seccomp,
            args: vec!["/bin/true".to_string()],
            memory_limit: None,
            resources: None,
        })
    }

    /// Rewrites config.json so the next container lands in `cgroups_path` (done outside any timing).
    pub fn set_cgroups_path(&self, cgroups_path: &str) -> Result<()> {
        let path = self.dir.join("config.json");
        let mut config = config(cgroups_path);
        config["process"]["args"] = json!(self.args);
        if let Some(resources) = &self.resources {
            config["linux"]["resources"] = resources.clone();
        }
        if let Some(limit) = self.memory_limit {
            config["linux"]["resources"]["memory"] = json!({ "limit": limit });
        }
        if let Some(seccomp) = &self.seccomp {
            config["linux"]["seccomp"] = seccomp.clone();
        }
        let text = serde_json::to_string_pretty(&config).context("serializing config.json")?;
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// The `linux.resources` the kubelet (through containerd's CRI) gives a Burstable pod's container on
/// cgroup v1: 100m CPU request (shares 102) and a 500m limit, a 128 MiB memory limit with swap
/// equal to it (swap off), and the default device allow-list after a deny-all.
pub fn kubernetes_resources() -> Value {
    let dev = |t: &str, major: i64, minor: i64| json!({"allow": true, "type": t, "major": major, "minor": minor, "access": "rwm"});
    json!({
        "devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "access": "m"},
            {"allow": true, "type": "b", "access": "m"},
            dev("c", 1, 3), dev("c", 1, 8), dev("c", 1, 7), dev("c", 5, 0), dev("c", 1, 5), dev("c", 1, 9),
            dev("c", 5, 1), dev("c", 5, 2), dev("c", 10, 200),
            // /dev/pts/*: no minor is the wildcard.
            {"allow": true, "type": "c", "major": 136, "access": "rwm"}
        ],
        "memory": {"limit": 134_217_728i64, "swap": 134_217_728i64},
        "cpu": {"shares": 102, "quota": 50_000, "period": 100_000}
    })
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
    fn create_lays_out_rootfs_and_configs_name_the_cgroup_and_profile() {
        let dir = temp_dir("bundle");
        let bundle = Bundle::create(&dir, Path::new(HOST_BUSYBOX), Some(docker_default_seccomp())).expect("bundle");
        let link = fs::read_link(dir.join("rootfs/bin/true")).expect("true is a symlink");
        assert_eq!(link, Path::new("busybox"));
        let size = fs::metadata(dir.join("rootfs/bin/busybox")).expect("busybox copied").len();
        assert_eq!(size, fs::metadata(HOST_BUSYBOX).expect("host busybox").len());
        bundle.set_cgroups_path("/c/d").expect("write");
        let written: Value = serde_json::from_slice(&fs::read(dir.join("config.json")).expect("read")).expect("json");
        assert_eq!(written["linux"]["cgroupsPath"], "/c/d");
        assert_eq!(written["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(written["linux"]["resources"]["memory"], Value::Null);
        let mut bundle = bundle;
        bundle.memory_limit = Some(1 << 20);
        bundle.set_cgroups_path("/c/d").expect("write");
        let written: Value = serde_json::from_slice(&fs::read(dir.join("config.json")).expect("read")).expect("json");
        assert_eq!(written["linux"]["resources"]["memory"]["limit"], 1 << 20);
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn docker_profile_is_the_full_one() {
        let profile = docker_default_seccomp();
        let names: usize =
            profile["syscalls"].as_array().expect("rules").iter().map(|r| r["names"].as_array().unwrap().len()).sum();
        assert_eq!(names, 381);
        assert_eq!(profile["architectures"].as_array().expect("arches").len(), 3);
    }
}
