//! The crate's examples, run as a user would run them (as root, against a busybox rootfs), so
//! that `cargo test` proves they work: `run` captures a container's output and status, `exec`
//! drives a long-lived container, `async_many` runs 50 containers from 8 tokio threads and checks
//! that nothing leaks. Skips, with the reason, without root or /bin/busybox.
//!
//! `cargo test` builds the examples before running tests; they are built again here (a no-op
//! then) with the same cargo, so that `cargo test --test examples` alone never runs stale ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod requirements;

/// A bundle directory whose rootfs holds busybox and the applets the examples call.
fn bundle(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hull-examples-{name}-{}", std::process::id()));
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    for applet in ["sh", "id", "sleep", "cat", "dd"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    dir
}

/// The example's binary, next to this test's `deps` directory. Built once per run with the
/// cargo that built this test (a no-op when `cargo test` just built them), so a stale binary is
/// never what gets tested.
fn example(name: &str) -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let cargo = option_env!("CARGO").unwrap_or("cargo");
        let st = Command::new(cargo)
            .args(["build", "-p", "runtime-core", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(st.success(), "building the examples failed");
    });
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(Path::parent).unwrap().join("examples").join(name);
    assert!(path.exists(), "{} not built", path.display());
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    let out = Command::new(example(name)).args(args).output().unwrap();
    eprintln!("{name} stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn run_captures_output_and_status() {
    if requirements::cannot_run("run_captures_output_and_status") {
        return;
    }
    let b = bundle("run");
    let out = run("run", &[b.to_str().unwrap(), "sh", "-c", "echo captured; id -u; exit 3"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "captured\n0\n");
    assert_eq!(out.status.code(), Some(3));
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn exec_into_a_long_lived_container() {
    if requirements::cannot_run("exec_into_a_long_lived_container") {
        return;
    }
    let b = bundle("exec");
    let out = run("exec", &[b.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("id printed \"uid=0 gid=0"), "{text}");
    assert!(text.contains("cat echoed \"through a pipe\" and exited with 0"), "{text}");
    // Awaited in order of exec, each with its own status.
    assert!(text.contains("three sh exited with [5, 6, 7]"), "{text}");
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn typed_stats_and_pushed_events() {
    if requirements::cannot_run("typed_stats_and_pushed_events") {
        return;
    }
    let b = bundle("events");
    let out = run("events", &[b.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("memory limit 16777216 bytes, "), "{text}");
    // The OOM kill is pushed before the exit, which reports sh's own status (dd's 137 is not it).
    let oom = text.find("event: oom").expect(&text);
    let exit = text.find("event: exited with 0").expect(&text);
    assert!(oom < exit, "{text}");
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn fifty_containers_from_eight_async_threads() {
    if requirements::cannot_run("fifty_containers_from_eight_async_threads") {
        return;
    }
    let b = bundle("many");
    let out = run("async_many", &[b.to_str().unwrap(), "50"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text, "50 containers ok, nothing leaked\n");
    std::fs::remove_dir_all(&b).unwrap();
}
