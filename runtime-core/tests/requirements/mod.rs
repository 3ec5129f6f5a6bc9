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
