//! hull: a runc-compatible command line over runtime-core.
fn main() {}
