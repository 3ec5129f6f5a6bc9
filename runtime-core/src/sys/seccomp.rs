//! TEMPORARY placeholder: installing a compiled seccomp program.
#![allow(dead_code)]
use crate::error::SysError;
use crate::seccomp::Program;
pub(crate) fn install(_p: &Program) -> Result<Option<std::os::fd::OwnedFd>, SysError> {
    Err(SysError::check("seccomp", None, "not supported"))
}
