//! `hull pause ID`: freeze every process of the container.

use anyhow::Result;
use runtime_core::Runtime;

pub fn run(rt: &Runtime, id: &str) -> Result<u8> {
    super::load(rt, id)?.pause()?;
    Ok(0)
}
