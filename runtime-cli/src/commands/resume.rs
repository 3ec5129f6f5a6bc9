//! `hull resume ID`: thaw a paused container.

use anyhow::Result;
use runtime_core::Runtime;

pub fn run(rt: &Runtime, id: &str) -> Result<u8> {
    super::load(rt, id)?.resume()?;
    Ok(0)
}
