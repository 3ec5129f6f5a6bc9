//! Benchmarks of hull against runc and crun: whole-process measurements of `run` and of the
//! containerd-style create/start/wait/delete sequence, every runtime in the same invocation.

pub mod bundle;
pub mod cgroups;
pub mod host;
pub mod load;
pub mod measure;
pub mod memory;
pub mod report;
pub mod runtimes;
pub mod spawn;
pub mod stats;
pub mod suite;
