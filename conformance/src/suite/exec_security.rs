//! exec security (reference/security.md T2, T3, T20, T22): nothing of the runtime or of its caller
//! reaches the container through a process that joins it. Each test fails when the protection is gone.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::runtime::parse_json;
use crate::{requires, Case, Outcome, RuntimeUnderTest};
use serde_json::json;

const SECRET: &str = "host-marker-7f3a";

/// A running container whose init sleeps; returns the init's host pid.
fn running(c: &Case, b: crate::BundleBuilder) -> i64 {
    c.build(b);
    started(c)
}

/// Creates and starts the already built bundle; returns the init's host pid.
fn started(c: &Case) -> i64 {
    c.create(&[]).ok();
    c.start().ok();
    c.state_json().unwrap()["pid"].as_i64().unwrap()
}

/// A host directory outside the rootfs holding a secret file and a copy of the probe (`hello`).
fn marker(c: &Case) -> PathBuf {
    let dir = c.dir.join("marker");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("HOSTMARK"), SECRET).unwrap();
    fs::copy(c.probe(), dir.join("hello")).unwrap();
    dir
}

/// Runs the runtime like a careless caller would: with host directories open on fds 9 (`/`) and
/// 10 (the marker directory), not close-on-exec.
fn careless(c: &Case, marker: &Path, args: &[&str]) -> Outcome {
    let out = c.dir.join("out");
    let sh = RuntimeUnderTest::new(PathBuf::from(crate::bundle::BUSYBOX), c.rt.root.clone(), out);
    let script = "exec 9</ 10<\"$1\"; shift; exec \"$@\"";
    let (m, bin, root) = (marker.to_string_lossy(), c.rt.binary.to_string_lossy(), c.rt.root.to_string_lossy());
    let mut full: Vec<String> = ["sh", "-c", script, "sh", &m, &bin, "--root", &root].map(String::from).to_vec();
    full.extend(args.iter().map(|s| s.to_string()));
    sh.exec_raw(&full, Stdio::null())
}

/// `../` enough times to climb from any directory to its filesystem root, then `path`.
fn from_any_root(path: &Path) -> String {
    format!("{}{}", "../".repeat(16), path.to_string_lossy().trim_start_matches('/'))
}

/// T3 (CVE-2024-21626): `--cwd /proc/self/fd/N`, a planted cwd symlink to it, and a program path
/// through it must neither land in a host directory nor run a host binary, for every N, even when
/// the caller holds host directory fds.
pub fn exec_cwd_and_program_through_proc_self_fd_stay_inside() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.bundle().args(&["/probe", "sleep", "60"]);
    c.build(b);
    let marker = marker(&c);
    for n in 3..=32 {
        std::os::unix::fs::symlink(format!("/proc/self/fd/{n}"), c.bundle_dir().join(format!("rootfs/work{n}")))
            .unwrap();
    }
    started(&c);
    let secret = from_any_root(&marker.join("HOSTMARK"));
    let hello_up = from_any_root(&marker.join("hello"));
    let hello_proc = format!("1/root/{}", marker.join("hello").to_string_lossy().trim_start_matches('/'));
    for n in 3..=32 {
        for cwd in [format!("/proc/self/fd/{n}"), format!("/work{n}"), format!("/proc/self/fd/{n}/../../..")] {
            let o = careless(&c, &marker, &["exec", "--cwd", &cwd, &c.id, "/probe", "cat", &secret]);
            assert!(!o.stdout.contains(SECRET), "--cwd {cwd} reached the host: {o}");
        }
        for prog in [format!("/proc/self/fd/{n}/{hello_up}"), format!("/proc/self/fd/{n}/{hello_proc}")] {
            let o = careless(&c, &marker, &["exec", &c.id, &prog, "exit", "42"]);
            assert_ne!(o.code, Some(42), "host binary {prog} ran in the container: {o}");
        }
    }
    assert_eq!(c.status().as_deref(), Some("running"));
}

/// T2 (CVE-2016-9962): until its execve the joining process is not dumpable (so the container
/// cannot ptrace it or open its /proc/PID/fd) and holds no directory fd; afterwards only stdio.
/// A paused container freezes the process between its setup and its execve, where it is observed.
pub fn exec_process_is_sealed_until_execve() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c, c.bundle().args(&["/probe", "sleep", "60"]));
    let marker = marker(&c);
    c.exec(&["pause", &c.id]).ok();
    let pid_file = c.dir.join("exec.pid");
    let pf = pid_file.to_string_lossy();
    let args =
        ["exec", "--detach", "--ignore-paused", "--pid-file", &pf, "--user", "1000", &c.id, "/probe", "sleep", "60"];
    careless(&c, &marker, &args).ok();
    let pid: i64 = fs::read_to_string(&pid_file).expect("exec pid file").trim().parse().expect("bare pid");
    let status = |key: &str| {
        let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        s.lines().find_map(|l| l.strip_prefix(key).map(|v| v.split_whitespace().next().unwrap_or("").to_owned()))
    };
    // Frozen after its credentials and before its execve (the cgroup join comes last).
    let deadline = Instant::now() + Duration::from_secs(5);
    while status("Uid:").as_deref() != Some("1000") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(!cmdline.starts_with(b"/probe"), "not frozen before execve: {}", String::from_utf8_lossy(&cmdline));
    assert_eq!(status("Uid:").as_deref(), Some("1000"), "credentials not applied before the freeze");
    // The kernel shows a non-dumpable task's private /proc files as owned by root, whatever its
    // uid (the /proc/PID directory itself always shows the euid).
    let owner = fs::metadata(format!("/proc/{pid}/environ")).unwrap().uid();
    assert_eq!(owner, 0, "half-set-up exec process (uid 1000) is dumpable");
    for (fd, target) in fd_table(pid) {
        let is_dir = fs::metadata(format!("/proc/{pid}/fd/{fd}")).map(|m| m.is_dir()).unwrap_or(false);
        assert!(!is_dir, "fd {fd} -> {target} is a directory in the joining process");
    }
    c.exec(&["resume", &c.id]).ok();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default().starts_with(b"/probe") {
        assert!(Instant::now() < deadline, "exec'd process did not start after resume");
        std::thread::sleep(Duration::from_millis(20));
    }
    let fds: Vec<String> = fd_table(pid).into_iter().map(|(n, t)| format!("{n}->{t}")).collect();
    assert!(fd_table(pid).iter().all(|(n, _)| *n < 3), "exec'd process holds more than stdio: {fds:?}");
}

fn fd_table(pid: i64) -> Vec<(u32, String)> {
    let Ok(rd) = fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    rd.flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().parse().ok()?;
            Some((n, fs::read_link(e.path()).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()))
        })
        .collect()
}

/// T20 (LXC CVE-2015-1334): a container that replaced its /proc with a tmpfs of fake files
/// cannot catch what the runtime writes for the joining process (here oom_score_adj).
pub fn exec_writes_go_to_the_real_proc_of_the_process() {
    requires!(root, runtime);
    let c = Case::new();
    let fake = "mount -t tmpfs none /proc && for d in self thread-self $(seq 1 64); do mkdir -p /proc/$d/attr; \
                echo fake > /proc/$d/oom_score_adj; done && touch /tmp/ready && exec /probe sleep 60";
    let b = c.bundle().args(&["/bin/sh", "-c", fake]).with(|s| {
        let caps = json!(["CAP_SYS_ADMIN", "CAP_KILL"]);
        for set in ["bounding", "effective", "permitted", "inheritable", "ambient"] {
            s["process"]["capabilities"][set] = caps.clone();
        }
    });
    let init = running(&c, b);
    let ready = c.bundle_dir().join("rootfs/tmp/ready");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "init did not replace /proc");
        std::thread::sleep(Duration::from_millis(20));
    }
    let process = json!({
        "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/", "oomScoreAdj": 500,
        "args": ["/probe", "sleep", "60"], "env": ["PATH=/bin"],
    });
    let path = c.dir.join("process.json");
    fs::write(&path, process.to_string()).unwrap();
    let pid_file = c.dir.join("exec.pid");
    let (p, pf) = (path.to_string_lossy(), pid_file.to_string_lossy());
    let o = c.exec(&["exec", "--detach", "--pid-file", &pf, "--process", &p, &c.id]);
    // Refusing to enter such a container is safe too (runc 1.1.5 fails on its missing /proc/self/fd).
    if o.success() {
        let pid: i64 = fs::read_to_string(&pid_file).expect("exec pid file").trim().parse().expect("bare pid");
        let real = fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap_or_default();
        assert_eq!(real.trim(), "500", "oomScoreAdj did not reach the process: {o}");
    } else {
        assert_eq!(o.error_lines().len(), 1, "a refusal must be one clear error line: {o}");
    }
    for d in ["self", "thread-self", "1", "2", "3", "4"] {
        let f = fs::read_to_string(format!("/proc/{init}/root/proc/{d}/oom_score_adj")).unwrap_or_default();
        assert_eq!(f.trim(), "fake", "the runtime wrote into the container's fake /proc/{d}");
    }
}

/// T22 (LXC CVE-2016-10124): without `-t` the process gets the caller's terminal as plain stdio,
/// never as its controlling terminal (a new session), so it cannot write to /dev/tty or push
/// input into the caller's terminal with TIOCSTI.
pub fn exec_without_tty_has_no_controlling_terminal() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c, c.bundle().args(&["/probe", "sleep", "60"]));
    eprintln!("dev.tty.legacy_tiocsti = {:?}", fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").ok());
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let in_session = |args: &[&str]| {
        let out = c.dir.join("out");
        let setsid = RuntimeUnderTest::new(PathBuf::from(crate::bundle::BUSYBOX), c.rt.root.clone(), out);
        // Run from a non-interactive shell so setsid is no group leader and needs no fork; the
        // shell waits for it (a bare `busybox setsid` would fork and return at once).
        let script = "\"$@\"; rc=$?; exit $rc";
        let mut full: Vec<String> =
            ["sh", "-c", script, "sh", crate::bundle::BUSYBOX, "setsid", "-c"].map(String::from).to_vec();
        full.extend(args.iter().map(|s| s.to_string()));
        setsid.exec_raw(&full, Stdio::from(fs::File::from(pty.slave.try_clone().unwrap())))
    };
    // The harness itself: the caller's stdin is its controlling terminal.
    let own = in_session(&[crate::bundle::BUSYBOX, "sh", "-c", "echo x > /dev/tty && echo ok"]);
    assert!(own.stdout.contains("ok"), "harness could not give the caller a controlling terminal: {own}");
    let root = c.rt.root.to_string_lossy();
    let bin = c.rt.binary.to_string_lossy();
    let o = in_session(&[&bin, "--root", &root, "exec", &c.id, "/probe", "write", "/dev/tty", "x"]);
    assert!(o.stdout.contains("ENXIO"), "exec'd process reached the caller's terminal through /dev/tty: {o}");
    let o = in_session(&[&bin, "--root", &root, "exec", &c.id, "/probe", "report"]);
    let r = parse_json(&o.stdout).unwrap_or_else(|| panic!("no report: {o}"));
    // runc relays a foreground exec through pipes; hull passes the caller's pty on as plain stdio.
    eprintln!("exec'd stdin: {}", r["tty"][0]);
    assert_eq!(r["sid"], r["pid"], "exec'd process is not a session leader");
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(exec_cwd_and_program_through_proc_self_fd_stay_inside, "security#t3-exec-cwd"),
    entry!(exec_process_is_sealed_until_execve, "security#t2-exec-sealed"),
    entry!(exec_writes_go_to_the_real_proc_of_the_process, "security#t20-exec-fake-proc"),
    entry!(exec_without_tty_has_no_controlling_terminal, "security#t22-exec-tty"),
];
