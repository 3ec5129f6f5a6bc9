//! `hull kill [--all] ID [SIGNAL]`: signal the init (or every process of the container).

use anyhow::Result;
use runtime_core::signal::Signal;
use runtime_core::{KillTarget, Runtime};

pub fn run(rt: &Runtime, id: &str, signal: &str, all: bool) -> Result<u8> {
    // The signal is checked before the container is looked up (runc does it the other way round)
    // so that a bad signal is reported as such even when the id is also wrong.
    let sig: Signal = signal.parse()?;
    let target = if all { KillTarget::All } else { KillTarget::Init };
    match super::load(rt, id)?.kill(sig, target) {
        // runc >= 1.2: with --all, a container that already stopped is success; containerd sends
        // `kill --all ID 9` after the init of a shared-pid-namespace container exited.
        Err(e) if all && e.is_not_running() => Ok(0),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(0),
    }
}
