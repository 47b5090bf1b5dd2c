#!/bin/bash
# merged.sh — integration tests of MERGED and READ_ONLY|MERGED links (S12, S13) and of
# the rules that meet them (S4, S5, S10, S11, S14, S15, S20): a real bindlinkd, the
# real FUSE merged view, in a private mount+pid namespace; as root and as an
# unprivileged user.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

# A V and a B that overlap: top-level files of each, a collision, a directory in both
# (merged one level down, and again below), a directory in V only.
make_pair() {
        mkdir -p "$T/v/both/deeper" "$T/v/vdir/inner" "$T/b/both/deeper" "$T/b/bdir"
        echo v-only > "$T/v/vfile"; echo b-only > "$T/b/bfile"
        echo v-col > "$T/v/col"; echo b-col > "$T/b/col"
        echo v-in-both > "$T/v/both/vf"; echo b-in-both > "$T/b/both/bf"
        echo v-deep > "$T/v/both/deeper/vd"; echo b-deep > "$T/b/both/deeper/bd"
        echo v-inner > "$T/v/vdir/inner/f"
}

listing() { (cd "$1" && find . | sort | tr '\n' ' '); }

test_s12_merged_view_is_the_union_and_b_wins_collisions() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        check_eq "top level" ". ./bdir ./bfile ./both ./both/bf ./both/deeper ./both/deeper/bd ./both/deeper/vd ./both/vf ./col ./vdir ./vdir/inner ./vdir/inner/f ./vfile " "$(listing "$T/v")"
        check_file_is "$T/v/col" b-col
        check_file_is "$T/v/vfile" v-only
        check_file_is "$T/v/both/deeper/vd" v-deep
        check_eq realization overlay "$(link_field "$T/v" realization)"
        check_eq "ls -a count" 8 "$(ls -a "$T/v" | wc -l)"
        ctl remove "$T/v" || return
        check_eq "V as it was" ". ./both ./both/deeper ./both/deeper/vd ./both/vf ./col ./vdir ./vdir/inner ./vdir/inner/f ./vfile " "$(listing "$T/v")"
        check_eq "no overlay left" 0 "$(findmnt -rn -o FSTYPE | grep -c fuse.bindlink)"
}

test_s12_a_file_collision_hides_a_v_directory_and_the_reverse() {
        mkdir -p "$T/v/dir-in-v" "$T/b/dir-in-b"; echo x > "$T/v/dir-in-v/x"
        echo file > "$T/b/dir-in-v"; echo file > "$T/v/dir-in-b"
        ctl create --merged "$T/v" "$T/b" || return
        check_file_is "$T/v/dir-in-v" file
        [ -d "$T/v/dir-in-b" ] || fail "B's directory should win over V's file"
}

test_s12_v_only_file_is_changed_in_place_without_copy_up() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        echo more >> "$T/v/vfile"
        echo inner2 > "$T/v/vdir/inner/f"
        chmod 0600 "$T/v/vfile"
        check_missing "$T/b/vfile"
        check_missing "$T/b/vdir"
        ctl remove "$T/v" || return
        check_file_is "$T/v/vfile" "v-only
more"
        check_eq "mode changed in V" 600 "$(stat -c %a "$T/v/vfile")"
        check_file_is "$T/v/vdir/inner/f" inner2
}

test_s12_colliding_name_is_changed_in_b() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        echo changed > "$T/v/col"
        check_file_is "$T/b/col" changed
        ctl remove "$T/v" || return
        check_file_is "$T/v/col" v-col
}

test_s12_new_names_go_to_b_with_missing_parents_made_like_v() {
        make_pair
        chmod 0750 "$T/v/vdir"; chown 12:34 "$T/v/vdir"; chmod 0701 "$T/v/vdir/inner"
        ctl create --merged "$T/v" "$T/b" || return
        echo new > "$T/v/newtop"
        mkdir "$T/v/vdir/inner/made"
        echo deep > "$T/v/vdir/inner/made/file"
        check_file_is "$T/b/newtop" new
        check_file_is "$T/b/vdir/inner/made/file" deep
        check_eq "B's vdir like V's" "750 12 34" "$(stat -c '%a %u %g' "$T/b/vdir")"
        check_eq "B's inner like V's" "701 0 0" "$(stat -c '%a %u %g' "$T/b/vdir/inner")"
        check_file_is "$T/v/vdir/inner/f" v-inner
        ctl remove "$T/v" || return
        check_missing "$T/v/newtop"
        check_missing "$T/v/vdir/inner/made"
}

# S12 under concurrency: B's missing parents are made by whichever writer comes first,
# each exactly once and like V's, while others create beside and below them at once
# (each directory node serializes its own making; no lock spans the whole view).
test_s12_parallel_writers_make_each_missing_b_parent_once_like_v() {
        make_pair
        local d i j
        for d in 1 2 3 4; do
                mkdir -p "$T/v/deep/d$d/e/f"
                chmod 0751 "$T/v/deep/d$d"; chown 5$d:6$d "$T/v/deep/d$d/e"
        done
        ctl create --merged "$T/v" "$T/b" || return
        local pids=()
        for i in 1 2 3 4 5 6 7 8; do
                (for d in 1 2 3 4; do
                        for j in 1 2 3 4 5; do
                                echo "$i.$j" > "$T/v/deep/d$d/e/f/w$i-$j" || exit 1
                                echo "$i.$j" > "$T/v/deep/d$d/e/w$i-$j" || exit 1
                        done
                done) &
                pids+=($!)
        done
        local failed=0
        for i in "${pids[@]}"; do wait "$i" || failed=1; done
        check_eq "every writer succeeded" 0 "$failed"
        check_eq "files in B" 320 "$(find "$T/b/deep" -type f | wc -l)"
        for d in 1 2 3 4; do
                check_eq "B's d$d like V's" "751 0 0" "$(stat -c '%a %u %g' "$T/b/deep/d$d")"
                check_eq "B's d$d/e like V's" "755 5$d 6$d" "$(stat -c '%a %u %g' "$T/b/deep/d$d/e")"
        done
        check_file_is "$T/v/deep/d3/e/f/w7-5" 7.5
        ctl remove "$T/v" || return
        check_eq "V's own tree untouched" 0 "$(find "$T/v/deep" -type f | wc -l)"
}

test_s12_unlink_acts_on_the_visible_object_and_uncovers_v() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        check_file_is "$T/v/col" b-col
        rm "$T/v/col" || fail "rm of the collision failed"
        check_file_is "$T/v/col" v-col
        check_missing "$T/b/col"
        rm "$T/v/col" || fail "rm of V's object failed"
        check_missing "$T/v/col"
        rm "$T/v/vfile"
        check_missing "$T/v/vfile"
        # No whiteouts, ever: B holds nothing but what it had, minus col.
        check_eq "B after" ". ./bdir ./bfile ./both ./both/bf ./both/deeper ./both/deeper/bd " "$(listing "$T/b")"
        ctl remove "$T/v" || return
        check_missing "$T/v/col"
        check_missing "$T/v/vfile"
}

test_s12_rmdir_of_a_merged_directory() {
        mkdir -p "$T/v/d" "$T/b/d" "$T/v/full" "$T/b/full"; echo x > "$T/v/full/x"
        ctl create --merged "$T/v" "$T/b" || return
        local err; err=$(rmdir "$T/v/full" 2>&1) && fail "rmdir of a directory listing V's entries succeeded"
        case "$err" in *"not empty"*) ;; *) fail "expected ENOTEMPTY, got: $err";; esac
        rmdir "$T/v/d" || fail "rmdir of B's empty directory failed"
        [ -d "$T/v/d" ] || fail "V's directory of the same name should show again"
        check_missing "$T/b/d"
        rmdir "$T/v/d" || fail "rmdir of V's directory failed"
        check_missing "$T/v/d"
}

test_s12_rename_rules() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        local ino; ino=$(stat -c %i "$T/v/vfile")
        mv "$T/v/vfile" "$T/v/moved" || fail "rename of a V-only file failed"
        check_file_is "$T/b/moved" v-only
        check_missing "$T/v/vfile"
        check_eq "st_ino kept across rename" "$ino" "$(stat -c %i "$T/v/moved")"
        mv "$T/v/col" "$T/v/col2" || fail "rename of a collision failed"
        check_file_is "$T/v/col2" b-col
        check_file_is "$T/v/col" v-col
        check_file_is "$T/b/col2" b-col
        check_missing "$T/b/col"
        mv "$T/v/vdir" "$T/v/both/vdir-moved" || fail "rename of a V-only directory failed"
        check_file_is "$T/b/both/vdir-moved/inner/f" v-inner
        check_file_is "$T/v/both/vdir-moved/inner/f" v-inner
        # Onto a name only V shows: rename(2)'s own answers.
        mkdir "$T/v/emptyd"
        err=$(mv -T "$T/v/bfile" "$T/v/both" 2>&1) && fail "file over a directory succeeded"
        python3 -c 'import os,sys
try:
    os.rename(sys.argv[1], sys.argv[2])
except OSError as e:
    print(e.errno)' "$T/v/bfile" "$T/v/both" | grep -qx 21 || fail "file over a directory: expected EISDIR"
        ctl remove "$T/v" || return
        check_missing "$T/v/vfile"
        check_missing "$T/v/vdir"
        check_file_is "$T/v/col" v-col
}

test_s12_object_deleted_outside_the_link_uncovers_v() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        check_file_is "$T/v/col" b-col
        rm "$T/b/col"
        eventually 20 grep -qx v-col "$T/v/col" || fail "V's col does not show after B's was deleted"
        echo b-again > "$T/b/col"
        eventually 20 grep -qx b-again "$T/v/col" || fail "B's col made again does not win"
        echo fresh > "$T/b/made-beside"
        eventually 20 test -e "$T/v/made-beside" || fail "a file made in B beside the link is not listed"
        ls "$T/v" | grep -qx made-beside || fail "readdir misses a name made in B beside the link"
}

# Directly in B, for the coherence tests below (each name asked about through V
# first): a new file (and the listing), a rename, and B's object of a name V has too
# deleted, which shows V's.
names_made_renamed_and_deleted_in_b_show_through_v() {
        echo new > "$T/b/new-in-b"
        eventually 20 test -e "$T/v/new-in-b" || fail "a file made in B does not show"
        ls "$T/v" | grep -qx new-in-b || fail "the listing misses a name made in B"
        mv "$T/b/old-name" "$T/b/new-name"
        eventually 20 test -e "$T/v/new-name" -a ! -e "$T/v/old-name" ||
                fail "a rename in B does not show"
        rm "$T/b/col"
        eventually 20 grep -qx v-col "$T/v/col" || fail "V's col does not show after B's was deleted"
}

# Then: a directory only V had, made in B (what B puts in it shows); a subtree of B
# replaced by a file; a file made and one deleted in the original V (through the
# bind mount $T/vorig, made before the link).
directories_gained_and_replaced_in_b_and_names_in_v_show_through_v() {
        mkdir "$T/b/vdir"; echo made > "$T/b/vdir/made"
        eventually 20 grep -qx made "$T/v/vdir/made" || fail "a file in a directory B gained does not show"
        rm -r "$T/b/bdir"; echo now-a-file > "$T/b/bdir"
        eventually 20 test -f "$T/v/bdir" || fail "B's directory replaced by a file does not show"
        check_file_is "$T/v/bdir" now-a-file
        echo in-v > "$T/vorig/new-in-v"
        eventually 20 test -e "$T/v/new-in-v" || fail "a file made in the original V does not show"
        rm "$T/vorig/vfile"
        eventually 20 test ! -e "$T/v/vfile" || fail "a file deleted from the original V still shows"
}

# S10, S12: a view keeps names and attributes in the kernel for long (an hour), and
# every change made beside it reaches it at once (layer_watch.c). Each change is made
# on a name the view was just asked about, so only a notification can make it show:
# without one, the old answer would stay for the hour and these polls time out.
test_s10_s12_changes_made_beside_a_merged_link_show_through_it() {
        make_pair
        mkdir "$T/vorig"
        # Private: a peer of the area's shared mount would receive the view too.
        mount --bind "$T/v" "$T/vorig" && mount --make-private "$T/vorig" ||
                { fail "bind V aside"; return; }
        mkdir -p "$T/b/bdir/sub"; echo in-bdir > "$T/b/bdir/sub/f"
        echo aaaa > "$T/b/content"; echo mode > "$T/b/modefile"; chmod 0644 "$T/b/modefile"
        echo renamed > "$T/b/old-name"
        ctl create --merged "$T/v" "$T/b" || { umount "$T/vorig"; return; }
        # Asked once: the kernel keeps every answer.
        stat "$T/v/new-in-b" "$T/v/old-name" "$T/v/new-name" "$T/v/vdir/made" \
                "$T/v/new-in-v" "$T/v/bdir/sub/f" "$T/v/modefile" >/dev/null 2>&1
        cat "$T/v/content" "$T/v/col" >/dev/null; ls "$T/v" "$T/v/vdir" >/dev/null
        names_made_renamed_and_deleted_in_b_show_through_v
        # Content and size rewritten in B, attributes changed in B.
        echo bbbbbbbbbb > "$T/b/content"
        eventually 20 grep -qx bbbbbbbbbb "$T/v/content" || fail "new content in B does not show"
        check_eq "size through V" 11 "$(stat -c %s "$T/v/content")"
        chmod 0600 "$T/b/modefile"
        eventually 20 sh -c "[ \"\$(stat -c %a '$T/v/modefile')\" = 600 ]" ||
                fail "a mode changed in B does not show"
        directories_gained_and_replaced_in_b_and_names_in_v_show_through_v
        # The directory B gained is still merged with V's.
        ls "$T/v/vdir" | grep -qx inner || fail "V's entries of the merged directory are gone"
        # An unprivileged user sees what B now allows.
        as_nobody cat "$T/v/modefile" >/dev/null 2>&1 && fail "nobody read a file made 0600 in B"
        ctl remove "$T/v"
        umount "$T/vorig"
}

# S10, S13: the same for a READ_ONLY|MERGED view: B's objects are shown read-only, new
# names go to V, and every change made directly in B or in the original V shows
# through V at once. Each name is asked about through V before it changes, so the
# kernel keeps the old answer (for an hour) unless the view is told of the change.
test_s10_s13_changes_made_beside_a_read_only_merged_link_show_through_it() {
        make_pair
        mkdir "$T/vorig"
        mount --bind "$T/v" "$T/vorig" && mount --make-private "$T/vorig" ||
                { fail "bind V aside"; return; }
        mkdir -p "$T/b/bdir/sub" "$T/b/bempty"; echo in-bdir > "$T/b/bdir/sub/f"
        echo aaaa > "$T/b/content"; echo mode > "$T/b/modefile"; chmod 0644 "$T/b/modefile"
        echo acl > "$T/b/aclfile"; chmod 0640 "$T/b/aclfile"
        echo renamed > "$T/b/old-name"; echo v-renamed > "$T/v/v-old"
        echo v-mode > "$T/v/vmode"; chmod 0644 "$T/v/vmode"
        ctl create --merged --read-only "$T/v" "$T/b" || { umount "$T/vorig"; return; }
        check_eq "B's file shows no write bits" 444 "$(stat -c %a "$T/v/modefile")"
        as_nobody cat "$T/v/aclfile" >/dev/null 2>&1 && fail "nobody read a 0640 file"
        stat "$T/v/new-in-b" "$T/v/old-name" "$T/v/new-name" "$T/v/bnewdir/f" "$T/v/bempty" \
                "$T/v/new-in-v" "$T/v/v-old" "$T/v/v-new" "$T/v/vnewdir" "$T/v/bdir/sub/f" \
                "$T/v/vmode" "$T/v/vdir/made" >/dev/null 2>&1
        cat "$T/v/content" "$T/v/col" >/dev/null; ls "$T/v" "$T/v/vdir" >/dev/null
        names_made_renamed_and_deleted_in_b_show_through_v
        # Attributes and an ACL, content and size.
        chmod 0600 "$T/b/modefile"
        eventually 20 sh -c "[ \"\$(stat -c %a '$T/v/modefile')\" = 400 ]" ||
                fail "a mode changed in B does not show (read-only: 400)"
        setfacl -m u:nobody:r-- "$T/b/aclfile" || fail "setfacl in B"
        eventually 20 as_nobody cat "$T/v/aclfile" >/dev/null ||
                fail "an ACL entry added in B does not count through V"
        echo bbbbbbbbbb > "$T/b/content"
        eventually 20 grep -qx bbbbbbbbbb "$T/v/content" || fail "new content in B does not show"
        check_eq "size through V" 11 "$(stat -c %s "$T/v/content")"
        # Directories made and removed in B; a subtree of B replaced by a file.
        mkdir "$T/b/bnewdir"; echo f > "$T/b/bnewdir/f"
        eventually 20 test -f "$T/v/bnewdir/f" || fail "a directory made in B does not show"
        rmdir "$T/b/bempty"
        eventually 20 test ! -e "$T/v/bempty" || fail "a directory removed from B still shows"
        directories_gained_and_replaced_in_b_and_names_in_v_show_through_v
        mv "$T/vorig/v-old" "$T/vorig/v-new"
        eventually 20 test -e "$T/v/v-new" -a ! -e "$T/v/v-old" ||
                fail "a rename in the original V does not show"
        chmod 0600 "$T/vorig/vmode"
        eventually 20 sh -c "[ \"\$(stat -c %a '$T/v/vmode')\" = 600 ]" ||
                fail "a mode changed in the original V does not show"
        mkdir "$T/vorig/vnewdir"
        eventually 20 test -d "$T/v/vnewdir" || fail "a directory made in the original V does not show"
        rmdir "$T/vorig/vnewdir"
        eventually 20 test ! -e "$T/v/vnewdir" || fail "a directory removed from the original V still shows"
        ctl remove "$T/v"
        umount "$T/vorig"
}

# S12: changes beside the link faster than the server reads them, made by an
# unprivileged user who can write in B: the kernel's event queue (made small here:
# fs.fanotify.max_queued_events is read when a group is made) overflows, the changes
# in it are lost, and every name the kernel kept is asked about again. The names made are first asked about through V, so each one the kernel kept
# as absent would stay so without that.
test_s12_a_flood_of_changes_beside_a_merged_link_loses_nothing() {
        make_pair
        local limit=/proc/sys/fs/fanotify/max_queued_events old r round
        old=$(cat "$limit")
        echo 16 > "$limit"
        ctl create --merged "$T/v" "$T/b"
        r=$?
        ls "$T/v" >/dev/null # answered: the server made its group
        echo "$old" > "$limit"
        [ "$r" -eq 0 ] || return
        cat "$T/v/col" >/dev/null
        chmod 0777 "$T/b" # the flood is an unprivileged user's
        python3 -c 'import os, sys
for r in range(1, 11):
    for i in range(1, 2001):
        try: os.stat("%s/flood%d-%d" % (sys.argv[1], r, i))
        except FileNotFoundError: pass' "$T/v"
        for round in $(seq 1 10); do
                (cd "$T/b" && seq 1 2000 | sed "s/^/flood$round-/" |
                        as_nobody xargs -P 4 -n 250 touch && rm -f col)
                grep -aq "change queue overflowed" "$DAEMON_LOG" && break
        done
        grep -aq "change queue overflowed" "$DAEMON_LOG" || { fail "the queue never overflowed: nothing was tested"; return; }
        check_eq "names made in B that V does not show" 0 "$(python3 -c 'import os, sys
print(sum(1 for n in os.listdir(sys.argv[1]) if n.startswith("flood") and not os.path.exists(sys.argv[2] + "/" + n)))' "$T/b" "$T/v")"
        eventually 20 grep -qx v-col "$T/v/col" || fail "V's col does not show after B's was deleted"
        check_eq "names listed through V" "$(ls "$T/b" | grep -c '^flood')" "$(ls "$T/v" | grep -c '^flood')"
        ctl remove "$T/v"
}

test_s12_hard_links_and_stable_inodes_through_the_merged_view() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        ln "$T/v/bfile" "$T/v/bfile-link" || fail "link failed"
        check_eq "one inode" "$(stat -c %i "$T/v/bfile")" "$(stat -c %i "$T/v/bfile-link")"
        check_eq nlink 2 "$(stat -c %h "$T/v/bfile")"
        local d1; d1=$(stat -c %i "$T/v/vdir/inner")
        echo x > "$T/v/vdir/inner/new" # B gains vdir/inner
        check_eq "directory inode stays when B gains it" "$d1" "$(stat -c %i "$T/v/vdir/inner")"
        local all; all=$(find "$T/v" -printf '%i\n' | sort | uniq -d | wc -l)
        check_eq "no two objects share an inode number (but the hard link)" 1 "$all"
}

# S5 through the merged view, on a V-only file (acts in V, in place) and on B's.
test_s5_merged_view_passes_posix_operations_through() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        local p="$T/v" side
        for side in vfile bfile; do
                echo a >> "$p/$side"
                python3 - "$p/$side" <<'PY' || fail "shared writable mmap of $side"
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[0:1] = b"Z"
    m.flush()
    m.close()
PY
                check_eq "mmap write of $side" Z "$(head -c1 "$p/$side")"
                flock "$p/$side" true || fail "flock $side"
                python3 - "$p/$side" <<'PY' || fail "POSIX lock of $side"
import fcntl, sys
with open(sys.argv[1], "r+b") as f:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.lockf(f, fcntl.LOCK_UN)
PY
                setfattr -n user.k -v "$side" "$p/$side" || fail "setfattr $side"
                check_eq "xattr $side" "$side" "$(getfattr --only-values -n user.k "$p/$side" 2>/dev/null)"
                sync "$p/$side" || fail "fsync $side"
        done
        check_file_is "$T/b/bfile" "Z-only
a"
        check_missing "$T/b/vfile"
        # Appends from beside the link and through it interleave, none lost.
        echo 1 >> "$p/bfile"; echo 2 >> "$T/b/bfile"; echo 3 >> "$p/bfile"
        check_eq "O_APPEND" "Z-only a 1 2 3" "$(tr '\n' ' ' < "$T/b/bfile" | sed 's/ $//')"
        # truncate through open(O_TRUNC) and by size
        echo short > "$p/bfile"; check_file_is "$T/b/bfile" short
        truncate -s 2 "$p/vfile"; check_eq "size" 2 "$(stat -c %s "$p/vfile")"
        ctl remove "$T/v" || return
        check_eq "V's file changed in place" "Z-" "$(cat "$T/v/vfile")"
        check_eq "xattr in V" vfile "$(getfattr --only-values -n user.k "$T/v/vfile" 2>/dev/null)"
}

# The view holds a descriptor for each object the kernel knows, while they fit in half
# the descriptor limit; past it, files are held by handle. Listing with attributes
# (readdirplus: a lookup per entry) and reading more files than the server's whole
# limit must still work (it raises its soft limit to the hard one, which it inherits).
test_s5_merged_view_lists_and_reads_more_files_than_the_fd_limit() {
        local n; n=$(past_fd_limit)
        mkdir -p "$T/v" "$T/b"
        python3 - "$T/b" "$n" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%d" % i), "w") as f:
        f.write("x")
PY
        ctl create --merged "$T/v" "$T/b" || return
        local out
        out=$(timeout 120 ls -l "$T/v" 2>&1 >/dev/null | head -3)
        check_eq "ls -l's complaints ($n files, descriptor limit $(ulimit -Hn))" "" "$out"
        check_eq "ls -l's lines" $((n + 1)) "$(timeout 120 ls -l "$T/v" 2>/dev/null | wc -l)"
        out=$(timeout 120 python3 - "$T/v" "$n" <<'PY' 2>&1
import os, sys
bad = 0
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%d" % i)) as f:
        bad += f.read() != "x"
print(bad)
PY
)
        check_eq "files read through V ($n)" 0 "$out"
        check_eq "ls -l's lines as nobody" $((n + 1)) \
                "$(as_nobody timeout 120 ls -l "$T/v" 2>/dev/null | wc -l)"
        check_eq "a late file read as nobody" x "$(as_nobody cat "$T/v/f$((n - 2))")"
        check_eq "a file's inode number stays" "$(stat -c %i "$T/v/f7")" "$(stat -c %i "$T/v/f7")"
        check_eq "a write lands in B" y "$(echo y > "$T/v/f$((n - 1))" && cat "$T/b/f$((n - 1))")"
}

# The same for directories: past the budget they are held by handle too. Each change
# below acts in a directory first seen past it (lookups, creates, B's missing
# parents made, renames, rmdir, listings).
test_s5_s12_merged_view_lists_and_changes_more_directories_than_the_fd_limit() {
        local n; n=$(past_fd_limit)
        mkdir -p "$T/v/many" "$T/b/many"
        (cd "$T/b/many" && seq "$n" | xargs mkdir)
        (cd "$T/v/many" && seq $((n - 10)) $((n + 10)) | sed 's/^/v/' | xargs mkdir)
        mkdir "$T/v/many/$n"; echo v-in > "$T/v/many/$n/vf"
        ctl create --merged "$T/v" "$T/b" || return
        local out
        out=$(timeout 120 ls -l "$T/v/many" 2>&1 >/dev/null | head -3)
        check_eq "ls -l's complaints ($n directories, descriptor limit $(ulimit -Hn))" "" "$out"
        check_eq "ls -l's lines" $((n + 22)) "$(timeout 120 ls -l "$T/v/many" 2>/dev/null | wc -l)"
        check_eq "find's entries" $((n + 22)) \
                "$(timeout 120 find "$T/v/many" -mindepth 1 2>&1 | wc -l)"
        check_eq "as nobody" $((n + 22)) "$(as_nobody timeout 120 ls -l "$T/v/many" 2>/dev/null | wc -l)"
        check_eq "a late merged directory lists V's file" vf "$(ls "$T/v/many/$n")"
        echo new > "$T/v/many/$((n - 1))/f" || fail "cannot create in a late directory"
        check_file_is "$T/b/many/$((n - 1))/f" new
        mkdir -p "$T/v/many/v$((n + 5))/sub" || fail "cannot mkdir in a late V-only directory"
        [ -d "$T/b/many/v$((n + 5))/sub" ] || fail "B's missing parents were not made"
        mv "$T/v/many/$((n - 1))/f" "$T/v/many/$((n - 2))/g" || fail "rename between late directories"
        check_file_is "$T/b/many/$((n - 2))/g" new
        rmdir "$T/v/many/$((n - 3))" || fail "rmdir of a late directory"
        check_missing "$T/b/many/$((n - 3))"
        echo x > "$T/v/many/$n/new" || fail "cannot create in a late merged directory"
        check_file_is "$T/b/many/$n/new" x
}

# TMPFILE_PY DIR NAME [excl]: make an unnamed file in DIR (O_TMPFILE), write "tmp" to
# it, link it in as DIR/NAME through /proc (AT_SYMLINK_FOLLOW); prints what linkat said.
TMPFILE_PY='
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
d, name = sys.argv[1], sys.argv[2]
flags = os.O_TMPFILE | os.O_RDWR | (os.O_EXCL if len(sys.argv) > 3 else 0)
fd = os.open(d, flags, 0o640)
os.write(fd, b"tmp")
st = os.fstat(fd)
assert st.st_nlink == 0 and st.st_size == 3, st
r = libc.linkat(-100, b"/proc/self/fd/%d" % fd, -100, os.fsencode(d + "/" + name), 0x400)
print("OK" if r == 0 else os.strerror(ctypes.get_errno()))
'

# O_TMPFILE through V (S5, where B's filesystem has it): the unnamed file is made where
# new names go — B (S12), with B's missing parents made, or V under S13 — as its
# caller; linked in, it shows through V; with O_EXCL it cannot be linked; one never
# linked leaves nothing anywhere.
test_s5_s12_s13_o_tmpfile_through_merged_views() {
        local py=/usr/bin/python3 # Debian's, which nobody may run too
        make_pair
        chmod 0777 "$T/b" "$T/v/vdir"
        local vbefore; vbefore=$(tree_digest "$T/v")
        ctl create --merged "$T/v" "$T/b" || return
        check_eq "root: linkat" OK "$("$py" -c "$TMPFILE_PY" "$T/v" made-root)"
        check_eq "root: in B" "tmp 0 640" "$(cat "$T/b/made-root") $(stat -c '%u %a' "$T/b/made-root")"
        check_file_is "$T/v/made-root" tmp
        check_eq "nobody: linkat" OK "$(as_nobody "$py" -c "$TMPFILE_PY" "$T/v" made-user)"
        check_eq "nobody: in B, theirs" "tmp $NOBODY_UID" \
                "$(cat "$T/b/made-user") $(stat -c %u "$T/b/made-user")"
        check_eq "in a V-only directory: linkat" OK \
                "$(as_nobody "$py" -c "$TMPFILE_PY" "$T/v/vdir" made-deep)"
        check_file_is "$T/b/vdir/made-deep" tmp
        check_eq "O_EXCL: linkat" "No such file or directory" \
                "$("$py" -c "$TMPFILE_PY" "$T/v" excl excl)"
        check_missing "$T/b/excl"
        "$py" -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600))' "$T/v"
        check_eq "B's names" "bdir bfile both col made-root made-user vdir" "$(ls "$T/b" | tr '\n' ' ' | sed 's/ $//')"
        ctl remove "$T/v" || return
        check_eq "the original V unchanged" "$vbefore" "$(tree_digest "$T/v")"
        ctl create --merged --read-only "$T/v" "$T/b" || return
        check_eq "read-only: linkat" OK "$("$py" -c "$TMPFILE_PY" "$T/v" made-ro)"
        check_file_is "$T/v/made-ro" tmp
        check_missing "$T/b/made-ro"
        ctl remove "$T/v" || return
        check_file_is "$T/v/made-ro" tmp
}

# Requests the writable merged view's server reads from /dev/fuse, traced: strace
# shows each read's first bytes, the header (a length, then the opcode). Begin before
# the steps counted, end after them; requests_seen OPCODE (decimal) counts them.
requests_trace_begin() {
        local pid; pid=$(pgrep -n -f "bindlink-overlay.*--merged=rw")
        [ -n "$pid" ] || { fail "no overlay server"; return 1; }
        strace -f -qq -xx -s 8 -e trace=read -o "$T/strace" -p "$pid" &
        tracer=$!
        eventually 30 sh -c "! grep -q '^TracerPid:[[:space:]]*0\$' /proc/$pid/status" ||
                { fail "strace did not attach"; requests_trace_end; return 1; }
}

requests_trace_end() {
        kill "$tracer"
        wait "$tracer" 2>/dev/null
}

requests_seen() {
        grep -Ec 'read\([0-9]+, "(\\x[0-9a-f]{2}){4}'"$(printf '\\\\x%02x' "$1")"'\\x00\\x00\\x00' \
                "$T/strace"
}

# watch_caught_up DIR: the view's watch thread reads B's events, and does what it was
# queued, in order: once a name made in B/DIR now shows through V/DIR, everything
# before it is done.
watch_caught_up() {
        touch "$T/b/$1/marker"
        eventually 20 test -e "$T/v/$1/marker" || { fail "a name made in B does not show"; return 1; }
}

# S5: the kernel opens the view's directories without asking the server (no OPENDIR
# and RELEASEDIR round trips for each directory listed: `find`, `du`) and keeps their
# listings. Requests are seen in the server's reads of /dev/fuse (its opcode follows
# the length in the header; 27 is OPENDIR, 44 READDIRPLUS); the first OPENDIR is
# answered ENOSYS, and the kernel sends none after it.
test_s5_merged_view_lists_directories_without_opendir_requests() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        requests_trace_begin || return
        local i
        for i in 1 2 3 4 5; do
                check_eq "listing $i of both/" "bf deeper vf" "$(ls "$T/v/both" | tr '\n' ' ' | sed 's/ $//')"
                find "$T/v" >/dev/null || fail "find through V failed"
        done
        check_eq "the merged root" "bdir bfile both col vdir vfile" "$(ls "$T/v" | tr '\n' ' ' | sed 's/ $//')"
        requests_trace_end
        local listed; listed=$(requests_seen 44)
        [ "$listed" -gt 0 ] || { fail "no READDIRPLUS seen: the server's requests are not observed"; return; }
        local opened; opened=$(requests_seen 27)
        [ "$opened" -le 1 ] || fail "$opened OPENDIR requests for 11 listings"
}

# S5: the view's own changes (each create makes events in B that the watch leaves
# out) do not cost the entries it replies meanwhile their timeouts: a file created
# through V is not looked up again at its next stat (LOOKUP is opcode 1 in the
# server's reads of /dev/fuse).
test_s5_files_created_through_the_view_are_not_looked_up_again() {
        mkdir -p "$T/v" "$T/b/new"
        ctl create --merged "$T/v" "$T/b" || return
        python3 - "$T/v/new" <<'PY'
import os, sys
for i in range(300):
    with open(os.path.join(sys.argv[1], "f%03d" % i), "w") as f:
        f.write("x")
PY
        requests_trace_begin || return
        local seen; seen=$(python3 - "$T/v/new" <<'PY'
import os, sys
print(sum(os.path.exists(os.path.join(sys.argv[1], "f%03d" % i)) for i in range(300)))
PY
)
        check_eq "files seen through V" 300 "$seen"
        # One request seen, so the trace is known to show them.
        stat "$T/v/new/absent" >/dev/null 2>&1
        requests_trace_end
        local looked; looked=$(requests_seen 1)
        [ "$looked" -ge 1 ] || { fail "no LOOKUP seen: the server's requests are not observed"; return; }
        [ "$looked" -le 5 ] || fail "$looked LOOKUPs for 300 files created through V"
}

# S5, S12: a file written through V and closed, as `tar -x` leaves it (written, its
# times and mode set, closed), keeps its attributes in the kernel: the close's event
# in B carries the writer's pid, not the server's, and the watch dropped them, one
# GETATTR (opcode 3) at each file's next stat. A file then rewritten directly in B,
# to the same size, still shows its new contents and time through V at once.
test_s5_s12_files_written_through_the_view_keep_their_attributes() {
        mkdir -p "$T/v" "$T/b/new"
        ctl create --merged "$T/v" "$T/b" || return
        python3 - "$T/v/new" <<'PY'
import os, sys
for i in range(300):
    p = os.path.join(sys.argv[1], "f%03d" % i)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"x" * 100)
    os.utime(fd, (1000000000, 1000000000))
    os.fchmod(fd, 0o644)
    os.close(fd)
PY
        # Their closes' events have been read.
        watch_caught_up new || return
        requests_trace_begin || return
        local seen; seen=$(python3 - "$T/v/new" <<'PY'
import os, sys
print(sum(os.stat(os.path.join(sys.argv[1], "f%03d" % i)).st_mtime == 1000000000 for i in range(300)))
PY
)
        check_eq "files with the times set through V" 300 "$seen"
        # One GETATTR seen, so the trace is known to show them: the marker's mode
        # changed in B drops its attributes.
        chmod 600 "$T/b/new/marker"
        eventually 20 sh -c "[ \"\$(stat -c %a '$T/v/new/marker')\" = 600 ]" ||
                fail "a mode changed in B does not show through V"
        requests_trace_end
        local asked; asked=$(requests_seen 3)
        [ "$asked" -ge 1 ] || { fail "no GETATTR seen: the server's requests are not observed"; return; }
        [ "$asked" -le 5 ] || fail "$asked GETATTRs for 300 files written through V"
        # Rewritten in B beside the view, to the same size: V shows it.
        printf '%0100d' 7 >"$T/b/new/f007"
        eventually 20 sh -c "[ \"\$(stat -c %Y '$T/v/new/f007')\" != 1000000000 ]" ||
                fail "a file rewritten in B keeps its old time through V"
        check_eq "contents rewritten in B" "$(cat "$T/b/new/f007")" "$(cat "$T/v/new/f007")"
}

# S5: a second walk of a tree (`du`, `find`, `ls -lR`) asks no GETATTR (opcode 3)
# per directory. Each listing the kernel reads from the server leaves that
# directory's attributes invalid (its atime); once enough directories of a parent
# were listed, the kernel's copy of the parent's listing is dropped, and reading it
# again (READDIRPLUS, 44) gives them all fresh.
test_s5_a_second_walk_asks_no_getattr_per_directory() {
        mkdir -p "$T/v" "$T/b/tree" "$T/b/elsewhere"
        python3 - "$T/b/tree" <<'PY'
import os, sys
for d in range(60):
    p = os.path.join(sys.argv[1], "d%02d" % d)
    os.mkdir(p)
    for f in range(5):
        with open(os.path.join(p, "f%d" % f), "w") as fh:
            fh.write("x" * 10)
PY
        ctl create --merged "$T/v" "$T/b" || return
        local first; first=$(du -s --apparent-size --block-size=1 "$T/v/tree" | cut -f1)
        # What the walk queued for the watch thread is done.
        watch_caught_up elsewhere || return
        requests_trace_begin || return
        check_eq "the second walk's total" "$first" \
                "$(du -s --apparent-size --block-size=1 "$T/v/tree" | cut -f1)"
        requests_trace_end
        local asked; asked=$(requests_seen 3)
        local listed; listed=$(requests_seen 44)
        [ $((asked + listed)) -ge 1 ] || { fail "no request seen: the server's requests are not observed"; return; }
        [ "$asked" -le 3 ] || fail "$asked GETATTRs in a second walk of 61 directories"
}

# S5, S12: with no directory handle, a listing goes on from the name it stopped
# after, in whatever reading of the directory is at hand (node_listing.c): a listing
# read while names come and go, directly in B and through V, still lists every name
# that stayed, once.
test_s5_s12_a_listing_read_while_names_change_lists_each_stable_name_once() {
        mkdir -p "$T/v/big" "$T/b/big"
        python3 - "$T/b/big" "$T/v/big" <<'PY'
import os, sys
for i in range(3000):
    open(os.path.join(sys.argv[1], "keep%04d" % i), "w").close()
for i in range(500):
    open(os.path.join(sys.argv[2], "vkeep%03d" % i), "w").close()
PY
        ctl create --merged "$T/v" "$T/b" || return
        python3 - "$T/b/big" "$T/v/big" <<'PY' &
import os, sys, time
end = time.time() + 8
i = 0
while time.time() < end:
    top = sys.argv[1 + i % 2]
    p = os.path.join(top, "churn%d" % (i % 50))
    try:
        open(p, "w").close()
        os.unlink(os.path.join(top, "churn%d" % ((i + 25) % 50)))
    except OSError:
        pass
    i += 1
PY
        local churner=$!
        local out
        out=$(timeout 60 python3 - "$T/v/big" <<'PY'
import os, sys, time
want = {"keep%04d" % i for i in range(3000)} | {"vkeep%03d" % i for i in range(500)}
bad = []
end = time.time() + 6
n = 0
while time.time() < end:
    names = [e.name for e in os.scandir(sys.argv[1])]
    stable = [x for x in names if x in want]
    n += 1
    if len(stable) != len(want) or set(stable) != want:
        bad.append("listing %d: %d of %d stable names, %d distinct" % (n, len(stable), len(want), len(set(stable))))
print("; ".join(bad[:3]) if bad else "ok (%d listings)" % n)
PY
)
        wait "$churner"
        case $out in ok*) ;; *) fail "$out" ;; esac
        check_eq "names listed after the churn" 3500 "$(ls "$T/v/big" | grep -c keep)"
}

# S5, S12: a first stat through V costs a round trip, not a stall. Each node holds a
# descriptor, and the kernel grows a process's descriptor table by doubling; while
# threads share it each growth waits for an RCU grace period (5-15 ms on the benchmark
# VM, bench/README.md "The FUSE floor"). The server grows its table before its first
# thread: room for 8,192 (or its whole limit) from the start. /proc's FDSize is the
# table's size.
test_s5_s12_merged_server_has_room_for_descriptors_before_it_serves() {
        mkdir -p "$T/v" "$T/b"
        ctl create --merged "$T/v" "$T/b" || return
        local pid; pid=$(pgrep -n -f "bindlink-overlay.*--merged=rw")
        [ -n "$pid" ] || { fail "no overlay server"; return; }
        local limit want size
        limit=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
        want=8192; [ "$limit" -lt "$want" ] && want=$limit
        size=$(awk '/^FDSize:/ { print $2 }' "/proc/$pid/status")
        [ "${size:-0}" -ge "$want" ] ||
                fail "descriptor table of $size slots at start, not $want (limit $limit)"
}

# S5: where the kernel has FUSE passthrough, a writable view's files are read and
# written by the kernel straight from B's or V's file: nothing stale (a change made
# directly, same size and time, shows at once; a page cache would keep the old bytes).
test_s5_s12_writable_merged_view_reads_and_writes_through_passthrough() {
        make_pair
        printf AAAA > "$T/b/pt"; touch -d @1000000000 "$T/b/pt"
        ctl create --merged "$T/v" "$T/b" || return
        if ! grep -qw fuse_passthrough_open /proc/kallsyms; then
                echo "# this kernel has no FUSE passthrough: nothing to check"
                return
        fi
        check_file_is "$T/v/pt" AAAA
        printf BBBB | dd of="$T/b/pt" conv=notrunc status=none
        touch -d @1000000000 "$T/b/pt"
        check_file_is "$T/v/pt" BBBB
        head -c 8388608 /dev/urandom > "$T/b/big"
        cmp "$T/v/big" "$T/b/big" || fail "B's file reads differently through V"
        # Writes land where S12 says (B's file; V's V-only file in place), at once.
        head -c 4194304 /dev/urandom > "$T/data"
        dd if="$T/data" of="$T/v/big" conv=notrunc status=none
        cmp <(head -c 4194304 "$T/b/big") "$T/data" || fail "the write through V is not in B's file"
        dd if="$T/data" of="$T/v/vfile" status=none
        cmp "$T/v/vfile" "$T/data" || fail "V's file written through V reads differently"
        check_eq "size seen through V" 8388608 "$(stat -c %s "$T/v/big")"
        # As an unprivileged user: the kernel checks the rights, the data is B's.
        check_eq "as an unprivileged user" "$(head -c 100 "$T/b/big" | md5sum)" \
                "$(as_nobody head -c 100 "$T/v/big" | md5sum)"
        as_nobody sh -c "echo x >> '$T/v/big'" 2>/dev/null && fail "nobody wrote B's 0644 file"
        # Writes clear setuid/setgid bits as they do directly: a user's write clears
        # them, root's keeps them.
        local f
        for f in "$T/b/suid" "$T/b/suid-direct"; do echo x > "$f"; chmod 6777 "$f"; done
        as_nobody sh -c "echo y >> '$T/v/suid'" || fail "nobody could not write a 0777 file"
        as_nobody sh -c "echo y >> '$T/b/suid-direct'"
        check_eq "mode after a user's write through V" "$(stat -c %a "$T/b/suid-direct")" \
                "$(stat -c %a "$T/b/suid")"
        for f in "$T/b/suid" "$T/b/suid-direct"; do chmod 6777 "$f"; done
        echo z >> "$T/v/suid"; echo z >> "$T/b/suid-direct"
        check_eq "mode after root's write through V" "$(stat -c %a "$T/b/suid-direct")" \
                "$(stat -c %a "$T/b/suid")"
        # S12: a name B gains while V's file of that name is open shows B's file at
        # once (a new backing file for the node), and V's again once B's goes.
        exec 7<"$T/v/vdir/inner/f"
        check_eq "V's file, open" v-inner "$(cat <&7)"
        mkdir -p "$T/b/vdir/inner"; echo bbb > "$T/b/vdir/inner/f"
        # Shown once the kernel's entry for the name expires (about a second).
        eventually 10 grep -qx bbb "$T/v/vdir/inner/f" || fail "B's new file is not shown"
        exec 7<&-
        rm "$T/b/vdir/inner/f"
        eventually 10 grep -qx v-inner "$T/v/vdir/inner/f" || fail "V's file is not shown again"
        ctl remove "$T/v" || return
        cmp "$T/v/vfile" "$T/data" || fail "V's own file was not written in place"
}

test_s13_read_only_merged_keeps_b_and_writes_v() {
        make_pair
        local before; before=$(tree_digest "$T/b")
        ctl create --merged --read-only "$T/v" "$T/b" || return
        check_eq "B's file shows no write bits" 444 "$(stat -c %a "$T/v/bfile")"
        local what
        for what in "echo x > '$T/v/bfile'" "truncate -s0 '$T/v/col'" "rm '$T/v/bfile'" \
                "chmod 0777 '$T/v/bfile'" "mv '$T/v/bfile' '$T/v/renamed'" "touch -d @0 '$T/v/col'" \
                "mkdir '$T/v/bdir/new'" "setfattr -n user.x -v 1 '$T/v/bfile'"; do
                sh -c "$what" 2>/dev/null && fail "allowed on B's object: $what"
        done
        echo more >> "$T/v/vfile" || fail "V's file is not writable in place"
        echo new > "$T/v/newname" || fail "cannot create a new name"
        mkdir "$T/v/both/newdir" || fail "cannot mkdir in a merged directory"
        rm "$T/v/vdir/inner/f" || fail "cannot remove V's object"
        # As an unprivileged user: B's objects refused, V's writable where V says so.
        chmod 0777 "$T/v/both"; chmod 0666 "$T/v/vfile"
        as_nobody sh -c "echo x >> '$T/v/bfile'" 2>/dev/null && fail "nobody wrote B's file"
        as_nobody sh -c "echo mine > '$T/v/both/by-nobody'" || fail "nobody could not create in V's 0777 dir"
        as_nobody sh -c "echo more >> '$T/v/vfile'" || fail "nobody could not write V's 0666 file"
        check_eq "nobody's new file is in V" nobody "$(stat -c %U "$T/v/both/by-nobody")"
        check_eq "B unchanged" "$before" "$(tree_digest "$T/b")"
        check_file_is "$T/v/newname" new
        ctl remove "$T/v" || return
        check_file_is "$T/v/newname" new
        [ -d "$T/v/both/newdir" ] || fail "new directory not in V"
        check_missing "$T/v/vdir/inner/f"
        check_file_is "$T/v/vfile" "v-only
more
more"
        check_file_is "$T/v/both/by-nobody" mine
        check_eq "B unchanged after" "$before" "$(tree_digest "$T/b")"
}

# A read-only merged view serves B's files by FUSE passthrough (kernel >= 6.9): reads
# go to B's file itself, no FUSE page cache. Seen from outside: bytes changed in B in
# place (same size, same mtime: nothing tells a cache to drop them) show through V
# at once; a cached view would go on showing the old ones.
test_s13_read_only_merged_view_reads_b_through_passthrough() {
        make_pair
        printf AAAA > "$T/b/pt"; touch -d @1000000000 "$T/b/pt"
        ctl create --merged --read-only "$T/v" "$T/b" || return
        check_file_is "$T/v/pt" AAAA
        printf BBBB | dd of="$T/b/pt" conv=notrunc status=none
        touch -d @1000000000 "$T/b/pt"
        if grep -qw fuse_passthrough_open /proc/kallsyms; then
                check_file_is "$T/v/pt" BBBB
                check_eq "as an unprivileged user" BBBB "$(as_nobody cat "$T/v/pt")"
                chmod 0600 "$T/b/pt"
                # Refused once the kernel's attributes expire (about a second).
                eventually 10 sh -c "! setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups cat '$T/v/pt' >/dev/null 2>&1" ||
                        fail "nobody read B's 0600 file through V"
        else
                echo "# this kernel has no FUSE passthrough: the cached fallback is checked"
                check_file_is "$T/v/pt" AAAA
        fi
        # Whole files, B's (passthrough) and V's (requests).
        head -c 3000000 /dev/urandom > "$T/b/bigb"
        cmp "$T/v/bigb" "$T/b/bigb" || fail "B's file reads differently through V"
        cmp "$T/v/vfile" <(printf 'v-only\n') || fail "V's file reads differently"
        check_eq "B's file still refused for writing" 1 "$( (echo x >> "$T/v/pt") 2>/dev/null; echo $?)"
}

# S18: a way from B back into the view (here the view bind-mounted inside B) makes the
# server's own lookups come back to it as requests; they must be answered, never
# wait on each other. Each step below goes one more time through the server, until
# the kernel sees the view's root as its own descendant and says ELOOP.
test_s18_view_reachable_from_its_own_b_never_hangs() {
        make_pair
        mkdir "$T/b/loop"
        ctl create --merged "$T/v" "$T/b" || return
        mount --bind "$T/v" "$T/b/loop" || { fail "cannot bind-mount the view into B"; return; }
        local out
        out=$(timeout -s KILL 20 ls "$T/v/loop" 2>&1) || fail "ls through the loop: $? $out"
        check_eq "the view inside itself" "bdir bfile both col loop vdir vfile" "$(echo $out)"
        check_eq "two levels down" "b-col" "$(timeout -s KILL 20 cat "$T/v/loop/loop/col" 2>&1)"
        check_eq "two levels down, as an unprivileged user" "b-col" \
                "$(as_nobody timeout -s KILL 20 cat "$T/v/loop/loop/col" 2>&1)"
        out=$(timeout -s KILL 20 stat "$T/v/loop/loop/loop/both/deeper/vd" 2>&1)
        case $? in
        0) ;;
        124) fail "stat three levels down hangs" ;;
        *) case $out in *"Too many levels of symbolic links"*) ;; *) fail "three levels down: $out" ;; esac ;;
        esac
        echo new > "$T/v/loop/made" || fail "cannot create through the loop"
        check_file_is "$T/b/made" new
        # The server holds the bind mount's root (a node of the view's objects).
        umount -l "$T/b/loop" || fail "cannot detach the loop"
        check_file_is "$T/v/col" b-col
}

# S5: POSIX ACLs count through V as on B (the kernel checks them: FUSE_POSIX_ACL). An
# ACL that denies what the mode bits allow is refused, on a file (also once root has
# it open: a passthrough file is reopened without asking the server) and on a
# directory's search; changed in B, it counts through V; set through V, it is on the
# shown object (B's, or V's own in place).
test_s5_merged_view_honours_posix_acls() {
        make_pair
        echo secret > "$T/b/acl-file"; chmod 0644 "$T/b/acl-file" "$T/v/vfile"
        mkdir "$T/b/acl-dir"; echo inside > "$T/b/acl-dir/f"; chmod 0755 "$T/b/acl-dir"
        setfacl -m u:nobody:--- "$T/b/acl-file" || { fail "setfacl"; return; }
        setfacl -m u:nobody:r-- "$T/b/acl-dir" || { fail "setfacl"; return; }
        as_nobody cat "$T/b/acl-file" >/dev/null 2>&1 && { fail "the ACL denies nothing on B"; return; }
        ctl create --merged "$T/v" "$T/b" || return
        as_nobody cat "$T/v/acl-file" >/dev/null 2>&1 && fail "nobody read a file its ACL denies them"
        exec 7<"$T/v/acl-file"
        as_nobody cat "$T/v/acl-file" >/dev/null 2>&1 && fail "nobody read it while root has it open"
        exec 7<&-
        as_nobody cat "$T/v/acl-dir/f" >/dev/null 2>&1 && fail "nobody searched a directory its ACL denies them"
        setfacl -x u:nobody "$T/b/acl-file"
        eventually 20 as_nobody cat "$T/v/acl-file" >/dev/null ||
                fail "the ACL removed in B still counts through V"
        setfacl -m u:nobody:--- "$T/v/acl-file" || fail "setfacl through V"
        getfacl -c "$T/b/acl-file" 2>/dev/null | grep -qx "user:nobody:---" ||
                fail "the ACL set through V is not on B's file"
        as_nobody cat "$T/v/acl-file" >/dev/null 2>&1 && fail "nobody read it after the ACL was set through V"
        check_eq "V's file readable before" v-only "$(as_nobody cat "$T/v/vfile")"
        setfacl -m u:nobody:--- "$T/v/vfile" || fail "setfacl on V's file through V"
        as_nobody cat "$T/v/vfile" >/dev/null 2>&1 && fail "nobody read V's file after its ACL was set"
        ctl remove "$T/v" || return
        getfacl -c "$T/v/vfile" 2>/dev/null | grep -qx "user:nobody:---" ||
                fail "the ACL set through V is not on V's own file"
}

# S5: a new object's mode through V is what it is on B: the umask counts, except in
# a directory with a default ACL, where the ACL decides (and the umask does not).
test_s5_new_objects_take_umask_or_default_acl_as_on_b() {
        mkdir -p "$T/v" "$T/b/direct-acl" "$T/b/direct-plain"
        ctl create --merged "$T/v" "$T/b" || return
        mkdir "$T/v/via-acl" "$T/v/via-plain" || { fail "mkdir through V"; return; }
        setfacl -d -m u:nobody:rwx "$T/v/via-acl" "$T/b/direct-acl" || { fail "setfacl -d"; return; }
        local where kind
        for where in via direct; do
                local top="$T/v"; [ $where = direct ] && top="$T/b"
                for kind in acl plain; do
                        ( umask 077
                          touch "$top/$where-$kind/file"; mkdir "$top/$where-$kind/dir"
                          mkfifo "$top/$where-$kind/fifo"
                          python3 -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_WRONLY|os.O_TMPFILE, 0o666))' \
                                "$top/$where-$kind" ) || fail "creating in $where-$kind"
                done
        done
        for kind in acl plain; do
                check_eq "modes in a directory ($kind)" \
                        "$(cd "$T/b/direct-$kind" && stat -c '%n %a' file dir fifo)" \
                        "$(cd "$T/b/via-$kind" && stat -c '%n %a' file dir fifo)"
                check_eq "ACLs in a directory ($kind)" \
                        "$(cd "$T/b/direct-$kind" && getfacl -c file dir fifo 2>/dev/null)" \
                        "$(cd "$T/b/via-$kind" && getfacl -c file dir fifo 2>/dev/null)"
        done
        check_eq "umask 077 in a plain directory" "file 600 dir 700" \
                "$(cd "$T/b/via-plain" && stat -c '%n %a' file dir | tr '\n' ' ' | sed 's/ $//')"
        # A directory only V has, with a default ACL: B's made like it, ACLs too, so
        # what is made in it gets the mode it would get in V's.
        ctl remove "$T/v" || return
        mkdir -p "$T/v/vonly/deeper" "$T/ref"
        setfacl -d -m u:nobody:rwx "$T/v/vonly" "$T/v/vonly/deeper" "$T/ref"
        setfacl -m u:nobody:r-x "$T/v/vonly/deeper" "$T/ref"
        ( umask 077; touch "$T/ref/file" )
        local acls; acls=$(getfacl -c "$T/v/vonly/deeper" 2>/dev/null)
        ctl create --merged "$T/v" "$T/b" || return
        ( umask 077; touch "$T/v/vonly/deeper/file" ) || fail "create in V's directory"
        check_eq "B's directory made like V's, ACLs too" "$acls" \
                "$(getfacl -c "$T/b/vonly/deeper" 2>/dev/null)"
        check_eq "mode as made in such a directory" "$(stat -c %a "$T/ref/file")" \
                "$(stat -c %a "$T/b/vonly/deeper/file")"
}

# S5: what B's mount forbids stays forbidden through V, as through a bind mount: B
# on a nosuid,nodev,noexec mount → so is the view's mount, and a program in B runs
# neither directly nor through V.
test_s5_merged_view_keeps_the_restrictions_of_b_mount() {
        mkdir -p "$T/v" "$T/b"
        mount -t tmpfs -o nosuid,nodev,noexec tmpfs "$T/b" || { fail "cannot mount B"; return; }
        cp /bin/true "$T/b/prog"; cp /bin/true "$T/v/vprog"
        "$T/b/prog" 2>/dev/null && fail "B's mount lets programs run"
        ctl create --merged "$T/v" "$T/b" || { umount "$T/b"; return; }
        "$T/v/prog" 2>/dev/null && fail "a program on B's noexec mount ran through V"
        local opts; opts=$(findmnt -rn -o OPTIONS --mountpoint "$T/v" | tail -n1)
        case ",$opts," in *,nosuid,*) ;; *) fail "view not nosuid: $opts" ;; esac
        case ",$opts," in *,nodev,*) ;; *) fail "view not nodev: $opts" ;; esac
        case ",$opts," in *,noexec,*) ;; *) fail "view not noexec: $opts" ;; esac
        ctl remove "$T/v"
        # The retired server lets go of B once the kernel ends its connection.
        eventually 20 umount "$T/b" || fail "B stays busy after the link is removed"
        "$T/v/vprog" || fail "V's own program does not run once the link is gone"
}

test_s5_merged_view_checks_the_callers_rights() {
        make_pair
        echo secret > "$T/b/secret"; chmod 0600 "$T/b/secret"
        echo vsecret > "$T/v/vsecret"; chmod 0600 "$T/v/vsecret"
        chmod 1777 "$T/b"; chmod 0777 "$T/v/vdir" "$T/v/vdir/inner"
        ctl create --merged "$T/v" "$T/b" || return
        as_nobody cat "$T/v/secret" >/dev/null 2>&1 && fail "nobody read B's 0600 root file"
        as_nobody cat "$T/v/vsecret" >/dev/null 2>&1 && fail "nobody read V's 0600 root file"
        check_eq "nobody reads" b-only "$(as_nobody cat "$T/v/bfile")"
        as_nobody sh -c "echo mine > '$T/v/by-nobody'" || fail "nobody could not create in a 1777 B"
        check_eq "owner in B" nobody "$(stat -c %U "$T/b/by-nobody")"
        as_nobody sh -c "echo deep > '$T/v/vdir/inner/by-nobody'" || fail "nobody could not create in V's 0777 dir"
        check_eq "owner of the deep file" nobody "$(stat -c %U "$T/b/vdir/inner/by-nobody")"
        as_nobody rm "$T/v/col" 2>/dev/null && fail "nobody removed root's file from a sticky B"
        as_nobody sh -c "umask 002; mkdir '$T/v/umask-dir'" || fail "nobody mkdir"
        check_eq "umask honoured" 775 "$(stat -c %a "$T/b/umask-dir")"
}

test_s4_merged_link_survives_kill9_and_restart() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        local before; before=$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)
        kill9_daemon
        check_file_is "$T/v/col" b-col
        start_daemon || { fail "restart failed"; return; }
        check_eq "mounts untouched" "$before" "$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)"
        grep -q "adopted 1 link(s) and 1 overlay(s)" "$DAEMON_LOG" || fail "merged view not adopted: $(cat "$DAEMON_LOG")"
        echo after > "$T/v/after-restart"; check_file_is "$T/b/after-restart" after
        ctl remove "$T/v" || return
        check_file_is "$T/v/col" v-col
        check_eq "no mount left" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/")"
}

test_s4_s8_anchorless_link_inside_a_merged_link_survives_kill9_and_restart() {
        make_pair
        mkdir -p "$T/n"; echo nested > "$T/n/x"
        ctl create --merged "$T/v" "$T/b" || return
        ctl create "$T/v/anchorless" "$T/n" || return
        check_file_is "$T/v/anchorless/x" nested
        check_file_is "$T/v/col" b-col
        local before; before=$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        check_eq "mounts untouched" "$before" "$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)"
        grep -q "adopted 2 link(s) and 2 overlay(s)" "$DAEMON_LOG" || fail "not all adopted: $(cat "$DAEMON_LOG")"
        check_file_is "$T/v/anchorless/x" nested
        echo new > "$T/v/new-after"; check_file_is "$T/b/new-after" new
        ctl remove "$T/v/anchorless" || return
        check_missing "$T/v/anchorless"
        check_file_is "$T/v/col" b-col
}

# S4: the merged view's server dies while bindlinkd is down, and the overlay carrying
# an anchorless link on top of the view (same V) lives on. The restarted daemon must
# not leave the dead view beneath (everything through V would answer "Transport
# endpoint is not connected"): both are shown again, and no dead mount stays.
test_s4_s8_merged_view_lost_under_a_live_parent_overlay_is_shown_again() {
        make_pair
        mkdir -p "$T/n"; echo nested > "$T/n/x"
        ctl create --merged "$T/v" "$T/b" || return
        ctl create "$T/v/anchorless" "$T/n" || return
        check_eq "two FUSE mounts on V" 2 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse")"
        local view; view=$(pgrep -n -f "bindlink-overlay.*--merged=rw")
        [ -n "$view" ] || { fail "no merged view process"; return; }
        kill9_daemon
        kill -KILL "$view"
        eventually 20 process_gone "$view" || fail "the view did not end"
        start_daemon || { fail "restart failed"; return; }
        check_file_is "$T/v/col" b-col
        check_file_is "$T/v/vfile" v-only
        check_file_is "$T/v/anchorless/x" nested
        echo new > "$T/v/made-after" || fail "cannot create through V"
        check_file_is "$T/b/made-after" new
        check_eq "FUSE mounts on V, none dead" 2 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse")"
        # The same while the daemon runs.
        view=$(pgrep -n -f "bindlink-overlay.*--merged=rw")
        kill -KILL "$view"
        eventually 20 grep -qx b-col "$T/v/col" || fail "V not shown again after its view crashed"
        # The view is mounted again first, then the overlay on it carrying the link.
        eventually 20 grep -qx nested "$T/v/anchorless/x" ||
                fail "the anchorless link not shown again after the view crashed"
        check_eq "FUSE mounts on V after the crash" 2 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse")"
        ctl remove "$T/v/anchorless" || return
        ctl remove "$T/v" || return
        check_eq "no mount left" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/")"
        check_file_is "$T/v/col" v-col
}

replaced_server() { # replaced_server PATTERN OLD_PID: a server matching, other than OLD_PID
        local again; again=$(pgrep -n -f "$1")
        [ -n "$again" ] && [ "$again" != "$2" ]
}

test_s4_crashed_merged_view_is_replaced() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        local pid; pid=$(pgrep -n -f "bindlink-overlay.*--merged=rw")
        [ -n "$pid" ] || { fail "no merged view process"; return; }
        kill -KILL "$pid"
        eventually 20 replaced_server "bindlink-overlay.*--merged=rw" "$pid" &&
                eventually 20 grep -qx b-col "$T/v/col" || fail "merged view not replaced"
        check_file_is "$T/v/col" b-col
        check_file_is "$T/v/vfile" v-only
        check_eq "one merged mount" 1 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse.bindlink")"
}

# S4: a server that ends right after every start (as one linked against a libfuse it
# cannot run on would) is not restarted in a loop: after three quick ends in a row the
# daemon says so and gives up on that view for a while, and leaves no dead mount
# behind ("Transport endpoint is not connected"): V shows its own directory. It tries
# again later (--overlay-retry 3: after 3 s, then 6 s), and once the server can run,
# the view is back by itself.
test_s4_a_view_whose_server_keeps_ending_is_given_up_then_tried_again() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        local wrapper="$T/failing-server" starts="$T/starts" fixed="$T/server-fixed"
        printf '#!/bin/sh\necho started >> "%s"\n[ -e "%s" ] && exec "%s" "$@"\nexit 1\n' \
                "$starts" "$fixed" "$BINDLINK_OVERLAY_PROGRAM" > "$wrapper"
        chmod +x "$wrapper"
        kill9_daemon
        BINDLINK_OVERLAY_PROGRAM=$wrapper start_daemon --overlay-retry 3 ||
                { fail "restart failed"; return; }
        local pid; pid=$(pgrep -n -f "bindlink-overlay.*--merged=rw")
        [ -n "$pid" ] || { fail "no merged view process"; kill9_daemon; start_daemon; return; }
        kill -KILL "$pid"
        eventually 30 grep -q "ended 3 times in a row" "$DAEMON_LOG" ||
                fail "the daemon did not give up: $(tail -n 5 "$DAEMON_LOG")"
        # No start follows the giving up (counted again at the first retry below).
        check_eq "servers started after the crash" 3 "$(wc -l < "$starts")"
        check_eq "no view mounted on V" 0 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/v fuse")"
        check_file_is "$T/v/col" v-col
        check_eq realization none "$(link_field "$T/v" realization)"
        check_eq "the daemon's other work goes on" 0 "$(ctl create "$T/v/vdir/inner" "$T/b/bdir" >/dev/null; echo $?)"
        # The first retry, 3 s after giving up, fails too: one start, given up again.
        eventually 30 grep -q "ended 4 times in a row" "$DAEMON_LOG" ||
                fail "no retry: $(tail -n 3 "$DAEMON_LOG")"
        check_eq "one start for the retry" 4 "$(wc -l < "$starts")"
        touch "$fixed"
        eventually 30 grep -qx b-col "$T/v/col" || fail "the retry 6 s later did not show the view"
        check_eq realization overlay "$(link_field "$T/v" realization)"
        check_eq "servers started in all" 5 "$(wc -l < "$starts")"
        # The link made meanwhile on V's own directory is on top of the view again.
        check_missing "$T/v/vdir/inner/f"
        check_eq "nested link" bind "$(link_field "$T/v/vdir/inner" realization)"
        kill9_daemon
        start_daemon || { fail "second restart failed"; return; }
        check_file_is "$T/v/col" b-col
}

# S2: with no overlay server to run (not installed, or not executable), a link that
# needs one fails at once with the program's path and the cause, and leaves nothing
# behind — it was once "created" and then given up as a server that kept ending. The
# daemon says so when it starts. Links that need no server still work.
test_s2_links_needing_an_overlay_fail_clearly_without_its_server() {
        make_pair
        local missing="$T/no-such-server" plain="$T/not-executable"
        printf '#!/bin/sh\nexit 0\n' > "$plain"
        chmod 0644 "$plain"
        kill9_daemon
        BINDLINK_OVERLAY_PROGRAM=$missing start_daemon || { fail "restart failed"; return; }
        grep -q "warning: the overlay server $missing cannot be run (No such file or directory)" \
                "$DAEMON_LOG" || fail "no warning at start: $(tail -n 3 "$DAEMON_LOG")"
        ctl_fails 0x80070002 ENOENT create --merged "$T/v" "$T/b"
        case $LAST_ERROR in
        *"$missing"*"No such file or directory"*) ;;
        *) fail "the error does not name the server and the cause: $LAST_ERROR" ;;
        esac
        check_eq "nothing mounted on V" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/v\$")"
        check_eq "no link listed" "" "$(link_field "$T/v" virtual)"
        check_file_is "$T/v/col" v-col
        # An anchorless link needs the overlay on its parent too.
        ctl_fails 0x80070002 ENOENT create "$T/v/anchorless" "$T/b/bdir"
        check_missing "$T/v/anchorless"
        check_eq "a plain link still works" 0 "$(ctl create "$T/v/vdir" "$T/b/bdir" >/dev/null; echo $?)"
        ctl remove "$T/v/vdir"
        kill9_daemon
        BINDLINK_OVERLAY_PROGRAM=$plain start_daemon || { fail "restart failed"; return; }
        ctl_fails 0x80070005 EACCES create --merged "$T/v" "$T/b"
        case $LAST_ERROR in
        *"$plain"*"Permission denied"*) ;;
        *) fail "the error does not name the server and the cause: $LAST_ERROR" ;;
        esac
        check_eq "nothing mounted on V" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/v\$")"
        check_eq "no overlay process" "" "$(pgrep -f "$plain")"
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        ctl create --merged "$T/v" "$T/b" >/dev/null && check_file_is "$T/v/col" b-col
}

# S2: a bindlinkd with no /dev/fuse (a container without it) fails such links naming
# /dev/fuse, not V. It runs in a mount namespace of its own whose /dev holds only
# null; the test area is shared, so its mounts would reach us.
test_s2_links_needing_an_overlay_fail_clearly_without_dev_fuse() {
        make_pair
        kill9_daemon
        local olddev="$T/olddev" i
        mkdir "$olddev" && mount --bind /dev "$olddev" || { fail "cannot bind /dev"; start_daemon; return; }
        DAEMON_LOG="$AREA/run/daemon.no-dev-fuse.log"
        unshare --mount --propagation unchanged sh -c '
                mount -t tmpfs -o mode=0755 no-dev-fuse /dev && : > /dev/null &&
                        mount --bind "$1/null" /dev/null && umount "$1" || exit 1
                exec "$2" --socket "$3" --state-dir "$4"' \
                sh "$olddev" "$BINDLINKD" "$SOCK" "$STATE" 2>"$DAEMON_LOG" &
        DAEMON_PID=$!
        eventually 60 "$BINDLINKCTL" list >/dev/null
        ctl_fails 0x80070002 ENOENT create --merged "$T/v" "$T/b"
        case $LAST_ERROR in
        *"at /dev/fuse): No such file or directory"*) ;;
        *) fail "the error does not name /dev/fuse and the cause: $LAST_ERROR" ;;
        esac
        ctl_fails 0x80070002 ENOENT create "$T/v/anchorless" "$T/b/bdir"
        check_eq "nothing mounted on V" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/v")"
        check_file_is "$T/v/col" v-col
        check_missing "$T/v/anchorless"
        kill9_daemon
        mountpoint -q "$olddev" && umount "$olddev"
        start_daemon || { fail "restart failed"; return; }
        ctl create --merged "$T/v" "$T/b" >/dev/null && check_file_is "$T/v/col" b-col
}

test_s10_merged_backing_deleted_then_made_again() {
        make_pair
        ctl create --merged "$T/v" "$T/b" || return
        rm -r "$T/b"
        eventually 20 test ! -e "$T/v" || fail "V still visible after B was deleted"
        mkdir "$T/b"; echo two > "$T/b/y"
        eventually 20 test -e "$T/v/y" || fail "V does not show B made again"
        check_file_is "$T/v/vfile" v-only
        check_eq realization overlay "$(link_field "$T/v" realization)"
}

test_s14_exceptions_in_a_merged_link() {
        make_pair
        mkdir -p "$T/v/vdir/keep/sub"; echo orig > "$T/v/vdir/keep/sub/o"
        echo v-ex > "$T/v/both/ex"; echo b-ex > "$T/b/both/ex"
        ctl create --merged --exception "$T/v/both/ex" --exception "$T/v/vdir/keep/sub" \
                "$T/v" "$T/b" || return
        check_file_is "$T/v/both/ex" v-ex
        check_file_is "$T/v/both/bf" b-in-both
        echo new > "$T/v/vdir/keep/sub/new"
        check_file_is "$T/v/vdir/keep/sub/new" new
        check_missing "$T/b/vdir/keep/sub/new"
        ctl remove "$T/v" || return
        check_file_is "$T/v/vdir/keep/sub/new" new
}

# An exception where B has the other type at its name (a file where the original is a
# directory, and the reverse): the view is told its exceptions and shows the original
# there, and the original is grafted on it. (This was E_NOTIMPL.)
test_s12_s14_merged_exception_where_b_has_the_other_type() {
        mkdir -p "$T/v/d" "$T/b/f" "$T/b/other"
        echo orig > "$T/v/d/in"; echo vfile > "$T/v/f"; echo bfile > "$T/b/d"; echo bo > "$T/b/other/x"
        echo bin > "$T/b/f/in"
        ctl create --merged --exception "$T/v/d" --exception "$T/v/f" "$T/v" "$T/b" || return
        check_eq "the original directory" "in" "$(ls "$T/v/d")"
        check_file_is "$T/v/d/in" orig
        check_file_is "$T/v/f" vfile
        check_file_is "$T/v/other/x" bo
        echo new > "$T/v/d/new"
        check_file_is "$T/v/d/new" new # written in the original, as S14 says
        check_missing "$T/b/d/new"
        check_eq "B's file is untouched" bfile "$(cat "$T/b/d")"
        check_eq "a listing shows each name once" "d f other" "$(ls "$T/v" | tr '\n' ' ' | sed 's/ $//')"
        ctl remove "$T/v" || return
        check_file_is "$T/v/d/new" new
        check_eq "B as it was" "bfile bin" "$(cat "$T/b/d") $(cat "$T/b/f/in")"
}

test_s15_s20_nested_link_inside_a_merged_link() {
        make_pair
        mkdir -p "$T/n"; echo nested > "$T/n/x"
        ctl create --merged "$T/v" "$T/b" || return
        ctl create "$T/v/vdir/inner" "$T/n" || return
        check_file_is "$T/v/vdir/inner/x" nested
        check_file_is "$T/v/bfile" b-only
        # Deepest first, as RemoveBindLink: the view stays while a link is inside it.
        ctl_fails 0x800700AA EBUSY remove "$T/v"
        check_file_is "$T/v/vdir/inner/x" nested
        check_file_is "$T/v/bfile" b-only
        ctl remove "$T/v/vdir/inner" || return
        check_file_is "$T/v/vdir/inner/f" v-inner
        ctl remove "$T/v" || return
        check_missing "$T/v/bfile"
}

# S18 chains through merged views, both ways, and S20 removal in any order.
test_s18_s20_chains_through_merged_views() {
        mkdir -p "$T/b1" "$T/v1" "$T/v2/sub" "$T/v3"
        echo from-b1 > "$T/b1/x"; echo v2-own > "$T/v2/own"; echo v2-sub > "$T/v2/sub/s"
        ctl create "$T/v1" "$T/b1" || return              # bind
        ctl create --merged "$T/v2" "$T/v1" || return     # merged view over a link's V
        ctl create "$T/v3" "$T/v2/sub" || return          # bind of a path inside the view
        check_file_is "$T/v2/x" from-b1
        check_file_is "$T/v2/own" v2-own
        check_file_is "$T/v3/s" v2-sub
        echo new > "$T/v2/new"; check_file_is "$T/b1/new" new
        ctl remove "$T/v1" || return
        # v2's B is v1 as it is now: the original v1 (empty).
        eventually 20 test ! -e "$T/v2/x" || fail "v2 still shows b1 after v1's link went"
        check_file_is "$T/v2/own" v2-own
        check_file_is "$T/v3/s" v2-sub
        ctl remove "$T/v2" || return
        check_file_is "$T/v3/s" v2-sub
        ctl remove "$T/v3" || return
        check_eq "no mount left" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/")"
}

# bindlinkctl list -o +WATCH: a view whose layers are all on local filesystems is
# watched (changes made beside it show at once); a bind mount caches nothing ("-");
# the column is asked for only when shown, and is not among the defaults.
test_s10_list_says_a_view_on_local_layers_is_watched() {
        make_pair
        mkdir -p "$T/p/other" "$T/bb" "$T/plain"
        ctl create --merged "$T/v" "$T/b" || return
        ctl create "$T/plain" "$T/bb" || return
        ctl create "$T/p/anchorless" "$T/bb" || return
        check_eq "merged view on tmpfs" watched "$("$BINDLINKCTL" list -rn -o WATCH "$T/v")"
        check_eq "bind mount" - "$("$BINDLINKCTL" list -rn -o WATCH "$T/plain")"
        check_eq "grafted on an overlay of its parent" watched \
                "$("$BINDLINKCTL" list -rn -o WATCH "$T/p/anchorless")"
        check_eq "JSON" watched "$("$BINDLINKCTL" list --json -o +WATCH "$T/v" | jq -r '.bindlinks[0].watch')"
        check_eq "+WATCH adds it last" "ORDER REALIZATION FLAGS VIRTUAL BACKING EXCEPTIONS WATCH" \
                "$("$BINDLINKCTL" list -o +WATCH | head -1 | tr -s ' ' | sed 's/^ //; s/ $//')"
        check_eq "not among the defaults" "ORDER REALIZATION FLAGS VIRTUAL BACKING EXCEPTIONS" \
                "$("$BINDLINKCTL" list | head -1 | tr -s ' ' | sed 's/^ //; s/ $//')"
        check_eq "not asked: not in JSON" null "$("$BINDLINKCTL" list --json | jq -r '.bindlinks[0].watch')"
        ctl remove "$T/p/anchorless"; ctl remove "$T/plain"; ctl remove "$T/v"
}

test_s12_merged_has_no_effect_on_a_file_link() {
        echo v > "$T/vf"; echo b > "$T/bf"
        ctl create --merged "$T/vf" "$T/bf" || return
        check_file_is "$T/vf" b
        check_eq realization bind "$(link_field "$T/vf" realization)"
}

start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
