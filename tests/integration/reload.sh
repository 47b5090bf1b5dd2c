#!/bin/bash
# reload.sh — S22 after boot: links.conf read again on SIGHUP (what `systemctl reload
# bindlinkd` sends). A real bindlinkd started with --config, the file edited, SIGHUP
# sent to the daemon's pid, and the links checked once the daemon says it reloaded.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

# with_config LINE...: (re)start the daemon on $T/links.conf holding these lines.
with_config() {
        printf '%s\n' "$@" > "$T/links.conf"
        stop_daemon
        start_daemon --config "$T/links.conf"
}

# reload LINE...: write the file anew, send SIGHUP, and wait (with a deadline) until
# the daemon has logged one more "reloaded" line than before.
reload() {
        printf '%s\n' "$@" > "$T/links.conf"
        local before; before=$(grep -c '^bindlinkd: reloaded ' "$DAEMON_LOG")
        kill -HUP "$DAEMON_PID" || { fail "cannot send SIGHUP to $DAEMON_PID"; return 1; }
        eventually 60 reloaded_more_than "$before" || { fail "no reload logged: $(cat "$DAEMON_LOG")"; return 1; }
}
reloaded_more_than() { [ "$(grep -c '^bindlinkd: reloaded ' "$DAEMON_LOG")" -gt "$1" ]; }
last_reload() { grep '^bindlinkd: reloaded ' "$DAEMON_LOG" | tail -n 1; }

# The mount on top of PATH, by its id: an unchanged line must not be remounted.
top_mount() { findmnt -rn -o ID --mountpoint "$1" | tail -n 1; }
has_link() { [ -n "$(link_field "$1" virtual)" ]; }

back_to_plain_daemon() {
        remove_all_links
        stop_daemon
        start_daemon
}

test_s22_reload_creates_the_link_of_a_new_line() {
        mkdir -p "$T/v1" "$T/v2" "$T/b"; echo b > "$T/b/x"
        with_config "$T/v1 $T/b" || { fail "daemon with config did not start"; return; }
        local order mount; order=$(link_field "$T/v1" order); mount=$(top_mount "$T/v1")
        reload "$T/v1 $T/b" "$T/v2 $T/b read-only" || { back_to_plain_daemon; return; }
        check_file_is "$T/v2/x" b
        (echo y > "$T/v2/x") 2>/dev/null && fail "the new line's read-only was ignored"
        grep -q "links.conf:2: created link $T/v2 -> $T/b" "$DAEMON_LOG" || fail "line 2 not reported: $(cat "$DAEMON_LOG")"
        # The unchanged line is left alone: the same link, the same mount, not logged.
        check_eq "line 1's link" "$order" "$(link_field "$T/v1" order)"
        check_eq "line 1's mount" "$mount" "$(top_mount "$T/v1")"
        check_eq "line 1 made once" 1 "$(grep -c "links.conf:1: " "$DAEMON_LOG")"
        check_eq status "bindlinkd: reloaded $T/links.conf: 1 created, 0 removed, 0 failed, 1 unchanged" "$(last_reload)"
        back_to_plain_daemon
}

test_s22_reload_removes_the_link_of_a_removed_line() {
        mkdir -p "$T/v1" "$T/v2" "$T/b"; echo orig > "$T/v2/o"; echo b > "$T/b/x"
        with_config "$T/v1 $T/b" "$T/v2 $T/b" || { fail "daemon with config did not start"; return; }
        check_file_is "$T/v2/x" b
        local mount; mount=$(top_mount "$T/v1")
        reload "$T/v1 $T/b" || { back_to_plain_daemon; return; }
        has_link "$T/v2" && fail "the removed line's link is still listed"
        check_file_is "$T/v2/o" orig
        check_missing "$T/v2/x"
        check_eq "line 1's mount" "$mount" "$(top_mount "$T/v1")"
        grep -q "links.conf:2: line removed: removed link $T/v2 -> $T/b" "$DAEMON_LOG" || fail "removal not reported: $(cat "$DAEMON_LOG")"
        check_eq status "bindlinkd: reloaded $T/links.conf: 0 created, 1 removed, 0 failed, 1 unchanged" "$(last_reload)"
        back_to_plain_daemon
}

test_s22_reload_makes_a_changed_line_again() {
        mkdir -p "$T/v" "$T/b1" "$T/b2"; echo one > "$T/b1/x"; echo two > "$T/b2/x"
        with_config "$T/v $T/b1" || { fail "daemon with config did not start"; return; }
        check_file_is "$T/v/x" one
        reload "$T/v $T/b2 read-only" || { back_to_plain_daemon; return; }
        check_eq "B" "$T/b2" "$(link_field "$T/v" backing)"
        check_file_is "$T/v/x" two
        (echo y > "$T/v/x") 2>/dev/null && fail "the changed line's read-only was ignored"
        grep -q "links.conf:1: line changed: removed link $T/v -> $T/b1" "$DAEMON_LOG" || fail "change not reported: $(cat "$DAEMON_LOG")"
        check_eq status "bindlinkd: reloaded $T/links.conf: 1 created, 1 removed, 0 failed, 0 unchanged" "$(last_reload)"
        # A changed line whose new B cannot be opened keeps the link it had.
        reload "$T/v $T/missing" || { back_to_plain_daemon; return; }
        check_eq "B kept" "$T/b2" "$(link_field "$T/v" backing)"
        grep -q "links.conf:1: cannot open $T/missing: .*kept as it was" "$DAEMON_LOG" || fail "the failed change not reported: $(cat "$DAEMON_LOG")"
        # ... and is still the file's: taking the line out removes it.
        reload "" || { back_to_plain_daemon; return; }
        has_link "$T/v" && fail "the kept link was not removed with its line"
        back_to_plain_daemon
}

# A link made through the API is never the file's, even on a path a line named, and
# even with the same B and flags: the file made its own, which was removed since.
test_s22_reload_leaves_an_api_link_on_the_path_of_a_removed_line() {
        mkdir -p "$T/same" "$T/other" "$T/b" "$T/b2"; echo b > "$T/b/x"; echo b2 > "$T/b2/x"
        with_config "$T/same $T/b" "$T/other $T/b" || { fail "daemon with config did not start"; return; }
        ctl remove "$T/same" && ctl create "$T/same" "$T/b" || { back_to_plain_daemon; return; }
        ctl remove "$T/other" && ctl create "$T/other" "$T/b2" || { back_to_plain_daemon; return; }
        reload "# both lines gone" || { back_to_plain_daemon; return; }
        has_link "$T/same" || fail "the API's link with the same B was removed"
        has_link "$T/other" || fail "the API's link with another B was removed"
        check_file_is "$T/same/x" b
        check_file_is "$T/other/x" b2
        check_eq status "bindlinkd: reloaded $T/links.conf: 0 created, 0 removed, 0 failed, 0 unchanged" "$(last_reload)"
        back_to_plain_daemon
}

test_s22_reload_reports_a_bad_line_and_loses_nothing_else() {
        mkdir -p "$T/v1" "$T/v2" "$T/v3" "$T/b"; echo b > "$T/b/x"
        with_config "$T/v1 $T/b" "$T/v2 $T/b" || { fail "daemon with config did not start"; return; }
        local mount1 mount2; mount1=$(top_mount "$T/v1"); mount2=$(top_mount "$T/v2")
        # Line 2 mistyped: its link stays as it was, rather than go for a typo.
        reload "$T/v1 $T/b" "$T/v2 $T/b read-onyl" "$T/v3 $T/b" || { back_to_plain_daemon; return; }
        grep -q "^bindlinkd: error: $T/links.conf:2: unknown option" "$DAEMON_LOG" || fail "the bad line not reported with PATH:LINE: $(cat "$DAEMON_LOG")"
        check_eq "line 1's mount" "$mount1" "$(top_mount "$T/v1")"
        check_eq "line 2's mount" "$mount2" "$(top_mount "$T/v2")"
        check_file_is "$T/v3/x" b
        check_eq status "bindlinkd: reloaded $T/links.conf: 1 created, 0 removed, 1 failed, 1 unchanged" "$(last_reload)"
        # A file that cannot be read changes nothing.
        mv "$T/links.conf" "$T/gone.conf"
        kill -HUP "$DAEMON_PID"
        eventually 60 grep -q "error: cannot read $T/links.conf" "$DAEMON_LOG" || fail "an unreadable file not reported"
        check_eq "links after an unreadable file" 3 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        back_to_plain_daemon
}

# Nested links of the file: RemoveBindLink refuses a link that holds another (EBUSY),
# so a reload removes them deepest first, and makes an inner link whose line stays
# again below an outer one whose line changed.
test_s22_reload_removes_nested_links_of_the_file_deepest_first() {
        mkdir -p "$T/v" "$T/b1/in" "$T/b1b/in" "$T/b2"; echo one > "$T/b1/x"; echo oneb > "$T/b1b/x"; echo two > "$T/b2/y"
        with_config "$T/v $T/b1" "$T/v/in $T/b2" || { fail "daemon with config did not start"; return; }
        check_file_is "$T/v/in/y" two
        reload "$T/v $T/b1b" "$T/v/in $T/b2" || { back_to_plain_daemon; return; }
        check_eq "outer B" "$T/b1b" "$(link_field "$T/v" backing)"
        check_file_is "$T/v/x" oneb
        check_file_is "$T/v/in/y" two
        ! grep -q "EBUSY" "$DAEMON_LOG" || fail "a removal was refused: $(cat "$DAEMON_LOG")"
        check_eq status "bindlinkd: reloaded $T/links.conf: 2 created, 2 removed, 0 failed, 0 unchanged" "$(last_reload)"
        reload "" || { back_to_plain_daemon; return; }
        check_eq "links left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        ! grep -q "EBUSY" "$DAEMON_LOG" || fail "a removal was refused: $(cat "$DAEMON_LOG")"
        check_missing "$T/v/x"
        # Deepest first: the inner link's removal is logged before the outer one's.
        check_eq "order of the last two removals" "$T/v/in $T/v" \
                "$(sed -n 's/.*line removed: removed link \([^ ]*\) -> .*/\1/p' "$DAEMON_LOG" | tail -n 2 | paste -sd' ')"
        back_to_plain_daemon
}

# What the file made is remembered in memory only; after a restart it is known again
# from the file (a line whose link the journal gave back identical is the file's).
test_s22_reload_after_a_restart_knows_the_files_links_again() {
        mkdir -p "$T/v" "$T/b"; echo b > "$T/b/x"
        with_config "$T/v $T/b" || { fail "daemon with config did not start"; return; }
        local order; order=$(link_field "$T/v" order)
        stop_daemon
        start_daemon --config "$T/links.conf" || { fail "restart failed"; return; }
        check_eq "re-adopted, not made again" "$order" "$(link_field "$T/v" order)"
        reload "" || { back_to_plain_daemon; return; }
        has_link "$T/v" && fail "the file's link, re-adopted at restart, was not removed with its line"
        back_to_plain_daemon
}

# systemd's side of a reload (Type=notify): RELOADING=1 with MONOTONIC_USEC=, then
# READY=1 with the outcome as STATUS=.
test_s22_reload_tells_systemd_reloading_then_ready() {
        mkdir -p "$T/v1" "$T/v2" "$T/b"
        printf '%s %s\n' "$T/v1" "$T/b" > "$T/links.conf"
        python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(120)
with open(sys.argv[2], "wb") as out:
    for _ in range(3):
        out.write(s.recv(4096).replace(b"\n", b" ") + b"\n"); out.flush()' "$T/notify" "$T/notified" &
        local listener=$!
        eventually 30 test -S "$T/notify" || fail "no notify socket"
        stop_daemon
        DAEMON_PREFIX=(env NOTIFY_SOCKET="$T/notify")
        start_daemon --config "$T/links.conf" || fail "daemon with config did not start"
        DAEMON_PREFIX=()
        eventually 60 grep -q '^READY=1' "$T/notified" || fail "no READY=1 at start"
        reload "$T/v1 $T/b" "$T/v2 $T/b"
        wait "$listener" || fail "fewer than three notifications"
        local reloading ready
        reloading=$(sed -n 2p "$T/notified"); ready=$(sed -n 3p "$T/notified")
        case $reloading in
        "RELOADING=1 MONOTONIC_USEC="[0-9]*" STATUS=reloading $T/links.conf") ;;
        *) fail "second notification: $reloading" ;;
        esac
        check_eq "third notification" "READY=1 STATUS=reloaded $T/links.conf: 1 created, 0 removed, 0 failed" "$ready"
        back_to_plain_daemon
}

test_s22_sighup_without_config_keeps_serving() {
        mkdir -p "$T/v" "$T/b"
        ctl create "$T/v" "$T/b" || return
        kill -HUP "$DAEMON_PID"
        eventually 30 grep -q "SIGHUP: there is no configuration file" "$DAEMON_LOG" || fail "SIGHUP not logged"
        kill -0 "$DAEMON_PID" || fail "SIGHUP ended the daemon"
        has_link "$T/v" || fail "SIGHUP lost a link"
}

start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
