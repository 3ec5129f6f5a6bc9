//! exec: a second process joins a running container (namespaces, cgroup), with its own process spec.

use std::time::Duration;

use conformance::bundle::{TEST_GID, TEST_UID};
use conformance::runtime::parse_json;
use conformance::{requires, Case};
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

#[test]
fn exec_joins_the_container_namespaces() {
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
    let want = conformance::bundle::cgroup_path(&c.id);
    assert!(lines.iter().any(|l| l.starts_with(|ch: char| ch.is_ascii_digit()) && l.ends_with(&want)), "{lines:?}");
}

#[test]
fn exec_returns_the_process_exit_code() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let o = c.exec(&["exec", &c.id, "/probe", "exit", "7"]);
    assert_eq!(o.code, Some(7), "{o}");
    assert_eq!(c.status().as_deref(), Some("running"), "exec's exit must not stop the container");
}

#[test]
fn exec_with_process_json() {
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

#[test]
fn exec_detach_writes_pid_file() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let pid_file = c.dir.join("exec.pid");
    c.exec(&["exec", "--detach", "--pid-file", &pid_file.to_string_lossy(), &c.id, "/probe", "sleep", "30"]).ok();
    let pid: i64 = std::fs::read_to_string(&pid_file).expect("exec pid file").parse().expect("bare pid");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert_eq!(String::from_utf8_lossy(&cmdline), "/probe\0sleep\x0030\0");
}

#[test]
fn exec_env_flag_adds_variables() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let o = c.exec(&["exec", "--env", "EXTRA=1", &c.id, "/probe", "report"]).ok();
    let env = o.json()["env"].clone();
    assert!(env.as_array().unwrap().iter().any(|e| e == "EXTRA=1"), "{env}");
}

#[test]
fn exec_in_created_container_is_refused_or_runs_inside() {
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

#[test]
fn exec_in_stopped_container_fails() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "0"]));
    c.create_start_wait(&[]);
    let o = c.exec(&["exec", &c.id, "/probe", "report"]);
    assert!(!o.success() && o.code.is_some(), "{o}");
    assert!(!o.error_lines().is_empty(), "no error text: {o}");
}

#[test]
fn exec_of_missing_binary_fails_cleanly() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let o = c.exec(&["exec", &c.id, "/no/such/binary"]);
    assert!(!o.success() && o.code.is_some(), "{o}");
    assert_eq!(o.error_lines().len(), 1, "{o}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.status().as_deref(), Some("running"));
}
