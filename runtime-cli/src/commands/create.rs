//! `hull create`: turn the flags into `CreateOptions`, check the fds the caller hands over, create.

use anyhow::{anyhow, bail, Result};
use runtime_core::{ConsoleMode, Container, CreateOptions, Runtime};

use crate::cli::{Command, CreateArgs};
use crate::logging::Logger;

/// The fds the caller passes on, checked at startup before hull opens any file of its own, and
/// the global flag that picks the cgroup manager (set by `dispatch`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inherited {
    /// Socket-activation fds (`LISTEN_FDS`) addressed to this process.
    pub listen_fds: u32,
    /// `--systemd-cgroup`.
    pub systemd_cgroup: bool,
}

/// For `create` and `run`: reads `LISTEN_FDS` and checks that every fd `--preserve-fds` names
/// is open, so a missing fd fails here instead of silently passing one of hull's own.
pub fn inherited_fds(cmd: &Command) -> Result<Inherited> {
    let args = match cmd {
        Command::Create(a) => a,
        Command::Run(r) => &r.create,
        _ => return Ok(Inherited::default()),
    };
    let listen_fds =
        listen_fds(std::env::var("LISTEN_PID").ok().as_deref(), std::env::var("LISTEN_FDS").ok().as_deref());
    let first = 3 + listen_fds;
    for fd in first..first.saturating_add(args.preserve_fds) {
        // A stat of /proc/self/fd/N opens nothing, so it cannot itself create fd N.
        if std::fs::symlink_metadata(format!("/proc/self/fd/{fd}")).is_err() {
            bail!("invalid --preserve-fds={}: fd {fd} is not open", args.preserve_fds);
        }
    }
    Ok(Inherited { listen_fds, systemd_cgroup: false })
}

/// systemd socket activation as runc honours it: only when `LISTEN_PID` is this process (podman
/// leaves its own pid there while passing the same fds through --preserve-fds).
fn listen_fds(pid: Option<&str>, fds: Option<&str>) -> u32 {
    let ours = pid.and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id());
    match (ours, fds.and_then(|n| n.parse::<u32>().ok())) {
        (true, Some(n)) => n,
        _ => 0,
    }
}

/// The library's options for these flags.
pub fn options(args: &CreateArgs, fds: Inherited, console: ConsoleMode) -> Result<CreateOptions> {
    if args.pidfd_socket.is_some() {
        bail!("not supported: --pidfd-socket");
    }
    // The CLI always reads config.json from the bundle, as runc does; stdio is its own.
    let mut opts = CreateOptions::new(&args.bundle).console(console).preserve_fds(args.preserve_fds);
    opts.pid_file = args.pid_file.clone();
    opts.no_pivot = args.no_pivot;
    opts.no_new_keyring = args.no_new_keyring;
    opts.listen_fds = fds.listen_fds;
    opts.systemd_cgroup = fds.systemd_cgroup;
    Ok(opts)
}

pub fn run(rt: &Runtime, args: &CreateArgs, fds: Inherited, log: &mut Logger) -> Result<u8> {
    let failed = |e: runtime_core::Error| anyhow!("hull create failed: {e}");
    runtime_core::validate_id(&args.id).map_err(failed)?;
    let console = args.console_socket.clone().map_or(ConsoleMode::None, ConsoleMode::Socket);
    let opts = options(args, fds, console)?;
    log.debug(&format!("create {} from bundle {}", args.id, args.bundle.display()));
    let c = rt.create(&args.id, opts).map_err(failed)?;
    log_warnings(&c, log);
    Ok(0)
}

/// Config leniencies the library accepted (runc logs the same ones as warnings).
pub fn log_warnings(c: &Container, log: &mut Logger) {
    for w in c.warnings() {
        log.warn(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_fds_only_for_this_pid() {
        let me = std::process::id().to_string();
        assert_eq!(listen_fds(Some(&me), Some("2")), 2);
        assert_eq!(listen_fds(Some("1"), Some("2")), 0);
        assert_eq!(listen_fds(None, Some("2")), 0);
        assert_eq!(listen_fds(Some(&me), None), 0);
        assert_eq!(listen_fds(Some(&me), Some("x")), 0);
    }

    #[test]
    fn preserve_fds_must_be_open() {
        let mk = |n| Command::Create(CreateArgs { id: "c".into(), preserve_fds: n, ..Default::default() });
        assert!(inherited_fds(&mk(0)).is_ok());
        // Far beyond anything the test harness has open.
        let e = inherited_fds(&mk(100_000)).unwrap_err().to_string();
        assert!(e.contains("is not open"), "{e}");
    }

    #[test]
    fn pidfd_socket_is_refused() {
        let a = CreateArgs { pidfd_socket: Some("/s".into()), ..Default::default() };
        let e = options(&a, Inherited::default(), ConsoleMode::None).unwrap_err();
        assert_eq!(e.to_string(), "not supported: --pidfd-socket");
    }
}
