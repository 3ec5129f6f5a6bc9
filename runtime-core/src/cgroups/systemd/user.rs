//! The systemd driver for a rootless caller, as runc's: the container's scope is made by the
//! caller's own systemd instance (`systemd --user`, user@UID.service) over the user bus, and
//! lives below that manager's cgroup, which systemd delegates to the user. Pure: which bus
//! address, which uid to authenticate as, where the scope's cgroup is, and which limits the
//! delegation allows; `dbus.rs` does the talking.

use std::path::{Component, Path, PathBuf};

use crate::error::{Step, SysError};

fn err(op: &str, detail: impl Into<String>) -> crate::Error {
    crate::Error::sys(Step::Cgroup, SysError::check(op, None, detail))
}

/// The user bus's address, as runc finds it: `$DBUS_SESSION_BUS_ADDRESS` when set, else
/// `$XDG_RUNTIME_DIR/bus` when that socket exists (`bus_exists` is asked about it). runc 1.1.5
/// then asks `systemctl --user show-environment`; that command finds the manager through the
/// same directory, so it is not tried here and the error says what to fix.
pub(crate) fn bus_address(
    session: Option<&str>,
    runtime_dir: Option<&str>,
    bus_exists: impl Fn(&Path) -> bool,
) -> crate::Result<String> {
    const OP: &str = "find the user D-Bus (rootless --systemd-cgroup)";
    if let Some(addr) = session.filter(|a| !a.is_empty()) {
        return Ok(addr.to_owned());
    }
    let Some(dir) = runtime_dir.filter(|d| !d.is_empty()) else {
        return Err(err(
            OP,
            "XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are unset: a rootless --systemd-cgroup container is made \
             by your systemd user instance, reached at $XDG_RUNTIME_DIR/bus (log in through pam_systemd, or set \
             XDG_RUNTIME_DIR=/run/user/$(id -u) after `loginctl enable-linger`), or run without --systemd-cgroup",
        ));
    };
    let bus = Path::new(dir).join("bus");
    if !bus_exists(&bus) {
        return Err(err(
            OP,
            format!(
                "no user bus at {}: rootless --systemd-cgroup needs your systemd user instance and its D-Bus \
                 (package dbus-user-session; a login session or `loginctl enable-linger`), or run without \
                 --systemd-cgroup",
                bus.display()
            ),
        ));
    }
    Ok(format!("unix:path={}", escape(&bus.to_string_lossy())))
}

/// D-Bus address value escaping: bytes outside `[-0-9A-Za-z_/.\*]` become `%XX`.
fn escape(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_/.\\*".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// The uid to authenticate to the user bus as (D-Bus EXTERNAL): the bus sees the caller's uid
/// in its own (the initial) user namespace, so inside a user namespace the caller's euid is
/// translated through `uid_map` (runc asks `busctl --user status` for the same OwnerUID).
/// None: the euid as it is (not in a user namespace, or not mapped).
pub(crate) fn outer_uid(uid_map: &str, euid: u32) -> Option<u32> {
    uid_map.lines().find_map(|l| {
        let f: Vec<u64> = l.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        let [inside, outside, count] = f[..] else { return None };
        let euid = u64::from(euid);
        (euid >= inside && euid < inside + count).then(|| u32::try_from(outside + euid - inside).ok()).flatten()
    })
}

/// The user manager's own cgroup (its `ControlGroup` property, typically
/// `/user.slice/user-UID.slice/user@UID.service`) as a path below the hierarchy root. Units of
/// that manager live below it, as runc places them.
pub(crate) fn manager_cgroup(control_group: &str) -> crate::Result<PathBuf> {
    let p = Path::new(control_group);
    let ok = p.is_absolute() && p.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !ok || p.components().count() < 2 {
        return Err(err(
            "locate the systemd user instance's cgroup",
            format!("its ControlGroup is {control_group:?}: not a cgroup below the root (is it a user@UID.service?)"),
        ));
    }
    Ok(p.strip_prefix("/").unwrap_or(p).to_path_buf())
}

/// Moves a directory planned below `mount_point` (as if the unit's cgroup were from the
/// hierarchy root) below the manager's cgroup `base`.
pub(crate) fn rebase(path: &Path, mount_point: &Path, base: &Path) -> PathBuf {
    let rel = path.strip_prefix(mount_point).unwrap_or(path);
    let rel = rel.strip_prefix("/").unwrap_or(rel);
    mount_point.join(base).join(rel)
}

/// The first cgroup v2 file of `files` whose controller the scope does not have (`controllers`
/// is its `cgroup.controllers`): systemd delegates only some controllers to a user's instance
/// (Debian's user@.service: cpu, memory, pids), so a limit on another one cannot be set. `cgroup.*`
/// files belong to every cgroup.
pub(crate) fn undelegated<'a>(files: impl IntoIterator<Item = &'a str>, controllers: &str) -> Option<&'a str> {
    let have: Vec<&str> = controllers.split_whitespace().collect();
    files.into_iter().find(|f| {
        let ctrl = f.split('.').next().unwrap_or("");
        ctrl != "cgroup" && !have.contains(&ctrl)
    })
}

/// The error for a limit the user's systemd was not given the controller of.
pub(crate) fn undelegated_error(file: &str, scope: &Path, controllers: &str) -> crate::Error {
    let ctrl = file.split('.').next().unwrap_or(file);
    err(
        &format!("cannot set {ctrl} limit ({file})"),
        format!(
            "rootless: the {ctrl} controller is not delegated to your systemd user instance ({} has: {}); \
             ask the administrator for Delegate= in user@.service, or leave that limit out",
            scope.display(),
            if controllers.trim().is_empty() { "none" } else { controllers.trim() }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_address_as_runc_chooses_it() {
        let yes = |_: &Path| true;
        let no = |_: &Path| false;
        // The session address wins, even with a runtime dir.
        assert_eq!(bus_address(Some("unix:path=/x/bus"), Some("/run/user/1000"), no).unwrap(), "unix:path=/x/bus");
        assert_eq!(bus_address(Some(""), Some("/run/user/1000"), yes).unwrap(), "unix:path=/run/user/1000/bus");
        assert_eq!(bus_address(None, Some("/run/user/1000"), yes).unwrap(), "unix:path=/run/user/1000/bus");
        // Odd bytes in the path are escaped as D-Bus addresses require.
        assert_eq!(bus_address(None, Some("/tmp/a b,c"), yes).unwrap(), "unix:path=/tmp/a%20b%2cc/bus");
        let e = bus_address(None, Some("/run/user/1000"), no).unwrap_err().to_string();
        assert!(e.contains("no user bus at /run/user/1000/bus") && e.contains("dbus-user-session"), "{e}");
        for unset in [None, Some("")] {
            let e = bus_address(None, unset, yes).unwrap_err().to_string();
            assert!(e.contains("XDG_RUNTIME_DIR") && e.contains("unset"), "{e}");
        }
    }

    #[test]
    fn outer_uid_translates_through_the_map() {
        assert_eq!(outer_uid("         0       1000          1\n", 0), Some(1000));
        assert_eq!(outer_uid("0 1000 1\n1 100000 65536\n", 5), Some(100_004));
        assert_eq!(outer_uid("0 1000 1\n", 7), None);
        assert_eq!(outer_uid("", 0), None);
    }

    #[test]
    fn the_manager_cgroup_must_be_below_the_root() {
        let p = manager_cgroup("/user.slice/user-1000.slice/user@1000.service").unwrap();
        assert_eq!(p, PathBuf::from("user.slice/user-1000.slice/user@1000.service"));
        for bad in ["", "/", "user.slice", "/user.slice/../../etc"] {
            assert!(manager_cgroup(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn planned_dirs_move_below_the_manager() {
        let base = manager_cgroup("/user.slice/user-1000.slice/user@1000.service").unwrap();
        let got = rebase(Path::new("/sys/fs/cgroup/user.slice/hull-c1.scope"), Path::new("/sys/fs/cgroup"), &base);
        assert_eq!(
            got,
            PathBuf::from("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/hull-c1.scope")
        );
    }

    #[test]
    fn limits_need_a_delegated_controller() {
        let files = ["memory.max", "pids.max", "cgroup.freeze"];
        assert_eq!(undelegated(files, "cpu memory pids\n"), None);
        assert_eq!(undelegated(["memory.max", "io.weight"], "cpu memory pids"), Some("io.weight"));
        assert_eq!(undelegated(["cpuset.cpus"], ""), Some("cpuset.cpus"));
        let e = undelegated_error("io.weight", Path::new("/sys/fs/cgroup/u/x.scope"), "cpu memory pids\n").to_string();
        assert!(e.contains("io controller is not delegated") && e.contains("has: cpu memory pids)"), "{e}");
    }
}
