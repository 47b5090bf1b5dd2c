# shellcheck shell=sh
# bench/lib.sh — the harness the bench/*.sh scripts share; sourced, POSIX sh.
#
# A benchmark mounts things and starts daemons and FUSE servers; none of that may
# outlive it or be seen on the host. So a script runs twice: first outside, where it
# checks what it needs, then again as PID 1 of a private mount and PID namespace, on a
# tmpfs of its own, where it measures. A script goes
#
#       . "$(dirname "$0")/lib.sh"
#       (parse its arguments)
#       bench_builddir "$builddir"        # builddir: absolute
#       if bench_outside; then            # the first run; insists on root
#               bench_need bindlinkd bench/bench_foo ...
#       fi
#       bench_enter "$builddir" ARG...     # returns only inside
#       bench_start_daemon                 # if it wants a bindlinkd
#       (its measurements, its table)
#
# bench_enter outside runs the script again (/bin/sh "$0" ARG...) under
# unshare --mount --propagation private --pid --fork --mount-proc --kill-child, then
# checks that no mount under its directory and no process of its PID namespace is
# left, prints "host check: ..." and "total time: ...", removes the directory and
# exits with the inner run's status. Inside it mounts a tmpfs on that directory ($dir)
# and sets an EXIT trap that, on every exit (failure and Ctrl-C too): stops the
# benchmark process ($bench_pid), calls the script's bench_teardown (its links, its
# servers), stops bindlinkd, kills by pid whatever else is left in the namespace,
# unmounts the tmpfs with everything on it and prints "namespace check: ...".
#
# For the scripts: alive, state_of, others, describe, describe_all, ctl,
# bench_wait, bench_mounted_at, bench_mounts_under, bench_run, bench_remove_link,
# bench_overlay_servers, bench_wait_overlay_gone, bench_make_files, bench_machine,
# bench_table. Variables: builddir, dir, daemon_pid, bench_pid, ctl_timeout, and
# those each helper names. Internal variables start with _bl_ (sh has no locals).

bench_name=${0##*/}
builddir=
dir=
daemon_pid=
bench_pid=
ctl_timeout=30 # seconds for one bindlinkctl call
bench_wait_for_build=0
_bl_mounted=

bench_die() {
        echo "$bench_name: $*" >&2
        exit 1
}

# bench_builddir DIR: builddir=DIR, absolute (the inner run may start elsewhere).
bench_builddir() {
        builddir=$(cd "$1" 2>/dev/null && pwd) || bench_die "no build directory $1"
}

# True in the first run of the script, outside the namespaces; there it also insists
# on root, since everything after mounts.
bench_outside() {
        [ -z "${BINDLINK_BENCH_INNER:-}" ] || return 1
        [ "$(id -u)" -eq 0 ] || bench_die "the benchmark mounts things and must run as root"
        return 0
}

# bench_need PROGRAM...: each BUILDDIR/PROGRAM must be there. With
# bench_wait_for_build=N it waits up to N s for them first (a build directory in the
# middle of a rebuild).
bench_need() {
        _bl_i=0
        while :; do
                _bl_missing=
                for _bl_p in "$@"; do
                        [ -x "$builddir/$_bl_p" ] || _bl_missing="$_bl_missing $_bl_p"
                done
                [ -z "$_bl_missing" ] && return 0
                [ "$_bl_i" -ge "$bench_wait_for_build" ] && break
                [ "$_bl_i" -eq 0 ] && echo "$bench_name: waiting for$_bl_missing in $builddir" >&2
                sleep 1
                _bl_i=$((_bl_i + 1))
        done
        bench_die "missing in $builddir:$_bl_missing; run 'make$_bl_missing' there"
}

# bench_need_tools TOOL...: each must be on PATH.
bench_need_tools() {
        for _bl_t in "$@"; do
                command -v "$_bl_t" >/dev/null || bench_die "$_bl_t is needed"
        done
}

# ---- processes ---------------------------------------------------------------------
# Only builtins here: no child process of ours may show up in a listing.

# state_of PID: st=its state letter (R, S, D, Z...), or nothing if it is gone.
state_of() {
        st=
        if [ -r "/proc/$1/stat" ] && read -r _bl_stat 2>/dev/null <"/proc/$1/stat"; then
                st=${_bl_stat##*) }
                st=${st%% *}
        fi
}

# A zombie (our child until we wait for it, or an orphan we inherited) is gone.
alive() {
        state_of "$1"
        [ -n "$st" ] && [ "$st" != Z ]
}

# procs: the live processes of this PID namespace other than this shell, "pid:comm"
# each.
others() {
        procs=
        for _bl_p in /proc/[0-9]*; do
                _bl_pid=${_bl_p#/proc/}
                [ "$_bl_pid" = "$$" ] && continue
                alive "$_bl_pid" || continue
                _bl_comm='?'
                read -r _bl_comm 2>/dev/null <"$_bl_p/comm"
                procs="$procs $_bl_pid:$_bl_comm"
        done
}

# Where process $1 is: state, kernel wait channel, system call and kernel stack.
describe() {
        state_of "$1"
        echo "  pid $1 ($(cat "/proc/$1/comm" 2>/dev/null)): state ${st:-gone}," \
                "wchan $(cat "/proc/$1/wchan" 2>/dev/null), syscall $(cat "/proc/$1/syscall" 2>/dev/null)" >&2
        sed 's/^/    /' "/proc/$1/stack" >&2 2>/dev/null
}

describe_all() {
        others
        for _bl_pc in $procs; do
                describe "${_bl_pc%%:*}"
        done
}

# bench_stop PID WHAT: SIGTERM, then SIGKILL after 5 s. Never waits without a limit:
# a process blocked in a FUSE request may not go before its server does. Status 1
# if it had to be killed.
bench_stop() {
        kill -TERM "$1" 2>/dev/null
        _bl_i=0
        while alive "$1" && [ "$_bl_i" -lt 50 ]; do
                sleep 0.1
                _bl_i=$((_bl_i + 1))
        done
        _bl_r=0
        if alive "$1"; then
                echo "$bench_name: $2 did not stop within 5 s of SIGTERM; it is here:" >&2
                describe "$1"
                echo "$bench_name: killing it" >&2
                kill -KILL "$1" 2>/dev/null
                _bl_r=1
        fi
        alive "$1" || wait "$1" 2>/dev/null
        return "$_bl_r"
}

# bench_wait PID SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds
# (status 0), PID is gone (1) or SECONDS have passed (2).
bench_wait() {
        _bl_wpid=$1 _bl_wmax=$(($2 * 10))
        shift 2
        _bl_wi=0
        until "$@"; do
                alive "$_bl_wpid" || return 1
                [ "$_bl_wi" -ge "$_bl_wmax" ] && return 2
                sleep 0.1
                _bl_wi=$((_bl_wi + 1))
        done
        return 0
}

# bench_run COMMAND...: COMMAND's status. In the background, so that a signal to this
# shell is handled at once (a trap waits for a foreground command to end); the
# cleanup stops it by its pid.
bench_run() {
        "$@" &
        bench_pid=$!
        wait "$bench_pid"
        _bl_r=$?
        bench_pid=
        return "$_bl_r"
}

# ---- mounts ------------------------------------------------------------------------
bench_mounted_at() { findmnt --mountpoint "$1" >/dev/null; }

# bench_mounts_under DIR: true if anything is mounted on DIR or below it; prints
# those mount points.
bench_mounts_under() {
        findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1 { print; f = 1 }
                END { exit !f }'
}

# ---- bindlinkd ---------------------------------------------------------------------
ctl() {
        BINDLINK_SOCKET="$dir/sock" timeout "$ctl_timeout" "$builddir/bindlinkctl" "$@"
}

# bench_start_daemon: BUILDDIR's bindlinkd on DIR/sock, state in DIR/state, its
# overlay servers BUILDDIR's too, its log in DIR/bindlinkd.log; returns once the
# socket is there (the daemon listens as soon as it binds it). In a session of its
# own, so that a Ctrl-C on the terminal (which stops bindlinkd, leaving its links in
# place) reaches only this shell, whose cleanup then removes the links through the
# daemon before stopping it. (Not a process group leader here, so setsid(1) does not
# fork: $! is the daemon's pid.)
bench_start_daemon() {
        export BINDLINK_SOCKET="$dir/sock"
        BINDLINK_OVERLAY_PROGRAM="$builddir/bindlink-overlay" \
                setsid "$builddir/bindlinkd" --socket "$dir/sock" --state-dir "$dir/state" \
                >"$dir/bindlinkd.log" 2>&1 &
        daemon_pid=$!
        bench_wait "$daemon_pid" 10 test -S "$dir/sock"
        case $? in
        1) bench_die "bindlinkd exited before it was ready" ;;
        2) bench_die "bindlinkd did not create $dir/sock within 10 s" ;;
        esac
}

# bench_remove_link PATH: through the daemon, if it still runs; rc=1 if that fails.
# For bench_teardown.
bench_remove_link() {
        if [ -z "$daemon_pid" ] || ! alive "$daemon_pid"; then
                return 0
        fi
        ctl remove "$1"
        _bl_r=$?
        if [ "$_bl_r" -eq 124 ]; then
                echo "$bench_name: bindlinkd did not answer bindlinkctl remove $1" \
                        "in $ctl_timeout s; it is here:" >&2
                describe "$daemon_pid"
                rc=1
        elif [ "$_bl_r" -ne 0 ]; then
                echo "$bench_name: bindlinkctl remove $1 failed (status $_bl_r)" >&2
                rc=1
        fi
}

# servers: the pids of the bindlink overlay servers in the namespace.
bench_overlay_servers() {
        others
        servers=
        for _bl_pc in $procs; do
                case $_bl_pc in *:bindlink-overla*) servers="$servers ${_bl_pc%%:*}" ;; esac
        done
}

# bench_wait_overlay_gone DIR: after a link's removal, wait up to 5 s until nothing is
# mounted on DIR or below and none of $servers runs. Status 1 if that did not happen;
# waited_ms: how long it took.
bench_wait_overlay_gone() {
        _bl_i=0
        while [ "$_bl_i" -lt 50 ]; do
                _bl_gone=1
                bench_mounts_under "$1" >/dev/null && _bl_gone=
                for _bl_pid in $servers; do alive "$_bl_pid" && _bl_gone=; done
                [ -n "$_bl_gone" ] && break
                sleep 0.1
                _bl_i=$((_bl_i + 1))
        done
        # shellcheck disable=SC2034 # for the script
        waited_ms=$((_bl_i * 100))
        [ -n "$_bl_gone" ]
}

# ---- entering and leaving the namespaces -------------------------------------------

# What the script stops before bindlinkd goes: its links, its own servers. Runs with
# ctl_timeout=10; sets rc=1 for a failure.
bench_teardown() { :; }

# shellcheck disable=SC2317 # run by the EXIT trap
bench_cleanup() {
        rc=$?
        trap - EXIT INT TERM
        ctl_timeout=10
        if [ -n "$bench_pid" ]; then
                bench_stop "$bench_pid" "the benchmark (pid $bench_pid)"
                bench_pid=
        fi
        bench_teardown
        if [ -n "$daemon_pid" ]; then
                bench_stop "$daemon_pid" bindlinkd || rc=1
        fi
        if [ "$rc" -ne 0 ] && [ -f "$dir/bindlinkd.log" ]; then
                echo "$bench_name: the last lines bindlinkd logged:" >&2
                tail -n 20 "$dir/bindlinkd.log" >&2
        fi
        # An overlay server outlives bindlinkd on purpose (links stay in place when it
        # stops), and a peer's FUSE server may be left after an interruption: stop
        # them by their pids before unmounting, since a FUSE mount whose server is
        # stopped or hung would block umount.
        others
        if [ -n "$procs" ]; then
                echo "$bench_name: stopping what is left in the namespace (pid:comm):$procs" >&2
                for _bl_pc in $procs; do
                        kill -KILL "${_bl_pc%%:*}" 2>/dev/null
                done
                _bl_i=0
                while [ -n "$procs" ] && [ "$_bl_i" -lt 20 ]; do
                        sleep 0.1
                        _bl_i=$((_bl_i + 1))
                        others
                done
        fi
        _bl_clean=1
        if [ -n "$_bl_mounted" ]; then
                # The tmpfs and every mount on it. umount -R takes one umount (and one
                # reread of the mount table) per mount: fine for the few left after a
                # normal run, minutes for thousands of links left after an
                # interruption; then, or if a path through a dead FUSE mount answers
                # "Transport endpoint is not connected", detach the tree at its top.
                _bl_left=$(grep -cF " $dir" /proc/self/mountinfo)
                if [ "$_bl_left" -gt 100 ]; then
                        echo "$bench_name: detaching $_bl_left mounts under $dir" >&2
                        umount -l "$dir" || rc=1
                elif ! umount -R "$dir" 2>/dev/null; then
                        echo "$bench_name: umount -R $dir failed; detaching the tree (umount -l)" >&2
                        umount -l "$dir" || rc=1
                fi
                if bench_mounts_under "$dir" >&2; then
                        echo "$bench_name: warning: mounts under $dir remain" >&2
                        rc=1 _bl_clean=
                fi
        fi
        others
        if [ -n "$procs" ]; then
                echo "$bench_name: warning: processes left in the namespace (pid:comm):$procs" >&2
                rc=1 _bl_clean=
        fi
        [ -n "$_bl_clean" ] &&
                echo "namespace check: nothing mounted under $dir, no process left but this shell"
        exit "$rc"
}

# bench_enter ARG...: outside, run "$0" ARG... in the namespaces and exit with its
# status; inside, mount the tmpfs on $dir, make $dir/state and return.
bench_enter() {
        if [ -n "${BINDLINK_BENCH_INNER:-}" ]; then
                dir=$BINDLINK_BENCH_DIR
                # For the check outside: which PID namespace is ours (written before
                # the tmpfs covers the directory, so visible there).
                readlink /proc/self/ns/pid >"$dir/pidns" || exit 1
                trap bench_cleanup EXIT
                trap 'exit 130' INT
                trap 'exit 143' TERM
                mount -t tmpfs -o mode=0755 bindlink-bench "$dir" || exit 1
                _bl_mounted=1
                mkdir "$dir/state" || exit 1
                return 0
        fi
        bench_need_tools unshare findmnt mount umount setsid timeout
        _bl_start=$(date +%s)
        dir=$(mktemp -d "${TMPDIR:-/tmp}/bindlink-bench-${bench_name%.sh}.XXXXXX") || exit 1
        # Ctrl-C reaches the inner shell too, which cleans up; this one only waits for
        # it and checks. (A handler, not '': an ignored signal could not be trapped by
        # the inner shell.)
        trap 'echo "$bench_name: interrupted" >&2' INT TERM
        # --kill-child: if unshare dies, the namespace's init dies, and with it every
        # process and mount in the namespaces.
        BINDLINK_BENCH_INNER=1 BINDLINK_BENCH_DIR=$dir \
                unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
                /bin/sh "$0" "$@"
        rc=$?
        # Nothing may be left behind on the machine.
        _bl_left=0
        if bench_mounts_under "$dir" >&2; then
                echo "$bench_name: warning: mounts under $dir are left on the host" >&2
                _bl_left=1
        fi
        _bl_ns=unknown
        if [ -r "$dir/pidns" ]; then
                read -r _bl_ns <"$dir/pidns"
                for _bl_p in /proc/[0-9]*; do
                        if [ "$(readlink "$_bl_p/ns/pid" 2>/dev/null)" = "$_bl_ns" ]; then
                                echo "$bench_name: warning: process ${_bl_p#/proc/} of the run is left:" \
                                        "$(tr '\0' ' ' <"$_bl_p/cmdline" 2>/dev/null)" >&2
                                _bl_left=1
                        fi
                done
        else
                echo "$bench_name: warning: cannot tell which PID namespace the run used" >&2
                _bl_left=1
        fi
        if [ "$_bl_left" -eq 0 ]; then
                echo "host check: no mount under $dir and no process of the run's PID namespace" \
                        "($_bl_ns) left"
        else
                rc=1
        fi
        rm -f "$dir/pidns"
        rmdir "$dir" 2>/dev/null || rm -rf "$dir"
        echo "total time: $(($(date +%s) - _bl_start)) s"
        exit "$rc"
}

# ---- fixtures and tables -----------------------------------------------------------

# bench_make_files DIR PREFIX FROM TO [LETTER]: 4 KiB files DIR/PREFIX{FROM..TO-1},
# spaces, or LETTER and 4095 spaces; with shell builtins only, for speed.
bench_make_files() {
        _bl_i=$3
        if [ $# -ge 5 ]; then
                while [ "$_bl_i" -lt "$4" ]; do
                        printf '%s%4095s' "$5" '' >"$1/$2$_bl_i" || exit 1
                        _bl_i=$((_bl_i + 1))
                done
        else
                while [ "$_bl_i" -lt "$4" ]; do
                        printf '%4096s' '' >"$1/$2$_bl_i" || exit 1
                        _bl_i=$((_bl_i + 1))
                done
        fi
}

# bench_machine: cpu (the model name) and l1 l5 l15 (the load averages), for the
# line above a table.
# shellcheck disable=SC2034 # for the script
bench_machine() {
        cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
        read -r l1 l5 l15 _ </proc/loadavg
}

# bench_table: tab-separated rows on stdin, the first one the header, as a Markdown
# table with aligned columns (the first left-aligned, the others right).
bench_table() {
        awk -F '\t' '
        { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF }
        END {
                for (r = 1; r <= NR; r++) {
                        line = "|"
                        for (i = 1; i <= nf; i++)
                                line = line sprintf(i == 1 ? " %-*s |" : " %*s |", w[i], c[r, i])
                        print line
                        if (r == 1) {
                                line = "|"
                                for (i = 1; i <= nf; i++) {
                                        dash = ""
                                        for (k = 0; k < w[i] + 2; k++) dash = dash "-"
                                        line = line dash "|"
                                }
                                print line
                        }
                }
        }'
}
