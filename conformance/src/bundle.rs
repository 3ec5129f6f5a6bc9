//! OCI bundles for tests: a busybox + probe rootfs and a `runc spec`-like config.json that tests mutate.
//!
//! The config is a `serde_json::Value`, not a typed spec, so tests can also write configs that are malformed.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// Host busybox used for the rootfs; it must be statically linked (Debian's `busybox-static`).
pub const BUSYBOX: &str = "/bin/busybox";

/// The unprivileged user present in the test rootfs's /etc/passwd.
pub const TEST_UID: u32 = 1000;
pub const TEST_GID: u32 = 1000;

/// Environment variable every container process carries, so leftovers can be found by their environ.
pub const MARKER_ENV: &str = "HULL_CONFORMANCE_ID";

/// Default config similar to `runc spec`, but non-terminal, rootfs writable, and a cgroup of its own.
pub fn default_spec(id: &str, args: &[&str]) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
                format!("{MARKER_ENV}={id}"),
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps,
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            // Absolute, so the container never lands inside the caller's (foreign) cgroup; flat, so that
            // parallel tests never race on creating/removing a shared parent directory.
            "cgroupsPath": config_cgroups_path(id),
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// Turns a [`default_spec`] into its rootless form (see [`crate::rootless`]).
pub fn make_rootless(spec: &mut Value) {
    let ids = crate::rootless_ids();
    let maps = |own: u32, sub: Option<(u32, u32)>| {
        let mut v = vec![json!({"containerID": 0, "hostID": own, "size": 1})];
        if let Some((start, count)) = sub {
            v.push(json!({"containerID": 1, "hostID": start, "size": count.min(65_535)}));
        }
        Value::Array(v)
    };
    let linux = &mut spec["linux"];
    linux["namespaces"].as_array_mut().expect("namespaces").push(json!({"type": "user"}));
    linux["uidMappings"] = maps(ids.uid, ids.subuid);
    linux["gidMappings"] = maps(ids.gid, ids.subgid);
    let obj = linux.as_object_mut().expect("linux");
    if systemd_cgroup() {
        // The user's systemd instance makes the scope and delegates it: cgroupsPath and limits
        // stay. Device rules go, as `runc spec --rootless` leaves them out: an unprivileged
        // runtime cannot attach a device program.
        if let Some(r) = obj.get_mut("resources").and_then(Value::as_object_mut) {
            r.remove("devices");
        }
    } else {
        // No cgroup this user may write on a host without delegation: runc's rootless rules skip it.
        obj.remove("cgroupsPath");
        obj.remove("resources");
    }
    if ids.subgid.is_none() {
        // gid 5 (tty) is not mapped with the caller's gid alone (runc spec --rootless drops it too).
        for m in spec["mounts"].as_array_mut().expect("mounts") {
            if let Some(opts) = m.get_mut("options").and_then(Value::as_array_mut) {
                opts.retain(|o| o != "gid=5");
            }
        }
    }
}

/// The cgroup directory of container `id` below each hierarchy's root; cleanup removes exactly
/// this directory. With `CONFORMANCE_SYSTEMD_CGROUP=1` (the runtime runs with `--systemd-cgroup`)
/// it is the systemd scope that [`config_cgroups_path`] names; rootless (see [`crate::rootless`]),
/// that scope is in `user.slice` of the caller's own systemd instance, below its user@UID.service.
pub fn cgroup_path(id: &str) -> String {
    if systemd_cgroup() && crate::rootless() {
        let uid = nix::unistd::getuid().as_raw();
        return format!("/user.slice/user-{uid}.slice/user@{uid}.service/user.slice/hull-conformance-{id}.scope");
    }
    if systemd_cgroup() {
        return format!("/system.slice/hull-conformance-{id}.scope");
    }
    format!("/hull-conformance-{id}")
}

/// The `linux.cgroupsPath` given to container `id`: [`cgroup_path`] itself, or with systemd
/// cgroups runc's `slice:prefix:name` for the same directory.
pub fn config_cgroups_path(id: &str) -> String {
    if systemd_cgroup() {
        return format!("{}:hull-conformance:{id}", systemd_slice());
    }
    cgroup_path(id)
}

/// The slice of the containers' scopes with systemd cgroups: `user.slice` of the caller's own
/// manager when rootless (runc's default there), else `system.slice`.
pub fn systemd_slice() -> &'static str {
    if crate::rootless() {
        "user.slice"
    } else {
        "system.slice"
    }
}

/// Whether the runtime under test manages cgroups through systemd (set by the systemd VM lane,
/// whose RUNTIME wrapper passes `--systemd-cgroup`).
pub fn systemd_cgroup() -> bool {
    std::env::var_os("CONFORMANCE_SYSTEMD_CGROUP").is_some_and(|v| v == "1")
}

/// What config.json should contain.
#[derive(Debug, Clone)]
enum Config {
    Spec(Value),
    Raw(String),
    Absent,
}

/// Assembles a bundle directory: `rootfs/` (busybox applets, `/probe`, passwd/group) and `config.json`.
#[derive(Debug, Clone)]
pub struct BundleBuilder {
    dir: PathBuf,
    probe: PathBuf,
    config: Config,
    rootfs: bool,
}

impl BundleBuilder {
    /// A bundle at `dir` (created if missing) for container `id`, running `args` (default: `/probe report`).
    pub fn new(dir: impl Into<PathBuf>, probe: impl Into<PathBuf>, id: &str) -> Self {
        let mut spec = default_spec(id, &["/probe", "report"]);
        if crate::rootless() {
            make_rootless(&mut spec);
        }
        BundleBuilder { dir: dir.into(), probe: probe.into(), config: Config::Spec(spec), rootfs: true }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sets `process.args`.
    pub fn args(self, args: &[&str]) -> Self {
        self.with(|s| s["process"]["args"] = json!(args))
    }

    /// Mutates the config (only when it is still a JSON value).
    pub fn with(mut self, f: impl FnOnce(&mut Value)) -> Self {
        if let Config::Spec(ref mut spec) = self.config {
            f(spec);
        }
        self
    }

    /// Writes `text` verbatim as config.json (for malformed-input tests).
    pub fn raw_config(mut self, text: &str) -> Self {
        self.config = Config::Raw(text.to_owned());
        self
    }

    /// Leaves config.json out.
    pub fn no_config(mut self) -> Self {
        self.config = Config::Absent;
        self
    }

    /// Leaves rootfs/ out.
    pub fn no_rootfs(mut self) -> Self {
        self.rootfs = false;
        self
    }

    pub fn spec(&self) -> Option<&Value> {
        match &self.config {
            Config::Spec(v) => Some(v),
            _ => None,
        }
    }

    /// Writes everything to disk and returns the bundle directory.
    pub fn build(&self) -> io::Result<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        if self.rootfs {
            build_rootfs(&self.dir.join("rootfs"), &self.probe)?;
        }
        let config = self.dir.join("config.json");
        match &self.config {
            Config::Spec(v) => fs::write(&config, serde_json::to_vec_pretty(v)?)?,
            Config::Raw(text) => fs::write(&config, text)?,
            Config::Absent => {}
        }
        Ok(self.dir.clone())
    }
}

/// A minimal rootfs: busybox with an applet symlink for each command, the probe at /probe, /etc files.
pub fn build_rootfs(root: &Path, probe: &Path) -> io::Result<()> {
    for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/test"] {
        fs::create_dir_all(root.join(d))?;
    }
    fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    copy_executable(Path::new(BUSYBOX), &root.join("bin/busybox"))?;
    copy_executable(probe, &root.join("probe"))?;
    for applet in busybox_applets()? {
        if applet != "busybox" {
            symlink("busybox", root.join("bin").join(&applet))?;
        }
    }
    fs::write(
        root.join("etc/passwd"),
        format!("root:x:0:0:root:/root:/bin/sh\ntest:x:{TEST_UID}:{TEST_GID}:test:/home/test:/bin/sh\n"),
    )?;
    fs::write(root.join("etc/group"), format!("root:x:0:\ntty:x:5:\ntest:x:{TEST_GID}:\n"))?;
    fs::write(root.join("etc/hostname"), "conformance\n")?;
    Ok(())
}

fn copy_executable(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)
        .map_err(|e| io::Error::new(e.kind(), format!("copy {} -> {}: {e}", from.display(), to.display())))?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o755))
}

/// Applet names, one per line from `busybox --list`; computed once per process.
fn busybox_applets() -> io::Result<Vec<String>> {
    static APPLETS: std::sync::OnceLock<Result<Vec<String>, String>> = std::sync::OnceLock::new();
    let list = APPLETS.get_or_init(|| {
        let out = Command::new(BUSYBOX).arg("--list").output().map_err(|e| format!("{BUSYBOX} --list: {e}"))?;
        if !out.status.success() {
            return Err(format!("{BUSYBOX} --list: {}", out.status));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().filter(|n| !n.is_empty() && !n.contains('/')).map(str::to_owned).collect())
    });
    list.clone().map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_spec_is_detached_with_own_cgroup_and_marker() {
        let s = default_spec("x1", &["/probe", "report"]);
        assert_eq!(s["process"]["terminal"], false);
        assert_eq!(s["linux"]["cgroupsPath"], "/hull-conformance-x1");
        assert!(s["process"]["env"].as_array().unwrap().iter().any(|e| e == "HULL_CONFORMANCE_ID=x1"));
        let ns: Vec<&str> =
            s["linux"]["namespaces"].as_array().unwrap().iter().filter_map(|n| n["type"].as_str()).collect();
        assert_eq!(ns, ["pid", "network", "ipc", "uts", "mount"]);
    }

    #[test]
    fn builder_mutations_and_raw_config() {
        let b = BundleBuilder::new("/nonexistent", "/probe", "x2")
            .args(&["/bin/true"])
            .with(|s| s["hostname"] = json!("h"));
        let spec = b.spec().unwrap();
        assert_eq!(spec["process"]["args"], json!(["/bin/true"]));
        assert_eq!(spec["hostname"], "h");
        let raw = b.raw_config("{").with(|s| s["hostname"] = json!("ignored"));
        assert!(raw.spec().is_none(), "a raw config is written verbatim");
    }
}
