//! Static probe run inside test containers: prints what it observes (JSON or raw text) and asserts nothing.
//!
//! Built with `+crt-static` because the test rootfs has no libc; it therefore avoids NSS (no name lookups).
//! Subcommands:
//! `report` | `report-to PATH` (for hooks, whose stdout the runtime keeps) | `exit N` | `sleep SECS` | `cat PATH` | `write PATH TEXT` | `stat PATH` | `ls DIR`
//! | `signal-self N` | `wait-signal`.
//! Failures of `cat`/`write`/`stat`/`ls` print the errno name (e.g. `EROFS`) and exit 1.
#![forbid(unsafe_code)]

use std::fs;
use std::io::{IsTerminal, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::signal::{raise, SigSet, Signal};
use serde_json::{json, Map, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match argv.as_slice() {
        ["report-to", path] => match fs::write(path, report().to_string()) {
            Ok(()) => 0,
            Err(e) => fail(&e),
        },
        ["report", ..] | [] => print_json(&report()),
        ["exit", n] => n.parse().unwrap_or(2),
        ["sleep", secs] => {
            std::thread::sleep(Duration::from_secs_f64(secs.parse().unwrap_or(1.0)));
            0
        }
        ["cat", path] => cat(path),
        ["write", path, text] => write(path, text),
        ["stat", path] => match fs::symlink_metadata(path) {
            Ok(md) => print_json(&describe(Path::new(path), &md)),
            Err(e) => fail(&e),
        },
        ["ls", dir] => ls(dir),
        ["signal-self", n] => signal_self(n),
        ["wait-signal"] => wait_signal(),
        _ => {
            eprintln!("probe: unknown command {argv:?}");
            2
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn print_json(v: &Value) -> i32 {
    println!("{v}");
    0
}

/// Prints the errno name, so tests can compare `EROFS` rather than localized messages.
fn fail(e: &std::io::Error) -> i32 {
    match e.raw_os_error() {
        Some(n) => println!("{:?}", Errno::from_raw(n)),
        None => println!("{e}"),
    }
    1
}

fn cat(path: &str) -> i32 {
    match fs::read(path) {
        Ok(data) => {
            let _ = std::io::stdout().write_all(&data);
            0
        }
        Err(e) => fail(&e),
    }
}

fn write(path: &str, text: &str) -> i32 {
    match fs::write(path, text) {
        Ok(()) => {
            println!("ok");
            0
        }
        Err(e) => fail(&e),
    }
}

fn ls(dir: &str) -> i32 {
    match fs::read_dir(dir) {
        Ok(rd) => {
            let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            print_json(&json!(names))
        }
        Err(e) => fail(&e),
    }
}

fn signal_self(n: &str) -> i32 {
    let sig = n.parse::<i32>().ok().and_then(|n| Signal::try_from(n).ok());
    match sig {
        Some(sig) => {
            let _ = raise(sig);
            // Only reached when the signal is ignored or blocked.
            println!("survived");
            0
        }
        None => 2,
    }
}

/// Blocks every catchable signal and reports the first one that arrives, exiting with its number.
fn wait_signal() -> i32 {
    let set = SigSet::all();
    if set.thread_block().is_err() {
        return 3;
    }
    println!("ready");
    let _ = std::io::stdout().flush();
    match set.wait() {
        Ok(sig) => {
            println!("{}", sig as i32);
            sig as i32
        }
        Err(_) => 3,
    }
}

fn report() -> Value {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> Option<String> {
        status.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')).map(|v| v.trim().to_owned()))
    };
    let ids = |name: &str| -> Vec<u64> {
        field(name).map(|v| v.split_whitespace().filter_map(|x| x.parse().ok()).collect()).unwrap_or_default()
    };
    let (uids, gids) = (ids("Uid"), ids("Gid"));
    let stat = proc_stat();
    let uts = nix::sys::utsname::uname().ok();
    let caps: Map<String, Value> = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        .iter()
        .map(|k| (k.to_string(), json!(field(k).and_then(|v| u64::from_str_radix(&v, 16).ok()))))
        .collect();
    json!({
        "pid": std::process::id(),
        "ppid": stat.first(), "pgid": stat.get(1), "sid": stat.get(2),
        "uid": uids.first(), "euid": uids.get(1), "gid": gids.first(), "egid": gids.get(1),
        "groups": ids("Groups"),
        "caps": caps,
        "no_new_privs": field("NoNewPrivs").and_then(|v| v.parse::<u32>().ok()),
        "seccomp": field("Seccomp").and_then(|v| v.parse::<u32>().ok()),
        "umask": field("Umask").and_then(|v| u32::from_str_radix(&v, 8).ok()),
        "rlimits": rlimits(),
        "cwd": std::env::current_dir().ok().map(|p| p.to_string_lossy().into_owned()),
        "hostname": uts.as_ref().map(|u| u.nodename().to_string_lossy().into_owned()),
        "domainname": uts.as_ref().map(|u| u.domainname().to_string_lossy().into_owned()),
        "args": std::env::args().collect::<Vec<_>>(),
        "env": std::env::vars_os().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect::<Vec<_>>(),
        "ns": namespaces(),
        "cgroup": fs::read_to_string("/proc/self/cgroup").ok().map(|s| s.lines().map(str::to_owned).collect::<Vec<_>>()),
        "mounts": mounts(),
        "fds": fds(),
        "tty": tty(),
        "dev": dev_listing(),
    })
}

/// ppid, pgrp, session from /proc/self/stat (fields after the parenthesised comm, which may contain spaces).
fn proc_stat() -> Vec<i64> {
    let s = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace().skip(1).take(3).filter_map(|x| x.parse().ok()).collect()
}

fn rlimits() -> Map<String, Value> {
    let all = [
        ("RLIMIT_AS", Resource::RLIMIT_AS),
        ("RLIMIT_CORE", Resource::RLIMIT_CORE),
        ("RLIMIT_CPU", Resource::RLIMIT_CPU),
        ("RLIMIT_DATA", Resource::RLIMIT_DATA),
        ("RLIMIT_FSIZE", Resource::RLIMIT_FSIZE),
        ("RLIMIT_LOCKS", Resource::RLIMIT_LOCKS),
        ("RLIMIT_MEMLOCK", Resource::RLIMIT_MEMLOCK),
        ("RLIMIT_MSGQUEUE", Resource::RLIMIT_MSGQUEUE),
        ("RLIMIT_NICE", Resource::RLIMIT_NICE),
        ("RLIMIT_NOFILE", Resource::RLIMIT_NOFILE),
        ("RLIMIT_NPROC", Resource::RLIMIT_NPROC),
        ("RLIMIT_RSS", Resource::RLIMIT_RSS),
        ("RLIMIT_RTPRIO", Resource::RLIMIT_RTPRIO),
        ("RLIMIT_RTTIME", Resource::RLIMIT_RTTIME),
        ("RLIMIT_SIGPENDING", Resource::RLIMIT_SIGPENDING),
        ("RLIMIT_STACK", Resource::RLIMIT_STACK),
    ];
    all.iter().filter_map(|(name, r)| getrlimit(*r).ok().map(|(s, h)| (name.to_string(), json!([s, h])))).collect()
}

fn namespaces() -> Map<String, Value> {
    let Ok(rd) = fs::read_dir("/proc/self/ns") else { return Map::new() };
    rd.flatten()
        .filter_map(|e| {
            let target = fs::read_link(e.path()).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), json!(target.to_string_lossy())))
        })
        .collect()
}

/// Parsed /proc/self/mountinfo: `id parent maj:min root mount_point options [optional...] - fstype source super`.
fn mounts() -> Vec<Value> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(json!({
                "mount_point": unescape(l.get(4)?),
                "root": unescape(l.get(3)?),
                "options": l.get(5)?.split(',').collect::<Vec<_>>(),
                "propagation": l.get(6..).unwrap_or(&[]),
                "fs_type": r.first()?,
                "source": r.get(1).map(|s| unescape(s)),
                "super_options": r.get(2).map(|s| s.split(',').collect::<Vec<_>>()).unwrap_or_default(),
            }))
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as octal `\NNN`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 4).and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out + rest
}

fn fds() -> Map<String, Value> {
    // Collect names first: the directory's own fd is closed by the time we readlink, so it drops out.
    let names: Vec<String> = match fs::read_dir("/proc/self/fd") {
        Ok(rd) => rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => return Map::new(),
    };
    names
        .into_iter()
        .filter_map(|n| {
            let target = fs::read_link(format!("/proc/self/fd/{n}")).ok()?;
            Some((n, json!(target.to_string_lossy())))
        })
        .collect()
}

fn tty() -> Value {
    let ttyname = |fd: i32| fs::read_link(format!("/proc/self/fd/{fd}")).ok().map(|p| p.to_string_lossy().into_owned());
    json!([
        {"isatty": std::io::stdin().is_terminal(), "name": ttyname(0)},
        {"isatty": std::io::stdout().is_terminal(), "name": ttyname(1)},
        {"isatty": std::io::stderr().is_terminal(), "name": ttyname(2)},
    ])
}

fn dev_listing() -> Map<String, Value> {
    let Ok(rd) = fs::read_dir("/dev") else { return Map::new() };
    rd.flatten()
        .filter_map(|e| {
            let md = fs::symlink_metadata(e.path()).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), describe(&e.path(), &md)))
        })
        .collect()
}

fn describe(path: &Path, md: &fs::Metadata) -> Value {
    let ft = md.file_type();
    let kind = if ft.is_char_device() {
        "c"
    } else if ft.is_block_device() {
        "b"
    } else if ft.is_dir() {
        "d"
    } else if ft.is_symlink() {
        "l"
    } else if ft.is_fifo() {
        "p"
    } else if ft.is_socket() {
        "s"
    } else {
        "f"
    };
    let rdev = md.rdev();
    json!({
        "type": kind,
        "major": (rdev >> 8) & 0xfff | ((rdev >> 32) & !0xfff),
        "minor": (rdev & 0xff) | ((rdev >> 12) & !0xff),
        "mode": md.mode() & 0o7777,
        "uid": md.uid(),
        "gid": md.gid(),
        "size": md.size(),
        "link": fs::read_link(path).ok().map(|p| p.to_string_lossy().into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn mountinfo_octal_escapes() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/tab\\011x\\134y"), "/tab\tx\\y");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/trailing\\"), "/trailing\\");
    }
}
