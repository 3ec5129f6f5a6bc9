//! Compiling the Docker-like default profile (x86_64 + x86 + x32, ~350 syscalls) from its OCI
//! JSON into BPF, with no cache. Target: well under 1 ms (libseccomp: ~10 ms on the same VM).
//!
//! The compiler is crate-private, so the bench builds the module's source into itself; the crate
//! root provides the two names the module takes from runtime-core (`crate::Error`, `crate::Result`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};

pub(crate) use runtime_core::{Error, Result};

#[allow(dead_code, unreachable_pub)]
#[path = "../src/seccomp/mod.rs"]
mod seccomp;

const DOCKER: &str = include_str!("../src/seccomp/testdata/docker-default.json");

fn compile_docker(c: &mut Criterion) {
    let spec: oci_spec::runtime::LinuxSeccomp = serde_json::from_str(DOCKER).unwrap();
    c.bench_function("seccomp compile docker-default", |b| {
        b.iter(|| seccomp::compile_for(black_box(&spec), seccomp::Arch::X86_64).unwrap())
    });
    c.bench_function("seccomp parse+compile docker-default", |b| {
        b.iter(|| {
            let spec: oci_spec::runtime::LinuxSeccomp = serde_json::from_str(black_box(DOCKER)).unwrap();
            seccomp::compile_for(&spec, seccomp::Arch::X86_64).unwrap()
        })
    });
}

criterion_group!(benches, compile_docker);
criterion_main!(benches);
