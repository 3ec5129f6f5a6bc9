//! `hull start ID`: let a created container run its program.

use anyhow::Result;
use runtime_core::Runtime;

use crate::logging::Logger;

pub fn run(rt: &Runtime, id: &str, log: &mut Logger) -> Result<u8> {
    let mut c = super::load(rt, id)?;
    c.start()?;
    // Failed poststart hooks only warn (runtime.md).
    super::create::log_warnings(&c, log);
    Ok(0)
}
