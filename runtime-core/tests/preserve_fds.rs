//! Preserved fds reach the container the same way through both launch paths: first while this
//! process is single-threaded (the direct clone), then with a second thread alive (the launch
//! helper, which must place the caller's fds 3..3+N at the same numbers). A plain `main`
//! (`harness = false`) so that the first two fds it opens are 3 and 4 and no test thread exists.
//! Needs root and /bin/busybox; skips with the reason otherwise.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::Path;

use runtime_core::{CreateOptions, Runtime};

mod requirements;

fn main() {
    // Opens nothing: fds 3 and 4 below are still the first.
    runtime_core::run_helper_if_requested();
    // Opened first: fds 3 and 4.
    let (three, four) = UnixStream::pair().unwrap();
    if requirements::cannot_run("preserve_fds") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hull-preserve-{}", std::process::id()));
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", bin.join("sh")).unwrap();
    let rt = Runtime::new(dir.join("state"));

    let direct = run(&rt, &dir, &four, "direct");
    // A second thread: from now on create goes through the helper.
    let (park, parked) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || parked.recv());
    let helped = run(&rt, &dir, &four, "helper");
    drop(park);
    t.join().unwrap().unwrap_err();
    drop(three);

    assert_eq!(direct, "direct: 3 and 4 open\n");
    assert_eq!(helped, "helper: 3 and 4 open\n");
    std::fs::remove_dir_all(&dir).unwrap();
    println!("preserve_fds: ok through the direct path and the helper");
}

/// Runs a container with fds 3 and 4 preserved that writes to fd 3 (one end of a socket pair);
/// returns what arrived at the other end, read through `four`.
fn run(rt: &Runtime, dir: &Path, four: &UnixStream, label: &str) -> String {
    let script = format!("test -e /proc/self/fd/4 && echo {label}: 3 and 4 open >&3");
    let spec = serde_json::from_value(serde_json::json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", script], "cwd": "/", "env": ["PATH=/bin"]},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}],
        "linux": {"cgroupsPath": format!("/hull-preserve-{}-{label}", std::process::id()),
                  "namespaces": [{"type": "pid"}, {"type": "mount"}]}
    }))
    .unwrap();
    let opts = CreateOptions::new(dir).spec(spec).preserve_fds(2);
    let mut c = rt.create(label, opts).unwrap();
    c.start().unwrap();
    assert_eq!(c.wait().unwrap(), 0, "{label}: the script failed");
    rt.load(label).unwrap().delete(false).unwrap();
    four.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 256];
    let n = (&*four).read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
