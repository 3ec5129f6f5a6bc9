//! Every command and flag hull accepts, as clap `Command`s with the texts help shows. The parser
//! (`cli`) and help (`help.rs`) both read these; no other table lists flags.
//!
//! Conventions the readers rely on: a flag's id is its long name; a boolean takes an optional
//! `=value` (Go's `--flag=false`); a command's operands are one positional arg, [`OPERANDS`],
//! whose value name is the usage text and whose `num_args` is how many runc takes (a command
//! without it takes none); operands with `trailing_var_arg` end flag parsing (everything after
//! the first one is an operand).

use clap::{Arg, ArgAction, Command};

/// The id of every command's positional arguments.
pub const OPERANDS: &str = "operands";

/// A flag that takes a value (repeatable; readers take the last unless it is a list).
fn value(long: &'static str, help: &'static str) -> Arg {
    Arg::new(long).long(long).action(ArgAction::Append).num_args(1).help(help)
}

/// A boolean: `--name`, or `--name=false` as Go's flags allow.
fn switch(long: &'static str, help: &'static str) -> Arg {
    Arg::new(long)
        .long(long)
        .action(ArgAction::Append)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .help(help)
}

/// Operands: `usage` is what help prints after the options, `count` how many runc takes.
fn operands(usage: &'static str, count: impl Into<clap::builder::ValueRange>) -> Arg {
    Arg::new(OPERANDS).value_name(usage).action(ArgAction::Append).num_args(count)
}

/// A subcommand without clap's own help and version flags (hull has its own `--help, -h`).
fn cmd(name: &'static str, about: &'static str) -> Command {
    Command::new(name)
        .about(about)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(switch("help", "show help").short('h'))
}

/// The root: global flags, then the command name and its arguments, not parsed here.
pub fn globals() -> Command {
    Command::new("hull")
        .about("an OCI container runtime, a drop-in for runc")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .args([
            value("root", "directory of the container states, best on a tmpfs (default: \"/run/hull\")"),
            value("log", "append hull's log to this file (default: stderr)"),
            value("log-format", "log format: 'text' or 'json' (default: \"text\")"),
            switch("debug", "log debug records too"),
            switch("systemd-cgroup", "let systemd manage cgroups (not supported: refused where cgroups are made)"),
            value("rootless", "whether hull runs without root: 'true', 'false' or 'auto' (default: \"auto\")"),
            // Accepted for old callers; it has no effect until checkpoint exists.
            value("criu", "path of criu; accepted for callers, checkpoint is not supported (default: \"criu\")"),
            switch("version", "print the version").short('v'),
            switch("help", "show help").short('h'),
        ])
        .arg(operands("command [arguments...]", 0..).trailing_var_arg(true))
}

/// Commands accepted but not implemented: their arguments are not parsed.
pub const UNSUPPORTED: &[&str] = &["checkpoint", "restore"];

/// The commands in the order `--help` lists them (runc's).
const NAMES: &[&str] = &[
    "checkpoint",
    "create",
    "delete",
    "events",
    "exec",
    "kill",
    "list",
    "pause",
    "ps",
    "restore",
    "resume",
    "run",
    "spec",
    "start",
    "state",
    "update",
    "features",
    "help",
];

/// The root with every command, for help. Parsing builds only the command it needs: every
/// definition built is heap hull's short-lived processes would otherwise touch for nothing.
pub fn tree() -> Command {
    globals().subcommands(NAMES.iter().filter_map(|n| command(n)))
}

/// The definition of the command `name` (not its aliases).
pub fn command(name: &str) -> Option<Command> {
    Some(match name {
        "checkpoint" => Command::new("checkpoint").about("not supported by hull (checkpointing needs CRIU)"),
        "create" => create_like("create", "create a container from a bundle; its program waits for start")
            .long_about(
                "The bundle is a directory holding config.json and the root filesystem it names. The\n\
                 container's process is set up and waits; `start` runs its program.",
            )
            // runc's create has no --detach (it always detaches); go-runc can send it.
            .arg(switch("detach", "accepted for callers that pass it; create always detaches").short('d')),
        "delete" => cmd("delete", "delete a stopped container and everything it holds")
            .arg(switch("force", "kill the container (SIGKILL) first if it is still running").short('f'))
            .arg(operands("<container-id>", 1)),
        "events" => cmd("events", "print a container's resource usage and OOM events as JSON")
            .arg(switch("stats", "print the statistics once and exit"))
            .arg(value("interval", "time between two statistics (default: 5s)"))
            .arg(operands("<container-id>", 1)),
        "exec" => exec(),
        "kill" => cmd("kill", "send a signal (default: SIGTERM) to a container's init process")
            .long_about("The signal is a name (KILL, SIGKILL) or a number.")
            .arg(switch("all", "signal every process of the container, not only its init").short('a'))
            .arg(operands("<container-id> [signal]", 1..=2).trailing_var_arg(true)),
        "list" => cmd("list", "list the containers under the state root")
            .long_about("The containers are those under the global --root.")
            .arg(format())
            .arg(switch("quiet", "print only the container ids").short('q')),
        "pause" => id_only("pause", "freeze every process of a container"),
        "ps" => cmd("ps", "show the processes running inside a container")
            .long_about("Options after the container id are passed to ps(1).")
            .arg(format())
            .arg(operands("<container-id> [ps options]", 1..).trailing_var_arg(true)),
        "restore" => Command::new("restore").about("not supported by hull (restoring needs CRIU)"),
        "resume" => id_only("resume", "thaw every process of a paused container"),
        "run" => create_like("run", "create a container and start it")
            .arg(switch("detach", "return once the container runs instead of waiting for it").short('d'))
            .arg(switch("keep", "keep the container after its process exits"))
            .arg(switch("no-subreaper", "do not become the subreaper of the container's processes")),
        "spec" => cmd("spec", "write an example config.json")
            .arg(value("bundle", "directory to write config.json in (default: the current directory)").short('b'))
            .arg(switch("rootless", "an example for a container run without root")),
        "start" => id_only("start", "run the program of a created container"),
        "state" => id_only("state", "print the OCI state of a container as JSON"),
        "update" => update(),
        "features" => cmd("features", "print what hull supports as JSON"),
        "help" => Command::new("help").visible_alias("h").about("show the commands, or the help of one command"),
        _ => return None,
    })
}

fn id_only(name: &'static str, about: &'static str) -> Command {
    cmd(name, about).arg(operands("<container-id>", 1))
}

fn format() -> Arg {
    value("format", "'table' or 'json' (default: \"table\")").short('f')
}

/// `create`'s flags, which `run` shares.
fn create_like(name: &'static str, about: &'static str) -> Command {
    cmd(name, about)
        .arg(value("bundle", "the bundle directory (default: the current directory)").short('b'))
        .arg(value("pid-file", "write the init process's pid to this file"))
        .args(sockets())
        .arg(preserve_fds())
        .arg(switch("no-pivot", "enter the rootfs without pivot_root (for a rootfs on a ramdisk)"))
        .arg(switch("no-new-keyring", "keep the caller's session keyring instead of making a new one"))
        .arg(operands("<container-id>", 1))
}

fn sockets() -> [Arg; 2] {
    [
        value("console-socket", "AF_UNIX socket that receives the master end of the container's pseudoterminal"),
        value("pidfd-socket", "AF_UNIX socket that receives a pidfd of the process"),
    ]
}

fn preserve_fds() -> Arg {
    value("preserve-fds", "pass this many more fds on after stdio and $LISTEN_FDS (default: 0)")
}

fn exec() -> Command {
    cmd("exec", "run a new process inside a container")
        .long_about(
            "The process runs with the container's namespaces, cgroup and security settings; its own\n\
             settings come from the flags or, with -p, from an OCI process JSON file.",
        )
        .arg(value("process", "an OCI process JSON file that sets every property of the process").short('p'))
        .arg(value("cwd", "working directory inside the container"))
        .arg(value("env", "set an environment variable (KEY=VALUE; repeatable)").short('e'))
        .arg(switch("tty", "give the process a pseudoterminal").short('t'))
        .arg(value("user", "user and group: <uid>[:<gid>]").short('u'))
        .arg(value("additional-gids", "a supplementary group id (repeatable)").short('g'))
        .arg(value("cap", "add a capability (repeatable)").short('c'))
        .arg(switch("no-new-privs", "set no_new_privs for the process"))
        .arg(value("apparmor", "AppArmor profile of the process"))
        .arg(value("process-label", "SELinux label of the process"))
        .arg(switch("detach", "return once the process has started instead of waiting for it").short('d'))
        .arg(value("pid-file", "write the process's pid to this file"))
        .args(sockets())
        .arg(preserve_fds())
        .arg(value("cgroup", "run in an existing sub-cgroup: [<controller>:]<path> (repeatable)"))
        .arg(switch("ignore-paused", "run even if the container is paused"))
        // Without --process the command is needed too; the parser checks that.
        .arg(
            operands("<container-id> <command> [args...]  || -p process.json <container-id>", 1..)
                .trailing_var_arg(true),
        )
}

/// `update`'s single-value flags, in the order help lists them; the parser passes them on by id.
pub const UPDATE_FLAGS: &[(&str, &str)] = &[
    ("blkio-weight", "block I/O weight, 10 to 1000"),
    ("cpu-period", "CPU CFS period in microseconds"),
    ("cpu-quota", "CPU CFS quota in microseconds per period"),
    ("cpu-rt-period", "CPU real-time period in microseconds"),
    ("cpu-rt-runtime", "CPU real-time runtime in microseconds per period"),
    ("cpu-share", "CPU shares (weight relative to other containers)"),
    ("cpuset-cpus", "CPUs the container may run on"),
    ("cpuset-mems", "memory nodes the container may use"),
    ("kernel-memory", "kernel memory limit in bytes (cgroup v1)"),
    ("kernel-memory-tcp", "kernel TCP buffer memory limit in bytes (cgroup v1)"),
    ("memory", "memory limit in bytes"),
    ("memory-reservation", "memory soft limit in bytes"),
    ("memory-swap", "memory plus swap limit in bytes; -1 for unlimited swap"),
    ("pids-limit", "most processes the container may have"),
    ("l3-cache-schema", "Intel RDT L3 cache schema"),
    ("mem-bw-schema", "Intel RDT memory bandwidth schema"),
];

fn update() -> Command {
    cmd("update", "change the resource limits of a container")
        .long_about(
            "With --resources, the limits come from a JSON file (or stdin for '-') holding an OCI\n\
             linux.resources object, and the other flags are ignored.",
        )
        .arg(value("resources", "JSON file with the new linux.resources, or '-' for stdin").short('r'))
        .args(UPDATE_FLAGS.iter().map(|(name, help)| value(name, help)))
        .arg(operands("<container-id>", 1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_listed_command_is_defined() {
        for name in super::NAMES.iter().chain(super::UNSUPPORTED) {
            assert!(super::command(name).is_some_and(|c| c.get_name() == *name), "{name}");
        }
    }
}
