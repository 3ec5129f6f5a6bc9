//! The only module with `unsafe`: thin 1:1 wrappers over system calls, each returning a
//! [`SysError`](crate::SysError) that names the operation and its object.

pub(crate) mod cgroup;
pub(crate) mod seccomp;
