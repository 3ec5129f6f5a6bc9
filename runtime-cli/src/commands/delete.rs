//! `hull delete [--force] ID`: remove a stopped (or created) container; `--force` kills a running one.

use std::path::Path;

use anyhow::Result;
use runtime_core::{Error, Runtime};

use crate::logging::Logger;

pub fn run(rt: &Runtime, id: &str, force: bool, log: &mut Logger) -> Result<u8> {
    runtime_core::validate_id(id)?;
    match rt.load(id) {
        Ok(c) => {
            for w in c.delete(force)? {
                log.warn(&w);
            }
        }
        Err(Error::NotFound { .. }) => {
            remove_leftover(&rt.root().join(id));
            // Callers clean up with `delete --force` whether or not the container still exists.
            if !force {
                return Err(Error::NotFound { id: id.to_owned() }.into());
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(0)
}

/// A state directory without a state file is what an aborted create leaves; runc removes it so
/// the id can be used again. A directory some `create` still holds locked is left alone.
fn remove_leftover(dir: &Path) {
    use nix::fcntl::{Flock, FlockArg};
    let Ok(f) = std::fs::File::open(dir) else { return };
    if let Ok(_lock) = Flock::lock(f, FlockArg::LockExclusiveNonblock) {
        let _ = std::fs::remove_dir_all(dir);
    }
}
