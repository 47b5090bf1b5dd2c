#!/bin/bash
# sandbox.sh — S22: the daemon runs under the shipped unit's sandbox. systemd is not
# PID 1 here, so the unit cannot be started; instead every daemon this script starts
# gets what the unit would give it, as far as it can be had without systemd
# (BINDLINK_UNIT_SANDBOX=1, lib.sh): the seccomp filters systemd 252 builds from the
# unit (unit_sandbox.py), its bounding set, no_new_privs, umask, and a network and UTS
# namespace of its own. Then one link of each kind is made, used, adopted after a
# restart and removed, a container's link made (S23), and links.conf reloaded, by
# the daemon and the overlay servers it forks under that sandbox. Any other test
# script runs the same way with BINDLINK_UNIT_SANDBOX=1 set.
export BINDLINK_UNIT_SANDBOX=1
# dev.sh installs it: without it the sandbox is not tested, which is a failure.
if ! why=$(/usr/bin/python3 -c 'import seccomp' 2>&1); then
        echo "Bail out! the unit's seccomp filters are built with python3-seccomp (Debian's /usr/bin/python3): $why"
        exit 1
fi
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
log_has_no_refusal() {
        ! grep -E "Operation not permitted|Function not implemented|EPERM|ENOSYS" "$DAEMON_LOG" ||
                fail "the daemon met a refusal: $(grep -E 'Operation not permitted|Function not implemented|EPERM|ENOSYS' "$DAEMON_LOG" | head -n 3)"
}

test_s22_sandbox_is_in_force() {
        check_eq "seccomp mode of the daemon" 2 "$(status_field "$DAEMON_PID" Seccomp)"
        [ "$(status_field "$DAEMON_PID" Seccomp_filters)" -ge 8 ] ||
                fail "the daemon has $(status_field "$DAEMON_PID" Seccomp_filters) seccomp filters, not the unit's"
        check_eq "no_new_privs" 1 "$(status_field "$DAEMON_PID" NoNewPrivs)"
        [ "$(readlink "/proc/$DAEMON_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
                fail "the daemon shares our network namespace (PrivateNetwork=)"
        [ "$(readlink "/proc/$DAEMON_PID/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] ||
                fail "the daemon has a mount namespace of its own: its links would be seen by no one"
}

test_s22_sandbox_plain_read_only_and_anchorless_links() {
        mkdir -p "$T/v" "$T/ro" "$T/b" "$T/p"; echo b > "$T/b/x"; echo p > "$T/p/o"
        ctl create "$T/v" "$T/b" && ctl create --read-only "$T/ro" "$T/b" &&
                ctl create "$T/p/new" "$T/b" && ctl create "$T/v/in" "$T/p" || return
        check_file_is "$T/v/x" b
        (echo y > "$T/ro/x") 2>/dev/null && fail "a write through a read-only link succeeded"
        check_file_is "$T/p/new/x" b
        check_file_is "$T/p/o" p
        check_file_is "$T/v/in/o" p
        "$BINDLINKCTL" remove "$T/v" >/dev/null 2>&1 && fail "a link holding another was removed"
        ctl remove --recursive "$T/v" && ctl remove "$T/ro" && ctl remove "$T/p/new"
        check_missing "$T/p/new"
        check_eq "links left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        log_has_no_refusal
}

# The overlay servers are the daemon's children: they run under the same filters
# (fanotify on their layers, handles, FUSE passthrough, the callers' credentials).
test_s22_sandbox_merged_view_served_under_the_filter() {
        mkdir -p "$T/v/keep" "$T/b"; echo own > "$T/v/own"; echo back > "$T/b/x"; echo k > "$T/v/keep/k"
        ctl create --merged --exception "$T/v/keep" "$T/v" "$T/b" || return
        local server; server=$(server_of "$T/v") || { fail "no server for the view"; return; }
        check_eq "seccomp mode of the view's server" 2 "$(status_field "$server" Seccomp)"
        check_file_is "$T/v/own" own
        check_file_is "$T/v/x" back
        check_file_is "$T/v/keep/k" k
        echo new > "$T/v/new"; check_file_is "$T/b/new" new
        mkfifo "$T/v/fifo" || fail "mkfifo through the view"
        chmod 0640 "$T/v/new"; check_eq "mode through the view" 640 "$(stat -c %a "$T/b/new")"
        chown "$NOBODY_UID" "$T/v/new"; check_eq "owner through the view" "$NOBODY_UID" "$(stat -c %u "$T/b/new")"
        setfattr -n user.t -v 1 "$T/v/new" 2>/dev/null && check_eq "xattr through the view" 1 "$(getfattr --only-values -n user.t "$T/b/new" 2>/dev/null)"
        as_nobody sh -c "cat '$T/v/x'" >/dev/null || fail "nobody cannot read through the view"
        # A change beside the view shows through it at once (fanotify in the server).
        echo later > "$T/b/later"
        eventually 5 test -e "$T/v/later" || fail "a file made in B does not show through the view"
        ctl remove "$T/v"
        check_file_is "$T/v/own" own
        log_has_no_refusal
        ! grep -q "cannot watch\|falls back" "$DAEMON_LOG" || fail "a view could not watch its layers: $(grep 'cannot watch\|falls back' "$DAEMON_LOG")"
}

# S4 under the filter: a restarted daemon takes its overlay servers' descriptors back
# (pidfd_getfd) and adopts them, untouched.
test_s22_sandbox_restart_adopts_overlays() {
        mkdir -p "$T/v" "$T/b" "$T/p"; echo back > "$T/b/x"
        ctl create --merged "$T/v" "$T/b" && ctl create "$T/p/a" "$T/b" || return
        local merged parent; merged=$(server_of "$T/v"); parent=$(server_of "$T/p")
        kill9_daemon
        start_daemon || { fail "the daemon did not start again"; return; }
        grep -q "adopted 2 link(s) and 2 overlay(s) as they were" "$DAEMON_LOG" ||
                fail "not adopted as they were: $(cat "$DAEMON_LOG")"
        check_eq "the view's server" "$merged" "$(server_of "$T/v")"
        check_eq "the parent overlay's server" "$parent" "$(server_of "$T/p")"
        check_file_is "$T/v/x" back
        check_file_is "$T/p/a/x" back
        log_has_no_refusal
}

# S23 under RestrictNamespaces=mnt: the child that mounts in a container enters its
# mount namespace (setns) and makes a staging one (unshare, mount).
test_s22_sandbox_link_in_a_container() {
        mkdir -p "$T/v" "$T/b"; echo own > "$T/v/f"; echo back > "$T/b/f"
        unshare --mount --propagation private sleep 600 &
        local c=$!
        eventually 10 sh -c "[ \"\$(readlink /proc/$c/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]" ||
                { fail "no container"; kill "$c"; return; }
        ctl create --target "pid:$c" "$T/v" "$T/b" &&
                check_eq "the container sees B" back "$(nsenter -t "$c" -m cat "$T/v/f")" &&
                ctl create --merged --target "pid:$c" "$T/v/m" "$T/b"
        check_file_is "$T/v/f" own
        ctl remove --recursive --target "pid:$c" "$T/v"
        check_eq "the container sees V again" own "$(nsenter -t "$c" -m cat "$T/v/f")"
        # S16 there: the link made first moves onto the one made over it. statmount,
        # which tells a move from an unmount, is refused by systemd 252's filter: the
        # daemon then watches no container's mounts, rather than forget a moved link.
        mkdir -p "$T/v/sub" "$T/b/sub" "$T/b2"; echo two > "$T/b2/f"
        ctl create --target "pid:$c" "$T/v/sub" "$T/b2" && ctl create --target "pid:$c" "$T/v" "$T/b" &&
                check_eq "the inner link, on top" two "$(nsenter -t "$c" -m cat "$T/v/sub/f")"
        "$BINDLINKCTL" list --all-scopes >/dev/null # (the mount events are read by then)
        check_eq "links in the container" 2 "$("$BINDLINKCTL" list --json --target "pid:$c" | jq ".bindlinks | length")"
        grep -q "statmount(2) is refused here" "$DAEMON_LOG" || fail "statmount allowed, or not said: $(cat "$DAEMON_LOG")"
        ctl remove --recursive --target "pid:$c" "$T/v"
        kill -KILL "$c"; wait "$c" 2>/dev/null
        log_has_no_refusal
}

# A member of --allow-group is checked alive by a signal 0 to its pidfd, which
# another user's process refuses without CAP_KILL (not in the unit): EPERM is alive.
test_s22_sandbox_allowed_group_member_may_change_links() {
        mkdir -p "$T/v" "$T/b"; echo b > "$T/b/x"
        stop_daemon
        start_daemon --allow-group 4242 || { fail "daemon with --allow-group did not start"; start_daemon; return; }
        NOBODY_GROUPS=4242 as_nobody "$BINDLINKCTL" create "$T/v" "$T/b" || fail "a group member could not create"
        check_file_is "$T/v/x" b
        NOBODY_GROUPS=4242 as_nobody "$BINDLINKCTL" remove "$T/v" || fail "a group member could not remove"
        stop_daemon
        start_daemon
}

test_s22_sandbox_reload() {
        mkdir -p "$T/v1" "$T/v2" "$T/b"; echo b > "$T/b/x"
        printf '%s %s\n' "$T/v1" "$T/b" > "$T/links.conf"
        stop_daemon
        start_daemon --config "$T/links.conf" || { fail "daemon with config did not start"; start_daemon; return; }
        printf '%s %s\n' "$T/v2" "$T/b" > "$T/links.conf"
        kill -HUP "$DAEMON_PID"
        eventually 60 grep -q "^bindlinkd: reloaded " "$DAEMON_LOG" || fail "no reload: $(cat "$DAEMON_LOG")"
        check_file_is "$T/v2/x" b
        [ -n "$(link_field "$T/v1" virtual)" ] && fail "the removed line's link is still there"
        log_has_no_refusal
        remove_all_links
        stop_daemon
        start_daemon
}

start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
