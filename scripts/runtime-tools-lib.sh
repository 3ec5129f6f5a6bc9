# Functions of scripts/runtime-tools.sh (sourced; uses its variables: REPO WORK BUILD TARBALL GO
# TIMEOUT EXPECTED PROGRAMS RUNTIMES).
#
# Results: target/runtime-tools/results/<runtime>/<program>.res, one assertion a line:
#   STATUS<TAB>KEY<TAB>DETAIL   STATUS: ok | notok | skip; KEY: the assertion's text (uuids
#   normalised, " (#N)" on the Nth repeat of a text in one program); DETAIL: for the lane's own
#   assertions, what went wrong. The lane adds two assertions per program: "(lane) program ran to
#   completion" (a TAP plan matching the test lines, exit status 0, no timeout) and "(lane) no
#   leftovers" (no state dir, process, mount or cgroup of the program's containers left).

# Builds runtimetest (static) and every validation program once; reused while the archive is the same.
build_suite() {
    local sum stamp
    sum=$(sha256sum "$TARBALL" | cut -c1-16)
    stamp="$BUILD/.built-$sum"
    if [ -e "$stamp" ]; then
        echo "runtime-tools: suite already built in ${BUILD#"$REPO"/}"
        return 0
    fi
    echo "runtime-tools: building the suite in ${BUILD#"$REPO"/} (offline, $("$GO" version | cut -d' ' -f3))"
    rm -rf "$BUILD"
    mkdir -p "$BUILD" "$WORK"
    tar -xzf "$TARBALL" -C "$BUILD" --strip-components=1 || return 1
    if ! (
        cd "$BUILD" || exit 1
        # No network, no toolchain download, no module proxy: everything comes from vendor/.
        export GOFLAGS="-mod=vendor -trimpath" GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GO111MODULE=on \
            GOCACHE="$WORK/gocache" GOPATH="$WORK/gopath" XDG_CONFIG_HOME="$WORK/goconfig" CGO_ENABLED=0
        nice "$GO" build -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest &&
            mkdir -p bin && nice "$GO" build -o bin/ ./validation/...
    ) >"$WORK/build.log" 2>&1; then
        tail -30 "$WORK/build.log"
        echo "runtime-tools: building the suite failed (log: ${WORK#"$REPO"/}/build.log)" >&2
        return 1
    fi
    touch "$stamp"
}

# target/runtime-tools/run/<rt>/runtime: what the suite runs as RUNTIME (it takes a command, no
# arguments): the runtime on its own state root, recording each call and each created init's pid.
make_wrapper() {
    local rt=$1 bin=$2 d=$WORK/run/$1
    unmount_under "$d/"
    rm -rf "$d"
    mkdir -p "$d/state" "$d/tmp"
    cat >"$d/runtime" <<EOF
#!/bin/sh
echo "\$*" >>"$d/calls.log"
if [ "\$1" = create ]; then
    "$bin" --root "$d/state" "\$@"
    rc=\$?
    for id; do :; done
    "$bin" --root "$d/state" state "\$id" 2>/dev/null | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p' >>"$d/pids.log"
    exit \$rc
fi
exec "$bin" --root "$d/state" "\$@"
EOF
    chmod 755 "$d/runtime"
    echo "$bin" >"$d/binary"
}

# The caller cgroup of the linux_cgroups_relative_* programs: hull-rtools-<pid> at the root of
# every cgroup hierarchy mounted under /sys/fs/cgroup, made here and removed by remove_own_cgroups.
make_own_cgroups() {
    local h d
    # Left by a run of this script that was killed (SIGKILL skips its EXIT trap): empty ones go.
    for d in /sys/fs/cgroup/*/hull-rtools-*; do
        [ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    OWN_CG_NAME=hull-rtools-$$
    OWN_CG_DIRS=""
    for h in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | grep '^/sys/fs/cgroup/'); do
        mkdir "$h/$OWN_CG_NAME" || { echo "runtime-tools: cannot create $h/$OWN_CG_NAME" >&2; return 1; }
        OWN_CG_DIRS="$OWN_CG_DIRS $h/$OWN_CG_NAME"
        # A cpuset cgroup takes no task before it has cpus and mems.
        if [ -e "$h/cpuset.cpus" ]; then
            cat "$h/cpuset.cpus" >"$h/$OWN_CG_NAME/cpuset.cpus" && cat "$h/cpuset.mems" >"$h/$OWN_CG_NAME/cpuset.mems" || return 1
        fi
    done
}

# Removes what make_own_cgroups made, and the cgroups the runtimes made inside it, children first.
remove_own_cgroups() {
    local d
    for d in $OWN_CG_DIRS; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$d" ] && echo "runtime-tools: could not remove $d" >&2
    done
    OWN_CG_DIRS=""
}

# Runs one program against one runtime; writes its TAP, stderr and parsed results.
run_program() {
    local rt=$1 prog=$2 try=$3 d=$WORK/run/$1 rc sfx=""
    [ "$try" -gt 1 ] && sfx=.try$try
    local tap=$WORK/tap/$rt/$prog$sfx.tap err=$WORK/tap/$rt/$prog$sfx.stderr
    : >"$d/calls.log"
    : >"$d/pids.log"
    (
        if [[ $prog == linux_cgroups_relative_* ]]; then
            # This subshell (and so the program and the runtime it calls) leaves the caller's
            # cgroups for ours: the relative cgroupsPath then lands inside a cgroup we made.
            for c in $OWN_CG_DIRS; do
                echo "$BASHPID" >"$c/cgroup.procs" || { echo "cannot join $c" >&2; exit 97; }
            done
        fi
        cd "$BUILD" && TMPDIR="$d/tmp" RUNTIME="$d/runtime" exec timeout -k 10 "$TIMEOUT" "./bin/$prog"
    ) >"$tap" 2>"$err" </dev/null
    rc=$?
    parse_tap "$rc" <"$tap" >"$WORK/results/$rt/$prog.try$try"
}

# PREFIX.try* -> PREFIX.res: per assertion, ok if it passed in any try, else its last status.
merge_tries() {
    awk -F'\t' '{ if (!($2 in st) || st[$2] != "ok") { st[$2] = $1; det[$2] = $3 } if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
        END { for (i = 1; i <= n; i++) printf "%s\t%s\t%s\n", st[order[i]], order[i], det[order[i]] }' "$1".try*  >"$1.res"
}

# TAP on stdin -> result lines (see the top of this file); $1: the program's exit status.
parse_tap() {
    awk -v rc="$1" '
        # (Debian awk is mawk: no {n} intervals in regular expressions.)
        function hex(n,   s) { while (n-- > 0) s = s "[0-9a-f]"; return s }
        BEGIN { uuid = hex(8) "-" hex(4) "-" hex(4) "-" hex(4) "-" hex(12) }
        /^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; hasplan = 1; next }
        /^(not )?ok( |$)/ {
            n++
            st = ($0 ~ /^not ok/) ? "notok" : "ok"
            text = $0
            sub(/^(not )?ok *[0-9]* *(- *)?/, "", text)
            if (text ~ /# *[Ss][Kk][Ii][Pp]/) st = "skip"
            gsub(uuid, "<uuid>", text)
            gsub(/\t/, " ", text)
            if (++seen[text] > 1) text = text " (#" seen[text] ")"
            print st "\t" text "\t"
        }
        END {
            why = ""
            if (rc == 124 || rc == 137) why = "timed out"
            else if (rc != 0) why = "exit status " rc
            if (!hasplan) why = why (why ? ", " : "") "no TAP plan"
            else if (plan != n) why = why (why ? ", " : "") "plan 1.." plan " but " n " test lines"
            print (why ? "notok" : "ok") "\t(lane) program ran to completion\t" why
        }'
}

# Unmounts (lazily, deepest first) every mount whose mount point is under $1; prints what it found.
unmount_under() {
    local m
    for m in $(awk -v p="$1" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        echo "$m"
        umount -l "$m" 2>/dev/null
    done
}

# What the last program left behind for runtime $1: one line per thing found.
find_leftovers() {
    local rt=$1 prog=$2 d=$WORK/run/$1 e ids pid
    for e in "$d"/state/*; do [ -e "$e" ] && echo "state dir ${e##*/}"; done
    awk -v p="$d/" 'index($5, p) == 1 { print "mount " $5 }' /proc/self/mountinfo
    while read -r pid; do
        [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
            echo "process $pid (container init)"
    done <"$d/pids.log"
    for pid in $(pids_mentioning "$d/"); do
        echo "process $pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-80))"
    done
    ids=$(container_ids "$rt" | sed 's/^/-o -name /' | tr '\n' ' ')
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086 # the -o -name ID list is meant to split
        find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d \( -false $ids \) 2>/dev/null | sed 's/^/cgroup /'
    fi
    if [[ $prog == linux_cgroups_relative_* ]]; then
        for e in $OWN_CG_DIRS; do [ -d "$e/testdir/cgrouptest/container" ] && echo "cgroup $e/testdir/cgrouptest/container"; done
    elif [[ $prog == linux_cgroups_* ]]; then
        for e in /sys/fs/cgroup/*/cgrouptest; do [ -d "$e" ] && echo "cgroup $e"; done
    fi
}

# Processes whose command line mentions $1 (the grep itself and this script's helpers excepted).
pids_mentioning() {
    local f
    for f in $(grep -alsF -- "$1" /proc/[0-9]*/cmdline); do
        f=${f#/proc/}
        f=${f%/cmdline}
        case $(tr '\0' ' ' 2>/dev/null <"/proc/$f/cmdline") in grep* | awk* | "") ;; *) echo "$f" ;; esac
    done
}

container_ids() {
    { awk '$1 == "create" { print $NF }' "$WORK/run/$1/calls.log"; ls "$WORK/run/$1/state"; } 2>/dev/null | sort -u
}

# Checks (giving teardown 3 s to settle), reports as the "(lane) no leftovers" result line, cleans up.
check_leftovers() {
    local rt=$1 prog=$2 try=$3 d=$WORK/run/$1 found="" i id pid e sfx=""
    [ "$try" -gt 1 ] && sfx=.try$try
    for i in $(seq 30); do
        found=$(find_leftovers "$rt" "$prog")
        [ -z "$found" ] && break
        sleep 0.1
    done
    if [ -z "$found" ]; then
        printf 'ok\t(lane) no leftovers\t\n'
    else
        printf 'notok\t(lane) no leftovers\t%s\n' "$(echo "$found" | paste -sd';' | cut -c1-400)"
        echo "$found" >"$WORK/tap/$rt/$prog$sfx.leftovers"
        for id in $(ls "$d/state" 2>/dev/null); do "$d/runtime" delete --force "$id" >/dev/null 2>&1; done
        for pid in $(cat "$d/pids.log"); do kill -9 "$pid" 2>/dev/null; done
        for pid in $(pids_mentioning "$d/"); do kill -9 "$pid" 2>/dev/null; done
        sleep 0.2
        rm -rf "${d:?}"/state/*
        unmount_under "$d/" >/dev/null
        echo "$found" | sed -n 's/^cgroup //p' | sort -r | while read -r e; do
            find "$e" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    fi
    # Bundles are only deleted once nothing is mounted in them (a bind would take host files along).
    if [ -z "$(awk -v p="$d/" 'index($5, p) == 1' /proc/self/mountinfo)" ]; then
        rm -rf "${d:?}"/tmp/*
    fi
}

# "ok/not ok/skip" of one results file.
counts() {
    awk -F'\t' '{ c[$1]++ } END { printf "%d/%d/%d", c["ok"], c["notok"], c["skip"] }' "$1"
}

# Assertions of program $1 that pass with runc and do not with hull (failed, skipped or missing),
# as "PROGRAM | KEY<TAB>what hull did".
program_differences() {
    awk -F'\t' -v prog="$1" '
        FNR == NR { if ($1 == "ok") runc[$2] = 1; next }
        { hull[$2] = $1; detail[$2] = $3 }
        END {
            for (k in runc) {
                if (!(k in hull)) printf "%s | %s\tmissing\n", prog, k
                else if (hull[k] != "ok") printf "%s | %s\t%s%s\n", prog, k, hull[k], detail[k] != "" ? ": " detail[k] : ""
            }
        }
    ' "$WORK/results/runc/$1.res" "$WORK/results/hull/$1.res" | sort
}

# Totals, the hull-vs-runc comparison against the expected differences, and the exit status.
compare_and_report() {
    local rt status=0 diffs unexpected stale
    for rt in $RUNTIMES; do
        cat "$WORK/results/$rt"/*.res | awk -F'\t' -v rt="$rt" '{ c[$1]++ }
            END { printf "%s: %d passed, %d failed, %d skipped\n", rt, c["ok"], c["notok"], c["skip"] }'
    done >"$WORK/totals.txt"
    # Assertions that pass with runc and do not with hull (failed, skipped or missing), as PROGRAM | KEY.
    diffs=$(for prog in $PROGRAMS; do program_differences "$prog"; done)
    grep -v '^#' "$EXPECTED" 2>/dev/null | awk -F' [|] ' 'NF >= 3 { print $1 " | " $2 }' | sort -u >"$WORK/expected.keys"
    # (FILENAME, not FNR == NR: the first file may be empty.)
    unexpected=$(echo "$diffs" | grep -v '^$' |
        awk -F'\t' -v keys="$WORK/expected.keys" 'FILENAME == keys { e[$0] = 1; next } !($1 in e)' "$WORK/expected.keys" -)
    stale=$(echo "$diffs" | cut -f1 |
        awk -v keys="$WORK/expected.keys" 'FILENAME == keys { if (!($0 in d)) print; next } { d[$0] = 1 }' - "$WORK/expected.keys")
    echo "$diffs" | grep -v '^$' >"$WORK/differences.txt"
    echo
    if [ -n "$stale" ]; then
        echo "runtime-tools: listed in ${EXPECTED#"$REPO"/} but not different in this run (a race lost, or fixed: remove fixed ones):"
        echo "$stale" | sed 's/^/  /'
    fi
    if [ -n "$unexpected" ]; then
        echo "runtime-tools: passes with runc, not with hull, and not an expected difference:"
        # A program that did not run to completion misses hundreds: show ten per program.
        echo "$unexpected" | awk -F' [|] ' '++n[$1] <= 10 { print "  FAIL " $0 } n[$1] == 11 { print "  FAIL " $1 " | ..." }'
        echo "  (all of them: ${WORK#"$REPO"/}/differences.txt)"
        status=1
    fi
    for rt in $RUNTIMES; do
        [ "$rt" = hull ] && continue
        grep "^$rt:" "$WORK/totals.txt"
    done
    [ -n "${RTOOLS_ONLY:-}" ] && echo "runtime-tools: partial run (RTOOLS_ONLY=$RTOOLS_ONLY)"
    echo "raw TAP and stderr: ${WORK#"$REPO"/}/tap/<runtime>/<program>.{tap,stderr}"
    grep '^hull:' "$WORK/totals.txt" | sed 's/^hull: //'
    return $status
}
