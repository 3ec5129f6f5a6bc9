//! Static probe run inside containers.
fn main() {}
