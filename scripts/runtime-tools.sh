#!/usr/bin/env bash
# The OCI runtime validation suite (opencontainers/runtime-tools) as a CI lane: builds it offline
# from the archive in ../shared/suites, runs every validation program against hull and against runc
# in the same run (each runtime on its own state root, each program under a timeout), checks for
# leftovers after each program, and fails when an assertion passes with runc but not with hull,
# unless tests/runtime-tools/expected-differences.txt lists it with its reason.
#
# Usage (as root): scripts/runtime-tools.sh [HULL-BINARY]
#   HULL-BINARY           default: target/x86_64-unknown-linux-musl/release/hull
#   HULL_SHARED_DIR       the shared/ folder holding suites/ (default: beside the repository)
#   RTOOLS_GO             the Go toolchain (default: /usr/lib/go-1.23/bin/go, Debian bookworm-backports)
#   RTOOLS_RUNC           runc binary (default: /usr/sbin/runc)
#   RTOOLS_CRUN=1         also run crun (conformance/scripts/crun-hybrid.sh), reported, never compared
#   RTOOLS_ONLY=REGEX     only the programs whose name matches (triage; the lane then says it is partial)
#   RTOOLS_TIMEOUT=SEC    per program and runtime (default 300)
# Output: one line per program, hull's closing line, raw TAP and stderr under target/runtime-tools/.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HULL=$(realpath -e "${1:-$REPO/target/x86_64-unknown-linux-musl/release/hull}") || { echo "runtime-tools: no hull binary" >&2; exit 1; }
RUNC=${RTOOLS_RUNC:-/usr/sbin/runc}
SHARED=${HULL_SHARED_DIR:-$(dirname "$REPO")/shared}
TARBALL=$SHARED/suites/runtime-tools-5e63903.tar.gz
GO=${RTOOLS_GO:-/usr/lib/go-1.23/bin/go}
TIMEOUT=${RTOOLS_TIMEOUT:-300}
WORK=$REPO/target/runtime-tools
BUILD=$WORK/build
EXPECTED=$REPO/tests/runtime-tools/expected-differences.txt
LIB=$REPO/scripts/runtime-tools-lib.sh

[ "$(id -u)" = 0 ] || { echo "runtime-tools: must run as root" >&2; exit 1; }
for f in "$TARBALL" "$GO" "$RUNC"; do
    [ -e "$f" ] || { echo "runtime-tools: missing $f (see shared/suites/README.md; .ci/run installs Go and runc)" >&2; exit 1; }
done
# shellcheck source=scripts/runtime-tools-lib.sh
. "$LIB"

build_suite || exit 1

RUNTIMES="hull runc"
[ "${RTOOLS_CRUN:-0}" = 1 ] && RUNTIMES="$RUNTIMES crun"
rm -rf "$WORK/tap" "$WORK/results"
for rt in $RUNTIMES; do
    case $rt in
        hull) make_wrapper hull "$HULL" ;;
        runc) make_wrapper runc "$RUNC" ;;
        crun) make_wrapper crun "$REPO/conformance/scripts/crun-hybrid.sh" ;;
    esac
    mkdir -p "$WORK/tap/$rt" "$WORK/results/$rt"
done

PROGRAMS=$(cd "$BUILD/bin" && ls | grep -E "${RTOOLS_ONLY:-.}" | sort)
if echo "$PROGRAMS" | grep -q '^linux_cgroups_relative_'; then
    make_own_cgroups || exit 1
    trap remove_own_cgroups EXIT
    trap 'exit 130' INT TERM HUP
fi

printf '%-40s %-22s %-22s%s\n' program "hull ok/not ok/skip" "runc ok/not ok/skip" "$([ "${RTOOLS_CRUN:-0}" = 1 ] && echo '  crun ok/not ok/skip')"
for prog in $PROGRAMS; do
    tries=0
    # Some assertions race with the container's program (see expected-differences.txt): a program
    # where hull misses what runc passes (having run to completion) runs again, both runtimes, up to RTOOLS_RETRIES more times,
    # and an assertion counts as passed by a runtime when it passed in any try.
    while :; do
        tries=$((tries + 1))
        for rt in $RUNTIMES; do
            run_program "$rt" "$prog" "$tries"
            check_leftovers "$rt" "$prog" "$tries" >>"$WORK/results/$rt/$prog.try$tries"
            merge_tries "$WORK/results/$rt/$prog"
        done
        d=$(program_differences "$prog")
        # (A program that did not run to completion with hull is not retried: that is no race.)
        [ -z "$d" ] || [ "$tries" -gt "${RTOOLS_RETRIES:-2}" ] || echo "$d" | grep -q '(lane) program ran' && break
    done
    line=$(printf '%-40s' "$prog")
    for rt in $RUNTIMES; do
        line="$line $(printf '%-22s' "$(counts "$WORK/results/$rt/$prog.res")")"
    done
    [ "$tries" -gt 1 ] && line="$line ($tries tries)"
    echo "$line"
done

compare_and_report
