//! `hull exec ID COMMAND...` / `hull exec --process FILE ID`: run another process in a running
//! container. Foreground: forward signals, relay a terminal, exit with the process's status;
//! runtime failures exit 255 as runc's do. `--detach` returns once the process runs.

use std::fs::File;
use std::os::fd::AsFd;

use anyhow::{anyhow, bail, Result};
use oci_spec::runtime::{Capability, Process};
use runtime_core::{Bundle, ConsoleMode, ExecOptions, Runtime};

use crate::cli::ExecArgs;
use crate::foreground::{block_forwarded_signals, supervise, RawMode};
use crate::logging::Logger;

pub fn run(rt: &Runtime, args: &ExecArgs, log: &mut Logger) -> Result<u8> {
    match exec(rt, args) {
        Ok(code) => Ok(code),
        Err(e) => {
            // runc's prefix for every failure of exec; not `{:#}`: library errors print their cause.
            log.error(&format!("exec failed: {e}"));
            Ok(255)
        }
    }
}

fn exec(rt: &Runtime, args: &ExecArgs) -> Result<u8> {
    if args.pidfd_socket.is_some() {
        bail!("not supported: exec --pidfd-socket");
    }
    let c = super::load(rt, &args.id)?;
    let process = process(args, &c)?;
    let terminal = process.terminal().unwrap_or(false);
    let console = match (&args.console_socket, terminal, args.detach) {
        (Some(s), true, _) => ConsoleMode::Socket(s.clone()),
        (None, true, false) => ConsoleMode::Return,
        (None, true, true) => bail!("cannot allocate tty if hull will detach without setting console socket"),
        (Some(_), false, _) => bail!("cannot use console socket if hull will not detach or allocate tty"),
        (None, false, _) => ConsoleMode::None,
    };
    // Blocked before the clone: the child resets its mask before execve, and no signal meant for
    // the process can kill hull between the two.
    let signals = if args.detach { None } else { Some(block_forwarded_signals()?) };
    let mut opts = ExecOptions::new(process)
        .console(console)
        .preserve_fds(args.preserve_fds)
        .detach(args.detach)
        .ignore_paused(args.ignore_paused);
    opts.pid_file = args.pid_file.clone();
    // As runc: the flags shape the process only without --process.
    opts.user = args.user.clone().filter(|_| args.process.is_none());
    opts.sub_cgroups = args.cgroup.clone();
    let mut p = c.exec(opts)?;
    let Some(signals) = signals else { return Ok(0) };
    let master = p.take_console().map(File::from);
    let stdin = std::io::stdin();
    let _raw = master.as_ref().and_then(|_| RawMode::enter(stdin.as_fd()));
    let status = supervise(&p, &signals, master.as_ref())?;
    Ok((status & 0xff) as u8)
}

/// The process to run: `--process` as given, or the container's own process with the command
/// line's overrides (runc's behaviour).
fn process(args: &ExecArgs, c: &runtime_core::Container) -> Result<Process> {
    if let Some(path) = &args.process {
        let text = std::fs::read(path)
            .map_err(|e| anyhow!("reading process {}: {}", path.display(), runtime_core::io_error_text(&e)))?;
        let parse = |e| anyhow!("parsing process {}: {e}", path.display());
        let mut value: serde_json::Value = serde_json::from_slice(&text).map_err(parse)?;
        // runc's Go struct leaves a missing `user` at its zero value: uid 0, gid 0.
        if let Some(obj) = value.as_object_mut() {
            obj.entry("user").or_insert_with(|| serde_json::json!({"uid": 0, "gid": 0}));
        }
        return serde_json::from_value(value).map_err(parse);
    }
    let bundle = Bundle::load(&c.state().bundle)?;
    let mut p = bundle.spec.process().clone().ok_or_else(|| anyhow!("the container's config has no process"))?;
    p.set_args(Some(args.command.clone()));
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(args.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(cwd) = &args.cwd {
        p.set_cwd(cwd.into());
    }
    p.set_terminal(Some(args.tty));
    if args.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    // --user is resolved by the library, inside the container; -g adds to the config's groups (runc).
    if !args.additional_gids.is_empty() {
        let mut user = p.user().clone();
        let mut gids = user.additional_gids().clone().unwrap_or_default();
        for g in &args.additional_gids {
            gids.push(g.parse::<u32>().map_err(|_| anyhow!("invalid value {g:?} for flag -g"))?);
        }
        user.set_additional_gids(Some(gids));
        p.set_user(user);
    }
    if !args.caps.is_empty() {
        add_caps(&mut p, &args.caps)?;
    }
    if let Some(profile) = &args.apparmor {
        p.set_apparmor_profile(Some(profile.clone()));
    }
    if let Some(label) = &args.process_label {
        p.set_selinux_label(Some(label.clone()));
    }
    Ok(p)
}

/// `--cap` adds to the bounding, effective and permitted sets (never inheritable or ambient).
fn add_caps(p: &mut Process, names: &[String]) -> Result<()> {
    let mut caps = p.capabilities().clone().unwrap_or_default();
    for name in names {
        let cap: Capability = serde_json::from_value(serde_json::Value::String(name.clone()))
            .map_err(|_| anyhow!("unknown capability {name:?}"))?;
        let with = |set: &Option<oci_spec::runtime::Capabilities>| {
            let mut set = set.clone().unwrap_or_default();
            set.insert(cap);
            Some(set)
        };
        let (b, e, pm) = (with(caps.bounding()), with(caps.effective()), with(caps.permitted()));
        caps.set_bounding(b).set_effective(e).set_permitted(pm);
    }
    p.set_capabilities(Some(caps));
    Ok(())
}
