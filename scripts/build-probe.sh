#!/usr/bin/env bash
# Builds the conformance probe as a static binary (container rootfs images have no libc) into
# target/probe/probe.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release -p conformance --bin probe --target x86_64-unknown-linux-gnu --target-dir target/static
mkdir -p target/probe
cp target/static/x86_64-unknown-linux-gnu/release/probe target/probe/probe
