#!/bin/sh
# run.sh BUILDDIR [BENCH_LINKS OPTION]... — run the bindlink benchmark (see README.md).
#
# Needs root. Runs everything in a private mount and PID namespace of its own, on a
# tmpfs mounted on a fresh directory, with a bindlinkd of its own; on exit (also on
# failure or Ctrl-C) it stops that daemon, unmounts everything and removes the
# directory. Extra options go to bench_links (e.g. --iterations 200 --links 1000).
# BINDLINK_BENCH_PROGRAM=hostile runs bench/hostile in the same setting instead
# (that is bench/hostile.sh); the program also gets the daemon's log as
# BINDLINK_BENCH_LOG.
set -u

program=${BINDLINK_BENCH_PROGRAM:-bench_links}
if [ $# -lt 1 ]; then
        echo "usage: $0 BUILDDIR [$program OPTION]... (see bench/README.md)" >&2
        exit 2
fi

# ---- outside: make the directory, enter the namespaces, check afterwards ----------
if [ -z "${BINDLINK_BENCH_INNER:-}" ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "run.sh: the benchmark mounts things and must run as root" >&2
                exit 1
        fi
        for prog in "$1/bindlinkd" "$1/bench/$program"; do
                if [ ! -x "$prog" ]; then
                        echo "run.sh: $prog is missing; run 'make bench' (or 'make bench-hostile') in the build directory" >&2
                        exit 1
                fi
        done
        dir=$(mktemp -d "${TMPDIR:-/tmp}/bindlink-bench.XXXXXX") || exit 1
        # Ctrl-C reaches the inner shell too, which cleans up; this one only waits
        # for it and checks. (A handler, not '': an ignored signal could not be
        # trapped by the inner shell.)
        trap 'echo "run.sh: interrupted" >&2' INT TERM
        # --kill-child: if unshare dies, the namespace's init dies, and with it
        # every process and mount in the namespaces.
        BINDLINK_BENCH_INNER=1 BINDLINK_BENCH_DIR=$dir \
                unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
                /bin/sh "$0" "$@"
        rc=$?
        # Nothing may be left behind on the machine.
        if findmnt -rn -o TARGET | grep -F "$dir" >&2; then
                echo "run.sh: warning: mounts under $dir are left on the host" >&2
                rc=1
        fi
        if pgrep -af bindlinkd | grep -F "$dir" >&2; then
                echo "run.sh: warning: a bindlinkd of the benchmark is still running" >&2
                rc=1
        fi
        rmdir "$dir" 2>/dev/null || rm -rf "$dir"
        exit "$rc"
fi

# ---- inside: PID 1 of a new PID namespace, in a private mount namespace ------------
builddir=$1
shift
dir=$BINDLINK_BENCH_DIR
daemon_pid=
bench_pid=
mounted=

alive() {
        # A zombie (our child until we wait for it) counts as gone.
        [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
        rc=$?
        trap - EXIT INT TERM
        if [ -n "$bench_pid" ]; then
                kill -TERM "$bench_pid" 2>/dev/null
                wait "$bench_pid" 2>/dev/null
        fi
        if [ -n "$daemon_pid" ]; then
                kill -TERM "$daemon_pid" 2>/dev/null
                i=0
                while alive "$daemon_pid" && [ "$i" -lt 50 ]; do
                        sleep 0.1
                        i=$((i + 1))
                done
                if alive "$daemon_pid"; then
                        echo "run.sh: bindlinkd did not stop on SIGTERM; killing it" >&2
                        kill -KILL "$daemon_pid" 2>/dev/null
                fi
                wait "$daemon_pid" 2>/dev/null
        fi
        if [ "$rc" -ne 0 ] && [ -f "$dir/bindlinkd.log" ]; then
                echo "run.sh: the last lines bindlinkd logged:" >&2
                tail -n 20 "$dir/bindlinkd.log" >&2
        fi
        if [ -n "$mounted" ]; then
                # The tmpfs and every link mount on it. umount -R takes one umount
                # (and one reread of the mount table) per mount: fine for the few
                # left after a normal run, minutes for thousands of links left
                # after an interruption; then detach the whole tree in one step.
                left=$(grep -cF " $dir" /proc/self/mountinfo)
                if [ "$left" -le 100 ]; then
                        umount -R "$dir" || umount -l "$dir" || rc=1
                else
                        echo "run.sh: detaching $left mounts under $dir" >&2
                        umount -l "$dir" || rc=1
                fi
                if findmnt -rn -o TARGET | grep -F "$dir" >&2; then
                        echo "run.sh: warning: mounts under $dir remain" >&2
                        rc=1
                fi
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount -t tmpfs -o mode=0755 bindlink-bench "$dir" || exit 1
mounted=1
mkdir "$dir/state" "$dir/work" || exit 1

"$builddir/bindlinkd" --socket "$dir/sock" --state-dir "$dir/state" \
        >"$dir/bindlinkd.log" 2>&1 &
daemon_pid=$!

i=0
while [ ! -S "$dir/sock" ]; do
        if ! alive "$daemon_pid"; then
                echo "run.sh: bindlinkd exited before it was ready" >&2
                exit 1
        fi
        if [ "$i" -ge 100 ]; then
                echo "run.sh: bindlinkd did not create $dir/sock within 10 s" >&2
                exit 1
        fi
        sleep 0.1
        i=$((i + 1))
done

# In the background, so that a signal to this shell is handled at once (a trap
# waits for a foreground command to end); cleanup() stops it by its pid.
BINDLINK_SOCKET="$dir/sock" BINDLINK_BENCH_LOG="$dir/bindlinkd.log" \
        "$builddir/bench/$program" --dir "$dir/work" --daemon-pid "$daemon_pid" "$@" &
bench_pid=$!
wait "$bench_pid"
rc=$?
bench_pid=
exit "$rc"
