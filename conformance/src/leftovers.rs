//! Finding and removing what a container may leave behind: processes, mounts, state dirs, cgroup dirs.
//!
//! Only things tied to one test's container id or directory are touched, never a cgroup we did not create.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::mount::{umount2, MntFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::bundle::{cgroup_path, MARKER_ENV};

/// What identifies one test's container on the host.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub id: String,
    /// The test's directory (bundle, state root and outputs live under it).
    pub dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Footprint {
    /// Everything still present, as human-readable lines; empty when clean.
    pub fn leftovers(&self) -> Vec<String> {
        let mut found: Vec<String> =
            self.processes().iter().map(|(pid, why)| format!("process {pid} ({why})")).collect();
        found.extend(self.mounts().into_iter().map(|m| format!("mount {m}")));
        if self.state_dir.exists() {
            found.push(format!("state dir {}", self.state_dir.display()));
        }
        found.extend(self.cgroup_dirs().into_iter().map(|d| format!("cgroup dir {}", d.display())));
        found
    }

    /// Like `leftovers`, but gives asynchronous teardown (a dying init, a cgroup being emptied) a moment.
    pub fn leftovers_settled(&self, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        loop {
            let found = self.leftovers();
            if found.is_empty() || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Processes carrying our marker env, with our dir on their command line, or with a cwd inside our dir.
    pub fn processes(&self) -> Vec<(i32, String)> {
        let me = std::process::id() as i32;
        let marker = format!("{MARKER_ENV}={}", self.id);
        let dir = self.dir.to_string_lossy().into_owned();
        let Ok(rd) = fs::read_dir("/proc") else { return Vec::new() };
        rd.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid != me)
            .filter_map(|pid| {
                let base = PathBuf::from(format!("/proc/{pid}"));
                let environ = fs::read(base.join("environ")).unwrap_or_default();
                if environ.split(|&b| b == 0).any(|kv| kv == marker.as_bytes()) {
                    return Some((pid, "container env marker".to_owned()));
                }
                let cmdline =
                    String::from_utf8_lossy(&fs::read(base.join("cmdline")).unwrap_or_default()).replace('\0', " ");
                if cmdline.contains(&dir) {
                    return Some((pid, format!("cmdline: {}", cmdline.trim())));
                }
                let cwd = fs::read_link(base.join("cwd")).ok()?;
                cwd.starts_with(&self.dir).then(|| (pid, format!("cwd {}", cwd.display())))
            })
            .collect()
    }

    /// Mountinfo lines in our mount namespace that mention the bundle or the state root. (Other paths under
    /// the test dir may hold mounts the test made itself, e.g. bind sources.)
    pub fn mounts(&self) -> Vec<String> {
        let watched = [self.dir.join("bundle"), self.dir.join("root")].map(|p| p.to_string_lossy().into_owned());
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        info.lines().filter(|l| watched.iter().any(|w| l.contains(w.as_str()))).map(str::to_owned).collect()
    }

    /// `/sys/fs/cgroup/<hierarchy>/hull-conformance-<id>` for every hierarchy where it exists.
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let rel = cgroup_path(&self.id);
        let rel = rel.trim_start_matches('/');
        let Ok(rd) = fs::read_dir("/sys/fs/cgroup") else { return Vec::new() };
        // v1: one directory per hierarchy; v2 (and hybrid's unified mount): the path itself.
        let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path().join(rel)).filter(|p| p.is_dir()).collect();
        let unified = PathBuf::from("/sys/fs/cgroup").join(rel);
        if unified.is_dir() && !dirs.contains(&unified) {
            dirs.push(unified);
        }
        dirs
    }

    /// Best-effort removal of everything `leftovers` can report. Safe to call repeatedly.
    pub fn clean(&self) {
        // Up to 5 s: a dying pid-namespace init first waits for every other process of its namespace.
        for _ in 0..250 {
            let procs = self.processes();
            let cgroup_pids = self.cgroup_dirs().iter().flat_map(|d| cgroup_pids(d)).collect::<Vec<_>>();
            if procs.is_empty() && cgroup_pids.is_empty() {
                break;
            }
            for pid in procs.iter().map(|(p, _)| *p).chain(cgroup_pids) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for d in self.cgroup_dirs() {
            remove_cgroup_tree(&d);
        }
        // Unmount before deleting: removing a tree that still has a bind mount in it would delete the
        // mount source's files on the host.
        for _ in 0..10 {
            let points = self.mount_points();
            if points.is_empty() {
                break;
            }
            for p in points.iter().rev() {
                let _ = umount2(p.as_path(), MntFlags::MNT_DETACH);
            }
        }
        // Retry: a runtime helper that outlived its parent may still be creating mount points in the rootfs.
        for _ in 0..20 {
            if !self.mount_points().is_empty() || !self.dir.exists() {
                break;
            }
            let _ = fs::remove_dir_all(&self.dir);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn mount_points(&self) -> Vec<PathBuf> {
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        info.lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|p| PathBuf::from(p.replace("\\040", " ")))
            .filter(|p| p.starts_with(&self.dir))
            .collect()
    }
}

fn cgroup_pids(dir: &Path) -> Vec<i32> {
    let mut pids = Vec::new();
    for file in ["cgroup.procs", "tasks"] {
        let text = fs::read_to_string(dir.join(file)).unwrap_or_default();
        pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten().filter(|e| e.path().is_dir()) {
            pids.extend(cgroup_pids(&e.path()));
        }
    }
    pids
}

/// Children first, since rmdir of a cgroup only succeeds once it has no child cgroups and no tasks.
fn remove_cgroup_tree(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten().filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false)) {
            remove_cgroup_tree(&e.path());
        }
    }
    for _ in 0..50 {
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
