//! TEMPORARY placeholder with the cgroup interface; replaced by the real cgroup layer on merge.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub(crate) struct Layout;
impl Layout {
    pub(crate) fn is_v2(&self) -> bool {
        false
    }
}
pub(crate) fn detect() -> Result<Layout> {
    Ok(Layout)
}
#[derive(Debug, Clone, Default)]
pub(crate) struct CgroupPlan;
pub(crate) fn plan(
    _p: Option<&Path>,
    _id: &str,
    r: Option<&oci_spec::runtime::LinuxResources>,
    _l: &Layout,
) -> Result<CgroupPlan> {
    if let Some(r) = r {
        if r.memory().is_some() || r.cpu().is_some() || r.pids().is_some() || r.block_io().is_some() {
            return Err(Error::NotSupported("linux.resources".into()));
        }
    }
    Ok(CgroupPlan)
}
#[derive(Debug)]
pub(crate) struct Cgroup;
impl Cgroup {
    pub(crate) fn create(_p: &CgroupPlan) -> Result<Cgroup> {
        Ok(Cgroup)
    }
    pub(crate) fn procs_fds(&self) -> Vec<BorrowedFd<'_>> {
        Vec::new()
    }
    pub(crate) fn unified_dir_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    pub(crate) fn paths(&self) -> BTreeMap<String, PathBuf> {
        BTreeMap::new()
    }
    pub(crate) fn load(_p: &BTreeMap<String, PathBuf>) -> Cgroup {
        Cgroup
    }
    pub(crate) fn destroy(&self) -> Result<()> {
        Ok(())
    }
    pub(crate) fn pids(&self) -> Result<Vec<i32>> {
        Ok(Vec::new())
    }
    pub(crate) fn freeze(&self) -> Result<()> {
        Err(Error::NotSupported("pause".into()))
    }
    pub(crate) fn thaw(&self) -> Result<()> {
        Err(Error::NotSupported("resume".into()))
    }
    pub(crate) fn is_frozen(&self) -> Result<bool> {
        Ok(false)
    }
    pub(crate) fn kill_all(&self, _s: i32) -> Result<()> {
        Ok(())
    }
}
