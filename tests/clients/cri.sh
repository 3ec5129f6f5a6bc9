#!/usr/bin/env bash
# Drives hull (or any runc-compatible RUNTIME) through Kubernetes' CRI: a private containerd 1.6
# with its CRI plugin, RUNTIME as `BinaryName` of the default runtime handler, and a small CRI
# client (cri/cri_client.py, over the CRI unix socket) making the kubelet's calls: a host-network
# pod sandbox on a locally built pause image, a container in it created, started, exec'd, updated,
# stopped and removed. Prints PASS/FAIL per check and a final count; exits non-zero on failure.
# Usage: tests/clients/cri.sh [RUNTIME]   (default: this checkout's release hull)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "cri.sh: must run as root" >&2; exit 2; }
RT=$(runtime_under_test "${1:-}")
apt_need ctr containerd || exit 2
apt_need protoc protobuf-compiler || exit 2
/usr/bin/python3 -c 'import grpc' 2>/dev/null || apt_need python3-grpcio-missing python3-grpcio || exit 2
echo "cri.sh: runtime $RT, $(containerd --version)"

D=$(mktemp -d /tmp/clients-cri.XXXXXX)
chmod 755 "$D"
CG=clients-cri-$$
SOCK=$D/containerd.sock
IMG=docker.io/library/hulltest:latest
PAUSE=docker.io/library/hullpause:latest
daemon=""
cleaned=""

protoc -I "$here/cri" --python_out="$D" "$here/cri/cri_subset.proto" || exit 2
cri() { PYTHONPATH=$D /usr/bin/python3 "$here/cri/cri_client.py" "$SOCK" "$@"; }
ctr_() { ctr --address "$SOCK" --namespace k8s.io "$@"; }
export -f cri ctr_
export SOCK D here

cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    local id
    for id in $(ctr_ c ls -q 2>/dev/null); do
        ctr_ task kill -s SIGKILL "$id" >/dev/null 2>&1
        ctr_ task rm -f "$id" >/dev/null 2>&1
    done
    [ -n "$daemon" ] && stop_pid "$daemon"
    for id in $(pids_mentioning "$D"); do stop_pid "$id"; done
    remove_cgroups "$CG"
    unmount_below "$D"
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$D/cni-bin" "$D/cni-conf"
cat >"$D/config.toml" <<TOML
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$D/containerd.sock.ttrpc"
[debug]
  address = "$D/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  # Without CAP_SYS_RESOURCE a negative oom_score_adj (the sandbox's -998) cannot be set.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "under-test"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.under-test]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.under-test.options]
        BinaryName = "$RT"
        Root = "$D/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$D/cni-bin"
    conf_dir = "$D/cni-conf"
TOML
containerd --config "$D/config.toml" >"$D/containerd.log" 2>&1 &
daemon=$!
if ! wait_until 30 cri version; then
    tail -20 "$D/containerd.log"
    echo "cri.sh: containerd's CRI did not answer" >&2
    exit 2
fi
"$here/mkimage.sh" "$D/image.tar" hulltest:latest || exit 2
CMD='["/pause"]' "$here/mkimage.sh" "$D/pause.tar" hullpause:latest || exit 2
ctr_ image import "$D/image.tar" >/dev/null && ctr_ image import "$D/pause.tar" >/dev/null || { echo "cri.sh: image import failed" >&2; exit 2; }

expect_match "Version: containerd answers on the CRI socket" '^containerd ' cri version
capture cri runp pod1 "/$CG/pod1"
pod=$out
if [ "$rc" = 0 ] && [ -n "$pod" ]; then pass "RunPodSandbox: host-network sandbox running"; else fail "RunPodSandbox: host-network sandbox running" "rc $rc: $(short "$out")"; fi
pause_pid=$(ctr_ task ls | awk -v id="$pod" '$1 == id { print $2 }')

mkdir -p "$D/vol"
echo from-host >"$D/vol/in"
capture cri create "$pod" pod1 "/$CG/pod1" app "$IMG" --env FOO=bar --cwd /tmp --mount "$D/vol:/vol" \
    --memory 67108864 -- sleep 1000
ctr=$out
if [ "$rc" = 0 ] && [ -n "$ctr" ]; then pass "CreateContainer"; else fail "CreateContainer" "rc $rc: $(short "$out")"; fi
expect_rc "StartContainer" 0 cri start "$ctr"
expect_match "ContainerStatus: running" '^CONTAINER_RUNNING' cri status "$ctr"
expect "ExecSync: env, cwd, volume" "bar /tmp from-host" cri exec "$ctr" 10 sh -c 'echo $FOO $(pwd) $(cat /vol/in)'
expect_rc "ExecSync: exit code 3" 3 cri exec "$ctr" 10 sh -c 'exit 3'
host_net=$(readlink /proc/self/ns/net)
expect "ExecSync: host network namespace" "$host_net" cri exec "$ctr" 10 readlink /proc/self/ns/net
pause_ipc=$(readlink "/proc/$pause_pid/ns/ipc" 2>&1)
capture cri exec "$ctr" 10 readlink /proc/self/ns/ipc
if [ "$rc" = 0 ] && [ "$out" = "$pause_ipc" ] && [ "$out" != "$(readlink /proc/self/ns/ipc)" ]; then
    pass "pod: container joined the sandbox's ipc namespace by path"
else
    fail "pod: container joined the sandbox's ipc namespace by path" "container $out, sandbox ($pause_pid) $pause_ipc"
fi
cg_value() { # PID CONTROLLER FILE
    local rel
    rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
    cat "/sys/fs/cgroup/$2$rel/$3" 2>/dev/null
}
ctr_pid=$(ctr_ task ls | awk -v id="$ctr" '$1 == id { print $2 }')
mem=$(cg_value "$ctr_pid" memory memory.limit_in_bytes)
[ "$mem" = 67108864 ] && pass "memory limit in the container's cgroup" || fail "memory limit in the container's cgroup" "memory.limit_in_bytes=$mem (pid $ctr_pid)"
capture cri update "$ctr" 134217728 50000
mem=$(cg_value "$ctr_pid" memory memory.limit_in_bytes)
quota=$(cg_value "$ctr_pid" cpu cpu.cfs_quota_us)
if [ "$rc" = 0 ] && [ "$mem" = 134217728 ] && [ "$quota" = 50000 ]; then pass "UpdateContainerResources: memory and cpu"; else fail "UpdateContainerResources: memory and cpu" "rc $rc, memory=$mem quota=$quota: $(short "$out")"; fi
expect_rc "StopContainer (grace 10s)" 0 cri stop "$ctr" 10
expect_match "ContainerStatus: exited by signal" '^CONTAINER_EXITED (137|143) ' cri status "$ctr"
expect_rc "RemoveContainer" 0 cri rm "$ctr"

capture cri create "$pod" pod1 "/$CG/pod1" broken "$IMG" -- /no/such/binary
bad=$out
capture cri start "$bad"
if [ "$rc" != 0 ] && printf '%s' "$out" | grep -q '/no/such/binary'; then pass "StartContainer: missing executable reported with the runtime's message"; else fail "StartContainer: missing executable reported with the runtime's message" "rc $rc: $(short "$out")"; fi
cri rm "$bad" >/dev/null 2>&1

expect_rc "StopPodSandbox" 0 cri stopp "$pod"
expect_rc "RemovePodSandbox" 0 cri rmp "$pod"
capture ctr_ c ls -q
if [ -z "$out" ] && [ -z "$(ls -A "$D/runc/k8s.io" 2>/dev/null)" ]; then pass "no containers or runtime state left"; else fail "no containers or runtime state left" "containers: $(short "$out"); state: $(ls -A "$D/runc/k8s.io" 2>&1)"; fi

cleanup
check_leftovers "cleanup: no mounts, processes, cgroups left" "$D" "$CG"
summary
