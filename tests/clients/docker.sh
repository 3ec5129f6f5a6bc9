#!/usr/bin/env bash
# Drives hull (or any runc-compatible RUNTIME) under the real Docker (dockerd 20.10 with its own
# managed containerd): a private dockerd (own data-root, exec-root, pidfile, socket, daemon.json
# with a `runtimes` entry for RUNTIME as default-runtime; no iptables, no bridge), a locally built
# busybox image loaded with `docker load`. Prints PASS/FAIL per check and a final count; exits
# non-zero on any failure. Leaves no daemon, mount, cgroup or state behind.
# Usage: tests/clients/docker.sh [RUNTIME]   (default: this checkout's release hull)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "docker.sh: must run as root" >&2; exit 2; }
RT=$(runtime_under_test "${1:-}")
apt_need dockerd docker.io || exit 2
apt_need script bsdutils || exit 2
# Debian's client; another `docker` earlier in PATH may speak a newer API than this dockerd.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
echo "docker.sh: runtime $RT, $(dockerd --version)"

D=$(mktemp -d /tmp/clients-docker.XXXXXX)
chmod 755 "$D"
CG=clients-docker-$$
IMG=hulltest:latest
daemon=""
cleaned=""

dk() { "$DOCKER" -H "unix://$D/docker.sock" "$@"; }
export -f dk
export D DOCKER IMG

cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    local ids p
    ids=$(dk ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
    [ -n "$daemon" ] && stop_pid "$daemon"
    # dockerd's containerd and shims name our exec-root on their command line.
    for p in $(pids_mentioning "$D"); do stop_pid "$p"; done
    remove_cgroups "$CG"
    unmount_below "$D"
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$D/daemon.json" <<JSON
{
  "runtimes": {"hull-under-test": {"path": "$RT"}},
  "default-runtime": "hull-under-test",
  "iptables": false, "ip-forward": false, "ip-masq": false, "bridge": "none", "userland-proxy": false,
  "storage-driver": "vfs",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "cgroup-parent": "/$CG",
  "log-driver": "json-file",
  "features": {"buildkit": false}
}
JSON
dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/docker.pid" \
    -H "unix://$D/docker.sock" >"$D/dockerd.log" 2>&1 &
daemon=$!
if ! wait_until 60 dk version; then
    tail -20 "$D/dockerd.log"
    echo "docker.sh: dockerd did not start" >&2
    exit 2
fi
"$here/mkimage.sh" "$D/image.tar" "$IMG" || exit 2
dk load -q -i "$D/image.tar" >/dev/null || { echo "docker.sh: docker load failed" >&2; exit 2; }
capture dk info --format '{{.DefaultRuntime}}'
[ "$out" = hull-under-test ] && pass "info: default runtime is the runtime under test" || fail "info: default runtime is the runtime under test" "$out"

# --- foreground runs ----------------------------------------------------------------------------
capture_in "hello-in" dk run --rm -i --network none "$IMG" sh -c 'read x; echo "out:$x"; echo err >&2'
# stdout and stderr are separate streams: their relative order is not kept.
if [ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | sort)" = $'err\nout:hello-in' ]; then pass "run -i: stdin, stdout, stderr pipes"; else fail "run -i: stdin, stdout, stderr pipes" "rc $rc: $(short "$out")"; fi
expect_rc "run: exit code 3" 3 dk run --rm --network none "$IMG" sh -c 'exit 3'
expect_match "run -t: process has a tty" '/dev/pts/[0-9]+$' in_tty "$DOCKER" -H "unix://$D/docker.sock" run --rm -t --network none "$IMG" tty
expect "run: env, cwd, user, groups" "bar /tmp 1000 1000 1000 2000" dk run --rm --network none -e FOO=bar -w /tmp \
    -u 1000:1000 --group-add 2000 "$IMG" sh -c 'echo $FOO $(pwd) $(id -u) $(id -g) $(id -G)'
expect_match "run --read-only: rootfs is read-only" 'Read-only file system' dk run --rm --network none --read-only "$IMG" touch /newfile
mkdir -p "$D/bind"
echo from-host >"$D/bind/in"
expect "run -v bind: read host file, write back" "from-host" dk run --rm --network none -v "$D/bind:/mnt" "$IMG" \
    sh -c 'cat /mnt/in; echo from-ctr >/mnt/out'
if [ "$(cat "$D/bind/out" 2>/dev/null)" = from-ctr ]; then pass "run -v bind: write reaches host"; else fail "run -v bind: write reaches host" "no $D/bind/out"; fi
expect "run --tmpfs: a tmpfs" "tmpfs" dk run --rm --network none --tmpfs /data "$IMG" awk '$2 == "/data" { print $3 }' /proc/mounts
host_net=$(readlink /proc/self/ns/net)
expect "run --network host: host network namespace" "$host_net" dk run --rm --network host "$IMG" readlink /proc/self/ns/net
# --network none still gets a sandbox: Docker's prestart hook (libnetwork-setkey) hands the
# container's network namespace to dockerd, which binds it at the SandboxKey path.
capture dk run -d --name sandbox --network none "$IMG" sleep 1000
if [ "$rc" = 0 ]; then
    pid=$(dk inspect --format '{{.State.Pid}}' sandbox)
    key=$(dk inspect --format '{{.NetworkSettings.SandboxKey}}' sandbox)
    ns_ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>&1)
    key_ino=$(stat -L -c %i "$key" 2>&1)
    if [ -n "$key" ] && [ "$ns_ino" = "$key_ino" ] && [ "$(readlink "/proc/$pid/ns/net")" != "$host_net" ]; then
        pass "prestart hook libnetwork-setkey: sandbox key is the container's netns"
    else
        fail "prestart hook libnetwork-setkey: sandbox key is the container's netns" "key '$key' ino $key_ino, container netns ino $ns_ino"
    fi
    expect "run --network none: only lo" "lo" dk exec sandbox ls /sys/class/net
    dk rm -f sandbox >/dev/null 2>&1
else
    fail "prestart hook libnetwork-setkey: sandbox key is the container's netns" "rc $rc: $(short "$out")"
fi
expect_match "run: missing executable is exit 127 with the runtime's message" 'no/such/binary' dk run --rm --network none "$IMG" /no/such/binary
expect_rc "run: missing executable exit code 127" 127 dk run --rm --network none "$IMG" /no/such/binary

# --- flags people use every day ---------------------------------------------------------------------
capeff() { dk run --rm --network none "$@" "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status; }
export -f capeff
capture capeff
default_caps=$out
capture capeff --cap-add NET_ADMIN --cap-drop CHOWN
if [ "$rc" = 0 ] && [ -n "$default_caps" ] && (((0x$out >> 12) & 1)) && ! (((0x$out) & 1)) && (((0x$default_caps) & 1)); then
    pass "run --cap-add NET_ADMIN --cap-drop CHOWN"
else
    fail "run --cap-add NET_ADMIN --cap-drop CHOWN" "default $default_caps, got rc $rc: $out"
fi
full_caps=$(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1))
if [ "$((0x$(awk '/^CapBnd/ { print $2 }' /proc/self/status)))" != "$full_caps" ]; then
    # --privileged asks for every capability; no runtime can grant one the host withholds.
    skip "run --privileged" "this machine's bounding set lacks capabilities ($(awk '/^CapBnd/ { print $2 }' /proc/self/status))"
else
    capture dk run --rm --network none --privileged "$IMG" sh -c 'awk "/^CapEff/ { print \$2 }" /proc/self/status; ls /dev | wc -l'
    caps=$(printf '%s\n' "$out" | head -1)
    ndev=$(printf '%s\n' "$out" | tail -1)
    if [ "$rc" = 0 ] && [ "$((0x$caps))" = "$full_caps" ] && [ "$ndev" -gt 20 ]; then pass "run --privileged: all capabilities, host devices"; else fail "run --privileged: all capabilities, host devices" "rc $rc: $(short "$out")"; fi
fi
expect "run --device /dev/null:/dev/mynull" "ok" dk run --rm --network none --device /dev/null:/dev/mynull "$IMG" sh -c 'echo x >/dev/mynull && echo ok'
expect "run --ulimit nofile=100:200" "100 200" dk run --rm --network none --ulimit nofile=100:200 "$IMG" sh -c 'echo $(ulimit -n) $(ulimit -Hn)'
expect "run --hostname, --add-host" "box 1.2.3.4" dk run --rm --network none --hostname box --add-host h1:1.2.3.4 "$IMG" \
    sh -c 'echo $(hostname) $(awk "\$2 == \"h1\" { print \$1 }" /etc/hosts)'
expect "run --shm-size 8m" "size=8192k" dk run --rm --network none --shm-size 8m "$IMG" sh -c 'awk "\$2 == \"/dev/shm\"" /proc/mounts | grep -o "size=[0-9]*k"'
expect "run --sysctl in the container's netns" "1" dk run --rm --network none --sysctl net.ipv4.ip_forward=1 "$IMG" cat /proc/sys/net/ipv4/ip_forward

# --- resources ------------------------------------------------------------------------------------
cg_value() { # PID CONTROLLER FILE
    local rel
    rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
    cat "/sys/fs/cgroup/$2$rel/$3" 2>/dev/null
}
capture dk run -d --name limits --network none --memory 64m --cpus 0.5 --pids-limit 50 "$IMG" sleep 1000
if [ "$rc" = 0 ]; then
    pid=$(dk inspect --format '{{.State.Pid}}' limits)
    mem=$(cg_value "$pid" memory memory.limit_in_bytes)
    quota=$(cg_value "$pid" cpu cpu.cfs_quota_us)
    [ "$mem" = 67108864 ] && pass "run --memory 64m: cgroup limit" || fail "run --memory 64m: cgroup limit" "memory.limit_in_bytes=$mem"
    [ "$quota" = 50000 ] && pass "run --cpus 0.5: cfs quota" || fail "run --cpus 0.5: cfs quota" "cpu.cfs_quota_us=$quota"
    pids=$(cg_value "$pid" pids pids.max)
    [ "$pids" = 50 ] && pass "run --pids-limit 50" || fail "run --pids-limit 50" "pids.max=$pids"
    expect_match "stats: memory usage and limit" '^[0-9.]+[kKMG]?i?B / 64MiB$' dk stats --no-stream --format '{{.MemUsage}}' limits
    capture dk update --memory 128m --memory-swap 256m --cpus 0.25 limits
    mem=$(cg_value "$pid" memory memory.limit_in_bytes)
    quota=$(cg_value "$pid" cpu cpu.cfs_quota_us)
    if [ "$rc" = 0 ] && [ "$mem" = 134217728 ] && [ "$quota" = 25000 ]; then pass "update: memory and cpu limits changed"; else fail "update: memory and cpu limits changed" "rc $rc, memory.limit_in_bytes=$mem cfs_quota=$quota: $(short "$out")"; fi
    dk rm -f limits >/dev/null 2>&1
else
    fail "run --memory --cpus: detached start" "rc $rc: $(short "$out")"
fi

# --- a detached container: exec, top, pause, kill, rm -f ---------------------------------------------
capture dk run -d --name det --network none "$IMG" sleep 1000
if [ "$rc" = 0 ]; then pass "run -d: detached container"; else fail "run -d: detached container" "rc $rc: $(short "$out")"; fi
expect "exec: stdout" "exec-out" dk exec det echo exec-out
expect_rc "exec: exit code 5" 5 dk exec det sh -c 'exit 5'
expect_rc "exec: missing executable is 126 or 127" 127 bash -c 'dk exec det /no/such/binary; r=$?; [ $r = 126 ] && exit 127; exit $r'
expect "exec -u 1000 -w /tmp -e" "1000 /tmp bar" dk exec -u 1000 -w /tmp -e FOO=bar det sh -c 'echo $(id -u) $(pwd) $FOO'
capture_in "to-exec" dk exec -i det sh -c 'read x; echo "got:$x"'
[ "$rc" = 0 ] && [ "$out" = "got:to-exec" ] && pass "exec -i: stdin" || fail "exec -i: stdin" "rc $rc: $(short "$out")"
expect_match "exec -t: tty" '/dev/pts/[0-9]+$' in_tty "$DOCKER" -H "unix://$D/docker.sock" exec -t det tty
expect_rc "exec -d: detached exec" 0 dk exec -d det sleep 999
expect_match "top: init and exec listed" 'sleep 999' dk top det
status() { dk inspect --format '{{.State.Status}}' "$1" 2>&1; }
expect_rc "pause" 0 dk pause det
[ "$(status det)" = paused ] && pass "pause: status paused" || fail "pause: status paused" "$(status det)"
expect_rc "unpause" 0 dk unpause det
[ "$(status det)" = running ] && pass "unpause: status running" || fail "unpause: status running" "$(status det)"
expect "exec after unpause" "alive" dk exec det echo alive
pid=$(dk inspect --format '{{.State.Pid}}' det)
capture dk rm -f det
if [ "$rc" = 0 ] && ! kill -0 "$pid" 2>/dev/null; then pass "rm -f: running container removed"; else fail "rm -f: running container removed" "rc $rc: $(short "$out")"; fi

capture dk run -d --name term --network none "$IMG" sh -c 'trap "exit 7" TERM; while true; do sleep 0.1; done'
if [ "$rc" = 0 ]; then
    expect_rc "stop: SIGTERM handled by the container" 0 dk stop -t 20 term
    expect "stop: exit code from the TERM trap" "7" dk inspect --format '{{.State.ExitCode}}' term
    dk rm -f term >/dev/null 2>&1
else
    fail "stop: SIGTERM handled by the container" "run -d: $(short "$out")"
fi
if dk run -d --name killme --network none "$IMG" sleep 1000 >/dev/null 2>&1; then
    expect_rc "kill -s KILL" 0 dk kill -s KILL killme
    expect "wait: exit code 137" "137" dk wait killme
    dk rm -f killme >/dev/null 2>&1
else
    fail "kill -s KILL" "run -d failed"
fi
# A second container joining the first one's namespaces (what compose's network_mode/pid do).
if dk run -d --name shared --network none --ipc shareable "$IMG" sleep 1000 >/dev/null 2>&1; then
    a=$(dk exec shared sh -c 'for n in net ipc pid; do readlink /proc/self/ns/$n; done | tr "\n" " "' 2>&1)
    b=$(dk run --rm --network container:shared --ipc container:shared --pid container:shared "$IMG" \
        sh -c 'for n in net ipc pid; do readlink /proc/self/ns/$n; done | tr "\n" " "' 2>/dev/null)
    [ -n "$a" ] && [ "$a" = "$b" ] && pass "run --network/--ipc/--pid container:X: namespaces joined" || fail "run --network/--ipc/--pid container:X: namespaces joined" "first: $a; second: $(short "$b")"
    dk rm -f shared >/dev/null 2>&1
else
    fail "run --network/--ipc/--pid container:X: namespaces joined" "run -d failed"
fi

capture dk ps -aq
[ -z "$out" ] && pass "no containers left" || fail "no containers left" "$(short "$out")"
cleanup
check_leftovers "cleanup: no mounts, processes, cgroups left" "$D" "$CG"
summary
