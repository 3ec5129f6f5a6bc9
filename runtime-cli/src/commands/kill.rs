//! `hull kill [--all] ID [SIGNAL]`: signal the init (or every process of the container).

use anyhow::Result;
use runtime_core::Runtime;

pub fn run(rt: &Runtime, id: &str, signal: &str, all: bool) -> Result<u8> {
    // The signal is checked before the container is looked up (runc does it the other way round)
    // so that a bad signal is reported as such even when the id is also wrong.
    let sig = runtime_core::signal::parse(signal)?;
    super::load(rt, id)?.kill(sig, all)?;
    Ok(0)
}
