//! Black-box OCI conformance suite: drives any runc-compatible binary (`$RUNTIME`) against real bundles
//! and checks what a static probe observes inside the container.
//!
//! Entry points: [`Case`] (one test's container, with a cleanup guard), [`BundleBuilder`], [`requires!`].
//! No `unsafe`: fds received over a console socket are adopted by `runtime_core::console::receive`.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod case;
pub mod console;
pub mod leftovers;
pub mod runner;
pub mod runtime;
pub mod suite;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub use bundle::BundleBuilder;
pub use case::Case;
pub use console::ConsoleSocket;
pub use runtime::{Outcome, RuntimeUnderTest};

/// The workspace root (this crate's parent directory).
pub fn workspace_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The static probe: `$PROBE`, else built (or found fresh) once per process with `+crt-static`, in the same
/// target dir as `scripts/demo.sh` so both share one build cache.
pub fn probe_path() -> PathBuf {
    try_probe_path().unwrap_or_else(|e| panic!("static probe unavailable: {e}"))
}

/// [`probe_path`] without the panic, for the runner to report once instead of failing every test.
pub fn try_probe_path() -> Result<PathBuf, String> {
    static PROBE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PROBE.get_or_init(locate_or_build_probe).clone()
}

fn locate_or_build_probe() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("PROBE") {
        return Ok(PathBuf::from(p));
    }
    let target = "x86_64-unknown-linux-gnu";
    let target_dir = workspace_dir().join("target/probe");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // A separate target dir keeps this nested build off the lock of the outer `cargo test`.
    let out = Command::new(cargo)
        .args(["build", "-q", "-p", "conformance", "--bin", "probe", "--release", "--target", target])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS", "-C target-feature=+crt-static")
        .current_dir(workspace_dir())
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build of the probe failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(target_dir.join(target).join("release/probe"))
}

/// Why the current environment cannot run a test, or None when `what` is available.
/// Known requirements: `root`, `runtime` (the binary exists), `cgroup_v1`, `cgroup_v2`, `userns`, `timens`.
pub fn missing(what: &str) -> Option<String> {
    match what {
        // Rootless mode (see [`rootless`]) runs the tests its caller selected, with rootless bundles.
        "root" => (!nix::unistd::geteuid().is_root() && !rootless()).then(|| "needs root".to_owned()),
        "runtime" => {
            let bin = RuntimeUnderTest::binary_from_env();
            (!bin.is_file()).then(|| format!("runtime {} not found (set RUNTIME)", bin.display()))
        }
        "cgroup_v1" => (!std::path::Path::new("/sys/fs/cgroup/memory").is_dir()).then(|| "needs cgroup v1".to_owned()),
        "cgroups" => (!std::path::Path::new("/sys/fs/cgroup/memory").is_dir()
            && !std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists())
        .then(|| "needs cgroup v1 or v2".to_owned()),
        "cgroup_v2" => {
            (!std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()).then(|| "needs cgroup v2".to_owned())
        }
        "userns" => {
            let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
            let usable =
                std::path::Path::new("/proc/self/ns/user").exists() && max.trim().parse::<u64>().unwrap_or(0) > 0;
            (!usable).then(|| "needs user namespaces".to_owned())
        }
        "timens" => (!std::path::Path::new("/proc/self/ns/time").exists()).then(|| "needs time namespaces".to_owned()),
        other => Some(format!("unknown requirement {other}")),
    }
}

/// Rootless mode: `HULL_CONFORMANCE_ROOTLESS=1` and not root. Bundles then get a user namespace
/// mapping container root to the caller (and container ids 1.. to its first /etc/subuid and
/// /etc/subgid ranges, when it has them), no cgroupsPath nor device rules, and test directories
/// under `$XDG_RUNTIME_DIR` or the temp dir. Only tests that make sense without root should be
/// selected (tests/rootless/run.sh lists them). `HULL_CONFORMANCE_ROOTLESS_SINGLE=1` maps the
/// caller's own ids only.
pub fn rootless() -> bool {
    !nix::unistd::geteuid().is_root() && std::env::var_os("HULL_CONFORMANCE_ROOTLESS").is_some_and(|v| v == "1")
}

/// The caller's ids and its first delegated range from /etc/subuid and /etc/subgid (start, count).
#[derive(Debug, Clone, Copy)]
pub struct RootlessIds {
    pub uid: u32,
    pub gid: u32,
    pub subuid: Option<(u32, u32)>,
    pub subgid: Option<(u32, u32)>,
}

/// See [`RootlessIds`].
pub fn rootless_ids() -> RootlessIds {
    let uid = nix::unistd::getuid().as_raw();
    let name = nix::unistd::User::from_uid(uid.into()).ok().flatten().map(|u| u.name);
    let first = |file: &str| {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.trim().split(':').collect();
            let mine = f.len() == 3 && (Some(f[0]) == name.as_deref() || f[0] == uid.to_string());
            mine.then(|| Some((f[1].parse().ok()?, f[2].parse().ok()?))).flatten()
        })
    };
    if std::env::var_os("HULL_CONFORMANCE_ROOTLESS_SINGLE").is_some_and(|v| v == "1") {
        // One mapping of the caller's own ids: what works without newuidmap and /etc/subuid.
        return RootlessIds { uid, gid: nix::unistd::getgid().as_raw(), subuid: None, subgid: None };
    }
    RootlessIds { uid, gid: nix::unistd::getgid().as_raw(), subuid: first("/etc/subuid"), subgid: first("/etc/subgid") }
}

/// Reports a skip on stderr as `SKIP <test>: <reason>`; with `HULL_STRICT=1` (set by `.ci/run`) or
/// `CONFORMANCE_STRICT=1` a skip is a failure, so a CI run cannot pass by skipping everything.
pub fn skip(reason: &str) {
    let name = std::thread::current().name().unwrap_or("test").to_owned();
    eprintln!("SKIP {name}: {reason}");
    suite::record_skip(reason);
    if strict() {
        panic!("SKIP {name}: {reason} (strict: a skip is a failure)");
    }
}

/// Whether skips are failures: `HULL_STRICT=1` (set by `.ci/run`) or `CONFORMANCE_STRICT=1`.
pub fn strict() -> bool {
    ["HULL_STRICT", "CONFORMANCE_STRICT"].iter().any(|k| std::env::var_os(k).is_some_and(|v| v == "1"))
}

/// `requires!(root, runtime)`: returns from the test, printing `SKIP <test>: <reason>`, when any is missing.
#[macro_export]
macro_rules! requires {
    ($($what:ident),+ $(,)?) => {
        $(
            if let Some(reason) = $crate::missing(stringify!($what)) {
                $crate::skip(&reason);
                return;
            }
        )+
    };
}

/// `convention!(cond, "fmt", args...)`: asserts a part of an expectation that is runc's (and hull's) behaviour
/// where the spec leaves the choice open. The panic message carries [`suite::CONVENTION`], so the runner
/// reports it as an allowed difference for tests registered with `allowed = "..."`.
#[macro_export]
macro_rules! convention {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            panic!("{}{}", $crate::suite::CONVENTION, format!($($fmt)+));
        }
    };
}

/// `cargo_tests!(area; name, ...)` in `tests/<area>.rs`: one `#[test]` per registered body of
/// `suite::<area>`, plus a test that the list matches the registry, so no body is left out of `cargo test`.
/// A name may carry attributes, e.g. `#[ignore = "why"]` for a known failure of hull that the runner still runs.
#[macro_export]
macro_rules! cargo_tests {
    ($area:ident; $($(#[$attr:meta])* $name:ident),+ $(,)?) => {
        $(
            #[test]
            $(#[$attr])*
            fn $name() {
                $crate::suite::$area::$name()
            }
        )+

        #[test]
        fn every_registered_test_has_a_cargo_test() {
            let mut listed = vec![$(stringify!($name)),+];
            listed.sort_unstable();
            let mut registered: Vec<&str> = $crate::suite::$area::TESTS.iter().map(|t| t.name).collect();
            registered.sort_unstable();
            assert_eq!(listed, registered, "tests/{}.rs and suite::{} disagree", stringify!($area), stringify!($area));
        }
    };
}
