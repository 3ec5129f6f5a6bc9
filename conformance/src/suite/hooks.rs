//! hooks: run on the host at their lifecycle points with the container state on stdin; a failing
//! create-time hook fails create and leaves nothing behind.

use std::path::Path;

use crate::{requires, Case};
use serde_json::{json, Value};

/// A hook that saves its stdin (the state JSON) to `<dir>/<name>.json`.
fn saving_hook(dir: &Path, name: &str) -> Value {
    let out = dir.join(format!("{name}.json"));
    json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}", out.display())]})
}

fn read_state(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn hooks_run_with_state_on_stdin() {
    requires!(root, runtime);
    let c = Case::new();
    let d = c.dir.join("hooks");
    std::fs::create_dir(&d).unwrap();
    // createContainer/startContainer run inside the container (their output path would not exist there);
    // startContainer has a test of its own below.
    let phases = ["prestart", "createRuntime", "poststart", "poststop"];
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        let hooks: serde_json::Map<String, Value> =
            phases.iter().map(|p| (p.to_string(), json!([saving_hook(&d, p)]))).collect();
        s["hooks"] = Value::Object(hooks);
    }));
    c.create(&[]).ok();
    for p in ["prestart", "createRuntime"] {
        let st = read_state(&d, p).unwrap_or_else(|| panic!("{p} hook did not run at create"));
        assert_eq!(st["id"], c.id.as_str(), "{p}: {st}");
        assert_eq!(st["bundle"], c.bundle_dir().to_string_lossy().as_ref(), "{p}");
        assert!(st["pid"].as_i64().is_some_and(|p| p > 0), "{p}: {st}");
    }
    let early: Vec<_> = std::fs::read_dir(&d).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(read_state(&d, "poststart").is_none(), "poststart ran before start: {early:?}");
    c.start().ok();
    let st = read_state(&d, "poststart").expect("poststart hook ran");
    assert_eq!(st["id"], c.id.as_str());
    assert!(read_state(&d, "poststop").is_none(), "poststop ran before delete");
    c.delete(true).ok();
    assert!(read_state(&d, "poststop").is_some(), "poststop hook did not run at delete");
    c.assert_clean();
}

pub fn start_container_hook_runs_inside_the_container() {
    requires!(root, runtime);
    let c = Case::new();
    // startContainer runs in the container's namespaces, so the path is inside the rootfs.
    c.build(c.bundle().args(&["/probe", "cat", "/tmp/from-hook"]).with(|s| {
        s["hooks"] =
            json!({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo hooked > /tmp/from-hook"]}]});
    }));
    assert_eq!(c.run(&[]).ok().stdout, "hooked\n");
}

pub fn failing_create_runtime_hook_fails_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        s["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]});
    }));
    let o = c.create(&[]);
    assert!(!o.success() && o.code.is_some(), "{o}");
    assert!(!o.error_lines().is_empty(), "{o}");
    c.assert_clean();
}

pub fn hook_timeout_is_enforced() {
    requires!(root, runtime);
    let c = Case::new();
    let started = c.dir.join("hook-started");
    c.build(c.bundle().with(|s| {
        let script = format!("touch {}; exec sleep 30", started.display());
        s["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 1}]});
    }));
    let start = std::time::Instant::now();
    let o = c.create(&[]);
    assert!(!o.success() && !o.timed_out, "{o}");
    // Otherwise a runtime that fails create for any reason would pass.
    assert!(started.exists(), "the hook never ran: {o}");
    assert!(start.elapsed().as_secs() < 10, "hook timeout of 1s not enforced");
    c.assert_clean();
}

/// Hooks of one phase run in the order listed.
pub fn hooks_of_one_phase_run_in_order() {
    requires!(root, runtime);
    let c = Case::new();
    let log = c.dir.join("order.log");
    let step = |n: u32| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo {n} >> {}", log.display())]});
    c.build(c.bundle().with(|s| s["hooks"] = json!({"createRuntime": [step(1), step(2), step(3)]})));
    c.create(&[]).ok();
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "1\n2\n3\n");
}

/// A failing poststart hook is a warning: start succeeds and the next hook still runs.
pub fn failing_poststart_hook_is_only_a_warning() {
    requires!(root, runtime);
    let c = Case::new();
    let d = c.dir.join("hooks");
    std::fs::create_dir(&d).unwrap();
    let fail = json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]});
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["hooks"] = json!({"poststart": [fail, saving_hook(&d, "after")]});
    }));
    c.create(&[]).ok();
    c.start().ok();
    assert!(read_state(&d, "after").is_some(), "the hook after the failing one did not run");
    assert_eq!(c.status().as_deref(), Some("running"));
}

/// A failing poststop hook is a warning: delete succeeds, the next hook runs, nothing is left.
pub fn failing_poststop_hook_is_only_a_warning() {
    requires!(root, runtime);
    let c = Case::new();
    let d = c.dir.join("hooks");
    std::fs::create_dir(&d).unwrap();
    let fail = json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]});
    c.build(c.bundle().args(&["/probe", "exit", "0"]).with(|s| {
        s["hooks"] = json!({"poststop": [fail, saving_hook(&d, "after")]});
    }));
    c.create_start_wait(&[]);
    c.delete(false).ok();
    assert!(read_state(&d, "after").is_some(), "the hook after the failing one did not run");
    c.assert_clean();
}

/// createContainer hooks run with the container's rootfs as their working directory (runc enters
/// it before running them; the spec does not say).
pub fn create_container_hook_runs_in_the_rootfs() {
    requires!(root, runtime);
    let c = Case::new();
    let out = c.dir.join("cwd");
    c.build(c.bundle().with(|s| {
        let script = format!("pwd -P > {}", out.display());
        s["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]});
    }));
    c.create(&[]).ok();
    let want = std::fs::canonicalize(c.bundle_dir().join("rootfs")).unwrap();
    let got = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("the hook left no output: {e}"));
    assert_eq!(got.trim(), want.to_string_lossy(), "cwd of the createContainer hook");
}

/// With noNewPrivileges, runc loads the seccomp filter before waiting for `start`, so
/// startContainer hooks already run under it.
pub fn start_container_hook_runs_under_the_seccomp_filter() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/cat", "/tmp/hook-status"]).with(|s| {
        s["process"]["noNewPrivileges"] = json!(true);
        s["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]});
        let script = "grep Seccomp: /proc/self/status > /tmp/hook-status";
        s["hooks"] = json!({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]});
    }));
    let o = c.run(&[]).ok();
    assert_eq!(o.stdout.split_whitespace().collect::<Vec<_>>(), ["Seccomp:", "2"], "{o}");
}

/// A hook without `env` inherits the environment of the process that runs it: the caller's for
/// hooks run by the runtime, the container process's for hooks run in the container (runc's
/// exec.Cmd with a nil Env). A hook with `env` gets exactly that.
pub fn hook_without_env_inherits_its_runners_environment() {
    requires!(root, runtime);
    let mut c = Case::new();
    c.rt.env.push(("HULL_HOOK_CALLER".into(), "caller".into()));
    let d = c.dir.join("hooks");
    std::fs::create_dir(&d).unwrap();
    let show = |out: String| {
        json!({"path": "/bin/sh", "args": ["sh", "-c",
        format!("echo \"caller=$HULL_HOOK_CALLER process=$HULL_HOOK_PROCESS\" > {out}")]})
    };
    let host = |name: &str| show(d.join(name).to_string_lossy().into_owned());
    c.build(c.bundle().args(&["/bin/cat", "/tmp/start-env"]).with(|s| {
        s["process"]["env"].as_array_mut().unwrap().push(json!("HULL_HOOK_PROCESS=process"));
        let mut with_env = host("with-env");
        with_env["env"] = json!(["HULL_HOOK_PROCESS=given"]);
        s["hooks"] = json!({
            "createRuntime": [host("createRuntime"), with_env],
            "poststart": [host("poststart")],
            "startContainer": [show("/tmp/start-env".into())],
        });
    }));
    let o = c.run(&[]).ok();
    let read = |name: &str| std::fs::read_to_string(d.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(read("createRuntime"), "caller=caller process=\n");
    assert_eq!(read("with-env"), "caller= process=given\n");
    assert_eq!(read("poststart"), "caller=caller process=\n");
    assert_eq!(o.stdout, "caller= process=process\n", "startContainer: {o}");
}

/// The six hook kinds of the spec, each of which runs a program by `path`.
const KINDS: [&str; 6] = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

/// Hole 2: `path` must be absolute (config.md); a relative one would run whatever the caller's
/// working directory (or the container's) holds under that name. Refused at create, for every
/// kind, before anything exists: the hook never runs.
pub fn relative_hook_paths_are_refused() {
    requires!(root, runtime);
    for kind in KINDS {
        let mut c = Case::new();
        // From "/" (hull's caller) or from the bundle (runc chdirs there), "bin/sh" finds a shell.
        c.rt.cwd = Some("/".into());
        let marker = c.dir.join("ran");
        let b = c.build(c.bundle().with(|s| {
            let hook = json!({"path": "bin/sh", "args": ["sh", "-c", format!("touch {}", marker.display())]});
            s["hooks"] = json!({ kind: [hook] });
        }));
        std::os::unix::fs::symlink("/bin", b.join("bin")).unwrap();
        let o = c.create(&[]);
        if o.success() {
            c.start();
        }
        c.delete(true);
        c.assert_clean();
        crate::convention!(
            !o.success() && o.code.is_some() && !o.timed_out,
            "{kind}: relative hook path accepted: {o}"
        );
        crate::convention!(!marker.exists(), "{kind}: the relative hook ran");
        crate::convention!(o.error_lines().len() == 1, "{kind}: want one error line: {o}");
    }
}

/// A wrapper runtime binary that opens `fds` (shell redirections such as `7</etc/hostname`) and
/// execs the real runtime: the caller hands the runtime fds it never asked for.
fn with_caller_fds(c: &mut Case, fds: &str) {
    let script = c.dir.join("runtime-with-fds");
    let body = format!("#!/bin/sh\nexec {fds} {} \"$@\"\n", c.rt.binary.display());
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    c.rt = crate::RuntimeUnderTest::new(script, c.rt.root.clone(), c.dir.join("out"));
}

/// The fds a probe report saw besides stdio.
fn foreign_fds(report: &Value) -> Vec<String> {
    let fds = report["fds"].as_object().cloned().unwrap_or_default();
    fds.iter().filter(|(n, _)| !["0", "1", "2"].contains(&n.as_str())).map(|(n, t)| format!("{n} -> {t}")).collect()
}

/// Hooks get stdin (the state), stdout and stderr, nothing else: neither the runtime's own fds
/// (state directory, sockets, the exec fifo) nor fds of the caller, preserved ones included,
/// reach a hook, on the host or (startContainer) inside the container.
pub fn hooks_get_only_stdio() {
    requires!(root, runtime);
    let mut c = Case::new();
    with_caller_fds(&mut c, "3</etc/hostname 7</etc/hostname");
    let d = c.dir.join("hooks");
    std::fs::create_dir(&d).unwrap();
    let probe = c.probe().to_string_lossy().into_owned();
    let host_hook = |name: &str| {
        let out = d.join(format!("{name}.json"));
        json!({"path": probe, "args": ["probe", "report-to", out]})
    };
    c.build(c.bundle().args(&["/probe", "cat", "/tmp/start.json"]).with(|s| {
        s["hooks"] = json!({
            "prestart": [host_hook("prestart")],
            "createRuntime": [host_hook("createRuntime")],
            "startContainer": [{"path": "/probe", "args": ["probe", "report-to", "/tmp/start.json"]}],
            "poststart": [host_hook("poststart")],
            "poststop": [host_hook("poststop")],
        });
    }));
    // Fd 3 is handed to the container on purpose; the hooks must still not see it.
    c.create(&["--preserve-fds", "1"]).ok();
    c.start().ok();
    assert_eq!(c.wait_status("stopped", std::time::Duration::from_secs(10)).as_deref(), Some("stopped"));
    let start = std::fs::read_to_string(c.bundle_dir().join("rootfs/tmp/start.json")).unwrap_or_default();
    c.delete(false).ok();
    let mut seen = vec![("startContainer".to_owned(), start)];
    for name in ["prestart", "createRuntime", "poststart", "poststop"] {
        seen.push((name.to_owned(), std::fs::read_to_string(d.join(format!("{name}.json"))).unwrap_or_default()));
    }
    let (mut leaks, mut runc_leaks) = (Vec::new(), Vec::new());
    for (name, text) in seen {
        let r: Value =
            serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{name}: no report ({e}): {text:?}"));
        let extra = foreign_fds(&r);
        // runc 1.1.5 hands startContainer hooks the preserved fds and poststop hooks the caller's.
        let list = if ["startContainer", "poststop"].contains(&name.as_str()) { &mut runc_leaks } else { &mut leaks };
        if !extra.is_empty() {
            list.push(format!("{name}: {extra:?}"));
        }
    }
    assert!(leaks.is_empty(), "hooks got fds beyond stdio: {leaks:#?}");
    crate::convention!(runc_leaks.is_empty(), "hooks got fds beyond stdio: {runc_leaks:#?}");
    c.assert_clean();
}

/// A hook's timeout holds even when the hook never reads its stdin and the state is larger than
/// a pipe holds (a writer blocked on the pipe must not outlive the deadline).
pub fn hook_timeout_holds_when_stdin_is_never_read() {
    requires!(root, runtime);
    let c = Case::new();
    let started = c.dir.join("hook-started");
    let big: String = "x".repeat(256 * 1024);
    c.build(c.bundle().with(|s| {
        s["annotations"] = json!({ "big": big });
        let script = format!("touch {}; exec sleep 30", started.display());
        s["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 1}]});
    }));
    let start = std::time::Instant::now();
    let o = c.create(&[]);
    assert!(!o.success() && !o.timed_out, "{o}");
    assert!(started.exists(), "the hook never ran: {o}");
    assert!(start.elapsed().as_secs() < 10, "hook timeout of 1s not enforced: {:?}", start.elapsed());
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(hooks_run_with_state_on_stdin, "config.md#posix-platform-hooks"),
    entry!(start_container_hook_runs_inside_the_container, "config.md#posix-platform-hooks"),
    entry!(failing_create_runtime_hook_fails_create, "config.md#posix-platform-hooks"),
    entry!(hook_timeout_is_enforced, "config.md#posix-platform-hooks"),
    entry!(hooks_of_one_phase_run_in_order, "config.md#posix-platform-hooks"),
    entry!(failing_poststart_hook_is_only_a_warning, "config.md#posix-platform-hooks"),
    entry!(failing_poststop_hook_is_only_a_warning, "config.md#posix-platform-hooks"),
    entry!(create_container_hook_runs_in_the_rootfs, "config.md#createcontainer-hooks"),
    entry!(start_container_hook_runs_under_the_seccomp_filter, "config.md#startcontainer-hooks"),
    entry!(hook_without_env_inherits_its_runners_environment, "config.md#posix-platform-hooks"),
    entry!(
        relative_hook_paths_are_refused,
        "security#hole2-hook-paths",
        allowed = "config.md requires an absolute path; runc 1.1.5 runs a relative one (from the bundle directory, or the container's cwd) where hull refuses all six kinds"
    ),
    entry!(
        hooks_get_only_stdio,
        "security#hooks-fds",
        allowed = "runc 1.1.5 passes the preserved fds to startContainer hooks and the caller's fds to poststop hooks"
    ),
    entry!(hook_timeout_holds_when_stdin_is_never_read, "security#hooks-timeout"),
];
