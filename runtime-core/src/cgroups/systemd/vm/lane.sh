#!/bin/sh
# Runs inside the systemd VM (hull-lane.service); prints HULL-SD lines on the serial console and
# powers off. Every part runs with hull and then with runc 1.1.5, both with --systemd-cgroup.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
cd /lane
hull=/lane/hull
fail=0
part() { # name command...: runs one part and records its outcome
    name=$1; shift
    t0=$(date +%s)
    if "$@" >/tmp/part.log 2>&1; then r=ok; else r=FAILED; fail=1; fi
    sed "s/^/HULL-SD $name: /" /tmp/part.log | tail -n 60
    echo "HULL-SD-PART $name $r ($(($(date +%s) - t0))s)"
}
echo "HULL-SD: $(uname -r), PID 1 $(cat /proc/1/comm), $(systemctl --version | head -n1)"
echo "HULL-SD: cgroup $(stat -fc %T /sys/fs/cgroup), controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
timeout 300 systemctl is-system-running --wait >/dev/null 2>&1
part unit-tests ./unit-tests --test-threads=1 cgroups::systemd
part cli-test env HULL_STRICT=1 HULL=/lane/hull ./lifecycle --test-threads=1 systemd_cgroup
for rt in "$hull" /usr/sbin/runc; do
    n=$(basename "$rt")
    printf '#!/bin/sh\nexec %s --systemd-cgroup "$@"\n' "$rt" >"/lane/$n-systemd"
    chmod +x "/lane/$n-systemd"
    part "e2e-$n" ./e2e.sh "/lane/$n-systemd"
    # Left out: v1's devices.list test (v2 here), and the two tests that pre-make the container's
    # cgroup directory by hand to check the cgroupfs driver joining it (a systemd scope's cgroup is
    # made by systemd; the e2e part checks the existing-unit case instead).
    part "conformance-$n" env RUNTIME="/lane/$n-systemd" PROBE=/lane/probe CONFORMANCE_STRICT=1 \
        CONFORMANCE_SYSTEMD_CGROUP=1 ./conformance-cgroups --test-threads=1 \
        --skip device_rule_access_strings_as_runc_takes_them --skip joining_a_frozen_cgroup_is_refused \
        --skip joining_a_non_empty_cgroup_warns
    # The clients: containerd through ctr and through its CRI plugin, podman (the shim and podman
    # pass --systemd-cgroup themselves).
    for client in ctr cri podman; do part "$client-$n" ./containerd.sh $client "$rt"; done
done
systemctl list-units --all --no-legend --type=scope,slice 'hull-*' 'runc-*' | sed 's/^/HULL-SD: left: /'
left=$(systemctl list-units --all --no-legend --type=scope,slice 'hull-*' 'runc-*' | wc -l)
echo "HULL-SD: units left: $left"
[ "$left" = 0 ] || fail=1
if [ "$fail" = 0 ]; then echo "HULL-SD-RESULT ok"; else echo "HULL-SD-RESULT failed"; fi
systemctl poweroff --force --force
