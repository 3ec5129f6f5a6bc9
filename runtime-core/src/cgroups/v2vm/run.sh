#!/bin/sh
# Runs runtime-core's cgroup tests on a pure cgroup v2 kernel: Debian's kernel under
# qemu (TCG, no KVM needed) with a busybox initramfs holding the unit-test binary; then, when the
# release hull is built, a whole container and the conformance suite's cgroup tests (limits in the
# cgroup2 files, OOM at the limit, pids.max against forks, pause, update) against that hull.
#
#   runtime-core/src/cgroups/v2vm/run.sh [test-name-filter]     (default filter: cgroups::)
#
# Needs: qemu-system-x86 and busybox-static (apt-get install), and either a
# linux-image-*-amd64 .deb in $HULL_VM_CACHE or network access to `apt-get download` one.
# Exit status 0 only when the VM printed a passing test result.
set -eu
repo=$(cd "$(dirname "$0")/../../../.." && pwd)
cache=${HULL_VM_CACHE:-$repo/target/v2vm}
filter=${1:-cgroups::}
mkdir -p "$cache"

kernel=$(ls "$cache"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -z "$kernel" ]; then
    deb=$(ls "$cache"/linux-image-*-amd64_*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[^ ]*\)/\1/p' | head -n1)
        (cd "$cache" && apt-get download "$pkg")
        deb=$(ls "$cache"/linux-image-*-amd64_*.deb | head -n1)
    fi
    dpkg-deb -x "$deb" "$cache"
    kernel=$(ls "$cache"/boot/vmlinuz-* | head -n1)
fi

# The unit-test binary of runtime-core, built for this host.
bin=$(cd "$repo" && cargo test -p runtime-core --lib --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
[ -x "$bin" ] || { echo "v2vm: could not build the runtime-core test binary" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc"
cp /bin/busybox "$root/bin/busybox"
file /bin/busybox | grep -q 'statically linked' || { echo "v2vm: needs busybox-static" >&2; exit 1; }
cp "$bin" "$root/hull-tests"
cp "$(dirname "$0")/init.sh" "$root/init"
chmod +x "$root/init"
# The test binary's shared libraries, at the paths its loader expects.
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
# A whole container too, when hull is built: limits must land in cgroup2 files and the cgroup
# must be gone after the run.
hull=$repo/target/x86_64-unknown-linux-musl/release/hull
if [ -x "$hull" ]; then
    cp "$hull" "$root/hull"
    for lib in $(ldd "$hull" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    mkdir -p "$root/bundle/rootfs/bin"
    cp /bin/busybox "$root/bundle/rootfs/bin/busybox"
    cp "$(dirname "$0")/e2e-config.json" "$root/bundle/config.json"
fi
# The conformance suite's cgroup tests against that hull: the same checks as on this v1 host
# (files, OOM at the limit, pids.max against forks, pause, update), on cgroup2.
conf=$(cd "$repo" && cargo test -p conformance --test cgroups --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*/deps/cgroups-[^"]*"' | sed 's/.*:"\(.*\)"/\1/' | tail -n1)
probe=$repo/target/probe/x86_64-unknown-linux-gnu/release/probe
if [ -x "$hull" ] && [ -x "$conf" ] && [ -x "$probe" ]; then
    cp "$conf" "$root/conformance-cgroups"
    cp "$probe" "$root/probe"
    for lib in $(ldd "$conf" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
fi
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.gz"

log="$cache/console.log"
timeout "${HULL_VM_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -m 1536 -smp 2 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$cache/initramfs.gz" \
    -append "console=ttyS0 panic=-1 rdinit=/init quiet hull.filter=$filter" </dev/null | tee "$log"
grep -q 'HULL-V2-RESULT rc=0' "$log" && grep -q 'test result: ok' "$log" || exit 1
if [ -x "$hull" ]; then
    grep -q 'HULL-V2-E2E ok' "$log"
fi
if [ -e "$root/conformance-cgroups" ] || grep -q 'HULL-V2-CONFORMANCE' "$log"; then
    grep -q 'HULL-V2-CONFORMANCE rc=0' "$log"
fi
