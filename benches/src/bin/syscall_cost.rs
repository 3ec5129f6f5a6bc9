//! `syscall_cost`: the per-syscall price of each runtime's seccomp filter. A static loop of
//! `getppid` runs inside a container without a profile, under an allow-everything filter (the
//! kernel's fixed cost of any filter) and under Docker's default profile, for hull, runc and crun
//! in the same invocation; profile minus allow-all is what the filter program itself costs.
//!
//! Roles: the outer process re-executes itself under `unshare --mount` (so the hybrid cgroup2
//! mount can be hidden from crun without touching the host), the inner one measures, and the same
//! binary, copied into the rootfs, is the loop (`--loop N`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use benches::bundle::{docker_default_seccomp, Bundle, HOST_BUSYBOX};
use benches::runtimes;

const CALLS: u64 = 2_000_000;
const REPEATS: usize = 7;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match argv.first().map(String::as_str) {
        Some("--loop") => {
            spin(argv.get(1).and_then(|n| n.parse().ok()).unwrap_or(CALLS));
            Ok(())
        }
        Some("--inner") => inner(),
        Some("-h" | "--help") => {
            println!("usage: syscall_cost  (as root; measures hull, runc and crun; set HULL=PATH for hull)");
            Ok(())
        }
        _ => outer(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syscall_cost: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The in-container loop: prints nanoseconds per getppid.
fn spin(n: u64) {
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..n {
        acc = acc.wrapping_add(u64::from(std::os::unix::process::parent_id()));
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{ns:.2} {}", acc % 2);
}

fn outer() -> Result<()> {
    let me = std::env::current_exe().context("current_exe")?;
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private"])
        .arg(&me)
        .arg("--inner")
        .status()
        .context("running unshare")?;
    if !status.success() {
        bail!("inner run failed: {status}");
    }
    Ok(())
}

struct Lane {
    name: &'static str,
    path: PathBuf,
}

fn inner() -> Result<()> {
    // crun 1.8.1 refuses the hybrid layout while cgroup2 is visible: hide it in this namespace only.
    let _ = Command::new("umount").arg("/sys/fs/cgroup/unified").status();
    let scratch = PathBuf::from(format!("/tmp/hull-syscall-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = measure_all(&scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    remove_cgroups(&format!("hull-syscall-{}", std::process::id()));
    result
}

fn measure_all(scratch: &Path) -> Result<()> {
    let hull = std::env::var_os("HULL").map(PathBuf::from).unwrap_or_else(runtimes::default_hull);
    let lanes = [
        Lane { name: "hull", path: hull },
        Lane { name: "runc", path: "/usr/sbin/runc".into() },
        Lane { name: "crun", path: "/usr/bin/crun".into() },
    ];
    let me = std::env::current_exe()?;
    let mut plain = Bundle::create(&scratch.join("plain"), Path::new(HOST_BUSYBOX), None)?;
    // An allow-everything filter: the kernel's fixed price of having a filter at all.
    let allow = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW"});
    let mut trivial = Bundle::create(&scratch.join("allow"), Path::new(HOST_BUSYBOX), Some(allow))?;
    let mut filtered =
        Bundle::create(&scratch.join("seccomp"), Path::new(HOST_BUSYBOX), Some(docker_default_seccomp()))?;
    for b in [&mut plain, &mut trivial, &mut filtered] {
        std::fs::copy(&me, b.dir.join("rootfs/loop")).context("copying the loop binary")?;
        b.args = vec!["/loop".into(), "--loop".into(), CALLS.to_string()];
    }
    println!("getppid x {CALLS} in a container, best of {REPEATS}, ns per call");
    println!("{:<6} {:>10} {:>10} {:>16} {:>16}", "", "no filter", "allow-all", "Docker profile", "profile - allow");
    for lane in &lanes {
        if !lane.path.is_file() {
            println!("{:<6} not measured: {} missing", lane.name, lane.path.display());
            continue;
        }
        let root = scratch.join(format!("root-{}", lane.name));
        let run = |b: &Bundle| best_of(lane, b, &root);
        match (run(&plain), run(&trivial), run(&filtered)) {
            (Ok(a), Ok(t), Ok(b)) => println!("{:<6} {a:>10.2} {t:>10.2} {b:>16.2} {:>16.2}", lane.name, b - t),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => println!("{:<6} not measured: {e:#}", lane.name),
        }
    }
    Ok(())
}

fn best_of(lane: &Lane, bundle: &Bundle, root: &Path) -> Result<f64> {
    let mut best = f64::INFINITY;
    for i in 0..REPEATS {
        let id = format!("{}-{i}", lane.name);
        bundle.set_cgroups_path(&format!("/hull-syscall-{}/{id}", std::process::id()))?;
        let out = Command::new(&lane.path)
            .arg("--root")
            .arg(root)
            .args(["run", "--bundle"])
            .arg(&bundle.dir)
            .arg(&id)
            .output()
            .with_context(|| format!("running {}", lane.path.display()))?;
        if !out.status.success() {
            bail!("{} run failed: {}", lane.name, String::from_utf8_lossy(&out.stderr).trim());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let ns: f64 = text.split_whitespace().next().and_then(|s| s.parse().ok()).context("no timing printed")?;
        best = best.min(ns);
    }
    Ok(best)
}

/// Removes the bench's cgroup directories (deepest first) in every v1 hierarchy.
fn remove_cgroups(name: &str) {
    let Ok(hier) = std::fs::read_dir("/sys/fs/cgroup") else { return };
    for h in hier.flatten() {
        let top = h.path().join(name);
        if let Ok(children) = std::fs::read_dir(&top) {
            for c in children.flatten().filter(|c| c.path().is_dir()) {
                let _ = std::fs::remove_dir(c.path());
            }
        }
        let _ = std::fs::remove_dir(&top);
    }
}
