#!/usr/bin/env bash
# Fails if tests left containers, mounts, cgroups or processes of ours behind.
set -u
bad=0
for root in /run/hull /run/hull-test* /run/hull-example; do
    [ -d "$root" ] || continue
    n=$(find "$root" -mindepth 1 -maxdepth 1 -type d | wc -l)
    if [ "$n" -gt 0 ]; then echo "leftover: $n state dir(s) under $root"; bad=1; fi
done
m=$(grep -c -E 'hull|conformance|bundle' /proc/self/mountinfo || true)
if [ "$m" -gt 0 ]; then echo "leftover: $m mount(s) mentioning hull/conformance/bundle"; bad=1; fi
c=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d \( -iname '*hull*' -o -iname '*conformance*' \) 2>/dev/null | grep -v process_api | wc -l)
if [ "$c" -gt 0 ]; then echo "leftover: $c cgroup dir(s) named hull/conformance"; bad=1; fi
p=$(pgrep -f -c 'hull-test|conformance-bundle' || true)
if [ "$p" -gt 0 ]; then echo "leftover: $p process(es) from test bundles"; bad=1; fi
[ "$bad" = 0 ] && echo "no leftovers"
exit "$bad"
