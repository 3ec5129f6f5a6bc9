//! One module per subcommand; this file routes a parsed command to it and holds the checks that
//! apply to several commands (global flags hull refuses, fds inherited from the caller).

mod create;
mod delete;
mod events;
mod exec;
mod features;
mod kill;
mod list;
mod pause;
mod ps;
mod resume;
mod run;
mod spec;
mod start;
mod state;
mod update;

use anyhow::{bail, Result};
use runtime_core::{Container, Runtime};

use crate::cli::{Command, Global, Invocation};
use crate::logging::Logger;

pub use create::{inherited_fds, Inherited};

/// Runs the command; `Ok` carries the exit status.
pub fn dispatch(inv: &Invocation, fds: Inherited, log: &mut Logger) -> Result<u8> {
    let g = &inv.global;
    check_global(g, &inv.command)?;
    let fds = Inherited { systemd_cgroup: g.systemd_cgroup, ..fds };
    let rt = || Runtime::new(&g.root).rootless(g.rootless.as_option());
    match &inv.command {
        Command::Version => print_text(&crate::version_text()),
        Command::Help(c) => print_text(&crate::help::text(c.as_deref())),
        Command::Features => features::run(),
        Command::Spec { bundle, rootless } => spec::run(bundle, *rootless),
        Command::Unsupported(name) => bail!("not supported: {name}"),
        Command::Create(args) => create::run(&rt(), args, fds, log),
        Command::Run(args) => run::run(&rt(), args, fds, log),
        Command::Exec(args) => exec::run(&rt(), args, log),
        Command::Ps { id, format, ps_args } => ps::run(&rt(), id, *format, ps_args),
        Command::Update { id, resources, flags } => update::run(&rt(), id, resources.as_deref(), flags),
        Command::Events { id, stats, interval } => events::run(&rt(), id, *stats, interval),
        Command::Start { id } => start::run(&rt(), id, log),
        Command::State { id } => state::run(&rt(), id),
        Command::Kill { id, signal, all } => kill::run(&rt(), id, signal, *all),
        Command::Delete { id, force } => delete::run(&rt(), id, *force, log),
        Command::List { format, quiet } => list::run(&rt(), *format, *quiet),
        Command::Pause { id } => pause::run(&rt(), id),
        Command::Resume { id } => resume::run(&rt(), id),
    }
}

/// Global flags that ask for something hull cannot do fail before any work.
fn check_global(g: &Global, cmd: &Command) -> Result<()> {
    let manages_containers = !matches!(
        cmd,
        Command::Version | Command::Help(_) | Command::Features | Command::Spec { .. } | Command::Unsupported(_)
    );
    if manages_containers {
        xdg_root(&g.root)?;
    }
    Ok(())
}

/// The XDG state root is made 0700 and sticky, as runc does (the XDG spec lets a session
/// manager clean files without the sticky bit out of XDG_RUNTIME_DIR).
fn xdg_root(root: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let (xdg, is_xdg) = crate::cli::default_root();
    if !is_xdg || root != xdg {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(root)?;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o1700))?;
    Ok(())
}

/// Loads a container, rejecting a malformed id before touching the state root.
fn load(rt: &Runtime, id: &str) -> Result<Container> {
    runtime_core::validate_id(id)?;
    Ok(rt.load(id)?)
}

fn print_text(s: &str) -> Result<u8> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(0)
}
