//! Self-tests of the harness: the cleanup guard and the leftover checker must work even when the runtime
//! leaves a container behind, and the bundle builder must produce what tests rely on.

use std::process::Command;
use std::time::Duration;

use conformance::bundle::{cgroup_path, config_cgroups_path, MARKER_ENV};
use conformance::{requires, Case};

#[test]
fn guard_removes_an_abandoned_running_container() {
    requires!(root, runtime);
    let (pid, footprint) = {
        let mut c = Case::new();
        c.build(c.bundle().args(&["/probe", "sleep", "60"]));
        c.create(&[]).ok();
        c.start().ok();
        let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
        let f = c.footprint();
        assert!(!f.leftovers().is_empty(), "a running container must show up as leftovers");
        // A runtime that cannot delete: the guard's own sweep must do all the work.
        c.rt.binary = "/bin/false".into();
        (pid, f)
    };
    assert!(footprint.leftovers_settled(Duration::from_secs(3)).is_empty(), "{:#?}", footprint.leftovers());
    assert!(!footprint.dir.exists(), "test dir {} not removed", footprint.dir.display());
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z"), "container init {pid} survived the guard");
}

#[test]
fn leftover_checker_finds_marked_process_and_clean_kills_it() {
    requires!(root);
    let c = Case::new();
    let mut child = Command::new("sleep").arg("60").env(MARKER_ENV, &c.id).spawn().unwrap();
    let f = c.footprint();
    // spawn() returns once execve has closed the CLOEXEC pipe, which the kernel does before it sets up the
    // new environment block: /proc/PID/environ can still read empty for a moment.
    let mine = |procs: &[(i32, String)]| procs.iter().any(|(p, _)| *p == child.id() as i32);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut procs = f.processes();
    while !mine(&procs) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        procs = f.processes();
    }
    assert!(mine(&procs), "{procs:?}");
    f.clean();
    let status = child.wait().unwrap();
    assert!(!status.success(), "marked process was not killed");
    assert!(f.processes().is_empty());
}

#[test]
fn leftover_checker_finds_cgroup_dir() {
    requires!(root, cgroup_v1);
    let c = Case::new();
    let dir = std::path::Path::new("/sys/fs/cgroup/pids").join(cgroup_path(&c.id).trim_start_matches('/'));
    std::fs::create_dir(&dir).unwrap();
    let f = c.footprint();
    assert_eq!(f.cgroup_dirs(), vec![dir.clone()]);
    f.clean();
    assert!(!dir.exists(), "cgroup dir {} not removed", dir.display());
}

#[test]
fn bundle_has_busybox_probe_and_users() {
    requires!(root);
    let c = Case::new();
    let b = c.build(c.bundle());
    let root = b.join("rootfs");
    for f in ["bin/busybox", "bin/sh", "bin/ls", "probe", "etc/passwd", "etc/group"] {
        assert!(root.join(f).exists(), "{f} missing");
    }
    assert!(std::fs::read_to_string(root.join("etc/passwd")).unwrap().contains("test:x:1000:1000"));
    let cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(b.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["linux"]["cgroupsPath"], config_cgroups_path(&c.id));
    assert_eq!(cfg["process"]["args"], serde_json::json!(["/probe", "report"]));
}

#[test]
fn probe_is_static() {
    requires!(root);
    let probe = conformance::probe_path();
    let out = Command::new("file").arg(&probe).output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(text.contains("static"), "probe is not statically linked: {text}");
        }
        _ => conformance::skip("`file` is not installed"),
    }
}

#[test]
fn timeout_kills_a_hung_runtime() {
    requires!(root);
    let mut c = Case::new();
    c.rt.binary = "/bin/sleep".into();
    c.rt.timeout = Duration::from_millis(300);
    // `sleep --root X 30` fails on the flag; use exec_raw so only `30` is passed.
    let o = c.rt.exec_raw(&["30".to_owned()], std::process::Stdio::null());
    assert!(o.timed_out && o.signal == Some(9), "{o}");
}

#[test]
fn mkbundle_writes_a_runnable_bundle() {
    requires!(root, runtime);
    let c = Case::new();
    let dir = c.bundle_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_mkbundle"))
        .arg(&dir)
        .arg("--probe")
        .arg(conformance::probe_path())
        .args(["--id", &c.id, "--", "/bin/echo", "demo ok"])
        .output()
        .unwrap();
    assert!(out.status.success(), "mkbundle: {}", String::from_utf8_lossy(&out.stderr));
    let cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["process"]["terminal"], false);
    assert_eq!(cfg["linux"]["cgroupsPath"], config_cgroups_path(&c.id));
    assert_eq!(c.run(&[]).ok().stdout, "demo ok\n");
    let again = Command::new(env!("CARGO_BIN_EXE_mkbundle")).arg(&dir).output().unwrap();
    assert!(!again.status.success(), "mkbundle must refuse to overwrite an existing rootfs");
}

#[test]
fn leftover_checker_finds_mount_in_bundle_and_clean_detaches_it() {
    requires!(root);
    let c = Case::new();
    let b = c.build(c.bundle());
    let target = b.join("rootfs/tmp");
    nix::mount::mount(Some("tmpfs"), &target, Some("tmpfs"), nix::mount::MsFlags::empty(), None::<&str>).unwrap();
    std::fs::write(target.join("inside-mount"), "x").unwrap();
    let f = c.footprint();
    assert_eq!(f.mounts().len(), 1, "{:?}", f.mounts());
    f.clean();
    assert!(f.mounts().is_empty());
    assert!(!c.dir.exists(), "dir not removed after detaching the mount");
}
