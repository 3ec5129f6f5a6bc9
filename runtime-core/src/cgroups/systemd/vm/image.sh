#!/bin/sh
# Builds (once) the root filesystem of the systemd test VM from Debian's packages: systemd as
# PID 1, D-Bus, runc 1.1.5 for the comparison run, containerd and the CRI client's python grpc
# for the client parts (containerd.sh). Cached as $cache/rootfs.cpio.gz with the package list
# beside it (rootfs.pkgs): a changed list rebuilds it. Needs mmdebstrap (apt-get install
# mmdebstrap) and network access to the mirror.
#
#   runtime-core/src/cgroups/systemd/vm/image.sh CACHE_DIR
set -eu
cache=$1
out=$cache/rootfs.cpio.gz
# The rootless part needs newuidmap/newgidmap (uidmap) and a user's systemd instance's bus.
pkgs=systemd,systemd-sysv,dbus,runc,libseccomp2,busybox-static,procps,containerd,python3-grpcio,python3-protobuf,podman,uidmap,dbus-user-session
[ -s "$out" ] && [ "$(cat "$cache/rootfs.pkgs" 2>/dev/null)" = "$pkgs" ] && exit 0
command -v mmdebstrap >/dev/null || { echo "systemd-vm: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
mkdir -p "$cache"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Docs, man pages and locales are a third of the image and slow the copy in the VM.
mmdebstrap --variant=minbase --include="$pkgs" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm "$dir/root" >"$cache/mmdebstrap.log" 2>&1 || { tail -20 "$cache/mmdebstrap.log" >&2; exit 1; }
rm -rf "$dir/root/var/cache/apt" "$dir/root/var/lib/apt/lists"
# The lane starts its own containerd and podman: theirs would only slow the boot.
rm -f "$dir"/root/etc/systemd/system/*.wants/containerd.service "$dir"/root/etc/systemd/system/*.wants/podman*
(cd "$dir/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "$pkgs" >"$cache/rootfs.pkgs"
