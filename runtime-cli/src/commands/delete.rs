//! `hull delete [--force] ID`: remove a stopped (or created) container; `--force` kills a running one.

use anyhow::Result;
use runtime_core::{Error, Runtime};

pub fn run(rt: &Runtime, id: &str, force: bool) -> Result<u8> {
    runtime_core::validate_id(id)?;
    match rt.load(id) {
        Ok(c) => c.delete(force)?,
        // Callers clean up with `delete --force` whether or not the container still exists.
        Err(Error::NotFound(_)) if force => {}
        Err(e) => return Err(e.into()),
    }
    Ok(0)
}
