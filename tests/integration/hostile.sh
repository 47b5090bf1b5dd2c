#!/bin/bash
# hostile.sh — the attacker's notebook. bindlinkd runs as root and mounts what it is
# asked to: whoever can make it change links owns the machine (a link over
# /etc/passwd adds an account). Each test is one way an unprivileged user (uid 65534,
# or any uid) tried to get in, to see more than they may, or to wear the daemon down,
# tried for real: user namespaces, setuid and file-capability programs, symlinks
# swapped under the daemon, raw requests the library would never send, floods. Each
# must fail for the attacker and leave root served. TAP; rule ids in the names.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

HOSTILE="$STAGE/bin/hostile_client"
ATTACKER_UID=1235

# realization_is V WANT: the link at V is realized as WANT (for eventually).

# no_links: the attack left no link behind.
no_links() {
        local n; n=$("$BINDLINKCTL" list --json | jq ".bindlinks | length")
        [ "$n" = 0 ] || fail "the attack made $n link(s): $("$BINDLINKCTL" list)"
}

# denied OUT: OUT is bindlinkctl's one-line E_ACCESSDENIED (EPERM) refusal.
denied() {
        case "$1" in *"(HRESULT 0x80070005, EPERM)"*) ;; *) fail "expected E_ACCESSDENIED (EPERM), got: $1" ;; esac
}

# A real setuid-root program (a copy of sleep) and one with cap_sys_admin in its file
# capabilities, in the test area (mounted without nosuid).
privileged_programs() {
        [ -x "$AREA/suid-sleep" ] && return 0
        cp /bin/sleep "$AREA/suid-sleep" && chown root:root "$AREA/suid-sleep" &&
                chmod 4755 "$AREA/suid-sleep" || return 1
        cp /bin/sleep "$AREA/cap-sleep" && setcap cap_sys_admin+ep "$AREA/cap-sleep" || return 1
}

daemon_status() { # daemon_status FIELD: a number from /proc/DAEMON/status (kB for Vm*)
        awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DAEMON_PID/status"
}
daemon_fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
daemon_fd_limit() { awk '/^Max open files/ { print $4 }' "/proc/$DAEMON_PID/limits"; }

# A flood running as nobody in the background, and when it is set up.
FLOOD_PID=
FLOOD_FDS_BEFORE=
start_flood() { # start_flood KIND N
        FLOOD_FDS_BEFORE=$(daemon_fds)
        # Not through as_nobody, a function: $! must be the flood itself.
        setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups \
                "$HOSTILE" "$1" "$2" >"$T/flood.out" 2>&1 &
        FLOOD_PID=$!
        eventually 120 grep -q '^ready' "$T/flood.out" || fail "the $1 flood did not get ready: $(cat "$T/flood.out")"
}
daemon_settled() { [ "$(daemon_fds)" -le $((FLOOD_FDS_BEFORE + 2)) ]; }
stop_flood() {
        [ -n "$FLOOD_PID" ] && { kill "$FLOOD_PID" 2>/dev/null; wait "$FLOOD_PID" 2>/dev/null; }
        FLOOD_PID=
        # The daemon lets go of the flood's connections (so the next test starts
        # with the user's share free).
        eventually 30 daemon_settled ||
                fail "the daemon still holds $(daemon_fds) descriptors (had $FLOOD_FDS_BEFORE)"
}

# root_calls N: N creates and removes of a plain link as root, all of which must work.
root_calls() {
        local i failed=0
        mkdir -p "$T/rv" "$T/rb"
        for i in $(seq "$1"); do
                "$BINDLINKCTL" create "$T/rv" "$T/rb" >/dev/null 2>&1 &&
                        "$BINDLINKCTL" remove "$T/rv" >/dev/null 2>&1 || failed=$((failed + 1))
        done
        check_eq "root calls that failed out of $1" 0 "$failed"
}

# ---- who may change links -------------------------------------------------------------

test_s2_capabilities_in_an_own_user_namespace_do_not_count() {
        mkdir -p "$T/etc" "$T/evil"; echo "root:x:0:0::/root:/bin/sh" > "$T/etc/passwd"
        echo "toor::0:0::/root:/bin/sh" > "$T/evil/passwd"
        local out
        # Root in a user namespace of its own has every capability — over it only.
        out=$(setpriv --reuid=$ATTACKER_UID --regid=$ATTACKER_UID --clear-groups \
                unshare -U -r "$BINDLINKCTL" create "$T/etc/passwd" "$T/evil/passwd" 2>&1)
        denied "$out"
        out=$(setpriv --reuid=$ATTACKER_UID --regid=$ATTACKER_UID --clear-groups \
                unshare -U -r --mount "$BINDLINKCTL" create "$T/etc" "$T/evil" 2>&1)
        denied "$out"
        no_links
        check_file_is "$T/etc/passwd" "root:x:0:0::/root:/bin/sh"
}

test_s2_root_without_capabilities_is_refused_and_sys_admin_is_what_counts() {
        mkdir -p "$T/v" "$T/b"
        local out
        out=$(setpriv --bounding-set=-all --inh-caps=-all "$BINDLINKCTL" create "$T/v" "$T/b" 2>&1)
        denied "$out"
        no_links
        # Root with CAP_SYS_ADMIN alone is an administrator (its lookups are then its
        # own: no DAC override).
        setpriv --bounding-set=-all,+sys_admin --inh-caps=-all "$BINDLINKCTL" create "$T/v" "$T/b" ||
                fail "root with CAP_SYS_ADMIN only could not create"
}

answers_at_least() { [ "$(cat "$T"/out.* | grep -c '^status=')" -ge "$1" ]; }
test_s2_connection_carried_across_a_setuid_exec_gains_nothing() {
        privileged_programs || { fail "cannot make a setuid program"; return; }
        mkdir -p "$T/v" "$T/b"
        local i pids= won
        # Connect as nobody, fork; the process that connected execs a setuid-root
        # program; its child then sends a create on the inherited connection. 24
        # tries at once; each child prints the daemon's answer.
        for i in $(seq 24); do
                as_nobody "$HOSTILE" fork-exec "$AREA/suid-sleep" "$T/v" "$T/b" >"$T/out.$i" 2>&1 &
                pids="$pids $!"
        done
        # shellcheck disable=SC2086
        wait $pids
        eventually 10 answers_at_least 24 ||
                { fail "not every try got an answer: $(cat "$T"/out.*)"; sed 's/^/#   /' "$DAEMON_LOG"; }
        won=$(cat "$T"/out.* | grep -c '^status=0 ')
        check_eq "creates that got through, of 24" 0 "$won"
        no_links
}

test_s2_request_sent_just_before_a_setuid_exec_is_refused() {
        privileged_programs || { fail "cannot make a setuid program"; return; }
        mkdir -p "$T/v" "$T/b"
        local i pids=
        # Send as nobody and become a setuid-root program at once: read by the
        # daemon as nobody or as the setuid program, never as root.
        for i in $(seq 24); do
                as_nobody "$HOSTILE" send-exec "$AREA/suid-sleep" "$T/v" "$T/b" &
                pids="$pids $!"
        done
        # shellcheck disable=SC2086
        wait $pids
        no_links
}

# The same, with the exec landing exactly while the daemon reads who the sender is:
# strace holds the daemon 300 ms as it asks for the sender's capabilities, which is
# when the sender becomes the setuid-root program. Read in the wrong order (the ids
# and AT_SECURE before the capabilities), nobody's ids went with root's capabilities
# and the link was made (seen once in a clean-clone CI run).
test_s2_setuid_exec_while_the_daemon_reads_the_sender_lends_nothing() {
        privileged_programs || { fail "cannot make a setuid program"; return; }
        mkdir -p "$T/v" "$T/b"
        strace -qq -o /dev/null -e trace=capget -e inject=capget:delay_enter=300000 \
                -p "$DAEMON_PID" &
        local tracer=$! i
        if eventually 30 sh -c "awk '/^TracerPid:/ { exit \$2 == 0 }' /proc/$DAEMON_PID/status"
        then
                for i in 1 2 3; do
                        as_nobody "$HOSTILE" send-exec "$AREA/suid-sleep" "$T/v" "$T/b"
                        as_nobody "$HOSTILE" send-exec "$AREA/cap-sleep" "$T/v" "$T/b"
                done
        else
                fail "strace did not attach"
        fi
        kill "$tracer"; wait "$tracer" 2>/dev/null
        no_links
}

test_s2_file_capabilities_after_sending_lend_nothing() {
        privileged_programs || { fail "cannot make a program with file capabilities"; return; }
        mkdir -p "$T/v" "$T/b"
        local i pids=
        for i in $(seq 24); do
                as_nobody "$HOSTILE" send-exec "$AREA/cap-sleep" "$T/v" "$T/b" &
                pids="$pids $!"
        done
        # shellcheck disable=SC2086
        wait $pids
        no_links
}

test_s2_a_message_written_by_two_processes_is_dropped() {
        mkdir -p "$T/v" "$T/b"
        local out
        # Root writes the first bytes; a process that dropped to nobody the rest.
        out=$("$HOSTILE" two-senders "$T/v" "$T/b" 2>&1)
        check_eq "exit (3: the create got through)" 0 $?
        case "$out" in *"no reply"*) ;; *) fail "the daemon answered a message of two senders: $out" ;; esac
        no_links
}

# ---- what a link may show its creator --------------------------------------------------

# with_member_daemon: a daemon that lets group 4242 change links.
with_member_daemon() {
        stop_daemon
        start_daemon --allow-group 4242 || { fail "daemon with --allow-group did not start"; return 1; }
}
as_member() { NOBODY_GROUPS=4242 as_nobody "$@"; }

# A recursive remove is all or nothing for who asks: one link below V whose parent
# they may not search, and none goes (S20).
test_s20_member_recursive_remove_stops_at_a_link_it_may_not_reach() {
        with_member_daemon || return
        mkdir -p "$T/m/a" "$T/pub/open/n" "$T/pub/locked/n" "$T/x"; chmod 0700 "$T/pub/locked"
        echo x > "$T/x/f"
        "$BINDLINKCTL" create "$T/m/a" "$T/pub" >/dev/null || { fail "create outer"; return; }
        "$BINDLINKCTL" create "$T/m/a/open/n" "$T/x" >/dev/null || { fail "create open"; return; }
        "$BINDLINKCTL" create "$T/m/a/locked/n" "$T/x" >/dev/null || { fail "create locked"; return; }
        local out
        out=$(as_member "$BINDLINKCTL" remove -r "$T/m/a" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EACCES)"*) ;; *) fail "expected EACCES, got: $out" ;; esac
        check_eq "every link stays" 3 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        check_file_is "$T/m/a/open/n/f" x
        # What they may reach, they may remove, deepest first.
        as_member "$BINDLINKCTL" remove "$T/m/a/open/n" || fail "member could not remove a link it reaches"
        "$BINDLINKCTL" remove -r "$T/m/a" || fail "root could not remove the rest"
        check_eq "no link left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        stop_daemon; start_daemon
}

# explain looks at a merged view's layers, and at what is on disk, as whoever asks:
# a member may not learn that a name exists where they may not look. Nobody else may
# ask at all (the request carries a path: nothing past the header is read from them).
test_s12_explain_tells_a_member_nothing_it_may_not_see() {
        with_member_daemon || return
        mkdir -p "$T/pub/v/locked" "$T/pub/b/locked" "$T/pub/b/open"; chmod 0700 "$T/pub/b/locked" "$T/pub/v/locked"
        echo s > "$T/pub/b/locked/secret"; echo s > "$T/pub/v/locked/vsecret"; echo o > "$T/pub/b/open/f"
        "$BINDLINKCTL" create --merged "$T/pub/v" "$T/pub/b" >/dev/null || { fail "create"; return; }
        local out
        out=$(as_member "$BINDLINKCTL" explain "$T/pub/v/open/f" 2>&1)
        case "$out" in *"shows its backing path's file"*"a file on disk"*) ;; *) fail "what it may see: $out" ;; esac
        for p in locked/secret locked/vsecret; do
                out=$(as_member "$BINDLINKCTL" explain "$T/pub/v/$p" 2>&1)
                case "$out" in
                *"shows nothing there"*"may not see it"*) ;;
                *) fail "explain told a member about $p: $out" ;;
                esac
        done
        # Root sees them.
        out=$("$BINDLINKCTL" explain "$T/pub/v/locked/secret" 2>&1)
        case "$out" in *"backing path's file"*) ;; *) fail "root: $out" ;; esac
        out=$(as_nobody "$BINDLINKCTL" explain "$T/pub/v/open/f" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EPERM)"*) ;; *) fail "nobody may not explain: $out" ;; esac
        "$BINDLINKCTL" remove "$T/pub/v" || fail "remove"
        stop_daemon; start_daemon
}

test_s2_member_cannot_link_inside_a_directory_it_cannot_search() {
        with_member_daemon || return
        mkdir -p "$T/root700/existing" "$T/pub"; chmod 0700 "$T/root700"; echo p > "$T/pub/f"
        local out
        out=$(as_member "$BINDLINKCTL" create "$T/root700/v" "$T/pub" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EACCES)"*) ;; *) fail "anchorless V in a 0700 root directory: expected EACCES, got: $out" ;; esac
        out=$(as_member "$BINDLINKCTL" create "$T/root700/existing" "$T/pub" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EACCES)"*) ;; *) fail "V in a 0700 root directory: expected EACCES, got: $out" ;; esac
        # Nor B nor an exception there.
        mkdir -p "$T/mine"; chown $NOBODY_UID "$T/mine"
        out=$(as_member "$BINDLINKCTL" create "$T/mine" "$T/root700" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EACCES)"*) ;; *) fail "B a 0700 root directory: expected EACCES, got: $out" ;; esac
        no_links
        stop_daemon; start_daemon
}

test_s2_s10_backing_symlink_swapped_later_shows_nothing_more() {
        with_member_daemon || return
        mkdir -p "$T/home/pub" "$T/home/view" "$T/root700/pub"; chmod 0700 "$T/root700"
        echo public > "$T/home/pub/data"; echo secret > "$T/root700/pub/data"
        chmod 0644 "$T/root700/pub/data"; chown -R $NOBODY_UID "$T/home"
        as_nobody ln -s "$T/home/pub" "$T/home/blink"
        as_member "$BINDLINKCTL" create "$T/home/view" "$T/home/blink" || { fail "member could not create"; return; }
        check_eq "through the link" public "$(as_nobody cat "$T/home/view/data")"
        as_nobody cat "$T/root700/pub/data" >/dev/null 2>&1 && { fail "the 0700 directory is open to nobody"; return; }
        # The daemon restarts (its journal keeps who made the link) ...
        stop_daemon; start_daemon --allow-group 4242 || { fail "restart"; return; }
        # ... and B is re-pointed at what only root can reach: the daemon shows B
        # again (S10) — as its creator would reach it.
        as_nobody ln -sfn "$T/root700/pub" "$T/home/blink"
        eventually 10 realization_is "$T/home/view" none ||
                fail "the link still shows something: $(link_field "$T/home/view" realization)"
        as_nobody cat "$T/home/view/data" >/dev/null 2>&1 && fail "nobody read a root-only file through their link"
        check_missing "$T/home/view/data"
        # Pointed back at what they may read, it shows again.
        as_nobody ln -sfn "$T/home/pub" "$T/home/blink"
        eventually 10 realization_is "$T/home/view" bind || fail "not shown again"
        check_eq "shown again" public "$(as_nobody cat "$T/home/view/data" 2>&1)"
        stop_daemon; start_daemon
}

# S10 for the whole path, as an attacker: B named through a symlink a member owns. The
# link follows the symlink, but only as far as its creator could: re-pointed at a
# root-only place, V shows nothing; a client that sends a name leading elsewhere than
# its B is refused.
test_s2_s10_symlink_on_the_way_to_b_follows_only_where_its_creator_may_go() {
        with_member_daemon || return
        mkdir -p "$T/home/pub/data" "$T/home/view" "$T/root700/pub/data"; chmod 0700 "$T/root700"
        echo public > "$T/home/pub/data/f"; echo secret > "$T/root700/pub/data/f"
        chmod 0755 "$T/root700/pub" "$T/root700/pub/data"; chmod 0644 "$T/root700/pub/data/f"
        chown -R $NOBODY_UID "$T/home"
        as_nobody ln -s "$T/home/pub" "$T/home/cur"
        as_member "$BINDLINKCTL" create "$T/home/view" "$T/home/cur/data" ||
                { fail "member could not create"; return; }
        check_eq "through the link" public "$(as_nobody cat "$T/home/view/f")"
        as_nobody ln -sfn "$T/root700/pub" "$T/home/cur"
        eventually 10 realization_is "$T/home/view" none ||
                fail "the link still shows something: $(link_field "$T/home/view" realization)"
        as_nobody cat "$T/home/view/f" >/dev/null 2>&1 && fail "nobody read a root-only file through their link"
        grep -q "root700" <<<"$(link_field "$T/home/view" backing)" &&
                fail "the daemon resolved the name as root: $(link_field "$T/home/view" backing)"
        as_nobody ln -sfn "$T/home/pub" "$T/home/cur"
        eventually 10 realization_is "$T/home/view" bind || fail "not shown again"
        check_eq "shown again" public "$(as_nobody cat "$T/home/view/f" 2>&1)"
        as_member "$BINDLINKCTL" remove "$T/home/view" || fail "member could not remove"
        # A name that leads to another place than B, and one the member may not walk.
        mkdir -p "$T/home/other/data" "$T/home/v2" "$T/home/v3"; chown -R $NOBODY_UID "$T/home"
        local out
        out=$(HOSTILE_BACKING_NAMED="$T/home/other/data" as_member "$HOSTILE" raw-create \
                "$T/home/v2" "$T/home/pub/data" 2>&1)
        case "$out" in *"status=-116 "*"leads to $T/home/other/data"*) ;; *) fail "a lying name: expected ESTALE, got: $out" ;; esac
        out=$(HOSTILE_BACKING_NAMED="$T/root700/pub/data" as_member "$HOSTILE" raw-create \
                "$T/home/v3" "$T/home/pub/data" 2>&1)
        case "$out" in *"status=-116 "*"Permission denied"*) ;; *) fail "a name through a 0700 directory: expected ESTALE, got: $out" ;; esac
        out=$(HOSTILE_BACKING_NAMED="relative/data" as_member "$HOSTILE" raw-create \
                "$T/home/v3" "$T/home/pub/data" 2>&1)
        case "$out" in *"status=-22 "*) ;; *) fail "a relative name: expected EINVAL, got: $out" ;; esac
        no_links
        stop_daemon; start_daemon
}

test_s2_s14_exception_swapped_for_a_symlink_grafts_nothing_from_outside() {
        with_member_daemon || return
        mkdir -p "$T/home/v/e/deep" "$T/home/b/e/deep" "$T/root700/e/deep"; chmod 0700 "$T/root700"
        echo mine > "$T/home/v/e/deep/f"; echo secret > "$T/root700/e/deep/f"
        chmod 0755 "$T/root700/e" "$T/root700/e/deep"; chmod 0644 "$T/root700/e/deep/f"
        chown -R $NOBODY_UID "$T/home"
        as_member "$BINDLINKCTL" create --exception "$T/home/v/e/deep" "$T/home/v" "$T/home/b" ||
                { fail "member could not create"; return; }
        check_eq "the exception" mine "$(as_nobody cat "$T/home/v/e/deep/f")"
        # The original V stays reachable by another path (here a bind mount of its
        # parent made by root, without the mounts on it): there its owner swaps a
        # directory on the way to the exception for a symlink to a root-only place...
        mkdir -p "$T/side"; mount --bind "$T/home" "$T/side" || { fail "bind"; return; }
        as_nobody sh -c "mv '$T/side/v/e' '$T/side/v/e.old' && ln -s '$T/root700/e' '$T/side/v/e'"
        umount -l "$T/side"
        # ... and makes the daemon show the link again (B went and came back).
        as_nobody sh -c "mv '$T/home/b' '$T/home/b2' && mv '$T/home/b2' '$T/home/b'"
        eventually 10 sh -c "grep -q 'cannot show $T/home/v/e/deep' '$DAEMON_LOG' ||
                ! cat '$T/home/v/e/deep/f' 2>/dev/null | grep -q mine" ||
                { fail "the daemon did not show the link again"; sed 's/^/#   /' "$DAEMON_LOG"; }
        as_nobody cat "$T/home/v/e/deep/f" 2>/dev/null | grep -q secret &&
                fail "the exception showed a root-only file"
        stop_daemon; start_daemon
}

test_s2_s3_symlink_put_above_a_link_does_not_move_its_mount() {
        mkdir -p "$T/u/sub/v" "$T/b" "$T/target/v"; echo b > "$T/b/x"; chown -R $NOBODY_UID "$T/u"
        ctl create "$T/u/sub/v" "$T/b" || return
        # The owner of an ancestor of V replaces it with a symlink to a place they may
        # not write (standing for /etc), then makes the daemon show the link again.
        as_nobody sh -c "mv '$T/u/sub' '$T/u/old' && ln -s '$T/target' '$T/u/sub'"
        rm -r "$T/b"; mkdir "$T/b"
        eventually 10 sh -c "[ \"\$('$BINDLINKCTL' list --json | jq -r '.bindlinks[0].realization')\" = none ] ||
                findmnt -n --mountpoint '$T/target/v' >/dev/null" ||
                fail "the daemon did not show the link again"
        findmnt -n --mountpoint "$T/target/v" >/dev/null &&
                fail "the daemon mounted over the symlink's target $T/target/v"
        umount -l "$T/target/v" 2>/dev/null
        # Put the directory back, so the link can be named (and removed) again.
        rm "$T/u/sub" && mv "$T/u/old" "$T/u/sub"
        true
}

# ---- what the daemon takes over the wire ------------------------------------------------

test_s3_raw_unnormalized_paths_are_refused() {
        mkdir -p "$T/u/v" "$T/b"; ln -s u "$T/alias"
        local p out
        for p in u/v u/./v u//v "$T/u/../u/v" "$T/u/v/" "$T//u/v" "$T/u/./v" "$T/alias/v"; do
                out=$(cd "$T" && "$HOSTILE" raw-create "$p" "$T/b" 2>&1)
                case $? in
                0) case "$out" in *"status=-22 "*) ;; *) fail "raw create of '$p': expected EINVAL, got: $out" ;; esac ;;
                3) fail "raw create of '$p' succeeded: $out" ;;
                *) fail "raw create of '$p' did not run: $out" ;;
                esac
        done
        for p in "$T/b/../b" "$T//b" b; do
                out=$(cd "$T" && "$HOSTILE" raw-create "$T/u/v" "$p" 2>&1)
                case "$out" in *"status=-22 "*) ;; *) fail "raw backing '$p': expected EINVAL, got: $out" ;; esac
        done
        no_links
        check_eq "mounts at $T/u/v" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/u/v\$")"
        ctl create "$T/u/v" "$T/b" || return
        for p in "$T/u//v" "$T/u/v/" "u/v"; do
                out=$("$HOSTILE" raw-remove "$p" 2>&1)
                case "$out" in *"status=-22 "*) ;; *) fail "raw remove of '$p': expected EINVAL, got: $out" ;; esac
        done
}

test_s14_s2_the_documented_256_exceptions_can_be_sent() {
        mkdir -p "$T/v" "$T/b"
        local i args=()
        for i in $(seq 0 255); do mkdir "$T/v/e$i"; args+=(--exception "$T/v/e$i"); done
        ctl create "${args[@]}" "$T/v" "$T/b" || return
        check_eq "exceptions listed" 256 "$(link_field "$T/v" 'exceptions | length')"
        # One more is a usage error of bindlinkctl's (and EINVAL from the library).
        "$BINDLINKCTL" create "${args[@]}" --exception "$T/v/e0" "$T/v2" "$T/b" >/dev/null 2>&1
        check_eq "exit for 257 exceptions" 2 $?
}

# ---- wearing the daemon down ------------------------------------------------------------

test_s2_big_messages_from_a_user_hold_no_memory() {
        local before after limit=$((64 * 1024))
        before=$(daemon_status VmRSS)
        # Sanitizer builds carry their own shadow memory: count what the flood adds.
        ldd "$BINDLINKD" | grep -q libasan && limit=$((before + 64 * 1024))
        start_flood flood-big 500
        root_calls 10
        after=$(daemon_status VmHWM)
        stop_flood
        echo "# daemon RSS before $before kB, peak $after kB (limit $limit kB)"
        [ "$after" -le "$limit" ] || fail "the daemon grew to $after kB (limit $limit kB)"
}

test_s2_descriptor_floods_from_a_user_hold_no_descriptors() {
        start_flood flood-fds 90
        local fds limit
        fds=$(daemon_fds); limit=$(daemon_fd_limit)
        root_calls 10
        stop_flood
        echo "# daemon descriptors during the flood: $fds of $limit"
        [ "$fds" -le $((limit / 2)) ] || fail "the daemon holds $fds descriptors (limit $limit)"
        [ "$fds" -le 200 ] || fail "the daemon holds $fds descriptors for 90 connections that may change nothing"
}

test_s2_idle_connections_of_a_user_leave_root_served() {
        start_flood idle 520
        root_calls 20
        # And the user is still served within its share.
        as_nobody "$BINDLINKCTL" list >/dev/null 2>&1 || true
        stop_flood
        root_calls 2
}

# Honest clients by the hundred, each connecting, asking and closing at once: the
# daemon must reap the closed ones before it counts slots, or a busy moment turns
# honest calls into ECONNRESET (52 of them, before).
test_s2_a_hundred_honest_clients_at_once_are_all_served() {
        local i j failed=0 pids=()
        for i in $(seq 100); do
                mkdir -p "$T/hv$i" "$T/hb$i"
                (
                        for j in 1 2 3; do
                                "$BINDLINKCTL" create "$T/hv$i" "$T/hb$i" >/dev/null 2>"$T/h$i.err" &&
                                        "$BINDLINKCTL" list >/dev/null 2>>"$T/h$i.err" &&
                                        "$BINDLINKCTL" remove "$T/hv$i" >/dev/null 2>>"$T/h$i.err" || exit 1
                        done
                ) &
                pids+=($!)
        done
        # And a user within its share of connections, at the same time.
        for i in $(seq 20); do
                as_nobody "$BINDLINKCTL" list >/dev/null 2>"$T/n$i.err" &
                pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
        check_eq "honest clients that failed out of 120" 0 "$failed"
        [ "$failed" = 0 ] || echo "# $(cat "$T"/h*.err "$T"/n*.err | sort | uniq -c | head -5)"
        no_links
}

[ -x "$HOSTILE" ] || { echo "Bail out! $HOSTILE is not built"; T_NUM=-1; exit 1; }
start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
