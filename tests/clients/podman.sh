#!/usr/bin/env bash
# Drives hull (or any runc-compatible RUNTIME) under the real podman 4.3 + conmon: podman with
# `--runtime RUNTIME`, the cgroupfs manager, file events, vfs storage and run dirs in a temporary
# directory, a locally built busybox image. Prints PASS/FAIL per check and a final count; exits
# non-zero on any failure. Leaves no container, mount, cgroup or process behind.
# Usage: tests/clients/podman.sh [RUNTIME]   (default: this checkout's release hull)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "podman.sh: must run as root" >&2; exit 2; }
RT=$(runtime_under_test "${1:-}")
apt_need podman podman conmon containernetworking-plugins || exit 2
apt_need script bsdutils || exit 2
echo "podman.sh: runtime $RT, $(podman --version)"

D=$(mktemp -d /tmp/clients-podman.XXXXXX)
chmod 755 "$D"
CG=clients-podman-$$
IMG=docker.io/library/hulltest:latest
cleaned=""
mkdir -p "$D/tmp" "$D/cni"
# No global containers.conf or storage.conf of the host may change what is tested.
# Without CAP_SYS_RESOURCE (as on this project's machines) podman's default nofile and nproc of
# 1048576 for root cannot be set by any runtime, and conmon, as podman starts it, runs with a hard
# nproc of 32768 (observed with podman 4.3); limits at or below those can always be set.
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$(ulimit -Hn)" "$(ulimit -Hn)" "$nproc" "$nproc" >"$D/containers.conf"
printf '[engine]\nevents_logger = "file"\nevents_logfile_path = "%s/events.log"\ncgroup_manager = "cgroupfs"\n' "$D" >>"$D/containers.conf"
export CONTAINERS_CONF=$D/containers.conf CONTAINERS_STORAGE_CONF=$D/storage.conf CONTAINERS_REGISTRIES_CONF=$D/registries.conf
printf '[storage]\ndriver = "vfs"\nrunroot = "%s/run"\ngraphroot = "%s/storage"\n' "$D" "$D" >"$CONTAINERS_STORAGE_CONF"
: >"$CONTAINERS_REGISTRIES_CONF"

pm() {
    podman --root "$D/storage" --runroot "$D/run" --storage-driver vfs --tmpdir "$D/tmp" \
        --runtime "$RT" --cgroup-manager cgroupfs --events-backend file --network-config-dir "$D/cni" "$@"
}
# podman run with this test's cgroup parent and no network unless a check asks for one.
run_() { pm run --cgroup-parent "/$CG" "$@"; }
export -f pm run_
export D RT CG

cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    pm pod rm -af -t 0 >/dev/null 2>&1
    pm rm -af -t 0 >/dev/null 2>&1
    local p
    # conmon monitors name our run directory on their command line.
    for p in $(pids_mentioning "$D"); do stop_pid "$p"; done
    remove_cgroups "$CG"
    unmount_below "$D"
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/mkimage.sh" "$D/image.tar" hulltest:latest || exit 2
pm load -q -i "$D/image.tar" >/dev/null || { echo "podman.sh: podman load failed" >&2; exit 2; }
pm image exists "$IMG" || { echo "podman.sh: $IMG missing after load: $(pm images 2>&1)" >&2; exit 2; }

# --- foreground runs ----------------------------------------------------------------------------
capture_in "hello-in" run_ --rm -i --network none "$IMG" sh -c 'read x; echo "out:$x"; echo err >&2'
# stdout and stderr are separate streams: their relative order is not kept.
if [ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | sort)" = $'err\nout:hello-in' ]; then pass "run -i: stdin, stdout, stderr pipes"; else fail "run -i: stdin, stdout, stderr pipes" "rc $rc: $(short "$out")"; fi
expect_rc "run: exit code 3" 3 run_ --rm --network none "$IMG" sh -c 'exit 3'
expect_match "run -t: process has a tty" '/dev/pts/[0-9]+$' in_tty podman --root "$D/storage" --runroot "$D/run" \
    --storage-driver vfs --tmpdir "$D/tmp" --runtime "$RT" --cgroup-manager cgroupfs --events-backend file \
    --network-config-dir "$D/cni" run --cgroup-parent "/$CG" --rm -t --network none "$IMG" tty
expect "run: env, cwd, user, groups" "bar /tmp 1000 1000 1000 2000" run_ --rm --network none -e FOO=bar -w /tmp \
    -u 1000:1000 --group-add 2000 "$IMG" sh -c 'echo $FOO $(pwd) $(id -u) $(id -g) $(id -G)'
expect_match "run --read-only: rootfs is read-only" 'Read-only file system' run_ --rm --network none --read-only "$IMG" touch /newfile
expect "run --read-only: /tmp stays writable (podman's tmpfs)" "ok" run_ --rm --network none --read-only "$IMG" sh -c 'touch /tmp/x && echo ok'
mkdir -p "$D/bind"
echo from-host >"$D/bind/in"
expect "run -v bind: read host file, write back" "from-host" run_ --rm --network none -v "$D/bind:/mnt" "$IMG" \
    sh -c 'cat /mnt/in; echo from-ctr >/mnt/out'
if [ "$(cat "$D/bind/out" 2>/dev/null)" = from-ctr ]; then pass "run -v bind: write reaches host"; else fail "run -v bind: write reaches host" "no $D/bind/out"; fi
expect "run --tmpfs: tmpfs with the image's content copied up (tmpcopyup)" "tmpfs image-content" run_ --rm --network none \
    --tmpfs /data "$IMG" sh -c 'echo $(awk "\$2 == \"/data\" { print \$3 }" /proc/mounts) $(cat /data/seed)'
host_net=$(readlink /proc/self/ns/net)
expect "run --network host: host network namespace" "$host_net" run_ --rm --network host "$IMG" readlink /proc/self/ns/net
expect "run --uidmap/--gidmap: user namespace maps" "0 100000 65536|0 100000 65536" run_ --rm --network none \
    --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" \
    sh -c 'echo "$(tr -s " " </proc/self/uid_map | sed "s/^ //")|$(tr -s " " </proc/self/gid_map | sed "s/^ //")"'
mkdir -p "$D/rootfs"
tar -xf "$D/image.tar" -C "$D" ./manifest.json
layer=$(sed -e 's/.*"Layers":\["\([^"]*\)".*/\1/' "$D/manifest.json")
tar -xf "$D/image.tar" -O "./$layer" | tar -x -C "$D/rootfs"
expect "run --rootfs DIR" "rootfs-ok" run_ --rm --network none --rootfs "$D/rootfs" /bin/sh -c 'echo rootfs-ok'
capture run_ --rm --network none "$IMG" /no/such/binary
if [ "$rc" = 127 ] && printf '%s' "$out" | grep -q '/no/such/binary'; then pass "run: missing executable is exit 127 with the runtime's message"; else fail "run: missing executable is exit 127 with the runtime's message" "rc $rc: $(short "$out")"; fi

# --- flags people use every day ---------------------------------------------------------------------
capture run_ --rm --network none --cap-add NET_ADMIN --cap-drop CHOWN "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status
if [ "$rc" = 0 ] && [ -n "$out" ] && (((0x$out >> 12) & 1)) && ! (((0x$out) & 1)); then pass "run --cap-add NET_ADMIN --cap-drop CHOWN"; else fail "run --cap-add NET_ADMIN --cap-drop CHOWN" "rc $rc: $(short "$out")"; fi
expect "run --device /dev/null:/dev/mynull" "ok" run_ --rm --network none --device /dev/null:/dev/mynull "$IMG" sh -c 'echo x >/dev/mynull && echo ok'
# Any --ulimit replaces the configured defaults, nproc included.
expect "run --ulimit nofile=100:200" "100 200" run_ --rm --network none --ulimit nofile=100:200 --ulimit "nproc=$nproc:$nproc" "$IMG" sh -c 'echo $(ulimit -n) $(ulimit -Hn)'
expect "run --hostname, --add-host" "box 1.2.3.4" run_ --rm --network none --hostname box --add-host h1:1.2.3.4 "$IMG" \
    sh -c 'echo $(hostname) $(awk "\$2 == \"h1\" { print \$1 }" /etc/hosts)'
expect "run --sysctl in the container's netns" "1" run_ --rm --network none --sysctl net.ipv4.ip_forward=1 "$IMG" cat /proc/sys/net/ipv4/ip_forward

# --- resources, read from the host side of the container's cgroup ----------------------------------
cg_value() { # PID CONTROLLER FILE
    local rel
    rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
    cat "/sys/fs/cgroup/$2$rel/$3" 2>/dev/null
}
if run_ -d --name limits --network none --memory 64m --cpus 0.5 --pids-limit 50 "$IMG" sleep 1000 >/dev/null 2>&1; then
    pid=$(pm inspect --format '{{.State.Pid}}' limits)
    mem=$(cg_value "$pid" memory memory.limit_in_bytes)
    quota=$(cg_value "$pid" cpu cpu.cfs_quota_us)
    [ "$mem" = 67108864 ] && pass "run --memory 64m: cgroup limit" || fail "run --memory 64m: cgroup limit" "memory.limit_in_bytes=$mem"
    [ "$quota" = 50000 ] && pass "run --cpus 0.5: cfs quota" || fail "run --cpus 0.5: cfs quota" "cpu.cfs_quota_us=$quota"
    pids=$(cg_value "$pid" pids pids.max)
    [ "$pids" = 50 ] && pass "run --pids-limit 50" || fail "run --pids-limit 50" "pids.max=$pids"
    expect_match "stats: memory usage and limit" '^[0-9.]+[kMG]?B / 67.11MB$' pm stats --no-stream --format '{{.MemUsage}}' limits
    pm rm -f -t 0 limits >/dev/null 2>&1
else
    fail "run --memory --cpus: detached start" "$(run_ -d --network none --memory 64m "$IMG" true 2>&1 | tail -1)"
fi
skip "update" "podman 4.3 has no 'podman update' (update is checked through docker.sh)"

# --- a detached container: exec, top, pause, stop, rm -f -------------------------------------------
capture run_ -d --name det --network none "$IMG" sleep 1000
if [ "$rc" = 0 ]; then pass "run -d: detached container"; else fail "run -d: detached container" "rc $rc: $(short "$out")"; fi
expect "exec: stdout" "exec-out" pm exec det echo exec-out
expect_rc "exec: exit code 5" 5 pm exec det sh -c 'exit 5'
expect_rc "exec: missing executable is 127" 127 pm exec det /no/such/binary
expect_rc "exec: non-executable file is 126" 126 pm exec det /etc/passwd
expect "exec -u 1000 -w /tmp -e" "1000 /tmp bar" pm exec -u 1000 -w /tmp -e FOO=bar det sh -c 'echo $(id -u) $(pwd) $FOO'
capture_in "to-exec" pm exec -i det sh -c 'read x; echo "got:$x"'
[ "$rc" = 0 ] && [ "$out" = "got:to-exec" ] && pass "exec -i: stdin" || fail "exec -i: stdin" "rc $rc: $(short "$out")"
expect_match "exec -t: tty" '/dev/pts/[0-9]+$' in_tty podman --root "$D/storage" --runroot "$D/run" --storage-driver vfs \
    --tmpdir "$D/tmp" --runtime "$RT" --cgroup-manager cgroupfs --events-backend file --network-config-dir "$D/cni" exec -t det tty
expect_rc "exec -d: detached exec" 0 pm exec -d det sleep 999
expect_match "top: init and exec listed" 'sleep 999' pm top det
status() { pm inspect --format '{{.State.Status}}' "$1" 2>&1; }
expect_rc "pause" 0 pm pause det
[ "$(status det)" = paused ] && pass "pause: status paused" || fail "pause: status paused" "$(status det)"
expect_rc "unpause" 0 pm unpause det
[ "$(status det)" = running ] && pass "unpause: status running" || fail "unpause: status running" "$(status det)"
expect "exec after unpause" "alive" pm exec det echo alive
pid=$(pm inspect --format '{{.State.Pid}}' det)
capture pm rm -f -t 0 det
if [ "$rc" = 0 ] && ! kill -0 "$pid" 2>/dev/null && ! pm container exists det; then pass "rm -f: running container removed"; else fail "rm -f: running container removed" "rc $rc: $(short "$out")"; fi

capture run_ -d --name term --network none "$IMG" sh -c 'trap "exit 7" TERM; while true; do sleep 0.1; done'
if [ "$rc" = 0 ]; then
    expect_rc "stop: SIGTERM handled by the container" 0 pm stop -t 20 term
    expect "stop: exit code from the TERM trap" "7" pm inspect --format '{{.State.ExitCode}}' term
    pm rm -f -t 0 term >/dev/null 2>&1
else
    fail "stop: SIGTERM handled by the container" "run -d: $(short "$out")"
fi
if run_ -d --name killme --network none "$IMG" sleep 1000 >/dev/null 2>&1; then
    expect_rc "kill -s KILL" 0 pm kill -s KILL killme
    wait_until 10 sh -c "[ \"\$(podman --root '$D/storage' --runroot '$D/run' --storage-driver vfs inspect --format '{{.State.Status}}' killme)\" = exited ]"
    expect "kill: exit code 137" "137" pm inspect --format '{{.State.ExitCode}}' killme
    pm rm -f -t 0 killme >/dev/null 2>&1
else
    fail "kill -s KILL" "run -d failed"
fi

# --- a pod: containers share the infra container's namespaces by path ------------------------------
capture pm pod create --name pod1 --cgroup-parent "/$CG" --network none --infra-image "$IMG" --infra-command /pause
if [ "$rc" = 0 ]; then
    started=$(pm run -d --pod pod1 --name pa "$IMG" sleep 1000 2>&1; pm run -d --pod pod1 --name pb "$IMG" sleep 1000 2>&1)
    a=$(pm exec pa sh -c 'for n in net ipc uts; do readlink /proc/self/ns/$n; done | tr "\n" " "' 2>&1)
    b=$(pm exec pb sh -c 'for n in net ipc uts; do readlink /proc/self/ns/$n; done | tr "\n" " "' 2>&1)
    if [ -n "$a" ] && [ "$a" = "$b" ] && printf '%s' "$a" | grep -q 'net:.*ipc:.*uts:' \
        && ! printf '%s' "$a" | grep -qF "$host_net"; then pass "pod: two containers share net, ipc, uts"; else fail "pod: two containers share net, ipc, uts" "pa: $a; pb: $b; run: $(short "$started")"; fi
    expect_rc "pod rm -f" 0 pm pod rm -f -t 0 pod1
else
    fail "pod: create" "rc $rc: $(short "$out")"
fi

capture pm ps -aq
[ -z "$out" ] && pass "no containers left" || fail "no containers left" "$(short "$out")"
cleanup
check_leftovers "cleanup: no mounts, processes, cgroups left" "$D" "$CG"
summary
