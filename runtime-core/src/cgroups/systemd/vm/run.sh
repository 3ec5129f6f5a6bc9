#!/bin/sh
# The systemd cgroup driver's lane: a Debian VM with systemd as PID 1 on a pure cgroup v2
# hierarchy (HULL_VM_HIERARCHY=hybrid: cgroup v1 hybrid), booted by qemu (TCG), runs with hull
# --systemd-cgroup and then with runc --systemd-cgroup (Debian's 1.1.5): the systemd unit tests, the CLI test, a container
# checked with `systemctl show` and the cgroup files through create, pause, update and delete,
# and the conformance suite's cgroup tests. Exit status 0 only when every part passed.
#
#   runtime-core/src/cgroups/systemd/vm/run.sh
#   HULL_VM_HIERARCHY=hybrid runtime-core/src/cgroups/systemd/vm/run.sh   (cgroup v1 hybrid)
#
# Needs qemu-system-x86, busybox-static and mmdebstrap (apt-get install), network access for the
# first run (Debian kernel and packages, cached under target/systemd-vm), and the debug hull
# built (cargo build -p runtime-cli).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../../.." && pwd)
cache=${HULL_VM_CACHE:-$repo/target/systemd-vm}
hierarchy=${HULL_VM_HIERARCHY:-v2}
case $hierarchy in
v2) unified=1 ;;
hybrid) unified=0 ;; # systemd 252: v1 controllers, name=systemd, cgroup2 at /sys/fs/cgroup/unified
*) echo "systemd-vm: HULL_VM_HIERARCHY is v2 or hybrid, not $hierarchy" >&2; exit 2 ;;
esac
mkdir -p "$cache"

# The kernel: the one the v2 lane fetched, else Debian's current one.
kernel=$(ls "$repo"/target/v2vm/boot/vmlinuz-* "$cache"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -z "$kernel" ]; then
    pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[^ ]*\)/\1/p' | head -n1)
    (cd "$cache" && apt-get download "$pkg")
    dpkg-deb -x "$(ls "$cache"/linux-image-*-amd64_*.deb | head -n1)" "$cache"
    kernel=$(ls "$cache"/boot/vmlinuz-* | head -n1)
fi
"$here/image.sh" "$cache"

hull=$repo/target/x86_64-unknown-linux-musl/debug/hull
[ -x "$hull" ] || { echo "systemd-vm: build hull first (cargo build -p runtime-cli)" >&2; exit 1; }
exe() { # name cargo-args...: the test executable named deps/<name>-HASH that cargo builds
    name=$1; shift
    (cd "$repo" && cargo test "$@" --no-run --message-format=json 2>/dev/null) |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | grep "/deps/$name-" | tail -n1
}
unit_tests=$(exe runtime_core -p runtime-core --lib)
lifecycle=$(exe lifecycle -p runtime-cli --test lifecycle)
conf=$(exe cgroups -p conformance --test cgroups)
probe=$repo/target/probe/x86_64-unknown-linux-gnu/release/probe
for f in "$unit_tests" "$lifecycle" "$conf" "$probe"; do
    [ -x "$f" ] || { echo "systemd-vm: missing test binary ${f:-?}" >&2; exit 1; }
done

# A small first archive (busybox, /init, the tests) and the Debian root as a file inside it:
# /init unpacks that into a tmpfs and switch_roots to systemd, since containers cannot
# pivot_root out of the initial ramfs.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/proc" "$stage/lane" "$stage$(dirname "$hull")"
cp /bin/busybox "$stage/bin/busybox"
file /bin/busybox | grep -q 'statically linked' || { echo "systemd-vm: needs busybox-static" >&2; exit 1; }
cp "$here/init" "$stage/init"
cp "$here/lane.sh" "$here/hull-lane.service" "$here/e2e.sh" "$here/e2e-v1.sh" "$stage/lane/"
cp "$here/rootless.sh" "$stage/lane/"
# The clients' parts: containerd.sh with the images and the CRI client it needs.
cp "$here/containerd.sh" "$stage/lane/"
"$here/containerd.sh" stage "$stage/lane/clients"
# The CLI test finds hull at the path it was built with.
cp "$hull" "$stage$hull"
# And at a fixed path for the lane (the checkout may be anywhere).
cp "$hull" "$stage/lane/hull"
cp "$unit_tests" "$stage/lane/unit-tests"
cp "$lifecycle" "$stage/lane/lifecycle"
cp "$conf" "$stage/lane/conformance-cgroups"
cp "$probe" "$stage/lane/probe"
# Debug info is most of the debug binaries' size, and the kernel unpacks every byte under TCG.
strip --strip-debug "$stage$hull" "$stage/lane/hull" "$stage/lane/unit-tests" "$stage/lane/lifecycle" "$stage/lane/conformance-cgroups"
# Uncompressed: gunzip of the 400 MB root under TCG took a minute of the boot.
gunzip -c "$cache/rootfs.cpio.gz" >"$stage/rootfs.cpio"
(cd "$stage" && find . | cpio -o -H newc --quiet) >"$cache/initramfs.cpio"

log=$cache/console-$hierarchy.log
start=$(date +%s)
timeout "${HULL_VM_TIMEOUT:-2400}" qemu-system-x86_64 -accel tcg -m 3072 -smp 2 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$cache/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 rdinit=/init quiet systemd.unified_cgroup_hierarchy=$unified systemd.show_status=0" \
    </dev/null >"$log" 2>&1 || true
grep 'HULL-SD' "$log" || tail -40 "$log"
echo "systemd-vm: VM ($hierarchy) ran $(($(date +%s) - start))s"
grep -q 'HULL-SD-RESULT ok' "$log"
