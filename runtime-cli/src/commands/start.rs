//! `hull start ID`: let a created container run its program.

use anyhow::Result;
use runtime_core::Runtime;

pub fn run(rt: &Runtime, id: &str) -> Result<u8> {
    super::load(rt, id)?.start()?;
    Ok(0)
}
