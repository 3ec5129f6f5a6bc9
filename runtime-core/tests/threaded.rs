//! A multi-threaded caller (every test here runs on a libtest worker thread, and several spawn
//! more) goes through the launch helper: results, errors, fds and files must come back exactly as
//! from the direct path, the init and exec'd processes must be this process's children, and a
//! failure must leave nothing behind. Needs root and /bin/busybox; skips with the reason otherwise.

use std::io::Read;
use std::path::{Path, PathBuf};

use runtime_core::signal::Signal;
use runtime_core::{ConsoleMode, CreateOptions, Error, ExecOptions, Io, KillTarget, Runtime, Stdio};

mod requirements;

// libtest's main is not ours: the launch helper is served before it.
runtime_core::helper_entry!();

/// A bundle dir with a busybox rootfs, and a runtime whose state lives inside it.
fn setup(name: &str) -> (PathBuf, Runtime) {
    let dir = std::env::temp_dir().join(format!("hull-threaded-{name}-{}", std::process::id()));
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", bin.join("sh")).unwrap();
    std::os::unix::fs::symlink("busybox", bin.join("sleep")).unwrap();
    let rt = Runtime::new(dir.join("state"));
    (dir, rt)
}

fn cgroup(id: &str) -> String {
    format!("/hull-threaded-{}-{id}", std::process::id())
}

fn spec(id: &str, args: &[&str], terminal: bool) -> oci_spec::runtime::Spec {
    serde_json::from_value(serde_json::json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "process": {"terminal": terminal, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/", "env": ["PATH=/bin"]},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["newinstance", "ptmxmode=0666"]}],
        "linux": {"cgroupsPath": cgroup(id), "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}]}
    }))
    .unwrap()
}

fn opts(dir: &Path, id: &str, args: &[&str]) -> CreateOptions {
    CreateOptions::new(dir).spec(spec(id, args, false))
}

fn assert_nothing_left(rt: &Runtime, id: &str) {
    assert!(rt.list().unwrap().iter().all(|s| s.id != id), "state of {id} left behind");
    let cg = format!("/sys/fs/cgroup/pids{}", cgroup(id));
    assert!(!Path::new(&cg).exists(), "cgroup {cg} left behind");
}

#[test]
fn errors_come_back_typed_and_leave_nothing() {
    if requirements::cannot_run("errors_come_back_typed_and_leave_nothing") {
        return;
    }
    let (dir, rt) = setup("errors");
    match rt.create("e1", opts(&dir, "e1", &[])) {
        Err(Error::Spec(m)) => assert_eq!(m, "args must not be empty"),
        other => panic!("{other:?}"),
    }
    assert_nothing_left(&rt, "e1");
    // The child's own failure (no such program) crosses two process boundaries.
    match rt.create("e2", opts(&dir, "e2", &["no-such-program"])) {
        Err(e @ Error::Child(_)) => assert!(e.to_string().contains("no-such-program"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_nothing_left(&rt, "e2");
    let mut missing = opts(&dir, "e3", &["sh"]);
    missing.bundle = dir.join("nowhere");
    assert!(matches!(rt.create("e3", missing), Err(Error::Bundle { what: "rootfs", .. })));
    let c = rt.create("e4", opts(&dir, "e4", &["sh"])).unwrap();
    assert!(matches!(rt.create("e4", opts(&dir, "e4", &["sh"])), Err(Error::Exists { .. })));
    c.delete(false).unwrap();
    assert_nothing_left(&rt, "e4");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_creates_and_execs_from_threads() {
    if requirements::cannot_run("concurrent_creates_and_execs_from_threads") {
        return;
    }
    let (dir, rt) = setup("exec");
    std::thread::scope(|s| {
        for t in 0..4 {
            let (dir, rt) = (&dir, &rt);
            s.spawn(move || {
                let id = format!("x{t}");
                let pid_file = dir.join(format!("{id}.pid"));
                let o = opts(dir, &id, &["sleep", "30"]).pid_file(&pid_file);
                let mut c = rt.create(&id, o).unwrap();
                assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), c.pid().to_string());
                c.start().unwrap();
                assert_eq!(c.try_wait().unwrap(), None, "still running");
                let process = serde_json::from_value(serde_json::json!({
                    "user": {"uid": 0, "gid": 0}, "cwd": "/", "env": ["PATH=/bin"],
                    "args": ["sh", "-c", format!("exit {}", 10 + t)],
                }))
                .unwrap();
                let p = c.exec(ExecOptions::new(process)).unwrap();
                // Both are our children although a helper created them.
                assert_eq!(p.wait().unwrap(), 10 + t);
                c.kill(Signal::KILL, KillTarget::Init).unwrap();
                assert_eq!(c.wait().unwrap(), 128 + libc::SIGKILL);
                rt.load(&id).unwrap().delete(false).unwrap();
                assert_nothing_left(rt, &id);
            });
        }
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stdio_and_kept_console_come_through_the_helper() {
    if requirements::cannot_run("stdio_and_kept_console_come_through_the_helper") {
        return;
    }
    let (dir, rt) = setup("stdio");
    let (mut out, w) = std::os::unix::net::UnixStream::pair().unwrap();
    let (r, mut input) = std::os::unix::net::UnixStream::pair().unwrap();
    let stdio = Stdio::inherit().stdin(r).stdout(w).stderr(Io::Inherit);
    let o = opts(&dir, "s1", &["sh", "-c", "read line; echo got $line"]).stdio(stdio);
    let mut c = rt.create("s1", o).unwrap();
    c.start().unwrap();
    std::io::Write::write_all(&mut input, b"ping\n").unwrap();
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    assert_eq!(text, "got ping\n");
    assert_eq!(c.wait().unwrap(), 0);
    rt.load("s1").unwrap().delete(false).unwrap();

    let o = opts(&dir, "s2", &[])
        .spec(spec("s2", &["sh", "-c", "tty; echo on-console"], true))
        .console(ConsoleMode::Return);
    let mut c = rt.create("s2", o).unwrap();
    let master = std::fs::File::from(c.take_console().expect("the pty master came back"));
    c.start().unwrap();
    assert_eq!(c.wait().unwrap(), 0);
    let mut text = String::new();
    // EIO once the slave side is gone ends the read; what came before it is the output.
    let _ = (&master).read_to_string(&mut text);
    assert!(text.contains("/dev/pts/") && text.contains("on-console"), "{text:?}");
    rt.load("s2").unwrap().delete(false).unwrap();
    assert_nothing_left(&rt, "s2");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_marker_without_its_runtime_is_refused_before_main() {
    // This very test binary, started as a helper would be but with an fd that is not a socket
    // made by its parent: the entry point must exit 1 before libtest's main prints anything.
    for fd in ["0", "not-a-number", "987"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("_HULL_LAUNCH_HELPER_FD", fd)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "fd {fd}");
        assert!(out.stdout.is_empty(), "main ran: {}", String::from_utf8_lossy(&out.stdout));
    }
    // A socket made by this test, handed to a grandchild whose parent (`timeout`) did not make
    // it. If it were obeyed, it would wait for a request until `timeout` kills it (124).
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("timeout 10 {} 3<&0", std::env::current_exe().unwrap().display()))
        .env("_HULL_LAUNCH_HELPER_FD", "3")
        .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(a)))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "main ran: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn user_namespace_maps_are_written_by_the_helper() {
    if requirements::cannot_run("user_namespace_maps_are_written_by_the_helper") {
        return;
    }
    let (dir, rt) = setup("userns");
    // Root of the user namespace is not the owner of the rootfs: the mount points must exist.
    for d in ["proc", "dev"] {
        std::fs::create_dir(dir.join("rootfs").join(d)).unwrap();
    }
    let mut spec =
        serde_json::to_value(spec("u1", &["sh", "-c", "read -r a b c < /proc/self/uid_map; exit $b"], false)).unwrap();
    spec["linux"]["namespaces"].as_array_mut().unwrap().push(serde_json::json!({"type": "user"}));
    spec["linux"]["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    spec["linux"]["gidMappings"] = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let o = opts(&dir, "u1", &[]).spec(serde_json::from_value(spec).unwrap());
    let mut c = rt.create("u1", o).unwrap();
    c.start().unwrap();
    // The map's host uid 100000 as an exit status: 100000 % 256.
    assert_eq!(c.wait().unwrap(), 100000 % 256);
    rt.load("u1").unwrap().delete(false).unwrap();
    assert_nothing_left(&rt, "u1");
    std::fs::remove_dir_all(&dir).unwrap();
}
