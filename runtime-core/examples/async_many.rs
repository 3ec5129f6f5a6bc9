//! The same from a multi-threaded async program: `async_many <bundle-dir> [count]`.
//!
//! A tokio runtime with 8 worker threads (and at most 8 blocking threads) runs `count` (50)
//! containers concurrently from an in-memory spec: each prints a line and exits with its own
//! status, which is awaited through the init's pidfd with `AsyncFd` (no thread blocks in
//! `waitpid`). Every output and status is checked, then that nothing leaked: no child process,
//! no mount, no cgroup, no state directory, no fd (compared with a snapshot taken after one
//! warm-up container). Exits 0 only if all of that holds.
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use runtime_core::{CreateOptions, Runtime, Stdio};
use tokio::io::unix::AsyncFd;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    // The launch helper is this program: served first. Sealed before the runtime's threads
    // exist: it replaces the process image.
    runtime_core::run_helper_if_requested();
    runtime_core::seal::ensure_sealed().map_err(|e| e.to_string())?;
    let mut args = std::env::args().skip(1);
    let bundle: PathBuf = args.next().ok_or("usage: async_many <bundle-dir> [count]")?.into();
    let count: usize = args.next().map_or(Ok(50), |n| n.parse())?;
    let tokio =
        tokio::runtime::Builder::new_multi_thread().worker_threads(8).max_blocking_threads(8).enable_io().build()?;
    let rt = Runtime::new(format!("/run/hull-example-many-{}", std::process::id()));
    // One container first: the library caches a procfs handle on first use, which is not a
    // per-container leak; the snapshot is taken after it.
    tokio.block_on(one_container(rt.clone(), bundle.clone(), count))?;
    let before = Snapshot::take()?;
    let results = tokio.block_on(async {
        let tasks: Vec<_> = (0..count).map(|i| tokio::spawn(one_container(rt.clone(), bundle.clone(), i))).collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.map_err(BoxError::from).and_then(|r| r));
        }
        results
    });
    let failed: Vec<_> = results.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e))).collect();
    for (i, e) in &failed {
        eprintln!("container {i}: {e}");
    }
    let after = Snapshot::take()?;
    let leaks = before.leaks(&after, &rt);
    for l in &leaks {
        eprintln!("leak: {l}");
    }
    let _ = std::fs::remove_dir(rt.root());
    if !failed.is_empty() || !leaks.is_empty() {
        return Err(format!("{} of {count} containers failed, {} leaks", failed.len(), leaks.len()).into());
    }
    println!("{count} containers ok, nothing leaked");
    Ok(())
}

/// One container: create and start (blocking calls, off the async workers), await its exit on
/// the pidfd, check what it printed and its status, delete it.
async fn one_container(rt: Runtime, bundle: PathBuf, i: usize) -> Result<(), BoxError> {
    let id = format!("many-{}-{i}", std::process::id());
    let code = (i % 7) as i32;
    let (mut output, stdout) = std::os::unix::net::UnixStream::pair()?;
    let opts = CreateOptions::new(bundle)
        .spec(spec(&id, &format!("echo hello from {i}; exit {code}"))?)
        .stdio(Stdio::inherit().stdout(stdout));
    let (rt2, id2) = (rt.clone(), id.clone());
    let c = tokio::task::spawn_blocking(move || {
        let mut c = rt2.create(&id2, opts)?;
        if let Err(e) = c.start() {
            let _ = rt2.load(&id2).and_then(|c| c.delete(true));
            return Err(e);
        }
        Ok(c)
    })
    .await??;
    let checked = async {
        // `new` is deprecated in favour of `register`, which puts the I/O-safety promise on the
        // caller, because a wrapped type could swap its fd while registered (tokio#8587); an
        // OwnedFd owned by the AsyncFd cannot, and raw-fd code stays in runtime-core's `sys`.
        #[allow(deprecated)]
        let exited = AsyncFd::new(c.pidfd()?)?;
        let _ = exited.readable().await?;
        let status = c.try_wait()?.ok_or("the pidfd fired but the init has not exited")?;
        let mut text = String::new();
        output.read_to_string(&mut text)?;
        if status != code || text != format!("hello from {i}\n") {
            return Err(format!("status {status} output {text:?}").into());
        }
        Ok::<_, BoxError>(())
    }
    .await;
    tokio::task::spawn_blocking(move || rt.load(&id)?.delete(true)).await??;
    checked
}

fn spec(id: &str, script: &str) -> Result<oci_spec::runtime::Spec, BoxError> {
    let mut spec = serde_json::to_value(runtime_core::spec::example(false))?;
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["sh", "-c", script]);
    spec["linux"]["cgroupsPath"] = format!("/hull-example-{id}").into();
    Ok(serde_json::from_value(spec)?)
}

/// What this process holds that a container could leave behind.
struct Snapshot {
    children: BTreeSet<i32>,
    mounts: BTreeSet<String>,
    fds: BTreeSet<String>,
}

impl Snapshot {
    fn take() -> Result<Snapshot, BoxError> {
        let me = std::process::id().to_string();
        let mut children = BTreeSet::new();
        for e in std::fs::read_dir("/proc")? {
            let name = e?.file_name().to_string_lossy().into_owned();
            let Ok(pid) = name.parse::<i32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Field 4, after the parenthesised command name.
            let ppid = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1));
            if ppid == Some(me.as_str()) {
                children.insert(pid);
            }
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")?
            .lines()
            .map(|l| l.split(' ').skip(3).take(2).collect::<Vec<_>>().join(" "))
            .collect();
        let fds = std::fs::read_dir("/proc/self/fd")?
            .filter_map(|e| e.ok())
            .map(|e| format!("{} -> {:?}", e.file_name().to_string_lossy(), std::fs::read_link(e.path()).ok()))
            .collect();
        Ok(Snapshot { children, mounts, fds })
    }

    fn leaks(&self, after: &Snapshot, rt: &Runtime) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(after.children.difference(&self.children).map(|p| format!("child process {p}")));
        out.extend(after.mounts.difference(&self.mounts).map(|m| format!("mount {m}")));
        // The fd that read /proc/self/fd differs between the two listings; compare the rest.
        let real = |s: &BTreeSet<String>| s.iter().filter(|f| !f.contains("/proc/")).cloned().collect::<BTreeSet<_>>();
        out.extend(real(&after.fds).difference(&real(&self.fds)).map(|f| format!("fd {f}")));
        match rt.list() {
            Ok(states) => out.extend(states.iter().map(|s| format!("state of {}", s.id))),
            Err(e) => out.push(format!("listing states: {e}")),
        }
        let prefix = format!("hull-example-many-{}-", std::process::id());
        for controller in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            for cg in std::fs::read_dir(controller.path()).into_iter().flatten().flatten() {
                if cg.file_name().to_string_lossy().starts_with(&prefix) {
                    out.push(format!("cgroup {}", Path::new(&cg.path()).display()));
                }
            }
        }
        out
    }
}
