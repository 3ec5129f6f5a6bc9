//! Attacks the reference security list names, each against a real container: the runtime binary
//! through /proc/PID/exe (T1, CVE-2019-5736), a cwd leaking a runtime fd (T3, CVE-2024-21626),
//! a /proc symlink in the rootfs (T6, CVE-2019-19921), a hostile /dev/null for masking (T9,
//! CVE-2025-31133), and seccomp's default-deny seen from inside. Then the holes of issue 14 (see
//! docs/security.md): kernel-special ids, files written in directories the runtime does not own,
//! state readable by other users, and non-procfs mounts on /proc.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::{requires, Case, Outcome, RuntimeUnderTest};
use serde_json::{json, Value};

/// Refused: non-zero exit, one error line (runc's and hull's form), nothing left behind.
#[track_caller]
fn refused(c: &Case, o: &Outcome, what: &str) {
    assert!(!o.success() && o.code.is_some() && !o.timed_out, "{what}: expected a refusal: {o}");
    assert!(!o.stderr.contains("panicked"), "{what}: the runtime panicked: {o}");
    assert_eq!(o.error_lines().len(), 1, "{what}: want one error line: {o}");
    c.assert_clean();
}

/// T1: while the init still runs the runtime's image (created, before start), its exe must not
/// be writable, neither through the magic link nor by an O_PATH reopen.
pub fn runtime_binary_is_not_writable_through_proc_exe() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    let pid = c.state_json().and_then(|s| s["pid"].as_i64()).expect("pid");
    let err =
        std::fs::OpenOptions::new().write(true).open(format!("/proc/{pid}/exe")).expect_err("exe opened for writing");
    // EROFS (sealed overlay), ETXTBSY or EPERM (sealed memfd): anything but success.
    assert!(matches!(err.raw_os_error(), Some(libc::EROFS | libc::ETXTBSY | libc::EPERM | libc::EACCES)), "{err}");
    c.delete(true).ok();
    c.assert_clean();
}

/// T3: a cwd of /proc/self/fd/N must never land on a host directory the runtime held open.
pub fn cwd_through_runtime_fds_never_reaches_the_host() {
    requires!(root, runtime);
    for n in 3..16 {
        let c = Case::new();
        let cwd = format!("/proc/self/fd/{n}");
        c.build(c.bundle().args(&["/probe", "report"]).with(|s| s["process"]["cwd"] = json!(cwd)));
        let o = c.run(&[]);
        if o.success() {
            let r: Value = serde_json::from_str(o.stdout.trim()).expect("probe report");
            let seen = r["cwd"].as_str().unwrap_or_default();
            assert!(
                !seen.contains("unreachable") && !seen.starts_with("/sys") && !seen.starts_with("/run"),
                "fd {n}: cwd {seen}"
            );
        }
        c.assert_clean();
    }
}

/// T6: /proc in the rootfs is a symlink out of it: create fails clearly and leaves nothing.
pub fn proc_symlink_in_rootfs_is_refused() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle());
    let proc_dir = b.join("rootfs/proc");
    let _ = std::fs::remove_dir_all(&proc_dir);
    std::os::unix::fs::symlink("/tmp", &proc_dir).unwrap();
    let o = c.create(&[]);
    assert!(!o.success(), "{o}");
    assert!(!o.error_lines().is_empty(), "{o}");
    c.assert_clean();
}

/// T9: with /dev from the rootfs (no /dev mount), /dev/null is a symlink to a file the attacker
/// wants masked paths bound from: masking must refuse it rather than bind it.
pub fn hostile_dev_null_is_not_used_for_masking() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle().with(|s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.retain(|m| !m["destination"].as_str().is_some_and(|d| d.starts_with("/dev")));
        s["linux"]["maskedPaths"] = json!(["/proc/kcore"]);
    }));
    let dev = b.join("rootfs/dev");
    std::fs::create_dir_all(&dev).unwrap();
    let _ = std::fs::remove_file(dev.join("null"));
    std::os::unix::fs::symlink("/etc/passwd", dev.join("null")).unwrap();
    let o = c.run(&[]);
    // Either refused, or the node was re-created as the real device: never the passwd file.
    if o.success() {
        assert!(!Path::new(&b.join("rootfs/dev/null")).is_symlink(), "symlink was used");
    } else {
        assert!(!o.error_lines().is_empty(), "{o}");
    }
    c.assert_clean();
}

/// A Docker-like default-deny profile seen from inside: unshare, mount and keyctl get EPERM,
/// ordinary work goes on.
pub fn seccomp_errno_rules_apply_inside() {
    requires!(root, runtime);
    let c = Case::new();
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["unshare", "mount", "keyctl", "mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    });
    c.build(c.bundle().args(&["/bin/sh", "-c", "mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status"]).with(
        |s| {
            s["linux"]["seccomp"] = profile;
            s["root"]["readonly"] = json!(false);
        },
    ));
    let o = c.run(&[]);
    assert!(o.success(), "{o}");
    assert!(o.stdout.contains("rc=1") && o.stdout.contains("Seccomp:\t2"), "{o}");
    c.assert_clean();
}

/// SCMP_ACT_KILL_PROCESS: the process making the call dies of SIGSYS (the shell sees 128+31).
pub fn seccomp_kill_process_kills() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", "mkdir /tmp/y; echo status=$?"]).with(|s| {
        s["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]
        });
    }));
    let o = c.run(&[]);
    assert!(o.success(), "{o}");
    assert!(o.stdout.contains("status=159"), "{o}");
    c.assert_clean();
}

/// A profile error is a clear error at create, with nothing left behind.
pub fn seccomp_profile_errors_fail_create_cleanly() {
    requires!(root, runtime);
    for bad in [
        json!({"defaultAction": "SCMP_ACT_BOGUS"}),
        json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]}),
    ] {
        let c = Case::new();
        c.build(c.bundle().with(|s| s["linux"]["seccomp"] = bad));
        let o = c.create(&[]);
        assert!(!o.success() && !o.error_lines().is_empty(), "{o}");
        c.assert_clean();
    }
}

/// Hole 1: `(uid_t)-1` means "leave unchanged" to setresuid/setresgid, so 4294967295 would keep
/// the runtime's root identity. The user, group and additional groups of the init are refused.
pub fn kernel_special_ids_are_refused_at_create() {
    requires!(root, runtime);
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit); 3] = [
        ("uid", |s| s["process"]["user"]["uid"] = json!(4294967295u32)),
        ("gid", |s| s["process"]["user"]["gid"] = json!(4294967295u32)),
        ("additionalGids", |s| s["process"]["user"]["additionalGids"] = json!([4294967295u32])),
    ];
    for (what, edit) in cases {
        let c = Case::new();
        c.build(c.bundle().with(edit));
        let o = c.create(&[]);
        refused(&c, &o, what);
    }
}

/// Hole 1 for exec: `--user`, `--additional-gids` and a `--process` file with -1 ids are
/// refused and start nothing.
pub fn kernel_special_ids_are_refused_at_exec() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    let process = |user: Value| json!({"terminal": false, "user": user, "cwd": "/", "args": ["/probe", "report"], "env": ["PATH=/bin"]});
    let files = [
        ("p-uid", process(json!({"uid": 4294967295u32, "gid": 0}))),
        ("p-gid", process(json!({"uid": 0, "gid": 4294967295u32}))),
        ("p-groups", process(json!({"uid": 0, "gid": 0, "additionalGids": [4294967295u32]}))),
    ];
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for (name, p) in &files {
        let path = c.dir.join(format!("{name}.json"));
        std::fs::write(&path, p.to_string()).unwrap();
        runs.push((name.to_string(), vec!["--process".into(), path.to_string_lossy().into_owned()]));
    }
    for user in ["4294967295", "0:4294967295", "4294967295:0"] {
        runs.push((format!("--user {user}"), vec!["--user".into(), user.into(), "/probe".into(), "report".into()]));
    }
    runs.push(("-g".into(), ["--additional-gids", "4294967295", "/probe", "report"].map(String::from).to_vec()));
    for (what, extra) in runs {
        let mut args = vec!["exec", &c.id];
        args.splice(1..1, extra.iter().map(String::as_str));
        let o = c.exec(&args);
        assert!(!o.success() && o.code.is_some(), "{what}: exec with a -1 id was not refused: {o}");
        assert!(!o.stdout.contains("\"uid\""), "{what}: the process ran: {o}");
    }
    assert_eq!(c.status().as_deref(), Some("running"));
}

/// Hole 3: whoever can write the pid file's directory plants symlinks at the names a runtime
/// might use for its temporary file, and at the pid file itself. Root must never write through
/// them: the victim stays as it was, and a pid file that was written is a regular file.
pub fn pid_file_is_never_written_through_a_symlink() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    let dir = c.dir.join("pids");
    std::fs::create_dir(&dir).unwrap();
    let victim = c.dir.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let plant = |name: &str| {
        for tmp in [format!(".{name}.hull-tmp"), format!(".{name}"), format!("{name}.tmp"), format!(".{name}.tmp")] {
            std::os::unix::fs::symlink(&victim, dir.join(tmp)).unwrap();
        }
    };
    plant("init.pid");
    plant("exec.pid");
    std::os::unix::fs::symlink(&victim, dir.join("exec.pid")).unwrap();
    let check = |o: &Outcome, name: &str| {
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "{name}: written through a symlink: {o}");
        if o.success() {
            let p = dir.join(name);
            let md = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{name}: {e}: {o}"));
            assert!(md.is_file(), "{name} is not a regular file: {o}");
            let pid: i32 = std::fs::read_to_string(&p).unwrap().trim().parse().expect("a bare pid");
            assert!(pid > 0);
        } else {
            assert_eq!(o.error_lines().len(), 1, "{name}: want one error line: {o}");
        }
    };
    let init_pid = dir.join("init.pid");
    let o = c.create(&["--pid-file", &init_pid.to_string_lossy()]);
    check(&o, "init.pid");
    if !o.success() {
        c.assert_clean();
        return;
    }
    c.start().ok();
    let exec_pid = dir.join("exec.pid");
    let o = c.exec(&["exec", "--detach", "--pid-file", &exec_pid.to_string_lossy(), &c.id, "/probe", "sleep", "5"]);
    check(&o, "exec.pid");
}

/// Hole 4: the state root a runtime creates is 0700 and nothing in a container's state directory
/// is readable by other users (config, annotations, hook environments live there); a root that
/// already exists with wider permissions is used as it is.
pub fn state_is_private_to_its_owner() {
    requires!(root, runtime);
    let mut c = Case::new();
    let root = c.dir.join("fresh/state");
    c.rt = RuntimeUnderTest::new(c.rt.binary.clone(), root.clone(), c.dir.join("out"));
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["annotations"] = json!({"secret": "s3cr3t"});
    }));
    c.create(&[]).ok();
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&root), 0o700, "new state root");
    for e in std::fs::read_dir(c.rt.state_dir(&c.id)).unwrap().flatten() {
        let m = mode(&e.path());
        assert_eq!(m & 0o044, 0, "{} is readable by others: {m:o}", e.path().display());
    }
    c.delete(true).ok();
    c.assert_clean();

    let mut c = Case::new();
    let root = c.dir.join("wide");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    c.rt = RuntimeUnderTest::new(c.rt.binary.clone(), root.clone(), c.dir.join("out"));
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    assert_eq!(mode(&root), 0o755, "an existing state root must be used as it is");
    c.delete(true).ok();
    c.assert_clean();
}

/// Hole 5: only procfs may be mounted on /proc and only sysfs on /sys; below /proc only binds of
/// the files lxcfs-style tools overlay. Anything else is refused before the container exists.
pub fn only_procfs_on_proc_and_sysfs_on_sys() {
    requires!(root, runtime);
    let host = |c: &Case| {
        let d = c.dir.join("hostdir");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("file"), "fake\n").unwrap();
        d
    };
    let bind = |dest: &str, src: &Path| json!({"destination": dest, "type": "bind", "source": src, "options": ["rbind", "ro"]});
    let tmpfs = |dest: &str| json!({"destination": dest, "type": "tmpfs", "source": "tmpfs"});
    type MountOf = Box<dyn Fn(&Path) -> Value>;
    let refused_mounts: [(&str, MountOf); 5] = [
        ("bind on /proc", Box::new(move |d| bind("/proc", d))),
        ("tmpfs on /proc", Box::new(move |_| tmpfs("/proc"))),
        ("bind on /proc/sys", Box::new(move |d| bind("/proc/sys", d))),
        ("bind on /sys", Box::new(move |d| bind("/sys", d))),
        ("tmpfs on /sys", Box::new(move |_| tmpfs("/sys"))),
    ];
    for (what, mount) in &refused_mounts {
        let c = Case::new();
        let d = host(&c);
        let m = mount(&d);
        c.build(c.bundle().with(|s| s["mounts"].as_array_mut().unwrap().push(m)));
        let o = c.create(&[]);
        if what.ends_with("/sys") {
            // runc 1.1.5 checks /proc only.
            c.delete(true);
            c.assert_clean();
            crate::convention!(!o.success() && o.error_lines().len() == 1, "{what}: expected a refusal: {o}");
        } else {
            refused(&c, &o, what);
        }
    }
    // lxcfs overlays these files: a bind of a regular file onto one of them is fine.
    let c = Case::new();
    let d = host(&c);
    let m = bind("/proc/uptime", &d.join("file"));
    c.build(c.bundle().args(&["/probe", "cat", "/proc/uptime"]).with(|s| s["mounts"].as_array_mut().unwrap().push(m)));
    assert_eq!(c.run(&[]).ok().stdout, "fake\n");
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(runtime_binary_is_not_writable_through_proc_exe, "security#t1-cve-2019-5736"),
    entry!(cwd_through_runtime_fds_never_reaches_the_host, "security#t3-cve-2024-21626"),
    entry!(proc_symlink_in_rootfs_is_refused, "security#t6-cve-2019-19921"),
    entry!(hostile_dev_null_is_not_used_for_masking, "security#t9-cve-2025-31133"),
    entry!(seccomp_errno_rules_apply_inside, "config-linux.md#seccomp"),
    entry!(seccomp_kill_process_kills, "config-linux.md#seccomp"),
    entry!(seccomp_profile_errors_fail_create_cleanly, "config-linux.md#seccomp"),
    entry!(kernel_special_ids_are_refused_at_create, "security#hole1-special-ids"),
    entry!(kernel_special_ids_are_refused_at_exec, "security#hole1-special-ids"),
    entry!(pid_file_is_never_written_through_a_symlink, "security#hole3-foreign-dirs"),
    entry!(state_is_private_to_its_owner, "security#hole4-state-modes"),
    entry!(
        only_procfs_on_proc_and_sysfs_on_sys,
        "security#hole5-proc-mounts",
        allowed = "runc 1.1.5 refuses non-procfs mounts on /proc but accepts anything on /sys"
    ),
];
