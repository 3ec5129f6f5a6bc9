#!/usr/bin/env bash
# Runs every test of the project, as root: format and lint checks, unit tests, kernel-backed
# tests, and the conformance suite against the freshly built hull. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: must run as root (tests create real containers)" >&2
    exit 1
fi
for tool in cargo /bin/busybox; do
    command -v "$tool" >/dev/null || { echo "scripts/test.sh: missing $tool (see README: setup)" >&2; exit 1; }
done

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== build hull (release)"
cargo build --release -p runtime-cli
echo "== cargo test --workspace"
HULL="$PWD/target/release/hull" cargo test --workspace --no-fail-fast -- --test-threads=2
echo "== leftovers"
scripts/leftovers.sh
