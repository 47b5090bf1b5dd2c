#!/bin/sh
# overlay.sh BUILDDIR — what an anchorless link's FUSE overlay costs (see README.md).
#
# Needs root. Like run.sh it runs in a private mount and PID namespace of its own, on a
# tmpfs mounted on a fresh directory, with a bindlinkd of its own (and
# BINDLINK_OVERLAY_PROGRAM=BUILDDIR/bindlink-overlay): bench/lib.sh. It runs
# BUILDDIR/bench/bench_overlay (make bench-overlay builds it), makes a directory P
# (5,000 files of 4 KiB and P/sub with 1,000 more) and a directory B (1,000 files of
# 4 KiB), times five workloads on P with no link, makes the anchorless link P/link -> B
# (bindlinkd mounts an overlay on P and grafts the link on it), times them again on P
# and on P/link and B, and prints one table. On every exit it removes the link, stops
# the daemon, unmounts everything, checks that no mount and no process of the run is
# left, and removes the directory.
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 1 ]; then
        echo "usage: $0 BUILDDIR" >&2
        exit 2
fi
bench_builddir "$1"
if bench_outside; then
        bench_need bindlinkd bindlinkctl bindlink-overlay bench/bench_overlay
fi
bench_enter "$builddir"

# ---- inside: PID 1 of a new PID namespace, in a private mount namespace ------------
P=$dir/P
B=$dir/B
bench_timeout=60 # seconds for one bench_overlay call (the longest takes about 40 s)
link_made=

# shellcheck disable=SC2317 # run by the EXIT trap
bench_teardown() {
        if [ -n "$link_made" ]; then
                bench_remove_link "$P/link"
        fi
}

mkdir "$P" "$P/sub" "$B" || exit 1

bench_make_files "$P" f 0 5000
bench_make_files "$P/sub" f 0 1000
bench_make_files "$B" f 0 1000
bench_start_daemon

bench_machine
echo "bindlink overlay benchmark: kernel $(uname -r), $(nproc) CPU(s), ${cpu:-unknown CPU}," \
        "$(date '+%Y-%m-%d %H:%M:%S %z'), load average $l1 $l5 $l15"
echo "(tmpfs; each cell: median of 5 runs after 1 warm-up, microseconds for the whole"
echo " workload, and in parentheses per file or entry; ratios are of the per-file times)"
echo

# bench LABEL DIR EXPECTED-ENTRIES WORKLOAD... -> $dir/res.LABEL
# Under timeout(1), so that a hang in the overlay shows as a failure, not a stuck run.
bench() {
        label=$1 target=$2 expect=$3
        shift 3
        bench_run timeout "$bench_timeout" "$builddir/bench/bench_overlay" --expect "$expect" \
                "$target" "$@" >>"$dir/res.$label"
        r=$?
        if [ "$r" -eq 124 ]; then
                echo "overlay.sh: bench_overlay on $target did not finish in $bench_timeout s" \
                        "(a hang?); it got as far as:" >&2
                cat "$dir/res.$label" >&2
                echo "overlay.sh: the processes of the namespace:" >&2
                describe_all
                exit 1
        elif [ "$r" -ne 0 ]; then
                echo "overlay.sh: bench_overlay on $target failed (status $r)" >&2
                exit 1
        fi
}

all="readdir stat statcold read create openclose"
# shellcheck disable=SC2086 # word lists
{
        # 1. P and P/sub as they are, no link.
        bench native "$P" 5001 $all
        bench native-sub "$P/sub" 1000 readdir stat read create

        # 2. The anchorless link: P/link does not exist, so bindlinkd mounts an overlay
        # on P that shows a placeholder "link" and grafts a bind mount of B on it.
        t0=$(date +%s%N)
        if ! ctl create "$P/link" "$B"; then
                echo "overlay.sh: bindlinkctl create $P/link $B failed" >&2
                exit 1
        fi
        t1=$(date +%s%N)
        link_made=1
        overlay_fs=$(findmnt -n -o FSTYPE --mountpoint "$P")
        link_fs=$(findmnt -n -o FSTYPE --mountpoint "$P/link")
        if [ "$overlay_fs" != fuse.bindlink ] || [ "$link_fs" != tmpfs ]; then
                echo "overlay.sh: expected fuse.bindlink on $P and a bind mount (tmpfs) on" \
                        "$P/link; found '$overlay_fs' and '$link_fs'" >&2
                findmnt -R "$dir" >&2
                exit 1
        fi
        bench_overlay_servers
        echo "link created in $(((t1 - t0) / 1000000)) ms: fuse.bindlink on P (server pid$servers)," \
                "bind mount of B on P/link"

        # 3. The same through the overlay, and the link's content both ways. One
        # workload at a time on all three, the graft and B in alternating order, so
        # that drift on a busy machine does not fall on one column only.
        first=graft
        for w in $all; do
                bench overlay "$P" 5002 "$w"
                if [ "$first" = graft ]; then
                        bench graft "$P/link" 1000 "$w"
                        bench direct "$B" 1000 "$w"
                        first=direct
                else
                        bench direct "$B" 1000 "$w"
                        bench graft "$P/link" 1000 "$w"
                        first=graft
                fi
        done
        bench overlay-sub "$P/sub" 1000 readdir stat read create
}

# 4. Remove the link: the overlay and its server must go.
t0=$(date +%s%N)
if ! ctl remove "$P/link"; then
        echo "overlay.sh: bindlinkctl remove $P/link failed" >&2
        exit 1
fi
t1=$(date +%s%N)
link_made=
if ! bench_wait_overlay_gone "$P"; then
        echo "overlay.sh: 5 s after bindlinkctl remove, the overlay is still there:" >&2
        findmnt -R "$dir" >&2
        for pid in $servers; do
                alive "$pid" && echo "  server $pid still running (state $st)" >&2
        done
        exit 1
fi
echo "link removed in $(((t1 - t0) / 1000000)) ms; overlay unmounted and its server gone" \
        "after $waited_ms ms"
if [ -e "$P/link" ] || [ "$(find "$P" -mindepth 1 -maxdepth 1 | wc -l)" -ne 5001 ]; then
        echo "overlay.sh: P does not look as before the link" >&2
        exit 1
fi
echo

# ---- the table --------------------------------------------------------------------
# cell LABEL WORKLOAD: "median (per op)"; sets cell and per (empty if not measured).
cell() {
        cell=- per=''
        line=$(grep "^$2 " "$dir/res.$1" 2>/dev/null) || return 0
        # shellcheck disable=SC2086
        set -- $line
        per=$(awk -v t="$2" -v n="$3" 'BEGIN { printf "%.3f", t / n }')
        cell=$(awk -v t="$2" -v p="$per" 'BEGIN { printf "%.0f (%.2f)", t, p }')
}
ratio() { # PER_A PER_B
        if [ -n "$1" ] && [ -n "$2" ]; then
                awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
        else
                echo -
        fi
}
row() { # NAME WORKLOAD NATIVE-LABEL OVERLAY-LABEL
        cell "$3" "$2"
        c1=$cell p1=$per
        cell "$4" "$2"
        c2=$cell p2=$per
        cell graft "$2"
        c3=$cell p3=$per
        cell direct "$2"
        c4=$cell p4=$per
        [ "$3" = native ] || { c3=- p3='' c4=- p4=''; }
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$c1" "$c2" "$(ratio "$p2" "$p1")" \
                "$c3" "$c4" "$(ratio "$p3" "$p4")"
}
{
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "workload" "native (P, no link)" \
                "through overlay (P with an anchorless link)" "ratio" \
                "link content via graft (P/link)" "B directly" "ratio"
        row "readdir (P: 5001/5002 entries; link, B: 1000)" readdir native overlay
        row "stat every file (P: 5000; link, B: 1000)" stat native overlay
        row "stat every file, after 1.2 s idle" statcold native overlay
        row "open+read 4 KiB+close every file" read native overlay
        row "create+write 4 KiB+close 1000 new files" create native overlay
        row "open+close one file 100000x" openclose native overlay
        row "P/sub: readdir (1000 entries)" readdir native-sub overlay-sub
        row "P/sub: stat every file (1000)" stat native-sub overlay-sub
        row "P/sub: open+read 4 KiB+close every file" read native-sub overlay-sub
        row "P/sub: create+write 4 KiB+close 1000 new files" create native-sub overlay-sub
} | bench_table
echo
if [ -n "${BINDLINK_BENCH_VERBOSE:-}" ]; then
        echo "raw results (workload, median us, operations per run, each run in us):"
        for label in native native-sub overlay overlay-sub graft direct; do
                sed "s/^/$label: /" "$dir/res.$label"
        done
        echo
fi
exit 0
