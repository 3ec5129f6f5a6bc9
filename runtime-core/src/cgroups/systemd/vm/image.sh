#!/bin/sh
# Builds (once) the root filesystem of the systemd test VM from Debian's packages: systemd as
# PID 1, D-Bus, runc 1.1.5 for the comparison run. Cached as $cache/rootfs.cpio.gz; delete it
# to rebuild. Needs mmdebstrap (apt-get install mmdebstrap) and network access to the mirror.
#
#   runtime-core/src/cgroups/systemd/vm/image.sh CACHE_DIR
set -eu
cache=$1
out=$cache/rootfs.cpio.gz
[ -s "$out" ] && exit 0
command -v mmdebstrap >/dev/null || { echo "systemd-vm: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
mkdir -p "$cache"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pkgs=systemd,systemd-sysv,dbus,runc,libseccomp2,busybox-static,procps
# The rootless part: newuidmap/newgidmap, and the user bus of a user's systemd instance.
pkgs=$pkgs,uidmap,dbus-user-session
[ -n "${HULL_VM_CONTAINERD:-}" ] && pkgs=$pkgs,containerd
# Docs, man pages and locales are a third of the image and slow the copy in the VM.
mmdebstrap --variant=minbase --include="$pkgs" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm "$dir/root" >"$cache/mmdebstrap.log" 2>&1 || { tail -20 "$cache/mmdebstrap.log" >&2; exit 1; }
rm -rf "$dir/root/var/cache/apt" "$dir/root/var/lib/apt/lists"
(cd "$dir/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
