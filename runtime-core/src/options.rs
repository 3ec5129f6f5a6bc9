//! What the caller asks of `create` and `exec` ([`CreateOptions`], [`ExecOptions`], and where a
//! console goes: [`ConsoleMode`]). They cross to the launch helper as they are (serde; the stdio
//! stays behind as the helper's own fds), so the wire form and the API are one definition.

use std::path::PathBuf;

use oci_spec::runtime::Process;
use serde::{Deserialize, Serialize};

use crate::stdio::Stdio;

/// Where the container's console (when `process.terminal` is true) goes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub enum ConsoleMode {
    /// No console socket: creating a terminal container is an error (runc's rule for detached containers).
    #[default]
    None,
    /// Send the pty master over this unix socket with SCM_RIGHTS (runc's `--console-socket`).
    Socket(PathBuf),
    /// Keep the pty master for the caller: see [`crate::Container::take_console`] (used by a foreground `run`).
    Return,
}

/// Options of `create`, the same as runc's flags.
///
/// Built with [`CreateOptions::new`] and the chained setters (every field is public too):
///
/// ```
/// use runtime_core::{CreateOptions, Io, Stdio};
///
/// let opts = CreateOptions::new("/srv/bundle")
///     .spec(runtime_core::spec::example(false))
///     .pid_file("/run/demo.pid")
///     .stdio(Stdio::inherit().stdout(Io::Piped));
/// assert_eq!(opts.bundle, std::path::Path::new("/srv/bundle"));
/// ```
#[derive(Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateOptions {
    /// The bundle directory (config.json and the rootfs; relative paths in the config are taken
    /// from it).
    pub bundle: PathBuf,
    /// An in-memory config used instead of `bundle/config.json` (for embedders: no file needed).
    pub spec: Option<oci_spec::runtime::Spec>,
    /// Write the init's host pid here (atomically) once the container is created.
    pub pid_file: Option<PathBuf>,
    /// What to do with the pty when the process asks for a terminal.
    pub console: ConsoleMode,
    /// Pass fds 3 .. 3+N of the calling process to the container.
    pub preserve_fds: u32,
    /// Use chroot-like `MS_MOVE` instead of `pivot_root` (for ramdisk roots).
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    pub no_new_keyring: bool,
    /// Systemd socket activation: number of `LISTEN_FDS` passed on (they are preserved and the
    /// container's environment gets `LISTEN_FDS` and `LISTEN_PID=1`).
    pub listen_fds: u32,
    /// runc's `--rootless`: `Some(true)` skips cgroups that cannot be made (when no
    /// `linux.cgroupsPath` is given), `Some(false)` never does; `None` detects it (not root, or
    /// root inside a user namespace).
    pub rootless: Option<bool>,
    /// `--systemd-cgroup`: the container's cgroup is a transient systemd scope (runc's
    /// `slice:prefix:name` cgroupsPath) created over D-Bus; needs systemd as the host's init.
    pub systemd_cgroup: bool,
    /// The init's stdin, stdout and stderr; each one not set is the caller's own. Redirecting
    /// any makes `create` go through the launch helper (a fork + exec of this program), since
    /// the container inherits its stdio from the process that clones it.
    #[serde(skip)]
    pub stdio: Stdio,
}

impl CreateOptions {
    /// Options for the bundle directory `bundle`, everything else as runc's defaults.
    pub fn new(bundle: impl Into<PathBuf>) -> Self {
        CreateOptions { bundle: bundle.into(), ..Default::default() }
    }

    /// See [`CreateOptions::spec`](#structfield.spec).
    pub fn spec(mut self, spec: oci_spec::runtime::Spec) -> Self {
        self.spec = Some(spec);
        self
    }

    /// See [`CreateOptions::pid_file`](#structfield.pid_file).
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// See [`CreateOptions::console`](#structfield.console).
    pub fn console(mut self, console: ConsoleMode) -> Self {
        self.console = console;
        self
    }

    /// See [`CreateOptions::preserve_fds`](#structfield.preserve_fds).
    pub fn preserve_fds(mut self, n: u32) -> Self {
        self.preserve_fds = n;
        self
    }

    /// See [`CreateOptions::stdio`](#structfield.stdio).
    pub fn stdio(mut self, stdio: Stdio) -> Self {
        self.stdio = stdio;
        self
    }

    /// See [`CreateOptions::rootless`](#structfield.rootless).
    pub fn rootless(mut self, rootless: Option<bool>) -> Self {
        self.rootless = rootless;
        self
    }

    /// See [`CreateOptions::systemd_cgroup`](#structfield.systemd_cgroup).
    pub fn systemd_cgroup(mut self, on: bool) -> Self {
        self.systemd_cgroup = on;
        self
    }
}

/// Options of `exec`, as runc's flags.
///
/// ```
/// use runtime_core::{ExecOptions, Io, Stdio};
///
/// let process: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
///     "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["cat"],
/// }))?;
/// let opts = ExecOptions::new(process).stdio(Stdio::inherit().stdin(Io::Piped).stdout(Io::Piped));
/// assert!(!opts.detach);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecOptions {
    /// The process to run (runc's `--process` JSON, or built from the command line).
    pub process: Process,
    /// Write the process's host pid here once it is running.
    pub pid_file: Option<PathBuf>,
    /// Where the pty master goes when `process.terminal` is true.
    pub console: ConsoleMode,
    /// Pass fds 3 .. 3+N of the calling process on.
    pub preserve_fds: u32,
    /// The caller will not wait: the process is left to the caller's subreaper.
    pub detach: bool,
    /// Allow exec into a paused container.
    pub ignore_paused: bool,
    /// runc's `--user user[:group]`, numbers or names (resolved in the container's /etc/passwd
    /// and /etc/group); replaces `process.user`'s uid, and its gid when a group or name is given.
    pub user: Option<String>,
    /// runc's `--cgroup [controller[,controller]:]path`, repeatable: an existing sub-cgroup of
    /// the container's cgroup to run the process in (without controllers: for all of them).
    pub sub_cgroups: Vec<String>,
    /// The process's stdin, stdout and stderr (each one not set is the caller's own); pipes
    /// come back through [`crate::ExecProcess::take_stdout`] and its siblings. Redirecting any makes
    /// `exec` go through the launch helper.
    #[serde(skip)]
    pub stdio: Stdio,
}

impl ExecOptions {
    /// Runs `process`, with every option at runc's default.
    pub fn new(process: Process) -> Self {
        ExecOptions {
            process,
            pid_file: None,
            console: ConsoleMode::None,
            preserve_fds: 0,
            detach: false,
            ignore_paused: false,
            user: None,
            sub_cgroups: Vec::new(),
            stdio: Stdio::default(),
        }
    }

    /// See [`ExecOptions::stdio`](#structfield.stdio).
    pub fn stdio(mut self, stdio: Stdio) -> Self {
        self.stdio = stdio;
        self
    }

    /// See [`ExecOptions::pid_file`](#structfield.pid_file).
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// See [`ExecOptions::console`](#structfield.console).
    pub fn console(mut self, console: ConsoleMode) -> Self {
        self.console = console;
        self
    }

    /// See [`ExecOptions::preserve_fds`](#structfield.preserve_fds).
    pub fn preserve_fds(mut self, n: u32) -> Self {
        self.preserve_fds = n;
        self
    }

    /// See [`ExecOptions::detach`](#structfield.detach).
    pub fn detach(mut self, detach: bool) -> Self {
        self.detach = detach;
        self
    }

    /// See [`ExecOptions::ignore_paused`](#structfield.ignore_paused).
    pub fn ignore_paused(mut self, ignore: bool) -> Self {
        self.ignore_paused = ignore;
        self
    }

    /// See [`ExecOptions::user`](#structfield.user).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Adds one of [`ExecOptions::sub_cgroups`](#structfield.sub_cgroups).
    pub fn sub_cgroup(mut self, spec: impl Into<String>) -> Self {
        self.sub_cgroups.push(spec.into());
        self
    }
}
