//! `--help` and `help COMMAND` in runc's layout (urfave/cli's sections NAME, USAGE, COMMANDS,
//! OPTIONS, flags as `--name value, -n value`), worded for hull. The flag lists come from the
//! parser's own tables, so every flag hull accepts is shown and none it refuses.

use crate::cli::{self, FlagHelp};

/// Each command's one-line summary, in the order `--help` lists them (runc's).
const SUMMARIES: &[(&str, &str)] = &[
    ("checkpoint", "not supported by hull (checkpointing needs CRIU)"),
    ("create", "create a container from a bundle; its program waits for start"),
    ("delete", "delete a stopped container and everything it holds"),
    ("events", "print a container's resource usage and OOM events as JSON"),
    ("exec", "run a new process inside a container"),
    ("kill", "send a signal (default: SIGTERM) to a container's init process"),
    ("list", "list the containers under the state root"),
    ("pause", "freeze every process of a container"),
    ("ps", "show the processes running inside a container"),
    ("restore", "not supported by hull (restoring needs CRIU)"),
    ("resume", "thaw every process of a paused container"),
    ("run", "create a container and start it"),
    ("spec", "write an example config.json"),
    ("start", "run the program of a created container"),
    ("state", "print the OCI state of a container as JSON"),
    ("update", "change the resource limits of a container"),
    ("features", "print what hull supports as JSON"),
];

const HELP_SUMMARY: &str = "show the commands, or the help of one command";

/// The arguments after `[command options]` in a command's usage line.
fn arguments(command: &str) -> &'static str {
    match command {
        "exec" => "<container-id> <command> [args...]  || -p process.json <container-id>",
        "kill" => "<container-id> [signal]",
        "ps" => "<container-id> [ps options]",
        "list" | "spec" | "features" => "",
        _ => "<container-id>",
    }
}

/// A longer text for the commands whose usage line does not say it all.
fn description(command: &str) -> Option<&'static str> {
    Some(match command {
        "create" => "The bundle is a directory holding config.json and the root filesystem it names. The\ncontainer's process is set up and waits; `start` runs its program.",
        "exec" => "The process runs with the container's namespaces, cgroup and security settings; its own\nsettings come from the flags or, with -p, from an OCI process JSON file.",
        "kill" => "The signal is a name (KILL, SIGKILL) or a number.",
        "ps" => "Options after the container id are passed to ps(1).",
        "update" => "With --resources, the limits come from a JSON file (or stdin for '-') holding an OCI\nlinux.resources object, and the other flags are ignored.",
        "list" => "The containers are those under the global --root.",
        _ => return None,
    })
}

/// What a flag does; `command` is empty for global flags.
fn flag_text(command: &str, flag: &str) -> Option<&'static str> {
    Some(match (command, flag) {
        ("", "root") => "directory of the container states, best on a tmpfs (default: \"/run/hull\")",
        ("", "log") => "append hull's log to this file (default: stderr)",
        ("", "log-format") => "log format: 'text' or 'json' (default: \"text\")",
        ("", "debug") => "log debug records too",
        ("", "systemd-cgroup") => "let systemd manage cgroups (not supported: refused where cgroups are made)",
        ("", "rootless") => "whether hull runs without root: 'true', 'false' or 'auto' (default: \"auto\")",
        ("", "criu") => "path of criu; accepted for callers, checkpoint is not supported (default: \"criu\")",
        ("", "version") => "print the version",
        ("", "help") => "show help",
        ("spec", "bundle") => "directory to write config.json in (default: the current directory)",
        ("spec", "rootless") => "an example for a container run without root",
        ("create", "detach") => "accepted for callers that pass it; create always detaches",
        ("exec", "detach") => "return once the process has started instead of waiting for it",
        ("exec", "pid-file") => "write the process's pid to this file",
        ("events", "stats") => "print the statistics once and exit",
        ("events", "interval") => "time between two statistics (default: 5s)",
        ("kill", "all") => "signal every process of the container, not only its init",
        ("delete", "force") => "kill the container (SIGKILL) first if it is still running",
        ("list", "quiet") => "print only the container ids",
        (_, "format") => "'table' or 'json' (default: \"table\")",
        (_, "bundle") => "the bundle directory (default: the current directory)",
        (_, "console-socket") => "AF_UNIX socket that receives the master end of the container's pseudoterminal",
        (_, "pidfd-socket") => "AF_UNIX socket that receives a pidfd of the process",
        (_, "pid-file") => "write the init process's pid to this file",
        (_, "preserve-fds") => "pass this many more fds on after stdio and $LISTEN_FDS (default: 0)",
        (_, "no-pivot") => "enter the rootfs without pivot_root (for a rootfs on a ramdisk)",
        (_, "no-new-keyring") => "keep the caller's session keyring instead of making a new one",
        (_, "detach") => "return once the container runs instead of waiting for it",
        (_, "keep") => "keep the container after its process exits",
        (_, "no-subreaper") => "do not become the subreaper of the container's processes",
        (_, "process") => "an OCI process JSON file that sets every property of the process",
        (_, "cwd") => "working directory inside the container",
        (_, "env") => "set an environment variable (KEY=VALUE; repeatable)",
        (_, "tty") => "give the process a pseudoterminal",
        (_, "user") => "user and group: <uid>[:<gid>]",
        (_, "additional-gids") => "a supplementary group id (repeatable)",
        (_, "cap") => "add a capability (repeatable)",
        (_, "no-new-privs") => "set no_new_privs for the process",
        (_, "apparmor") => "AppArmor profile of the process",
        (_, "process-label") => "SELinux label of the process",
        (_, "cgroup") => "run in an existing sub-cgroup: [<controller>:]<path> (repeatable)",
        (_, "ignore-paused") => "run even if the container is paused",
        (_, "resources") => "JSON file with the new linux.resources, or '-' for stdin",
        (_, "blkio-weight") => "block I/O weight, 10 to 1000",
        (_, "cpu-period") => "CPU CFS period in microseconds",
        (_, "cpu-quota") => "CPU CFS quota in microseconds per period",
        (_, "cpu-rt-period") => "CPU real-time period in microseconds",
        (_, "cpu-rt-runtime") => "CPU real-time runtime in microseconds per period",
        (_, "cpu-share") => "CPU shares (weight relative to other containers)",
        (_, "cpuset-cpus") => "CPUs the container may run on",
        (_, "cpuset-mems") => "memory nodes the container may use",
        (_, "kernel-memory") => "kernel memory limit in bytes (cgroup v1)",
        (_, "kernel-memory-tcp") => "kernel TCP buffer memory limit in bytes (cgroup v1)",
        (_, "memory") => "memory limit in bytes",
        (_, "memory-reservation") => "memory soft limit in bytes",
        (_, "memory-swap") => "memory plus swap limit in bytes; -1 for unlimited swap",
        (_, "pids-limit") => "most processes the container may have",
        (_, "l3-cache-schema") => "Intel RDT L3 cache schema",
        (_, "mem-bw-schema") => "Intel RDT memory bandwidth schema",
        _ => return None,
    })
}

/// `--help`, `help` (None) and `help COMMAND`.
pub fn text(command: Option<&str>) -> String {
    match command {
        None => main_help(),
        Some(c) => command_help(c),
    }
}

fn main_help() -> String {
    let mut commands: Vec<(String, &str)> = SUMMARIES.iter().map(|(n, s)| ((*n).to_owned(), *s)).collect();
    commands.push(("help, h".to_owned(), HELP_SUMMARY));
    let flags = flag_rows("", &cli::global_flags());
    format!(
        "NAME:\n   hull - an OCI container runtime, a drop-in for runc\n\n\
         USAGE:\n   hull [global options] command [command options] [arguments...]\n\n\
         VERSION:\n   {}\n\
         COMMANDS:\n{}\n\
         GLOBAL OPTIONS:\n{}",
        crate::version_text().trim_start_matches("hull version "),
        table(&commands),
        table(&flags)
    )
}

fn command_help(command: &str) -> String {
    let summary = SUMMARIES.iter().find(|(n, _)| *n == command).map_or("", |(_, s)| *s);
    let flags = cli::command_flags(command).unwrap_or_default();
    let options = if flags.is_empty() { "" } else { " [command options]" };
    let args = arguments(command);
    let sep = if args.is_empty() { "" } else { " " };
    let mut out = format!("NAME:\n   hull {command} - {summary}\n\nUSAGE:\n   hull {command}{options}{sep}{args}\n");
    if let Some(d) = description(command) {
        out.push_str("\nDESCRIPTION:\n");
        out.extend(d.lines().map(|l| format!("   {l}\n")));
    }
    if !flags.is_empty() {
        out.push_str(&format!("\nOPTIONS:\n{}", table(&flag_rows(command, &flags))));
    }
    out
}

fn flag_rows(command: &str, flags: &[FlagHelp]) -> Vec<(String, &'static str)> {
    flags
        .iter()
        .map(|(names, value)| (flag_column(names, *value), flag_text(command, names[0]).unwrap_or("")))
        .collect()
}

/// `--bundle value, -b value`, `--tty, -t`: urfave/cli's way of showing a flag's names.
fn flag_column(names: &[&str], value: bool) -> String {
    let one = |n: &&str| {
        let dashes = if n.len() == 1 { "-" } else { "--" };
        format!("{dashes}{n}{}", if value { " value" } else { "" })
    };
    names.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Two columns, the first padded to the widest entry, each row indented by three spaces.
fn table(rows: &[(String, &str)]) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter().map(|(l, r)| format!("   {}\n", format!("{l:<width$}  {r}").trim_end())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_flag_is_described() {
        for name in cli::command_names() {
            assert!(SUMMARIES.iter().any(|(n, _)| *n == name), "no summary for {name}");
            for (names, _) in cli::command_flags(name).unwrap_or_default() {
                assert!(flag_text(name, names[0]).is_some(), "{name} --{}", names[0]);
            }
        }
        for (names, _) in cli::global_flags() {
            assert!(flag_text("", names[0]).is_some(), "global --{}", names[0]);
        }
    }

    #[test]
    fn flags_in_urfave_form() {
        assert_eq!(flag_column(&["bundle", "b"], true), "--bundle value, -b value");
        assert_eq!(flag_column(&["tty", "t"], false), "--tty, -t");
        assert_eq!(flag_column(&["debug"], false), "--debug");
    }

    #[test]
    fn layout_like_runc() {
        let main = text(None);
        assert!(main.starts_with("NAME:\n   hull - "), "{main}");
        assert!(main.contains("\nUSAGE:\n   hull [global options] command [command options] [arguments...]\n"));
        assert!(main.contains("\n   help, h  "), "{main}");
        assert!(main.contains("\n   --log-format value  "), "{main}");
        let create = text(Some("create"));
        assert!(create.starts_with("NAME:\n   hull create - "), "{create}");
        assert!(create.contains("\nUSAGE:\n   hull create [command options] <container-id>\n"), "{create}");
        assert!(create.contains("\n   --bundle value, -b value  "), "{create}");
        assert!(!create.contains("--help"), "{create}");
        let start = text(Some("start"));
        assert!(start.contains("\nUSAGE:\n   hull start <container-id>\n") && !start.contains("OPTIONS"), "{start}");
        let run = text(Some("run"));
        assert!(run.contains("\n   --keep  ") || run.contains("\n   --keep "), "{run}");
    }
}
