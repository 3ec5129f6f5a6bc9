//! Benchmarks of hull against runc and crun.
