#!/usr/bin/env bash
# The start path's functions, packed together (runtime-cli/hot-text.ld); see runtime-cli/build.rs.
#
#   scripts/hot-text.sh generate   rebuild hull (release) with a link map, trace which functions
#                                  each command calls (a uprobe on every function, as root), and
#                                  rewrite runtime-cli/hot-text.ld; then rebuild to use it
#   scripts/hot-text.sh check BIN  fail when the text resident in a `BIN run` is not about the
#                                  packed section (the list went stale, or the script was not used)
#
# The list names each function's exact section first, then the same names with the hashes that
# change with a toolchain, a dependency or a profile (`17h<hash>E`, v0's `Cs<hash>_`) as globs, so
# a stale list still packs most of the start path (with other instantiations of the same generics
# beside it). The check tells when to run `generate` again.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "hot-text.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (uprobes, containers)"

WORK=$(mktemp -d /tmp/hull-hot-text.XXXXXX)
CG="hull-hot-text-$$"
TRACING=/sys/kernel/tracing
GROUP="hullhot$$"
cleanup() {
    if [ -n "${HULL_BIN:-}" ]; then
        for id in $(ls "$WORK/root" 2>/dev/null); do "$HULL_BIN" --root "$WORK/root" delete -f "$id" 2>/dev/null || true; done
    fi
    if [ -d "$TRACING/events/$GROUP" ]; then
        echo 0 > "$TRACING/events/$GROUP/enable" || true
        # "-:GROUP/" (no event name) removes the whole group at once.
        echo "-:$GROUP/" >> "$TRACING/uprobe_events" || true
    fi
    for c in /sys/fs/cgroup/*/"$CG"/c /sys/fs/cgroup/*/"$CG"; do rmdir "$c" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A busybox bundle whose process is ARGS (a JSON list), in its own absolute cgroup.
bundle() {
    local dir="$WORK/bundle"
    if [ ! -d "$dir/rootfs" ]; then
        mkdir -p "$dir/rootfs/bin"
        cp /bin/busybox "$dir/rootfs/bin/"
        for a in true sleep sh; do ln -s busybox "$dir/rootfs/bin/$a"; done
    fi
    (cd "$dir" && rm -f config.json && "$HULL_BIN" spec)
    sed -i "s|\"terminal\": true|\"terminal\": false|; s|\"linux\": {|\"linux\": { \"cgroupsPath\": \"/$CG/c\",|" "$dir/config.json"
    awk -v args="$1" '/"args": \[/{print "\t\t\"args\": " args ","; skip=1; next} skip&&/\]/{skip=0; next} !skip' \
        "$dir/config.json" > "$dir/c.json" && mv "$dir/c.json" "$dir/config.json"
    echo "$dir"
}

# The commands containerd's shim, podman and Docker drive, one by one; after each, `snap NAME`.
workload() {
    local r=(--root "$WORK/root") b
    b=$(bundle '["true"]')
    "$HULL_BIN" "${r[@]}" run --bundle "$b" hot-run > /dev/null; snap run
    b=$(bundle '["sleep", "30"]')
    "$HULL_BIN" "${r[@]}" --log "$WORK/log" --log-format json create --bundle "$b" --pid-file "$WORK/pid" hot; snap create
    "$HULL_BIN" "${r[@]}" state hot > /dev/null; snap state
    "$HULL_BIN" "${r[@]}" --log "$WORK/log" --log-format json start hot; snap start
    "$HULL_BIN" "${r[@]}" --log "$WORK/log" --log-format json exec --pid-file "$WORK/epid" hot /bin/true; snap exec
    "$HULL_BIN" "${r[@]}" ps --format json hot > /dev/null; snap ps
    "$HULL_BIN" "${r[@]}" pause hot; snap pause
    "$HULL_BIN" "${r[@]}" resume hot; snap resume
    "$HULL_BIN" "${r[@]}" update --pids-limit 100 hot; snap update
    "$HULL_BIN" "${r[@]}" events --stats hot > /dev/null; snap events
    "$HULL_BIN" "${r[@]}" kill hot KILL; snap kill
    for _ in $(seq 50); do "$HULL_BIN" "${r[@]}" state hot | grep -q '"stopped"' && break; sleep 0.1; done
    "$HULL_BIN" "${r[@]}" --log "$WORK/log" --log-format json delete hot; snap delete
}

# Hit counts so far, one "index count" per probe.
# (uprobe_profile names events without their group: ours carry the group in the name too.)
counts() { awk -v g="$GROUP" '$2 ~ "^" g "_[0-9]+$" {sub(".*_", "", $2); print $2, $3}' "$TRACING/uprobe_profile"; }
snap() { counts > "$WORK/snap.$((NSNAP++))"; echo "$1" >> "$WORK/commands"; }

# From the link map: "address size section file" for every input section of .text.hot and .text.
sections() {
    awk '
        /^\.text(\.hot)? / { on = 1; next }
        /^\.[a-z]/ && on { on = 0 }
        !on { next }
        /^ \.text/ { name = $1; if (NF >= 4) { print $2, $3, name, $4; name = "" } ; next }
        name != "" && /^ +0x/ { print $1, $2, name, $3; name = "" }
    ' "$1" | awk '$2 != "0x0"'
}

# The section as a linker-script pattern: exact, or with the hashes as globs ($2 = glob).
pattern() {
    awk -v glob="$1" '{
        sec = $3; file = $4
        if (glob) {
            gsub(/17h[0-9a-f]+E/, "17h*E", sec); gsub(/Cs[0-9A-Za-z]+_/, "Cs*_", sec)
            gsub(/B[0-9A-Za-z]*_/, "B*_", sec); gsub(/\.llvm\.[0-9]+/, ".llvm.*", sec)
        }
        n = split(file, parts, "/"); base = parts[n]
        if (base ~ /\.rcgu\.o$/) print "    *(" sec ")"
        else if (glob) { if (sec != ".text") print "    *(" sec ")" }
        else { sub(/\(/, ":", base); sub(/\)$/, "", base); print "    *" base "(" sec ")" }
    }'
}

generate() {
    mkdir -p target/hot-text
    local map="$PWD/target/hot-text/hull.map"
    HULL_LINK_MAP="$map" cargo build --release -p runtime-cli
    HULL_BIN="$PWD/target/x86_64-unknown-linux-musl/release/hull"
    # uprobes take file offsets; in this static PIE the text's offsets are its addresses.
    readelf -lW "$HULL_BIN" | awk '$1 == "LOAD" && $NF == "0x1000" && $(NF-1) ~ /E/ && $2 != $3 {exit 1}' ||
        die "the text segment's file offset is not its address"
    cp "$HULL_BIN" "$WORK/hull"
    HULL_BIN="$WORK/hull"
    sections "$map" > "$WORK/sections"
    [ -s "$WORK/sections" ] || die "no .text sections in $map"
    awk -v g="$GROUP" -v bin="$HULL_BIN" '{printf "p:%s/%s_%d %s:%s\n", g, g, NR, bin, $1}' "$WORK/sections" |
        while read -r line; do echo "$line" >> "$TRACING/uprobe_events"; done
    echo 1 > "$TRACING/events/$GROUP/enable"
    NSNAP=0
    snap start-of-trace
    workload
    echo 0 > "$TRACING/events/$GROUP/enable"
    # Per function: the set of commands that called it (a bit per command).
    local n; n=$(wc -l < "$WORK/commands")
    for i in $(seq 1 $((n - 1))); do
        join -1 1 -2 1 <(sort -k1,1 "$WORK/snap.$((i - 1))") <(sort -k1,1 "$WORK/snap.$i") |
            awk -v bit="$i" '$3 > $2 {print $1, 2 ^ bit}'
    done | awk '{m[$1] += $2; c[$1]++} END {for (k in m) print k, c[k], m[k]}' > "$WORK/used"
    [ -s "$WORK/used" ] || die "no probe fired: is $TRACING usable?"
    # Most-shared first, then grouped by the commands that share them, then by address.
    awk 'NR == FNR {sec[FNR] = $0; next} {print $2, $3, sec[$1]}' "$WORK/sections" "$WORK/used" |
        sort -k1,1nr -k2,2nr -k3,3 | cut -d' ' -f3- > "$WORK/hot"
    {
        echo "/* Written by scripts/hot-text.sh from a trace of: $(sed 1d "$WORK/commands" | tr '\n' ' ')*/"
        echo "/* $(wc -l < "$WORK/hot") of $(wc -l < "$WORK/sections") functions; exact names first, then as globs. */"
        echo "SECTIONS"
        echo "{"
        echo "  .text.hot :"
        echo "  {"
        pattern 0 < "$WORK/hot"
        pattern 1 < "$WORK/hot" | awk '!seen[$0]++'
        echo "  }"
        echo "}"
        echo "INSERT BEFORE .text;"
    } > runtime-cli/hot-text.ld
    echo "hot-text.sh: $(wc -l < "$WORK/hot") of $(wc -l < "$WORK/sections") functions called; wrote runtime-cli/hot-text.ld"
    cargo build --release -p runtime-cli
}

# The resident size of the r-x mapping of the `BIN run` process, and the packed section's size.
check() {
    HULL_BIN=$(realpath "$1")
    local hot; hot=$(readelf -SW "$HULL_BIN" | awk '$2 == ".text.hot" {print $6}')
    [ -n "$hot" ] || die "$HULL_BIN has no .text.hot section: not linked with runtime-cli/hot-text.ld"
    hot=$(( 16#$hot / 1024 ))
    local b; b=$(bundle '["sleep", "5"]')
    "$HULL_BIN" --root "$WORK/root" run --bundle "$b" hot-check > /dev/null &
    local run=$! rss="" up=""
    for _ in $(seq 50); do
        "$HULL_BIN" --root "$WORK/root" state hot-check 2>/dev/null | grep -q running && { up=1; break; }
        sleep 0.1
    done
    [ -n "$up" ] || die "the check's container did not start"
    # The binary's r-x mapping (the sealed copy), not the vdso's.
    rss=$(awk '/^[0-9a-f]+-[0-9a-f]+ r-xp/ {x = ($6 !~ /^\[/); next} /^[0-9a-f]+-/ {x = 0} x && /^Rss:/ {s += $2} END {print s + 0}' "/proc/$run/smaps")
    "$HULL_BIN" --root "$WORK/root" kill hot-check KILL 2>/dev/null || true
    wait "$run" || true
    echo "hot-text.sh: \`run\` has ${rss} KiB of text resident; the packed section is ${hot} KiB"
    # One 64 KiB window past the section's end, plus the few rarer functions outside it.
    [ "$rss" -gt 0 ] || die "could not read the run process's mappings"
    [ "$rss" -le $((hot + 256)) ] || die "text resident > packed section + 256 KiB: run scripts/hot-text.sh generate"
}

case "${1:-}" in
    generate) generate ;;
    check) [ $# = 2 ] || die "usage: hot-text.sh check BIN"; check "$2" ;;
    *) die "usage: hot-text.sh generate | check BIN" ;;
esac
