//! What the library's integration tests need from the host (root, a static busybox for the
//! rootfs), shared by the test files that run real containers.

use std::path::Path;

/// Why the tests must skip here, if they must.
pub fn skip_reason() -> Option<&'static str> {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false);
    if !root {
        return Some("needs root");
    }
    if !Path::new("/bin/busybox").exists() {
        return Some("needs /bin/busybox (busybox-static)");
    }
    None
}

/// Whether the test must return early here: prints `SKIP <test>: <reason>`, and under
/// `HULL_STRICT=1` (set by `.ci/run`) fails instead, so CI cannot pass by skipping.
pub fn cannot_run(test: &str) -> bool {
    let Some(why) = skip_reason() else { return false };
    eprintln!("SKIP {test}: {why}");
    if std::env::var_os("HULL_STRICT").is_some_and(|v| v == "1") {
        panic!("SKIP {test}: {why} (HULL_STRICT=1 makes a skip a failure)");
    }
    true
}
