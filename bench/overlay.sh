#!/bin/sh
# overlay.sh BUILDDIR — what an anchorless link's FUSE overlay costs (see README.md).
#
# Needs root. Like run.sh it runs in a private mount and PID namespace of its own, on a
# tmpfs mounted on a fresh directory, with a bindlinkd of its own (and
# BINDLINK_OVERLAY_PROGRAM=BUILDDIR/bindlink-overlay). It builds bench/bench_overlay.c
# itself, makes a directory P (5,000 files of 4 KiB and P/sub with 1,000 more) and a
# directory B (1,000 files of 4 KiB), times five workloads on P with no link, makes the
# anchorless link P/link -> B (bindlinkd mounts an overlay on P and grafts the link on
# it), times them again on P and on P/link and B, and prints one table. On every exit
# it removes the link, stops the daemon, unmounts everything, checks that no mount and
# no process of the run is left, and removes the directory.
set -u

if [ $# -ne 1 ]; then
        echo "usage: $0 BUILDDIR" >&2
        exit 2
fi

# ---- outside: make the directory, enter the namespaces, check afterwards ----------
if [ -z "${BINDLINK_OVERLAY_BENCH_INNER:-}" ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "overlay.sh: the benchmark mounts things and must run as root" >&2
                exit 1
        fi
        builddir=$(cd "$1" 2>/dev/null && pwd) || {
                echo "overlay.sh: no build directory $1" >&2
                exit 1
        }
        srcdir=$(cd "$(dirname "$0")" && pwd) || exit 1
        for prog in "$builddir/bindlinkd" "$builddir/bindlinkctl" "$builddir/bindlink-overlay"; do
                if [ ! -x "$prog" ]; then
                        echo "overlay.sh: $prog is missing; run 'make' in the build directory" >&2
                        exit 1
                fi
        done
        for tool in cc unshare findmnt timeout; do
                if ! command -v "$tool" >/dev/null; then
                        echo "overlay.sh: $tool is needed" >&2
                        exit 1
                fi
        done
        if [ ! -f "$srcdir/bench_overlay.c" ]; then
                echo "overlay.sh: $srcdir/bench_overlay.c is missing" >&2
                exit 1
        fi
        dir=$(mktemp -d "${TMPDIR:-/tmp}/bindlink-overlay-bench.XXXXXX") || exit 1
        start=$(date +%s)
        # Ctrl-C reaches the inner shell too, which cleans up; this one only waits for
        # it and checks. (A handler, not '': an ignored signal could not be trapped
        # by the inner shell.)
        trap 'echo "overlay.sh: interrupted" >&2' INT TERM
        # --kill-child: if unshare dies, the namespace's init dies, and with it every
        # process and mount in the namespaces.
        BINDLINK_OVERLAY_BENCH_INNER=1 BINDLINK_BENCH_DIR=$dir BINDLINK_BENCH_SRC=$srcdir \
                unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
                /bin/sh "$0" "$builddir"
        rc=$?
        # Nothing may be left behind on the machine. The inner shell wrote the id of
        # its PID namespace into the directory (under its tmpfs, so visible here).
        left=0
        if findmnt -rn -o TARGET | grep -F "$dir" >&2; then
                echo "overlay.sh: warning: mounts under $dir are left on the host" >&2
                left=1
        fi
        if [ -r "$dir/pidns" ]; then
                read -r ns <"$dir/pidns"
                for p in /proc/[0-9]*; do
                        if [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ]; then
                                echo "overlay.sh: warning: process ${p#/proc/} of the run is left:" \
                                        "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" >&2
                                left=1
                        fi
                done
        else
                echo "overlay.sh: warning: cannot tell which PID namespace the run used" >&2
                left=1
        fi
        if pgrep -af bindlinkd | grep -F "$dir" >&2; then
                echo "overlay.sh: warning: a bindlinkd of the benchmark is still running" >&2
                left=1
        fi
        if [ "$left" -eq 0 ]; then
                echo "host check: no mount under $dir and no process of the run's PID namespace" \
                        "($ns) left"
        else
                rc=1
        fi
        rm -f "$dir/pidns"
        rmdir "$dir" 2>/dev/null || rm -rf "$dir"
        echo "total time: $(($(date +%s) - start)) s"
        exit "$rc"
fi

# ---- inside: PID 1 of a new PID namespace, in a private mount namespace ------------
builddir=$1
dir=$BINDLINK_BENCH_DIR
srcdir=$BINDLINK_BENCH_SRC
P=$dir/P
B=$dir/B
ctl_timeout=30   # seconds for one bindlinkctl call
bench_timeout=60 # seconds for one bench_overlay call (the longest takes about 40 s)
daemon_pid=
bench_pid=
mounted=
link_made=

readlink /proc/self/ns/pid >"$dir/pidns" || exit 1

state_of() {
        # The state letter of process $1 (R, S, D, Z...), or nothing if it is gone.
        # Only builtins: no child process of ours may show up in a listing.
        st=
        if [ -r "/proc/$1/stat" ] && read -r st_line 2>/dev/null <"/proc/$1/stat"; then
                st=${st_line##*) }
                st=${st%% *}
        fi
}

alive() {
        # A zombie (our child until we wait for it, or an orphan we inherited) is gone.
        state_of "$1"
        [ -n "$st" ] && [ "$st" != Z ]
}

# The live processes of this PID namespace other than this shell, one "pid comm" each.
others() {
        procs=
        for p in /proc/[0-9]*; do
                pid=${p#/proc/}
                [ "$pid" = "$$" ] && continue
                alive "$pid" || continue
                comm='?'
                read -r comm 2>/dev/null <"$p/comm"
                procs="$procs $pid:$comm"
        done
}

ctl() {
        BINDLINK_SOCKET="$dir/sock" timeout "$ctl_timeout" "$builddir/bindlinkctl" "$@"
}

# Where process $1 is: state, kernel wait channel, system call and kernel stack.
describe() {
        state_of "$1"
        echo "  pid $1 ($(cat "/proc/$1/comm" 2>/dev/null)): state ${st:-gone}," \
                "wchan $(cat "/proc/$1/wchan" 2>/dev/null), syscall $(cat "/proc/$1/syscall" 2>/dev/null)" >&2
        sed 's/^/    /' "/proc/$1/stack" >&2 2>/dev/null
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
        rc=$?
        trap - EXIT INT TERM
        if [ -n "$bench_pid" ]; then
                kill -TERM "$bench_pid" 2>/dev/null
                wait "$bench_pid" 2>/dev/null
        fi
        if [ -n "$link_made" ] && [ -n "$daemon_pid" ] && alive "$daemon_pid"; then
                ctl_timeout=10
                ctl remove "$P/link"
                r=$?
                if [ "$r" -eq 124 ]; then
                        echo "overlay.sh: bindlinkd did not answer bindlinkctl remove $P/link" \
                                "in $ctl_timeout s; it is here:" >&2
                        describe "$daemon_pid"
                        rc=1
                elif [ "$r" -ne 0 ]; then
                        echo "overlay.sh: bindlinkctl remove $P/link failed (status $r)" >&2
                        rc=1
                fi
        fi
        if [ -n "$daemon_pid" ]; then
                kill -TERM "$daemon_pid" 2>/dev/null
                i=0
                while alive "$daemon_pid" && [ "$i" -lt 50 ]; do
                        sleep 0.1
                        i=$((i + 1))
                done
                if alive "$daemon_pid"; then
                        echo "overlay.sh: bindlinkd did not stop within 5 s of SIGTERM; it is here:" >&2
                        describe "$daemon_pid"
                        echo "overlay.sh: killing it" >&2
                        kill -KILL "$daemon_pid" 2>/dev/null
                        rc=1
                fi
                wait "$daemon_pid" 2>/dev/null
        fi
        if [ "$rc" -ne 0 ] && [ -f "$dir/bindlinkd.log" ]; then
                echo "overlay.sh: the last lines bindlinkd logged:" >&2
                tail -n 20 "$dir/bindlinkd.log" >&2
        fi
        # An overlay server outlives bindlinkd on purpose (links stay in place when it
        # stops). After a normal run there is none left (the link was removed and its
        # overlay with it); otherwise stop it by its pid before unmounting, since a
        # FUSE mount whose server is stopped or hung would block umount.
        others
        if [ -n "$procs" ]; then
                echo "overlay.sh: stopping what is left in the namespace (pid:comm):$procs" >&2
                for pc in $procs; do
                        kill -KILL "${pc%%:*}" 2>/dev/null
                done
                i=0
                while [ -n "$procs" ] && [ "$i" -lt 20 ]; do
                        sleep 0.1
                        i=$((i + 1))
                        others
                done
        fi
        clean=1
        if [ -n "$mounted" ]; then
                # The tmpfs, and the overlay and the link if they are still there. If
                # that fails (a path through a dead overlay answers "Transport endpoint
                # is not connected"), detach the whole tree at its top at once.
                if ! umount -R "$dir" 2>/dev/null; then
                        echo "overlay.sh: umount -R $dir failed; detaching the tree (umount -l)" >&2
                        umount -l "$dir" || rc=1
                fi
                if findmnt -rn -o TARGET | grep -F "$dir" >&2; then
                        echo "overlay.sh: warning: mounts under $dir remain" >&2
                        rc=1 clean=
                fi
        fi
        others
        if [ -n "$procs" ]; then
                echo "overlay.sh: warning: processes left in the namespace (pid:comm):$procs" >&2
                rc=1 clean=
        fi
        [ -n "$clean" ] &&
                echo "namespace check: nothing mounted under $dir, no process left but this shell"
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount -t tmpfs -o mode=0755 bindlink-overlay-bench "$dir" || exit 1
mounted=1
mkdir "$dir/state" "$P" "$P/sub" "$B" || exit 1

cc -O2 -Wall -Wextra -Werror -o "$dir/bench_overlay" "$srcdir/bench_overlay.c" || exit 1

# 4 KiB files, with shell builtins only (printf pads '' to 4096 spaces).
make_files() { # DIR COUNT
        i=0
        while [ "$i" -lt "$2" ]; do
                printf '%4096s' '' >"$1/f$i" || exit 1
                i=$((i + 1))
        done
}
make_files "$P" 5000
make_files "$P/sub" 1000
make_files "$B" 1000

# In a session of its own, so that a Ctrl-C on the terminal (which stops bindlinkd,
# leaving its links in place) reaches only this shell, whose cleanup then removes the
# link through the daemon before stopping it. (Not a process group leader here, so
# setsid(1) does not fork: $! is the daemon's pid.)
BINDLINK_OVERLAY_PROGRAM="$builddir/bindlink-overlay" \
        setsid "$builddir/bindlinkd" --socket "$dir/sock" --state-dir "$dir/state" \
        >"$dir/bindlinkd.log" 2>&1 &
daemon_pid=$!

i=0
while [ ! -S "$dir/sock" ]; do
        if ! alive "$daemon_pid"; then
                echo "overlay.sh: bindlinkd exited before it was ready" >&2
                exit 1
        fi
        if [ "$i" -ge 100 ]; then
                echo "overlay.sh: bindlinkd did not create $dir/sock within 10 s" >&2
                exit 1
        fi
        sleep 0.1
        i=$((i + 1))
done

cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
read -r l1 l5 l15 _ </proc/loadavg
echo "bindlink overlay benchmark: kernel $(uname -r), $(nproc) CPU(s), ${cpu:-unknown CPU}," \
        "$(date '+%Y-%m-%d %H:%M:%S %z'), load average $l1 $l5 $l15"
echo "(tmpfs; each cell: median of 5 runs after 1 warm-up, microseconds for the whole"
echo " workload, and in parentheses per file or entry; ratios are of the per-file times)"
echo

# bench LABEL DIR EXPECTED-ENTRIES WORKLOAD... -> $dir/res.LABEL
# In the background, so that a signal to this shell is handled at once, and under
# timeout(1), so that a hang in the overlay shows as a failure, not a stuck run.
bench() {
        label=$1 target=$2 expect=$3
        shift 3
        timeout "$bench_timeout" "$dir/bench_overlay" --expect "$expect" "$target" "$@" \
                >>"$dir/res.$label" &
        bench_pid=$!
        wait "$bench_pid"
        r=$?
        bench_pid=
        if [ "$r" -eq 124 ]; then
                echo "overlay.sh: bench_overlay on $target did not finish in $bench_timeout s" \
                        "(a hang?); it got as far as:" >&2
                cat "$dir/res.$label" >&2
                echo "overlay.sh: the processes of the namespace:" >&2
                others
                for pc in $procs; do
                        describe "${pc%%:*}"
                done
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
        others
        servers=
        for pc in $procs; do
                case $pc in *:bindlink-overla*) servers="$servers ${pc%%:*}" ;; esac
        done
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
i=0
while [ "$i" -lt 50 ]; do
        gone=1
        findmnt -rn -o TARGET | grep -qF "$P" && gone=
        for pid in $servers; do alive "$pid" && gone=; done
        [ -n "$gone" ] && break
        sleep 0.1
        i=$((i + 1))
done
if [ -z "$gone" ]; then
        echo "overlay.sh: 5 s after bindlinkctl remove, the overlay is still there:" >&2
        findmnt -R "$dir" >&2
        for pid in $servers; do
                alive "$pid" && echo "  server $pid still running (state $st)" >&2
        done
        exit 1
fi
echo "link removed in $(((t1 - t0) / 1000000)) ms; overlay unmounted and its server gone" \
        "after $((i * 100)) ms"
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
} | awk -F '\t' '
        { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
        END {
                for (r = 1; r <= NR; r++) {
                        line = "|"
                        for (i = 1; i <= 7; i++)
                                line = line sprintf(i == 1 ? " %-*s |" : " %*s |", w[i], c[r, i])
                        print line
                        if (r == 1) {
                                line = "|"
                                for (i = 1; i <= 7; i++) {
                                        dash = ""
                                        for (k = 0; k < w[i] + 2; k++) dash = dash "-"
                                        line = line dash "|"
                                }
                                print line
                        }
                }
        }'
echo
if [ -n "${BINDLINK_BENCH_VERBOSE:-}" ]; then
        echo "raw results (workload, median us, operations per run, each run in us):"
        for label in native native-sub overlay overlay-sub graft direct; do
                sed "s/^/$label: /" "$dir/res.$label"
        done
        echo
fi
exit 0
