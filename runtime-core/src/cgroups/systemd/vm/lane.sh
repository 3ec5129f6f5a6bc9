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
# Pure v2, or v1 hybrid (run.sh HULL_VM_HIERARCHY=hybrid): e2e-v1.sh for the v1 files and names.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    e2e=./e2e.sh skip_v1="--skip device_rule_access_strings_as_runc_takes_them"
    echo "HULL-SD: cgroup2 at /sys/fs/cgroup, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
else
    e2e=./e2e-v1.sh skip_v1=
    echo "HULL-SD: hybrid: $(grep -c ' - cgroup cgroup ' /proc/self/mountinfo) v1 hierarchies ($(ls /sys/fs/cgroup | tr '\n' ' ')), $(stat -fc %T /sys/fs/cgroup/unified) at /sys/fs/cgroup/unified"
fi
timeout 300 systemctl is-system-running --wait >/dev/null 2>&1
part unit-tests ./unit-tests --test-threads=1 cgroups::systemd
part cli-test env HULL_STRICT=1 HULL=/lane/hull ./lifecycle --test-threads=1 systemd_cgroup
for rt in "$hull" /usr/sbin/runc; do
    n=$(basename "$rt")
    printf '#!/bin/sh\nexec %s --systemd-cgroup "$@"\n' "$rt" >"/lane/$n-systemd"
    chmod +x "/lane/$n-systemd"
    part "e2e-$n" "$e2e" "/lane/$n-systemd"
    # Left out: v1's devices.list test on v2, and the two tests that pre-make the container's
    # cgroup directory by hand to check the cgroupfs driver joining it (a systemd scope's cgroup is
    # made by systemd; the e2e part checks the existing-unit case instead).
    part "conformance-$n" env RUNTIME="/lane/$n-systemd" PROBE=/lane/probe CONFORMANCE_STRICT=1 \
        CONFORMANCE_SYSTEMD_CGROUP=1 ./conformance-cgroups --test-threads=1 \
        $skip_v1 --skip joining_a_frozen_cgroup_is_refused \
        --skip joining_a_non_empty_cgroup_warns
    # The clients (cgroup v2 boot): containerd through ctr and through its CRI plugin, podman (the
    # shim and podman pass --systemd-cgroup themselves).
    if [ "$e2e" = ./e2e.sh ]; then
        for client in ctr cri podman; do part "$client-$n" ./containerd.sh $client "$rt"; done
    fi
done
# Rootless: an ordinary user's containers through its own systemd instance (rootless.sh); cgroup
# v2 only (a user's manager gets no delegation on v1: hull and runc refuse it there).
if [ "$e2e" = ./e2e.sh ]; then
    for n in hull runc; do part "rootless-$n" ./rootless.sh "/lane/$n-systemd" "/lane/$n-systemd"; done
fi
systemctl list-units --all --no-legend --type=scope,slice 'hull-*' 'runc-*' | sed 's/^/HULL-SD: left: /'
left=$(systemctl list-units --all --no-legend --type=scope,slice 'hull-*' 'runc-*' | wc -l)
echo "HULL-SD: units left: $left"
[ "$left" = 0 ] || fail=1
# On v1 the runtimes make the scope's directory themselves in the hierarchies systemd does not manage.
dirs=$(find /sys/fs/cgroup -type d -name '*.scope' \( -name 'hull-*' -o -name 'runc-*' \) | tee /tmp/dirs.log | wc -l)
sed 's/^/HULL-SD: left: /' /tmp/dirs.log
echo "HULL-SD: scope directories left: $dirs"
[ "$dirs" = 0 ] || fail=1
if [ "$fail" = 0 ]; then echo "HULL-SD-RESULT ok"; else echo "HULL-SD-RESULT failed"; fi
systemctl poweroff --force --force
