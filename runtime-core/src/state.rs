//! Container state on disk: the OCI state document plus what hull needs to manage the container
//! later (init start time, cgroup paths), the per-container lock, and the status rules.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, Step, SysError};

pub use crate::status::Status;

/// The state of one container: the OCI state fields (as `runc state` prints them) and hull's own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// OCI runtime spec version of the bundle's config.
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Host pid of the container's init process (0 once stopped, as runc prints it).
    pub pid: i32,
    /// Current status.
    pub status: Status,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    /// Absolute path of the root filesystem on the host.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339 with nanoseconds.
    pub created: String,
    /// Owner (user name of the creating uid, runc prints "" for root).
    pub owner: String,
    /// The config's annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// hull's own bookkeeping, not part of the printed state and not part of the API.
    #[serde(rename = "hull", default)]
    pub(crate) internal: Internal,
}

/// What hull stores beside the OCI state to manage the container safely later.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Internal {
    /// Start time of the init process (field 22 of /proc/PID/stat), to detect pid reuse.
    pub(crate) init_start_time: u64,
    /// Cgroup directory per controller ("" for the unified hierarchy), absolute host paths.
    pub(crate) cgroup_paths: BTreeMap<String, PathBuf>,
    /// The top-most cgroup directory hull created per hierarchy (removed on delete).
    #[serde(default)]
    pub(crate) cgroup_created: BTreeMap<String, PathBuf>,
    /// The systemd unit that owns the cgroup (`--systemd-cgroup`); none with the files driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cgroup_unit: Option<String>,
    /// Whether the container has its own pid namespace (kill --all and delete depend on it).
    pub(crate) own_pid_ns: bool,
    /// CLONE_NEW* flags of every namespace the container has (created or joined), for exec.
    #[serde(default)]
    pub(crate) ns_flags: i32,
    /// The config's hooks (poststart runs at start, poststop at delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hooks: Option<serde_json::Value>,
    /// The config's seccomp profile, applied again to processes started by exec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seccomp: Option<serde_json::Value>,
    /// The profile asked for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: written by hull built with
    /// oci-spec 0.8, which could not carry the flag in `seccomp`; only read now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) seccomp_wait_killable: bool,
    /// linux.netDevices moved in: (host name, name inside), moved back by delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) net_devices: Vec<(String, String)>,
    /// linux.personality as the number personality(2) takes, applied again to exec'd processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) personality: Option<u64>,
}

/// Checks a container id the way runc does: 1 or more of `[A-Za-z0-9_+.-]`, not `.` or `..`.
///
/// ```
/// assert!(runtime_core::validate_id("web-1.2_a+b").is_ok());
/// assert!(runtime_core::validate_id("..").is_err());
/// assert!(runtime_core::validate_id("a/b").is_err());
/// ```
pub fn validate_id(id: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+.-".contains(c);
    if id.is_empty() || id == "." || id == ".." || !id.chars().all(ok_char) {
        return Err(Error::InvalidId { id: id.to_owned() });
    }
    Ok(())
}

/// The directory of the container states (`--root`), with one locked directory per container.
#[derive(Debug, Clone)]
pub(crate) struct StateStore {
    root: PathBuf,
}

pub(crate) const STATE_FILE: &str = "state.json";
pub(crate) const EXEC_FIFO: &str = "exec.fifo";

impl StateStore {
    pub(crate) fn new(root: PathBuf) -> Self {
        StateStore { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Creates the root (0700, and its missing parents) if needed and the container's directory;
    /// fails if that exists. A root that exists is used as it is, whatever its mode (runc).
    pub(crate) fn create_dir(&self, id: &str) -> Result<ContainerDir> {
        validate_id(id)?;
        // Through our umask, which may only take bits away from 0700.
        fs::DirBuilder::new()
            .recursive(true)
            .mode_private()
            .create(&self.root)
            .map_err(|e| Error::sys(Step::State, SysError::io("mkdir", Some(&self.root.to_string_lossy()), &e)))?;
        let dir = self.dir(id);
        match fs::DirBuilder::new().mode_0711().create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(Error::Exists { id: id.to_owned() }),
            Err(e) => return Err(Error::sys(Step::State, SysError::io("mkdir", Some(&dir.to_string_lossy()), &e))),
        }
        ContainerDir::lock(dir)
    }

    /// Opens and locks an existing container's directory.
    pub(crate) fn open_dir(&self, id: &str) -> Result<ContainerDir> {
        validate_id(id)?;
        let dir = self.dir(id);
        if !dir.join(STATE_FILE).exists() {
            return Err(Error::NotFound { id: id.to_owned() });
        }
        if !owned_by_caller(&dir) {
            return Err(Error::sys(
                Step::State,
                SysError::from_errno("open", Some(&dir.to_string_lossy()), libc::EACCES)
                    .with_detail("the container belongs to another user"),
            ));
        }
        ContainerDir::lock(dir)
    }

    /// Ids of all containers with a state file, sorted.
    pub(crate) fn ids(&self) -> Result<Vec<String>> {
        let rd = match fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::sys(Step::State, SysError::io("readdir", Some(&self.root.to_string_lossy()), &e)))
            }
        };
        let mut ids: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(STATE_FILE).exists() && owned_by_caller(&e.path()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| validate_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

/// Root may manage every container under a root; any other user only the ones it created (runc
/// relies on the root's mode for that; a shared `--root` must not let one user touch another's).
fn owned_by_caller(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let euid = nix::unistd::geteuid().as_raw();
    euid == 0 || fs::symlink_metadata(dir).is_ok_and(|m| m.uid() == euid)
}

trait DirBuilderExt2 {
    fn mode_0711(&mut self) -> &mut Self;
    fn mode_private(&mut self) -> &mut Self;
}
impl DirBuilderExt2 for fs::DirBuilder {
    fn mode_0711(&mut self) -> &mut Self {
        use std::os::unix::fs::DirBuilderExt;
        self.mode(0o711)
    }
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::DirBuilderExt;
        self.mode(0o700)
    }
}

/// A container's state directory, held under an exclusive flock for as long as this value lives.
#[derive(Debug)]
pub(crate) struct ContainerDir {
    path: PathBuf,
    _lock: nix::fcntl::Flock<fs::File>,
}

impl ContainerDir {
    fn lock(path: PathBuf) -> Result<Self> {
        let f = fs::File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound { id: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default() }
            } else {
                io_err("open", &path, &e)
            }
        })?;
        let lock = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| {
            Error::sys(Step::State, SysError::from_errno("flock", Some(&path.to_string_lossy()), e as i32))
        })?;
        Ok(ContainerDir { path, _lock: lock })
    }

    fn id(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    pub(crate) fn fifo_path(&self) -> PathBuf {
        self.path.join(EXEC_FIFO)
    }

    /// Reads the stored state (status as last written; callers refresh it).
    pub(crate) fn read(&self) -> Result<State> {
        let p = self.path.join(STATE_FILE);
        let data = fs::read(&p).map_err(|e| match e.kind() {
            // Deleted by a concurrent `delete` between our lookup and our lock.
            std::io::ErrorKind::NotFound => Error::NotFound { id: self.id() },
            _ => io_err("read", &p, &e),
        })?;
        serde_json::from_slice(&data)
            .map_err(|e| Error::sys(Step::State, SysError::check("parse", Some(&p.to_string_lossy()), e.to_string())))
    }

    /// Writes the state atomically and readable by its owner only (0600, as runc): it holds the
    /// annotations, the hooks with their environment, the seccomp profile.
    pub(crate) fn write(&self, state: &State) -> Result<()> {
        let dst = self.path.join(STATE_FILE);
        let data = serde_json::to_vec(state).map_err(|e| {
            Error::sys(Step::State, SysError::check("serialize", Some(&dst.to_string_lossy()), e.to_string()))
        })?;
        crate::hostfile::write_replace(&dst, &data, 0o600).map_err(|e| Error::sys(Step::State, e))
    }

    /// Removes the directory and everything in it.
    pub(crate) fn remove(self) -> Result<()> {
        fs::remove_dir_all(&self.path).map_err(|e| io_err("remove", &self.path, &e))
    }
}

fn io_err(op: &str, p: &Path, e: &std::io::Error) -> Error {
    Error::sys(Step::State, SysError::io(op, Some(&p.to_string_lossy()), e))
}

/// Writes a pid file (in a directory the caller chose and may not control) atomically, never
/// through a planted symlink or temporary: see [`crate::hostfile`].
pub(crate) fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    crate::hostfile::write_replace(path, pid.to_string().as_bytes(), 0o644).map_err(|e| Error::sys(Step::State, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_like_runc() {
        for ok in ["a", "abc-1", "A_b+c.d", "0"] {
            assert!(validate_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "../x", "é", "a\0"] {
            assert!(matches!(validate_id(bad), Err(Error::InvalidId { .. })), "{bad:?}");
        }
    }

    #[test]
    fn new_root_is_private_state_file_is_0600_and_a_wider_root_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let base = std::env::temp_dir().join(format!("hull-state-modes-{}", std::process::id()));
        let store = StateStore::new(base.join("a/root"));
        let d = store.create_dir("c1").unwrap();
        let st: State = serde_json::from_value(serde_json::json!({"ociVersion": "1", "id": "c1", "pid": 1,
            "status": "created", "bundle": "/b", "rootfs": "/r", "created": "", "owner": ""}))
        .unwrap();
        d.write(&st).unwrap();
        assert_eq!(mode(&base.join("a/root")), 0o700);
        assert_eq!(mode(&base.join("a")), 0o700, "missing parents too");
        assert_eq!(mode(&store.dir("c1").join(STATE_FILE)), 0o600);
        let wide = base.join("wide");
        fs::create_dir(&wide).unwrap();
        fs::set_permissions(&wide, fs::Permissions::from_mode(0o755)).unwrap();
        drop(StateStore::new(wide.clone()).create_dir("c2").unwrap());
        assert_eq!(mode(&wide), 0o755, "an existing root is used as it is");
        fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn create_twice_is_exists_and_state_round_trips() {
        let tmp = std::env::temp_dir().join(format!("hull-state-test-{}", std::process::id()));
        let store = StateStore::new(tmp.clone());
        let d = store.create_dir("c1").unwrap();
        assert!(matches!(store.create_dir("c1"), Err(Error::Exists { .. })));
        let st = State {
            oci_version: "1.2.0".into(),
            id: "c1".into(),
            pid: 42,
            status: Status::Created,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-01-01T00:00:00Z".into(),
            owner: String::new(),
            annotations: BTreeMap::new(),
            internal: Internal::default(),
        };
        d.write(&st).unwrap();
        let back = d.read().unwrap();
        assert_eq!(back.pid, 42);
        assert_eq!(back.status, Status::Created);
        assert_eq!(store.ids().unwrap(), vec!["c1".to_string()]);
        d.remove().unwrap();
        assert!(store.ids().unwrap().is_empty());
        fs::remove_dir_all(tmp).unwrap();
    }
}

/// The current time in RFC 3339 (UTC, nanoseconds), as runc writes `created`.
pub(crate) fn now_rfc3339() -> String {
    format_rfc3339(std::time::SystemTime::now())
}

/// `at` in RFC 3339, UTC, always nine fractional digits (a fixed width sorts as text).
pub(crate) fn format_rfc3339(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_nanos(at).to_string()
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn rfc3339() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |secs, nanos| super::format_rfc3339(UNIX_EPOCH + Duration::new(secs, nanos));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(1_795_632_276, 5), "2026-11-25T18:44:36.000000005Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000000000Z");
    }
}
