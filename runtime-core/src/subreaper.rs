//! A child subreaper for as long as a launch needs one, not for the life of the caller.
//!
//! What a launch helper (or an exec into a pid namespace) starts must end up the caller's child
//! when the intermediate process exits; the kernel reparents an orphan to its nearest subreaper
//! ancestor at that instant, and never again. So the caller is a subreaper only while such an
//! intermediate lives (counted across threads), and the setting is put back afterwards, unless
//! the caller was a subreaper already (a shim that reaps for a living keeps its setting).

use std::sync::Mutex;

use crate::error::SysError;

/// (launches in flight, whether this process was a subreaper before the first of them)
static IN_FLIGHT: Mutex<(usize, bool)> = Mutex::new((0, false));

/// While it lives, this process is a child subreaper.
#[derive(Debug)]
pub(crate) struct Scope(());

impl Scope {
    pub(crate) fn enter() -> Result<Scope, SysError> {
        let mut g = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 == 0 {
            let before = nix::sys::prctl::get_child_subreaper().map_err(|e| syscall(e, "PR_GET_CHILD_SUBREAPER"))?;
            if !before {
                nix::sys::prctl::set_child_subreaper(true).map_err(|e| syscall(e, "PR_SET_CHILD_SUBREAPER"))?;
            }
            g.1 = before;
        }
        g.0 += 1;
        Ok(Scope(()))
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let mut g = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        g.0 -= 1;
        if g.0 == 0 && !g.1 {
            // Failing to clear it leaves the old, documented behaviour; nothing to report to.
            let _ = nix::sys::prctl::set_child_subreaper(false);
        }
    }
}

fn syscall(e: nix::Error, op: &str) -> SysError {
    SysError::from_errno(format!("prctl({op})"), None, e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_only_while_a_scope_lives() {
        let was = nix::sys::prctl::get_child_subreaper().unwrap();
        {
            let _a = Scope::enter().unwrap();
            let _b = Scope::enter().unwrap();
            assert!(nix::sys::prctl::get_child_subreaper().unwrap());
        }
        assert_eq!(nix::sys::prctl::get_child_subreaper().unwrap(), was, "put back as it was");
    }
}
