//! Embedding runtime-core without the CLI: a container from an in-memory spec (no config.json),
//! run to completion, its exit status read, and nothing left behind. Needs root and the host's
//! static busybox; skips with the reason otherwise.

use std::path::PathBuf;

use runtime_core::{CreateOptions, Error, Runtime};

mod requirements;

// libtest's main is not ours: the launch helper is served before it.
runtime_core::helper_entry!();

fn spec(args: &[&str]) -> oci_spec::runtime::Spec {
    serde_json::from_value(serde_json::json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "process": {"user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/", "env": ["PATH=/bin"]},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "cgroupsPath": format!("/hull-embed-test-{}", std::process::id()),
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}]
        }
    }))
    .unwrap()
}

#[test]
fn in_memory_spec_runs_and_cleans_up() {
    if requirements::cannot_run("in_memory_spec_runs_and_cleans_up") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hull-embed-{}", std::process::id()));
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", bin.join("sh")).unwrap();
    let root: PathBuf = dir.join("state");
    let rt = Runtime::new(&root);
    let opts = |args: &[&str]| CreateOptions::new(&dir).spec(spec(args));

    let mut c = rt.create("embed1", opts(&["sh", "-c", "test -d /proc/self && exit 7"])).unwrap();
    assert!(!dir.join("config.json").exists(), "no config.json was needed");
    c.start().unwrap();
    assert_eq!(c.wait().unwrap(), 7);
    rt.load("embed1").unwrap().delete(false).unwrap();

    // Bad input fails before anything exists.
    match rt.create("embed2", opts(&[])) {
        // runc's words for it (the embedder sees the same text as a runc user).
        Err(Error::Spec(m)) => assert_eq!(m, "args must not be empty"),
        other => panic!("{other:?}"),
    }
    assert!(rt.list().unwrap().is_empty());
    let cg = format!("/sys/fs/cgroup/pids/hull-embed-test-{}", std::process::id());
    assert!(!std::path::Path::new(&cg).exists(), "cgroup left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}
