//! Bad input: each case must exit non-zero, print one clear error line on stderr, and leave nothing behind.

use conformance::{requires, Case, Outcome};
use serde_json::json;

/// Non-zero exit, exactly one non-empty stderr line, mentioning one of `words` (case-insensitive).
fn assert_clear_failure(o: &Outcome, words: &[&str]) {
    assert!(!o.success() && o.code.is_some() && !o.timed_out, "expected a clean failure: {o}");
    let lines = o.error_lines();
    assert_eq!(lines.len(), 1, "want one error line: {o}");
    let line = lines[0].to_lowercase();
    assert!(words.iter().any(|w| line.contains(&w.to_lowercase())), "error line should mention one of {words:?}: {o}");
}

fn create_fails(c: &Case, words: &[&str]) {
    let o = c.create(&[]);
    assert_clear_failure(&o, words);
    c.assert_clean();
    assert!(!c.state().success(), "state answers for a container whose create failed");
}

#[test]
fn malformed_json() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().raw_config("{\"ociVersion\": \"1.0.2\", \"process\": {"));
    create_fails(&c, &["json", "config", "unexpected", "EOF"]);
}

#[test]
fn wrong_type_for_args() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["args"] = json!("/probe report")));
    create_fails(&c, &["args", "json", "unmarshal", "type"]);
}

#[test]
fn wrong_type_for_uid() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["user"]["uid"] = json!("root")));
    create_fails(&c, &["uid", "json", "unmarshal", "type"]);
}

#[test]
fn missing_config_json() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().no_config());
    create_fails(&c, &["config.json", "no such file"]);
}

#[test]
fn missing_rootfs() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().no_rootfs());
    create_fails(&c, &["rootfs", "root", "no such file"]);
}

#[test]
fn missing_executable_fails_at_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/no/such/binary"]));
    create_fails(&c, &["/no/such/binary", "executable", "no such file"]);
}

#[test]
fn missing_executable_in_path_fails_at_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["no-such-command"]));
    create_fails(&c, &["no-such-command", "executable file not found"]);
}

#[test]
fn missing_process_fails_create() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        s.as_object_mut().unwrap().remove("process");
    }));
    create_fails(&c, &["process", "args"]);
}

#[test]
fn unknown_namespace_type() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "bogus"}))));
    create_fails(&c, &["namespace", "bogus"]);
}

#[test]
fn terminal_without_console_socket() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().with(|s| s["process"]["terminal"] = json!(true)));
    create_fails(&c, &["console", "tty", "terminal"]);
}

#[test]
fn invalid_container_ids() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle());
    for id in ["../escape", "a/b", "with space", "", ".", ".."] {
        let o = c.exec(&["create", "--bundle", &b.to_string_lossy(), id]);
        assert!(!o.success(), "id {id:?} accepted: {o}");
        assert_eq!(o.error_lines().len(), 1, "id {id:?}: {o}");
    }
    // Nothing was created next to or above the state root.
    let parent: Vec<_> = std::fs::read_dir(&c.dir).unwrap().flatten().map(|e| e.file_name()).collect();
    let mut names: Vec<String> = parent.iter().map(|n| n.to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["bundle", "out", "root"]);
    let root: Vec<_> = std::fs::read_dir(&c.rt.root).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(root.is_empty(), "state root not empty: {root:?}");
    c.assert_clean();
}

#[test]
fn duplicate_id() {
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

#[test]
fn start_twice() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    let o = c.start();
    assert_clear_failure(&o, &["not in created state", "running", "state"]);
    assert_eq!(c.status().as_deref(), Some("running"));
}

#[test]
fn start_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.start();
    assert_clear_failure(&o, &["does not exist", "not found"]);
    c.assert_clean();
}

#[test]
fn state_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.state();
    assert_clear_failure(&o, &["does not exist", "not found"]);
    assert_eq!(o.stdout, "", "nothing on stdout for a failed state");
}

#[test]
fn unknown_signal() {
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

#[test]
fn delete_running_without_force() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    let o = c.delete(false);
    assert_clear_failure(&o, &["running", "force", "stop"]);
    assert_eq!(c.status().as_deref(), Some("running"));
}

#[test]
fn delete_of_unknown_container() {
    requires!(root, runtime);
    let c = Case::new();
    let o = c.delete(false);
    assert_clear_failure(&o, &["does not exist", "not found"]);
}

#[test]
fn kill_of_stopped_container() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "0"]));
    c.create_start_wait(&[]);
    let o = c.kill(Some("KILL"));
    assert_clear_failure(&o, &["not running", "stopped"]);
}

#[test]
fn unknown_subcommand_and_flag() {
    requires!(runtime);
    let c = Case::new();
    for o in [c.exec(&["no-such-subcommand"]), c.exec(&["create", "--no-such-flag", &c.id])] {
        assert!(!o.success() && o.code.is_some(), "{o}");
        // runc prints usage text after the error, so only require that stderr says something.
        assert!(!o.error_lines().is_empty(), "no error text: {o}");
    }
}

#[test]
fn hostname_without_uts_namespace() {
    requires!(root, runtime);
    let c = Case::new();
    let before = nix::unistd::gethostname().unwrap();
    c.build(c.bundle().with(|s| s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "uts")));
    create_fails(&c, &["hostname", "uts"]);
    assert_eq!(nix::unistd::gethostname().unwrap(), before, "host renamed");
}
