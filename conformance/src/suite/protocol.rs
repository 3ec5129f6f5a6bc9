//! What callers (containerd's shim, conmon, podman) read from the runtime besides the lifecycle itself:
//! the JSON log file, `features`, `--version`, state annotations.

use crate::{requires, Case};
use serde_json::{json, Value};

/// containerd re-reads `--log` (with `--log-format json`) and keeps the last `level: error` entry; each
/// line must be one JSON object with `level`, `msg` and an RFC 3339 `time`.
pub fn json_log_file_carries_the_error() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/no/such/binary"]));
    let log = c.dir.join("log.json");
    let b = c.bundle_dir().to_string_lossy().into_owned();
    let l = log.to_string_lossy().into_owned();
    let o = c.exec(&["--log", &l, "--log-format", "json", "create", "--bundle", &b, &c.id]);
    assert!(!o.success(), "{o}");
    let text = std::fs::read_to_string(&log).expect("log file written");
    let entries: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}")))
        .collect();
    let last_error = entries.iter().rev().find(|e| e["level"] == "error").expect("an error entry");
    assert!(last_error["msg"].as_str().is_some_and(|m| m.contains("/no/such/binary")), "{last_error}");
    for e in &entries {
        let t = e["time"].as_str().unwrap_or_else(|| panic!("no time: {e}"));
        // RFC 3339: 2024-05-01T10:00:00Z or with an offset / fraction.
        let b = t.as_bytes();
        let shape = b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
        assert!(shape && (t.ends_with('Z') || t[19..].contains(['+', '-'])), "time {t:?} is not RFC 3339");
    }
    c.assert_clean();
}

pub fn features_reports_json() {
    requires!(runtime);
    let c = Case::new();
    let o = c.exec(&["features"]).ok();
    let f = o.json();
    assert!(f["ociVersionMin"].is_string() && f["ociVersionMax"].is_string(), "{f}");
    let ns = f["linux"]["namespaces"].as_array().expect("linux.namespaces");
    for want in ["pid", "network", "mount", "ipc", "uts"] {
        assert!(ns.iter().any(|n| n == want), "{want} missing from {ns:?}");
    }
}

pub fn version_has_version_commit_and_spec_lines() {
    requires!(runtime);
    let c = Case::new();
    let o = c.rt.exec_raw(&["--version".to_owned()], std::process::Stdio::null());
    assert!(o.success(), "{o}");
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(lines.first().is_some_and(|l| l.contains(" version ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("spec: ")), "{lines:?}");
}

pub fn state_carries_annotations() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| s["annotations"] = json!({"org.example/k": "v"})));
    c.create(&[]).ok();
    let st = c.state_json().unwrap();
    assert_eq!(st["annotations"]["org.example/k"], "v", "{st}");
}

pub fn kill_of_created_container_stops_it() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.kill(Some("KILL")).ok();
    assert_eq!(c.wait_status("stopped", std::time::Duration::from_secs(10)).as_deref(), Some("stopped"));
    c.delete(false).ok();
    c.assert_clean();
}

pub fn state_output_is_pure_json() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    let o = c.state().ok();
    // go-runc parses stdout+stderr combined: any extra text breaks it.
    assert!(serde_json::from_str::<Value>(&o.stdout).is_ok(), "{o}");
    assert_eq!(o.stderr, "", "state printed on stderr: {o}");
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(json_log_file_carries_the_error, "runc-cli#log"),
    entry!(features_reports_json, "features.md#features-structure"),
    entry!(version_has_version_commit_and_spec_lines, "runc-cli#version"),
    entry!(state_carries_annotations, "runtime.md#state"),
    entry!(kill_of_created_container_stops_it, "runtime.md#kill"),
    entry!(state_output_is_pure_json, "runc-cli#state"),
];
