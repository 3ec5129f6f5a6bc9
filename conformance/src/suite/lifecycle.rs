//! Lifecycle: create -> created -> start -> running -> stopped -> delete; run's exit codes; pid files;
//! kill by default/name/number; forced delete; list.

use std::time::Duration;

use crate::{requires, Case};

const WAIT: Duration = Duration::from_secs(10);

/// True while `pid` exists and is not a zombie, allowing a moment for an asynchronous SIGKILL to land.
fn alive(pid: i64) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().next()).unwrap_or("");
        if state.is_empty() || state == "Z" {
            return false;
        }
        if std::time::Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn create_start_stop_delete() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "0.3"]));

    c.create(&[]).ok();
    let st = c.state_json().expect("state after create");
    assert_eq!(st["status"], "created", "{st}");
    assert_eq!(st["id"], c.id.as_str());
    let pid = st["pid"].as_i64().expect("pid in state");
    assert!(pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists(), "init pid {pid} is not alive");
    assert_eq!(st["bundle"], c.bundle_dir().to_string_lossy().as_ref());
    assert!(st["ociVersion"].is_string(), "{st}");

    c.start().ok();
    assert_eq!(c.status().as_deref(), Some("running"));
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));

    c.delete(false).ok();
    let after = c.state();
    assert!(!after.success(), "state of a deleted container succeeded: {after}");
    c.assert_clean();
}

pub fn start_runs_the_process_only_after_start() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/sh", "-c", "echo started"]));
    let created = c.create(&[]).ok();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(created.stdout_now(), "", "process ran before start");
    c.start().ok();
    c.wait_status("stopped", WAIT);
    assert_eq!(created.stdout_now(), "started\n");
}

pub fn run_returns_exit_code() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "42"]));
    let out = c.run(&[]);
    assert_eq!(out.code, Some(42), "{out}");
    c.assert_clean();
}

pub fn run_returns_128_plus_signal_when_killed_from_host() {
    requires!(root, runtime);
    let c = Case::new();
    // The process is its pid namespace's init: only SIGKILL/SIGSTOP reach it from the host without a handler.
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    let out = std::thread::scope(|s| {
        let run = s.spawn(|| c.run(&[]));
        let st = c.wait_status("running", WAIT);
        assert_eq!(st.as_deref(), Some("running"));
        let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
        run.join().unwrap()
    });
    assert_eq!(out.code, Some(128 + 9), "{out}");
    c.assert_clean();
}

pub fn run_returns_128_plus_signal_without_pid_namespace() {
    requires!(root, runtime);
    let c = Case::new();
    // Without a pid namespace the process is not an init, so its own SIGUSR1 (10) terminates it.
    c.build(c.bundle().args(&["/probe", "signal-self", "10"]).with(|s| {
        s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    }));
    let out = c.run(&[]);
    assert_eq!(out.code, Some(128 + 10), "{out}");
    c.assert_clean();
}

pub fn run_passes_container_stdout() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/bin/echo", "hello from inside"]));
    let out = c.run(&[]).ok();
    assert_eq!(out.stdout, "hello from inside\n");
}

pub fn pid_file_holds_host_pid() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    let pid_file = c.dir.join("init.pid");
    c.create(&["--pid-file", &pid_file.to_string_lossy()]).ok();
    let text = std::fs::read_to_string(&pid_file).expect("pid file written");
    assert_eq!(text.trim(), text, "pid file must be bare digits (go-runc parses it strictly)");
    let pid: i64 = text.parse().expect("pid file holds a number");
    assert_eq!(c.state_json().unwrap()["pid"].as_i64(), Some(pid));
    // The host pid, not the in-container one (1).
    assert_ne!(pid, 1);
    let comm = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    assert!(comm.contains("NSpid:") && comm.lines().any(|l| l.starts_with("NSpid:") && l.ends_with("\t1")), "{comm}");
}

fn running(c: &Case) {
    c.build(c.bundle().args(&["/probe", "wait-signal"]));
    c.create(&[]).ok();
    c.start().ok();
    assert_eq!(c.status().as_deref(), Some("running"));
}

/// The container prints the signal it received (wait-signal exits with it as code).
fn received_signal(c: &Case, created: &crate::Outcome) -> String {
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));
    created.stdout_now().lines().last().unwrap_or("").to_owned()
}

fn kill_test(signal: Option<&str>, expect: &str) {
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "wait-signal"]));
    let created = c.create(&[]).ok();
    c.start().ok();
    // wait-signal prints "ready" once its mask is set; a signal sent earlier would kill it by default action.
    let deadline = std::time::Instant::now() + WAIT;
    while !created.stdout_now().contains("ready") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    c.kill(signal).ok();
    assert_eq!(received_signal(&c, &created), expect);
}

pub fn kill_defaults_to_sigterm() {
    requires!(root, runtime);
    kill_test(None, "15");
}

pub fn kill_by_name_with_and_without_sig_prefix() {
    requires!(root, runtime);
    kill_test(Some("SIGUSR1"), "10");
    kill_test(Some("USR2"), "12");
}

pub fn kill_by_number() {
    requires!(root, runtime);
    kill_test(Some("1"), "1");
}

pub fn kill_9_stops_the_container() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    c.kill(Some("KILL")).ok();
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));
    c.delete(false).ok();
    c.assert_clean();
}

pub fn delete_force_of_running_container() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    c.delete(true).ok();
    assert!(!c.state().success(), "state still answers after delete --force");
    c.assert_clean();
    assert!(!alive(pid), "init {pid} survived delete --force");
}

pub fn delete_of_created_container_kills_init() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle());
    c.create(&[]).ok();
    let pid = c.state_json().expect("state after create")["pid"].as_i64().expect("pid");
    assert!(alive(pid), "init {pid} not alive after create");
    c.delete(true).ok();
    assert!(!alive(pid), "init {pid} survived delete --force of a created container");
    c.assert_clean();
}

pub fn list_shows_container_and_status() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    let table = c.exec(&["list"]).ok();
    let row = table.stdout.lines().find(|l| l.starts_with(&c.id)).unwrap_or_else(|| panic!("id missing: {table}"));
    assert!(row.contains("created"), "{row}");
    let json = c.exec(&["list", "--format", "json"]).ok().json();
    let entries = json.as_array().expect("list --format json gives an array");
    let me = entries.iter().find(|e| e["id"] == c.id.as_str()).expect("id in json list");
    assert_eq!(me["status"], "created");
    assert_eq!(me["bundle"], c.bundle_dir().to_string_lossy().as_ref());
}

pub fn list_of_empty_root() {
    requires!(root, runtime);
    let c = Case::new();
    let json = c.exec(&["list", "--format", "json"]).ok();
    // runc prints `null` for an empty list; an empty array is equally acceptable.
    let v = json.json();
    assert!(v.is_null() || v.as_array().is_some_and(|a| a.is_empty()), "{json}");
}

pub fn run_detach_returns_while_container_runs() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.run(&["--detach"]).ok();
    assert_eq!(c.status().as_deref(), Some("running"));
    c.kill(Some("KILL")).ok();
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));
    c.delete(false).ok();
    c.assert_clean();
}

pub fn relative_pid_file_is_resolved_against_caller_cwd() {
    requires!(root, runtime);
    let mut c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    // Run the runtime from the test dir with a relative --pid-file: it must land there, not in the bundle.
    c.rt.cwd = Some(c.dir.clone());
    c.create(&["--pid-file", "rel.pid"]).ok();
    let pid = std::fs::read_to_string(c.dir.join("rel.pid")).expect("pid file relative to the caller's cwd");
    assert_eq!(c.state_json().unwrap()["pid"].as_i64(), pid.parse().ok());
    assert!(!c.bundle_dir().join("rel.pid").exists());
}

pub fn state_reports_stopped_after_exit() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "3"]));
    c.create_start_wait(&[]);
    let st = c.state_json().unwrap();
    assert_eq!(st["status"], "stopped");
    assert_eq!(st["id"], c.id.as_str());
}

pub fn kill_all_signals_every_process() {
    requires!(root, runtime);
    let c = Case::new();
    // Without a pid namespace the runtime must find the processes through the cgroup.
    c.build(c.bundle().args(&["/bin/sh", "-c", "sleep 30 & sleep 30 & wait"]).with(|s| {
        s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    }));
    c.create(&[]).ok();
    c.start().ok();
    std::thread::sleep(Duration::from_millis(200));
    c.exec(&["kill", "--all", &c.id, "KILL"]).ok();
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));
    assert!(c.footprint().processes().is_empty(), "{:?}", c.footprint().processes());
}

pub fn pause_and_resume() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    c.exec(&["pause", &c.id]).ok();
    assert_eq!(c.status().as_deref(), Some("paused"));
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let state = stat.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().next()).unwrap_or("").to_owned();
    assert!(state == "D" || state == "S", "frozen task state {state}");
    c.exec(&["resume", &c.id]).ok();
    assert_eq!(c.status().as_deref(), Some("running"));
}

pub fn init_killed_from_host_shows_stopped_and_deletes() {
    requires!(root, runtime);
    let c = Case::new();
    running(&c);
    let pid = c.state_json().unwrap()["pid"].as_i64().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));
    c.delete(false).ok();
    c.assert_clean();
}

/// runtime.md#state: the required fields, with `status` one of the spec's values at each stage.
pub fn state_has_the_required_fields_at_each_stage() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "wait-signal"]));
    let check = |want: &str| {
        let st = c.state_json().unwrap_or_else(|| panic!("no state JSON while {want}"));
        assert!(st["ociVersion"].as_str().is_some_and(|v| !v.is_empty()), "ociVersion: {st}");
        assert_eq!(st["id"], c.id.as_str(), "{st}");
        assert_eq!(st["status"], want, "{st}");
        let bundle = st["bundle"].as_str().unwrap_or_else(|| panic!("bundle: {st}"));
        assert!(bundle.starts_with('/'), "bundle must be an absolute path: {st}");
        if want != "stopped" {
            assert!(st["pid"].as_i64().is_some_and(|p| p > 0), "pid is required while {want}: {st}");
        }
    };
    c.create(&[]).ok();
    check("created");
    c.start().ok();
    check("running");
    c.kill(Some("KILL")).ok();
    assert_eq!(c.wait_status("stopped", WAIT).as_deref(), Some("stopped"));
    check("stopped");
}

/// runtime.md#delete: deleting removes the container, so its id is free for a new one.
pub fn deleted_id_can_be_created_again() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "exit", "0"]));
    c.create_start_wait(&[]);
    c.delete(false).ok();
    c.create(&[]).ok();
    assert_eq!(c.status().as_deref(), Some("created"));
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(create_start_stop_delete, "runtime.md#lifecycle"),
    entry!(start_runs_the_process_only_after_start, "runtime.md#create"),
    entry!(run_returns_exit_code, "runc-cli#run"),
    entry!(run_returns_128_plus_signal_when_killed_from_host, "runc-cli#run"),
    entry!(run_returns_128_plus_signal_without_pid_namespace, "runc-cli#run"),
    entry!(run_passes_container_stdout, "runc-cli#run"),
    entry!(pid_file_holds_host_pid, "runc-cli#pid-file"),
    entry!(kill_defaults_to_sigterm, "runc-cli#kill"),
    entry!(kill_by_name_with_and_without_sig_prefix, "runtime.md#kill"),
    entry!(kill_by_number, "runtime.md#kill"),
    entry!(kill_9_stops_the_container, "runtime.md#kill"),
    entry!(delete_force_of_running_container, "runc-cli#delete"),
    entry!(delete_of_created_container_kills_init, "runc-cli#delete"),
    entry!(list_shows_container_and_status, "runc-cli#list"),
    entry!(list_of_empty_root, "runc-cli#list"),
    entry!(run_detach_returns_while_container_runs, "runc-cli#run"),
    entry!(relative_pid_file_is_resolved_against_caller_cwd, "runc-cli#pid-file"),
    entry!(state_reports_stopped_after_exit, "runtime.md#state"),
    entry!(kill_all_signals_every_process, "runc-cli#kill"),
    entry!(pause_and_resume, "runc-cli#pause"),
    entry!(init_killed_from_host_shows_stopped_and_deletes, "runtime.md#lifecycle"),
    entry!(state_has_the_required_fields_at_each_stage, "runtime.md#state"),
    entry!(deleted_id_can_be_created_again, "runtime.md#delete"),
];
