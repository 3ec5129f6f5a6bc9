//! Kernel-backed tests.
