//! exec_process: how `exec` shapes the new process where runc's callers rely on runc's answer
//! (environment overrides, the default user of a process.json, personality, the working directory).

use std::os::unix::fs::PermissionsExt;

use crate::bundle::TEST_UID;
use crate::{requires, Case};
use serde_json::{json, Value};

/// A running container whose init sleeps, built from `b`.
fn running(c: &Case, b: crate::BundleBuilder) {
    c.build(b.args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
}

fn env_of(r: &Value) -> Vec<String> {
    r["env"].as_array().unwrap().iter().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// `--env K=V` replaces K of the container's process.env; a repeated K keeps its last value and
/// every name appears once (runc sets each pair in turn, as with setenv).
pub fn exec_env_flag_replaces_config_values() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c, c.bundle());
    let o = c.exec(&["exec", "--env", "TERM=vt100", "--env", "X=1", "--env", "X=2", &c.id, "/probe", "report"]).ok();
    let env = env_of(&o.json());
    let named = |k: &str| env.iter().filter(|e| e.split('=').next() == Some(k)).cloned().collect::<Vec<_>>();
    assert_eq!(named("TERM"), ["TERM=vt100"], "{env:?}");
    assert_eq!(named("X"), ["X=2"], "{env:?}");
    let mut names: Vec<&str> = env.iter().filter_map(|e| e.split('=').next()).collect();
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all, "duplicate names: {env:?}");
}

/// A process.json without `user` runs as uid 0, gid 0, whatever the container's own process is.
pub fn exec_process_json_without_user_runs_as_root() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c, c.bundle().with(|s| s["process"]["user"] = json!({"uid": TEST_UID, "gid": TEST_UID})));
    let process = json!({"terminal": false, "args": ["/probe", "report"], "env": ["PATH=/bin"], "cwd": "/"});
    let path = c.dir.join("process.json");
    std::fs::write(&path, process.to_string()).unwrap();
    let r = c.exec(&["exec", "--process", &path.to_string_lossy(), &c.id]).ok().json();
    assert_eq!((r["uid"].as_u64(), r["gid"].as_u64()), (Some(0), Some(0)), "{r}");
    assert_eq!(r["groups"], json!([]), "{r}");
}

/// linux.personality is the container's: exec'd processes get the init's personality too.
/// runc 1.1.5 ignores linux.personality altogether (support came in runc 1.2), so against it both
/// are the default; hull applies it (process_attrs checks the init) and must agree for exec.
pub fn exec_gets_the_container_personality() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c, c.bundle().with(|s| s["linux"]["personality"] = json!({"domain": "LINUX32"})));
    let init = c.state_json().unwrap()["pid"].as_i64().unwrap();
    let want = std::fs::read_to_string(format!("/proc/{init}/personality")).unwrap();
    if c.rt.name() != "runc" {
        assert_eq!(want.trim(), "00000008", "the init's personality");
    }
    let o = c.exec(&["exec", &c.id, "/bin/cat", "/proc/self/personality"]).ok();
    assert_eq!(o.stdout.trim(), want.trim(), "{o}");
}

/// The cwd is entered while still privileged (a directory only root may enter works for another
/// user), and entered again after the switch if that first attempt failed (runc's order).
pub fn exec_cwd_is_entered_before_privileges_drop() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    let secret = c.bundle_dir().join("rootfs/secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o700)).unwrap();
    c.create(&[]).ok();
    c.start().ok();
    let user = TEST_UID.to_string();
    let o = c.exec(&["exec", "--user", &user, "--cwd", "/secret", &c.id, "/probe", "report"]).ok();
    let r = o.json();
    assert_eq!((r["uid"].as_u64(), r["cwd"].as_str()), (Some(TEST_UID.into()), Some("/secret")), "{r}");
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(exec_env_flag_replaces_config_values, "runc-cli#exec"),
    entry!(exec_process_json_without_user_runs_as_root, "runc-cli#exec"),
    entry!(exec_gets_the_container_personality, "config-linux.md#personality"),
    entry!(exec_cwd_is_entered_before_privileges_drop, "config.md#process"),
];
