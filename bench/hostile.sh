#!/bin/sh
# hostile.sh BUILDDIR [--phase-seconds N] — hostile clients against bindlinkd: how long
# a root client waits and what the daemon holds while unprivileged clients attack its
# socket (see bench/README.md, "Hostile clients"). A benchmark: it prints a table and
# fails only when it cannot run.
#
# Needs root. The setting is bench/run.sh's: a private mount and PID namespace
# (unshare --mount --propagation private --pid --fork --mount-proc --kill-child), a
# tmpfs on a fresh directory, BUILDDIR's bindlinkd on its own socket there, and on
# every exit (failure and Ctrl-C too) the daemon stopped, everything unmounted and the
# directory removed. In it runs BUILDDIR/bench/hostile, whose attackers become uid
# 65534 and die with it. About a minute with the default 7 s per attack.
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
        echo "usage: $0 BUILDDIR [--phase-seconds N]" >&2
        exit 2
fi
BINDLINK_BENCH_PROGRAM=hostile exec /bin/sh "$(dirname "$0")/run.sh" "$@"
