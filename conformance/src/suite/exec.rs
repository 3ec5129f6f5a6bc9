//! exec: a second process joins a running container (namespaces, cgroup), with its own process spec.

use std::time::Duration;

use crate::bundle::{BUSYBOX, TEST_GID, TEST_UID};
use crate::runtime::parse_json;
use crate::{requires, Case};
use serde_json::{json, Value};

/// A running container whose init sleeps; returns the init's host pid.
fn running(c: &Case) -> i64 {
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    c.state_json().unwrap()["pid"].as_i64().unwrap()
}

fn ns_of(pid: i64, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap().to_string_lossy().into_owned()
}

pub fn exec_joins_the_container_namespaces() {
    requires!(root, runtime);
    let c = Case::new();
    let init = running(&c);
    let o = c.exec(&["exec", &c.id, "/probe", "report"]).ok();
    let r = o.json();
    for kind in ["pid", "net", "ipc", "uts", "mnt"] {
        assert_eq!(r["ns"][kind], ns_of(init, kind), "{kind}");
    }
    assert_ne!(r["pid"].as_u64(), Some(1), "exec'd process is not the init");
    assert_eq!(r["hostname"], "conformance");
    let lines: Vec<&str> = r["cgroup"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let want = crate::bundle::cgroup_path(&c.id);
    assert!(lines.iter().any(|l| l.starts_with(|ch: char| ch.is_ascii_digit()) && l.ends_with(&want)), "{lines:?}");
}

pub fn exec_returns_the_process_exit_code() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let o = c.exec(&["exec", &c.id, "/probe", "exit", "7"]);
    assert_eq!(o.code, Some(7), "{o}");
    assert_eq!(c.status().as_deref(), Some("running"), "exec's exit must not stop the container");
}

pub fn exec_with_process_json() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let process = json!({
        "terminal": false,
        "user": {"uid": TEST_UID, "gid": TEST_GID, "additionalGids": [5]},
        "args": ["/probe", "report"],
        "env": ["PATH=/bin", "ONLY=me"],
        "cwd": "/tmp",
        "noNewPrivileges": true,
    });
    let path = c.dir.join("process.json");
    std::fs::write(&path, process.to_string()).unwrap();
    let o = c.exec(&["exec", "--process", &path.to_string_lossy(), &c.id]).ok();
    let r = o.json();
    assert_eq!((r["uid"].as_u64(), r["gid"].as_u64()), (Some(TEST_UID.into()), Some(TEST_GID.into())));
    assert_eq!(r["cwd"], "/tmp");
    assert_eq!(r["no_new_privs"].as_u64(), Some(1));
    let env: Vec<&str> = r["env"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(env.contains(&"ONLY=me") && env.contains(&"PATH=/bin"), "{env:?}");
}

pub fn exec_detach_writes_pid_file() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let pid_file = c.dir.join("exec.pid");
    c.exec(&["exec", "--detach", "--pid-file", &pid_file.to_string_lossy(), &c.id, "/probe", "sleep", "30"]).ok();
    let pid: i64 = std::fs::read_to_string(&pid_file).expect("exec pid file").parse().expect("bare pid");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert_eq!(String::from_utf8_lossy(&cmdline), "/probe\0sleep\x0030\0");
}

pub fn exec_env_flag_adds_variables() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let o = c.exec(&["exec", "--env", "EXTRA=1", &c.id, "/probe", "report"]).ok();
    let env = o.json()["env"].clone();
    assert!(env.as_array().unwrap().iter().any(|e| e == "EXTRA=1"), "{env}");
}

pub fn exec_in_created_container_is_refused_or_runs_inside() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    let o = c.exec(&["exec", &c.id, "/probe", "report"]);
    // runc allows exec into a created container; either way it must not run outside of it.
    if o.success() {
        let r = parse_json(&o.stdout).expect("report");
        let init = c.state_json().unwrap()["pid"].as_i64().unwrap();
        assert_eq!(r["ns"]["mnt"], ns_of(init, "mnt"));
    } else {
        assert!(o.code.is_some() && !o.error_lines().is_empty(), "refusal without an error: {o}");
    }
}

pub fn exec_of_missing_binary_fails_cleanly() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let o = c.exec(&["exec", &c.id, "/no/such/binary"]);
    assert!(!o.success() && o.code.is_some(), "{o}");
    assert_eq!(o.error_lines().len(), 1, "{o}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.status().as_deref(), Some("running"));
}

/// Appends users and groups to the rootfs's files (after `build`).
fn add_users(c: &Case) {
    let etc = c.bundle_dir().join("rootfs/etc");
    let mut passwd = std::fs::read_to_string(etc.join("passwd")).unwrap();
    passwd.push_str("multi:x:1500:1500:multi:/home/multi:/bin/sh\n1234:x:0:0:numeric name:/:/bin/sh\n");
    std::fs::write(etc.join("passwd"), passwd).unwrap();
    let mut group = std::fs::read_to_string(etc.join("group")).unwrap();
    group.push_str("grpA:x:300:multi,test\ngrpB:x:301:other,multi\nmulti:x:1500:\n");
    std::fs::write(etc.join("group"), group).unwrap();
}

fn ids(r: &Value) -> (u64, u64, Vec<u64>) {
    let groups = r["groups"].as_array().unwrap().iter().filter_map(Value::as_u64).collect();
    (r["uid"].as_u64().unwrap(), r["gid"].as_u64().unwrap(), groups)
}

fn report_as(c: &Case, user: &str) -> Value {
    c.exec(&["exec", "--user", user, &c.id, "/probe", "report"]).ok().json()
}

/// Numbers are ids, never names (CVE-2016-3697): "1234" is also a name for uid 0 in this passwd.
/// A bare uid keeps the config's gid (runc).
pub fn exec_user_numeric() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    add_users(&c);
    c.create(&[]).ok();
    c.start().ok();
    assert_eq!(ids(&report_as(&c, "1234")), (1234, 0, vec![]));
    assert_eq!(ids(&report_as(&c, "1:2")), (1, 2, vec![]));
    let r = report_as(&c, &TEST_UID.to_string());
    assert_eq!(ids(&r).0, u64::from(TEST_UID));
    assert!(r["env"].as_array().unwrap().iter().any(|e| e == "HOME=/home/test"), "HOME of uid 1000: {}", r["env"]);
    let o = c.exec(&["exec", "--user", "4294967296", &c.id, "/probe", "report"]);
    if o.success() {
        assert_ne!(o.json()["uid"].as_u64(), Some(0), "an overflowing uid ran as root");
    }
}

/// hull resolves names in the container's own /etc/passwd and /etc/group, as runc's libcontainer
/// does for the init (runc 1.1.5's exec takes numbers only).
pub fn exec_user_names_from_container_files() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    add_users(&c);
    c.create(&[]).ok();
    c.start().ok();
    let r = report_as(&c, "multi");
    assert_eq!(ids(&r), (1500, 1500, vec![300, 301]), "a name brings its groups from /etc/group");
    assert!(r["env"].as_array().unwrap().iter().any(|e| e == "HOME=/home/multi"), "{}", r["env"]);
    assert_eq!(ids(&report_as(&c, "multi:grpB")), (1500, 301, vec![]));
    assert_eq!(ids(&report_as(&c, "1000:grpA")), (1000, 300, vec![]));
    for (spec, want) in [
        ("nosuch", "unable to find user nosuch: no matching entries in passwd file"),
        ("1000:nogroup", "unable to find group nogroup: no matching entries in group file"),
    ] {
        let o = c.exec(&["exec", "--user", spec, &c.id, "/probe", "report"]);
        assert_eq!(o.code, Some(255), "{o}");
        assert_eq!(o.error_lines().len(), 1, "{o}");
        assert!(o.stderr.contains(&format!("exec failed: {want}")), "{o}");
    }
    assert_eq!(procs(&c).len(), 1, "a failed exec left a process in the container");
}

/// Pids in the container's memory cgroup.
fn procs(c: &Case) -> Vec<String> {
    if crate::rootless() {
        // No cgroup without delegation: the container's processes carry its marker env.
        let found = c.footprint().processes().into_iter().filter(|(_, why)| why == "container env marker");
        return found.map(|(pid, _)| pid.to_string()).collect();
    }
    let path = format!("/sys/fs/cgroup/memory{}/cgroup.procs", crate::bundle::cgroup_path(&c.id));
    let alt = format!("/sys/fs/cgroup{}/cgroup.procs", crate::bundle::cgroup_path(&c.id));
    let text = std::fs::read_to_string(path).or_else(|_| std::fs::read_to_string(alt)).unwrap_or_default();
    text.lines().map(str::to_owned).collect()
}

/// Sub-cgroups made by a test under the container's cgroup, removed before the container is.
struct SubCgroups(Vec<std::path::PathBuf>);

impl Drop for SubCgroups {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir(d);
        }
    }
}

pub fn exec_cgroup_joins_existing_sub_cgroups() {
    requires!(root, runtime, cgroup_v1);
    let c = Case::new();
    running(&c);
    let base = crate::bundle::cgroup_path(&c.id);
    let mut made = SubCgroups(Vec::new());
    for ctrl in ["memory", "pids"] {
        let d = std::path::PathBuf::from(format!("/sys/fs/cgroup/{ctrl}{base}/sub"));
        std::fs::create_dir(&d).unwrap();
        made.0.push(d);
    }
    let cgroups = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[&c.id, "/probe", "cat", "/proc/self/cgroup"]);
        let o = c.exec(&args).ok();
        o.stdout.lines().map(str::to_owned).collect()
    };
    let line = |lines: &[String], ctrl: &str| {
        lines.iter().find(|l| l.split(':').nth(1) == Some(ctrl)).cloned().unwrap_or_default()
    };
    let one = cgroups(&["--cgroup", "memory:sub"]);
    assert!(line(&one, "memory").ends_with(&format!("{base}/sub")), "{one:?}");
    assert!(line(&one, "pids").ends_with(&base), "{one:?}");
    let both = cgroups(&["--cgroup", "memory:sub", "--cgroup", "pids:/sub"]);
    assert!(line(&both, "pids").ends_with(&format!("{base}/sub")), "{both:?}");
    let listed = cgroups(&["--cgroup", "memory,pids:sub"]);
    assert!(line(&listed, "memory").ends_with("/sub") && line(&listed, "pids").ends_with("/sub"), "{listed:?}");
    for bad in ["memory:nosuch", "memory:../escape", "bogus:sub", "nosuch"] {
        let o = c.exec(&["exec", "--cgroup", bad, &c.id, "/probe", "exit", "0"]);
        assert_eq!(o.code, Some(255), "--cgroup {bad}: {o}");
        assert_eq!(o.error_lines().len(), 1, "--cgroup {bad}: {o}");
    }
    assert!(!std::path::Path::new(&format!("/sys/fs/cgroup/memory{base}/nosuch")).exists(), "sub-cgroup created");
    assert_eq!(procs(&c).len(), 1, "a failed exec left a process in the container");
}

pub fn exec_returns_128_plus_signal() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    for (sig, code) in [("9", 137), ("15", 143)] {
        let o = c.exec(&["exec", &c.id, "/probe", "signal-self", sig]);
        assert_eq!(o.code, Some(code), "{o}");
    }
}

pub fn exec_stdin_reaches_the_process_and_stdout_stderr_stay_apart() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let input = c.dir.join("stdin.txt");
    std::fs::write(&input, "line one\nline two\n").unwrap();
    let o =
        c.rt.exec_with(&["exec", &c.id, "/bin/cat"], std::process::Stdio::from(std::fs::File::open(&input).unwrap()));
    assert!(o.success(), "{o}");
    assert_eq!(o.stdout, "line one\nline two\n");
    let o = c.exec(&["exec", &c.id, "/bin/sh", "-c", "echo to-out; echo to-err >&2"]).ok();
    assert_eq!(o.stdout, "to-out\n");
    assert!(o.stderr.contains("to-err") && !o.stderr.contains("to-out"), "{o}");
}

pub fn exec_flags_shape_the_process() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| s["process"]["noNewPrivileges"] = json!(false)));
    c.create(&[]).ok();
    c.start().ok();
    let plain = c.exec(&["exec", &c.id, "/probe", "report"]).ok().json();
    assert_eq!(plain["no_new_privs"].as_u64(), Some(0));
    assert_eq!(plain["cwd"], "/");
    let args = ["exec", "--cwd", "/tmp", "--no-new-privs", "--cap", "CAP_SYS_ADMIN", "-g", "5", "-g", "7"];
    let mut full = args.to_vec();
    full.extend_from_slice(&[&c.id, "/probe", "report"]);
    let r = c.exec(&full).ok().json();
    assert_eq!(r["cwd"], "/tmp");
    assert_eq!(r["no_new_privs"].as_u64(), Some(1));
    let sys_admin = 1u64 << 21;
    for set in ["CapBnd", "CapEff", "CapPrm"] {
        assert_ne!(r["caps"][set].as_u64().unwrap() & sys_admin, 0, "--cap missing from {set}: {}", r["caps"]);
    }
    assert_eq!(r["caps"]["CapAmb"].as_u64().unwrap() & sys_admin, 0, "--cap must not reach the ambient set");
    assert_eq!(ids(&r).2, vec![5, 7]);
}

pub fn exec_preserve_fds_passes_exactly_those() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let file = c.dir.join("passed.txt");
    std::fs::write(&file, "passed through").unwrap();
    let sh = crate::RuntimeUnderTest::new(crate::bundle::BUSYBOX.into(), c.rt.root.clone(), c.dir.join("out"));
    let run = |extra: &[&str], cmd: &[&str]| {
        let script = "exec 3<\"$1\" 4</; shift; exec \"$@\"";
        let (f, bin, root) = (file.to_string_lossy(), c.rt.binary.to_string_lossy(), c.rt.root.to_string_lossy());
        let mut full: Vec<String> =
            ["sh", "-c", script, "sh", &f, &bin, "--root", &root, "exec"].map(String::from).to_vec();
        full.extend(extra.iter().map(|s| s.to_string()));
        full.push(c.id.clone());
        full.extend(cmd.iter().map(|s| s.to_string()));
        sh.exec_raw(&full, std::process::Stdio::null())
    };
    let o = run(&["--preserve-fds", "1"], &["/probe", "cat", "/proc/self/fd/3"]);
    assert_eq!(o.stdout, "passed through", "{o}");
    let fds = run(&["--preserve-fds", "1"], &["/probe", "report"]).ok().json()["fds"].clone();
    let names: Vec<&String> = fds.as_object().unwrap().keys().collect();
    assert_eq!(names, ["0", "1", "2", "3"], "fd 4 was not preserved: {fds}");
    let fds = run(&[], &["/probe", "report"]).ok().json()["fds"].clone();
    assert_eq!(fds.as_object().unwrap().len(), 3, "without --preserve-fds only stdio: {fds}");
}

pub fn exec_tty_through_console_socket() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let sock = crate::ConsoleSocket::bind(&c.dir.join("console.sock")).expect("bind console socket");
    let s = sock.path.to_string_lossy().into_owned();
    let o = c.exec(&["exec", "--tty", "--detach", "--console-socket", &s, &c.id, "/probe", "report"]);
    assert!(o.success(), "{o}");
    let console = sock.receive(Duration::from_secs(5)).expect("pty master over the console socket");
    let text = read_all(console.master, Duration::from_secs(10));
    let r = parse_json(&text).unwrap_or_else(|| panic!("no report on the pty: {text:?}"));
    for fd in 0..3 {
        assert_eq!(r["tty"][fd]["isatty"], true, "fd {fd}: {}", r["tty"]);
    }
    assert_eq!(r["sid"], r["pid"], "the exec'd process leads its own session");
    let o = c.exec(&["exec", "--tty", "--detach", &c.id, "/probe", "report"]);
    assert!(!o.success() && !o.error_lines().is_empty(), "--tty --detach without a console socket: {o}");
}

/// Reads a pty master until the slave side closes (EIO) or the time is up.
fn read_all(master: std::fs::File, limit: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &master, &mut out);
        let _ = tx.send(out);
    });
    String::from_utf8_lossy(&rx.recv_timeout(limit).unwrap_or_default()).replace("\r\n", "\n")
}

pub fn exec_into_paused_container_needs_ignore_paused() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    c.exec(&["pause", &c.id]).ok();
    let o = c.exec(&["exec", &c.id, "/probe", "exit", "0"]);
    assert_eq!(o.code, Some(255), "{o}");
    assert!(o.stderr.contains("paused"), "{o}");
    let pid_file = c.dir.join("exec.pid");
    let pf = pid_file.to_string_lossy();
    c.exec(&["exec", "--ignore-paused", "--detach", "--pid-file", &pf, &c.id, "/probe", "sleep", "30"]).ok();
    let pid: i64 = std::fs::read_to_string(&pid_file).expect("pid file").trim().parse().unwrap();
    c.exec(&["resume", &c.id]).ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default() != b"/probe\0sleep\x0030\0" {
        assert!(std::time::Instant::now() < deadline, "exec'd process did not run after resume");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn exec_into_stopped_container_says_so() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "0"]));
    c.create_start_wait(&[]);
    let o = c.exec(&["exec", &c.id, "/probe", "report"]);
    assert_eq!(o.code, Some(255), "{o}");
    assert!(o.stderr.contains("stopped") || o.stderr.contains("not running"), "{o}");
}

/// 20 execs from 4 threads at once: each gets its own environment and output, and none is left.
pub fn concurrent_execs() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    std::thread::scope(|s| {
        for t in 0..4 {
            let c = &c;
            s.spawn(move || {
                for i in 0..5 {
                    let token = format!("TOKEN={t}-{i}");
                    let o = c.exec(&["exec", "--env", &token, &c.id, "/probe", "report"]).ok();
                    let env = o.json()["env"].clone();
                    assert!(env.as_array().unwrap().iter().any(|e| *e == token), "{token} missing: {env}");
                }
            });
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(procs(&c).len(), 1, "exec'd processes left behind: {:?}", procs(&c));
}

/// Foreground `--tty`: the runtime relays a new pty to its own stdio; the process sees a
/// terminal on 0-2 and its exit code still comes back. The caller runs in a session whose
/// controlling terminal is a pty (runc insists on one).
pub fn exec_tty_in_the_foreground() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let in_session = |cmd: &[&str]| {
        let sh = crate::RuntimeUnderTest::new(BUSYBOX.into(), c.rt.root.clone(), c.dir.join("out"));
        let script = "\"$@\"; rc=$?; exit $rc";
        let (bin, root) = (c.rt.binary.to_string_lossy(), c.rt.root.to_string_lossy());
        let head = ["sh", "-c", script, "sh", BUSYBOX, "setsid", "-c", &bin, "--root", &root, "exec", "--tty", &c.id];
        let mut full: Vec<String> = head.map(String::from).to_vec();
        full.extend(cmd.iter().map(|s| s.to_string()));
        sh.exec_raw(&full, std::process::Stdio::from(std::fs::File::from(pty.slave.try_clone().unwrap())))
    };
    let o = in_session(&["/probe", "report"]);
    let r = parse_json(&o.stdout.replace("\r\n", "\n")).unwrap_or_else(|| panic!("no report: {o}"));
    for fd in 0..3 {
        assert_eq!(r["tty"][fd]["isatty"], true, "fd {fd}: {}", r["tty"]);
    }
    assert_eq!(in_session(&["/probe", "exit", "4"]).code, Some(4));
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(exec_joins_the_container_namespaces, "runc-cli#exec"),
    entry!(exec_returns_the_process_exit_code, "runc-cli#exec"),
    entry!(exec_with_process_json, "runc-cli#exec"),
    entry!(exec_detach_writes_pid_file, "runc-cli#exec"),
    entry!(exec_env_flag_adds_variables, "runc-cli#exec"),
    entry!(exec_in_created_container_is_refused_or_runs_inside, "runc-cli#exec"),
    entry!(exec_of_missing_binary_fails_cleanly, "runc-cli#exec"),
    entry!(exec_user_numeric, "config.md#user"),
    entry!(exec_user_names_from_container_files, "config.md#user"),
    entry!(exec_cgroup_joins_existing_sub_cgroups, "config-linux.md#control-groups"),
    entry!(exec_returns_128_plus_signal, "runc-cli#exec"),
    entry!(exec_stdin_reaches_the_process_and_stdout_stderr_stay_apart, "runc-cli#exec"),
    entry!(exec_flags_shape_the_process, "runc-cli#exec"),
    entry!(exec_preserve_fds_passes_exactly_those, "runc-cli#exec"),
    entry!(exec_tty_through_console_socket, "config.md#console"),
    entry!(exec_into_paused_container_needs_ignore_paused, "runc-cli#exec"),
    entry!(exec_into_stopped_container_says_so, "runc-cli#exec"),
    entry!(concurrent_execs, "runc-cli#exec"),
    entry!(exec_tty_in_the_foreground, "config.md#console"),
];
