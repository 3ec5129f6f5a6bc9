#!/bin/sh
# Rootless --systemd-cgroup in the systemd VM (run as root by lane.sh): an ordinary user with
# /etc/subuid and /etc/subgid ranges and lingering (so user@UID.service and its bus run) runs,
# through runtime $1 (hull or runc) with --systemd-cgroup, a container with memory, pids and cpu
# limits. Checked: the scope in the user's manager (systemctl --user show), the values in its
# cgroup files, ps, pause/resume, update, kill, delete, and nothing left; then the same runtime
# without --systemd-cgroup on a subtree delegated to the user. With hull also the
# errors a user can act on (no user bus, XDG_RUNTIME_DIR unset, a controller the user's manager
# was not delegated), and the conformance suite's cgroup tests in rootless mode ($2: RUNTIME).
#
#   rootless.sh RUNTIME [CONFORMANCE_RUNTIME]
set -eu
rt=$1
conf_rt=${2:-}
usr=hull-sd-user
sub=300000
check() { # what got want
    if [ "$2" = "$3" ]; then echo "ok: $1 = $2"; else echo "WRONG: $1 = '$2', want '$3'"; exit 1; fi
}

# The user, its ranges and its systemd instance (made once; the runc run reuses them).
if ! id -u "$usr" >/dev/null 2>&1; then
    useradd -m -s /bin/sh "$usr"
    sed -i "/^$usr:/d" /etc/subuid /etc/subgid
    echo "$usr:$sub:65536" >>/etc/subuid
    echo "$usr:$sub:65536" >>/etc/subgid
    loginctl enable-linger "$usr"
fi
uid=$(id -u "$usr")
run=/run/user/$uid
i=0
until [ -S "$run/bus" ] && systemctl is-active -q "user@$uid.service"; do
    i=$((i + 1))
    [ $i -lt 120 ] || { echo "WRONG: no user bus at $run/bus after 120s"; systemctl status "user@$uid.service" | tail -5; exit 1; }
    sleep 1
done
mgr=/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service
echo "info: user $usr (uid $uid), ranges $sub:65536, user@$uid.service controllers: $(cat "$mgr/cgroup.controllers")"
home=$(getent passwd "$usr" | cut -d: -f6)
as_user() { # command...: as the user, with the environment of its systemd instance
    runuser -u "$usr" -- env -i HOME="$home" USER="$usr" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        XDG_RUNTIME_DIR="$run" "$@"
}
show() { as_user systemctl --user show -p "$1" --value "$unit"; }
# A failed check leaves no container behind for the next runtime's run.
plain=$(sed -n 's/^exec \([^ ]*\) --systemd-cgroup .*/\1/p' "$rt")
trap 'for c in c1 c2 c3; do as_user "$rt" delete -f $c >/dev/null 2>&1; done; as_user "$plain" delete -f c4 >/dev/null 2>&1' EXIT
refused() { echo "WRONG: $1: $2"; cat /tmp/e.log; exit 1; }
expect() { # what text: the failed command's message (in /tmp/e.log) says text
    grep -qF "$2" /tmp/e.log || refused "$1" "the error does not say '$2'"
    echo "ok: $1 refused: $(tail -n1 /tmp/e.log)"
}

b=$home/bundle
rm -rf "$b"
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc"
cp /bin/busybox "$b/rootfs/bin/busybox"
for t in sh sleep cat; do ln -s busybox "$b/rootfs/bin/$t"; done
config() { # resources-json
    cat <<JSON
{"ociVersion":"1.0.2","process":{"args":["sleep","300"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0}},
 "root":{"path":"rootfs"},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{"cgroupsPath":":sd-user:c1","resources":$1,
  "uidMappings":[{"containerID":0,"hostID":$uid,"size":1},{"containerID":1,"hostID":$sub,"size":65535}],
  "gidMappings":[{"containerID":0,"hostID":$uid,"size":1},{"containerID":1,"hostID":$sub,"size":65535}],
  "namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"}]}}
JSON
}
config '{"memory":{"limit":67108864},"pids":{"limit":20},"cpu":{"shares":1024,"quota":50000,"period":100000}}' \
    >"$b/config.json"
chown -R "$usr:" "$b"

# An empty slice is user.slice of the user's manager, as runc.
unit=sd-user-c1.scope
dir=$mgr/user.slice/$unit
as_user "$rt" create --bundle "$b" c1 </dev/null >/dev/null 2>/tmp/create.log || { cat /tmp/create.log; exit 1; }
pid=$(as_user "$rt" state c1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
check "cgroup of the init" "$(cat /proc/"$pid"/cgroup)" "0::/user.slice/user-$uid.slice/user@$uid.service/user.slice/$unit"
check "owner of the init" "$(stat -c %u /proc/"$pid")" "$uid"
check "ActiveState (systemctl --user)" "$(show ActiveState)" active
check "the system manager does not have it" "$(systemctl show -p LoadState --value "$unit")" not-found
check Delegate "$(show Delegate)" yes
check Slice "$(show Slice)" user.slice
check ControlGroup "$(show ControlGroup)" "/user.slice/user-$uid.slice/user@$uid.service/user.slice/$unit"
check MemoryMax "$(show MemoryMax)" 67108864
check TasksMax "$(show TasksMax)" 20
check CPUQuotaPerSecUSec "$(show CPUQuotaPerSecUSec)" 500ms
check memory.max "$(cat "$dir/memory.max")" 67108864
check pids.max "$(cat "$dir/pids.max")" 20
check cpu.max "$(cat "$dir/cpu.max")" "50000 100000"
check "owner of the scope's cgroup.procs" "$(stat -c %u "$dir/cgroup.procs")" "$uid"
as_user "$rt" start c1
check "ps lists the init" "$(as_user "$rt" ps c1 | grep -c 'sleep 300')" 1
# cgroup.freeze is in every non-root cgroup v2: pause works without a freezer controller.
as_user "$rt" pause c1
check "cgroup.freeze after pause" "$(cat "$dir/cgroup.freeze")" 1
check "status after pause" "$(as_user "$rt" state c1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" paused
as_user "$rt" resume c1
check "cgroup.freeze after resume" "$(cat "$dir/cgroup.freeze")" 0
as_user "$rt" update --memory 134217728 --pids-limit 30 c1
check "MemoryMax after update" "$(show MemoryMax)" 134217728
check "memory.max after update" "$(cat "$dir/memory.max")" 134217728
check "pids.max after update" "$(cat "$dir/pids.max")" 30
as_user "$rt" kill c1 KILL
i=0
while [ "$(as_user "$rt" state c1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" != stopped ] && [ $i -lt 50 ]; do
    sleep 0.2
    i=$((i + 1))
done
as_user "$rt" delete c1
check "unit after delete" "$(show LoadState)" not-found
[ ! -e "$dir" ] && echo "ok: $dir is gone"
check "containers left" "$(as_user "$rt" list -q | wc -l)" 0

case $rt in
*hull*)
    # Errors a user can act on.
    as_user env -u XDG_RUNTIME_DIR "$rt" --root "$home/state" create --bundle "$b" c2 </dev/null >/tmp/e.log 2>&1 &&
        refused "XDG_RUNTIME_DIR unset" "created anyway"
    expect "XDG_RUNTIME_DIR unset" "XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are unset"
    mkdir -p "$home/nobus" && chown "$usr:" "$home/nobus"
    runuser -u "$usr" -- env -i HOME="$home" PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$home/nobus" \
        "$rt" create --bundle "$b" c2 </dev/null >/tmp/e.log 2>&1 && refused "no user bus" "created anyway"
    expect "no user bus" "no user bus at $home/nobus/bus"
    # io is not delegated to user@.service here (Delegate=pids memory cpu): refused, saying so.
    if ! grep -qw io "$mgr/cgroup.controllers"; then
        config '{"blockIO":{"weight":500}}' >"$b/config.json"
        as_user "$rt" create --bundle "$b" c3 </dev/null >/tmp/e.log 2>&1 && refused "undelegated io" "created anyway"
        expect "undelegated io" "io controller is not delegated"
        # The unit was made around the init, then stopped: nothing of it is left.
        check "unit after the refused create" "$(show LoadState)" not-found
        [ ! -e "$dir" ] && echo "ok: $dir is gone after the refused create"
        check "containers left after the refused create" "$(as_user "$rt" list -q | wc -l)" 0
    fi
    ;;
esac
# Without --systemd-cgroup (the files driver) on a subtree delegated to the user: the runtime
# runs in a delegated scope of the user's manager, and a relative cgroupsPath goes beside that
# scope (below its parent, as runc places it on cgroup v2), in a directory the user owns.
config '{"memory":{"limit":33554432},"pids":{"limit":10}}' | sed 's/":sd-user:c1"/"fs-c4"/' >"$b/config.json"
chown "$usr:" "$b/config.json"
as_user systemd-run --user --scope -q -p Delegate=yes --slice app.slice --unit sd-user-deleg.scope \
    "$plain" create --bundle "$b" c4 </dev/null >/tmp/e.log 2>&1 || refused "cgroupfs on a delegated subtree" "create failed"
pid=$(as_user "$plain" state c4 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
fsdir=$mgr/app.slice/fs-c4
check "cgroup of the init (files driver)" "$(cat /proc/"$pid"/cgroup)" "0::/user.slice/user-$uid.slice/user@$uid.service/app.slice/fs-c4"
check "owner of $fsdir" "$(stat -c %u "$fsdir")" "$uid"
check "memory.max (files driver)" "$(cat "$fsdir/memory.max")" 33554432
check "pids.max (files driver)" "$(cat "$fsdir/pids.max")" 10
as_user "$plain" pause c4
check "cgroup.freeze after pause (files driver)" "$(cat "$fsdir/cgroup.freeze")" 1
as_user "$plain" resume c4
as_user "$plain" delete -f c4
[ ! -e "$fsdir" ] && echo "ok: $fsdir is gone"
check "containers left (files driver)" "$(as_user "$plain" list -q | wc -l)" 0
left=$(as_user systemctl --user list-units --all --no-legend 'sd-user-*' 'hull-*' 'runc-*' | wc -l)
check "units left in the user's manager" "$left" 0
rm -rf "$b" "$home/nobus" "$home/state"

# The conformance suite's cgroup tests, rootless: scopes in the user's user.slice. Left out:
# v1's devices.list test, the two that pre-make the cgroup by hand (as in the root lane).
if [ -n "$conf_rt" ]; then
    cd "$home"
    as_user env RUNTIME="$conf_rt" PROBE=/lane/probe CONFORMANCE_STRICT=1 CONFORMANCE_SYSTEMD_CGROUP=1 \
        HULL_CONFORMANCE_ROOTLESS=1 /lane/conformance-cgroups --test-threads=1 \
        --skip device_rule_access_strings_as_runc_takes_them --skip joining_a_frozen_cgroup_is_refused \
        --skip joining_a_non_empty_cgroup_warns
    left=$(as_user systemctl --user list-units --all --no-legend 'hull-conformance-*' | wc -l)
    check "conformance units left in the user's manager" "$left" 0
fi
