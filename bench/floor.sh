#!/bin/sh
# floor.sh BUILDDIR [--runs N] [--files N] — what any FUSE server costs here, against
# bindlink's merged view (see bench/README.md, "The FUSE floor").
#
# Needs root. Runs in a private mount and PID namespace of its own, on a tmpfs
# mounted on a fresh directory, with a bindlinkd of its own (bench/lib.sh). Runs
# BUILDDIR/bench/fuse_floor (a FUSE server that does no work: every answer made up in
# memory) and BUILDDIR/bench/bench_merged (make bench-floor builds both), makes N
# files (default 5,000) of 4 KiB in B, and times, round after round, two workloads:
# stat of every file the first time after a fresh mount, and 100,000 open+close of
# one file. Columns: B itself (native); fuse_floor with libfuse's loop (it sleeps in
# read(2) between requests); fuse_floor spinning (it reads without blocking for 30 us
# after each reply, as bindlink-overlay does); and a merged link V -> B (V empty) made
# with bindlinkctl. Prints medians, per operation and as a ratio to native. On every
# exit it removes the link, stops every process it started and unmounts everything.
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
        echo "usage: $0 BUILDDIR [--runs N] [--files N]" >&2
        exit 2
}

builddir=
runs=5
files=5000
while [ $# -gt 0 ]; do
        case $1 in
        --runs)
                [ $# -ge 2 ] || usage
                runs=$2
                shift 2
                ;;
        --files)
                [ $# -ge 2 ] || usage
                files=$2
                shift 2
                ;;
        -*) usage ;;
        *)
                [ -z "$builddir" ] || usage
                builddir=$1
                shift
                ;;
        esac
done
[ -n "$builddir" ] || usage
case $runs in '' | *[!0-9]*) usage ;; esac
case $files in '' | *[!0-9]*) usage ;; esac
[ "$runs" -ge 1 ] && [ "$runs" -le 100 ] || usage
[ "$files" -ge 1 ] && [ "$files" -le 1000000 ] || usage

bench_builddir "$builddir"
if bench_outside; then
        bench_need bindlinkd bindlinkctl bindlink-overlay bench/fuse_floor bench/bench_merged
fi
bench_enter "$builddir" --runs "$runs" --files "$files"

# ---- inside: PID 1 of a new PID namespace, in a private mount namespace ------------
B="$dir/B"
V="$dir/V"
M="$dir/mnt"
server_pid=
link_made=
opens=100000

stop_server() {
        [ -n "$server_pid" ] || return 0
        umount "$M" 2>/dev/null
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
}

# shellcheck disable=SC2317 # run by the EXIT trap
bench_teardown() {
        stop_server
        if [ -n "$link_made" ]; then
                bench_remove_link "$V" >/dev/null
        fi
}

mkdir "$B" "$V" "$M" || exit 1

bench_make_files "$B" f 0 "$files"
awk -v n="$files" 'BEGIN { for (i = 0; i < n; i++) print "f" i }' >"$dir/names"

bench_start_daemon

# start_floor [--spin]: mount fuse_floor on M (nothing looked up yet, so that the
# first stat is a first).
start_floor() {
        "$builddir/bench/fuse_floor" "$@" "$M" "$files" 2>>"$dir/floor.log" &
        server_pid=$!
        if ! bench_wait "$server_pid" 5 bench_mounted_at "$M"; then
                echo "floor.sh: fuse_floor did not mount:" >&2
                cat "$dir/floor.log" >&2
                exit 1
        fi
}

# measure COLUMN TARGET: one round of both workloads; appends "COLUMN WORKLOAD us/op".
measure() {
        if ! "$builddir/bench/bench_merged" --names "$dir/names" --hot f0 --opens "$opens" "$2" \
                statfirst openclose >"$dir/out" 2>"$dir/err"; then
                echo "floor.sh: bench_merged on $1 failed: $(cat "$dir/err")" >&2
                exit 1
        fi
        if grep -q error "$dir/out"; then
                echo "floor.sh: bench_merged on $1: $(cat "$dir/out")" >&2
                exit 1
        fi
        awk -v c="$1" '{ printf "%s %s %.3f\n", c, $1, $2 / $3 }' "$dir/out" >>"$dir/results"
}

: >"$dir/results"
round=1
while [ "$round" -le "$runs" ]; do
        measure native "$B"
        start_floor
        measure floor "$M"
        stop_server
        start_floor --spin
        measure floorspin "$M"
        stop_server
        if ! out=$(ctl create --merged "$V" "$B" 2>&1); then
                echo "floor.sh: bindlinkctl create --merged failed: $out" >&2
                exit 1
        fi
        link_made=1
        measure merged "$V"
        ctl remove "$V" >/dev/null || exit 1
        link_made=
        round=$((round + 1))
done

# median COLUMN WORKLOAD
median() {
        awk -v c="$1" -v w="$2" '$1 == c && $2 == w { print $3 }' "$dir/results" | sort -n |
                awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
                        else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "The FUSE floor: $files files of 4 KiB on tmpfs, $opens open+close of one file," \
        "median of $runs rounds ($(nproc) CPUs, $(uname -r))"
echo
printf '| %-34s | %12s | %22s | %22s | %22s |\n' workload "native (B)" \
        "fuse_floor, libfuse loop" "fuse_floor, spinning" "merged view V -> B"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "--------------" \
        "------------------------" "------------------------" "------------------------"
for w in statfirst openclose; do
        case $w in
        statfirst) label="stat every file, first time" ;;
        openclose) label="open+close, hot ($opens)" ;;
        esac
        n=$(median native "$w")
        line=$(printf '| %-34s | %9s us |' "$label" "$n")
        for c in floor floorspin merged; do
                m=$(median "$c" "$w")
                line="$line$(awk -v m="$m" -v n="$n" 'BEGIN { printf " %8s us %9.2fx |", m, m / n }')"
        done
        echo "$line"
done
