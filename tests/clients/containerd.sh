#!/usr/bin/env bash
# Drives hull (or any runc-compatible RUNTIME) under the real containerd 1.6 + ctr: a private
# containerd (own config, root, state, socket; no CRI plugin) runs a locally built busybox image
# through containerd-shim-runc-v2 with `ctr run --runc-binary RUNTIME`. Prints PASS/FAIL per check
# and a final count; exits non-zero on any failure. Leaves no daemon, mount, cgroup or state behind.
# Usage: tests/clients/containerd.sh [RUNTIME]   (default: this checkout's release hull)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "containerd.sh: must run as root" >&2; exit 2; }
RT=$(runtime_under_test "${1:-}")
apt_need ctr containerd || exit 2
apt_need script bsdutils || exit 2
echo "containerd.sh: runtime $RT, $(containerd --version)"

D=$(mktemp -d /tmp/clients-containerd.XXXXXX)
# Mapped users (--uidmap) must be able to reach the rootfs below it.
chmod 755 "$D"
NS=clients-ctrd-$$
SOCK=$D/containerd.sock
IMG=docker.io/library/hulltest:latest
daemon=""
cleaned=""

cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    local id
    for id in $(ctr_ c ls -q 2>/dev/null); do
        ctr_ task kill -s SIGKILL "$id" >/dev/null 2>&1
        ctr_ task rm -f "$id" >/dev/null 2>&1
        ctr_ c rm "$id" >/dev/null 2>&1
    done
    [ -n "$daemon" ] && stop_pid "$daemon"
    # Shims outlive containerd by design; theirs mention our socket on their command line.
    for id in $(pids_mentioning "$D"); do stop_pid "$id"; done
    remove_cgroups "$NS"
    unmount_below "$D"
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctr_() { ctr --address "$SOCK" --namespace "$NS" "$@"; }
# ctr run with the runtime under test; its state lives under our directory, not /run/containerd.
run_() { ctr_ run --runc-binary "$RT" --runc-root "$D/runc" "$@"; }
export -f ctr_ run_
export SOCK NS RT D

cat >"$D/config.toml" <<TOML
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$D/containerd.sock.ttrpc"
[debug]
  address = "$D/debug.sock"
[metrics]
  address = ""
TOML
containerd --config "$D/config.toml" >"$D/containerd.log" 2>&1 &
daemon=$!
if ! wait_until 30 ctr --address "$SOCK" version; then
    tail -20 "$D/containerd.log"
    echo "containerd.sh: containerd did not start" >&2
    exit 2
fi
"$here/mkimage.sh" "$D/image.tar" hulltest:latest || exit 2
ctr_ image import "$D/image.tar" >/dev/null || { echo "containerd.sh: image import failed" >&2; exit 2; }

# --- foreground runs: stdio, exit codes, tty -------------------------------------------------
capture_in "hello-in" run_ --rm "$IMG" pipes sh -c 'read x; echo "out:$x"; echo err >&2'
# stdout and stderr are separate streams: their relative order is not kept.
if [ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | sort)" = $'err\nout:hello-in' ]; then pass "run: stdin, stdout, stderr pipes"; else fail "run: stdin, stdout, stderr pipes" "rc $rc: $(short "$out")"; fi
expect_rc "run: exit code 3" 3 run_ --rm "$IMG" exit3 sh -c 'exit 3'
expect_match "run -t: process has a tty" '/dev/pts/[0-9]+$' in_tty ctr --address "$SOCK" --namespace "$NS" \
    run --runc-binary "$RT" --runc-root "$D/runc" --rm -t "$IMG" tty tty
expect "run: env and cwd" "bar /tmp" run_ --rm --env FOO=bar --cwd /tmp "$IMG" envcwd sh -c 'echo $FOO $(pwd)'
expect_match "run: image env PATH" '^PATH=/usr/local/sbin' run_ --rm "$IMG" path sh -c 'env | grep ^PATH='
expect_match "run --read-only: rootfs is read-only" 'Read-only file system' run_ --rm --read-only "$IMG" ro touch /newfile
mkdir -p "$D/bind"
echo from-host >"$D/bind/in"
expect "run --mount bind: read host file, write back" "from-host" run_ --rm \
    --mount "type=bind,src=$D/bind,dst=/mnt,options=rbind:rw" "$IMG" bind sh -c 'cat /mnt/in; echo from-ctr >/mnt/out'
if [ "$(cat "$D/bind/out" 2>/dev/null)" = from-ctr ]; then pass "run --mount bind: write reaches host"; else fail "run --mount bind: write reaches host" "no $D/bind/out"; fi
host_net=$(readlink /proc/self/ns/net)
expect "run --net-host: host network namespace" "$host_net" run_ --rm --net-host "$IMG" net readlink /proc/self/ns/net
capture run_ --rm "$IMG" net2 readlink /proc/self/ns/net
if [ "$rc" = 0 ] && [ -n "$out" ] && [ "$out" != "$host_net" ]; then pass "run: own network namespace"; else fail "run: own network namespace" "rc $rc: $out"; fi
expect "run --uidmap/--gidmap: user namespace maps" "0 100000 65536|0 100000 65536" run_ --rm \
    --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" userns \
    sh -c 'echo "$(cat /proc/self/uid_map | tr -s " " | sed "s/^ //")|$(cat /proc/self/gid_map | tr -s " " | sed "s/^ //")"'
mkdir -p "$D/rootfs"
tar -xf "$D/image.tar" -C "$D" ./manifest.json
layer=$(sed -e 's/.*"Layers":\["\([^"]*\)".*/\1/' "$D/manifest.json")
tar -xf "$D/image.tar" -O "./$layer" | tar -x -C "$D/rootfs"
expect "run --rootfs DIR" "rootfs-ok" run_ --rm --rootfs "$D/rootfs" rootfsdir /bin/sh -c 'echo rootfs-ok'

# --- errors reach ctr through the runtime's --log ---------------------------------------------
capture run_ --rm "$IMG" noexec /no/such/binary
if [ "$rc" != 0 ] && printf '%s' "$out" | grep -q 'OCI runtime create failed' && printf '%s' "$out" | grep -q '/no/such/binary' \
    && ! printf '%s' "$out" | grep -q 'unable to retrieve OCI runtime error'; then
    pass "error: missing executable reported with the runtime's message"
else
    fail "error: missing executable reported with the runtime's message" "rc $rc: $(short "$out")"
fi

# --- resources: read back from the host side of the container's cgroup ---------------------------
cg_file() { cat "/sys/fs/cgroup/$1/$NS/$2/$3" 2>/dev/null || cat "/sys/fs/cgroup/$NS/$2/$3" 2>/dev/null; }
if run_ -d --memory-limit 67108864 --cpus 0.5 "$IMG" limits sleep 1000 >/dev/null 2>&1; then
    mem=$(cg_file memory limits memory.limit_in_bytes)
    quota=$(cg_file cpu limits cpu.cfs_quota_us)
    [ "$mem" = 67108864 ] && pass "run --memory-limit: cgroup limit" || fail "run --memory-limit: cgroup limit" "memory.limit_in_bytes=$mem"
    [ "$quota" = 50000 ] && pass "run --cpus 0.5: cfs quota" || fail "run --cpus 0.5: cfs quota" "cpu.cfs_quota_us=$quota"
    capture ctr_ task metrics limits
    if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q 'memory.limit' && printf '%s' "$out" | grep -q '67108864'; then
        pass "task metrics: memory limit reported"
    else
        fail "task metrics: memory limit reported" "rc $rc: $(short "$out")"
    fi
    ctr_ task kill -s SIGKILL limits >/dev/null 2>&1
    wait_until 10 sh -c "ctr --address '$SOCK' --namespace '$NS' task ls | grep -q 'limits.*STOPPED'"
    ctr_ task rm limits >/dev/null 2>&1
    ctr_ c rm limits >/dev/null 2>&1
else
    fail "run --memory-limit --cpus: detached start" "$(run_ -d --memory-limit 67108864 --cpus 0.5 "$IMG" limits2 true 2>&1 | tail -1)"
fi
skip "task update" "ctr 1.6 has no 'task update' (update is checked through docker.sh)"

# --- a detached task: exec, ps, pause/resume, kill, rm -f ----------------------------------------
capture run_ -d "$IMG" det sleep 1000
if [ "$rc" = 0 ]; then pass "run -d: detached task"; else fail "run -d: detached task" "rc $rc: $(short "$out")"; fi
expect "task exec: stdout" "exec-out" ctr_ task exec --exec-id e1 det echo exec-out
expect_rc "task exec: exit code 5" 5 ctr_ task exec --exec-id e2 det sh -c 'exit 5'
expect "task exec --user 1000 --cwd /tmp" "1000 1000 /tmp" ctr_ task exec --exec-id e3 --user 1000 --cwd /tmp det \
    sh -c 'echo $(id -u) $(id -g) $(pwd)'
expect_match "task exec -t: tty" '/dev/pts/[0-9]+$' in_tty ctr --address "$SOCK" --namespace "$NS" task exec -t --exec-id e4 det tty
expect_match "task exec: missing executable is an error" 'OCI runtime exec failed' ctr_ task exec --exec-id e5 det /no/such/binary
capture ctr_ task exec -d --exec-id e6 det sleep 999
if [ "$rc" = 0 ]; then pass "task exec -d: detached exec"; else fail "task exec -d: detached exec" "rc $rc: $(short "$out")"; fi
init_pid=$(ctr_ task ls | awk '$1 == "det" { print $2 }')
capture ctr_ task ps det
if [ "$rc" = 0 ] && printf '%s' "$out" | grep -qw "$init_pid" && [ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" -ge 2 ]; then
    pass "task ps: init and detached exec listed"
else
    fail "task ps: init and detached exec listed" "rc $rc, init $init_pid: $(short "$out")"
fi
status_of() { ctr_ task ls | awk -v id="$1" '$1 == id { print $3 }'; }
capture ctr_ task pause det
if [ "$rc" = 0 ] && [ "$(status_of det)" = PAUSED ]; then
    pass "task pause: PAUSED"
else
    fail "task pause: PAUSED" "rc $rc, status $(status_of det): $(short "$out")"
fi
capture ctr_ task resume det
if [ "$rc" = 0 ] && [ "$(status_of det)" = RUNNING ]; then pass "task resume: RUNNING"; else fail "task resume: RUNNING" "rc $rc, status $(status_of det): $(short "$out")"; fi
expect "task exec after resume" "alive" ctr_ task exec --exec-id e7 det echo alive
capture ctr_ task rm -f det
if [ "$rc" = 0 ] && ! kill -0 "$init_pid" 2>/dev/null && [ ! -e "$D/runc/$NS/det" ]; then
    pass "task rm -f: running task killed and its state removed"
else
    fail "task rm -f: running task killed and its state removed" "rc $rc, pid alive: $(kill -0 "$init_pid" 2>/dev/null && echo yes || echo no), state: $(ls "$D/runc/$NS" 2>&1): $(short "$out")"
fi
expect_rc "c rm after task rm -f" 0 ctr_ c rm det

# SIGTERM reaches a trapping init; the foreground ctr run returns its exit code.
run_ --rm "$IMG" term sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done' >"$D/term.out" 2>&1 &
runner=$!
if wait_until 20 grep -q ready "$D/term.out"; then
    ctr_ task kill term >/dev/null 2>&1
    wait "$runner"
    rc=$?
    if [ "$rc" = 7 ] && grep -q got-term "$D/term.out"; then pass "task kill: SIGTERM handled by the container"; else fail "task kill: SIGTERM handled by the container" "rc $rc: $(short "$(cat "$D/term.out")")"; fi
else
    fail "task kill: SIGTERM handled by the container" "never ready: $(short "$(cat "$D/term.out")")"
    kill "$runner" 2>/dev/null
fi
# SIGKILL: the foreground ctr run reports 128+9.
run_ --rm "$IMG" sigkill sh -c 'echo ready; while true; do sleep 0.1; done' >"$D/kill.out" 2>&1 &
runner=$!
if wait_until 20 grep -q ready "$D/kill.out"; then
    ctr_ task kill -s SIGKILL sigkill >/dev/null 2>&1
    wait "$runner"
    rc=$?
    if [ "$rc" = 137 ]; then pass "task kill -s SIGKILL: exit status 137"; else fail "task kill -s SIGKILL: exit status 137" "rc $rc: $(short "$(cat "$D/kill.out")")"; fi
else
    fail "task kill -s SIGKILL: exit status 137" "never ready: $(short "$(cat "$D/kill.out")")"
    kill "$runner" 2>/dev/null
fi
# kill --all through containerd: SIGKILL to every process of the task.
if run_ -d "$IMG" killall sleep 1000 >/dev/null 2>&1; then
    ctr_ task exec -d --exec-id k1 killall sleep 999 >/dev/null 2>&1
    capture ctr_ task kill -a -s SIGKILL killall
    if [ "$rc" = 0 ] && wait_until 10 sh -c "ctr --address '$SOCK' --namespace '$NS' task ls | grep -q 'killall.*STOPPED'"; then
        pass "task kill -a: all processes killed"
    else
        fail "task kill -a: all processes killed" "rc $rc, status $(status_of killall): $(short "$out")"
    fi
    ctr_ task rm killall >/dev/null 2>&1
    ctr_ c rm killall >/dev/null 2>&1
else
    fail "task kill -a: all processes killed" "run -d failed"
fi

capture ctr_ c ls -q
if [ -z "$out" ] && [ -z "$(ls -A "$D/runc/$NS" 2>/dev/null)" ]; then pass "no containers or runtime state left"; else fail "no containers or runtime state left" "containers: $(short "$out"); state: $(ls -A "$D/runc/$NS" 2>&1)"; fi

cleanup
check_leftovers "cleanup: no mounts, processes, cgroups left" "$D" "$NS"
summary
