//! Runs the built `hull` binary for everything that needs no running container: version, spec,
//! features, usage errors, errors about missing containers, and the --log file formats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory removed on drop; also serves as the state root.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("hull-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hull(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hull")).args(args).current_dir(dir).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit status, stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = hull(dir, args);
    (o.status.code().unwrap_or(-1), text(&o.stdout), text(&o.stderr))
}

#[test]
fn version_has_three_lines() {
    let s = Scratch::new("version");
    for flag in ["--version", "-v"] {
        let (code, out, err) = run(&s.0, &[flag]);
        assert_eq!(code, 0);
        assert_eq!(err, "");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(lines[0], "hull version 0.1.0");
        assert!(lines[1].starts_with("commit: ") && lines[1].len() > "commit: ".len());
        assert_eq!(lines[2], "spec: 1.2.0");
    }
}

#[test]
fn spec_writes_config_and_refuses_to_overwrite() {
    let s = Scratch::new("spec");
    let (code, out, err) = run(&s.0, &["spec"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let written = std::fs::read_to_string(s.path("config.json")).unwrap();
    assert!(written.starts_with("{\n\t\"ociVersion\": \"1.2.0\""), "{written}");
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["process"]["noNewPrivileges"], true);
    assert_eq!(v["root"]["readonly"], true);
    assert!(v["process"]["capabilities"].get("ambient").is_none());

    std::fs::write(s.path("config.json"), "keep me").unwrap();
    let (code, _, err) = run(&s.0, &["spec"]);
    assert_eq!(code, 1);
    assert!(err.contains("File config.json exists. Remove it first"), "{err}");
    assert_eq!(std::fs::read_to_string(s.path("config.json")).unwrap(), "keep me");
}

#[test]
fn spec_bundle_flag_and_rootless() {
    let s = Scratch::new("spec-rootless");
    std::fs::create_dir(s.path("b")).unwrap();
    let (code, _, err) = run(&s.0, &["spec", "-b", "b", "--rootless"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(s.path("b/config.json")).unwrap()).unwrap();
    let uid = nix::unistd::geteuid().as_raw();
    assert_eq!(v["linux"]["uidMappings"][0]["hostID"], uid);
    let ns: Vec<&str> =
        v["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert!(ns.contains(&"user") && !ns.contains(&"network"), "{ns:?}");

    let (code, _, err) = run(&s.0, &["spec", "--bundle=missing"]);
    assert_eq!(code, 1);
    assert!(err.contains("missing/config.json"), "{err}");
}

#[test]
fn features_is_json_on_stdout_only() {
    let s = Scratch::new("features");
    // Global flags are accepted and ignored, as dockerd and go-runc prepend them.
    for args in [&["features"][..], &["--root", "/nonexistent", "--log-format", "json", "features"][..]] {
        let (code, out, err) = run(&s.0, args);
        assert_eq!((code, err.as_str()), (0, ""));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["ociVersionMin"], "1.0.0");
        assert_eq!(v["ociVersionMax"], "1.2.0");
        assert!(v["linux"]["namespaces"].as_array().unwrap().iter().any(|n| n == "pid"));
    }
}

#[test]
fn unknown_flags_and_commands_are_one_line_exit_1() {
    let s = Scratch::new("usage");
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus", "state", "x"], "flag provided but not defined: -bogus"),
        (&["bogus"], "unknown command \\\"bogus\\\""),
        (&["state", "--bogus", "x"], "flag provided but not defined: -bogus"),
        (&["--root"], "flag needs an argument: -root"),
        (&["create", "--pid-file"], "flag needs an argument: -pid-file"),
        (&["state"], "requires exactly 1 argument(s)"),
        (&["--log-format", "xml", "state", "x"], "invalid log-format: xml"),
    ];
    for (args, want) in cases {
        let (code, out, err) = run(&s.0, args);
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.starts_with("time=\"") && err.contains("level=error"), "{err}");
    }
}

#[test]
fn bad_signal_is_rejected() {
    let s = Scratch::new("signal");
    let root = s.0.to_str().unwrap();
    let (code, _, err) = run(&s.0, &["--root", root, "kill", "c1", "FOO"]);
    assert_eq!(code, 1);
    assert!(err.contains(r#"unknown signal \"FOO\""#), "{err}");
}

#[test]
fn missing_container_does_not_exist() {
    let s = Scratch::new("missing");
    let root = s.0.to_str().unwrap();
    for cmd in
        [&["state", "nope"][..], &["delete", "nope"], &["kill", "nope"], &["kill", "nope", "9"], &["start", "nope"]]
    {
        let mut args = vec!["--root", root];
        args.extend_from_slice(cmd);
        let (code, out, err) = run(&s.0, &args);
        assert_eq!(code, 1, "{cmd:?}");
        assert_eq!(out, "");
        assert!(err.contains("container does not exist"), "{cmd:?}: {err}");
    }
    // Callers clean up with --force whether or not the container exists.
    let (code, _, err) = run(&s.0, &["--root", root, "delete", "--force", "nope"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn invalid_id_is_refused() {
    let s = Scratch::new("badid");
    let root = s.0.to_str().unwrap();
    for id in ["a/b", "..", "a b"] {
        for cmd in ["state", "delete", "pause"] {
            let (code, _, err) = run(&s.0, &["--root", root, cmd, id]);
            assert_eq!(code, 1);
            assert!(err.contains("msg=\"invalid container ID format\""), "{cmd} {id}: {err}");
        }
    }
    // Nothing was created under the root for a bad id.
    assert_eq!(std::fs::read_dir(&s.0).unwrap().count(), 0);
}

#[test]
fn list_of_an_empty_root() {
    let s = Scratch::new("list");
    let root = s.0.to_str().unwrap();
    let (code, out, _) = run(&s.0, &["--root", root, "list"]);
    assert_eq!(code, 0);
    assert_eq!(out, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
    assert_eq!(run(&s.0, &["--root", root, "list", "--format=json"]).1, "null\n");
    assert_eq!(run(&s.0, &["--root", root, "list", "-q"]).1, "");
}

#[test]
fn log_file_gets_the_error_in_both_formats() {
    let s = Scratch::new("log");
    let root = s.0.to_str().unwrap();
    let json_log = s.path("log.json");
    let args = ["--root", root, "--log", json_log.to_str().unwrap(), "--log-format=json", "state", "nope"];
    let (code, out, err) = run(&s.0, &args);
    assert_eq!((code, out.as_str()), (1, ""));
    // With a log file, stderr gets the bare message.
    assert_eq!(err, "container does not exist\n");
    run(&s.0, &args);
    let logged = std::fs::read_to_string(&json_log).unwrap();
    assert_eq!(logged.lines().count(), 2, "appended: {logged}");
    for line in logged.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "container does not exist");
        let t = v["time"].as_str().unwrap();
        assert!(t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }

    let text_log = s.path("log.txt");
    let (code, _, _) = run(&s.0, &["--root", root, "--log", text_log.to_str().unwrap(), "kill", "nope", "9"]);
    assert_eq!(code, 1);
    let logged = std::fs::read_to_string(&text_log).unwrap();
    assert!(
        logged.starts_with("time=\"") && logged.ends_with(" level=error msg=\"container does not exist\"\n"),
        "{logged}"
    );
}

#[test]
fn debug_lines_go_to_the_log_only() {
    let s = Scratch::new("debug");
    let root = s.0.to_str().unwrap();
    let log = s.path("log.json");
    let (code, _, err) = run(
        &s.0,
        &["--debug", "--root", root, "--log", log.to_str().unwrap(), "--log-format", "json", "state", "nope"],
    );
    assert_eq!(code, 1);
    assert_eq!(err, "container does not exist\n");
    let levels: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels.last().map(String::as_str), Some("error"));
    assert!(levels.iter().any(|l| l == "debug"), "{levels:?}");
}

#[test]
fn debug_lines_go_to_stderr_without_a_log() {
    let s = Scratch::new("debug-stderr");
    let root = s.0.to_str().unwrap();
    let (code, _, err) = run(&s.0, &["--debug", "--root", root, "state", "nope"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 2 && lines[0].starts_with("time=\"") && lines[0].contains(" level=debug msg="), "{err}");
    assert!(lines[lines.len() - 1].ends_with(" level=error msg=\"container does not exist\""), "{err}");
    let (_, _, err) = run(&s.0, &["--debug", "--log-format", "json", "--root", root, "state", "nope"]);
    let first: serde_json::Value = serde_json::from_str(err.lines().next().unwrap_or_default()).unwrap();
    assert_eq!(first["level"], "debug", "{err}");
    let (_, _, err) = run(&s.0, &["--root", root, "state", "nope"]);
    assert!(!err.contains("level=debug"), "{err}");
}

#[test]
fn unsupported_commands_fail_and_checkpoint_help_is_not_success() {
    let s = Scratch::new("unsupported");
    for args in [&["checkpoint", "--help"][..], &["restore", "c"]] {
        let (code, _, err) = run(&s.0, args);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(&format!("not supported: {}", args[0])), "{err}");
    }
    // podman's pod-restore probe must not believe restore exists.
    let (code, out, err) = run(&s.0, &["restore", "--lsm-mount-context"]);
    assert_eq!(code, 1);
    assert!(!format!("{out}{err}").contains("flag needs an argument"));
}

#[test]
fn refused_global_flags() {
    let s = Scratch::new("refused");
    let root = s.0.to_str().unwrap();
    // --rootless is accepted (it only changes how cgroups are handled); a bad value is refused.
    let (code, _, err) = run(&s.0, &["--root", root, "--rootless", "true", "state", "c1"]);
    assert_eq!(code, 1);
    assert!(err.contains("container does not exist"), "{err}");
    let (code, _, err) = run(&s.0, &["--root", root, "--rootless", "maybe", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid --rootless value"), "{err}");
    // --systemd-cgroup alone does not break commands that ignore it.
    let (code, _, err) = run(&s.0, &["--root", root, "--systemd-cgroup", "--systemd-cgroup", "list", "-q"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn preserve_fds_must_name_open_fds() {
    let s = Scratch::new("fds");
    let root = s.0.to_str().unwrap();
    let hull = env!("CARGO_BIN_EXE_hull");
    // Through a shell, which can open fd 3 for hull without unsafe code here.
    let script = format!("exec 3</dev/null; exec {hull} --root {root} create --preserve-fds 2 c1");
    let o = Command::new("sh").arg("-c").arg(&script).current_dir(&s.0).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("fd 4 is not open"), "{err}");
    // The same failure reaches the --log file, the channel containerd and podman read for create.
    let log = s.path("log.json");
    let script = format!(
        "exec 3</dev/null; exec {hull} --root {root} --log {} --log-format json create --preserve-fds 2 c1",
        log.display()
    );
    Command::new("sh").arg("-c").arg(&script).current_dir(&s.0).output().unwrap();
    let v: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim_end()).unwrap();
    assert!(v["msg"].as_str().unwrap().contains("fd 4 is not open"), "{v}");
    let script = format!("exec 3</dev/null; exec {hull} --root {root} create --preserve-fds 1 -b {root}/nobundle c1");
    let o = Command::new("sh").arg("-c").arg(&script).current_dir(&s.0).output().unwrap();
    // fd 3 is open, so the fd check passes and the failure (if any) is about the bundle, not fds.
    assert!(!text(&o.stderr).contains("is not open"), "{}", text(&o.stderr));
}

#[test]
fn a_closed_stdout_ends_quietly_like_sigpipe() {
    let s = Scratch::new("epipe");
    let (r, w) = nix::unistd::pipe().unwrap();
    drop(r);
    let o = Command::new(env!("CARGO_BIN_EXE_hull")).arg("features").current_dir(&s.0).stdout(w).output().unwrap();
    assert_eq!(o.status.code(), Some(141));
    assert_eq!(text(&o.stderr), "");
}
