//! Bad input: each case must exit non-zero, print one clear error line on stderr, and leave nothing behind.

use crate::{requires, Case, Outcome};
use serde_json::json;

/// Non-zero exit, exactly one non-empty stderr line, mentioning one of `words` (case-insensitive).
/// The exit status is the spec's requirement; the one-line form and its words are runc's and hull's convention.
fn assert_clear_failure(o: &Outcome, words: &[&str]) {
    assert!(!o.success() && o.code.is_some() && !o.timed_out, "expected a clean failure: {o}");
    let lines = o.error_lines();
    crate::convention!(lines.len() == 1, "want one error line: {o}");
    let line = lines[0].to_lowercase();
    crate::convention!(
        words.iter().any(|w| line.contains(&w.to_lowercase())),
        "error line should mention one of {words:?}: {o}"
    );
}

/// create must fail (the spec's part) and leave nothing behind (hull's bar) before the wording is checked.
fn create_fails(c: &Case, words: &[&str]) {
    let o = c.create(&[]);
    assert!(!o.success() && o.code.is_some() && !o.timed_out, "expected a clean failure: {o}");
    failed_create_is_clean(c, &o, words);
}

/// For input the spec lets a runtime refuse at create or later: succeeding at create is an allowed difference.
fn create_fails_by_convention(c: &Case, words: &[&str]) {
    let o = c.create(&[]);
    crate::convention!(!o.success() && o.code.is_some() && !o.timed_out, "create accepted it: {o}");
    failed_create_is_clean(c, &o, words);
}

fn failed_create_is_clean(c: &Case, o: &Outcome, words: &[&str]) {
    c.assert_clean();
    assert!(!c.state().success(), "state answers for a container whose create failed");
    assert_clear_failure(o, words);
}

pub fn malformed_json() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().raw_config("{\"ociVersion\": \"1.0.2\", \"process\": {"));
    create_fails(&c, &["json", "config", "unexpected", "EOF"]);
}

pub fn wrong_type_for_args() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["args"] = json!("/probe report")));
    create_fails(&c, &["args", "json", "unmarshal", "type"]);
}

pub fn wrong_type_for_uid() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["user"]["uid"] = json!("root")));
    create_fails(&c, &["uid", "json", "unmarshal", "type"]);
}

pub fn missing_config_json() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().no_config());
    create_fails(&c, &["config.json", "no such file"]);
}

pub fn missing_rootfs() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().no_rootfs());
    create_fails(&c, &["rootfs", "root", "no such file"]);
}

pub fn missing_executable_fails_at_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/no/such/binary"]));
    create_fails_by_convention(&c, &["/no/such/binary", "executable", "no such file"]);
}

pub fn missing_executable_in_path_fails_at_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["no-such-command"]));
    create_fails_by_convention(&c, &["no-such-command", "executable file not found"]);
}

pub fn missing_process_fails_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        s.as_object_mut().unwrap().remove("process");
    }));
    create_fails_by_convention(&c, &["process", "args"]);
}

pub fn unknown_namespace_type() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "bogus"}))));
    create_fails(&c, &["namespace", "bogus"]);
}

pub fn terminal_without_console_socket() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["terminal"] = json!(true)));
    create_fails(&c, &["console", "tty", "terminal"]);
}

pub fn invalid_container_ids() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle());
    let mut refused = Vec::new();
    // The spec sets no character set for ids: refusing a space is runc's rule; path tricks are a hazard.
    for id in ["../escape", "a/b", "", ".", ".."] {
        let o = c.exec(&["create", "--bundle", &b.to_string_lossy(), id]);
        assert!(!o.success(), "id {id:?} accepted: {o}");
        refused.push(o);
    }
    // Nothing was created next to or above the state root.
    let parent: Vec<_> = std::fs::read_dir(&c.dir).unwrap().flatten().map(|e| e.file_name()).collect();
    let mut names: Vec<String> = parent.iter().map(|n| n.to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["bundle", "out", "root"]);
    let root: Vec<_> = std::fs::read_dir(&c.rt.root).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(root.is_empty(), "state root not empty: {root:?}");
    c.assert_clean();
    for o in &refused {
        crate::convention!(o.error_lines().len() == 1, "want one error line: {o}");
    }
    let space = c.exec(&["create", "--bundle", &b.to_string_lossy(), "with space"]);
    crate::convention!(!space.success(), "id \"with space\" accepted: {space}");
    crate::convention!(space.error_lines().len() == 1, "want one error line: {space}");
    c.assert_clean();
}

pub fn duplicate_id() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    let pid = c.state_json().unwrap()["pid"].clone();
    let o = c.create(&[]);
    assert_clear_failure(&o, &["exists"]);
    let st = c.state_json().expect("first container still there");
    assert_eq!((st["status"].as_str(), &st["pid"]), (Some("created"), &pid));
}

pub fn start_twice() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    let o = c.start();
    assert_clear_failure(&o, &["not in created state", "running", "state"]);
    assert_eq!(c.status().as_deref(), Some("running"));
}

pub fn start_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.start();
    assert_clear_failure(&o, &["does not exist", "not found"]);
    c.assert_clean();
}

pub fn state_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.state();
    assert_clear_failure(&o, &["does not exist", "not found"]);
    assert_eq!(o.stdout, "", "nothing on stdout for a failed state");
}

pub fn unknown_signal() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    for sig in ["SIGFOO", "NOPE", "-1", "99999"] {
        let o = c.kill(Some(sig));
        assert_clear_failure(&o, &["signal"]);
    }
    assert_eq!(c.status().as_deref(), Some("running"), "a bad kill must not touch the container");
}

pub fn delete_running_without_force() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    let o = c.delete(false);
    assert_clear_failure(&o, &["running", "force", "stop"]);
    assert_eq!(c.status().as_deref(), Some("running"));
}

pub fn delete_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.delete(false);
    assert_clear_failure(&o, &["does not exist", "not found"]);
}

pub fn kill_of_stopped_container() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "0"]));
    c.create_start_wait(&[]);
    let o = c.kill(Some("KILL"));
    assert_clear_failure(&o, &["not running", "stopped"]);
}

pub fn unknown_subcommand_and_flag() {
    requires!(runtime);
    let c = Case::new();
    for o in [c.exec(&["no-such-subcommand"]), c.exec(&["create", "--no-such-flag", &c.id])] {
        assert!(!o.success() && o.code.is_some(), "{o}");
        // runc prints usage text after the error, so only require that stderr says something.
        assert!(!o.error_lines().is_empty(), "no error text: {o}");
    }
}

pub fn hostname_without_uts_namespace() {
    requires!(root, runtime);
    let c = Case::new();
    let before = nix::unistd::gethostname().unwrap();
    c.build(c.bundle().with(|s| s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "uts")));
    create_fails(&c, &["hostname", "uts"]);
    assert_eq!(nix::unistd::gethostname().unwrap(), before, "host renamed");
}

/// runtime.md#start: starting a container that is not `created` (here: stopped) is an error without effect.
pub fn start_of_stopped_container() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", "echo ran"]));
    let created = c.create_start_wait(&[]);
    let o = c.start();
    assert!(!o.success() && o.code.is_some(), "start of a stopped container succeeded: {o}");
    assert_eq!(c.status().as_deref(), Some("stopped"));
    assert_eq!(created.stdout_now(), "ran\n", "the process ran again");
    assert_clear_failure(&o, &["not in created state", "stopped", "state", "not created"]);
}

/// runtime.md#create: create without a container id is an error and creates nothing.
pub fn create_without_id() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle());
    let o = c.exec(&["create", "--bundle", &b.to_string_lossy()]);
    assert!(!o.success() && o.code.is_some() && !o.timed_out, "create without an id succeeded: {o}");
    let root: Vec<_> =
        std::fs::read_dir(&c.rt.root).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(root.is_empty(), "state root not empty: {root:?}");
    c.assert_clean();
    assert_clear_failure(&o, &["id", "usage", "argument"]);
}

/// runtime.md#kill: a signal to a container that does not exist is an error.
pub fn kill_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.kill(Some("KILL"));
    assert!(!o.success() && o.code.is_some(), "kill of an unknown container succeeded: {o}");
    assert_clear_failure(&o, &["does not exist", "not found"]);
}

/// config-linux.md#namespaces: a `path` that is not a namespace of the entry's `type` is an error.
pub fn namespace_path_of_the_wrong_type() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({"type": "network", "path": "/proc/1/ns/ipc"}));
    }));
    create_fails(&c, &["namespace", "network", "ipc", "type"]);
}

/// config-linux.md#namespaces: the same namespace type twice is an error.
pub fn duplicated_namespace_type() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "pid"}))));
    create_fails(&c, &["namespace", "pid", "duplicate", "more than once"]);
}

/// Each launch step driven into a failure inside the container's init (a missing bind source, a
/// cwd that is a file, an unknown sysctl, an rlimit above what the kernel allows): create fails
/// with one clear error line, no panic, and nothing left behind. (A profile that denies `capset`
/// is no longer a create-time failure for hull, which loads the filter right before execve: that
/// is `seccomp::errno_default_profile_constrains_only_the_program`'s ground.)
pub fn launch_step_failures_are_one_clear_line() {
    requires!(root, runtime);
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, &[&str], Edit); 4] = [
        ("bind source", &["/no/such/source", "no such file"], |s| {
            let m = json!({"destination": "/mnt/x", "type": "bind", "source": "/no/such/source", "options": ["rbind"]});
            s["mounts"].as_array_mut().unwrap().push(m);
        }),
        ("cwd", &["cwd", "chdir", "not a directory", "/etc/passwd"], |s| s["process"]["cwd"] = json!("/etc/passwd")),
        ("sysctl", &["sysctl", "net.nope", "no such file", "net/nope"], |s| {
            s["linux"]["sysctl"] = json!({"net.nope.nope": "1"});
        }),
        // Above fs.nr_open: EPERM for root too.
        ("rlimit", &["rlimit", "operation not permitted"], |s| {
            s["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1u64 << 40, "soft": 1024}]);
        }),
    ];
    for (what, words, edit) in cases {
        let c = Case::new();
        c.build(c.bundle().with(edit));
        let o = c.create(&[]);
        assert!(!o.success() && o.code.is_some() && !o.timed_out, "{what}: expected a clean failure: {o}");
        assert!(!o.stderr.contains("panicked"), "{what}: the runtime panicked: {o}");
        failed_create_is_clean(&c, &o, words);
    }
}

const WORDING: &str =
    "the spec requires an error, not its wording: one stderr line naming the cause is runc's and hull's form";

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(malformed_json, "runtime.md#create", allowed = WORDING),
    entry!(wrong_type_for_args, "config.md#process", allowed = WORDING),
    entry!(wrong_type_for_uid, "config.md#user", allowed = WORDING),
    entry!(missing_config_json, "bundle.md#filesystem-bundle", allowed = WORDING),
    entry!(missing_rootfs, "config.md#root", allowed = WORDING),
    entry!(missing_executable_fails_at_create, "config.md#process", allowed = "the spec lets a missing executable fail at create or at start; runc and hull fail at create; the error's one-line wording is runc's and hull's form"),
    entry!(missing_executable_in_path_fails_at_create, "config.md#process", allowed = "the spec lets a missing executable fail at create or at start; runc and hull fail at create; the error's one-line wording is runc's and hull's form"),
    entry!(missing_process_fails_create, "config.md#process", allowed = "process is REQUIRED only when start is called; runc and hull already refuse it at create; the error's one-line wording is runc's and hull's form"),
    entry!(unknown_namespace_type, "config-linux.md#namespaces", allowed = WORDING),
    entry!(terminal_without_console_socket, "runc-cli#console-socket", allowed = WORDING),
    entry!(
        invalid_container_ids,
        "runc-cli#ids",
        allowed = "the spec sets no character set for ids (runc refuses a space) nor the error's wording"
    ),
    entry!(duplicate_id, "runtime.md#create", allowed = WORDING),
    entry!(start_twice, "runtime.md#start", allowed = WORDING),
    entry!(start_of_unknown_container, "runtime.md#start", allowed = WORDING),
    entry!(state_of_unknown_container, "runtime.md#query-state", allowed = WORDING),
    entry!(unknown_signal, "runtime.md#kill", allowed = WORDING),
    entry!(delete_running_without_force, "runtime.md#delete", allowed = WORDING),
    entry!(delete_of_unknown_container, "runtime.md#delete", allowed = WORDING),
    entry!(kill_of_stopped_container, "runtime.md#kill", allowed = WORDING),
    entry!(unknown_subcommand_and_flag, "runc-cli#errors"),
    entry!(hostname_without_uts_namespace, "config.md#hostname", allowed = WORDING),
    entry!(start_of_stopped_container, "runtime.md#start", allowed = WORDING),
    entry!(create_without_id, "runtime.md#create", allowed = WORDING),
    entry!(kill_of_unknown_container, "runtime.md#kill", allowed = WORDING),
    entry!(namespace_path_of_the_wrong_type, "config-linux.md#namespaces", allowed = WORDING),
    entry!(duplicated_namespace_type, "config-linux.md#namespaces", allowed = WORDING),
    entry!(launch_step_failures_are_one_clear_line, "runtime.md#create", allowed = WORDING),
];
