#!/usr/bin/env bash
# Rootless hull: an ordinary user (made here, with /etc/subuid and /etc/subgid ranges, removed at
# the end even on failure) runs the conformance tests that make sense without root against hull
# and runc, a few CLI checks (state root, errors, another user's containers), and rootless podman
# with --runtime hull. Prints PASS/FAIL/EXCLUDED lines and a count; exits non-zero on any failure.
# Usage (as root): tests/rootless/run.sh [HULL]   (default: this checkout's release hull)
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "rootless/run.sh: must run as root (it creates a user)" >&2; exit 2; }
HULL=$(realpath "${1:-target/x86_64-unknown-linux-musl/release/hull}")
[ -x "$HULL" ] || { echo "rootless/run.sh: no hull at $HULL" >&2; exit 2; }
RUNC=/usr/sbin/runc
USR=hull-rootless
SUB=1200000 # 65536 host ids for the user's containers, far from Debian's automatic ranges

if ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null; then
    apt-get install -y -q uidmap >/dev/null || { echo "rootless/run.sh: cannot install uidmap" >&2; exit 2; }
fi
echo "== build the conformance runner and the static probe"
cargo build -q -p conformance --bin conformance || exit 2
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" cargo build -q -p conformance \
    --bin probe --release --target x86_64-unknown-linux-gnu --target-dir target/probe || exit 2

W=$(mktemp -d /tmp/hull-rootless.XXXXXX)
chmod 755 "$W"
cleaned=""
cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    local uid
    if uid=$(id -u "$USR" 2>/dev/null); then
        # Every process of the test user was started by this script.
        for p in $(ps -o pid= -U "$uid" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        sleep 0.3
        userdel "$USR" >/dev/null 2>&1
    fi
    sed -i "/^$USR:/d" /etc/subuid /etc/subgid
    [ -n "${ROOTS_CT:-}" ] && "$HULL" --root "$W/shared" delete -f "$ROOTS_CT" >/dev/null 2>&1
    grep -F " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

userdel "$USR" >/dev/null 2>&1
# A system user gets no automatic subordinate ranges: the test sets exactly one of each.
useradd -r -M -d "$W/home" -s /bin/bash "$USR" || exit 2
sed -i "/^$USR:/d" /etc/subuid /etc/subgid
echo "$USR:$SUB:65536" >>/etc/subuid
echo "$USR:$SUB:65536" >>/etc/subgid
UID_=$(id -u "$USR")
mkdir -p "$W/bin" "$W/home" "$W/xdg" "$W/shared"
install -m 0755 "$HULL" "$W/bin/hull"
install -m 0755 target/x86_64-unknown-linux-musl/debug/conformance "$W/bin/conformance"
install -m 0755 target/probe/x86_64-unknown-linux-gnu/release/probe "$W/bin/probe"
chown "$USR:" "$W/home" "$W/xdg"
chmod 700 "$W/xdg"
chmod 1777 "$W/shared"
echo "rootless/run.sh: user $USR (uid $UID_), ranges $SUB:65536, hull $HULL, $(runc --version | head -1)"

pass=0 failed=0
pass() { echo "PASS $1"; pass=$((pass + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
as_user() {
    runuser -u "$USR" -- env -i HOME="$W/home" USER="$USR" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        XDG_RUNTIME_DIR="$W/xdg" HULL_STRICT="${HULL_STRICT:-}" HULL_CONFORMANCE_ROOTLESS=1 "$@"
}

# --- conformance ---------------------------------------------------------------------------------
# Left out, with why: printed so that a reader of the CI log knows what rootless does not cover.
excluded() { echo "EXCLUDED $1: $2"; }
CGROUP_TESTS=lifecycle::pause_and_resume,exec::exec_into_paused_container_needs_ignore_paused,exec::exec_cgroup_joins_existing_sub_cgroups,exec::exec_joins_the_container_namespaces
for t in ${CGROUP_TESTS//,/ }; do
    excluded "$t" "needs the container's cgroup: this host is cgroup v1 without delegation, so a rootless container gets none (freezer, sub-cgroups, cgroup membership)"
done
NOPROC_TESTS=lifecycle::run_returns_128_plus_signal_without_pid_namespace,lifecycle::kill_all_signals_every_process
for t in ${NOPROC_TESTS//,/ }; do
    excluded "$t" "no pid namespace of the container's: the kernel refuses a fresh /proc to an unprivileged user namespace (runc and hull alike)"
done
HOST_TESTS=mounts::bind_is_not_recursive_but_rbind_is,mounts::default_devices_exist,mounts::configured_device_is_created
excluded mounts::bind_is_not_recursive_but_rbind_is "the test itself mounts on the host"
excluded mounts::default_devices_exist "device nodes are the host's, bound (owner nobody inside), as runc does"
excluded mounts::configured_device_is_created "an unprivileged user cannot make device nodes: only host nodes can be bound"
# runc 1.1.5 refuses any additional gid in a rootless container, even with gid ranges mapped by
# newgidmap (and then cannot read /proc/PID/cmdline of a detached exec): hull sets them.
# exec_process_json_without_user_runs_as_root: runc 1.1.5 fails it rootless here (its process
# does not come out as 0:0 with no groups; cause not analysed yet); hull passes it.
HULL_ONLY=exec_process::exec_process_json_without_user_runs_as_root,process::uid_gid_and_additional_gids,userns::several_ranges_and_the_process_user,exec::exec_with_process_json,exec::exec_detach_writes_pid_file,exec::exec_user_numeric,exec::exec_flags_shape_the_process,exec::exec_user_names_from_container_files
AREAS=lifecycle::,exec::,mounts::,process::,userns::init_is_root_inside_and_mapped_outside
conformance() { # LABEL RUNTIME FILTER EXCLUDE [env...]
    local label=$1 rt=$2 filter=$3 exclude=$4 out
    shift 4
    out=$(as_user "$@" "$W/bin/conformance" --runtime "$rt" --probe "$W/bin/probe" --filter "$filter" \
        --exclude "$exclude" --jobs 2 --timeout 60 2>&1)
    local rc=$? summary
    summary=$(printf '%s\n' "$out" | grep '^# pass' | tail -1)
    if [ $rc = 0 ]; then pass "conformance, $label: $summary"; else
        printf '%s\n' "$out" | grep -A4 '^not ok' | cut -c1-400
        fail "conformance, $label" "$summary"
    fi
}
cd "$W"
ALL_OUT=$CGROUP_TESTS,$NOPROC_TESTS,$HOST_TESTS
conformance "hull, uid/gid ranges via newuidmap" "$W/bin/hull" "$AREAS" "$ALL_OUT,$HULL_ONLY"
conformance "runc, uid/gid ranges via newuidmap" "$RUNC" "$AREAS" "$ALL_OUT,$HULL_ONLY"
conformance "hull, additional gids (runc 1.1.5 refuses them rootless)" "$W/bin/hull" "$HULL_ONLY" "$ALL_OUT"
SINGLE=lifecycle::,process::args,process::env,process::cwd,process::terminal,userns::init_is_root_inside_and_mapped_outside
conformance "hull, one mapping of the caller's ids" "$W/bin/hull" "$SINGLE" "$ALL_OUT" HULL_CONFORMANCE_ROOTLESS_SINGLE=1
conformance "runc, one mapping of the caller's ids" "$RUNC" "$SINGLE" "$ALL_OUT" HULL_CONFORMANCE_ROOTLESS_SINGLE=1
cd - >/dev/null

# --- the CLI as an ordinary user -----------------------------------------------------------------
B=$W/bundle
mkdir -p "$B/rootfs/bin"
cp /bin/busybox "$B/rootfs/bin/" && for a in sh sleep id cat; do ln -s busybox "$B/rootfs/bin/$a"; done
chown -R "$USR:" "$B"
as_user sh -c "cd $B && $W/bin/hull spec --rootless" || fail "hull spec --rootless" "failed"
as_user sh -c "cd $B && sed -i 's/\"terminal\": true/\"terminal\": false/; s/\"sh\"$/\"sh\", \"-c\", \"id -u; cat \/proc\/self\/uid_map\"/' config.json"
out=$(as_user sh -c "cd $B && $W/bin/hull run c1" 2>&1)
if [ "$(printf '%s' "$out" | head -1)" = 0 ] && printf '%s' "$out" | grep -Eq "^ +0 +$UID_ +1$"; then
    pass "hull spec --rootless + run: root inside is the caller outside"
else fail "hull spec --rootless + run" "$out"; fi
mode=$(stat -c %a "$W/xdg/hull" 2>/dev/null)
if [ "$mode" = 1700 ]; then pass "default state root \$XDG_RUNTIME_DIR/hull, mode 1700"; else fail "state root" "mode ${mode:-missing}"; fi
for rt in "$W/bin/hull" "$RUNC"; do
    as_user sh -c "cd $B && mkdir -p l && sed 's/\"linux\": {/\"linux\": {\"resources\": {\"pids\": {\"limit\": 10}},/; s#\"path\": \"rootfs\"#\"path\": \"$B/rootfs\"#' config.json >l/config.json"
    out=$(as_user sh -c "cd $B && $rt --root $W/xdg/l run --bundle l c2" 2>&1)
    if printf '%s' "$out" | grep -q "cannot set pids limit: container could not join or create cgroup"; then
        pass "$(basename "$rt"): a limit without a cgroup fails as runc says"
    else fail "$(basename "$rt"): a limit without a cgroup" "$out"; fi
done
as_user sh -c "cd $B && sed 's/\"hostID\": $UID_,/\"hostID\": 5000,/; s#\"path\": \"rootfs\"#\"path\": \"$B/rootfs\"#' config.json >l/config.json"
out=$(as_user sh -c "cd $B && $W/bin/hull --root $W/xdg/l run --bundle l c3" 2>&1)
if printf '%s' "$out" | grep -q "not delegated to user $USR.*/etc/subuid"; then pass "hull: a range not in /etc/subuid is named"
else fail "hull: a range not in /etc/subuid" "$out"; fi
# A container of root's under a shared --root: not listed, not touched by the user.
sed 's/"sh", "-c", .*$/"sleep", "60"/' "$B/config.json" >"$W/shared.json"
mkdir -p "$W/rb" && cp "$W/shared.json" "$W/rb/config.json" && ln -s "$B/rootfs" "$W/rb/rootfs"
ROOTS_CT=roots
if "$HULL" --root "$W/shared" run -d --bundle "$W/rb" "$ROOTS_CT" >/dev/null 2>&1; then
    listed=$(as_user "$W/bin/hull" --root "$W/shared" list -q 2>&1)
    killed=$(as_user "$W/bin/hull" --root "$W/shared" kill "$ROOTS_CT" KILL 2>&1; echo "rc=$?")
    status=$("$HULL" --root "$W/shared" state "$ROOTS_CT" 2>/dev/null | grep -o '"status": *"[a-z]*"')
    if [ -z "$listed" ] && printf '%s' "$killed" | grep -q "another user" && printf '%s' "$status" | grep -q running; then
        pass "another user's container is neither listed nor touched"
    else fail "another user's container" "list: $listed; kill: $killed; status: $status"; fi
else fail "another user's container" "root's container did not start"; fi

# --- rootless podman with --runtime hull ---------------------------------------------------------
if command -v podman >/dev/null; then
    P=$W/podman
    mkdir -p "$P/bind"
    tests/clients/mkimage.sh "$P/image.tar" hulltest:latest || exit 2
    echo from-host >"$P/bind/in"
    printf '[storage]\ndriver = "vfs"\nrunroot = "%s/run"\ngraphroot = "%s/storage"\n' "$P" "$P" >"$P/storage.conf"
    printf '[engine]\nevents_logger = "file"\nevents_logfile_path = "%s/events.log"\ncgroup_manager = "cgroupfs"\n' "$P" >"$P/containers.conf"
    : >"$P/registries.conf"
    chown -R "$USR:" "$P"
    pm() {
        as_user env CONTAINERS_CONF="$P/containers.conf" CONTAINERS_STORAGE_CONF="$P/storage.conf" \
            CONTAINERS_REGISTRIES_CONF="$P/registries.conf" podman --storage-driver vfs --runtime "$W/bin/hull" \
            --cgroup-manager cgroupfs --events-backend file "$@"
    }
    check() { # NAME WANT command...
        local name=$1 want=$2 out
        shift 2
        out=$("$@" 2>"$W/podman.err")
        if [ "$out" = "$want" ]; then pass "podman rootless: $name"; else
            fail "podman rootless: $name" "$(printf '%s\n' "$out" | tail -3) $(tail -3 "$W/podman.err")"
        fi
    }
    IMG=docker.io/library/hulltest:latest
    pm load -q -i "$P/image.tar" >/dev/null 2>&1 || fail "podman rootless: load" "failed"
    check "run --rm, root inside is the user" "0 $UID_" pm run --rm --network none "$IMG" sh -c \
        'echo $(id -u) $(awk "\$1 == 0 { print \$2 }" /proc/self/uid_map)'
    pm run -d --name d1 --network none "$IMG" sleep 300 >/dev/null 2>&1
    check "run -d + exec" "exec-ok" pm exec d1 echo exec-ok
    check "stop" "d1" pm stop -t 1 d1
    pm rm -f d1 >/dev/null 2>&1
    check "--userns=keep-id" "$UID_ $(id -g "$USR")" pm run --rm --network none --userns=keep-id "$IMG" sh -c 'echo $(id -u) $(id -g)'
    check "bind mount of a user-owned directory" "from-host" pm run --rm --network none -v "$P/bind:/mnt" "$IMG" \
        sh -c 'cat /mnt/in; echo from-ctr >/mnt/out'
    if [ "$(stat -c %u "$P/bind/out" 2>/dev/null)" = "$UID_" ]; then pass "podman rootless: a file written in the bind belongs to the user"
    else fail "podman rootless: bind write" "$(ls -ln "$P/bind" 2>&1)"; fi
    pm rm -af -t 0 >/dev/null 2>&1
else
    fail "podman rootless" "podman is not installed (.ci/run installs it)"
fi

echo "rootless: $pass passed, $failed failed"
[ "$failed" = 0 ]
