#!/bin/sh
# run.sh BUILDDIR [BENCH_LINKS OPTION]... — run the bindlink benchmark (see README.md).
#
# Needs root. Runs everything in a private mount and PID namespace of its own, on a
# tmpfs mounted on a fresh directory, with a bindlinkd of its own; on exit (also on
# failure or Ctrl-C) it stops that daemon, unmounts everything and removes the
# directory (bench/lib.sh). Extra options go to bench_links (e.g. --iterations 200
# --links 1000). BINDLINK_BENCH_PROGRAM=hostile runs bench/hostile in the same
# setting instead (that is bench/hostile.sh); the program also gets the daemon's log
# as BINDLINK_BENCH_LOG.
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

program=${BINDLINK_BENCH_PROGRAM:-bench_links}
if [ $# -lt 1 ]; then
        echo "usage: $0 BUILDDIR [$program OPTION]... (see bench/README.md)" >&2
        exit 2
fi
bench_builddir "$1"
shift
if bench_outside; then
        bench_need bindlinkd "bench/$program"
fi
bench_enter "$builddir" "$@"

mkdir "$dir/work" || exit 1
bench_start_daemon
export BINDLINK_BENCH_LOG="$dir/bindlinkd.log"
bench_run "$builddir/bench/$program" --dir "$dir/work" --daemon-pid "$daemon_pid" "$@"
