//! `hull run`: create and start; in the foreground also forward signals to the init, relay a
//! terminal, wait, exit with the container's status and delete it (unless `--keep`).

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use runtime_core::{ConsoleMode, Container, Runtime};

use super::create::{self, Inherited};
use crate::cli::RunArgs;
use crate::foreground::{block_forwarded_signals, supervise, RawMode};
use crate::logging::Logger;

pub fn run(rt: &Runtime, args: &RunArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    runtime_core::validate_id(&args.create.id).map_err(failed)?;
    if args.detach {
        detached(rt, args, fds, log)
    } else {
        foreground(rt, args, fds, log)
    }
}

/// `run -d`: create and start, leaving the container running (like `create` then `start`).
fn detached(rt: &Runtime, args: &RunArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    let console = args.create.console_socket.clone().map_or(ConsoleMode::None, ConsoleMode::Socket);
    let c = rt.create(&args.create.id, create::options(&args.create, fds, console)?).map_err(failed)?;
    let c = started(c)?;
    create::log_warnings(&c, log);
    Ok(0)
}

fn foreground(rt: &Runtime, args: &RunArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    if args.create.console_socket.is_some() {
        bail!("cannot use console socket if hull will not detach or allocate tty");
    }
    if !args.no_subreaper {
        // The init may be a grandchild (second fork for a pid namespace); as subreaper we get it back.
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| anyhow!("set child subreaper: {}", runtime_core::errno_text(e as i32)))?;
    }
    let console = if wants_terminal(&args.create.bundle) { ConsoleMode::Return } else { ConsoleMode::None };
    log.debug(&format!("run {} in the foreground from bundle {}", args.create.id, args.create.bundle.display()));
    let mut c = rt.create(&args.create.id, create::options(&args.create, fds, console)?).map_err(failed)?;
    let master = c.take_console().map(File::from);
    // Blocked only now: the container's init was cloned with the caller's signal mask.
    let signals = match block_forwarded_signals() {
        Ok(s) => s,
        Err(e) => {
            let _ = c.delete(true);
            return Err(e);
        }
    };
    let c = started(c)?;
    create::log_warnings(&c, log);
    let status = {
        let stdin = std::io::stdin();
        let _raw = master.as_ref().and_then(|_| RawMode::enter(stdin.as_fd()));
        supervise(&c, &signals, master.as_ref())
    };
    if !args.keep {
        for w in c.delete(true)? {
            log.warn(&w);
        }
    }
    // The shell convention: an exit code, or 128+N when killed by signal N.
    Ok((status? & 0xff) as u8)
}

fn failed(e: runtime_core::Error) -> anyhow::Error {
    anyhow!("hull run failed: {e}")
}

/// Starts the container; on failure deletes it, so that no half-run container is left behind.
fn started(mut c: Container) -> Result<Container> {
    match c.start() {
        Ok(()) => Ok(c),
        Err(e) => {
            let _ = c.delete(true);
            Err(failed(e))
        }
    }
}

/// Whether config.json asks for a terminal. An unreadable config is left to `create` to report.
fn wants_terminal(bundle: &Path) -> bool {
    let Ok(text) = std::fs::read(bundle.join("config.json")) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else { return false };
    v["process"]["terminal"].as_bool().unwrap_or(false)
}
