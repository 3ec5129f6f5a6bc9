#!/usr/bin/env bash
# End to end on a fresh machine, as root: builds hull, assembles a small rootfs from the host's
# static busybox plus the project's static probe (nothing is downloaded at run time), and runs a
# real container in the foreground. Prints what the container wrote; exits with its status.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "demo: needs /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }

# hull is linked statically against musl (.cargo/config.toml): Rust's own target, no C toolchain.
rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
cargo build -q --release -p runtime-cli -p conformance --bin hull --bin mkbundle
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build -q --release -p conformance --bin probe --target x86_64-unknown-linux-gnu --target-dir target/probe
probe=target/probe/x86_64-unknown-linux-gnu/release/probe

work=$(mktemp -d /tmp/hull-demo.XXXXXX)
trap 'target/x86_64-unknown-linux-musl/release/hull --root "$work/state" delete -f demo 2>/dev/null || true; rm -rf "$work"' EXIT
target/x86_64-unknown-linux-musl/release/mkbundle "$work/bundle" --probe "$probe" -- \
    sh -c 'echo "hello from $(hostname), pid $$ in its own namespaces, as $(id -un)"; ls /; exit 7' >/dev/null
set +e
target/x86_64-unknown-linux-musl/release/hull --root "$work/state" run --bundle "$work/bundle" demo
status=$?
set -e
echo "container exited with status $status"
[ "$status" = 7 ]
