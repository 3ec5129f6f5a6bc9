# Shared by the client scripts (sourced, not run): PASS/FAIL bookkeeping, running a check with a
# time limit, and the leftover checks every script ends with.
# shellcheck shell=bash

passed=0
failed=0
skipped=0
check_timeout=${CHECK_TIMEOUT:-60}

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }

# Runs "$@" (a command or an exported function) under the check time limit; sets $out (stdout+stderr, CRs dropped, trailing blanks
# trimmed) and $rc. Never fails the calling script.
capture() {
    out=$(timeout "$check_timeout" bash -c '"$@"' _ "$@" 2>&1 </dev/null)
    rc=$?
    out=$(printf '%s' "$out" | tr -d '\r' | sed -e 's/[[:space:]]*$//')
}

# Like capture, but with the given string as stdin.
capture_in() {
    local input=$1
    shift
    out=$(printf '%s\n' "$input" | timeout "$check_timeout" bash -c '"$@"' _ "$@" 2>&1)
    rc=$?
    out=$(printf '%s' "$out" | tr -d '\r' | sed -e 's/[[:space:]]*$//')
}

short() { printf '%s' "$1" | tr '\n' '|' | cut -c1-700; }

# expect NAME WANT CMD...: passes when CMD exits 0 and prints exactly WANT.
expect() {
    local name=$1 want=$2
    shift 2
    capture "$@"
    if [ "$rc" = 0 ] && [ "$out" = "$want" ]; then pass "$name"; else fail "$name" "want '$want' (rc 0), got rc $rc: $(short "$out")"; fi
}

# expect_rc NAME RC CMD...: passes when CMD exits RC.
expect_rc() {
    local name=$1 want=$2
    shift 2
    capture "$@"
    if [ "$rc" = "$want" ]; then pass "$name"; else fail "$name" "want exit $want, got $rc: $(short "$out")"; fi
}

# expect_match NAME REGEX CMD...: passes when CMD's output matches the extended REGEX, whatever
# its exit status (for error texts).
expect_match() {
    local name=$1 re=$2
    shift 2
    capture "$@"
    if printf '%s' "$out" | grep -Eq -- "$re"; then pass "$name"; else fail "$name" "want /$re/, got rc $rc: $(short "$out")"; fi
}

# in_tty CMD...: runs CMD with a pseudo-terminal as stdin/stdout (clients refuse -t otherwise).
in_tty() {
    local q
    q=$(printf '%q ' "$@")
    script -qec "$q" /dev/null
}
export -f in_tty

# wait_until SECONDS CMD...: polls CMD every 0.1s until it succeeds.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Resolves the runtime under test: an argument, else the release hull of this checkout.
runtime_under_test() {
    local repo
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    local rt=${1:-$repo/target/x86_64-unknown-linux-musl/release/hull}
    rt=$(command -v "$rt" || true)
    [ -n "$rt" ] && [ -x "$rt" ] || { echo "runtime ${1:-hull release build} not found (cargo build --release -p runtime-cli)" >&2; exit 2; }
    readlink -f "$rt"
}

# apt_need CMD PACKAGE...: installs the Debian packages when CMD is missing.
apt_need() {
    local cmd=$1
    shift
    command -v "$cmd" >/dev/null && return 0
    echo "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# stop_pid PID: SIGTERM, then SIGKILL after 10s; waits until it is gone.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_until 10 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
    wait_until 5 bash -c "! kill -0 $pid" || true
}

# Every process whose command line mentions the test directory (shims, monitors, containers'
# helpers), by pid.
pids_mentioning() {
    local dir=$1 p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$$" ] && continue
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$dir" && echo "${p#/proc/}"
    done
}

# Unmounts everything below DIR, deepest first.
unmount_below() {
    local dir=$1 m
    awk -v d="$dir" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null
    done
}

# Removes the cgroup directory NAME (relative to each v1 hierarchy and the unified one) that this
# test's containers made, leaves first; only empty directories go, so nothing else is touched.
remove_cgroups() {
    local rel=$1 d
    for d in /sys/fs/cgroup/*/"$rel" /sys/fs/cgroup/"$rel"; do
        [ -d "$d" ] || continue
        # A container process that outlived its runtime would keep the directory busy.
        find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | xargs -r kill -KILL 2>/dev/null
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
}

# check_leftovers NAME DIR CGROUP: a check that nothing of this test stays: mounts or processes
# mentioning DIR, cgroup directories named CGROUP.
check_leftovers() {
    local name=$1 dir=$2 cg=$3 why=""
    local m p c
    m=$(awk -v d="$dir" 'index($5, d) == 1' /proc/self/mountinfo | wc -l)
    p=$(pids_mentioning "$dir" | wc -l)
    c=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$cg" 2>/dev/null | wc -l)
    [ "$m" = 0 ] || why="$why $m mount(s) under $dir;"
    [ "$p" = 0 ] || why="$why $p process(es) mentioning $dir;"
    [ "$c" = 0 ] || why="$why $c cgroup dir(s) named $cg;"
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

summary() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" = 0 ]
}
