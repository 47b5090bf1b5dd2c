#!/bin/bash
# scope.sh — S23: links in another mount namespace (a container's), made through
# bindlinkctl --target and the C API. "Containers" are made here with unshare (a
# mount namespace, with a pid and a user namespace where a test needs them), as a
# container runtime makes them. A real bindlinkd in a private mount+pid namespace.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PYTHON=python3
CONTAINERS=()

# start_container [UNSHARE OPTION]...: a process in a mount namespace of its own, made
# from ours (private, unless the options say otherwise); its pid in C.
start_container() {
        unshare --mount --propagation private "$@" sleep 600 &
        C=$!
        CONTAINERS+=("$C")
        eventually 10 in_own_namespace "$C" || fail "container $C did not start"
}

in_own_namespace() { [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]; }

# in_container PID CMD...: run CMD in the mount namespace of PID.
in_container() {
        local pid=$1
        shift
        nsenter -t "$pid" -m -- "$@"
}

stop_containers() {
        local pid
        for pid in "${CONTAINERS[@]}"; do
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        CONTAINERS=()
}

scoped_links() { "$BINDLINKCTL" list --all-scopes -rn -o SCOPE | grep -c '^mntns:'; }

make_pair() {
        mkdir -p "$T/v" "$T/b"
        echo v-own > "$T/v/f"
        echo b-file > "$T/b/f"
}

test_s23_plain_link_in_a_container_is_seen_there_only() {
        make_pair
        start_container
        ctl create --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container sees B" b-file "$(in_container "$C" cat "$T/v/f")"
        check_file_is "$T/v/f" v-own
        check_eq "no mount on V on the host" 0 "$(findmnt -rn -o TARGET | grep -cx "$T/v")"
        check_eq "the host's list" "" "$("$BINDLINKCTL" list)"
        local line
        line=$("$BINDLINKCTL" list --all-scopes -rn -o REALIZATION,VIRTUAL,BACKING,SCOPE)
        case "$line" in
        "bind $T/v $T/b mntns:"*"\x20pid:$C") ;;
        *) fail "list --all-scopes: $line" ;;
        esac
        check_eq "SCOPE is a default column there" SCOPE \
                "$("$BINDLINKCTL" list --all-scopes | head -n 1 | awk '{ print $NF }')"
        check_eq "list of the container" 1 "$("$BINDLINKCTL" list --target "pid:$C" -rn -o VIRTUAL,BACKING | grep -cx "$T/v $T/b")"
        # S2 in a target: a second link on V is EEXIST, after B's check (as Windows).
        ctl_fails 0x80070057 EEXIST create --target "pid:$C" "$T/v" "$T/b"
        ctl_fails 0x80070002 ENOENT create --target "pid:$C" "$T/v" "$T/no-such-b"
        check_eq "json scope" "$C" "$("$BINDLINKCTL" list --json --all-scopes | jq -r '.bindlinks[0].scope.pid')"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container sees its own V again" v-own "$(in_container "$C" cat "$T/v/f")"
        check_eq "no scoped link left" 0 "$(scoped_links)"
        stop_containers
}

test_s23_s11_read_only_link_in_a_container() {
        make_pair
        start_container
        ctl create --read-only --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container reads B" b-file "$(in_container "$C" cat "$T/v/f")"
        in_container "$C" sh -c "echo x > '$T/v/f'" 2>/dev/null && fail "a write through a read-only link succeeded"
        check_file_is "$T/b/f" b-file
        ctl remove --target "pid:$C" "$T/v"
        stop_containers
}

test_s23_a_file_over_a_file_in_a_container() {
        mkdir -p "$T/d"
        echo v > "$T/d/vf"; echo b > "$T/bf"
        start_container
        ctl create --target "pid:$C" "$T/d/vf" "$T/bf" || return
        check_eq "the container sees B's file" b "$(in_container "$C" cat "$T/d/vf")"
        check_file_is "$T/d/vf" v
        stop_containers
}

# S15 in a container: a link inside another is made through it and shows on top of
# it; links are removed deepest first (RemoveBindLink's rule), or all at once with
# --recursive; a link over links
# already made there is refused for now.
test_s23_s15_nested_links_in_a_container() {
        mkdir -p "$T/v/sub" "$T/b1/sub" "$T/b2" "$T/w/in"
        echo b1 > "$T/b1/f"; echo b2 > "$T/b2/f"; echo own > "$T/v/sub/f"
        start_container
        ctl create --target "pid:$C" "$T/v" "$T/b1" || return
        ctl create --target "pid:$C" "$T/v/sub" "$T/b2" || return
        check_eq "the outer link" b1 "$(in_container "$C" cat "$T/v/f")"
        check_eq "the inner link, on top" b2 "$(in_container "$C" cat "$T/v/sub/f")"
        check_eq "B1 untouched" "" "$(ls "$T/b1/sub")"
        ctl_fails 0x800700AA EBUSY remove --target "pid:$C" "$T/v"
        case "$LAST_ERROR" in *"remove nested links deepest first"*) ;; *) fail "$LAST_ERROR" ;; esac
        # Both at once, deepest first (beyond Windows).
        ctl remove --recursive --target "pid:$C" "$T/v" || return
        check_eq "the container's own again" own "$(in_container "$C" cat "$T/v/sub/f")"
        ctl_fails 0x80070490 ENOENT remove -r --target "pid:$C" "$T/v"
        stop_containers
}

# S16 in a container: a link made over links made before it below its V shows them
# on top of it (their mounts move onto its tree, keeping their ids); they are removed
# first; one with no place in the new link's tree is refused and nothing changes.
test_s23_s16_link_over_links_made_before_it_in_a_container() {
        mkdir -p "$T/v/sub" "$T/v/other" "$T/b1/sub" "$T/b2" "$T/b3"
        echo b1 > "$T/b1/f"; echo b2 > "$T/b2/f"; echo b3 > "$T/b3/f"; echo own > "$T/v/sub/f"
        start_container
        ctl create --target "pid:$C" "$T/v/sub" "$T/b2" || return
        # A view over it: its server sees V's own entries, the link moves onto it.
        ctl create --merged --target "pid:$C" "$T/v" "$T/b1" || return
        check_eq "the view" b1 "$(in_container "$C" cat "$T/v/f")"
        check_eq "the inner link, on top of the view" b2 "$(in_container "$C" cat "$T/v/sub/f")"
        ctl remove --target "pid:$C" "$T/v/sub" || return
        check_eq "the view's own sub once it is gone" own "$(in_container "$C" cat "$T/v/sub/f")"
        ctl remove --target "pid:$C" "$T/v" || return
        ctl create --target "pid:$C" "$T/v/sub" "$T/b2" || return
        ctl create --target "pid:$C" "$T/v" "$T/b1" || return
        check_eq "the new outer link" b1 "$(in_container "$C" cat "$T/v/f")"
        check_eq "the inner link, still on top" b2 "$(in_container "$C" cat "$T/v/sub/f")"
        check_eq "what the container lists" ". ./f ./sub ./sub/f " "$(in_container_listing "$C" "$T/v")"
        ctl_fails 0x800700AA EBUSY remove --target "pid:$C" "$T/v"
        ctl remove --target "pid:$C" "$T/v/sub" || return
        check_eq "B1's sub below it" "" "$(in_container "$C" ls "$T/v/sub")"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container's own again" own "$(in_container "$C" cat "$T/v/sub/f")"
        # A link below with no place in the new one's tree: refused, nothing moved.
        ctl create --target "pid:$C" "$T/v/other" "$T/b3" || return
        ctl_fails 0x80004001 ENOTSUP create --target "pid:$C" "$T/v" "$T/b1"
        case "$LAST_ERROR" in *"has no place in the new link's tree"*) ;; *) fail "$LAST_ERROR" ;; esac
        check_eq "the link below as it was" b3 "$(in_container "$C" cat "$T/v/other/f")"
        ctl remove --target "pid:$C" "$T/v/other" || return
        check_eq "one mount fewer, none left" 0 "$(in_container "$C" findmnt -rn -o TARGET | grep -c "^$T/v")"
        stop_containers
}

# The same V, linked on the host and in two containers, each to its own B.
test_s23_same_v_in_the_host_and_two_containers() {
        mkdir -p "$T/v" "$T/b0" "$T/b1" "$T/b2"
        echo host > "$T/b0/f"; echo one > "$T/b1/f"; echo two > "$T/b2/f"
        start_container; local c1=$C
        start_container; local c2=$C
        ctl create --target "pid:$c1" "$T/v" "$T/b1" || return
        ctl create "$T/v" "$T/b0" || return
        ctl create --target "pid:$c2" "$T/v" "$T/b2" || return
        check_file_is "$T/v/f" host
        check_eq "container 1" one "$(in_container "$c1" cat "$T/v/f")"
        check_eq "container 2" two "$(in_container "$c2" cat "$T/v/f")"
        check_eq "scoped links" 2 "$(scoped_links)"
        ctl remove --target "pid:$c1" "$T/v"
        check_eq "container 2 keeps its link" two "$(in_container "$c2" cat "$T/v/f")"
        check_file_is "$T/v/f" host
        ctl remove "$T/v"
        stop_containers
}

# A container whose copy of the test area is a peer of the host's (rshared volume):
# the link must not propagate back out, and the host's mounts still reach it.
test_s23_link_below_an_rshared_volume_stays_in_its_container() {
        make_pair
        mkdir -p "$T/later"
        start_container --propagation unchanged
        local before; before=$(in_container "$C" findmnt -no PROPAGATION "$AREA")
        check_eq "the container's copy is shared" shared "$before"
        ctl create --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container sees B" b-file "$(in_container "$C" cat "$T/v/f")"
        check_file_is "$T/v/f" v-own
        check_eq "no mount on V on the host" 0 "$(findmnt -rn -o TARGET | grep -cx "$T/v")"
        # Host to container still flows.
        mkdir -p "$T/src"; echo from-host > "$T/src/x"
        mount --bind "$T/src" "$T/later"
        eventually 5 in_container "$C" test -e "$T/later/x" || fail "a host mount no longer reaches the container"
        umount "$T/later"
        ctl remove --target "pid:$C" "$T/v"
        stop_containers
}

# S23 lifetime: the container's last process ends: its links are forgotten at once,
# and bindlinkd holds nothing that keeps the namespace alive.
test_s23_links_go_when_the_container_ends() {
        make_pair
        start_container
        ctl create --target "pid:$C" "$T/v" "$T/b" || return
        local ns; ns=$(readlink "/proc/$C/ns/mnt")
        ls -l "/proc/$DAEMON_PID/fd" | grep -q "$ns" && fail "bindlinkd holds the container's namespace"
        stop_containers
        eventually 1 test "$(scoped_links)" = 0 || fail "the link outlived its container by more than a second"
        grep -q "ended: its 1 link(s) forgotten" "$DAEMON_LOG" || fail "nothing logged"
}

# The namespace lives on in another process after the first one ends: so does the link.
test_s23_link_stays_while_another_process_of_the_container_lives() {
        make_pair
        start_container
        local first=$C
        nsenter -t "$first" -m -- sleep 600 &
        local second=$!
        CONTAINERS+=("$second")
        eventually 10 in_own_namespace "$second" || fail "no second process"
        ctl create --target "pid:$first" "$T/v" "$T/b" || return
        kill -KILL "$first"; wait "$first" 2>/dev/null
        sleep 0.5 # nothing to wait for: the link must simply stay
        check_eq "the link stays" 1 "$(scoped_links)"
        check_eq "the second process sees B" b-file "$(in_container "$second" cat "$T/v/f")"
        check_eq "list names the process now" 1 "$("$BINDLINKCTL" list --all-scopes | grep -c "pid:$second")"
        ctl remove --target "pid:$second" "$T/v"
        stop_containers
}

# S4 for scoped links: a restarted bindlinkd knows the links of the containers that
# still live (and can remove them), and drops those of containers that ended meanwhile.
test_s23_s4_restart_keeps_live_containers_links_and_drops_dead_ones() {
        make_pair
        mkdir -p "$T/b2"; echo b2 > "$T/b2/f"
        start_container; local live=$C
        start_container; local dead=$C
        ctl create --target "pid:$live" "$T/v" "$T/b" || return
        ctl create --read-only --target "pid:$dead" "$T/v" "$T/b2" || return
        kill9_daemon
        kill -KILL "$dead"; wait "$dead" 2>/dev/null
        eventually 20 process_gone "$dead" || fail "the container did not end"
        start_daemon || { fail "restart failed"; return; }
        check_eq "one scoped link adopted" 1 "$(scoped_links)"
        check_eq "the live container's link" 1 "$("$BINDLINKCTL" list --target "pid:$live" -rn -o VIRTUAL,BACKING | grep -cx "$T/v $T/b")"
        grep -q "dropped: the namespace has ended" "$DAEMON_LOG" || fail "the dropped link was not said"
        check_eq "the container still sees B" b-file "$(in_container "$live" cat "$T/v/f")"
        ctl remove --target "pid:$live" "$T/v" || return
        check_eq "the container sees its own V again" v-own "$(in_container "$live" cat "$T/v/f")"
        # And a restart now knows nothing more.
        stop_daemon; start_daemon || { fail "restart failed"; return; }
        check_eq "nothing left" 0 "$(scoped_links)"
        stop_containers
}

# The three ways to name the namespace: pid, pidfd (a descriptor passed to
# bindlinkctl), the namespace file.
test_s23_targets_by_pid_pidfd_and_namespace_file() {
        make_pair
        start_container
        ctl create --target "ns:/proc/$C/ns/mnt" "$T/v" "$T/b" || return
        check_eq "by namespace" b-file "$(in_container "$C" cat "$T/v/f")"
        ctl remove --target "ns:/proc/$C/ns/mnt" "$T/v" || return
        "$PYTHON" - "$BINDLINKCTL" "$C" "$T/v" "$T/b" <<'PY' || fail "create by pidfd failed"
import os, subprocess, sys
ctl, pid, v, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fd = os.pidfd_open(pid)
subprocess.run([ctl, "create", "--target", "pidfd:%d" % fd, v, b], pass_fds=[fd], check=True)
PY
        check_eq "by pidfd" b-file "$(in_container "$C" cat "$T/v/f")"
        ctl remove --target "pid:$C" "$T/v" || return
        ctl_fails 0x80070057 EINVAL create --target "ns:/proc/$C/ns/net" "$T/v" "$T/b"
        local out
        out=$("$BINDLINKCTL" create --target "pid:999999" "$T/v" "$T/b" 2>&1) && fail "a target that is no process"
        case "$out" in *"no process 999999"*) ;; *) fail "no such process: $out" ;; esac
        stop_containers
}

# start_userns_container: a container in a user namespace of its own, as rootless
# podman makes one: its ids 0-65535 are the host's 100000-165535.
start_userns_container() {
        unshare --user --mount --propagation private sleep 600 &
        C=$!
        CONTAINERS+=("$C")
        eventually 10 in_own_namespace "$C" || fail "container $C did not start"
        echo "0 100000 65536" > "/proc/$C/uid_map" && echo "0 100000 65536" > "/proc/$C/gid_map" ||
                fail "cannot map the container's ids"
}

# as_container_root CMD...: CMD as the root of the user-namespace container C.
as_container_root() { nsenter -t "$C" -U -m -- "$@"; }

# A container in a user namespace of its own (rootless podman, --userns): its root can
# remount read-write a read-only mount made directly in its namespace (shown first, the
# reason), but not the read-only link: the link reaches it by propagation, which makes
# the kernel lock its flags.
test_s23_s11_read_only_link_stays_read_only_against_a_user_namespace_containers_root() {
        make_pair
        start_userns_container
        as_container_root sh -c "mount --bind -o ro '$T/b' '$T/v' && mount -o remount,bind,rw '$T/v' && umount '$T/v'" ||
                fail "the container's root could not remount its own mount (the reason is gone?)"
        ctl create --read-only --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container sees B" b-file "$(as_container_root cat "$T/v/f")"
        as_container_root sh -c "echo x > '$T/v/f'" 2>/dev/null && fail "the container wrote through the read-only link"
        as_container_root mount -o remount,bind,rw "$T/v" 2>/dev/null &&
                fail "the container's root made the read-only link writable"
        as_container_root mount -o remount,bind,rw,nosuid "$T/v" 2>/dev/null &&
                fail "the container's root changed the read-only link's flags"
        as_container_root sh -c "echo x > '$T/v/f'" 2>/dev/null && fail "the container wrote through the read-only link"
        check_file_is "$T/b/f" b-file
        check_eq "no mount on V on the host" 0 "$(findmnt -rn -o TARGET | grep -cx "$T/v")"
        # A restarted daemon still knows the mount under the link (the journal).
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container sees its own V again" v-own "$(as_container_root cat "$T/v/f")"
        check_eq "nothing left on V in the container" 0 "$(in_container "$C" findmnt -rn -o TARGET | grep -cx "$T/v")"
        ctl create --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "a plain link reaches it too" b-file "$(as_container_root cat "$T/v/f")"
        ctl remove --target "pid:$C" "$T/v" || return
        stop_containers
}

# S23: files in a link show sensible owners inside a user-namespace container: B is
# idmapped to the container's user namespace, so host root's files are its root's, as
# with podman's ":idmap" volumes (tmpfs and the usual disk filesystems allow it).
test_s23_link_in_a_user_namespace_container_is_idmapped() {
        make_pair
        chown 1234:1234 "$T/b/f"
        start_userns_container
        check_eq "without a link: host root's V is unmapped" 65534 "$(as_container_root stat -c %u "$T/v")"
        ctl create --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "host root's B shows as the container's root" 0 "$(as_container_root stat -c %u "$T/v")"
        check_eq "host uid 1234 shows as the container's 1234" 1234:1234 "$(as_container_root stat -c %u:%g "$T/v/f")"
        as_container_root sh -c "echo w > '$T/v/made'" || fail "the container's root cannot write in its B"
        check_eq "what it makes is host root's on disk" 0 "$(stat -c %u "$T/b/made")"
        ctl remove --target "pid:$C" "$T/v" || return
        stop_containers
}

# S23 authorization: nobody, and root of a user namespace of its own, get
# E_ACCESSDENIED; the link is not made.
test_s23_unprivileged_callers_cannot_place_links_in_a_container() {
        make_pair
        start_container
        local out
        out=$(as_nobody "$BINDLINKCTL" create --target "pid:$C" "$T/v" "$T/b" 2>&1)
        case "$out" in *"HRESULT 0x80070005, EPERM"*) ;; *) fail "nobody: $out" ;; esac
        out=$(unshare --user --map-root-user "$BINDLINKCTL" create --target "pid:$C" "$T/v" "$T/b" 2>&1)
        case "$out" in *"HRESULT 0x80070005"*) ;; *) fail "root of a child user namespace: $out" ;; esac
        # The same through the batch request (bindlink-oci-hook sends it).
        mkdir -p "$T/bundle"
        echo '{"ociVersion": "1.0.2", "root": {"path": "/"}}' > "$T/bundle/config.json"
        local state="{\"pid\": $C, \"bundle\": \"$T/bundle\", \"annotations\": {\"io.bindlink.links\": \"$T/b:$T/v\"}}"
        out=$(printf '%s' "$state" | unshare --user --map-root-user env BINDLINK_SOCKET="$BINDLINK_SOCKET" \
                "$STAGE/bin/bindlink-oci-hook" createRuntime 2>&1)
        case "$out" in *"HRESULT 0x80070005"*) ;; *) fail "root of a child user namespace, batch: $out" ;; esac
        out=$(as_nobody "$BINDLINKCTL" list --all-scopes 2>&1)
        case "$out" in *"HRESULT 0x80070005"*) ;; *) fail "nobody listing other namespaces: $out" ;; esac
        check_eq "no link made" 0 "$(scoped_links)"
        check_eq "the container's V" v-own "$(in_container "$C" cat "$T/v/f")"
        stop_containers
}

# runc CVE-2021-30465's pattern: V's parent is a symlink the container controls,
# pointing out of its root, and swapped while links are made. The mount never lands
# outside the root (RESOLVE_IN_ROOT), and an attempt through it fails.
test_s23_a_container_symlink_never_leads_the_mount_out_of_its_root() {
        local R="$T/root"
        mkdir -p "$R/real/v" "$T/outside/v" "$T/b"
        echo outside > "$T/outside/v/f"; echo b > "$T/b/f"
        ln -s ../outside "$R/a"
        start_container
        # Resolved in R: ../outside is R/outside, which does not exist (followed
        # naively from R, it is $T/outside).
        ctl_fails 0x80070003 ENOENT create --target "pid:$C" --root "$R" /a/v "$T/b"
        case "$LAST_ERROR" in *"parent of /a/v does not exist in the target"*) ;; *) fail "$LAST_ERROR" ;; esac
        check_eq "outside untouched" outside "$(in_container "$C" cat "$T/outside/v/f")"
        # Swapped under the daemon, again and again: only R's own directory is used.
        (for i in $(seq 1 400); do
                ln -sfn real "$R/a.new" && mv -T "$R/a.new" "$R/a"
                ln -sfn ../outside "$R/a.new" && mv -T "$R/a.new" "$R/a"
        done) &
        local swapper=$! made=0 i
        for i in $(seq 1 20); do
                # Every other one a merged view (its V is opened, then mounted on).
                local merged=(); [ $((i % 2)) = 0 ] && merged=(--merged)
                if "$BINDLINKCTL" create "${merged[@]}" --target "pid:$C" --root "$R" /a/v "$T/b" 2>/dev/null; then
                        made=$((made + 1))
                        "$BINDLINKCTL" remove --target "pid:$C" --root "$R" /real/v >/dev/null 2>&1 ||
                                "$BINDLINKCTL" remove --target "pid:$C" --root "$R" /a/v >/dev/null 2>&1
                fi
                check_eq "outside untouched (try $i)" outside "$(in_container "$C" cat "$T/outside/v/f")"
        done
        wait "$swapper"
        echo "# $made of 20 creates (half of them views) went through while the symlink was swapped"
        check_eq "nothing mounted outside the root" 0 "$(in_container "$C" findmnt -rn -o TARGET | grep -c "^$T/outside")"
        stop_containers
}

# in_container_listing PID DIR: the names below DIR as the container sees them.
in_container_listing() { in_container "$1" sh -c "cd '$2' && find . | sort | tr '\n' ' '"; }

view_servers() { pgrep -fc "^bindlink-overlay --fuse-fd" || true; }

# S12, S13 in a container: the merged view of B over the container's V, served from
# the host's namespace; the host's V never changes.
test_s23_s12_merged_link_in_a_container_is_the_union_there_only() {
        make_pair
        mkdir -p "$T/v/vdir"; echo v-only > "$T/v/vdir/x"; echo b-only > "$T/b/bonly"
        start_container
        # A mount of the container's below V: put back on the view.
        in_container "$C" sh -c "mount -t tmpfs none '$T/v/vdir' && echo mounted > '$T/v/vdir/m'" ||
                fail "cannot mount in the container"
        local servers; servers=$(view_servers)
        ctl create --merged --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container's mount on the view" mounted "$(in_container "$C" cat "$T/v/vdir/m")"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container's mount, as it was" mounted "$(in_container "$C" cat "$T/v/vdir/m")"
        in_container "$C" umount "$T/v/vdir" || fail "cannot take the mount away"
        ctl create --merged --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the union" ". ./bonly ./f ./vdir ./vdir/x " "$(in_container_listing "$C" "$T/v")"
        check_eq "B wins a collision" b-file "$(in_container "$C" cat "$T/v/f")"
        check_eq "one view server more" $((servers + 1)) "$(view_servers)"
        in_container "$C" sh -c "echo new > '$T/v/made'" || fail "cannot write a new name"
        check_file_is "$T/b/made" new
        in_container "$C" sh -c "echo changed > '$T/v/vdir/x'" || fail "cannot change V's file"
        check_file_is "$T/v/vdir/x" changed
        check_eq "no mount on V on the host" 0 "$(findmnt -rn -o TARGET | grep -cx "$T/v")"
        check_eq "the host's V" ". ./f ./vdir ./vdir/x " "$(cd "$T/v" && find . | sort | tr '\n' ' ')"
        case "$("$BINDLINKCTL" list --target "pid:$C")" in
        *"merged"*"$T/v "*"$T/b"*) ;; *) fail "list: $("$BINDLINKCTL" list --target "pid:$C")" ;; esac
        check_eq "realized by a view" overlay "$("$BINDLINKCTL" list --json --target "pid:$C" | jq -r '.bindlinks[0].realization')"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container sees its own V again" ". ./f ./vdir ./vdir/x " "$(in_container_listing "$C" "$T/v")"
        eventually 10 test "$(view_servers)" -eq "$servers" || fail "the view's server did not end"
        # S13, read-only and merged: B cannot be changed; new names go to V.
        ctl create --merged --read-only --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the union" ". ./bonly ./f ./made ./vdir ./vdir/x " "$(in_container_listing "$C" "$T/v")"
        in_container "$C" sh -c "echo x > '$T/v/f'" 2>/dev/null && fail "changed B's file through a read-only merged link"
        check_file_is "$T/b/f" b-file
        in_container "$C" sh -c "echo x > '$T/v/other'" || fail "cannot make a new name in V"
        check_file_is "$T/v/other" x
        check_missing "$T/b/other"
        ctl remove --target "pid:$C" "$T/v" || return
        stop_containers
}

# S14 in a container: a link with exceptions is shown by a view that shows B, and the
# container's original objects at the exceptions (found in the container's root).
test_s23_s14_exceptions_in_a_container_show_the_containers_originals() {
        make_pair
        local R="$T/root"
        mkdir -p "$R/v/keep/deep" "$R/v/gone"; echo orig > "$R/v/keep/deep/o"; echo vg > "$R/v/gone/g"
        mkdir -p "$T/b/keep"; echo b-keep > "$T/b/keep/bk"
        start_container
        ctl create --target "pid:$C" --root "$R" --exception /v/keep/deep /v "$T/b" || return
        check_eq "B, and the way to the exception" ". ./f ./keep ./keep/bk ./keep/deep ./keep/deep/o " "$(in_container_listing "$C" "$R/v")"
        check_eq "the container's original" orig "$(in_container "$C" cat "$R/v/keep/deep/o")"
        in_container "$C" sh -c "echo e > '$R/v/keep/deep/new'" || fail "the exception is not writable"
        check_file_is "$R/v/keep/deep/new" e
        ctl remove --target "pid:$C" --root "$R" /v || return
        check_eq "the container's V again" ". ./gone ./gone/g ./keep ./keep/deep ./keep/deep/new ./keep/deep/o " "$(in_container_listing "$C" "$R/v")"
        # An exception that does not exist in the container is named.
        ctl_fails 0x80070002 ENOENT create --target "pid:$C" --root "$R" --exception /v/none /v "$T/b"
        case "$LAST_ERROR" in *"exception /v/none does not exist in the target"*) ;; *) fail "$LAST_ERROR" ;; esac
        check_eq "nothing made" 0 "$(scoped_links)"
        stop_containers
}

# A view's server holds the container's V: it ends with the container (within a
# second of its last process), and a restarted daemon knows it again.
test_s23_a_views_server_ends_with_its_container_and_outlives_a_restart() {
        make_pair
        mkdir "$T/b/sub" "$T/b2"; echo inner > "$T/b2/i"
        start_container
        local servers; servers=$(view_servers)
        ctl create --merged --target "pid:$C" "$T/v" "$T/b" || return
        # A view inside the view: its V is found through the outer one.
        ctl create --merged --read-only --target "pid:$C" "$T/v/sub" "$T/b2" || return
        check_eq "the inner view" inner "$(in_container "$C" cat "$T/v/sub/i")"
        check_eq "two view servers more" $((servers + 2)) "$(view_servers)"
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        check_eq "the views survived the restart" b-file/inner "$(in_container "$C" cat "$T/v/f")/$(in_container "$C" cat "$T/v/sub/i")"
        check_eq "their links are known again" 2 "$(scoped_links)"
        # And their servers: an end is noticed (and said) by the new daemon.
        # (A view's lower directory is a copy of the container's mount, which has no
        # path here; its upper one, B, names it.)
        local server pid
        for pid in $(pgrep -f "^bindlink-overlay --fuse-fd"); do
                [ "$(readlink "/proc/$pid/fd/5" 2>/dev/null)" = "$T/b" ] && server=$pid
        done
        [ -n "$server" ] || fail "no server of the view of $T/b"
        kill -KILL "$server"
        eventually 5 grep -q "view of link $T/v in mount namespace [0-9]* has ended (its server, pid $server)" "$DAEMON_LOG" ||
                fail "the adopted server's end was not noticed"
        kill -KILL "$C"; wait "$C" 2>/dev/null
        eventually 10 process_gone "$C" || fail "the container did not end"
        eventually 1 test "$(view_servers)" -eq "$servers" || fail "the view's server outlived its container"
        eventually 2 test "$(scoped_links)" -eq 0 || fail "the link outlived its container"
        CONTAINERS=()
}

# S12 with S14 in a container: a merged link's exceptions show the container's
# originals, even where B has another type there (the view itself keeps them: no mount
# of the container's objects is placed); everything else is the union.
test_s23_s14_merged_link_with_exceptions_in_a_container() {
        make_pair
        mkdir -p "$T/v/keep" "$T/v/vdir" "$T/b/bdir"; echo orig > "$T/v/keep/o"; echo vx > "$T/v/vdir/x"
        echo b-keep > "$T/b/keep"   # B has a file where the exception is a directory
        start_container
        ctl create --merged --exception "$T/v/keep" --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the union, the original at the exception" ". ./bdir ./f ./keep ./keep/o ./vdir ./vdir/x " "$(in_container_listing "$C" "$T/v")"
        check_eq "B wins elsewhere" b-file "$(in_container "$C" cat "$T/v/f")"
        check_eq "the exception" orig "$(in_container "$C" cat "$T/v/keep/o")"
        in_container "$C" sh -c "echo n > '$T/v/keep/new' && echo top > '$T/v/newtop'" || fail "cannot write"
        check_file_is "$T/v/keep/new" n
        check_file_is "$T/b/newtop" top
        check_file_is "$T/b/keep" b-keep
        # An unprivileged user in the container: reads what its rights allow, and the
        # view does not let it write where it could not (root's 0755 directories).
        check_eq "nobody reads the exception" orig "$(in_container "$C" setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups cat "$T/v/keep/o")"
        in_container "$C" setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
                sh -c "echo x > '$T/v/keep/by-nobody'" 2>/dev/null && fail "nobody wrote in root's exception"
        in_container "$C" setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
                sh -c "echo x > '$T/v/by-nobody'" 2>/dev/null && fail "nobody wrote through the view"
        check_missing "$T/v/keep/by-nobody"
        check_missing "$T/b/by-nobody"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container's V again" ". ./f ./keep ./keep/new ./keep/o ./vdir ./vdir/x " "$(in_container_listing "$C" "$T/v")"
        stop_containers
}

# A link the container unmounts itself is forgotten at once (fanotify's mount
# namespace marks), its view's server ended; the container goes on living.
test_s23_a_link_the_container_unmounts_is_forgotten() {
        make_pair
        mkdir -p "$T/v/sub" "$T/b/sub"
        start_container
        local servers; servers=$(view_servers)
        ctl create --target "pid:$C" "$T/v" "$T/b" || return
        ctl create --merged --target "pid:$C" "$T/v/sub" "$T/b" || return
        check_eq "two links" 2 "$(scoped_links)"
        in_container "$C" umount "$T/v/sub" || fail "the container cannot unmount the view"
        eventually 2 test "$(scoped_links)" -eq 1 || fail "the unmounted view is still listed"
        eventually 2 test "$(view_servers)" -eq "$servers" || fail "its server goes on"
        grep -q "link $T/v/sub in mount namespace [0-9]* was unmounted there: forgotten" "$DAEMON_LOG" ||
                fail "not said"
        in_container "$C" umount "$T/v" || fail "the container cannot unmount the link"
        eventually 2 test "$(scoped_links)" -eq 0 || fail "the unmounted link is still listed"
        check_eq "the container sees its own V" v-own "$(in_container "$C" cat "$T/v/f")"
        # A restarted daemon has nothing to adopt.
        stop_daemon; start_daemon || { fail "restart failed"; return; }
        check_eq "nothing known" 0 "$(scoped_links)"
        stop_containers
}

# A user-namespace container gets views too; read-only and merged stays read-only.
test_s23_merged_link_in_a_user_namespace_container() {
        make_pair
        start_userns_container
        ctl create --merged --read-only --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container sees B" b-file "$(as_container_root cat "$T/v/f")"
        as_container_root sh -c "echo x > '$T/v/f'" 2>/dev/null && fail "wrote through the read-only view"
        as_container_root mount -o remount,bind,rw "$T/v" 2>/dev/null
        as_container_root sh -c "echo x > '$T/v/f'" 2>/dev/null && fail "wrote after a remount"
        check_file_is "$T/b/f" b-file
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container's V again" v-own "$(as_container_root cat "$T/v/f")"
        stop_containers
}

# S10, S12, S23: a merged view made in a user-namespace container is told of changes
# made directly in B, by the host and by the container's root (B is the container's
# root's, host uid 100000), at once. Each name is first asked about through the view,
# so without the view's watch the container would see the old answer for an hour.
test_s10_s12_s23_merged_view_in_a_user_namespace_container_sees_changes_made_beside_it() {
        make_pair
        mkdir "$T/b/sub"; echo aaaa > "$T/b/content"; echo m > "$T/b/mode"; chmod 0644 "$T/b/mode"
        echo c-old > "$T/b/c-old"; echo v-col > "$T/v/col"; echo b-col > "$T/b/col"
        chown -R 100000:100000 "$T/b"
        start_userns_container
        ctl create --merged --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "the container sees B's file" b-file "$(as_container_root cat "$T/v/f")"
        check_eq "list: B (tmpfs) watched, the container's V not looked at" unknown:V \
                "$("$BINDLINKCTL" list --all-scopes -rn -o WATCH "$T/v")"
        as_container_root sh -c "cd '$T/v' && stat host-new sub/host-sub c-old c-new mode col f \
                in-c >/dev/null 2>&1; cat content >/dev/null; ls . sub >/dev/null"
        # From the host.
        echo h > "$T/b/host-new"
        eventually 20 as_container_root test -e "$T/v/host-new" || fail "a file made in B by the host does not show"
        echo h > "$T/b/sub/host-sub"
        eventually 20 as_container_root test -e "$T/v/sub/host-sub" ||
                fail "a file made in B's subdirectory by the host does not show"
        rm "$T/b/f"
        eventually 20 as_container_root grep -qx v-own "$T/v/f" ||
                fail "V's f does not show after the host deleted B's"
        chmod 0600 "$T/b/mode"
        eventually 20 as_container_root sh -c "[ \"\$(stat -c %a '$T/v/mode')\" = 600 ]" ||
                fail "a mode changed in B by the host does not show"
        # From inside the container, directly in B.
        as_container_root sh -c "echo c > '$T/b/in-c'" || { fail "the container's root cannot write in B"; return; }
        eventually 20 as_container_root test -e "$T/v/in-c" || fail "a file the container made in B does not show"
        as_container_root mv "$T/b/c-old" "$T/b/c-new" || fail "mv in B"
        eventually 20 as_container_root sh -c "test -e '$T/v/c-new' && ! test -e '$T/v/c-old'" ||
                fail "a rename the container made in B does not show"
        as_container_root sh -c "echo bbbbbbbbbb > '$T/b/content'" || fail "write in B"
        eventually 20 as_container_root grep -qx bbbbbbbbbb "$T/v/content" ||
                fail "content the container wrote in B does not show"
        as_container_root rm "$T/b/col" || fail "rm in B"
        eventually 20 as_container_root grep -qx v-col "$T/v/col" ||
                fail "V's col does not show after the container deleted B's"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container's V again" v-own "$(as_container_root cat "$T/v/f")"
        stop_containers
}

# S23, beyond Windows: remove --recursive in a user-namespace container removes that
# container's links at and below the path, a merged view among them, deepest first,
# and nothing of the host's or of another container's at the same paths. The
# container's root cannot remove links this way, neither the host's nor any
# container's (its own included): changing links is the host administrators'.
test_s23_tree_removal_in_a_user_namespace_container_stays_in_its_scope() {
        mkdir -p "$T/v/sub" "$T/b1/sub" "$T/b2" "$T/b3"
        echo b1 > "$T/b1/f"; echo b2 > "$T/b2/f"; echo b3 > "$T/b3/f"; echo own > "$T/v/sub/f"
        echo v-own > "$T/v/f"
        start_userns_container
        local c1=$C
        start_container
        local c2=$C
        C=$c1
        ctl create --target "pid:$c1" "$T/v" "$T/b1" || return
        ctl create --merged --target "pid:$c1" "$T/v/sub" "$T/b2" || return
        ctl create --target "pid:$c2" "$T/v" "$T/b3" || return
        ctl create "$T/v/sub" "$T/b3" || return
        check_eq "the outer link in the container" b1 "$(as_container_root cat "$T/v/f")"
        check_eq "the merged inner link in the container" b2 "$(as_container_root cat "$T/v/sub/f")"
        local out what
        for what in "$T" "--target pid:$c1 $T/v" "--target pid:$c2 $T/v" "--target pid:$c1 /"; do
                # shellcheck disable=SC2086 # the words of what are arguments
                out=$(as_container_root env BINDLINK_SOCKET="$BINDLINK_SOCKET" "$BINDLINKCTL" \
                        remove --recursive $what 2>&1)
                case "$out" in *"HRESULT 0x80070005"*) ;; *) fail "the container's root, remove -r $what: $out" ;; esac
        done
        check_eq "the container's links after its root tried" 3 "$(scoped_links)"
        check_file_is "$T/v/sub/f" b3
        ctl remove --recursive --target "pid:$c1" "$T/v" || return
        check_eq "links left in containers" 1 "$(scoped_links)"
        check_eq "the container's own V" v-own "$(as_container_root cat "$T/v/f")"
        check_eq "the container's own sub" own "$(as_container_root cat "$T/v/sub/f")"
        check_eq "no mount left on V in the container" 0 "$(in_container "$c1" findmnt -rn -o TARGET | grep -c "^$T/v")"
        check_eq "the other container's link" b3 "$(in_container "$c2" cat "$T/v/f")"
        check_file_is "$T/v/sub/f" b3
        check_eq "the host's link is listed" 1 "$("$BINDLINKCTL" list -rn -o VIRTUAL | grep -cx "$T/v/sub")"
        ctl_fails 0x80070490 ENOENT remove -r --target "pid:$c1" "$T/v"
        ctl remove --target "pid:$c2" "$T/v" || return
        ctl remove "$T/v/sub" || return
        stop_containers
}

# S8 in a container: an anchorless link, on an entry that an overlay of V's parent
# makes (served from the host's namespace); the parent shows what it showed, and the
# container's own mounts below it stay where they were.
test_s23_s8_anchorless_link_in_a_container() {
        make_pair
        start_container
        in_container "$C" sh -c "mkdir '$T/v/mnt' && mount -t tmpfs none '$T/v/mnt' && echo mounted > '$T/v/mnt/m'" ||
                fail "cannot mount in the container"
        # One whose name mountinfo escapes, one below another.
        in_container "$C" sh -c "mkdir '$T/v/m nt' && mount -t tmpfs none '$T/v/m nt' && mkdir '$T/v/m nt/in' && mount -t tmpfs none '$T/v/m nt/in' && echo deep > '$T/v/m nt/in/d'" ||
                fail "cannot mount in the container"
        # A link made in the parent before: it moves onto the parent's overlay.
        mkdir -p "$T/v/plain" "$T/b3"; echo b3 > "$T/b3/f"
        ctl create --target "pid:$C" "$T/v/plain" "$T/b3" || return
        local servers; servers=$(view_servers)
        ctl create --target "pid:$C" "$T/v/new" "$T/b" || return
        check_eq "the link made before, on the overlay" b3 "$(in_container "$C" cat "$T/v/plain/f")"
        ctl_fails 0x800700AA EBUSY remove --target "pid:$C" "$T/v/new"
        ctl remove --target "pid:$C" "$T/v/plain" || return
        check_eq "its place once it is gone" "" "$(in_container "$C" ls "$T/v/plain")"
        rmdir "$T/v/plain"
        check_eq "the link" b-file "$(in_container "$C" cat "$T/v/new/f")"
        check_eq "the parent as it was" v-own "$(in_container "$C" cat "$T/v/f")"
        check_eq "the container's mount below the parent" mounted "$(in_container "$C" cat "$T/v/mnt/m")"
        check_eq "and those below it" deep "$(in_container "$C" cat "$T/v/m nt/in/d")"
        check_eq "listed" ". ./f ./m nt ./m nt/in ./m nt/in/d ./mnt ./mnt/m ./new ./new/f " "$(in_container_listing "$C" "$T/v")"
        check_missing "$T/v/new"
        check_eq "one server more (the parent's overlay)" $((servers + 1)) "$(view_servers)"
        check_eq "realized by a bind mount" bind "$("$BINDLINKCTL" list --json --target "pid:$C" | jq -r '.bindlinks[0].realization')"
        # Links made in the parent since ride on its overlay: they go first.
        mkdir -p "$T/b2"; echo b2 > "$T/b2/f"
        ctl create --target "pid:$C" "$T/v/mnt" "$T/b2" || return
        ctl_fails 0x800700AA EBUSY remove --target "pid:$C" "$T/v/new"
        case "$LAST_ERROR" in *"carries the link on $T/v/mnt"*) ;; *) fail "$LAST_ERROR" ;; esac
        ctl remove --target "pid:$C" "$T/v/mnt" || return
        check_eq "the container's mount again" mounted "$(in_container "$C" cat "$T/v/mnt/m")"
        # A restart knows the overlay under the link.
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        ctl remove --target "pid:$C" "$T/v/new" || return
        check_eq "the parent again" ". ./f ./m nt ./m nt/in ./m nt/in/d ./mnt ./mnt/m " "$(in_container_listing "$C" "$T/v")"
        check_eq "the container's mount stays" mounted "$(in_container "$C" cat "$T/v/mnt/m")"
        check_eq "no overlay left on the parent" 0 "$(in_container "$C" findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse")"
        eventually 10 test "$(view_servers)" -eq "$servers" || fail "the overlay's server did not end"
        # Read-only: nothing written through it.
        ctl create --read-only --target "pid:$C" "$T/v/new" "$T/b" || return
        in_container "$C" sh -c "echo x > '$T/v/new/f'" 2>/dev/null && fail "wrote through a read-only anchorless link"
        # Unmounted by the container itself: the parent's overlay still serves the
        # parent (its server is not ended under it) until the link is removed.
        in_container "$C" umount "$T/v/new" || fail "the container cannot unmount the link"
        eventually 5 grep -q "link $T/v/new in mount namespace [0-9]* was unmounted there; the overlay" "$DAEMON_LOG" ||
                fail "not said"
        check_eq "the parent still served" v-own "$(in_container "$C" cat "$T/v/f")"
        ctl remove --target "pid:$C" "$T/v/new" || return
        check_eq "no overlay left on the parent" 0 "$(in_container "$C" findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse")"
        check_eq "the parent again" ". ./f ./m nt ./m nt/in ./m nt/in/d ./mnt ./mnt/m " "$(in_container_listing "$C" "$T/v")"
        stop_containers
}

# S9 in a container: a directory over a file, and a file over a directory.
test_s23_s9_other_types_in_a_container() {
        make_pair
        echo a-file > "$T/v/afile"; mkdir "$T/v/adir"; echo in-dir > "$T/v/adir/x"; echo b-file-only > "$T/bfile"
        start_container
        ctl create --target "pid:$C" "$T/v/afile" "$T/b" || return
        check_eq "a directory over a file" b-file "$(in_container "$C" cat "$T/v/afile/f")"
        check_file_is "$T/v/afile" a-file
        # A second one in the same parent: its entry is added to the parent's overlay.
        local servers; servers=$(view_servers)
        ctl create --target "pid:$C" "$T/v/adir" "$T/bfile" || return
        check_eq "a file over a directory" b-file-only "$(in_container "$C" cat "$T/v/adir")"
        check_eq "the first still" b-file "$(in_container "$C" cat "$T/v/afile/f")"
        check_eq "no second overlay" "$servers" "$(view_servers)"
        ctl_fails 0x800700AA EBUSY remove --target "pid:$C" "$T/v/afile"
        ctl remove --target "pid:$C" "$T/v/adir" || return
        check_eq "the directory again" in-dir "$(in_container "$C" cat "$T/v/adir/x")"
        ctl remove --target "pid:$C" "$T/v/afile" || return
        check_eq "the file again" a-file "$(in_container "$C" cat "$T/v/afile")"
        check_eq "no overlay left" 0 "$(in_container "$C" findmnt -rn -o FSTYPE | grep -c fuse.bindlink)"
        stop_containers
}

# What this release does not place in a scope is refused, saying so.
test_s23_links_it_cannot_place_in_a_container_are_refused_clearly() {
        make_pair
        start_container
        ctl_fails 0x80004001 ENOTSUP create --target "pid:$C" /bindlink-new-top "$T/b"
        case "$LAST_ERROR" in *"at the target's root"*) ;; *) fail "$LAST_ERROR" ;; esac
        ctl_fails 0x80070057 EINVAL create --exception "$T/v/missing/e" --target "pid:$C" "$T/v/missing" "$T/b"
        check_eq "nothing made" 0 "$(scoped_links)"
        check_eq "no view left running" 0 "$(view_servers)"
        stop_containers
        stop_containers
}

# S16 in a user-namespace container: a link over a read-only link made before it; the
# one below moves onto it with its anchor beneath it (both by propagation, locked),
# and stays read-only; both go without a trace.
test_s23_s16_s11_link_over_links_in_a_user_namespace_container() {
        mkdir -p "$T/v/sub" "$T/b1/sub" "$T/b2"
        echo b1 > "$T/b1/f"; echo b2 > "$T/b2/f"; echo own > "$T/v/sub/f"
        start_userns_container
        ctl create --read-only --target "pid:$C" "$T/v/sub" "$T/b2" || return
        ctl create --target "pid:$C" "$T/v" "$T/b1" || return
        check_eq "the outer link" b1 "$(as_container_root cat "$T/v/f")"
        check_eq "the inner link, on top" b2 "$(as_container_root cat "$T/v/sub/f")"
        as_container_root mount -o remount,bind,rw "$T/v/sub" 2>/dev/null &&
                fail "the container's root made the moved read-only link writable"
        as_container_root sh -c "echo x > '$T/v/sub/f'" 2>/dev/null && fail "wrote through it"
        ctl_fails 0x800700AA EBUSY remove --target "pid:$C" "$T/v"
        ctl remove --target "pid:$C" "$T/v/sub" || return
        check_eq "B1's sub below it" "" "$(as_container_root ls "$T/v/sub")"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "the container's own again" own "$(as_container_root cat "$T/v/sub/f")"
        check_eq "no mount left" 0 "$(in_container "$C" findmnt -rn -o TARGET | grep -c "^$T/v")"
        check_file_is "$T/b2/f" b2
        stop_containers
}

# A user-namespace container's own mount below V, or below V's parent, stays visible
# through a view on V and through an overlay of the parent (both by propagation), and
# is there as it was after them.
test_s23_user_namespace_containers_own_mounts_stay_beside_its_links() {
        make_pair
        mkdir "$T/v/mnt"
        start_userns_container
        as_container_root sh -c "mount -t tmpfs none '$T/v/mnt' && echo mounted > '$T/v/mnt/m'" ||
                fail "the container cannot mount"
        ctl create --read-only --target "pid:$C" "$T/v/new" "$T/b" || return
        check_eq "beside an anchorless link" mounted "$(as_container_root cat "$T/v/mnt/m")"
        ctl remove --target "pid:$C" "$T/v/new" || return
        check_eq "after it" mounted "$(as_container_root cat "$T/v/mnt/m")"
        ctl create --merged --target "pid:$C" "$T/v" "$T/b" || return
        check_eq "through a merged view" mounted "$(as_container_root cat "$T/v/mnt/m")"
        ctl remove --target "pid:$C" "$T/v" || return
        check_eq "after it" mounted "$(as_container_root cat "$T/v/mnt/m")"
        stop_containers
}

# S8 and S11 in a user-namespace container: an anchorless read-only link arrives by
# propagation too (the parent's overlay onto an anchor), so its root cannot make it
# writable; nothing is left on the parent after it.
test_s23_s8_s11_anchorless_read_only_link_in_a_user_namespace_container() {
        make_pair
        start_userns_container
        # A link made in the parent before moves onto its overlay, anchor and all.
        mkdir -p "$T/v/plain" "$T/b3"; echo b3 > "$T/b3/f"
        ctl create --read-only --target "pid:$C" "$T/v/plain" "$T/b3" || return
        ctl create --read-only --target "pid:$C" "$T/v/new" "$T/b" || return
        check_eq "the link made before, on the overlay" b3 "$(as_container_root cat "$T/v/plain/f")"
        as_container_root mount -o remount,bind,rw "$T/v/plain" 2>/dev/null && fail "made the moved link writable"
        ctl remove --target "pid:$C" "$T/v/plain" || return
        rmdir "$T/v/plain"
        check_eq "the link" b-file "$(as_container_root cat "$T/v/new/f")"
        check_eq "the parent as it was" v-own "$(as_container_root cat "$T/v/f")"
        as_container_root sh -c "echo x > '$T/v/new/f'" 2>/dev/null && fail "wrote through the read-only link"
        as_container_root mount -o remount,bind,rw "$T/v/new" 2>/dev/null &&
                fail "the container's root made the read-only link writable"
        as_container_root sh -c "echo x > '$T/v/new/f'" 2>/dev/null && fail "wrote after a remount"
        check_file_is "$T/b/f" b-file
        ctl remove --target "pid:$C" "$T/v/new" || return
        check_eq "the parent again" ". ./f " "$(as_container_root sh -c "cd '$T/v' && find . | sort | tr '\n' ' '")"
        check_eq "nothing left on the parent" 0 "$(in_container "$C" findmnt -rn -o TARGET | grep -c "^$T/v")"
        stop_containers
}

# ---- an OCI runtime: podman runs the hook at createRuntime -------------------------

# podman_setup: a root filesystem of busybox in $T/rootfs, podman's storage under $T,
# and a hooks directory with bindlink's hook pointed at this daemon; the podman
# command in PODMAN. False (with the reason in SKIP_WHY) when this machine cannot.
podman_setup() {
        local busybox
        SKIP_WHY=
        command -v podman >/dev/null || { SKIP_WHY="podman is not installed (./dev.sh installs it)"; return 1; }
        command -v runc >/dev/null || { SKIP_WHY="runc is not installed (./dev.sh installs it)"; return 1; }
        busybox=$(command -v busybox) || { SKIP_WHY="busybox is not installed"; return 1; }
        mkdir -p "$T/rootfs/bin" "$T/rootfs/data" "$T/rootfs/proc" "$T/rootfs/dev" "$T/rootfs/sys" \
                "$T/rootfs/etc" "$T/rootfs/tmp" "$T/hooks" "$T/podman"
        cp "$busybox" "$T/rootfs/bin/busybox"
        local tool
        for tool in sh cat ls echo; do ln -s busybox "$T/rootfs/bin/$tool"; done
        echo own-data > "$T/rootfs/data/f"
        local hook="$BUILDDIR/bindlink-oci-hook"
        [ -f "$BUILDDIR/.libs/bindlink-oci-hook" ] && hook="$BUILDDIR/.libs/bindlink-oci-hook"
        jq -n --arg path "$hook" --arg sock "$SOCK" --arg lib "$BUILDDIR/.libs" '{
                version: "1.0.0",
                hook: {path: $path, args: ["bindlink-oci-hook", "createRuntime"],
                       env: ["BINDLINK_SOCKET=" + $sock, "LD_LIBRARY_PATH=" + $lib]},
                when: {annotations: {"^io\\.bindlink\\.links$": ".*"}},
                stages: ["createRuntime"]}' > "$T/hooks/bindlink.json"
        # crun (Debian's default) refuses a machine whose cgroups are in hybrid mode, as
        # this one's are; runc runs on both.
        # (podman's run root must be short: sockets are made in it)
        mkdir -p "$AREA/pr/$T_NUM"
        PODMAN=(podman --root "$T/podman/root" --runroot "$AREA/pr/$T_NUM" --storage-driver vfs
                --cgroup-manager cgroupfs --events-backend none --runtime runc
                --hooks-dir "$T/hooks")
        local out
        if ! out=$("${PODMAN[@]}" run --rm --network none --rootfs "$T/rootfs" /bin/echo ready 2>&1); then
                SKIP_WHY="podman cannot run a container here: $(printf '%s' "$out" | tail -1)"
                return 1
        fi
}

# S23 end to end: podman runs a container from a root directory with the hook
# installed; the container sees its links from its first instruction, the host never
# does, and once it has exited nothing of them remains.
test_s23_podman_container_sees_its_links_from_its_first_instruction() {
        podman_setup || { skip "$SKIP_WHY"; return 0; }
        mkdir -p "$T/b"; echo b-file > "$T/b/f"; echo ro > "$T/ro"
        local links out
        links="$T/b:/data;$T/ro:/etc/ro:ro"
        touch "$T/rootfs/etc/ro"
        out=$("${PODMAN[@]}" run --rm --network none \
                --annotation "io.bindlink.links=$links" --rootfs "$T/rootfs" \
                /bin/sh -c 'cat /data/f /etc/ro; echo x 2>/dev/null >/etc/ro || echo refused' 2>&1)
        check_eq "what the container saw first" "b-file
ro
refused" "$out"
        # Anchorless (S8), at the top of the image and below: an overlay of the root
        # the runtime is about to pivot into (which becomes the container's root, the
        # runtime's mounts put back on it) and of /etc.
        out=$("${PODMAN[@]}" run --rm --network none \
                --annotation "io.bindlink.links=$T/b:/newdir;$T/b:/etc/newsub;$T/b:/newdir2" \
                --rootfs "$T/rootfs" \
                /bin/sh -c 'cat /newdir/f /etc/newsub/f /newdir2/f /data/f; ls /proc/self/fd >/dev/null && echo proc' 2>&1)
        check_eq "anchorless links from the first instruction" "b-file
b-file
b-file
own-data
proc" "$out"
        check_missing "$T/rootfs/newdir"
        check_file_is "$T/rootfs/data/f" own-data
        check_eq "no mount under the root filesystem on the host" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/rootfs")"
        eventually 1 test "$(scoped_links)" = 0 || fail "links outlived the container by more than a second"
}

# A bad annotation fails the container's start, naming the entry; nothing is made.
test_s23_podman_container_with_a_bad_annotation_does_not_start() {
        podman_setup || { skip "$SKIP_WHY"; return 0; }
        mkdir -p "$T/b"
        local out rc
        out=$("${PODMAN[@]}" run --rm --network none \
                --annotation "io.bindlink.links=$T/b:/data;$T/b" \
                --rootfs "$T/rootfs" /bin/echo started 2>&1)
        rc=$?
        [ $rc -ne 0 ] || fail "the container started: $out"
        case "$out" in *"entry 2 has no \"virtual\" path"*) ;; *) fail "message: $out" ;; esac
        case "$out" in *started*) fail "its first process ran: $out" ;; esac
        out=$("${PODMAN[@]}" run --rm --network none \
                --annotation "io.bindlink.links=$T/b:/nowhere/data" \
                --rootfs "$T/rootfs" /bin/echo started 2>&1)
        case "$out" in *"entry 1 (/nowhere/data -> $T/b)"*"does not exist"*) ;; *) fail "message: $out" ;; esac
        check_eq "no scoped link" 0 "$(scoped_links)"
}

# The hook by hand, with the state a runtime writes, for a container made here: the
# JSON form; all of the links or none of them.
test_s23_oci_hook_json_form_makes_all_links_or_none() {
        make_pair
        mkdir -p "$T/bundle" "$T/b2"; echo b2 > "$T/b2/f"; mkdir -p "$T/w"
        jq -n '{ociVersion: "1.0.2", root: {path: "/"}}' > "$T/bundle/config.json"
        start_container
        local hook="$BUILDDIR/bindlink-oci-hook"
        [ -f "$BUILDDIR/.libs/bindlink-oci-hook" ] && hook="$BUILDDIR/.libs/bindlink-oci-hook"
        state() { # state LINKS-JSON
                jq -n --argjson pid "$C" --arg bundle "$T/bundle" --arg links "$1" \
                        '{ociVersion: "1.0.2", id: "c1", status: "creating", pid: $pid,
                          bundle: $bundle, annotations: {"io.bindlink.links": $links}}'
        }
        local good bad out
        good=$(jq -cn --arg v "$T/v" --arg b "$T/b" --arg w "$T/w" --arg b2 "$T/b2" \
                '[{virtual: $v, backing: $b, flags: ["read-only"]}, {virtual: $w, backing: $b2}]')
        bad=$(jq -cn --arg v "$T/v" --arg b "$T/b" --arg b2 "$T/b2" \
                '[{virtual: $v, backing: $b}, {virtual: "/no/such/dir", backing: $b2}]')
        out=$(state "$bad" | LD_LIBRARY_PATH="$BUILDDIR/.libs" "$hook" createRuntime 2>&1)
        check_eq "exit of a failed hook" 1 $?
        case "$out" in *"entry 2 (/no/such/dir -> $T/b2)"*) ;; *) fail "message: $out" ;; esac
        check_eq "the first link taken back" 0 "$(scoped_links)"
        # One request for all of them: nobody gets E_ACCESSDENIED for the whole batch.
        out=$(state "$good" | as_nobody env BINDLINK_SOCKET="$BINDLINK_SOCKET" "$STAGE/bin/bindlink-oci-hook" createRuntime 2>&1)
        check_eq "exit of nobody's hook" 1 $?
        case "$out" in *"HRESULT 0x80070005"*) ;; *) fail "nobody's batch: $out" ;; esac
        check_eq "nothing made for nobody" 0 "$(scoped_links)"
        check_eq "the container's V" v-own "$(in_container "$C" cat "$T/v/f")"
        state "$good" | LD_LIBRARY_PATH="$BUILDDIR/.libs" "$hook" createRuntime || fail "the hook failed"
        check_eq "links made" 2 "$(scoped_links)"
        check_eq "read-only" read-only "$("$BINDLINKCTL" list --json --all-scopes | jq -r --arg v "$T/v" '.bindlinks[] | select(.virtual == $v) | .flags[0]')"
        check_eq "the second" b2 "$(in_container "$C" cat "$T/w/f")"
        out=$(state '[{"virtual": "/x", "backing": "/y", "flags": ["rw"]}]' |
                LD_LIBRARY_PATH="$BUILDDIR/.libs" "$hook" 2>&1)
        check_eq "exit of bad input" 2 $?
        case "$out" in *'unknown flag "rw"'*) ;; *) fail "message: $out" ;; esac
        out=$(echo '{"pid": 1, "bundle": "/", "annotations": {}}' |
                LD_LIBRARY_PATH="$BUILDDIR/.libs" "$hook")
        check_eq "no annotation: nothing to do" 0 $?
        stop_containers
}

start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
        stop_containers
done
