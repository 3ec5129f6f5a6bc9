//! The command line as runc reads it: global flags before the subcommand, `-flag` and `--flag`
//! alike, `--flag=value` or `--flag value`, booleans as `--flag` or `--flag=true|false`, short
//! aliases, repeated flags (last wins), flags after the container id too (except for `exec`,
//! `kill` and `ps`, where everything after the id is an operand). The flags are clap definitions
//! ([`defs`]); [`argv`] turns Go's spellings into clap's; this module turns clap's matches into
//! hull's types, with runc's error words.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches};

mod argv;
pub mod defs;

/// A usage error: printed as one line, exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// logrus text lines: `time="..." level=error msg="..."`.
    #[default]
    Text,
    /// One JSON object per line: `{"level":"error","msg":"...","time":"..."}`.
    Json,
}

/// `--rootless`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rootless {
    True,
    False,
    #[default]
    Auto,
}

/// Flags before the subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub log_format: LogFormat,
    pub debug: bool,
    pub systemd_cgroup: bool,
    pub rootless: Rootless,
}

/// The default state root of root.
pub const DEFAULT_ROOT: &str = "/run/hull";

/// The state root when `--root` is not given: `$XDG_RUNTIME_DIR/hull` where runc would use
/// `$XDG_RUNTIME_DIR/runc` (a caller that is not root, or root of a user namespace whose `USER`
/// is not root), else [`DEFAULT_ROOT`]. The flag says whether it is the XDG one.
pub fn default_root() -> (PathBuf, bool) {
    let xdg = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty());
    let honour = !nix::unistd::geteuid().is_root()
        || (runtime_core::in_user_namespace() && std::env::var_os("USER").is_none_or(|u| u != "root"));
    match xdg {
        Some(dir) if honour => (PathBuf::from(dir).join("hull"), true),
        _ => (PathBuf::from(DEFAULT_ROOT), false),
    }
}

impl Rootless {
    /// As the library takes it: `None` detects.
    pub fn as_option(self) -> Option<bool> {
        match self {
            Rootless::True => Some(true),
            Rootless::False => Some(false),
            Rootless::Auto => None,
        }
    }
}

impl Default for Global {
    fn default() -> Self {
        Global {
            root: default_root().0,
            log: None,
            log_format: LogFormat::Text,
            debug: false,
            systemd_cgroup: false,
            rootless: Rootless::Auto,
        }
    }
}

/// Flags of `create` (and of `run`, which adds its own).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateArgs {
    pub id: String,
    /// Absolute (made so against the caller's cwd at parse time).
    pub bundle: PathBuf,
    /// Absolute, resolved against the caller's cwd before anything else happens.
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub pidfd_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
}

/// Flags of `run`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunArgs {
    pub create: CreateArgs,
    pub detach: bool,
    pub keep: bool,
    pub no_subreaper: bool,
}

/// Flags of `exec`; `command` is everything after the container id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecArgs {
    pub id: String,
    pub command: Vec<String>,
    /// `--process`: an OCI process JSON file (absolute).
    pub process: Option<PathBuf>,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    pub tty: bool,
    pub user: Option<String>,
    pub additional_gids: Vec<String>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub pidfd_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    pub cgroup: Vec<String>,
    pub ignore_paused: bool,
}

/// `list --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

/// A parsed subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create(CreateArgs),
    Run(RunArgs),
    Exec(Box<ExecArgs>),
    Ps {
        id: String,
        format: ListFormat,
        ps_args: Vec<String>,
    },
    Update {
        id: String,
        /// `--resources FILE` ("-" for stdin) and runc's single-value flags, in order.
        resources: Option<PathBuf>,
        flags: Vec<(&'static str, String)>,
    },
    Events {
        id: String,
        stats: bool,
        interval: String,
    },
    Start {
        id: String,
    },
    State {
        id: String,
    },
    Kill {
        id: String,
        signal: String,
        all: bool,
    },
    Delete {
        id: String,
        force: bool,
    },
    List {
        format: ListFormat,
        quiet: bool,
    },
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    Spec {
        bundle: PathBuf,
        rootless: bool,
    },
    Features,
    /// A command hull does not implement yet; its arguments are not parsed.
    Unsupported(&'static str),
    /// `--help`, `-h`, `help [command]`.
    Help(Option<String>),
    Version,
}

/// Everything on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub global: Global,
    pub command: Command,
}

/// Parses `args` (without argv[0]). Relative paths are made absolute against `cwd`.
pub fn parse(args: &[String], cwd: &Path) -> Result<Invocation, UsageError> {
    let m = argv::matches(defs::globals(), args)?;
    let f = Flags(&m);
    let mut global = Global::default();
    if let Some(v) = f.last("root") {
        global.root = absolute(cwd, v);
    }
    global.log = f.last("log").map(|v| absolute(cwd, v));
    if let Some(v) = f.last("log-format") {
        global.log_format = log_format(v)?;
    }
    global.debug = f.bool("debug");
    global.systemd_cgroup = f.bool("systemd-cgroup");
    if let Some(v) = f.last("rootless") {
        global.rootless = rootless(v)?;
    }
    let rest = f.all(defs::OPERANDS);
    let command = if f.bool("version") {
        Command::Version
    } else if f.bool("help") || rest.is_empty() {
        Command::Help(None)
    } else {
        subcommand(&rest[0], &rest[1..], cwd)?
    };
    Ok(Invocation { global, command })
}

fn subcommand(name: &str, args: &[String], cwd: &Path) -> Result<Command, UsageError> {
    if let Some(cmd) = defs::UNSUPPORTED.iter().find(|c| **c == name) {
        return Ok(Command::Unsupported(cmd));
    }
    if name == "help" || name == "h" {
        return help(args.first());
    }
    let Some(spec) = defs::command(name) else {
        return Err(usage(format!("unknown command {name:?}")));
    };
    let count = operand_count(&spec);
    let m = argv::matches(spec, args)?;
    let f = Flags(&m);
    if f.bool("help") {
        return Ok(Command::Help(Some(name.to_owned())));
    }
    let pos = f.all(defs::OPERANDS);
    check_count(name, pos.len(), count)?;
    let id = || pos[0].clone();
    Ok(match name {
        "create" => Command::Create(create_args(&f, id(), cwd)?),
        "run" => Command::Run(RunArgs {
            create: create_args(&f, id(), cwd)?,
            detach: f.bool("detach"),
            keep: f.bool("keep"),
            no_subreaper: f.bool("no-subreaper"),
        }),
        "exec" => Command::Exec(Box::new(exec_args(&f, pos, cwd)?)),
        "ps" => Command::Ps {
            id: id(),
            format: list_format(f.last("format").unwrap_or("table"))?,
            ps_args: pos[1..].to_vec(),
        },
        "update" => Command::Update {
            id: id(),
            resources: f.last("resources").map(|v| if v == "-" { PathBuf::from("-") } else { absolute(cwd, v) }),
            flags: update_flags(&m),
        },
        "events" => Command::Events {
            id: id(),
            stats: f.bool("stats"),
            interval: f.last("interval").unwrap_or("5s").to_owned(),
        },
        "start" => Command::Start { id: id() },
        "state" => Command::State { id: id() },
        "kill" => Command::Kill {
            id: id(),
            signal: pos.get(1).cloned().unwrap_or_else(|| "SIGTERM".to_owned()),
            all: f.bool("all"),
        },
        "delete" => Command::Delete { id: id(), force: f.bool("force") },
        "list" => Command::List { format: list_format(f.last("format").unwrap_or("table"))?, quiet: f.bool("quiet") },
        "pause" => Command::Pause { id: id() },
        "resume" => Command::Resume { id: id() },
        "spec" => Command::Spec { bundle: absolute(cwd, f.last("bundle").unwrap_or("")), rootless: f.bool("rootless") },
        "features" => Command::Features,
        other => unreachable!("command {other} is defined but not read"),
    })
}

/// `help [topic]`. No help for what hull cannot do: a probe must not take it for support.
fn help(topic: Option<&String>) -> Result<Command, UsageError> {
    let Some(topic) = topic else { return Ok(Command::Help(None)) };
    if let Some(cmd) = defs::UNSUPPORTED.iter().find(|c| *c == topic) {
        return Ok(Command::Unsupported(cmd));
    }
    if topic == "help" || defs::command(topic).is_none() {
        return Err(usage(format!("No help topic for '{topic}'")));
    }
    Ok(Command::Help(Some(topic.clone())))
}

/// `update`'s single-value flags in the order given (the last of a repeated one wins).
fn update_flags(m: &ArgMatches) -> Vec<(&'static str, String)> {
    let mut given: Vec<(usize, &'static str, String)> = Vec::new();
    for (name, _) in defs::UPDATE_FLAGS {
        let (Some(idx), Ok(Some(vals))) = (m.indices_of(name), m.try_get_many::<String>(name)) else {
            continue;
        };
        given.extend(idx.zip(vals).map(|(i, v)| (i, *name, v.clone())));
    }
    given.sort_by_key(|(i, _, _)| *i);
    given.into_iter().map(|(_, n, v)| (n, v)).collect()
}

fn create_args(f: &Flags, id: String, cwd: &Path) -> Result<CreateArgs, UsageError> {
    let path = |name| f.last(name).map(|v| absolute(cwd, v));
    let preserve_fds = preserve_fds(f)?;
    Ok(CreateArgs {
        id,
        // An empty --bundle means the current directory, as in runc.
        bundle: path("bundle").unwrap_or_else(|| cwd.to_path_buf()),
        pid_file: path("pid-file"),
        console_socket: path("console-socket"),
        pidfd_socket: path("pidfd-socket"),
        preserve_fds,
        no_pivot: f.bool("no-pivot"),
        no_new_keyring: f.bool("no-new-keyring"),
    })
}

fn exec_args(f: &Flags, pos: Vec<String>, cwd: &Path) -> Result<ExecArgs, UsageError> {
    let process = f.last("process").map(|v| absolute(cwd, v));
    if process.is_none() && pos.len() < 2 {
        return Err(usage("hull: \"exec\" requires a minimum of 2 argument(s)"));
    }
    let path = |name| f.last(name).map(|v| absolute(cwd, v));
    let owned = |name| f.last(name).map(str::to_owned);
    let mut pos = pos.into_iter();
    Ok(ExecArgs {
        id: pos.next().unwrap_or_default(),
        command: pos.collect(),
        process,
        cwd: owned("cwd"),
        env: f.all("env"),
        tty: f.bool("tty"),
        user: owned("user"),
        additional_gids: f.all("additional-gids"),
        caps: f.all("cap"),
        no_new_privs: f.bool("no-new-privs"),
        apparmor: owned("apparmor").filter(|s| !s.is_empty()),
        process_label: owned("process-label").filter(|s| !s.is_empty()),
        detach: f.bool("detach"),
        pid_file: path("pid-file"),
        console_socket: path("console-socket"),
        pidfd_socket: path("pidfd-socket"),
        preserve_fds: preserve_fds(f)?,
        cgroup: f.all("cgroup").into_iter().filter(|s| !s.is_empty()).collect(),
        ignore_paused: f.bool("ignore-paused"),
    })
}

fn preserve_fds(f: &Flags) -> Result<u32, UsageError> {
    match f.last("preserve-fds") {
        None => Ok(0),
        Some(v) => {
            v.parse::<u32>().map_err(|_| usage(format!("invalid value {v:?} for flag -preserve-fds: parse error")))
        }
    }
}

/// `value` made absolute against `cwd`; empty means `cwd` (Go's `filepath.Abs("")`).
fn absolute(cwd: &Path, value: &str) -> PathBuf {
    if value.is_empty() {
        cwd.to_path_buf()
    } else {
        cwd.join(value)
    }
}

/// How many positional arguments a command takes.
#[derive(Debug, Clone, Copy)]
enum Count {
    Exactly(usize),
    Between(usize, usize),
}

fn check_count(cmd: &str, n: usize, want: Count) -> Result<(), UsageError> {
    let msg = match want {
        Count::Exactly(k) if n != k => format!("requires exactly {k} argument(s)"),
        Count::Between(lo, _) if n < lo => format!("requires a minimum of {lo} argument(s)"),
        Count::Between(_, hi) if n > hi => format!("requires a maximum of {hi} argument(s)"),
        _ => return Ok(()),
    };
    Err(usage(format!("hull: {cmd:?} {msg}")))
}

fn log_format(v: &str) -> Result<LogFormat, UsageError> {
    match v {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(usage(format!("invalid log-format: {v}"))),
    }
}

fn rootless(v: &str) -> Result<Rootless, UsageError> {
    match v {
        "true" => Ok(Rootless::True),
        "false" => Ok(Rootless::False),
        "auto" => Ok(Rootless::Auto),
        _ => Err(usage(format!("invalid --rootless value {v:?}: want true, false or auto"))),
    }
}

fn list_format(v: &str) -> Result<ListFormat, UsageError> {
    match v {
        "table" => Ok(ListFormat::Table),
        "json" => Ok(ListFormat::Json),
        _ => Err(usage("invalid format option")),
    }
}

/// How many operands the definition of `cmd` says runc takes.
fn operand_count(cmd: &clap::Command) -> Count {
    let Some(range) = cmd.get_positionals().find_map(Arg::get_num_args) else { return Count::Exactly(0) };
    let (lo, hi) = (range.min_values(), range.max_values());
    if lo == hi {
        Count::Exactly(lo)
    } else {
        Count::Between(lo, hi)
    }
}

/// Parsed flags: every value given, in order.
struct Flags<'a>(&'a ArgMatches);

impl Flags<'_> {
    fn last(&self, name: &str) -> Option<&str> {
        self.0.try_get_many::<String>(name).ok().flatten()?.next_back().map(String::as_str)
    }

    /// Every value of a repeatable flag, in order.
    fn all(&self, name: &str) -> Vec<String> {
        self.0.try_get_many::<String>(name).ok().flatten().map_or_else(Vec::new, |v| v.cloned().collect())
    }

    /// A boolean flag; `argv` has already made its value "true" or "false".
    fn bool(&self, name: &str) -> bool {
        self.last(name) == Some("true")
    }
}

#[cfg(test)]
mod tests;
