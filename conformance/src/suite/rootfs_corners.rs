//! rootfs_corners: /dev, the console and masked paths in the shapes config generators produce,
//! where runc's callers rely on runc's answer (a /dev/ptmx device, a read-only /dev or root with
//! a terminal, relative maskedPaths, the owner of the pty, the host's procfs with `--no-pivot`).

use std::time::Duration;

use crate::bundle::TEST_UID;
use crate::{requires, Case};
use serde_json::{json, Value};

/// Runs `script` with `terminal: true` through a console socket; returns what the pty showed.
fn tty_run(c: &Case, edit: impl FnOnce(&mut Value), script: &str) -> String {
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(|s| {
        s["process"]["terminal"] = json!(true);
        edit(s);
    }));
    let sock = crate::ConsoleSocket::bind(&c.dir.join("console.sock")).expect("bind console socket");
    let path = sock.path.to_string_lossy().into_owned();
    c.create(&["--console-socket", &path]).ok();
    let console = sock.receive(Duration::from_secs(5)).expect("pty master over the console socket");
    c.start().ok();
    read_all(console.master, Duration::from_secs(10))
}

/// Reads a pty master until the slave side closes (EIO) or the time is up.
fn read_all(master: std::fs::File, limit: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &master, &mut out);
        let _ = tx.send(out);
    });
    String::from_utf8_lossy(&rx.recv_timeout(limit).unwrap_or_default()).replace("\r\n", "\n")
}

/// The pty's slave belongs to the process's user (runc opens it as that user's pty).
pub fn pty_slave_is_owned_by_the_process_user() {
    requires!(root, runtime);
    let c = Case::new();
    let out = tty_run(
        &c,
        |s| s["process"]["user"] = json!({"uid": TEST_UID, "gid": TEST_UID}),
        "echo owner=$(stat -L -c %u /proc/self/fd/0)",
    );
    assert!(out.contains(&format!("owner={TEST_UID}")), "{out:?}");
}

/// A /dev/ptmx listed in linux.devices does not replace the link to the devpts instance's ptmx,
/// so the terminal still works (runc makes the link after the devices).
pub fn ptmx_in_linux_devices_keeps_the_devpts_link() {
    requires!(root, runtime);
    let c = Case::new();
    let out = tty_run(
        &c,
        |s| {
            s["linux"]["devices"] = json!([{"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2, "fileMode": 438}])
        },
        "echo link=$(readlink /dev/ptmx)",
    );
    assert!(out.contains("link=pts/ptmx"), "{out:?}");
}

/// A read-only /dev is made read-only only after its devices, symlinks and /dev/console are in
/// place (runc remounts it read-only at the end).
pub fn readonly_dev_is_populated_first() {
    requires!(root, runtime);
    let c = Case::new();
    let script = "[ -c /dev/null ] && [ -L /dev/fd ] && [ -e /dev/console ] && echo populated; \
                  touch /dev/x 2>/dev/null || echo readonly";
    let out = tty_run(
        &c,
        |s| {
            let mounts = s["mounts"].as_array_mut().unwrap();
            let dev = mounts.iter_mut().find(|m| m["destination"] == "/dev").unwrap();
            dev["options"].as_array_mut().unwrap().push(json!("ro"));
        },
        script,
    );
    assert!(out.contains("populated") && out.contains("readonly"), "{out:?}");
}

/// root.readonly without a /dev mount of its own: the devices and /dev/console live in the
/// rootfs's /dev, and the root is made read-only only after they are there.
pub fn readonly_root_is_made_readonly_after_the_console() {
    requires!(root, runtime);
    let c = Case::new();
    let script = "[ -c /dev/null ] && [ -e /dev/console ] && echo populated; touch /x 2>/dev/null || echo readonly";
    let out = tty_run(
        &c,
        |s| {
            s["root"]["readonly"] = json!(true);
            s["mounts"].as_array_mut().unwrap().retain(|m| m["destination"] != "/dev");
        },
        script,
    );
    assert!(out.contains("populated") && out.contains("readonly"), "{out:?}");
}

/// Relative maskedPaths and readonlyPaths: the spec asks for absolute paths, but runc accepts
/// these (its callers send them) and applies them from "/" once inside the new root.
pub fn relative_masked_and_readonly_paths_resolve_from_the_root() {
    requires!(root, runtime);
    let c = Case::new();
    let script =
        "awk '$5 == \"/proc/timer_list\" || $5 == \"/proc/sys\" { print $5, substr($6, 1, 2) }' /proc/self/mountinfo";
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(|s| {
        s["linux"]["maskedPaths"] = json!(["proc/timer_list"]);
        s["linux"]["readonlyPaths"] = json!(["proc/sys"]);
    }));
    let o = c.run(&[]);
    assert!(o.success(), "{o}");
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("/proc/timer_list ")), "timer_list not masked: {o}");
    assert!(lines.contains(&"/proc/sys ro"), "/proc/sys not read-only: {o}");
}

/// With `--no-pivot` the host's mounts stay in the container's mount namespace under the moved
/// root; a full host procfs among them would let a process in a new user and pid namespace mount
/// a fresh procfs (the kernel allows it when an unmasked one is already in the namespace). runc
/// detaches the host's procfs and sysfs mounts before the move: the mount must be refused.
pub fn no_pivot_leaves_no_host_procfs_to_remount() {
    requires!(root, runtime, userns);
    let c = Case::new();
    let script =
        "unshare -Urmpf sh -c 'echo inside; mount -t proc proc /tmp 2>/dev/null && echo mounted || echo refused'";
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(|s| {
        // Mapping uid 0 into the new user namespace (-r) takes CAP_SETFCAP.
        for set in ["bounding", "effective", "permitted"] {
            s["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_SETFCAP"));
        }
    }));
    let o = c.run(&["--no-pivot"]);
    assert!(o.stdout.contains("inside"), "no new user namespace in the container: {o}");
    assert!(o.stdout.contains("refused"), "a fresh procfs was mounted: {o}");
    c.assert_clean();
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(pty_slave_is_owned_by_the_process_user, "config.md#console"),
    entry!(ptmx_in_linux_devices_keeps_the_devpts_link, "config-linux.md#devices"),
    entry!(readonly_dev_is_populated_first, "config-linux.md#default-devices"),
    entry!(readonly_root_is_made_readonly_after_the_console, "config.md#root"),
    entry!(relative_masked_and_readonly_paths_resolve_from_the_root, "config-linux.md#masked-paths"),
    entry!(no_pivot_leaves_no_host_procfs_to_remount, "runc-cli#no-pivot"),
];
