#!/usr/bin/env bash
# Prints runtime-core's module graph and fails on a cycle or a layer violation
# (runtime-core/tests/modgraph.rs; docs/architecture.md shows its output). It needs only std, so it
# is compiled alone with rustc: a second or two, without building the crate.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
CARGO_MANIFEST_DIR="$PWD/runtime-core" rustc --edition 2021 --test -o target/modgraph runtime-core/tests/modgraph.rs
target/modgraph --nocapture --quiet
