#!/usr/bin/env bash
# Runs every client script (containerd, podman, Docker, CRI) against one runtime, one after the
# other (each starts and stops its own daemon), and fails if any of them failed.
# Usage: tests/clients/run-all.sh [RUNTIME]   (default: this checkout's release hull)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bad=""
for client in containerd podman docker cri; do
    echo "== tests/clients/$client.sh"
    start=$SECONDS
    "$here/$client.sh" "$@" || bad="$bad $client"
    echo "($client: $((SECONDS - start)) s)"
done
if [ -n "$bad" ]; then
    echo "client tests failed:$bad"
    exit 1
fi
echo "all client tests passed"
