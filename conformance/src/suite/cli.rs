//! The command line's output as runc's callers read it: debug logging, `events` JSON, error wording
//! (errno texts and configuration errors), `--version` and help. None of this is in the spec; it is
//! runc 1.1.5's behaviour, which containerd, Docker, podman and scripts match on. Where the output
//! necessarily names the program, the runtime's own name (its binary's file name) is accepted.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{convention, requires, Case, Outcome};

/// The fields of one logrus text line (`time="..." level=error msg="..."`), values unquoted.
pub fn logrus_fields(line: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = line.trim_end();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        if key.is_empty() || key.contains([' ', '"']) {
            return None;
        }
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            unquote(q)?
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        out.push((key.to_owned(), value));
        rest = tail.trim_start();
    }
    Some(out)
}

/// Reads a Go `%q` string up to its closing quote; returns the text and what follows.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The `msg` of the one error line a failed command printed, with a leading `<runtime> create failed: `
/// (runc's prefix, with its own name) removed.
fn error_msg(c: &Case, o: &Outcome) -> String {
    assert!(!o.success() && o.code.is_some() && !o.timed_out, "expected a clean failure: {o}");
    let lines = o.error_lines();
    convention!(lines.len() == 1, "want one error line: {o}");
    let fields = logrus_fields(lines[0]).unwrap_or_default();
    convention!(!fields.is_empty(), "not a logrus text line: {o}");
    convention!(field(&fields, "level") == Some("error"), "not an error line: {o}");
    let msg = field(&fields, "msg").unwrap_or_else(|| panic!("no msg: {o}")).to_owned();
    let prefix = format!("{} create failed: ", c.rt.name());
    msg.strip_prefix(&prefix).map_or(msg.clone(), str::to_owned)
}

/// `--debug` without `--log`: debug records go to stderr, as logrus text or JSON lines; with `--log`
/// they go to the file only; without `--debug` there are none.
pub fn debug_without_log_writes_to_stderr() {
    requires!(root, runtime);
    let c = Case::new();
    let b = c.build(c.bundle().args(&["/probe", "sleep", "30"])).to_string_lossy().into_owned();
    let create = |global: &[&str]| {
        let mut args = global.to_vec();
        args.extend(["create", "--bundle", &b, &c.id]);
        let o = c.exec(&args).ok();
        c.delete(true).ok();
        o
    };
    let o = create(&["--debug"]);
    let debug_lines: Vec<&str> = o
        .error_lines()
        .into_iter()
        .filter(|l| logrus_fields(l).is_some_and(|f| field(&f, "level") == Some("debug")))
        .collect();
    convention!(!debug_lines.is_empty(), "no debug line on stderr: {o}");
    for l in o.error_lines() {
        let f = logrus_fields(l).unwrap_or_default();
        convention!(field(&f, "time").is_some() && field(&f, "msg").is_some(), "not a logrus line: {l:?}\n{o}");
    }

    let o = create(&["--debug", "--log-format", "json"]);
    let json_debug = o
        .error_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["level"] == "debug" && v["msg"].is_string() && v["time"].is_string())
        .count();
    convention!(json_debug > 0, "no JSON debug line on stderr: {o}");

    let log = c.dir.join("debug.log");
    let o = create(&["--debug", "--log", &log.to_string_lossy()]);
    assert_eq!(o.error_lines(), Vec::<&str>::new(), "stderr with --log: {o}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    convention!(text.lines().any(|l| l.contains("level=debug")), "no debug line in the log file: {text}");

    let o = create(&[]);
    assert_eq!(o.error_lines(), Vec::<&str>::new(), "stderr without --debug: {o}");
    c.assert_clean();
}

/// `events`: each object's keys come in runc's order, `type`, `id`, `data` (callers that compare
/// text, and humans, see the event type first), once with `--stats` and in the stream.
pub fn events_keys_in_runc_order() {
    requires!(root, runtime, cgroups);
    let mut c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    let head = format!("{{\"type\":\"stats\",\"id\":{},\"data\":{{", json!(c.id));
    let o = c.exec(&["events", "--stats", &c.id]);
    convention!(o.success(), "events --stats failed: {o}");
    let line = o.stdout.lines().next().unwrap_or_default();
    convention!(line.starts_with(&head), "--stats line does not start with {head}: {o}");
    assert!(o.json()["data"].is_object(), "{o}");

    // The stream runs until it is stopped: the harness's timeout ends it.
    c.rt.timeout = Duration::from_millis(1500);
    let o = c.exec(&["events", "--interval", "200ms", &c.id]);
    c.rt.timeout = crate::runtime::DEFAULT_TIMEOUT;
    let lines: Vec<&str> = o.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 2, "fewer than two events in 1.5s at 200ms: {o}");
    for l in lines {
        convention!(l.starts_with(&head), "event does not start with {head}: {l}");
    }
    c.delete(true).ok();
    c.assert_clean();
}

/// `events`: an OOM kill is reported as it happens (`{"type":"oom","id":ID}`), not at the next
/// stats interval: with a 10 s interval the `oom` line must come within the 4 s the stream runs.
/// (runc prints its first `stats` line after one interval, hull at once; neither is checked.)
pub fn events_pushes_oom_kills() {
    requires!(root, runtime, cgroups);
    let mut c = Case::new();
    // dd allocates one 64 MiB buffer past the 16 MiB limit and is OOM-killed; sh stays.
    let script = "sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; sleep 30";
    c.build(c.bundle().args(&["/bin/sh", "-c", script]).with(|s| {
        s["linux"]["resources"]["memory"] = json!({"limit": 16 << 20, "swap": 16 << 20});
    }));
    c.create(&[]).ok();
    c.start().ok();
    c.rt.timeout = Duration::from_millis(4000);
    let o = c.exec(&["events", "--interval", "10s", &c.id]);
    c.rt.timeout = crate::runtime::DEFAULT_TIMEOUT;
    let lines: Vec<&str> = o.stdout.lines().filter(|l| !l.is_empty()).collect();
    let oom = format!("{{\"type\":\"oom\",\"id\":{}}}", json!(c.id));
    assert!(lines.contains(&oom.as_str()), "no {oom} within 4 s at a 10 s interval: {o}");
    c.delete(true).ok();
    c.assert_clean();
}

/// Capitalised errno texts (C's strerror, Rust's io::Error) that Go prints in lower case.
const CAPITALISED: &[&str] = &[
    "No such file or directory",
    "Not a directory",
    "Permission denied",
    "Operation not permitted",
    "No such device",
    "Invalid argument",
    "os error",
];

/// errno descriptions read as Go's `syscall.Errno` strings (`no such file or directory`): Docker and
/// podman match on these lower-case texts.
pub fn errno_descriptions_are_lower_case() {
    requires!(root, runtime);
    let check = |c: &Case, o: &Outcome, want: &str| {
        let msg = error_msg(c, o);
        convention!(msg.contains(want), "error does not say {want:?}: {o}");
        for bad in CAPITALISED {
            convention!(!msg.contains(bad), "error renders an errno as {bad:?}: {o}");
        }
    };
    // A bind mount whose source does not exist (ENOENT, from the runtime's side).
    let c = Case::new();
    c.build(c.bundle().with(|s| {
        let m =
            json!({"destination": "/mnt", "type": "bind", "source": "/nonexistent-bind-source", "options": ["bind"]});
        s["mounts"].as_array_mut().unwrap().push(m);
    }));
    check(&c, &c.create(&[]), "no such file or directory");
    c.assert_clean();
    drop(c);

    // A sysctl the kernel does not have (ENOENT, from inside the container's setup).
    let c = Case::new();
    c.build(c.bundle().with(|s| s["linux"]["sysctl"] = json!({"net.nosuch.key": "1"})));
    check(&c, &c.create(&[]), "no such file or directory");
    c.assert_clean();
    drop(c);

    // exec with a working directory that is a file (ENOTDIR) or missing (ENOENT).
    let c = Case::new();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    check(&c, &c.exec(&["exec", "--cwd", "/probe", &c.id, "/probe", "exit", "0"]), "not a directory");
    check(&c, &c.exec(&["exec", "--cwd", "/nonexistent", &c.id, "/probe", "exit", "0"]), "no such file or directory");
    c.delete(true).ok();
    c.assert_clean();
}

/// Configuration and bundle errors in runc's words (after runc's `<runtime> create failed: ` prefix).
pub fn config_errors_in_runc_words() {
    requires!(root, runtime);
    let fails = |edit: &dyn Fn(&Case), want: &dyn Fn(&Case) -> String| {
        let c = Case::new();
        edit(&c);
        let o = c.create(&[]);
        let msg = error_msg(&c, &o);
        c.assert_clean();
        let want = want(&c);
        convention!(msg == want, "want {want:?}, got {msg:?}: {o}");
    };
    fails(&|c| _ = c.build(c.bundle().no_config()), &|_| "JSON specification file config.json not found".into());
    fails(&|c| _ = c.build(c.bundle().raw_config("{\"ociVersion\": \"1.0.2\", \"process\": {")), &|_| {
        "unexpected EOF".into()
    });
    fails(&|c| _ = c.build(c.bundle().no_rootfs()), &|c| {
        format!("invalid rootfs: stat {}: no such file or directory", c.bundle_dir().join("rootfs").display())
    });
    fails(
        &|c| {
            c.build(c.bundle().with(|s| {
                s.as_object_mut().unwrap().remove("process");
            }));
        },
        &|_| "process property must not be empty".into(),
    );

    let c = Case::new();
    let b = c.build(c.bundle().args(&["/probe", "sleep", "30"])).to_string_lossy().into_owned();
    for (id, want) in [
        ("a b", "invalid container ID format"),
        ("../x", "invalid container ID format"),
        ("", "container id cannot be empty"),
    ] {
        let o = c.exec(&["create", "--bundle", &b, id]);
        let msg = error_msg(&c, &o);
        convention!(msg == want, "id {id:?}: want {want:?}, got {msg:?}: {o}");
    }
    c.create(&[]).ok();
    let msg = error_msg(&c, &c.create(&[]));
    convention!(msg == "container with given ID already exists", "existing id: got {msg:?}");
    c.delete(true).ok();
    c.assert_clean();
}

/// Errors of the lifecycle commands in runc's words.
pub fn lifecycle_errors_in_runc_words() {
    requires!(root, runtime, cgroups);
    let c = Case::new();
    let says = |args: &[&str], want: &str| {
        let o = c.exec(args);
        let msg = error_msg(&c, &o);
        convention!(msg == want, "`{}`: want {want:?}, got {msg:?}: {o}", args.join(" "));
    };
    for cmd in ["state", "start", "delete", "pause", "resume", "ps", "events"] {
        says(&[cmd, &c.id], "container does not exist");
    }
    says(&["kill", &c.id, "KILL"], "container does not exist");

    c.build(c.bundle().args(&["/probe", "sleep", "30"]));
    c.create(&[]).ok();
    c.start().ok();
    says(&["start", &c.id], "cannot start an already running container");
    says(&["resume", &c.id], "container not paused");
    says(&["kill", &c.id, "SIGFOO"], "unknown signal \"SIGFOO\"");
    says(&["delete", &c.id], &format!("cannot delete container {} that is not stopped: running", c.id));
    c.exec(&["pause", &c.id]).ok();
    says(&["pause", &c.id], "container not running");
    c.exec(&["resume", &c.id]).ok();
    c.kill(Some("KILL")).ok();
    assert_eq!(c.wait_status("stopped", Duration::from_secs(10)).as_deref(), Some("stopped"));
    says(&["kill", &c.id, "KILL"], "container not running");
    says(&["pause", &c.id], "container not running");
    says(&["start", &c.id], "cannot start a container that has stopped");
    c.delete(false).ok();
    c.assert_clean();
}

/// `--version` (and `-v`): `<name> version X`, `commit: ...`, `spec: X.Y.Z` as the first three lines;
/// Docker takes the runtime's name and version from the first and its commit from `commit:`.
pub fn version_in_runc_shape() {
    requires!(runtime);
    let c = Case::new();
    let name = c.rt.name();
    let long = c.rt.exec_raw(&["--version".into()], std::process::Stdio::null());
    let short = c.rt.exec_raw(&["-v".into()], std::process::Stdio::null());
    assert!(long.success() && short.success(), "{long}\n{short}");
    assert_eq!(long.stdout, short.stdout, "-v and --version differ");
    assert_eq!(long.stderr, "", "{long}");
    let lines: Vec<&str> = long.stdout.lines().collect();
    assert!(lines.len() >= 3, "{long}");
    let version = lines[0].strip_prefix(&format!("{name} version ")).unwrap_or_default();
    convention!(!version.is_empty() && !version.contains(' '), "line 1 is not `{name} version X`: {long}");
    let commit = lines[1].strip_prefix("commit: ").unwrap_or_default();
    convention!(!commit.is_empty() && !commit.contains(' '), "line 2 is not `commit: ...`: {long}");
    let spec = lines[2].strip_prefix("spec: ").unwrap_or_default();
    let numbers: Vec<&str> = spec.split(['.', '-']).take(3).collect();
    convention!(
        numbers.len() == 3 && numbers.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        "line 3 is not `spec: X.Y.Z`: {long}"
    );
}

/// The sections of a urfave/cli help text: title -> its lines (without the title).
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let title = line.strip_suffix(':').filter(|t| {
            t.starts_with(|c: char| c.is_ascii_uppercase())
                && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ')
        });
        if let Some(t) = title {
            out.push((t.to_owned(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(line.to_owned());
        }
    }
    out
}

fn section<'a>(all: &'a [(String, Vec<String>)], title: &str) -> Option<&'a [String]> {
    all.iter().find(|(t, _)| t == title).map(|(_, b)| b.as_slice())
}

/// The flag column of an options section: `--bundle value, -b value` for each `   --bundle value, -b value  text`.
fn flag_specs(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.trim_start())
        .filter(|l| l.starts_with("--"))
        .map(|l| l.split("  ").next().unwrap_or_default().trim_end().to_owned())
        .collect()
}

const GLOBAL_FLAGS: &[&str] = &[
    "--debug",
    "--log value",
    "--log-format value",
    "--root value",
    "--criu value",
    "--systemd-cgroup",
    "--rootless value",
    "--help, -h",
    "--version, -v",
];

/// runc 1.1.5's commands (less checkpoint and restore, which need CRIU) and the flags each lists.
const COMMAND_FLAGS: &[(&str, &[&str])] = &[
    (
        "create",
        &[
            "--bundle value, -b value",
            "--console-socket value",
            "--pid-file value",
            "--no-pivot",
            "--no-new-keyring",
            "--preserve-fds value",
        ],
    ),
    ("delete", &["--force, -f"]),
    ("events", &["--interval value", "--stats"]),
    (
        "exec",
        &[
            "--console-socket value",
            "--cwd value",
            "--env value, -e value",
            "--tty, -t",
            "--user value, -u value",
            "--additional-gids value, -g value",
            "--process value, -p value",
            "--detach, -d",
            "--pid-file value",
            "--process-label value",
            "--apparmor value",
            "--no-new-privs",
            "--cap value, -c value",
            "--preserve-fds value",
            "--cgroup value",
            "--ignore-paused",
        ],
    ),
    ("kill", &["--all, -a"]),
    ("list", &["--format value, -f value", "--quiet, -q"]),
    ("pause", &[]),
    ("ps", &["--format value, -f value"]),
    ("resume", &[]),
    (
        "run",
        &[
            "--bundle value, -b value",
            "--console-socket value",
            "--detach, -d",
            "--keep",
            "--pid-file value",
            "--no-subreaper",
            "--no-pivot",
            "--no-new-keyring",
            "--preserve-fds value",
        ],
    ),
    ("spec", &["--bundle value, -b value", "--rootless"]),
    ("start", &[]),
    ("state", &[]),
    (
        "update",
        &[
            "--resources value, -r value",
            "--blkio-weight value",
            "--cpu-period value",
            "--cpu-quota value",
            "--cpu-share value",
            "--cpu-rt-period value",
            "--cpu-rt-runtime value",
            "--cpuset-cpus value",
            "--cpuset-mems value",
            "--memory value",
            "--memory-reservation value",
            "--memory-swap value",
            "--pids-limit value",
            "--l3-cache-schema value",
            "--mem-bw-schema value",
        ],
    ),
    ("features", &[]),
];

/// `--help`: runc's layout (NAME, USAGE, COMMANDS, GLOBAL OPTIONS), every command with a line of its
/// own and every global flag in urfave/cli's `--flag value, -f value` form.
pub fn help_lists_every_command_and_global_flag() {
    requires!(runtime);
    let c = Case::new();
    let name = c.rt.name();
    let o = c.rt.exec_raw(&["--help".into()], std::process::Stdio::null());
    assert!(o.success(), "{o}");
    let all = sections(&o.stdout);
    let title = section(&all, "NAME").and_then(|b| b.first().cloned()).unwrap_or_default();
    convention!(title.starts_with(&format!("   {name} - ")), "NAME is not `{name} - ...`: {o}");
    let usage = section(&all, "USAGE").and_then(|b| b.first().cloned()).unwrap_or_default();
    convention!(
        usage == format!("   {name} [global options] command [command options] [arguments...]"),
        "USAGE: {usage:?}"
    );
    let commands: Vec<String> = section(&all, "COMMANDS")
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l.strip_prefix("   ").and_then(|l| l.split("  ").next()).map(str::to_owned))
        .collect();
    for (cmd, _) in COMMAND_FLAGS {
        convention!(commands.iter().any(|c| c == cmd), "COMMANDS lacks {cmd}: {commands:?}");
    }
    convention!(commands.iter().any(|c| c == "help, h"), "COMMANDS lacks `help, h`: {commands:?}");
    let flags = flag_specs(section(&all, "GLOBAL OPTIONS").unwrap_or_default());
    for f in GLOBAL_FLAGS {
        convention!(flags.iter().any(|x| x == f), "GLOBAL OPTIONS lacks {f:?}: {flags:?}");
    }
    // `help` with no topic is the same text.
    let o2 = c.exec(&["help"]);
    assert_eq!(o2.stdout, o.stdout, "`help` differs from `--help`");
}

/// `help CMD` and `CMD --help`: NAME `<name> CMD - ...`, USAGE `<name> CMD ...`, and each of the
/// command's flags in OPTIONS.
pub fn command_help_lists_every_flag() {
    requires!(runtime);
    let c = Case::new();
    let name = c.rt.name();
    for (cmd, want) in COMMAND_FLAGS {
        let o = c.exec(&["help", cmd]);
        convention!(o.success(), "{o}");
        let all = sections(&o.stdout);
        let title = section(&all, "NAME").and_then(|b| b.first().cloned()).unwrap_or_default();
        convention!(title.starts_with(&format!("   {name} {cmd} - ")), "help {cmd}: NAME is {title:?}");
        let usage = section(&all, "USAGE").and_then(|b| b.first().cloned()).unwrap_or_default();
        convention!(usage.starts_with(&format!("   {name} {cmd}")), "help {cmd}: USAGE is {usage:?}");
        let flags = flag_specs(section(&all, "OPTIONS").unwrap_or_default());
        for f in *want {
            convention!(flags.iter().any(|x| x == f), "help {cmd}: OPTIONS lacks {f:?}: {flags:?}");
        }
        let o2 = c.exec(&[cmd, "--help"]);
        convention!(o2.success(), "{o2}");
        assert_eq!(o2.stdout, o.stdout, "`{cmd} --help` differs from `help {cmd}`");
    }
}

const RUNC: &str = "runc 1.1.5's behaviour, which its callers match on; the spec does not define the command line";

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(debug_without_log_writes_to_stderr, "runc-cli#debug", allowed = RUNC),
    entry!(events_keys_in_runc_order, "runc-cli#events", allowed = RUNC),
    entry!(events_pushes_oom_kills, "runc-cli#events", allowed = RUNC),
    entry!(errno_descriptions_are_lower_case, "runc-cli#errors", allowed = RUNC),
    entry!(config_errors_in_runc_words, "runc-cli#errors", allowed = RUNC),
    entry!(lifecycle_errors_in_runc_words, "runc-cli#errors", allowed = RUNC),
    entry!(version_in_runc_shape, "runc-cli#version", allowed = RUNC),
    entry!(help_lists_every_command_and_global_flag, "runc-cli#help", allowed = RUNC),
    entry!(command_help_lists_every_flag, "runc-cli#help", allowed = RUNC),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logrus_lines_parse() {
        let f = logrus_fields(r#"time="2026-01-01T00:00:00Z" level=error msg="say \"hi\"\n" func=x"#).unwrap();
        assert_eq!(field(&f, "level"), Some("error"));
        assert_eq!(field(&f, "msg"), Some("say \"hi\"\n"));
        assert_eq!(field(&f, "func"), Some("x"));
        assert!(logrus_fields("plain text here").is_none());
        assert!(logrus_fields(r#"msg="unterminated"#).is_none());
    }

    #[test]
    fn help_sections_and_flags() {
        let text = "NAME:\n   x - y\n\nOPTIONS:\n   --bundle value, -b value  path\n   --keep                    k\n";
        let all = sections(text);
        assert_eq!(section(&all, "NAME").unwrap()[0], "   x - y");
        assert_eq!(flag_specs(section(&all, "OPTIONS").unwrap()), ["--bundle value, -b value", "--keep"]);
    }
}
