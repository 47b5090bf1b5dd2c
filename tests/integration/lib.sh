# lib.sh — shared harness for the integration tests: a private mount and pid
# namespace (so every mount and every daemon we start dies with the test, pass or
# fail), a tmpfs test area, a real bindlinkd on its own socket, TAP output.
# Sourced by the test scripts; BUILDDIR points at the build tree.

set -u
# eventually and process_gone.
. "$(dirname "${BASH_SOURCE[0]}")/poll.sh"

BUILDDIR=${BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BINDLINKD="$BUILDDIR/bindlinkd"
BINDLINKCTL="$BUILDDIR/bindlinkctl"
export BINDLINK_OVERLAY_PROGRAM="$BUILDDIR/bindlink-overlay"
NOBODY_UID=65534
NOBODY_GID=65534

# Re-enter inside fresh namespaces: everything mounted here vanishes when the test
# ends, and the pid namespace takes every process we started with it.
enter_private_namespace() {
        if [ "$(id -u)" != 0 ]; then
                echo "1..0 # SKIP integration tests need root (they mount)"
                exit 0
        fi
        if [ -z "${BL_IN_NAMESPACE:-}" ]; then
                BL_IN_NAMESPACE=1 exec unshare --mount --propagation private --pid --fork \
                        --mount-proc "$@"
        fi
        AREA=$(mktemp -d /tmp/bindlink-test.XXXXXX)
        mount -t tmpfs -o mode=0755 bindlink-test "$AREA"
        # Shared, so that namespaces copied from this one receive our links (S4).
        mount --make-shared "$AREA"
        chmod 0755 "$AREA"
        SOCK="$AREA/run/bindlinkd.sock"
        STATE="$AREA/run/state"
        mkdir -p "$AREA/run"
        export BINDLINK_SOCKET="$SOCK"
        trap cleanup EXIT
        stage_programs
}

# The tests run bindlinkctl and posix_check as an unprivileged user, who may not be
# able to reach the build tree (a checkout in /root, or under any `mktemp -d`, sits in
# a 0700 directory). Copies of them, and of libbindlink, go into the test area (0755,
# gone with the test), and the tests run those. If even the copies cannot be run by
# that user, say so once, here, instead of failing every test that needs them.
STAGE=
stage_programs() {
        STAGE="$AREA/stage"
        mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/libexec"
        cp -P "$BUILDDIR"/.libs/libbindlink.so* "$STAGE/lib/" 2>/dev/null
        local name src
        for name in bindlinkctl bindlink-oci-hook tests/integration/posix_check \
                tests/integration/hostile_client; do
                src="$BUILDDIR/$name"
                # A libtool wrapper script: the program itself is in .libs.
                [ -f "$(dirname "$src")/.libs/$(basename "$src")" ] &&
                        src="$(dirname "$src")/.libs/$(basename "$src")"
                [ -x "$src" ] || continue
                cp "$src" "$STAGE/libexec/$(basename "$name")"
                printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' \
                        "$STAGE/lib" "$STAGE/libexec/$(basename "$name")" > "$STAGE/bin/$(basename "$name")"
        done
        chmod -R a+rX "$STAGE"
        chmod 0755 "$STAGE"/bin/*
        BINDLINKCTL="$STAGE/bin/bindlinkctl"
        POSIX_CHECK="$STAGE/bin/posix_check"
        local why
        if ! why=$(setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups \
                "$BINDLINKCTL" --version 2>&1 >/dev/null); then
                echo "Bail out! uid $NOBODY_UID cannot run the copy of bindlinkctl in $STAGE ($why): the tests that run it as another user cannot run; check that $AREA is not mounted noexec"
                exit 1
        fi
}

cleanup() {
        stop_daemon
        if ! umount -R "$AREA" 2>/dev/null; then
                # Overlay servers outlive the daemon (S4) and may still hold the area:
                # end them (we are PID 1 of this namespace; everything in it is ours).
                kill -KILL -1 2>/dev/null
                # umount -R goes by path, and a path may lead to what covers a mount
                # (an overlay on a directory with mounts below it): then detach the
                # whole tree at once.
                eventually 10 umount -R "$AREA" || umount -l "$AREA"
        fi
        rmdir "$AREA" || { echo "# cannot remove the test area $AREA:"; findmnt -R "$AREA" | sed 's/^/#   /'; }
        summary
}

# BINDLINK_UNIT_SANDBOX=1: every daemon a test starts runs as the shipped unit would run
# it, as far as that can be without systemd as PID 1: a network and UTS namespace of
# its own (PrivateNetwork=, ProtectHostname=), the unit's bounding set, no_new_privs and
# umask, and the seccomp filters systemd 252 would install (unit_sandbox.py). The
# overlay servers it forks inherit all of it, as under systemd. DevicePolicy=,
# DeviceAllow= and IPAddressDeny= (BPF programs on the unit's cgroup) are not applied.
UNIT_SANDBOX=()
unit_sandbox() {
        local unit="$BUILDDIR/systemd/bindlinkd.service" why set mask
        [ -f "$unit" ] || { echo "Bail out! BINDLINK_UNIT_SANDBOX: no unit at $unit"; exit 1; }
        if ! why=$(/usr/bin/python3 -c 'import seccomp' 2>&1); then
                echo "Bail out! BINDLINK_UNIT_SANDBOX needs python3-seccomp (Debian's python3): $why"
                exit 1
        fi
        set=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' |
                sed -n 's/^CAP_\(.*\)/+\1/p' | tr 'A-Z' 'a-z' | paste -sd,)
        mask=$(sed -n 's/^UMask=//p' "$unit")
        UNIT_SANDBOX=(unshare --net --uts
                setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$set"
                sh -c 'umask "$1"; shift; exec "$@"' sh "${mask:-0022}"
                /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/unit_sandbox.py" "$unit")
}
[ -z "${BINDLINK_UNIT_SANDBOX:-}" ] || unit_sandbox

DAEMON_PID=
DAEMON_LOG=
# A command the daemon is started under (e.g. setpriv with the unit's capabilities).
DAEMON_PREFIX=()
start_daemon() {
        DAEMON_LOG="$AREA/run/daemon.$$.$RANDOM.log"
        "${DAEMON_PREFIX[@]}" "${UNIT_SANDBOX[@]}" "$BINDLINKD" --socket "$SOCK" --state-dir "$STATE" "$@" 2>"$DAEMON_LOG" &
        DAEMON_PID=$!
        # A generous deadline: the machine may be busy (and the build sanitized).
        local i
        for i in $(seq 1 1200); do
                [ -S "$SOCK" ] && "$BINDLINKCTL" list >/dev/null 2>&1 && return 0
                kill -0 "$DAEMON_PID" 2>/dev/null || break
                sleep 0.05
        done
        echo "# bindlinkd did not start:"; sed 's/^/# /' "$DAEMON_LOG"
        return 1
}

stop_daemon() {
        if [ -n "$DAEMON_PID" ]; then
                kill -TERM "$DAEMON_PID" 2>/dev/null
                wait "$DAEMON_PID" 2>/dev/null
                DAEMON_PID=
        fi
}

kill9_daemon() {
        if [ -n "$DAEMON_PID" ]; then
                kill -KILL "$DAEMON_PID" 2>/dev/null
                wait "$DAEMON_PID" 2>/dev/null
                DAEMON_PID=
        fi
}

# ---- TAP --------------------------------------------------------------------------
T_NUM=0
T_PASSED=0
T_FAILED=0
T_CURRENT_FAILED=0

# fail MESSAGE: record a failed check in the current test.
fail() {
        echo "#   FAILED: $*"
        T_CURRENT_FAILED=1
}

# run_test NAME: run the shell function NAME as one test case in a fresh directory.
# With TEST_MATCH set (an extended regular expression), only the tests whose names
# match it run: for working on one test; the suite never sets it.
run_test() {
        local name=$1
        if [ -n "${TEST_MATCH:-}" ] && ! printf '%s\n' "$name" | grep -Eq -- "$TEST_MATCH"; then
                return 0
        fi
        T_NUM=$((T_NUM + 1))
        T_CURRENT_FAILED=0
        T_SKIP=
        T="$AREA/t/$name"
        mkdir -p "$T"
        chmod 0755 "$AREA/t" "$T"
        local started=$SECONDS
        "$name"
        local rc=$?
        [ $((SECONDS - started)) -lt 10 ] || echo "# $name took $((SECONDS - started)) s"
        [ $rc -ne 0 ] && fail "test function returned $rc"
        # Every test leaves no link behind for the next one.
        remove_all_links
        if [ $T_CURRENT_FAILED -eq 0 ] && [ -n "$T_SKIP" ]; then
                # A test this machine cannot run says exactly why (skip REASON).
                echo "ok $T_NUM - $name # SKIP $T_SKIP"
                T_PASSED=$((T_PASSED + 1))
        elif [ $T_CURRENT_FAILED -eq 0 ]; then
                echo "ok $T_NUM - $name"
                T_PASSED=$((T_PASSED + 1))
        else
                echo "not ok $T_NUM - $name"
                T_FAILED=$((T_FAILED + 1))
        fi
}

summary() {
        [ "$T_NUM" -ge 0 ] || return 0
        echo "1..$T_NUM"
        echo "# $T_PASSED passed, $T_FAILED failed"
}

remove_all_links() {
        [ -n "$DAEMON_PID" ] || return 0
        local v
        # Innermost first, so removal does not re-graft what is removed next.
        "$BINDLINKCTL" list --json 2>/dev/null | jq -r '.bindlinks[].virtual' | awk '{ print length, $0 }' |
                sort -rn | cut -d' ' -f2- | while IFS= read -r v; do
                "$BINDLINKCTL" remove "$v" >/dev/null 2>&1
        done
}

# ---- assertions ----------------------------------------------------------------------
# check_eq WHAT EXPECTED ACTUAL
check_eq() {
        [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# check_file_is PATH CONTENT
check_file_is() {
        local got
        got=$(cat "$1" 2>&1) || { fail "cannot read $1: $got"; return; }
        [ "$got" = "$2" ] || fail "$1: expected content '$2', got '$got'"
}

# skip REASON: the current test cannot run on this machine (said, never silent).
skip() { T_SKIP=$*; }

check_exists() { [ -e "$1" ] || fail "$1 should exist"; }
check_missing() { [ ! -e "$1" ] || fail "$1 should not exist"; }

# past_fd_limit: how many objects a test makes to go past what an overlay server may
# hold by descriptor: the hard descriptor limit (at most 100,000) plus 2,000.
past_fd_limit() {
        local hard; hard=$(ulimit -Hn)
        { [ "$hard" = unlimited ] || [ "$hard" -gt 100000 ]; } && hard=100000
        echo $((hard + 2000))
}

# ctl ARGS...: run bindlinkctl, failing the test if it fails.
ctl() {
        local out
        out=$("$BINDLINKCTL" "$@" 2>&1) || { fail "bindlinkctl $*: $out"; return 1; }
        [ -z "$out" ] || echo "$out"
}

# ctl_fails HRESULT ERRNO ARGS...: bindlinkctl must fail with exit 1 and one line
# naming the HRESULT and the errno.
ctl_fails() {
        local hr=$1 en=$2 out rc
        shift 2
        out=$("$BINDLINKCTL" "$@" 2>&1)
        rc=$?
        [ $rc -eq 1 ] || fail "bindlinkctl $*: exit $rc, expected 1 ($out)"
        case "$out" in
        *"(HRESULT $hr, $en)"*) ;;
        *) fail "bindlinkctl $*: expected (HRESULT $hr, $en), got: $out" ;;
        esac
        [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "bindlinkctl $*: more than one line: $out"
        LAST_ERROR=$out
}

# as_nobody CMD...: run as an unprivileged user (optionally with extra groups in
# NOBODY_GROUPS, comma-separated).
as_nobody() {
        if [ -n "${NOBODY_GROUPS:-}" ]; then
                setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --groups="$NOBODY_GROUPS" "$@"
        else
                setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups "$@"
        fi
}

link_field() { # link_field VIRTUAL FIELD
        "$BINDLINKCTL" list --json | jq -r --arg v "$1" ".bindlinks[] | select(.virtual == \$v) | .$2"
}

realization_is() { [ "$(link_field "$1" realization)" = "$2" ]; }

mounts_under() { findmnt -rn -o TARGET | grep -c "^$1" ; }

# server_of DIR: the pid of the overlay server whose lower directory (fd 4) is DIR:
# V's original directory for a merged view, P for a parent overlay.
server_of() {
        local pid
        for pid in $(pgrep -f "^bindlink-overlay --fuse-fd"); do
                [ "$(readlink "/proc/$pid/fd/4" 2>/dev/null)" = "$1" ] && { echo "$pid"; return 0; }
        done
        return 1
}

tree_digest() { # content, names, modes and owners of a tree
        (cd "$1" && find . -printf '%p %m %u %g %s\n' | sort && find . -type f -exec md5sum {} + | sort) | md5sum
}
