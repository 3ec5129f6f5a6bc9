#!/bin/sh
# crun 1.8.1 refuses this host's cgroup v1 "hybrid" layout (cgroup2 mounted at /sys/fs/cgroup/unified).
# Run it in a private mount namespace (unshare -m makes propagation private, so nothing reaches the host)
# where that cgroup2 mount is unmounted: crun then sees plain cgroup v1.
# Usage: crun-hybrid.sh CRUN-ARGS...   (CRUN=/path overrides /usr/bin/crun)
exec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "${CRUN:-/usr/bin/crun}" "$@"
