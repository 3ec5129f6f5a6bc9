//! The command line, parsed the way runc's Go flag parser reads it: global flags before the
//! subcommand, `-flag` and `--flag` alike, `--flag=value` or `--flag value`, booleans as
//! `--flag` or `--flag=true|false`, short aliases, repeated flags (last wins), flags after the
//! container id too (except for `exec` and `kill`, where everything after the id is positional).

use std::path::{Path, PathBuf};

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

/// Commands accepted but not implemented yet.
const UNSUPPORTED: &[&str] = &["checkpoint", "restore"];

/// Parses `args` (without argv[0]). Relative paths are made absolute against `cwd`.
pub fn parse(args: &[String], cwd: &Path) -> Result<Invocation, UsageError> {
    let (flags, rest) = scan(args, &[GLOBAL_FLAGS], Stop::AfterFirstPositional)?;
    let mut global = Global::default();
    let mut version = false;
    let mut help = false;
    for (name, value) in flags {
        match name {
            "root" => global.root = absolute(cwd, &value),
            "log" => global.log = Some(absolute(cwd, &value)),
            "log-format" => global.log_format = log_format(&value)?,
            "debug" => global.debug = boolean(name, &value)?,
            "systemd-cgroup" => global.systemd_cgroup = boolean(name, &value)?,
            "rootless" => global.rootless = rootless(&value)?,
            "version" => version = boolean(name, &value)?,
            "help" => help = boolean(name, &value)?,
            // --criu is accepted for old callers and has no effect until checkpoint exists.
            _ => {}
        }
    }
    let command = if version {
        Command::Version
    } else if help || rest.is_empty() {
        Command::Help(None)
    } else {
        subcommand(&rest[0], &rest[1..], cwd)?
    };
    Ok(Invocation { global, command })
}

fn subcommand(name: &str, args: &[String], cwd: &Path) -> Result<Command, UsageError> {
    if let Some(cmd) = UNSUPPORTED.iter().find(|c| **c == name) {
        return Ok(Command::Unsupported(cmd));
    }
    let Some(spec) = COMMANDS.iter().find(|c| c.name == name) else {
        if name == "help" || name == "h" {
            return help(args.first());
        }
        return Err(usage(format!("unknown command {name:?}")));
    };
    let stop = if spec.stop_after_id { Stop::AfterFirstPositional } else { Stop::Never };
    let (flags, pos) = scan(args, &[spec.flags, spec.more_flags], stop)?;
    let f = Flags(flags);
    if f.bool("help")? {
        return Ok(Command::Help(Some(name.to_owned())));
    }
    check_count(name, pos.len(), spec.args)?;
    let id = || pos[0].clone();
    Ok(match name {
        "create" => Command::Create(create_args(&f, id(), cwd)?),
        "run" => Command::Run(RunArgs {
            create: create_args(&f, id(), cwd)?,
            detach: f.bool("detach")?,
            keep: f.bool("keep")?,
            no_subreaper: f.bool("no-subreaper")?,
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
            flags: f.0.iter().filter(|(n, _)| *n != "resources" && *n != "help").cloned().collect(),
        },
        "events" => Command::Events {
            id: id(),
            stats: f.bool("stats")?,
            interval: f.last("interval").unwrap_or("5s").to_owned(),
        },
        "start" => Command::Start { id: id() },
        "state" => Command::State { id: id() },
        "kill" => Command::Kill {
            id: id(),
            signal: pos.get(1).cloned().unwrap_or_else(|| "SIGTERM".to_owned()),
            all: f.bool("all")?,
        },
        "delete" => Command::Delete { id: id(), force: f.bool("force")? },
        "list" => Command::List { format: list_format(f.last("format").unwrap_or("table"))?, quiet: f.bool("quiet")? },
        "pause" => Command::Pause { id: id() },
        "resume" => Command::Resume { id: id() },
        "spec" => {
            Command::Spec { bundle: absolute(cwd, f.last("bundle").unwrap_or("")), rootless: f.bool("rootless")? }
        }
        "features" => Command::Features,
        _ => unreachable!("every entry of COMMANDS is matched"),
    })
}

/// `help [topic]`. No help for what hull cannot do: a probe must not take it for support.
fn help(topic: Option<&String>) -> Result<Command, UsageError> {
    let Some(topic) = topic else { return Ok(Command::Help(None)) };
    if let Some(cmd) = UNSUPPORTED.iter().find(|c| *c == topic) {
        return Ok(Command::Unsupported(cmd));
    }
    if !COMMANDS.iter().any(|c| c.name == topic) {
        return Err(usage(format!("No help topic for '{topic}'")));
    }
    Ok(Command::Help(Some(topic.clone())))
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
        no_pivot: f.bool("no-pivot")?,
        no_new_keyring: f.bool("no-new-keyring")?,
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
        tty: f.bool("tty")?,
        user: owned("user"),
        additional_gids: f.all("additional-gids"),
        caps: f.all("cap"),
        no_new_privs: f.bool("no-new-privs")?,
        apparmor: owned("apparmor").filter(|s| !s.is_empty()),
        process_label: owned("process-label").filter(|s| !s.is_empty()),
        detach: f.bool("detach")?,
        pid_file: path("pid-file"),
        console_socket: path("console-socket"),
        pidfd_socket: path("pidfd-socket"),
        preserve_fds: preserve_fds(f)?,
        cgroup: f.all("cgroup").into_iter().filter(|s| !s.is_empty()).collect(),
        ignore_paused: f.bool("ignore-paused")?,
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

fn boolean(name: &str, value: &str) -> Result<bool, UsageError> {
    // Go's strconv.ParseBool, which runc's flags use.
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(usage(format!("invalid boolean value {value:?} for -{name}: parse error"))),
    }
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

/// One flag a command accepts: its names (first is canonical) and whether it takes a value.
#[derive(Debug)]
struct FlagSpec {
    names: &'static [&'static str],
    value: bool,
}

const fn flag(names: &'static [&'static str], value: bool) -> FlagSpec {
    FlagSpec { names, value }
}

const HELP: FlagSpec = flag(&["help", "h"], false);

const GLOBAL_FLAGS: &[FlagSpec] = &[
    flag(&["root"], true),
    flag(&["log"], true),
    flag(&["log-format"], true),
    flag(&["debug"], false),
    flag(&["systemd-cgroup"], false),
    flag(&["rootless"], true),
    flag(&["criu"], true),
    flag(&["version", "v"], false),
    HELP,
];

const CREATE_FLAGS: &[FlagSpec] = &[
    flag(&["bundle", "b"], true),
    flag(&["pid-file"], true),
    flag(&["console-socket"], true),
    flag(&["pidfd-socket"], true),
    flag(&["preserve-fds"], true),
    flag(&["no-pivot"], false),
    flag(&["no-new-keyring"], false),
    // runc's create has no --detach (it always detaches); go-runc can send it, so accept it.
    flag(&["detach", "d"], false),
    HELP,
];

/// `run` takes create's flags plus these.
const RUN_EXTRA_FLAGS: &[FlagSpec] = &[flag(&["keep"], false), flag(&["no-subreaper"], false)];

const EXEC_FLAGS: &[FlagSpec] = &[
    flag(&["process", "p"], true),
    flag(&["cwd"], true),
    flag(&["env", "e"], true),
    flag(&["tty", "t"], false),
    flag(&["user", "u"], true),
    flag(&["additional-gids", "g"], true),
    flag(&["cap", "c"], true),
    flag(&["no-new-privs"], false),
    flag(&["apparmor"], true),
    flag(&["process-label"], true),
    flag(&["detach", "d"], false),
    flag(&["pid-file"], true),
    flag(&["console-socket"], true),
    flag(&["pidfd-socket"], true),
    flag(&["preserve-fds"], true),
    flag(&["cgroup"], true),
    flag(&["ignore-paused"], false),
    HELP,
];

const UPDATE_FLAGS: &[FlagSpec] = &[
    flag(&["resources", "r"], true),
    flag(&["blkio-weight"], true),
    flag(&["cpu-period"], true),
    flag(&["cpu-quota"], true),
    flag(&["cpu-rt-period"], true),
    flag(&["cpu-rt-runtime"], true),
    flag(&["cpu-share"], true),
    flag(&["cpuset-cpus"], true),
    flag(&["cpuset-mems"], true),
    flag(&["kernel-memory"], true),
    flag(&["kernel-memory-tcp"], true),
    flag(&["memory"], true),
    flag(&["memory-reservation"], true),
    flag(&["memory-swap"], true),
    flag(&["pids-limit"], true),
    flag(&["l3-cache-schema"], true),
    flag(&["mem-bw-schema"], true),
    HELP,
];

const ONLY_HELP: &[FlagSpec] = &[HELP];

/// A subcommand: its flags, its positional arguments, and whether parsing stops after the id.
#[derive(Debug)]
struct CommandSpec {
    name: &'static str,
    flags: &'static [FlagSpec],
    /// Flags accepted on top of `flags` (run = create's + its own).
    more_flags: &'static [FlagSpec],
    args: Count,
    stop_after_id: bool,
}

const fn cmd(name: &'static str, flags: &'static [FlagSpec], args: Count) -> CommandSpec {
    CommandSpec { name, flags, more_flags: &[], args, stop_after_id: false }
}

const ONE: Count = Count::Exactly(1);
const NONE: Count = Count::Exactly(0);

const COMMANDS: &[CommandSpec] = &[
    cmd("create", CREATE_FLAGS, ONE),
    CommandSpec { name: "run", flags: CREATE_FLAGS, more_flags: RUN_EXTRA_FLAGS, args: ONE, stop_after_id: false },
    CommandSpec {
        name: "exec",
        flags: EXEC_FLAGS,
        more_flags: &[],
        args: Count::Between(1, usize::MAX),
        stop_after_id: true,
    },
    CommandSpec {
        name: "ps",
        flags: &[flag(&["format", "f"], true), HELP],
        more_flags: &[],
        args: Count::Between(1, usize::MAX),
        stop_after_id: true,
    },
    cmd("update", UPDATE_FLAGS, ONE),
    cmd("events", &[flag(&["stats"], false), flag(&["interval"], true), HELP], ONE),
    cmd("start", ONLY_HELP, ONE),
    cmd("state", ONLY_HELP, ONE),
    CommandSpec {
        name: "kill",
        flags: &[flag(&["all", "a"], false), HELP],
        more_flags: &[],
        args: Count::Between(1, 2),
        stop_after_id: true,
    },
    cmd("delete", &[flag(&["force", "f"], false), HELP], ONE),
    cmd("list", &[flag(&["format", "f"], true), flag(&["quiet", "q"], false), HELP], NONE),
    cmd("pause", ONLY_HELP, ONE),
    cmd("resume", ONLY_HELP, ONE),
    cmd("spec", &[flag(&["bundle", "b"], true), flag(&["rootless"], false), HELP], NONE),
    cmd("features", ONLY_HELP, NONE),
];

/// The names of all commands (help's tests check that each has a summary).
#[cfg(test)]
pub fn command_names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|c| c.name).chain(UNSUPPORTED.iter().copied())
}

/// A flag as help shows it: its names (long first) and whether it takes a value.
pub type FlagHelp = (&'static [&'static str], bool);

/// The global flags, for help.
pub fn global_flags() -> Vec<FlagHelp> {
    GLOBAL_FLAGS.iter().map(|f| (f.names, f.value)).collect()
}

/// The flags `command` accepts besides `--help`, for help; None for a command hull does not have.
pub fn command_flags(command: &str) -> Option<Vec<FlagHelp>> {
    let spec = COMMANDS.iter().find(|c| c.name == command)?;
    let all = spec.flags.iter().chain(spec.more_flags);
    Some(all.filter(|f| f.names[0] != "help").map(|f| (f.names, f.value)).collect())
}

/// Where flag parsing stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Global flags (the first non-flag is the subcommand), `kill` and `exec` (everything after
    /// the container id is positional).
    AfterFirstPositional,
    /// Other subcommands: flags may follow positionals (runc reorders them).
    Never,
}

/// Parsed flags: (canonical name, value; booleans given bare get "true"), in order.
struct Flags(Vec<(&'static str, String)>);

impl Flags {
    fn last(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable flag, in order.
    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.clone()).collect()
    }

    fn bool(&self, name: &'static str) -> Result<bool, UsageError> {
        self.last(name).map_or(Ok(false), |v| boolean(name, v))
    }
}

type Scanned = (Vec<(&'static str, String)>, Vec<String>);

/// Splits `args` into flags and positionals following Go's flag syntax.
fn scan(args: &[String], specs: &[&'static [FlagSpec]], stop: Stop) -> Result<Scanned, UsageError> {
    let mut flags = Vec::new();
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let stopped = stop == Stop::AfterFirstPositional && !pos.is_empty();
        if stopped || arg == "-" || !arg.starts_with('-') {
            pos.push(arg.clone());
            continue;
        }
        if arg == "--" {
            pos.extend(it.cloned());
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(usage(format!("bad flag syntax: {arg}")));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let spec = specs
            .iter()
            .flat_map(|set| set.iter())
            .find(|s| s.names.contains(&name))
            .ok_or_else(|| usage(format!("flag provided but not defined: -{name}")))?;
        let value = match (spec.value, inline) {
            (_, Some(v)) => v.to_owned(),
            (false, None) => "true".to_owned(),
            // Like Go, the next argument is the value even when it starts with a dash.
            (true, None) => it.next().cloned().ok_or_else(|| usage(format!("flag needs an argument: -{name}")))?,
        };
        flags.push((spec.names[0], value));
    }
    Ok((flags, pos))
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
