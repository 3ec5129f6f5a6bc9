//! The public face of the library: a [`Runtime`] (a state root) creates and loads [`Container`]s,
//! which start, report state, receive signals, pause, resume and get deleted.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::error::Result;
use crate::state::{State, StateStore};

/// Where the container's console (when `process.terminal` is true) goes.
#[derive(Debug, Default)]
pub enum ConsoleMode {
    /// No console socket: creating a terminal container is an error (runc's rule for detached containers).
    #[default]
    None,
    /// Send the pty master over this unix socket with SCM_RIGHTS (runc's `--console-socket`).
    Socket(PathBuf),
    /// Keep the pty master for the caller: see [`Container::take_console`] (used by a foreground `run`).
    Return,
}

/// Options of `create`, the same as runc's flags.
#[derive(Debug, Default)]
pub struct CreateOptions {
    /// The bundle directory (config.json and the rootfs).
    pub bundle: PathBuf,
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
}

/// A state root (runc's `--root`) under which containers are created and found.
#[derive(Debug, Clone)]
pub struct Runtime {
    store: StateStore,
}

impl Runtime {
    /// A runtime whose container states live under `root` (created on first use, mode 0700).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { store: StateStore::new(root.into()) }
    }

    /// The state root.
    pub fn root(&self) -> &std::path::Path {
        self.store.root()
    }

    /// Creates container `id` from `opts.bundle`: returns once its process is set up and blocked
    /// before the user's program (status `created`).
    pub fn create(&self, id: &str, opts: CreateOptions) -> Result<Container> {
        crate::launch::create(&self.store, id, opts)
    }

    /// Loads an existing container, with its status refreshed.
    pub fn load(&self, id: &str) -> Result<Container> {
        Container::load(&self.store, id)
    }

    /// The states of all containers under the root, sorted by id.
    pub fn list(&self) -> Result<Vec<State>> {
        let mut out = Vec::new();
        for id in self.store.ids()? {
            // A container deleted while listing is simply not listed.
            if let Ok(c) = self.load(&id) {
                out.push(c.state);
            }
        }
        Ok(out)
    }
}

/// A container known to a [`Runtime`].
#[derive(Debug)]
pub struct Container {
    pub(crate) store: StateStore,
    pub(crate) state: State,
    pub(crate) console: Option<OwnedFd>,
    /// Set when this process is the parent of the init (foreground `run`), so it can wait for it.
    pub(crate) child: bool,
}

impl Container {
    /// The container's state, status refreshed when the container was loaded.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The container id.
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// Host pid of the init process.
    pub fn pid(&self) -> i32 {
        self.state.pid
    }

    /// The pty master, if the container was created with [`ConsoleMode::Return`].
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }
}

// Lifecycle operations. Bodies are filled in by the launch/lifecycle work; the signatures are the API.
impl Container {
    pub(crate) fn load(_store: &StateStore, id: &str) -> Result<Container> {
        Err(crate::Error::NotFound(id.to_owned()))
    }

    /// Lets a created container run its program (releases the exec fifo).
    pub fn start(&mut self) -> Result<()> {
        Err(crate::Error::NotSupported("start (under construction)".into()))
    }

    /// Sends `signal` to the init, or with `all` to every process of the container.
    pub fn kill(&self, _signal: i32, _all: bool) -> Result<()> {
        Err(crate::Error::NotSupported("kill (under construction)".into()))
    }

    /// Deletes a created or stopped container; with `force`, kills a running one first.
    pub fn delete(self, _force: bool) -> Result<()> {
        Err(crate::Error::NotSupported("delete (under construction)".into()))
    }

    /// Freezes every process of the container.
    pub fn pause(&mut self) -> Result<()> {
        Err(crate::Error::NotSupported("pause (under construction)".into()))
    }

    /// Thaws a paused container.
    pub fn resume(&mut self) -> Result<()> {
        Err(crate::Error::NotSupported("resume (under construction)".into()))
    }

    /// Waits for the init to exit (only in the process that created it, e.g. foreground `run`)
    /// and returns its status the shell way: the exit code, or 128+N when killed by signal N.
    pub fn wait(&self) -> Result<i32> {
        Err(crate::Error::NotSupported("wait (under construction)".into()))
    }
}
