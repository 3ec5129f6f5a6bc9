//! The public face of the library: a [`Runtime`] (a state root) creates and loads [`Container`]s,
//! which start, report state, receive signals, pause, resume and get deleted.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::cgroups::Cgroup;
use crate::error::{Error, Operation, Result, Step, StepExt, SysError};
use crate::options::CreateOptions;
use crate::signal::Signal;
use crate::state::{ContainerDir, State, StateStore, Status};
use crate::stdio::Pipes;
use crate::sys;

/// Which processes [`Container::kill`] signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillTarget {
    /// The container's init only (runc's `kill`).
    Init,
    /// Every process of the container (runc's `kill --all`); a container that has already
    /// stopped is then an [`Error::WrongState`] the caller may ignore (see
    /// [`Error::is_not_running`]).
    All,
}

/// A state root (runc's `--root`) under which containers are created and found.
#[derive(Debug, Clone)]
pub struct Runtime {
    store: StateStore,
    rootless: Option<bool>,
}

impl Runtime {
    /// A runtime whose container states live under `root` (created on first use, mode 0700).
    ///
    /// ```no_run
    /// let rt = runtime_core::Runtime::new("/run/my-app");
    /// assert_eq!(rt.root(), std::path::Path::new("/run/my-app"));
    /// ```
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { store: StateStore::new(root.into()), rootless: None }
    }

    /// runc's `--rootless` for the containers this runtime creates: see
    /// [`CreateOptions::rootless`], which takes precedence when set.
    pub fn rootless(mut self, rootless: Option<bool>) -> Self {
        self.rootless = rootless;
        self
    }

    /// The state root.
    pub fn root(&self) -> &std::path::Path {
        self.store.root()
    }

    /// Creates container `id` from `opts.bundle` (or `opts.spec`): returns once its process is
    /// set up and blocked before the user's program (status `created`).
    ///
    /// Safe to call from any thread: a multi-threaded caller goes through the launch helper (see
    /// the crate docs); the container's init is a child of the calling process either way.
    ///
    /// ```no_run
    /// use runtime_core::{CreateOptions, Runtime};
    ///
    /// let rt = Runtime::new("/run/my-app");
    /// let mut c = rt.create("demo", CreateOptions::new("/srv/bundle"))?; // status `created`
    /// c.start()?;
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn create(&self, id: &str, mut opts: CreateOptions) -> Result<Container> {
        opts.rootless = opts.rootless.or(self.rootless);
        let (made, pipes) = if crate::helper::needed(opts.stdio.is_redirected())? {
            crate::helper::create(self.store.root(), id, opts)?
        } else {
            (crate::launch::create(&self.store, id, opts)?, Pipes::default())
        };
        let crate::launch::Created { state, console, child, warnings } = made;
        Ok(Container { store: self.store.clone(), state, console, child, warnings, pipes })
    }

    /// Loads an existing container, with its status refreshed.
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// println!("{} is {}", c.id(), c.state().status);
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn load(&self, id: &str) -> Result<Container> {
        Container::load(&self.store, id)
    }

    /// The states of all containers under the root, sorted by id.
    ///
    /// ```no_run
    /// for s in runtime_core::Runtime::new("/run/my-app").list()? {
    ///     println!("{} {} {}", s.id, s.pid, s.status);
    /// }
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
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
    /// Warnings from `create` (runc logs these at warning level).
    pub(crate) warnings: Vec<String>,
    /// The caller's ends of the init's [`crate::Io::Piped`] streams.
    pub(crate) pipes: Pipes,
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

    /// Warnings from `create`: config accepted for runc compatibility but not applied as written.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The pty master, if the container was created with [`ConsoleMode::Return`](crate::ConsoleMode::Return).
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// The writing end of the init's stdin, when it was created with [`crate::Io::Piped`].
    pub fn take_stdin(&mut self) -> Option<std::fs::File> {
        self.pipes.stdin.take()
    }

    /// The reading end of the init's stdout, when it was created with [`crate::Io::Piped`].
    pub fn take_stdout(&mut self) -> Option<std::fs::File> {
        self.pipes.stdout.take()
    }

    /// The reading end of the init's stderr, when it was created with [`crate::Io::Piped`].
    pub fn take_stderr(&mut self) -> Option<std::fs::File> {
        self.pipes.stderr.take()
    }
}

// Lifecycle operations: status rules as runc's (the fifo marks `created`, the freezer `paused`).
impl Container {
    pub(crate) fn load(store: &StateStore, id: &str) -> Result<Container> {
        let dir = store.open_dir(id)?;
        let mut state = dir.read()?;
        state.status = refresh_status(&dir, &state)?;
        if state.status == Status::Stopped {
            state.pid = 0;
        }
        Ok(Container {
            store: store.clone(),
            state,
            console: None,
            child: false,
            warnings: Vec::new(),
            pipes: Pipes::default(),
        })
    }

    fn cgroup(&self) -> Cgroup {
        let unit = self.state.internal.cgroup_unit.as_deref();
        Cgroup::load_created(&self.state.internal.cgroup_paths, &self.state.internal.cgroup_created, unit)
    }

    /// Lets a created container run its program (releases the exec fifo).
    ///
    /// ```no_run
    /// let mut c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// c.start()?; // the program of process.args runs now
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn start(&mut self) -> Result<()> {
        let dir = self.store.open_dir(&self.state.id)?;
        let status = refresh_status(&dir, &self.state)?;
        match status {
            Status::Created => {}
            status => return Err(self.wrong_state(Operation::Start, status)),
        }
        let pidfd = self.pidfd()?;
        let fifo_path = dir.fifo_path();
        let fifo = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&fifo_path)
            .map_err(|e| Error::sys(Step::Lifecycle, SysError::io("open", Some(&fifo_path.to_string_lossy()), &e)))?;
        // The init opens the fifo for writing once we hold it open for reading, then writes one byte.
        loop {
            if sys::fs::poll_readable(fifo.as_fd(), 50).step(Step::Lifecycle)? {
                break;
            }
            if sys::process::pidfd_wait_exit(pidfd.as_fd(), 0).step(Step::Lifecycle)? {
                return Err(self.wrong_state(Operation::Start, Status::Stopped));
            }
        }
        let mut b = [0u8; 1];
        let n = sys::fs::read(fifo.as_fd(), &mut b, "exec fifo").step(Step::Lifecycle)?;
        if n != 1 {
            return Err(self.wrong_state(Operation::Start, Status::Stopped));
        }
        std::fs::remove_file(&fifo_path)
            .map_err(|e| Error::sys(Step::Lifecycle, SysError::io("remove", Some(&fifo_path.to_string_lossy()), &e)))?;
        self.state.status = Status::Running;
        let hooks = self.hooks();
        if let Some(h) = hooks.poststart().as_ref().filter(|h| !h.is_empty()) {
            let failed = crate::hooks::run_warn("poststart", h, &self.hook_state("running"));
            self.warnings.extend(failed);
        }
        Ok(())
    }

    fn hooks(&self) -> oci_spec::runtime::Hooks {
        let stored = self.state.internal.hooks.clone();
        stored.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
    }

    fn hook_state(&self, status: &str) -> Vec<u8> {
        let s = &self.state;
        crate::hooks::state_json(&s.oci_version, &s.id, status, s.pid, &s.bundle, &s.annotations)
    }

    /// A pidfd of the init, checked against the recorded start time (pid reuse).
    ///
    /// It becomes readable when the init exits: register it with any event loop (tokio's
    /// `AsyncFd`, mio, poll) and call [`Container::try_wait`] when it fires.
    ///
    /// ```no_run
    /// use std::os::fd::AsFd;
    ///
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// let pidfd = c.pidfd()?;
    /// // Readable once the init has exited.
    /// let mut fds = [nix::poll::PollFd::new(pidfd.as_fd(), nix::poll::PollFlags::POLLIN)];
    /// nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pidfd(&self) -> Result<OwnedFd> {
        crate::launch::init_pidfd(&self.state, Operation::Pidfd)
    }

    /// The error for `op` refused in `status`.
    fn wrong_state(&self, op: Operation, status: Status) -> Error {
        crate::launch::wrong_state(&self.state, op, status)
    }

    fn no_cgroup(&self, op: Operation) -> Error {
        Error::NoCgroup { id: self.state.id.clone(), op }
    }

    /// Sends `signal` to the init ([`KillTarget::Init`]) or to every process of the container
    /// ([`KillTarget::All`]).
    ///
    /// ```no_run
    /// use runtime_core::{signal::Signal, KillTarget, Runtime};
    ///
    /// let c = Runtime::new("/run/my-app").load("demo")?;
    /// c.kill(Signal::TERM, KillTarget::All)?;
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn kill(&self, signal: Signal, target: KillTarget) -> Result<()> {
        let all = target == KillTarget::All;
        let signal = signal.number();
        if self.state.status == Status::Stopped {
            return Err(self.wrong_state(Operation::Kill, Status::Stopped));
        }
        if all && self.state.internal.cgroup_paths.is_empty() {
            // Rootless without a cgroup: the processes are found through the pid namespace.
            for pid in crate::rootless::container_pids(self.state.pid, self.state.internal.own_pid_ns) {
                if pid != self.state.pid {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::try_from(signal).ok(),
                    );
                }
            }
        } else if all {
            return self.cgroup().kill_all(signal);
        }
        let fd = self.pidfd()?;
        sys::process::pidfd_send_signal(fd.as_fd(), signal).map_err(|e| match e.errno {
            libc::ESRCH => self.wrong_state(Operation::Kill, Status::Stopped),
            libc::EINVAL => Error::InvalidArgument(format!("invalid signal {signal}")),
            _ => Error::sys(Step::Lifecycle, e),
        })
    }

    /// Deletes a created or stopped container; with `force`, kills a running one first. Returns
    /// the warnings of failed poststop hooks (they do not fail the delete).
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// for warning in c.delete(true)? {
    ///     eprintln!("poststop hook: {warning}");
    /// }
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn delete(self, force: bool) -> Result<Vec<String>> {
        let dir = self.store.open_dir(&self.state.id)?;
        let status = refresh_status(&dir, &self.state)?;
        match status {
            Status::Stopped => {}
            Status::Created => self.kill_and_wait()?,
            _ if force => self.kill_and_wait()?,
            s => return Err(self.wrong_state(Operation::Delete, s)),
        }
        self.cgroup().destroy()?;
        dir.remove()?;
        // After the container is gone, as the spec orders; a failure is reported, not undone.
        let hooks = self.hooks();
        Ok(match hooks.poststop().as_ref().filter(|h| !h.is_empty()) {
            Some(h) => crate::hooks::run_warn("poststop", h, &self.hook_state("stopped")),
            None => Vec::new(),
        })
    }

    fn kill_and_wait(&self) -> Result<()> {
        // While the network namespace still exists: hand moved-in devices back to the host. Best
        // effort: if it fails the kernel still ends them with the namespace (virtual devices) or
        // returns them to the initial one (physical devices), and delete must not get stuck.
        let _ = crate::launch::return_net_devices(self.state.pid, &self.state.internal.net_devices);
        let cg = self.cgroup();
        if !self.state.internal.cgroup_paths.is_empty() {
            // A frozen task cannot die; thaw first so SIGKILL is delivered.
            let _ = cg.thaw();
            cg.kill_all(libc::SIGKILL)?;
        }
        let Ok(fd) = self.pidfd() else { return Ok(()) };
        let _ = sys::process::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
        if self.child {
            sys::process::wait_child(self.state.pid).step(Step::Lifecycle)?;
        } else if !sys::process::pidfd_wait_exit(fd.as_fd(), 10_000).step(Step::Lifecycle)? {
            return Err(Error::sys(Step::Lifecycle, SysError::check("kill", None, "init did not exit after SIGKILL")));
        }
        Ok(())
    }

    /// Freezes every process of the container.
    ///
    /// ```no_run
    /// let mut c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// c.pause()?;
    /// assert_eq!(c.state().status, runtime_core::Status::Paused);
    /// c.resume()?;
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn pause(&mut self) -> Result<()> {
        match self.state.status {
            Status::Running | Status::Created => {}
            s => return Err(self.wrong_state(Operation::Pause, s)),
        }
        if self.state.internal.cgroup_paths.is_empty() {
            return Err(self.no_cgroup(Operation::Pause));
        }
        self.cgroup().freeze()?;
        self.state.status = Status::Paused;
        Ok(())
    }

    /// Thaws a paused container.
    ///
    /// ```no_run
    /// let mut c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// if c.state().status == runtime_core::Status::Paused {
    ///     c.resume()?;
    /// }
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn resume(&mut self) -> Result<()> {
        if self.state.status != Status::Paused {
            return Err(self.wrong_state(Operation::Resume, self.state.status));
        }
        self.cgroup().thaw()?;
        self.state.status = Status::Running;
        Ok(())
    }

    /// Starts another process inside the running container (`hull exec`).
    ///
    /// Safe to call from any thread, as [`Runtime::create`].
    ///
    /// ```no_run
    /// use runtime_core::{ExecOptions, Runtime};
    ///
    /// let c = Runtime::new("/run/my-app").load("demo")?;
    /// let process: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
    ///     "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["/bin/true"],
    /// }))?;
    /// let p = c.exec(ExecOptions::new(process))?;
    /// assert_eq!(p.wait()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exec(&self, opts: crate::ExecOptions) -> Result<crate::ExecProcess> {
        let waitable = !opts.detach;
        let (done, pipes) = if crate::helper::needed(opts.stdio.is_redirected())? {
            crate::helper::exec(&self.state, opts)?
        } else {
            (crate::launch::exec(&self.state, &opts)?, Pipes::default())
        };
        Ok(crate::ExecProcess::adopted(done.pid, done.console, waitable, pipes))
    }

    /// Changes the resource limits of a created, running or paused container (`hull update`).
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// let resources: oci_spec::runtime::LinuxResources =
    ///     serde_json::from_value(serde_json::json!({"pids": {"limit": 100}}))?;
    /// c.update(&resources)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<()> {
        if self.state.status == Status::Stopped {
            return Err(self.wrong_state(Operation::Update, Status::Stopped));
        }
        if self.state.internal.cgroup_paths.is_empty() {
            return Err(self.no_cgroup(Operation::Update));
        }
        self.cgroup().update(resources)
    }

    /// Resource usage: the cgroup's counters, and the interfaces of the container's own network
    /// namespace. Serialised, it is the `data` of runc's `events --stats`.
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// let s = c.stats()?;
    /// println!("{} processes, {} bytes of memory", s.pids.current, s.memory.usage.usage);
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn stats(&self) -> Result<crate::stats::Stats> {
        if self.state.status == Status::Stopped {
            return Err(self.wrong_state(Operation::Stats, Status::Stopped));
        }
        if self.state.internal.cgroup_paths.is_empty() {
            return Err(self.no_cgroup(Operation::Stats));
        }
        let mut stats = self.cgroup().stats()?;
        if self.state.internal.ns_flags & libc::CLONE_NEWNET != 0 {
            // The init's view of /proc/net is its network namespace's; the pidfd check after
            // the read makes sure that was still the container's init.
            let read = std::fs::read_to_string(format!("/proc/{}/net/dev", self.state.pid));
            if let (Ok(text), Ok(_)) = (read, self.pidfd()) {
                stats.network_interfaces = Some(crate::stats::parse_net_dev(&text));
            }
        }
        Ok(stats)
    }

    /// The container's [`Event`](crate::events::Event)s as the kernel reports them: OOM kills
    /// in its memory cgroup and the exit of its init (see [`crate::events`]).
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// for event in c.events()? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn events(&self) -> Result<crate::events::Events> {
        if self.state.status == Status::Stopped {
            return Err(self.wrong_state(Operation::Events, Status::Stopped));
        }
        let pidfd = self.pidfd()?;
        let oom = if self.state.internal.cgroup_paths.is_empty() { None } else { self.cgroup().oom_watch()? };
        crate::events::Events::new(pidfd, oom)
    }

    /// Host pids of every process in the container's cgroup (`hull ps`).
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").load("demo")?;
    /// println!("{:?}", c.pids()?);
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn pids(&self) -> Result<Vec<i32>> {
        if self.state.internal.cgroup_paths.is_empty() {
            if self.state.status == Status::Stopped {
                return Ok(Vec::new());
            }
            // Rootless without a cgroup: the processes are found through the pid namespace.
            return Ok(crate::rootless::container_pids(self.state.pid, self.state.internal.own_pid_ns));
        }
        self.cgroup().pids()
    }

    /// Waits for the init to exit (only in the process that created it, e.g. foreground `run`)
    /// and returns its status the shell way: the exit code, or 128+N when killed by signal N.
    ///
    /// ```no_run
    /// use runtime_core::{CreateOptions, Runtime};
    ///
    /// let mut c = Runtime::new("/run/my-app").create("demo", CreateOptions::new("/srv/bundle"))?;
    /// c.start()?;
    /// let status = c.wait()?; // exit code, or 128+N after signal N
    /// c.delete(false)?;
    /// println!("exited with {status}");
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn wait(&self) -> Result<i32> {
        if !self.child {
            return Err(Error::NotAChild { pid: self.state.pid });
        }
        sys::process::wait_child(self.state.pid).step(Step::Lifecycle)
    }

    /// Like [`Container::wait`] but never blocks: `Some(status)` once the init has exited (it is
    /// reaped then), `None` while it runs.
    ///
    /// ```no_run
    /// let c = runtime_core::Runtime::new("/run/my-app").create("demo", runtime_core::CreateOptions::new("/srv/bundle"))?;
    /// match c.try_wait()? {
    ///     Some(status) => println!("exited with {status}"),
    ///     None => println!("still running"),
    /// }
    /// # Ok::<(), runtime_core::Error>(())
    /// ```
    pub fn try_wait(&self) -> Result<Option<i32>> {
        if !self.child {
            return Err(Error::NotAChild { pid: self.state.pid });
        }
        sys::spawn::try_wait_child(self.state.pid).step(Step::Lifecycle)
    }
}

/// Derives the status as runc does: a dead or reused pid is stopped; the fifo still present means
/// created; a frozen cgroup means paused; else running.
fn refresh_status(dir: &ContainerDir, st: &State) -> Result<Status> {
    // One read of /proc/PID/stat gives both the start time and whether it is a zombie.
    let alive = match crate::launch::stat(st.pid) {
        Ok((state, t)) => t == st.internal.init_start_time && state != 'Z' && state != 'X',
        Err(_) => false,
    };
    if !alive || st.pid <= 0 {
        return Ok(Status::Stopped);
    }
    if dir.fifo_path().exists() {
        return Ok(Status::Created);
    }
    if !st.internal.cgroup_paths.is_empty() && Cgroup::load(&st.internal.cgroup_paths).is_frozen().unwrap_or(false) {
        return Ok(Status::Paused);
    }
    Ok(Status::Running)
}
