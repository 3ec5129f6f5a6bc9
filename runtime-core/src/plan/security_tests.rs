//! One test per security rule of the plan (issue 14, docs/security.md): kernel-special ids,
//! absolute hook paths, and what may be mounted on or below /proc and /sys.

use serde_json::{json, Value};

use super::tests::base;
use super::*;

fn build(v: Value) -> Result<Plan> {
    let spec = serde_json::from_value(v).map_err(|e| Error::InvalidConfig(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("hull-plan-sec-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    let bundle = Bundle::from_spec(dir, spec)?;
    Plan::build("t", &bundle, &PlanOptions::default(), &HostInfo::detect()?)
}

fn with(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut v);
    v
}

#[track_caller]
fn refused(v: Value, words: &str) {
    match build(v) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains(words), "{m:?} lacks {words:?}"),
        other => panic!("expected an InvalidConfig error with {words:?}, got {other:?}"),
    }
}

#[test]
fn uid_minus_one_is_refused() {
    refused(with(base(), |s| s["process"]["user"]["uid"] = json!(u32::MAX)), "process.user.uid: 4294967295");
    let p = build(with(base(), |s| s["process"]["user"]["uid"] = json!(u32::MAX - 1))).unwrap();
    assert_eq!(p.process.uid, u32::MAX - 1);
}

#[test]
fn gid_minus_one_is_refused() {
    refused(with(base(), |s| s["process"]["user"]["gid"] = json!(u32::MAX)), "process.user.gid: 4294967295");
}

#[test]
fn additional_gid_minus_one_is_refused() {
    let v = with(base(), |s| s["process"]["user"]["additionalGids"] = json!([5, u32::MAX]));
    refused(v, "process.user.additionalGids: 4294967295");
}

/// exec plans its process (from --process, --user, -g) with the same function: same rule.
#[test]
fn exec_process_ids_use_the_same_rule() {
    let mut p: oci_spec::runtime::Process =
        serde_json::from_value(json!({"user": {"uid": 0, "gid": u32::MAX}, "cwd": "/", "args": ["sh"]})).unwrap();
    let e = process_plan(&p, &PlanOptions::default()).unwrap_err();
    assert!(e.to_string().contains("process.user.gid"), "{e}");
    let mut user = p.user().clone();
    user.set_gid(0);
    p.set_user(user);
    assert!(process_plan(&p, &PlanOptions::default()).is_ok());
}

#[test]
fn relative_hook_paths_are_refused_for_every_kind() {
    for kind in ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] {
        let v = with(base(), |s| s["hooks"] = json!({ kind: [{"path": "bin/true"}] }));
        refused(v, &format!("hooks.{kind}[0].path"));
        let v = with(base(), |s| s["hooks"] = json!({ kind: [{"path": "/bin/true"}] }));
        assert!(build(v).is_ok(), "{kind}: an absolute path is fine");
    }
}

fn with_mount(m: Value) -> Value {
    with(base(), |s| s["mounts"].as_array_mut().unwrap().push(m))
}

#[test]
fn only_proc_on_proc() {
    let bind = json!({"destination": "/proc", "type": "bind", "source": "/tmp", "options": ["rbind"]});
    // A bind is planned (its source is checked to be procfs before the clone).
    assert!(build(with_mount(bind)).is_ok());
    refused(with_mount(json!({"destination": "/proc", "type": "tmpfs", "source": "tmpfs"})), "only proc");
    // The same destination written differently.
    refused(with_mount(json!({"destination": "/x/../proc/", "type": "tmpfs", "source": "t"})), "only proc");
}

#[test]
fn below_proc_only_lxcfs_file_binds() {
    let bind = |d: &str| json!({"destination": d, "type": "bind", "source": "/etc/hostname", "options": ["bind"]});
    for ok in validate::PROC_FILE_BINDS {
        assert!(build(with_mount(bind(&format!("/{ok}")))).is_ok(), "{ok}");
    }
    refused(with_mount(bind("/proc/sys")), "below /proc");
    refused(with_mount(bind("/proc/self/attr/exec")), "below /proc");
    refused(with_mount(json!({"destination": "/proc/uptime", "type": "tmpfs", "source": "t"})), "below /proc");
}

#[test]
fn only_sysfs_on_sys_and_anything_below() {
    refused(with_mount(json!({"destination": "/sys", "type": "tmpfs", "source": "tmpfs"})), "only sysfs");
    let bind = json!({"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind"]});
    assert!(build(with_mount(bind)).is_ok());
    let cg = json!({"destination": "/sys/fs/cgroup", "type": "tmpfs", "source": "tmpfs"});
    assert!(build(with_mount(cg)).is_ok());
}
