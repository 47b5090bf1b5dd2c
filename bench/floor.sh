#!/bin/sh
# floor.sh BUILDDIR [--runs N] [--files N] — what any FUSE server costs here, against
# bindlink's merged view (see bench/README.md, "The FUSE floor").
#
# Needs root. Runs in a private mount and PID namespace of its own, on a tmpfs
# mounted on a fresh directory, with a bindlinkd of its own. Builds bench/fuse_floor.c
# (a FUSE server that does no work: every answer made up in memory) and
# bench/bench_merged.c, makes N files (default 5,000) of 4 KiB in B, and times, round
# after round, two workloads: stat of every file the first time after a fresh mount,
# and 100,000 open+close of one file. Columns: B itself (native); fuse_floor with
# libfuse's loop (it sleeps in read(2) between requests); fuse_floor spinning (it
# reads without blocking for 30 us after each reply, as bindlink-overlay does); and a
# merged link V -> B (V empty) made with bindlinkctl. Prints medians, per operation and
# as a ratio to native. On every exit it removes the link, stops every process it
# started and unmounts everything.
set -u

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

# ---- outside: check, make the directory, enter the namespaces, check afterwards ----
if [ -z "${BINDLINK_FLOOR_INNER:-}" ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "floor.sh: the benchmark mounts things and must run as root" >&2
                exit 1
        fi
        given=$builddir
        builddir=$(cd "$given" 2>/dev/null && pwd) || {
                echo "floor.sh: no build directory $given" >&2
                exit 1
        }
        for prog in "$builddir/bindlinkd" "$builddir/bindlinkctl" "$builddir/bindlink-overlay"; do
                if [ ! -x "$prog" ]; then
                        echo "floor.sh: $prog is missing; run make in $builddir" >&2
                        exit 1
                fi
        done
        if ! pkg-config --exists fuse3; then
                echo "floor.sh: libfuse 3's development files are missing (apt-get install libfuse3-dev)" >&2
                exit 1
        fi
        dir=$(mktemp -d "${TMPDIR:-/tmp}/bindlink-floor.XXXXXX") || exit 1
        trap 'echo "floor.sh: interrupted" >&2' INT TERM
        BINDLINK_FLOOR_INNER=1 BINDLINK_FLOOR_DIR=$dir \
                unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
                /bin/sh "$0" "$builddir" --runs "$runs" --files "$files"
        rc=$?
        if findmnt -rn -o TARGET | grep -F "$dir" >&2; then
                echo "floor.sh: warning: mounts under $dir are left on the host" >&2
                rc=1
        fi
        if pgrep -af "fuse_floor|bindlinkd|bindlink-overlay" | grep -F "$dir" >&2; then
                echo "floor.sh: warning: a process of the benchmark is still running" >&2
                rc=1
        fi
        rmdir "$dir" 2>/dev/null || rm -rf "$dir"
        exit "$rc"
fi

# ---- inside: PID 1 of a new PID namespace, in a private mount namespace ------------
srcdir=$(cd "$(dirname "$0")" && pwd)
dir=$BINDLINK_FLOOR_DIR
B="$dir/B"
V="$dir/V"
M="$dir/mnt"
daemon_pid=
server_pid=
mounted=
opens=100000

alive() {
        [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

stop_server() {
        [ -n "$server_pid" ] || return 0
        umount "$M" 2>/dev/null
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
        rc=$?
        trap - EXIT INT TERM
        stop_server
        if [ -n "$daemon_pid" ]; then
                BINDLINK_SOCKET="$dir/sock" "$builddir/bindlinkctl" remove "$V" >/dev/null 2>&1
                kill -TERM "$daemon_pid" 2>/dev/null
                wait "$daemon_pid" 2>/dev/null
        fi
        # Overlay servers outlive bindlinkd by design (S4): end every process of this
        # namespace but us (we are its PID 1).
        kill -KILL -1 2>/dev/null
        if [ -n "$mounted" ]; then
                umount -R "$dir" 2>/dev/null || umount -l "$dir" || rc=1
                if findmnt -rn -o TARGET | grep -F "$dir" >&2; then
                        echo "floor.sh: warning: mounts under $dir remain" >&2
                        rc=1
                fi
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount -t tmpfs -o mode=0755 bindlink-floor "$dir" || exit 1
mounted=1
mkdir "$dir/state" "$B" "$V" "$M" || exit 1

# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc -O2 -Wall -Wextra -Werror -o "$dir/fuse_floor" "$srcdir/fuse_floor.c" \
        $(pkg-config --cflags --libs fuse3) || exit 1
cc -O2 -Wall -Wextra -Werror -o "$dir/bench_merged" "$srcdir/bench_merged.c" || exit 1

i=0
while [ "$i" -lt "$files" ]; do
        printf '%4096s' '' >"$B/f$i" || exit 1
        echo "f$i"
        i=$((i + 1))
done >"$dir/names"

# wait_ready WHAT PID LOG CMD...: poll CMD for up to 5 s while PID lives; else show
# LOG and exit.
wait_ready() {
        what=$1 pid=$2 log=$3
        shift 3
        i=0
        until "$@"; do
                if ! alive "$pid" || [ "$i" -ge 100 ]; then
                        echo "floor.sh: $what:" >&2
                        cat "$log" >&2
                        exit 1
                fi
                sleep 0.05
                i=$((i + 1))
        done
}

export BINDLINK_SOCKET="$dir/sock"
export BINDLINK_OVERLAY_PROGRAM="$builddir/bindlink-overlay"
"$builddir/bindlinkd" --socket "$dir/sock" --state-dir "$dir/state" >"$dir/bindlinkd.log" 2>&1 &
daemon_pid=$!
daemon_answers() { "$builddir/bindlinkctl" list >/dev/null 2>&1; }
wait_ready "bindlinkd did not start" "$daemon_pid" "$dir/bindlinkd.log" daemon_answers

# start_floor [--spin]: mount fuse_floor on M (nothing looked up yet, so that the
# first stat is a first).
start_floor() {
        "$dir/fuse_floor" "$@" "$M" "$files" 2>>"$dir/floor.log" &
        server_pid=$!
        wait_ready "fuse_floor did not mount" "$server_pid" "$dir/floor.log" \
                grep -qF " $M " /proc/self/mountinfo
}

# measure COLUMN TARGET: one round of both workloads; appends "COLUMN WORKLOAD us/op".
measure() {
        if ! "$dir/bench_merged" --names "$dir/names" --hot f0 --opens "$opens" "$2" \
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
        if ! out=$("$builddir/bindlinkctl" create --merged "$V" "$B" 2>&1); then
                echo "floor.sh: bindlinkctl create --merged failed: $out" >&2
                exit 1
        fi
        measure merged "$V"
        "$builddir/bindlinkctl" remove "$V" >/dev/null || exit 1
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
