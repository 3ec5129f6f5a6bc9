//! hull: a runc-compatible command line over runtime-core. This file only wires parsing,
//! logging and dispatch together and turns the outcome into an exit status.

mod cli;
mod commands;
mod foreground;
mod help;
mod logging;

use std::process::ExitCode;

use cli::LogFormat;
use logging::Logger;

fn main() -> ExitCode {
    // hull never needs the helper itself (single-threaded, its own stdio), but a binary that
    // links the library serves it, so it can never be re-executed into its own main.
    runtime_core::run_helper_if_requested();
    ExitCode::from(real_main())
}

fn real_main() -> u8 {
    let args: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(a) => a,
        Err(bad) => return fail_early(&format!("argument is not valid UTF-8: {bad:?}")),
    };
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return fail_early(&format!("getcwd: {}", runtime_core::io_error_text(&e))),
    };
    let inv = match cli::parse(&args, &cwd) {
        Ok(inv) => inv,
        Err(e) => return fail_early(&e.to_string()),
    };
    // Both before the log file is opened: sealing re-executes hull, and the log's fd must not
    // pass for one the caller handed over. Their errors are reported once the log is open.
    let prepared = seal(&inv.command).and_then(|()| commands::inherited_fds(&inv.command));
    let g = &inv.global;
    let mut log = match Logger::open(g.log.as_deref(), g.log_format, g.debug) {
        Ok(l) => l,
        Err(e) => {
            let path = g.log.as_deref().unwrap_or(std::path::Path::new("")).display();
            return fail_early(&format!("unable to open log file {path}: {}", runtime_core::io_error_text(&e)));
        }
    };
    log.debug(&format!("hull {}", args.join(" ")));
    let outcome = prepared.and_then(|fds| commands::dispatch(&inv, fds, &mut log));
    match outcome {
        Ok(code) => code,
        // A reader that went away (`hull list | head -1`) is not an error worth a message; exit
        // like a program killed by SIGPIPE, as runc does.
        Err(e) if broken_pipe(&e) => 128 + libc::SIGPIPE as u8,
        Err(e) => {
            // Not `{:#}`: library errors already print their cause, which would then repeat.
            log.error(&format!("{e}"));
            1
        }
    }
}

/// CVE-2019-5736: the container's processes are clones of this one, so a command that creates a
/// container first re-executes hull from a read-only overlay (argv, env and fds unchanged).
fn seal(cmd: &cli::Command) -> anyhow::Result<()> {
    if matches!(cmd, cli::Command::Create(_) | cli::Command::Run(_) | cli::Command::Exec(_)) {
        runtime_core::seal::ensure_sealed()?;
    }
    Ok(())
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    let kind = e
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
        .or_else(|| e.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind));
    kind == Some(std::io::ErrorKind::BrokenPipe)
}

/// An error before the log file is known: runc prints it to stderr as a text log line.
fn fail_early(msg: &str) -> u8 {
    Logger::stderr(LogFormat::Text).error(msg);
    1
}

/// `hull --version`: three lines; callers key on the first word of line 1 and on `commit:`.
pub(crate) fn version_text() -> String {
    format!(
        "hull version {}\ncommit: {}\nspec: {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("HULL_COMMIT"),
        runtime_core::spec::SPEC_VERSION
    )
}
