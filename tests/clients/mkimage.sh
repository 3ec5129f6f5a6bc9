#!/usr/bin/env bash
# Builds a one-layer busybox image as a tar that is both an OCI image layout (index.json, read by
# `ctr image import` and `podman load`) and a docker-archive (manifest.json, read by `docker load`),
# so every client test imports the same bytes without a registry or a build tool.
# Usage: mkimage.sh OUT.tar [NAME:TAG]   (default name hulltest:latest)
# CMD='["/pause"]' sets the image's command (default ["/bin/sh"]).
set -euo pipefail
out=$1
ref=${2:-hulltest:latest}
busybox=${BUSYBOX:-/bin/busybox}
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' \
    || { echo "mkimage.sh: $busybox must be a static busybox (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,root,home/user,proc,sys,dev,data}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nextra:x:2000:user\nnogroup:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/user"
# /pause: the infra command of pods (podman --infra-image, CRI sandboxes); exits on TERM or INT.
printf '#!/bin/sh\ntrap "exit 0" TERM INT\nwhile :; do sleep 3600 & wait $!; done\n' >"$root/pause"
chmod 755 "$root/pause"
# Content under /data lets tmpfs mounts with tmpcopyup show that the image's files were copied up.
echo image-content >"$root/data/seed"

blobs=$work/oci/blobs/sha256
mkdir -p "$blobs"
# Fixed owner and mtime: the same busybox gives the same layer digest on every run.
tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mv "$work/layer.tar" "$blobs/$layer"
layer_size=$(stat -c %s "$blobs/$layer")

cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":${CMD:-[\"/bin/sh\"]},"WorkingDir":"/"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$layer"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"tests/clients/mkimage.sh"}]}
JSON
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
config_size=$(stat -c %s "$work/config.json")
mv "$work/config.json" "$blobs/$config"

cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer","size":$layer_size}]}
JSON
manifest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
manifest_size=$(stat -c %s "$work/manifest.json")
mv "$work/manifest.json" "$blobs/$manifest"

name=${ref%:*}
tag=${ref##*:}
case "$name" in */*) full=docker.io/$name ;; *) full=docker.io/library/$name ;; esac
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
cat >"$work/oci/index.json" <<JSON
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "digest":"sha256:$manifest","size":$manifest_size,"platform":{"architecture":"amd64","os":"linux"},
 "annotations":{"io.containerd.image.name":"$full:$tag","org.opencontainers.image.ref.name":"$tag"}}]}
JSON
cat >"$work/oci/manifest.json" <<JSON
[{"Config":"blobs/sha256/$config","RepoTags":["$ref"],"Layers":["blobs/sha256/$layer"]}]
JSON
tar --sort=name --mtime=@0 --numeric-owner -C "$work/oci" -cf "$out" .
