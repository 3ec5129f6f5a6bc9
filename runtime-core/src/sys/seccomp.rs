//! Installing a compiled seccomp program (the only unsafe part of seccomp).
