//! TEMPORARY placeholder with the seccomp interface; replaced by the real compiler on merge.
#![allow(dead_code)]

use crate::error::{Error, Result};

#[derive(Debug)]
pub(crate) struct Program;
impl Program {
    pub(crate) fn needs_listener(&self) -> bool {
        false
    }
    pub(crate) fn listener_path(&self) -> Option<&std::path::Path> {
        None
    }
}
pub(crate) fn compile(_s: &oci_spec::runtime::LinuxSeccomp) -> Result<Program> {
    Err(Error::NotSupported("linux.seccomp".into()))
}
