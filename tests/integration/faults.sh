#!/bin/bash
# faults.sh — fault injection ("Bad input and faults"): a backing filesystem that goes
# away, a backing directory replaced by a file, names of NAME_MAX bytes and names that
# are not UTF-8, a 100,000-entry directory, files held open while their link is
# removed. Each fault is tried on every realization it applies to: a plain link (a bind
# mount), an anchorless link (a bind mount grafted on an overlay of V's parent, S8) and
# a merged link (a merged view mounted on V, S12). After every one, the original V (or
# V's parent) is byte-for-byte unchanged unless the test wrote there (S5), nothing of the
# link stays mounted or running (S20), and bindlinkd is alive and answers (S4). A real
# bindlinkd in a private mount+pid namespace; every access that could hang is bounded.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

# The interpreter itself: a version manager's shim can cost a second a call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PYTHON=python3

LONG=$(printf 'l%.0s' $(seq 1 255))     # NAME_MAX bytes
LONG2=$(printf 'm%.0s' $(seq 1 255))
LONG3=$(printf 'c%.0s' $(seq 1 255))
LONG4=$(printf 'd%.0s' $(seq 1 255))
TOO_LONG=${LONG}x                       # NAME_MAX + 1
FF=$'\xff\xfe'                          # not UTF-8
FE=$'\xfe\xff'
CAFE=$'caf\xe9'                         # Latin-1, not UTF-8
RN=$'r\xe9n'

# ---- helpers ------------------------------------------------------------------------

# make_link KIND B: a link of realization KIND showing B.
#   bind:       V=$T/v, a directory with content of its own (a shadow link, S7);
#   anchorless: V=$T/p/link, absent; its parent $T/p has content (S8);
#   merged:     V=$T/v with content of its own, --merged (S12).
# Sets V, ORIG (the on-disk directory the link covers or lives in: V, or V's parent) and
# ORIG_DIGEST (ORIG before the link), for remove_link_cleanly. ORIG may be prepared
# beforehand; make_link adds a file and a directory of its own.
make_link() {
        local kind=$1 b=$2 flags='' want=overlay
        case $kind in
        bind) V=$T/v; ORIG=$T/v; want=bind ;;
        anchorless) V=$T/p/link; ORIG=$T/p ;;
        merged) V=$T/v; ORIG=$T/v; flags=--merged ;;
        esac
        mkdir -p "$ORIG/odir"; echo orig > "$ORIG/o"; echo orig-in-dir > "$ORIG/odir/f"
        ORIG_DIGEST=$(tree_digest "$ORIG")
        # shellcheck disable=SC2086 # no flag or one
        ctl create $flags "$V" "$b" || return 1
        check_eq realization "$want" "$(link_field "$V" realization)"
}

# view PATH: what PATH shows, in one line, never hanging: "dir: NAMES", "file: CONTENT",
# the error text (e.g. "No such file or directory"), or HANG when a call took 5 s.
view() {
        local type out
        type=$(timeout 5 stat -c %F "$1" 2>&1)
        case $? in 0) ;; 124) echo HANG; return ;; *) echo "${type##*: }"; return ;; esac
        case $type in
        directory) out=$(timeout 5 ls -A "$1" 2>&1) ;;
        *) out=$(timeout 5 cat "$1" 2>&1) ;;
        esac
        case $? in 0) ;; 124) echo HANG; return ;; *) echo "${out##*: }"; return ;; esac
        case $type in
        directory) echo "dir: $(printf '%s' "$out" | tr '\n' ' ')" ;;
        *) echo "file: $out" ;;
        esac
}

# names DIR: the names in DIR, bytes as they are, one per line, sorted bytewise.
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort; }
sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }

no_overlay_server() { ! pgrep -f bindlink-overlay >/dev/null; }

# check_nothing_left: no mount under the test's directory, no overlay server running.
check_nothing_left() {
        check_eq "mounts left under $T" "" "$(findmnt -rn -o TARGET,FSTYPE | grep "^$T/")"
        eventually 20 no_overlay_server || fail "bindlink-overlay still running: $(pgrep -a -f bindlink-overlay)"
}

# remove_link_cleanly: remove the link (bounded), then nothing of it stays and the
# original is as it was before the link (S5, S20).
remove_link_cleanly() {
        local out
        out=$(timeout 10 "$BINDLINKCTL" remove "$V" 2>&1) || fail "bindlinkctl remove $V: exit $? $out"
        check_nothing_left
        check_eq "original $ORIG byte-for-byte unchanged" "$ORIG_DIGEST" "$(tree_digest "$ORIG")"
}

# check_daemon_answers: bindlinkd is alive and answers a list (S4). A dead daemon is
# reported with its last words and started again, so that the next tests run.
check_daemon_answers() {
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
                fail "bindlinkd died"
                tail -n 20 "$DAEMON_LOG" | sed 's/^/#   daemon: /'
                wait "$DAEMON_PID" 2>/dev/null
                DAEMON_PID=
                start_daemon
                return
        fi
        timeout 5 "$BINDLINKCTL" list >/dev/null 2>&1 || fail "bindlinkctl list does not answer"
}

# after_fault: the checks every fault test ends with; the daemon's log on failure.
after_fault() {
        check_daemon_answers
        if [ "$T_CURRENT_FAILED" -ne 0 ] && [ -n "$DAEMON_LOG" ]; then
                grep -aF -- "$T/" "$DAEMON_LOG" | tail -n 15 | sed 's/^/#   daemon: /'
        fi
}

# A tmpfs of its own for B, so that B's filesystem can go away.
mount_backing_fs() {
        mkdir -p "$T/fs" && mount -t tmpfs -o mode=0755 bindlink-fault "$T/fs" ||
                { fail "cannot mount a tmpfs at $T/fs"; return 1; }
}
unmount_backing_fs() { ! mountpoint -q "$T/fs" || umount -l "$T/fs"; }

# ---- 1. B's filesystem goes away (umount -l) while the link exists --------------------
# S10 asks ENOENT through V once B's path no longer exists. What happens: the link's
# bind mount (and a merged view's descriptor of B) pins the detached filesystem, and
# bindlinkd does not notice an unmount (its inotify watch of B's parent is on the
# detached filesystem too), so V goes on showing B's old content, writable. Accepted:
# ENOENT, or exactly the old content; never a hang, EIO, ENOTCONN or another object.
fault_backing_fs_unmounted() {
        local kind=$1 before now
        mount_backing_fs || return
        mkdir "$T/fs/b"; echo back > "$T/fs/b/x"
        make_link "$kind" "$T/fs/b" || return
        before=$(view "$V")
        case $kind in
        merged) check_eq "V before" "dir: o odir x" "$before" ;;
        *) check_eq "V before" "dir: x" "$before" ;;
        esac
        umount -l "$T/fs" || { fail "umount -l $T/fs"; return; }
        check_missing "$T/fs/b"
        # Give the daemon its chance to notice (a mount-table change: within a tick).
        eventually 3 sh -c "! timeout 5 test -e '$V'" || true
        now=$(view "$V")
        case $now in
        "No such file or directory") echo "# $kind: V answers ENOENT after B's filesystem went" ;;
        "$before") echo "# $kind: V still shows the detached filesystem's B after it went" ;;
        *) fail "V after B's filesystem went: '$now' (before: '$before')" ;;
        esac
        now=$(view "$V/x")
        case $now in
        "No such file or directory" | "Not a directory" | "file: back") ;;
        *) fail "V/x after B's filesystem went: '$now'" ;;
        esac
        local rc
        timeout 5 sh -c "echo w > '$V/written'" 2>/dev/null
        rc=$?
        [ $rc -ne 124 ] || fail "a write through V hung"
        timeout 5 ls -la "$V" >/dev/null 2>&1
        [ $? -ne 124 ] || fail "ls through V hung"
        check_daemon_answers
        check_eq "the link is still listed" 1 "$(timeout 5 "$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        remove_link_cleanly
        case $kind in anchorless) check_missing "$V" ;; *) check_file_is "$V/o" orig ;; esac
}

test_s10_backing_filesystem_unmounted_under_a_plain_link() {
        fault_backing_fs_unmounted bind; unmount_backing_fs; after_fault
}
test_s10_backing_filesystem_unmounted_under_an_anchorless_link() {
        fault_backing_fs_unmounted anchorless; unmount_backing_fs; after_fault
}
test_s10_backing_filesystem_unmounted_under_a_merged_link() {
        fault_backing_fs_unmounted merged; unmount_backing_fs; after_fault
}

# ---- 1b. ... and B is made again at its path -------------------------------------------
# S10: a link names B by path; once B's filesystem is gone and a directory is made at B's
# path again, V shows that new B (as it does when B is deleted and made again).
fault_backing_fs_unmounted_then_made_again() {
        local kind=$1
        mount_backing_fs || return
        mkdir "$T/fs/b"; echo back > "$T/fs/b/x"
        make_link "$kind" "$T/fs/b" || return
        umount -l "$T/fs" || { fail "umount -l $T/fs"; return; }
        mkdir "$T/fs/b"; echo again > "$T/fs/b/y"
        eventually 20 timeout 5 grep -qx again "$V/y" ||
                fail "V does not show B made again at its path; V shows: $(view "$V")"
        check_eq "old B's file" "No such file or directory" "$(view "$V/x")"
        check_daemon_answers
        remove_link_cleanly
}

test_s10_backing_made_again_after_its_filesystem_went_plain_link() {
        fault_backing_fs_unmounted_then_made_again bind; unmount_backing_fs; after_fault
}
test_s10_backing_made_again_after_its_filesystem_went_anchorless_link() {
        fault_backing_fs_unmounted_then_made_again anchorless; unmount_backing_fs; after_fault
}
test_s10_backing_made_again_after_its_filesystem_went_merged_link() {
        fault_backing_fs_unmounted_then_made_again merged; unmount_backing_fs; after_fault
}

# ---- 1c. ... and the same filesystem is mounted back where it was ----------------------
# S10: B's path names B again once its filesystem is back; V shows it again, soon. B's
# filesystem sits outside V's parent (whose overlay hides V meanwhile).
fault_backing_fs_unmounted_then_mounted_back() {
        local kind=$1 fs=$AREA/outside/${T##*/}
        mkdir -p "$fs/src/b" "$fs/mnt"; echo back > "$fs/src/b/x"
        # "B's filesystem": a bind mount of src, which can be mounted again whole.
        mount --bind "$fs/src" "$fs/mnt" || { fail "bind"; return; }
        make_link "$kind" "$fs/mnt/b" || return
        check_file_is "$V/x" back
        umount -l "$fs/mnt" || { fail "umount -l $fs/mnt"; return; }
        eventually 20 sh -c "! timeout 5 grep -qx back '$V/x'" || fail "V still shows B after its filesystem went"
        mount --bind "$fs/src" "$fs/mnt" || { fail "bind again"; return; }
        echo later > "$fs/src/b/y"
        eventually 20 timeout 5 grep -qx later "$V/y" ||
                { fail "V does not show B once its filesystem is back; V shows: $(view "$V")"
                  sed 's/^/#   daemon: /' "$DAEMON_LOG" | tail -n 8; }
        check_file_is "$V/x" back
        check_daemon_answers
        remove_link_cleanly
        umount -l "$fs/mnt"
}

test_s10_backing_filesystem_mounted_back_plain_link() {
        fault_backing_fs_unmounted_then_mounted_back bind; after_fault
}
test_s10_backing_filesystem_mounted_back_anchorless_link() {
        fault_backing_fs_unmounted_then_mounted_back anchorless; after_fault
}
test_s10_backing_filesystem_mounted_back_merged_link() {
        fault_backing_fs_unmounted_then_mounted_back merged; after_fault
}

# ---- 1d. ... mounted back beside V, under the overlay that hides V meanwhile -----------
# B's filesystem in V's own parent: while B is gone, an overlay on that parent hides V
# (S10), so the filesystem mounted back lands on the overlay's view. V shows B again;
# and the mount, someone else's, outlives the link: the view stays while it is there.
fault_backing_fs_mounted_back_beside_v() {
        local kind=$1
        mkdir -p "$T/src/b" "$T/fs"; echo back > "$T/src/b/x"
        mount --bind "$T/src" "$T/fs" && mount --make-private "$T/fs" || { fail "bind"; return; }
        make_link "$kind" "$T/fs/b" || return
        umount -l "$T/fs" || { fail "umount -l $T/fs"; return; }
        eventually 20 sh -c "! timeout 5 grep -qx back '$V/x'" || fail "V still shows B after its filesystem went"
        mount --bind "$T/src" "$T/fs" || { fail "bind again"; return; }
        echo later > "$T/src/b/y"
        eventually 20 timeout 5 grep -qx later "$V/y" ||
                fail "V does not show B once its filesystem is back beside it; V shows: $(view "$V")"
        check_daemon_answers
        ctl remove "$V" || return
        check_file_is "$T/fs/b/x" back
        findmnt -n --mountpoint "$T/fs" >/dev/null || fail "the filesystem mounted back went with the link"
        # The view's server holds descriptors of B until it has ended, which takes a
        # moment after the removal (longer in a sanitized build: its leak check at exit).
        eventually 20 umount "$T/fs" || fail "cannot unmount it: $(umount "$T/fs" 2>&1)"
        eventually 30 sh -c "! findmnt -n --mountpoint '$T' | grep -q fuse.bindlink" ||
                fail "the overlay on V's parent stayed after the mount on it went"
        case $kind in anchorless) check_missing "$V" ;; *) check_file_is "$V/o" orig ;; esac
}

# The same, with B's filesystem mounted back in the middle of the daemon's re-plan:
# after it found B missing and took the merged view down, before it hid V. The link
# must not take what B names by then for what it already knew, and wait for B
# forever (seen under load, once in about fifteen runs). strace holds the daemon for
# 2 s after each unmount it makes, so the mount comes back in exactly that window.
test_s10_backing_filesystem_mounted_back_during_the_replan() {
        mkdir -p "$T/src/b" "$T/fs" "$T/v"; echo back > "$T/src/b/x"; echo orig > "$T/v/o"
        V=$T/v
        mount --bind "$T/src" "$T/fs" && mount --make-private "$T/fs" || { fail "bind"; return; }
        ctl create --merged "$V" "$T/fs/b" || return
        check_file_is "$V/x" back
        strace -qq -o /dev/null -e trace=umount2 -e inject=umount2:delay_exit=2000000 \
                -p "$DAEMON_PID" &
        local tracer=$!
        if eventually 30 sh -c "awk '/^TracerPid:/ { exit \$2 == 0 }' /proc/$DAEMON_PID/status"
        then
                mount_back_during_the_replan
        else
                fail "strace did not attach"
        fi
        kill "$tracer"; wait "$tracer" 2>/dev/null
        check_daemon_answers
        ctl remove "$V"
        umount -l "$T/fs"
}
mount_back_during_the_replan() {
        umount -l "$T/fs" || { fail "umount -l $T/fs"; return; }
        # The merged view is gone: the daemon saw B missing, and is held.
        eventually 30 sh -c "! findmnt -n --mountpoint '$V' >/dev/null" || fail "the view stayed"
        mount --bind "$T/src" "$T/fs" || { fail "bind again"; return; }
        echo later > "$T/src/b/y"
        eventually 30 timeout 5 grep -qx later "$V/y" && return
        fail "V does not show B once its filesystem is back; V shows: $(view "$V")"
        sed 's/^/#   daemon: /' "$DAEMON_LOG" | tail -n 4
        findmnt -R "$T" | sed 's/^/#   /'
}

test_s10_backing_filesystem_mounted_back_beside_a_plain_link() {
        fault_backing_fs_mounted_back_beside_v bind; after_fault
}
test_s10_backing_filesystem_mounted_back_beside_a_merged_link() {
        fault_backing_fs_mounted_back_beside_v merged; after_fault
}

# ---- 2. B, a directory, replaced by a file; then a directory again ------------------
# V never shows the file as a directory: it follows B as it is now (S10), so it becomes a
# file with B's content (S9; MERGED has no effect on a file, S12); when B is a
# directory again, V shows it again.
fault_backing_replaced_by_a_file() {
        local kind=$1 now
        mkdir -p "$T/b"; echo back > "$T/b/x"
        make_link "$kind" "$T/b" || return
        rm -r "$T/b"; echo x > "$T/b"
        eventually 20 timeout 5 grep -qx x "$V" || fail "V should show B as it is now, a file with 'x': '$(view "$V")'"
        now=$(timeout 5 stat -c %F "$V" 2>&1)
        [ "$now" != directory ] || fail "V shows B's file as a directory"
        now=$(view "$V/x")
        case $now in "Not a directory" | "No such file or directory") ;; *) fail "V/x with B a file: '$now'" ;; esac
        check_daemon_answers
        check_eq "still listed" "$T/b" "$(timeout 5 "$BINDLINKCTL" list --json | jq -r '.bindlinks[0].backing')"
        rm "$T/b"; mkdir "$T/b"; echo two > "$T/b/y"
        eventually 20 timeout 5 grep -qx two "$V/y" || fail "V does not show B, a directory again: '$(view "$V")'"
        check_eq "B's old file" "No such file or directory" "$(view "$V/x")"
        case $kind in
        merged) check_eq "merged again" "dir: o odir y" "$(view "$V")" ;;
        *) check_eq "V again" "dir: y" "$(view "$V")" ;;
        esac
        remove_link_cleanly
}

test_s10_backing_replaced_by_a_file_under_a_plain_link() {
        fault_backing_replaced_by_a_file bind; after_fault
}
test_s10_backing_replaced_by_a_file_under_an_anchorless_link() {
        fault_backing_replaced_by_a_file anchorless; after_fault
}
test_s10_backing_replaced_by_a_file_under_a_merged_link() {
        fault_backing_replaced_by_a_file merged; after_fault
}

# ---- 3. names of NAME_MAX bytes, names that are not UTF-8 ----------------------------
# Through V (S5): created, listed, read, renamed and removed, landing in B; a name of
# NAME_MAX+1 bytes is ENAMETOOLONG for every call that takes one.
check_name_too_long() { # check_name_too_long DIR EXISTING
        local err
        err=$(touch "$1/$TOO_LONG" 2>&1) && fail "touch of a NAME_MAX+1 name succeeded"
        case $err in *"File name too long"*) ;; *) fail "touch of a NAME_MAX+1 name: $err" ;; esac
        check_eq "ENAMETOOLONG for each call" "open:36 mkdir:36 stat:36 rename:36 symlink:36 unlink:36 link:36" \
                "$("$PYTHON" - "$1" "$TOO_LONG" "$2" <<'PY'
import os, sys
d, n, e = (os.fsencode(a) for a in sys.argv[1:4])
p, old = d + b"/" + n, d + b"/" + e
calls = [("open", lambda: os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))),
         ("mkdir", lambda: os.mkdir(p)), ("stat", lambda: os.stat(p)),
         ("rename", lambda: os.rename(old, p)), ("symlink", lambda: os.symlink(b"t", p)),
         ("unlink", lambda: os.unlink(p)), ("link", lambda: os.link(old, p))]
out = []
for name, call in calls:
    try:
        call()
        out.append(name + ":ok")
    except OSError as err:
        out.append("%s:%d" % (name, err.errno))
print(" ".join(out))
PY
)"
}

fault_odd_names() {
        local kind=$1 want
        mkdir -p "$T/b"; echo b-long > "$T/b/$LONG"; echo b-ff > "$T/b/$FF"
        if [ "$kind" = merged ]; then # V's own odd names: V-only and colliding
                mkdir -p "$T/v"; echo v-cafe > "$T/v/$CAFE"; echo v-long > "$T/v/$LONG"
                echo v-long2 > "$T/v/$LONG2"
        fi
        make_link "$kind" "$T/b" || return
        # Read what is there.
        check_file_is "$V/$LONG" b-long
        check_file_is "$V/$FF" b-ff
        if [ "$kind" = merged ]; then
                check_file_is "$V/$CAFE" v-cafe
                check_file_is "$V/$LONG2" v-long2
        fi
        # Create.
        echo c-new > "$V/$LONG3" || fail "create a NAME_MAX name through V"
        mkdir "$V/$FE" || fail "mkdir a non-UTF-8 name through V"
        echo deep > "$V/$FE/$LONG" || fail "create a NAME_MAX name in a non-UTF-8 directory"
        check_file_is "$T/b/$LONG3" c-new
        check_file_is "$T/b/$FE/$LONG" deep
        # List.
        want=$(sorted "$LONG" "$FF" "$LONG3" "$FE")
        [ "$kind" = merged ] && want=$(sorted "$LONG" "$FF" "$LONG3" "$FE" "$CAFE" "$LONG2" o odir)
        check_eq "listing of V" "$want" "$(names "$V")"
        check_eq "listing of a non-UTF-8 directory" "$LONG" "$(names "$V/$FE")"
        check_eq "ls -A count" "$(printf '%s\n' "$want" | wc -l)" "$(ls -A "$V" | wc -l)"
        # Rename: NAME_MAX to non-UTF-8, non-UTF-8 to NAME_MAX, a directory too.
        mv "$V/$LONG3" "$V/$RN" || fail "rename NAME_MAX -> non-UTF-8"
        mv "$V/$FF" "$V/$LONG3" || fail "rename non-UTF-8 -> NAME_MAX"
        mv "$V/$FE" "$V/$LONG4" || fail "rename a non-UTF-8 directory -> NAME_MAX"
        check_file_is "$V/$RN" c-new
        check_file_is "$V/$LONG3" b-ff
        check_file_is "$V/$LONG4/$LONG" deep
        check_file_is "$T/b/$RN" c-new
        check_file_is "$T/b/$LONG4/$LONG" deep
        check_missing "$V/$FF"
        check_missing "$V/$FE"
        check_missing "$T/b/$FF"
        # NAME_MAX + 1.
        check_name_too_long "$V" "$LONG"
        check_name_too_long "$V/$LONG4" "$LONG"
        # Remove.
        rm "$V/$RN" "$V/$LONG3" || fail "unlink odd names through V"
        rm -r "${V:?}/$LONG4" || fail "rm -r of a NAME_MAX directory through V"
        check_missing "$V/$RN"
        check_missing "$V/$LONG4"
        check_eq "B at the end" "$LONG" "$(names "$T/b")"
        if [ "$kind" = anchorless ]; then # the parent's own entries, through its overlay
                echo p > "$T/p/$LONG" || fail "create a NAME_MAX name in the overlaid parent"
                mv "$T/p/$LONG" "$T/p/$FF" || fail "rename in the overlaid parent"
                check_file_is "$T/p/$FF" p
                check_eq "parent listing" "$(sorted "$FF" link o odir)" "$(names "$T/p")"
                check_name_too_long "$T/p" "$FF"
                rm "$T/p/$FF" || fail "unlink in the overlaid parent"
        fi
        remove_link_cleanly
}

test_s5_names_of_name_max_bytes_and_not_utf8_through_a_plain_link() {
        fault_odd_names bind; after_fault
}
test_s5_names_of_name_max_bytes_and_not_utf8_through_an_anchorless_link() {
        fault_odd_names anchorless; after_fault
}
test_s5_names_of_name_max_bytes_and_not_utf8_through_a_merged_link() {
        fault_odd_names merged; after_fault
}

# The links' own names: V of NAME_MAX bytes, or not UTF-8, for each realization. The
# JSON list is valid UTF-8 (RFC 8259: or strict parsers refuse all of it) and tells
# two such names apart.
test_s21_links_named_with_name_max_bytes_and_not_utf8() {
        mkdir -p "$T/p" "$T/b" "$T/$CAFE" "$T/$LONG2"; echo b > "$T/b/x"
        echo orig > "$T/$CAFE/o"; echo orig > "$T/$LONG2/o"
        local before_p before_cafe before_long2 v
        before_p=$(tree_digest "$T/p"); before_cafe=$(tree_digest "$T/$CAFE")
        before_long2=$(tree_digest "$T/$LONG2")
        ctl create "$T/p/$LONG" "$T/b" || return
        ctl create "$T/p/$FF" "$T/b" || return
        ctl create "$T/p/$FE" "$T/b" || return
        ctl create "$T/$CAFE" "$T/b" || return
        ctl create --merged "$T/$LONG2" "$T/b" || return
        for v in "$T/p/$LONG" "$T/p/$FF" "$T/p/$FE" "$T/$CAFE" "$T/$LONG2"; do
                check_file_is "$v/x" b
        done
        check_file_is "$T/$LONG2/o" orig
        check_eq "parent listing" "$(sorted "$LONG" "$FF" "$FE")" "$(names "$T/p")"
        check_eq "realizations" "overlay overlay overlay bind overlay" \
                "$("$BINDLINKCTL" list --json | jq -r '[.bindlinks[].realization] | join(" ")')"
        # The table escapes what is not printable, as findmnt's: \xff\xfe, literally.
        "$BINDLINKCTL" list -rn -o VIRTUAL | grep -qxF "$T/p/\\xff\\xfe" ||
                fail "the raw list does not name $T/p/\\xff\\xfe escaped"
        local json; json=$("$BINDLINKCTL" list --json)
        printf '%s' "$json" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 ||
                fail "list --json is not valid UTF-8 (RFC 8259): it has the raw bytes of $T/p/\\xff\\xfe"
        # A byte that is not UTF-8 is written as the lone surrogate \udcXX, which
        # Python reads back into the very bytes (jq would fold them into U+FFFD).
        check_eq "distinct virtual paths in list --json" 5 "$(printf '%s' "$json" | python3 -c '
import json, sys
import os
print(len({os.fsencode(l["virtual"]) for l in json.load(sys.stdin)["bindlinks"]}))')"
        printf '%s' "$json" | python3 -c '
import json, os, sys
want = {os.fsencode(p) for p in sys.argv[1:]}
got = {os.fsencode(l["virtual"]) for l in json.load(sys.stdin)["bindlinks"]}
sys.exit(0 if want <= got else 1)' "$T/p/"$'\xff\xfe' "$T/p/"$'\xfe\xff' ||
                fail "list --json does not give back the non-UTF-8 paths byte for byte"
        ctl_fails 0x800700CE ENAMETOOLONG create "$T/p/$TOO_LONG" "$T/b"
        for v in "$T/p/$LONG" "$T/p/$FF" "$T/p/$FE" "$T/$CAFE" "$T/$LONG2"; do
                ctl remove "$v"
        done
        check_eq "no link left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        check_nothing_left
        check_eq "parent unchanged" "$before_p" "$(tree_digest "$T/p")"
        check_eq "shadowed V unchanged" "$before_cafe" "$(tree_digest "$T/$CAFE")"
        check_eq "merged V unchanged" "$before_long2" "$(tree_digest "$T/$LONG2")"
        after_fault
}

# ---- 4. a 100,000-entry directory ------------------------------------------------------
# big_tree_digest DIR: tree_digest's check, affordable for 100,000 entries (bytewise
# sort; empty files' content is their size).
big_tree_digest() {
        (cd "$1" && find . -printf '%p %m %u %g %s\n' | LC_ALL=C sort &&
                find . -type f -size +0 -exec md5sum {} + | LC_ALL=C sort) | md5sum
}

# make_entries DIR COUNT PREFIX [CONTENT FIRST N]: COUNT empty files PREFIX000000...;
# the first N of them get CONTENT.
make_entries() {
        "$PYTHON" - "$@" <<'PY'
import os, sys
d, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
content = sys.argv[4].encode() if len(sys.argv) > 4 else b""
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
for i in range(count):
    fd = os.open("%s/%s%06d" % (d, prefix, i), os.O_CREAT | os.O_WRONLY, 0o644)
    if i < first:
        os.write(fd, content)
    os.close(fd)
PY
}

# count_entries DIR: readdir's names (no . and ..), and how many were seen twice.
count_entries() {
        timeout 60 "$PYTHON" -c 'import os, sys
n = os.listdir(sys.argv[1])
print(len(n), len(n) - len(set(n)))' "$1"
}

# B has 100,000 names; V has 50 of them too (colliding) and 50 of its own.
test_s12_merged_view_of_a_100000_entry_directory() {
        mkdir -p "$T/v" "$T/b"
        make_entries "$T/b" 100000 e b-col 50 || { fail "cannot make B's entries"; return; }
        make_entries "$T/v" 50 e v-col 50
        make_entries "$T/v" 50 v v-only 50
        V=$T/v; ORIG=$T/v; ORIG_DIGEST=$(tree_digest "$T/v")
        ctl create --merged "$T/v" "$T/b" || return
        local start=$SECONDS
        check_eq "ls -f count (with . and ..)" 100052 "$(timeout 60 ls -f "$T/v" | wc -l)"
        check_eq "names, duplicates" "100050 0" "$(count_entries "$T/v")"
        check_eq "a range of names" 100 "$(timeout 60 find "$T/v" -maxdepth 1 -name 'e0999*' | wc -l)"
        [ $((SECONDS - start)) -le 20 ] || fail "listing took $((SECONDS - start)) s"
        # With attributes: a lookup per entry, more objects than the server's
        # descriptor limit (held by handle past half of it).
        check_eq "ls -l's complaints" "" "$(timeout 120 ls -l "$T/v" 2>&1 >/dev/null | head -3)"
        check_eq "ls -l's lines (with total)" 100051 "$(timeout 120 ls -l "$T/v" 2>/dev/null | wc -l)"
        check_file_is "$T/v/e000007" b-col
        check_file_is "$T/v/v000049" v-only
        check_eq "stat of a B-only entry" "regular empty file 0" "$(stat -c '%F %s' "$T/v/e099999")"
        check_eq "stat of a collision" "regular file 5" "$(stat -c '%F %s' "$T/v/e000049")"
        check_eq "stat of a V-only entry" "regular file 6" "$(stat -c '%F %s' "$T/v/v000000")"
        check_eq "stat of another" "$(stat -c %s "$T/b/e050000")" "$(stat -c %s "$T/v/e050000")"
        remove_link_cleanly
        after_fault
}

# An anchorless link in a directory of 100,000 entries: its overlay lists them all.
test_s8_anchorless_link_in_a_100000_entry_directory() {
        mkdir -p "$T/p" "$T/b"; echo b > "$T/b/x"
        make_entries "$T/p" 100000 e || { fail "cannot make the entries"; return; }
        local before; before=$(big_tree_digest "$T/p")
        ctl create "$T/p/link" "$T/b" || return
        check_eq "names, duplicates" "100001 0" "$(count_entries "$T/p")"
        check_eq "ls -f count (with . and ..)" 100003 "$(timeout 60 ls -f "$T/p" | wc -l)"
        check_eq "ls -l's complaints" "" "$(timeout 120 ls -l "$T/p" 2>&1 >/dev/null | head -3)"
        check_eq "ls -l's lines (with total)" 100002 "$(timeout 120 ls -l "$T/p" 2>/dev/null | wc -l)"
        check_file_is "$T/p/link/x" b
        check_eq "stat of an entry" "regular empty file 0" "$(stat -c '%F %s' "$T/p/e099999")"
        ctl remove "$T/p/link"
        check_nothing_left
        check_eq "parent unchanged" "$before" "$(big_tree_digest "$T/p")"
        after_fault
}

# An anchorless link in a directory of more subdirectories than the overlay may hold
# descriptors: past the budget they are held by handle; listing, creating, renaming
# and removing in a late one work.
test_s8_anchorless_link_in_a_directory_of_more_subdirectories_than_the_fd_limit() {
        local n; n=$(past_fd_limit)
        mkdir -p "$T/p" "$T/b"; echo b > "$T/b/x"
        (cd "$T/p" && seq "$n" | xargs mkdir) || { fail "cannot make the directories"; return; }
        ctl create "$T/p/link" "$T/b" || return
        check_eq "ls -l's complaints ($n directories, descriptor limit $(ulimit -Hn))" "" \
                "$(timeout 120 ls -l "$T/p" 2>&1 >/dev/null | head -3)"
        check_eq "ls -l's lines (with total)" $((n + 2)) "$(timeout 120 ls -l "$T/p" 2>/dev/null | wc -l)"
        check_eq "find's entries" $((n + 2)) "$(timeout 120 find "$T/p" -mindepth 1 2>&1 | wc -l)"
        echo new > "$T/p/$n/f" || fail "cannot create in a late directory"
        mv "$T/p/$n/f" "$T/p/$((n - 1))/g" || fail "rename between late directories"
        check_file_is "$T/p/$((n - 1))/g" new
        rm "$T/p/$((n - 1))/g" && rmdir "$T/p/$((n - 1))" || fail "cannot remove in a late directory"
        check_file_is "$T/p/link/x" b
        ctl remove "$T/p/link"
        check_nothing_left
        check_missing "$T/p/$((n - 1))"
        after_fault
}

# Past the budget a new file is held by handle, and a filesystem cannot find a file by
# its handle once it has lost its last name (tmpfs: ESTALE): a file created through an
# overlaid parent, opened and unlinked (a temporary file, stress-ng --hdd's way), or
# replaced by a rename while open, must still take writes, fsync and truncate.
UNLINKED_PY='
import os, sys
p = sys.argv[1]
fd = os.open(p + "/late", os.O_CREAT | os.O_RDWR, 0o644)
os.unlink(p + "/late")
os.write(fd, b"abc"); os.fsync(fd); os.ftruncate(fd, 2)
print("unlinked:", os.pread(fd, 8, 0).decode())
fd2 = os.open(p + "/late2", os.O_CREAT | os.O_RDWR, 0o644)
open(p + "/other", "w").close()
os.rename(p + "/other", p + "/late2")
os.write(fd2, b"xyz"); os.fsync(fd2)
print("replaced:", os.pread(fd2, 8, 0).decode())
'
test_s5_s8_files_that_lose_their_last_name_while_open_past_the_fd_limit() {
        local n out; n=$(past_fd_limit)
        mkdir -p "$T/p" "$T/b"
        (cd "$T/p" && seq "$n" | xargs touch) || { fail "cannot make the files"; return; }
        ctl create "$T/p/link" "$T/b" || return
        # Every entry becomes a node of the overlay: past the budget.
        check_eq "ls -l's complaints ($n files)" "" "$(timeout 120 ls -l "$T/p" 2>&1 >/dev/null | head -3)"
        out=$(timeout 30 "$PYTHON" -c "$UNLINKED_PY" "$T/p" 2>&1)
        check_eq "I/O on open files that lost their last name" "unlinked: ab
replaced: xyz" "$out"
        check_missing "$T/p/late"
        check_eq "what replaced late2" "" "$(cat "$T/p/late2")"
        ctl remove "$T/p/link"
        check_nothing_left
        after_fault
}

# A server that ends leaves nothing allocated behind: under the ASan build (LSan on)
# the servers of a merged view and of a parent overlay end, once their links are
# removed, without a leak report in their stderr (the daemon's log). (The plain build
# has no sanitizer to report anything: there this only checks that they end.)
test_s20_overlay_servers_end_without_a_leak_report() {
        local since; since=$(stat -c %s "$DAEMON_LOG")
        mkdir -p "$T/v" "$T/b" "$T/p" "$T/pb"
        ctl create --merged "$T/v" "$T/b" || return
        ctl create "$T/p/link" "$T/pb" || return
        ls "$T/v" "$T/p" >/dev/null
        ctl remove "$T/v" && ctl remove "$T/p/link"
        check_nothing_left
        local reports; reports=$(tail -c +$((since + 1)) "$DAEMON_LOG" | grep -a -A 12 'Sanitizer')
        [ -z "$reports" ] || { fail "a server reported:"; printf '%s\n' "$reports" | head -n 30 | sed 's/^/#   /'; }
        after_fault
}

# ---- 5. files held open through V while the link is removed ---------------------------
# A process holds files open through V (read and append), the link is removed: the
# removal succeeds at once, V shows the original, the descriptors still work (writes
# land in B); the same link can be made again and removed meanwhile; once the files
# are closed no overlay server and no mount remains.
HOLDER_PY='
import errno, os, sys
fds = []
for arg in sys.argv[1:]:
    how, path = arg.split(":", 1)
    flags = os.O_RDONLY if how == "r" else os.O_WRONLY | os.O_APPEND
    fds.append(os.open(os.fsencode(path), flags))
print("open", flush=True)
for line in sys.stdin:
    cmd = line.split()
    try:
        if cmd[0] == "read":
            print("ok", os.pread(fds[int(cmd[1])], 4096, 0).decode().strip().replace("\n", "|"), flush=True)
        elif cmd[0] == "write":
            os.write(fds[int(cmd[1])], (cmd[2] + "\n").encode())
            print("ok", flush=True)
        elif cmd[0] == "close":
            for fd in fds:
                os.close(fd)
            print("ok", flush=True)
        else:
            break
    except OSError as e:
        print("error", errno.errorcode.get(e.errno, e.errno), flush=True)
'
HOLDER=
HOLDER_PID=
start_holder() {
        coproc HOLDER { exec "$PYTHON" -u -c "$HOLDER_PY" "$@"; }
        HOLDER_PID=$!
        local line
        read -r -t 10 line <&"${HOLDER[0]}" && [ "$line" = open ] ||
                { fail "the holder did not open its files: $line"; stop_holder; return 1; }
}
ask_holder() { # ask_holder COMMAND...: the holder's answer, or "no answer" after 5 s
        local reply
        { echo "$*" >&"${HOLDER[1]}" && read -r -t 5 reply <&"${HOLDER[0]}"; } 2>/dev/null || reply="no answer"
        echo "$reply"
}
stop_holder() {
        [ -n "$HOLDER_PID" ] || return 0
        kill "$HOLDER_PID" 2>/dev/null
        wait "$HOLDER_PID" 2>/dev/null
        HOLDER_PID=
}

fault_files_open_across_remove() {
        local kind=$1 out
        mkdir -p "$T/b"; echo b-f > "$T/b/f"; echo b-g > "$T/b/g"
        make_link "$kind" "$T/b" || return
        local files=("r:$V/f" "a:$V/g")
        case $kind in
        anchorless) files+=("r:$T/p/o") ;; # through the parent's overlay
        merged) files+=("r:$V/o") ;;       # V's own file through the merged view
        esac
        start_holder "${files[@]}" || return
        out=$(timeout 10 "$BINDLINKCTL" remove "$V" 2>&1) || { fail "remove with files open: $out"; return; }
        check_eq "no mount left once removed" "" "$(findmnt -rn -o TARGET,FSTYPE | grep "^$T/")"
        case $kind in
        anchorless) check_eq "V after removal" "No such file or directory" "$(view "$V")" ;;
        *) check_eq "V after removal" "dir: o odir" "$(view "$V")" ;;
        esac
        check_eq "read through the held descriptor" "ok b-f" "$(ask_holder read 0)"
        check_eq "append through the held descriptor" ok "$(ask_holder write 1 held)"
        check_file_is "$T/b/g" "b-g
held"
        [ "$kind" = bind ] || check_eq "read the original through the old overlay" "ok orig" "$(ask_holder read 2)"
        # The same link again, while the old one still serves the open files.
        case $kind in merged) ctl create --merged "$V" "$T/b" ;; *) ctl create "$V" "$T/b" ;; esac || return
        check_file_is "$V/g" "b-g
held"
        check_eq "append again" ok "$(ask_holder write 1 again)"
        check_file_is "$V/g" "b-g
held
again"
        out=$(timeout 10 "$BINDLINKCTL" remove "$V" 2>&1) || fail "second remove: $out"
        check_eq "no mount left once removed again" "" "$(findmnt -rn -o TARGET,FSTYPE | grep "^$T/")"
        # A retired overlay serves its open files until they are closed.
        if [ "$kind" != bind ]; then
                pgrep -f bindlink-overlay >/dev/null || fail "no overlay server left to serve the open files"
                check_eq "read through the old overlay after the second remove" "ok orig" "$(ask_holder read 2)"
        fi
        check_eq "close" ok "$(ask_holder close)"
        # The process lives on, with nothing open: the old overlay server must go now.
        eventually 20 no_overlay_server || fail "overlay server still running after its last file closed: $(pgrep -a -f bindlink-overlay)"
        kill -0 "$HOLDER_PID" 2>/dev/null || fail "the holder died"
        stop_holder
        check_nothing_left
        check_eq "original $ORIG byte-for-byte unchanged" "$ORIG_DIGEST" "$(tree_digest "$ORIG")"
}

test_s20_files_held_open_while_a_plain_link_is_removed() {
        fault_files_open_across_remove bind; stop_holder; after_fault
}
test_s20_files_held_open_while_an_anchorless_link_is_removed() {
        fault_files_open_across_remove anchorless; stop_holder; after_fault
}
test_s20_files_held_open_while_a_merged_link_is_removed() {
        fault_files_open_across_remove merged; stop_holder; after_fault
}

# ---- what a crash leaves, reconciled at the next start (S4) -------------------------------

# journal_edit SED: change the stopped daemon's journal as a crash at that moment would
# have left it.
journal_edit() { sed -i "$1" "$STATE/links.journal"; }
no_view_at() { ! findmnt -n --mountpoint "$1" | grep -q fuse.bindlink; }
servers_left() { pgrep -f "^bindlink-overlay --fuse-fd" | wc -l; }

test_s4_restart_takes_down_what_a_crash_left_unrecorded() {
        mkdir -p "$T/v" "$T/b" "$T/w" "$T/c" "$T/u" "$T/d"; echo v > "$T/v/o"; echo b > "$T/b/x"
        echo w > "$T/w/o"; echo u > "$T/u/o"
        # A merged view whose link was never recorded (killed after the view's record).
        ctl create --merged "$T/v" "$T/b" || return
        # A plain link whose removal was recorded, its mount not yet taken down.
        ctl create "$T/w" "$T/c" || return
        # A view of which no record was written at all.
        ctl create --merged "$T/u" "$T/d" || return
        local order_v order_w order_u
        order_v=$(link_field "$T/v" order); order_w=$(link_field "$T/w" order)
        order_u=$(link_field "$T/u" order)
        kill9_daemon
        journal_edit "/^[LCM] $order_v /d"
        echo "R $order_w" >> "$STATE/links.journal"
        journal_edit "/^[LCM] $order_u /d; \|^O $T/u |d"
        start_daemon || return
        check_eq "links after the restart" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        no_view_at "$T/v" || fail "the view with no link is still mounted on V"
        no_view_at "$T/u" || fail "the view with no record is still mounted"
        check_eq "nothing mounted on W" "" "$(findmnt -n --mountpoint "$T/w")"
        check_file_is "$T/v/o" v
        check_file_is "$T/w/o" w
        check_file_is "$T/u/o" u
        eventually 20 test "$(servers_left)" -eq 0 || fail "overlay servers left: $(pgrep -a -f bindlink-overlay)"
        grep -q "left by a crash" "$DAEMON_LOG" || fail "the daemon did not say what it took down"
}

test_s4_restart_leaves_another_daemons_views_alone() {
        mkdir -p "$T/v" "$T/b" "$T/v2" "$T/b2"; echo b2 > "$T/b2/x"
        ctl create --merged "$T/v" "$T/b" || return
        # Another daemon, its own socket and journal, in the same mount namespace.
        "$BINDLINKD" --socket "$T/other.sock" --state-dir "$T/other-state" 2>"$T/other.log" &
        local other=$!
        eventually 30 env BINDLINK_SOCKET="$T/other.sock" "$BINDLINKCTL" list >/dev/null || fail "the other daemon did not start"
        BINDLINK_SOCKET="$T/other.sock" "$BINDLINKCTL" create --merged "$T/v2" "$T/b2" || fail "other create"
        kill9_daemon
        start_daemon || return
        check_file_is "$T/v2/x" b2
        findmnt -n --mountpoint "$T/v2" | grep -q fuse.bindlink || fail "our restart took down another daemon's view"
        BINDLINK_SOCKET="$T/other.sock" "$BINDLINKCTL" remove "$T/v2" || fail "other remove"
        kill "$other"; wait "$other" 2>/dev/null
}

test_s4_kill9_during_a_create_storm_leaves_nothing_once_removed() {
        local round i
        mkdir -p "$T/b" "$T/p"; echo b > "$T/b/x"
        for i in $(seq 12); do mkdir -p "$T/m$i"; done
        for round in 1 2 3 4 5; do
                ( for i in $(seq 12); do
                        "$BINDLINKCTL" create --merged "$T/m$i" "$T/b" >/dev/null 2>&1
                        "$BINDLINKCTL" create "$T/p/a$i" "$T/b" >/dev/null 2>&1
                  done ) &
                local storm=$!
                # Somewhere in the middle of it.
                eventually 20 sh -c "[ \$('$BINDLINKCTL' list --json 2>/dev/null | jq '.bindlinks | length') -ge $((round * 2)) ]"
                kill9_daemon
                wait "$storm"
                start_daemon || return
        done
        remove_all_links
        check_eq "links left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        eventually 20 sh -c "! findmnt -rn -o TARGET | grep -q '^$T/'" ||
                fail "mounts left after every link was removed: $(findmnt -rn -o TARGET,FSTYPE | grep "^$T/")"
        eventually 20 test "$(servers_left)" -eq 0 || fail "overlay servers left: $(pgrep -a -f bindlink-overlay)"
}

# ---- a full state filesystem (S4, S2) --------------------------------------------------

# links_and_mounts: each link's V and whether something is mounted there, sorted.
links_and_mounts() {
        local v
        "$BINDLINKCTL" list --json | jq -r '.bindlinks[].virtual' | sort | while IFS= read -r v; do
                if findmnt -n --mountpoint "$v" >/dev/null; then echo "$v mounted"; else echo "$v bare"; fi
        done
}

test_s4_full_state_filesystem_refuses_what_it_cannot_record() {
        local i out ok=0 nospace=0 other=0 before after
        # The daemon's state directory on a 40 KiB filesystem.
        stop_daemon
        mkdir -p "$T/statefs" "$T/b" "$T/mb" "$T/mv"; echo m > "$T/mb/f"
        mount -t tmpfs -o size=40k statefs "$T/statefs" || { fail "cannot mount a small tmpfs"; start_daemon; return; }
        local saved_state=$STATE
        STATE=$T/statefs/state
        start_daemon || { fail "daemon did not start"; STATE=$saved_state; umount "$T/statefs"; start_daemon; return; }
        ctl create --merged "$T/mv" "$T/mb" || return
        for i in $(seq 420); do
                mkdir -p "$T/v$i"
                out=$("$BINDLINKCTL" create "$T/v$i" "$T/b" 2>&1)
                case $? in
                0) ok=$((ok + 1)) ;;
                *) case "$out" in
                   *"(HRESULT 0x80070070, ENOSPC)"*) nospace=$((nospace + 1))
                           findmnt -n --mountpoint "$T/v$i" >/dev/null &&
                                   fail "v$i: refused (ENOSPC), but something is mounted there" ;;
                   *) other=$((other + 1)); fail "v$i: $out" ;;
                   esac ;;
                esac
        done
        echo "# of 420 creates: $ok done, $nospace refused for want of space, $other failed otherwise"
        [ "$nospace" -gt 0 ] || fail "the state filesystem never filled up"
        # Removals: done, or refused with the link still in place.
        local removed=0 kept=0
        for i in $(seq 1 20); do
                out=$("$BINDLINKCTL" remove "$T/v$i" 2>&1) && removed=$((removed + 1)) && continue
                case "$out" in *"ENOSPC"*) kept=$((kept + 1)) ;; *"ENOENT"*) ;; *) fail "remove v$i: $out" ;; esac
                [ "$(link_field "$T/v$i" virtual)" = "$T/v$i" ] || fail "v$i: removal refused, but the link is gone"
        done
        echo "# of 20 removes: $removed done, $kept refused for want of space"
        # What is listed is what is mounted, and survives a restart on the full disk.
        before=$(links_and_mounts)
        grep -q ' bare$' <<<"$before" && fail "links listed but not mounted: $(grep ' bare$' <<<"$before" | head -3)"
        kill9_daemon
        start_daemon || { fail "the daemon does not start on a full state filesystem"; sed 's/^/#   /' "$DAEMON_LOG"; }
        check_eq "links and mounts after a restart on a full disk" "$before" "$(links_and_mounts)"
        check_file_is "$T/mv/f" m
        # Room again: creates and removes work, the journal catches up, a restart
        # shows exactly what was there.
        mount -o remount,size=8m "$T/statefs" || fail "cannot grow the state filesystem"
        mkdir -p "$T/roomy"
        eventually 10 "$BINDLINKCTL" create "$T/roomy" "$T/b" || fail "no create after space came back"
        ctl remove "$T/v20" 2>/dev/null
        after=$(links_and_mounts)
        stop_daemon
        start_daemon || fail "restart"
        check_eq "links and mounts after space came back and a restart" "$after" "$(links_and_mounts)"
        remove_all_links
        stop_daemon
        umount "$T/statefs"
        STATE=$saved_state
        start_daemon
}

start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
