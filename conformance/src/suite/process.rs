//! process: args, env, cwd, user/groups, umask, capabilities, rlimits, noNewPrivileges, fds, terminal.

use std::io::Read;
use std::time::Duration;

use crate::bundle::{TEST_GID, TEST_UID};
use crate::{requires, Case, ConsoleSocket};
use serde_json::{json, Value};

const CHOWN: u64 = 1 << 0;
const KILL: u64 = 1 << 5;
const NET_BIND_SERVICE: u64 = 1 << 10;
const AUDIT_WRITE: u64 = 1 << 29;

pub fn args_reach_the_process_verbatim() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().args(&["/probe", "report", "with space", "", "ünïcode"]));
    assert_eq!(r["args"], json!(["/probe", "report", "with space", "", "ünïcode"]));
}

pub fn args_zero_is_resolved_through_path() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["echo", "via PATH"]));
    assert_eq!(c.run(&[]).ok().stdout, "via PATH\n");
}

pub fn env_is_exactly_the_configured_list() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        let env = s["process"]["env"].as_array_mut().unwrap();
        env.push(json!("FOO=bar=baz"));
        env.push(json!("EMPTY="));
    }));
    let mut env: Vec<&str> = r["env"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    env.sort();
    let mut want = vec![
        "EMPTY=",
        "FOO=bar=baz",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm",
    ];
    let marker = format!("{}={}", crate::bundle::MARKER_ENV, c.id);
    want.push(&marker);
    want.sort();
    // runc adds HOME when the config lacks it (from /etc/passwd of the container user).
    env.retain(|e| !e.starts_with("HOME="));
    assert_eq!(env, want);
}

pub fn home_defaults_from_container_passwd() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["process"]["user"] = json!({"uid": TEST_UID, "gid": TEST_GID})));
    let env: Vec<&str> = r["env"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    crate::convention!(env.contains(&"HOME=/home/test"), "no HOME from the container's passwd: {env:?}");
}

pub fn cwd_is_set() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["process"]["cwd"] = json!("/tmp")));
    assert_eq!(r["cwd"], "/tmp");
}

pub fn cwd_is_created_when_missing() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["cwd"] = json!("/does/not/exist")));
    let out = c.run(&[]);
    c.assert_clean();
    crate::convention!(out.success(), "a missing cwd is not created: {out}");
    assert_eq!(out.json()["cwd"], "/does/not/exist");
}

pub fn uid_gid_and_additional_gids() {
    requires!(root, runtime);
    let c = Case::new();
    let r =
        c.report(c.bundle().with(|s| {
            s["process"]["user"] = json!({"uid": TEST_UID, "gid": TEST_GID, "additionalGids": [5, 100, 4242]})
        }));
    assert_eq!((r["uid"].as_u64(), r["euid"].as_u64()), (Some(TEST_UID.into()), Some(TEST_UID.into())));
    assert_eq!((r["gid"].as_u64(), r["egid"].as_u64()), (Some(TEST_GID.into()), Some(TEST_GID.into())));
    let mut groups: Vec<u64> = r["groups"].as_array().unwrap().iter().filter_map(Value::as_u64).collect();
    groups.sort();
    // runc also keeps the primary gid in the list; the configured ones must all be there.
    groups.retain(|g| *g != u64::from(TEST_GID));
    assert_eq!(groups, vec![5, 100, 4242]);
}

pub fn root_user_has_no_supplementary_groups_by_default() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    assert_eq!((r["uid"].as_u64(), r["gid"].as_u64()), (Some(0), Some(0)));
    let groups: Vec<u64> =
        r["groups"].as_array().unwrap().iter().filter_map(Value::as_u64).filter(|g| *g != 0).collect();
    assert!(groups.is_empty(), "host groups leaked: {groups:?}");
}

pub fn umask_is_applied() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["process"]["user"]["umask"] = json!(0o027)));
    assert_eq!(r["umask"].as_u64(), Some(0o027));
}

pub fn default_umask_is_0022() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    crate::convention!(r["umask"].as_u64() == Some(0o022), "default umask {:?}, runc's is 0o22", r["umask"]);
}

fn caps(r: &Value) -> [u64; 5] {
    ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"].map(|k| r["caps"][k].as_u64().unwrap_or(u64::MAX))
}

pub fn capabilities_all_five_sets_for_non_root() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        s["process"]["user"] = json!({"uid": TEST_UID, "gid": TEST_GID});
        s["process"]["capabilities"] = json!({
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_CHOWN", "CAP_KILL"],
            "effective": ["CAP_CHOWN", "CAP_KILL"],
            "inheritable": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_CHOWN"],
        });
    }));
    // For a non-root user execve keeps only the ambient set in permitted/effective (capabilities(7)).
    let [inh, prm, eff, bnd, amb] = caps(&r);
    assert_eq!(bnd, CHOWN | KILL | NET_BIND_SERVICE, "bounding");
    assert_eq!(inh, CHOWN | NET_BIND_SERVICE, "inheritable");
    assert_eq!(amb, CHOWN, "ambient");
    assert_eq!(prm, CHOWN, "permitted");
    assert_eq!(eff, CHOWN, "effective");
}

pub fn capabilities_for_root_are_bounded() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    let [_, prm, eff, bnd, _] = caps(&r);
    let want = AUDIT_WRITE | KILL | NET_BIND_SERVICE;
    assert_eq!(bnd, want, "bounding");
    // For uid 0, execve grants permitted = inheritable | bounding, effective = permitted.
    assert_eq!(prm, want, "permitted");
    assert_eq!(eff, want, "effective");
}

pub fn empty_capabilities_drop_everything() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["process"]["capabilities"] = json!({})));
    assert_eq!(caps(&r), [0, 0, 0, 0, 0]);
}

/// An unknown capability name is a warning, not an error (runtime-spec 1.1+: "MUST be logged as a
/// warning by the runtime. Runtimes SHOULD NOT fail if the container configuration requests
/// capabilities that cannot be granted"); the known ones still apply. The OCI validation suite's
/// process_capabilities_fail runs this (runc: "ignoring unknown or unavailable capabilities").
pub fn unknown_capability_is_a_warning() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        s["process"]["capabilities"] = json!({
            "bounding": ["CAP_KILL", "CAP_TEST"],
            "permitted": ["CAP_KILL", "CAP_HULL_NO_SUCH_CAP"],
            "effective": ["CAP_KILL"],
        });
    }));
    // Warnings go to the log file (hull keeps stderr for the container; runc logs there too).
    let log = c.dir.join("runtime.log");
    let (log_s, bundle) = (log.to_string_lossy().into_owned(), c.bundle_dir().to_string_lossy().into_owned());
    let out = c.exec(&["--log", &log_s, "run", "--bundle", &bundle, &c.id]);
    assert!(out.success(), "an unknown capability failed the container: {out}");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("warning") && logged.contains("CAP_TEST"), "no warning naming CAP_TEST: {logged:?}");
    c.assert_clean();
    let [_, prm, eff, bnd, _] = caps(&out.json());
    assert_eq!([prm, eff, bnd], [KILL; 3], "permitted, effective, bounding");
}

pub fn rlimits_are_applied() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        s["process"]["rlimits"] = json!([
            {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
            {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        ])
    }));
    assert_eq!(r["rlimits"]["RLIMIT_NOFILE"], json!([100, 200]));
    assert_eq!(r["rlimits"]["RLIMIT_CORE"], json!([0, 0]));
    assert_eq!(r["rlimits"]["RLIMIT_NPROC"], json!([500, 600]));
}

pub fn no_new_privileges_true() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["process"]["noNewPrivileges"] = json!(true)));
    assert_eq!(r["no_new_privs"].as_u64(), Some(1));
}

pub fn no_new_privileges_false() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| s["process"]["noNewPrivileges"] = json!(false)));
    assert_eq!(r["no_new_privs"].as_u64(), Some(0));
}

pub fn only_stdio_fds_are_open() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    let mut fds: Vec<&String> = r["fds"].as_object().unwrap().keys().collect();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"], "leaked fds: {}", r["fds"]);
}

pub fn non_terminal_stdio_is_not_a_tty() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    for fd in 0..3 {
        assert_eq!(r["tty"][fd]["isatty"], false, "fd {fd}: {}", r["tty"]);
    }
}

pub fn process_is_session_leader_in_pid_namespace() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    assert_eq!(r["pid"].as_u64(), Some(1));
    assert_eq!(r["sid"].as_u64(), Some(1), "runc makes the init a session leader (setsid)");
}

/// Reads the pty master until the slave side is gone (EIO) or the timeout passes.
fn read_master(mut master: std::fs::File, timeout: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(all);
    });
    String::from_utf8_lossy(&rx.recv_timeout(timeout).unwrap_or_default()).replace("\r\n", "\n")
}

pub fn terminal_via_console_socket() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["terminal"] = json!(true)));
    let sock = ConsoleSocket::bind(&c.dir.join("console.sock")).expect("bind console socket");
    c.create(&["--console-socket", &sock.path.to_string_lossy()]).ok();
    let console = sock.receive(Duration::from_secs(5)).expect("pty master over the console socket");
    assert_eq!(console.fd_count, 1, "exactly one fd in the message");
    assert!(!console.name.is_empty(), "message data names the slave");
    let target = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&console.master)));
    let target = target.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    assert!(target.ends_with("ptmx"), "received fd is not a pty master: {target}");
    c.start().ok();
    let text = read_master(console.master, Duration::from_secs(10));
    let r = crate::runtime::parse_json(&text).unwrap_or_else(|| panic!("no report on the pty: {text:?}"));
    for fd in 0..3 {
        assert_eq!(r["tty"][fd]["isatty"], true, "fd {fd}: {}", r["tty"]);
        assert_eq!(r["tty"][fd]["name"], "/dev/pts/0", "fd {fd}");
    }
    // The container's console is the controlling terminal: /dev/console exists and is the slave.
    assert!(r["dev"]["console"].is_object(), "no /dev/console: {}", r["dev"]);
    assert_eq!(r["sid"].as_u64(), Some(1));
}

pub fn seccomp_errno_rule_applies() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", "mkdir /blocked; echo rc=$?; grep Seccomp: /proc/self/status"]).with(
        |s| {
            s["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
            })
        },
    ));
    let o = c.run(&[]).ok();
    assert!(o.stdout.contains("rc=1"), "mkdir was not blocked: {o}");
    assert!(o.stdout.contains("Seccomp:\t2"), "no filter installed: {o}");
    assert!(o.stderr.contains("Operation not permitted"), "errnoRet 1 is EPERM: {o}");
    assert!(!c.bundle_dir().join("rootfs/blocked").exists());
}

pub fn no_seccomp_by_default() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    assert_eq!(r["seccomp"].as_u64(), Some(0));
}

/// linux.sysctl lands in the container's own namespaces (and not on the host).
pub fn sysctls_are_set_inside() {
    requires!(root, runtime);
    let c = Case::new();
    let host = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").unwrap_or_default();
    c.build(
        c.bundle()
            .args(&["/bin/cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shmmni"])
            .with(|s| {
                s["linux"]["sysctl"] = json!({"net.ipv4.ip_unprivileged_port_start": "80", "kernel/shmmni": "1234"});
            }),
    );
    let o = c.run(&[]).ok();
    assert_eq!(o.stdout, "80\n1234\n", "{o}");
    assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").unwrap_or_default(), host);
    c.assert_clean();
}

/// process.oomScoreAdj: raising works anywhere; lowering needs CAP_SYS_RESOURCE, which this
/// machine withholds, so there it must fail with an error naming the file, leaving nothing.
pub fn oom_score_adj_is_applied_or_refused_clearly() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(
        c.bundle().args(&["/bin/cat", "/proc/self/oom_score_adj"]).with(|s| s["process"]["oomScoreAdj"] = json!(500)),
    );
    assert_eq!(c.run(&[]).ok().stdout, "500\n");
    c.assert_clean();
    let c = Case::new();
    let lower = -500;
    c.build(
        c.bundle().args(&["/bin/cat", "/proc/self/oom_score_adj"]).with(|s| s["process"]["oomScoreAdj"] = json!(lower)),
    );
    let o = c.run(&[]);
    if o.success() {
        assert_eq!(o.stdout, format!("{lower}\n"));
    } else {
        assert!(o.stderr.contains("oom_score_adj"), "{o}");
    }
    c.assert_clean();
}

/// config.md#process: `cwd` MUST be absolute; runc and hull refuse a relative one at create.
pub fn relative_cwd_is_refused() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["cwd"] = json!("tmp")));
    let o = c.create(&[]);
    crate::convention!(!o.success() && o.code.is_some(), "relative cwd accepted: {o}");
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(args_reach_the_process_verbatim, "config.md#process"),
    entry!(args_zero_is_resolved_through_path, "config.md#process"),
    entry!(env_is_exactly_the_configured_list, "config.md#process"),
    entry!(
        home_defaults_from_container_passwd,
        "config.md#process",
        allowed = "HOME from the container's /etc/passwd is runc behaviour; the spec only passes process.env"
    ),
    entry!(cwd_is_set, "config.md#process"),
    entry!(
        cwd_is_created_when_missing,
        "config.md#process",
        allowed = "the spec does not say whether a missing cwd is created; runc creates it"
    ),
    entry!(uid_gid_and_additional_gids, "config.md#user"),
    entry!(root_user_has_no_supplementary_groups_by_default, "config.md#user"),
    entry!(umask_is_applied, "config.md#user"),
    entry!(
        default_umask_is_0022,
        "config.md#user",
        allowed = "the default umask (0022) is runc behaviour; the spec leaves it to the runtime"
    ),
    entry!(capabilities_all_five_sets_for_non_root, "config.md#linux-process"),
    entry!(capabilities_for_root_are_bounded, "config.md#linux-process"),
    entry!(empty_capabilities_drop_everything, "config.md#linux-process"),
    entry!(unknown_capability_is_a_warning, "config.md#linux-process"),
    entry!(rlimits_are_applied, "config.md#posix-process"),
    entry!(no_new_privileges_true, "config.md#linux-process"),
    entry!(no_new_privileges_false, "config.md#linux-process"),
    entry!(only_stdio_fds_are_open, "runc-cli#stdio"),
    entry!(non_terminal_stdio_is_not_a_tty, "config.md#process"),
    entry!(process_is_session_leader_in_pid_namespace, "runc-cli#stdio"),
    entry!(terminal_via_console_socket, "runc-cli#console-socket"),
    entry!(seccomp_errno_rule_applies, "config-linux.md#seccomp"),
    entry!(no_seccomp_by_default, "config-linux.md#seccomp"),
    entry!(sysctls_are_set_inside, "config-linux.md#sysctl"),
    entry!(oom_score_adj_is_applied_or_refused_clearly, "config.md#linux-process"),
    entry!(
        relative_cwd_is_refused,
        "config.md#process",
        allowed = "the absolute cwd is a MUST on the config; refusing a relative one is runc's and hull's reading"
    ),
];
