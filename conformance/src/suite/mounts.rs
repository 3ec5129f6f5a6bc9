//! mounts, root.readonly, maskedPaths/readonlyPaths and the default /dev.

use std::path::{Path, PathBuf};

use crate::{requires, Case};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde_json::{json, Value};

fn mount_at<'a>(r: &'a Value, point: &str) -> Option<&'a Value> {
    r["mounts"].as_array()?.iter().rev().find(|m| m["mount_point"] == point)
}

fn has(list: &Value, item: &str) -> bool {
    list.as_array().is_some_and(|a| a.iter().any(|v| v == item))
}

fn add_mount(s: &mut Value, m: Value) {
    s["mounts"].as_array_mut().unwrap().push(m);
}

/// Runs `args` in a bundle changed by `f` and returns (exit code, stdout).
fn probe(c: &Case, args: &[&str], f: impl FnOnce(&mut Value)) -> (Option<i32>, String) {
    c.build(c.bundle().args(args).with(f));
    let o = c.run(&[]);
    assert!(o.code.is_some() && !o.timed_out, "{o}");
    c.assert_clean();
    (o.code, o.stdout.trim().to_owned())
}

pub fn proc_is_mounted() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    let m = mount_at(&r, "/proc").expect("/proc mount");
    assert_eq!(m["fs_type"], "proc");
    let root = mount_at(&r, "/").expect("root mount");
    assert_eq!(r["mounts"][0]["mount_point"], "/", "root is the first mount after pivot: {root}");
}

pub fn tmpfs_with_size_and_mode() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        add_mount(
            s,
            json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", "size=1m", "mode=0700"]}),
        )
    }));
    let m = mount_at(&r, "/scratch").expect("/scratch mounted");
    assert_eq!(m["fs_type"], "tmpfs");
    assert!(has(&m["super_options"], "size=1024k"), "{m}");
    assert!(has(&m["super_options"], "mode=700"), "{m}");
    assert!(has(&m["options"], "nosuid") && has(&m["options"], "nodev"), "{m}");
}

/// podman's `tmpcopyup` (runc extension): the new tmpfs starts with what the rootfs had there.
pub fn tmpfs_tmpcopyup_keeps_the_rootfs_content() {
    requires!(root, runtime);
    let m = json!({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "nosuid", "mode=755"]});
    let c = Case::new();
    let (code, out) = probe(&c, &["/probe", "cat", "/etc/passwd"], |s| add_mount(s, m.clone()));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("root:x:0:0"), "{out}");
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| add_mount(s, m)));
    assert_eq!(mount_at(&r, "/etc").expect("/etc mounted")["fs_type"], "tmpfs");
}

pub fn default_mounts_have_expected_types() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    for (point, fs) in
        [("/dev", "tmpfs"), ("/dev/pts", "devpts"), ("/dev/shm", "tmpfs"), ("/dev/mqueue", "mqueue"), ("/sys", "sysfs")]
    {
        let m = mount_at(&r, point).unwrap_or_else(|| panic!("{point} missing"));
        assert_eq!(m["fs_type"], fs, "{point}");
    }
    assert!(has(&mount_at(&r, "/sys").unwrap()["options"], "ro"), "/sys is ro in the config");
}

/// A host directory (outside the bundle) holding `hello`, with optionally a tmpfs submount at `sub`.
struct HostDir {
    path: PathBuf,
    submount: bool,
}

impl HostDir {
    fn new(c: &Case, submount: bool) -> HostDir {
        let path = c.dir.join("hostdir");
        std::fs::create_dir_all(path.join("sub")).unwrap();
        std::fs::write(path.join("hello"), "hello\n").unwrap();
        if submount {
            mount(Some("tmpfs"), &path.join("sub"), Some("tmpfs"), MsFlags::empty(), Some("size=64k")).unwrap();
            std::fs::write(path.join("sub/inner"), "inner\n").unwrap();
        }
        HostDir { path, submount }
    }

    fn s(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

impl Drop for HostDir {
    fn drop(&mut self) {
        if self.submount {
            let _ = umount2(&self.path.join("sub"), MntFlags::MNT_DETACH);
        }
    }
}

pub fn bind_mount_shows_host_content() {
    requires!(root, runtime);
    let c = Case::new();
    let h = HostDir::new(&c, false);
    let m = json!({"destination": "/mnt/b", "type": "bind", "source": h.s(), "options": ["bind"]});
    let (code, out) = probe(&c, &["/probe", "cat", "/mnt/b/hello"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(0), "hello"));
}

pub fn bind_mount_of_a_file() {
    requires!(root, runtime);
    let c = Case::new();
    let h = HostDir::new(&c, false);
    let src = Path::new(&h.s()).join("hello").to_string_lossy().into_owned();
    let m = json!({"destination": "/etc/greeting", "source": src, "options": ["bind"]});
    let (code, out) = probe(&c, &["/probe", "cat", "/etc/greeting"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(0), "hello"));
}

pub fn ro_bind_mount_refuses_writes() {
    requires!(root, runtime);
    let c = Case::new();
    let h = HostDir::new(&c, false);
    let m = json!({"destination": "/mnt/b", "type": "bind", "source": h.s(), "options": ["bind", "ro"]});
    let (code, out) = probe(&c, &["/probe", "write", "/mnt/b/new", "x"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(1), "EROFS"));
    assert!(!h.path.join("new").exists());
}

pub fn rw_bind_mount_writes_reach_host() {
    requires!(root, runtime);
    let c = Case::new();
    let h = HostDir::new(&c, false);
    let m = json!({"destination": "/mnt/b", "type": "bind", "source": h.s(), "options": ["bind", "rw"]});
    let (code, out) = probe(&c, &["/probe", "write", "/mnt/b/new", "from container"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(0), "ok"));
    assert_eq!(std::fs::read_to_string(h.path.join("new")).unwrap(), "from container");
}

/// Options that are not mount flags are filesystem data (config.md#mounts); a bind mount has no
/// filesystem of its own, so the data is ignored (runc passes it to mount(2), which ignores it for
/// MS_BIND) while the flags still apply.
pub fn bind_mount_ignores_filesystem_options() {
    requires!(root, runtime);
    let c = Case::new();
    let h = HostDir::new(&c, false);
    let opts = ["rbind", "ro", "mode=0700", "size=1m", "uid=1000", "gid=1000", "nr_inodes=10"];
    let m = json!({"destination": "/mnt/b", "type": "bind", "source": h.s(), "options": opts});
    let mode_of = |p: &Path| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions());
    let before = mode_of(&h.path);
    let (code, out) =
        probe(&c, &["/bin/sh", "-c", "cat /mnt/b/hello && /probe write /mnt/b/new x"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(1), "hello\nEROFS"), "content shown, ro applied");
    assert_eq!(mode_of(&h.path), before, "mode= must not reach the bind source");
}

pub fn bind_is_not_recursive_but_rbind_is() {
    requires!(root, runtime);
    let c = Case::new();
    let h = HostDir::new(&c, true);
    let m = json!({"destination": "/mnt/b", "type": "bind", "source": h.s(), "options": ["bind"]});
    let (code, out) = probe(&c, &["/probe", "ls", "/mnt/b/sub"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(0), "[]"), "plain bind must not carry submounts");

    let c2 = Case::new();
    let m = json!({"destination": "/mnt/b", "type": "bind", "source": h.s(), "options": ["rbind"]});
    let (code, out) = probe(&c2, &["/probe", "ls", "/mnt/b/sub"], |s| add_mount(s, m));
    assert_eq!((code, out.as_str()), (Some(0), r#"["inner"]"#), "rbind carries submounts");
}

pub fn readonly_root_refuses_writes() {
    requires!(root, runtime);
    let c = Case::new();
    let (code, out) = probe(&c, &["/probe", "write", "/newfile", "x"], |s| s["root"]["readonly"] = json!(true));
    assert_eq!((code, out.as_str()), (Some(1), "EROFS"));
}

pub fn writable_root_accepts_writes() {
    requires!(root, runtime);
    let c = Case::new();
    let (code, out) = probe(&c, &["/probe", "write", "/newfile", "x"], |s| s["root"]["readonly"] = json!(false));
    assert_eq!((code, out.as_str()), (Some(0), "ok"));
    assert!(c.bundle_dir().join("rootfs/newfile").exists());
}

pub fn masked_file_reads_as_dev_null() {
    requires!(root, runtime);
    let c = Case::new();
    // /proc/keys rather than /proc/kcore: this kernel has no kcore, and masking skips missing paths.
    let (code, out) = probe(&c, &["/probe", "stat", "/proc/keys"], |_| {});
    assert_eq!(code, Some(0), "{out}");
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (st["type"].as_str(), st["major"].as_u64(), st["minor"].as_u64()),
        (Some("c"), Some(1), Some(3)),
        "{st}"
    );
}

pub fn masked_directory_is_empty() {
    requires!(root, runtime);
    let c = Case::new();
    let (code, out) = probe(&c, &["/probe", "ls", "/sys/firmware"], |_| {});
    assert_eq!((code, out.as_str()), (Some(0), "[]"));
}

pub fn custom_masked_path() {
    requires!(root, runtime);
    let c = Case::new();
    let (code, out) = probe(&c, &["/bin/sh", "-c", "cat /etc/passwd; echo END"], |s| {
        s["linux"]["maskedPaths"].as_array_mut().unwrap().push(json!("/etc/passwd"))
    });
    assert_eq!((code, out.as_str()), (Some(0), "END"));
}

pub fn readonly_path_refuses_writes() {
    requires!(root, runtime);
    let c = Case::new();
    let (code, out) = probe(&c, &["/probe", "write", "/proc/sys/kernel/domainname", "x"], |_| {});
    assert_eq!((code, out.as_str()), (Some(1), "EROFS"));
}

pub fn custom_readonly_path() {
    requires!(root, runtime);
    let c = Case::new();
    let (code, out) = probe(&c, &["/probe", "write", "/tmp/x", "y"], |s| {
        s["linux"]["readonlyPaths"].as_array_mut().unwrap().push(json!("/tmp"))
    });
    assert_eq!((code, out.as_str()), (Some(1), "EROFS"));
}

pub fn default_devices_exist() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    let dev = &r["dev"];
    for (name, major, minor) in
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
    {
        let d = &dev[name];
        assert_eq!(d["type"], "c", "/dev/{name}: {d}");
        assert_eq!((d["major"].as_u64(), d["minor"].as_u64()), (Some(major), Some(minor)), "/dev/{name}");
        assert_eq!(d["mode"].as_u64(), Some(0o666), "/dev/{name} mode");
        assert_eq!((d["uid"].as_u64(), d["gid"].as_u64()), (Some(0), Some(0)), "/dev/{name} owner");
    }
}

pub fn default_dev_symlinks() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    let dev = &r["dev"];
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        assert_eq!(dev[name]["type"], "l", "/dev/{name}: {}", dev[name]);
        assert_eq!(dev[name]["link"], target, "/dev/{name}");
    }
}

pub fn no_host_devices_leak_into_dev() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle());
    let names: Vec<&String> = r["dev"].as_object().unwrap().keys().collect();
    for host_only in ["sda", "vda", "kmsg", "mem", "loop0", "autofs"] {
        assert!(!names.iter().any(|n| *n == host_only), "/dev/{host_only} present: {names:?}");
    }
}

pub fn configured_device_is_created() {
    requires!(root, runtime);
    let c = Case::new();
    let r = c.report(c.bundle().with(|s| {
        s["linux"]["devices"] =
            json!([{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5, "fileMode": 0o640, "uid": 7, "gid": 8}])
    }));
    let d = &r["dev"]["mydev"];
    assert_eq!((d["type"].as_str(), d["major"].as_u64(), d["minor"].as_u64()), (Some("c"), Some(1), Some(5)), "{d}");
    assert_eq!(d["mode"].as_u64(), Some(0o640));
    assert_eq!((d["uid"].as_u64(), d["gid"].as_u64()), (Some(7), Some(8)));
}

pub fn container_mounts_do_not_leak_to_host() {
    requires!(root, runtime);
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    assert_eq!(c.status().as_deref(), Some("running"));
    assert!(c.footprint().mounts().is_empty(), "{:#?}", c.footprint().mounts());
}

/// config.md#root: `root.path` may be absolute as well as relative to the bundle.
pub fn absolute_root_path() {
    requires!(root, runtime);
    let c = Case::new();
    let rootfs = c.bundle_dir().join("rootfs").to_string_lossy().into_owned();
    let r = c.report(c.bundle().with(|s| s["root"]["path"] = json!(rootfs)));
    assert_eq!(r["cwd"], "/");
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(proc_is_mounted, "config.md#mounts"),
    entry!(tmpfs_with_size_and_mode, "config.md#mounts"),
    entry!(tmpfs_tmpcopyup_keeps_the_rootfs_content, "runc-cli#tmpcopyup"),
    entry!(default_mounts_have_expected_types, "config-linux.md#default-filesystems"),
    entry!(bind_mount_shows_host_content, "config.md#mounts"),
    entry!(bind_mount_of_a_file, "config.md#mounts"),
    entry!(ro_bind_mount_refuses_writes, "config.md#mounts"),
    entry!(rw_bind_mount_writes_reach_host, "config.md#mounts"),
    entry!(bind_mount_ignores_filesystem_options, "config.md#mounts"),
    entry!(bind_is_not_recursive_but_rbind_is, "config.md#mounts"),
    entry!(readonly_root_refuses_writes, "config.md#root"),
    entry!(writable_root_accepts_writes, "config.md#root"),
    entry!(masked_file_reads_as_dev_null, "config-linux.md#masked-paths"),
    entry!(masked_directory_is_empty, "config-linux.md#masked-paths"),
    entry!(custom_masked_path, "config-linux.md#masked-paths"),
    entry!(readonly_path_refuses_writes, "config-linux.md#readonly-paths"),
    entry!(custom_readonly_path, "config-linux.md#readonly-paths"),
    entry!(default_devices_exist, "config-linux.md#default-devices"),
    entry!(default_dev_symlinks, "config-linux.md#dev-symbolic-links"),
    entry!(no_host_devices_leak_into_dev, "config-linux.md#default-devices"),
    entry!(configured_device_is_created, "config-linux.md#devices"),
    entry!(container_mounts_do_not_leak_to_host, "config-linux.md#rootfs-mount-propagation"),
    entry!(absolute_root_path, "config.md#root"),
];
