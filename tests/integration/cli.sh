#!/bin/bash
# cli.sh — integration tests through bindlinkctl: a real bindlinkd, real bind mounts,
# in a private mount+pid namespace; as root and as an unprivileged user. Test names
# carry the SEMANTICS.md rule they check.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

# ---- S1/S5/S7/S20: a plain shadow link ------------------------------------------------
test_s7_shadow_dir_shows_backing_and_hides_original() {
        mkdir -p "$T/v" "$T/b"; echo orig > "$T/v/o"; echo back > "$T/b/x"
        ctl create "$T/v" "$T/b" || return
        check_file_is "$T/v/x" back
        check_missing "$T/v/o"
        check_eq realization bind "$(link_field "$T/v" realization)"
        ctl remove "$T/v"
        check_file_is "$T/v/o" orig
        check_missing "$T/v/x"
}

test_s5_mutations_through_v_act_on_b() {
        mkdir -p "$T/v" "$T/b/d"; echo one > "$T/b/f"
        ctl create "$T/v" "$T/b" || return
        echo two > "$T/v/f"; check_file_is "$T/b/f" two
        echo new > "$T/v/new"; check_file_is "$T/b/new" new
        mv "$T/v/new" "$T/v/renamed"; check_file_is "$T/b/renamed" new
        mkdir "$T/v/dir2"; [ -d "$T/b/dir2" ] || fail "mkdir through V did not reach B"
        chmod 0600 "$T/v/f"; check_eq mode 600 "$(stat -c %a "$T/b/f")"
        ln -s target "$T/v/sym"; check_eq readlink target "$(readlink "$T/b/sym")"
        ln "$T/v/f" "$T/v/hard"; check_eq nlink 2 "$(stat -c %h "$T/b/f")"
        rm "$T/v/renamed"; check_missing "$T/b/renamed"
        # S5: deleting V's content never removes the link.
        rm -rf "${T:?}/v/"*
        check_eq "B emptied" "" "$(ls -A "$T/b")"
        check_eq realization bind "$(link_field "$T/v" realization)"
}

test_s5_original_is_byte_for_byte_unchanged() {
        mkdir -p "$T/v/sub" "$T/b"; echo a > "$T/v/a"; echo c > "$T/v/sub/c"; chmod 0700 "$T/v/sub"
        local before; before=$(tree_digest "$T/v")
        ctl create "$T/v" "$T/b" || return
        echo x > "$T/v/written-through-link"
        ctl remove "$T/v"
        check_eq "original V digest" "$before" "$(tree_digest "$T/v")"
        check_missing "$T/b/sub"
}

test_s5_permissions_are_backing_permissions_for_a_user() {
        mkdir -p "$T/v" "$T/b"; echo secret > "$T/b/secret"; chmod 0600 "$T/b/secret"
        echo public > "$T/b/public"; chmod 0644 "$T/b/public"; chmod 1777 "$T/b"
        ctl create "$T/v" "$T/b" || return
        as_nobody cat "$T/v/secret" >/dev/null 2>&1 && fail "nobody read a 0600 root file through V"
        check_eq "nobody reads public" public "$(as_nobody cat "$T/v/public")"
        as_nobody sh -c "echo mine > '$T/v/created'" || fail "nobody could not create in a 1777 B"
        check_eq "owner of a file created through V" nobody "$(stat -c %U "$T/b/created")"
}

test_s9_file_over_file() {
        mkdir -p "$T"; echo orig > "$T/vf"; echo back > "$T/bf"
        ctl create "$T/vf" "$T/bf" || return
        check_file_is "$T/vf" back
        echo changed > "$T/vf"; check_file_is "$T/bf" changed
        ctl remove "$T/vf"
        check_file_is "$T/vf" orig
}

# ---- S11: read-only --------------------------------------------------------------------
test_s11_read_only_refuses_changes_through_v() {
        mkdir -p "$T/v" "$T/b/d"; echo keep > "$T/b/f"
        ctl create --read-only "$T/v" "$T/b" || return
        check_file_is "$T/v/f" keep
        local before; before=$(tree_digest "$T/b")
        (echo x > "$T/v/f") 2>/dev/null && fail "write through a read-only link succeeded"
        touch "$T/v/new" 2>/dev/null && fail "create through a read-only link succeeded"
        rm "$T/v/f" 2>/dev/null && fail "unlink through a read-only link succeeded"
        chmod 0600 "$T/v/f" 2>/dev/null && fail "chmod through a read-only link succeeded"
        mv "$T/v/f" "$T/v/g" 2>/dev/null && fail "rename through a read-only link succeeded"
        truncate -s 0 "$T/v/f" 2>/dev/null && fail "truncate through a read-only link succeeded"
        touch -m -d @0 "$T/v/f" 2>/dev/null && fail "utimens through a read-only link succeeded"
        err=$( (echo x > "$T/v/f") 2>&1 ); case "$err" in *"Read-only file system"*) ;; *) fail "expected EROFS, got: $err";; esac
        check_eq "B unchanged" "$before" "$(tree_digest "$T/b")"
        echo still-writable > "$T/b/f"; check_file_is "$T/v/f" still-writable
        check_eq flags read-only "$(link_field "$T/v" 'flags | join(",")')"
}

test_s11_read_only_file_link() {
        echo orig > "$T/vf"; echo back > "$T/bf"
        ctl create --read-only "$T/vf" "$T/bf" || return
        (echo x > "$T/vf") 2>/dev/null && fail "write through a read-only file link succeeded"
        check_file_is "$T/bf" back
}

# ---- S3: normalization -------------------------------------------------------------------
test_s3_relative_and_unnormalized_spellings_are_one_link() {
        mkdir -p "$T/v" "$T/b" "$T/real"; ln -s real "$T/alias"; mkdir -p "$T/real/w"
        (cd "$T" && "$BINDLINKCTL" create ./v// b/) || fail "relative create failed"
        check_eq "listed virtual" "$T/v" "$(link_field "$T/v" virtual)"
        check_eq "listed backing" "$T/b" "$(link_field "$T/v" backing)"
        ctl_fails 0x80070057 EEXIST create "$T/b/../v/." "$T/b"
        (cd "$T/b" && "$BINDLINKCTL" remove ../v/) || fail "remove by another spelling failed"
        # Symlinks in the ancestors of V are resolved.
        ctl create "$T/alias/w" "$T/b" || return
        check_eq "symlinked ancestor resolved" "$T/real/w" "$("$BINDLINKCTL" list --json | jq -r '.bindlinks[0].virtual')"
        ctl_fails 0x80070057 EEXIST create "$T/real/w" "$T/b"
}

# ---- S2: every failure row through bindlinkctl -----------------------------------------
test_s2_backing_missing_is_file_not_found() {
        mkdir -p "$T/v"
        ctl_fails 0x80070002 ENOENT create "$T/v" "$T/missing"
        case "$LAST_ERROR" in *"$T/missing"*) ;; *) fail "message does not name the path: $LAST_ERROR";; esac
}

test_s2_s6_parent_not_visible_is_path_not_found() {
        mkdir -p "$T/b"
        ctl_fails 0x80070003 ENOENT create "$T/no/such/v" "$T/b"
        echo f > "$T/file"
        ctl_fails 0x80070003 ENOENT create "$T/file/v" "$T/b"
}

test_s2_duplicate_virtual_is_invalidarg() {
        mkdir -p "$T/v" "$T/b" "$T/b2"
        ctl create "$T/v" "$T/b" || return
        ctl_fails 0x80070057 EEXIST create "$T/v" "$T/b2"
        check_eq "first link kept" "$T/b" "$(link_field "$T/v" backing)"
        # B is checked first, as Windows does: a missing B is "file not found".
        ctl_fails 0x80070002 ENOENT create "$T/v" "$T/no-such-b"
        check_eq "first link still kept" "$T/b" "$(link_field "$T/v" backing)"
}

# A Windows program, ported with string changes only, in C++: it combines the flags
# with | and |= (the operators Windows headers give the enum) and calls CreateBindLink
# and RemoveBindLink as Microsoft's BindLink sample does.
test_s1_s11_s12_windows_program_in_cpp_makes_and_removes_a_link() {
        mkdir -p "$T/v" "$T/b"; echo v > "$T/v/vf"; echo b > "$T/b/bf"
        local prog="$BUILDDIR/tests/integration/windows_sample" out
        out=$("$prog" CREATE "$T/v" "$T/b" --read-only --merged) || { fail "CREATE: $out"; return; }
        check_eq "what it says" "Bind link created: $T/v -> $T/b read-only merged" "$out"
        check_eq "flags" "read-only merged" "$(link_field "$T/v" 'flags | join(" ")')"
        check_file_is "$T/v/bf" b
        check_file_is "$T/v/vf" v
        out=$("$prog" CREATE "$T/v" "$T/missing" 2>&1) && fail "a second CREATE succeeded"
        check_eq "a missing backing path" "CreateBindLink failed: HRESULT 0x80070002" "$out"
        out=$("$prog" REMOVE "$T/v") || { fail "REMOVE: $out"; return; }
        check_missing "$T/v/bf"
        out=$("$prog" REMOVE "$T/v" 2>&1) && fail "a second REMOVE succeeded"
        check_eq "nothing to remove" "RemoveBindLink failed: HRESULT 0x80070490" "$out"
}

# RemoveBindLink's documentation: it fails "if the link being deleted is the ancestor
# of an existing link"; nested links are removed deepest first. The HRESULT is
# ERROR_BUSY (RemoveBindLink(3) says why).
test_s20_windows_program_removes_nested_links_deepest_first() {
        mkdir -p "$T/v/n" "$T/b/n" "$T/t"; echo t > "$T/t/y"
        local prog="$BUILDDIR/tests/integration/windows_sample" out
        out=$("$prog" CREATE "$T/v" "$T/b") || { fail "CREATE outer: $out"; return; }
        out=$("$prog" CREATE "$T/v/n" "$T/t") || { fail "CREATE nested: $out"; return; }
        out=$("$prog" REMOVE "$T/v" 2>&1) && fail "the outer link was removed before the nested one"
        check_eq "outer first" "RemoveBindLink failed: HRESULT 0x800700AA" "$out"
        check_file_is "$T/v/n/y" t
        out=$("$prog" REMOVE "$T/v/n") || { fail "REMOVE nested: $out"; return; }
        out=$("$prog" REMOVE "$T/v") || { fail "REMOVE outer: $out"; return; }
        check_eq "nothing mounted" 0 "$(mounts_under "$T/")"
}

# A link that shows a file has nothing below it to except: an exception below it is
# an invalid argument, as one outside V is (S2). (This was E_NOTIMPL.)
test_s2_s14_exception_below_a_file_backing_path_is_invalidarg() {
        mkdir -p "$T/v/e"; echo b > "$T/bfile"
        ctl_fails 0x80070057 EINVAL create --exception "$T/v/e" "$T/v" "$T/bfile"
        case "$LAST_ERROR" in *"$T/v/e"*"a file"*) ;; *) fail "the error does not say why: $LAST_ERROR" ;; esac
        check_eq "nothing made" 0 "$("$BINDLINKCTL" list --json | jq '.bindlinks | length')"
        check_eq "nothing mounted" 0 "$(mounts_under "$T/")"
}

test_s2_s8_exceptions_on_anchorless_is_invalidarg() {
        mkdir -p "$T/b/e"
        ctl_fails 0x80070057 EINVAL create --exception "$T/v/e" "$T/v" "$T/b"
}

test_s2_exception_not_descendant_is_invalidarg() {
        mkdir -p "$T/v/e" "$T/b" "$T/other"
        ctl_fails 0x80070057 EINVAL create --exception "$T/other" "$T/v" "$T/b"
        ctl_fails 0x80070057 EINVAL create --exception "$T/v" "$T/v" "$T/b"
}

test_s2_exception_missing_is_file_not_found() {
        mkdir -p "$T/v" "$T/b"
        ctl_fails 0x80070002 ENOENT create --exception "$T/v/nope" "$T/v" "$T/b"
}

test_s2_remove_unknown_is_not_found() {
        mkdir -p "$T/v"
        ctl_fails 0x80070490 ENOENT remove "$T/v"
}

test_s2_not_admin_is_access_denied() {
        mkdir -p "$T/v" "$T/b"
        local out; out=$(as_nobody "$BINDLINKCTL" create "$T/v" "$T/b" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EPERM)"*) ;; *) fail "expected EPERM, got: $out";; esac
        out=$(as_nobody "$BINDLINKCTL" remove "$T/v" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EPERM)"*) ;; *) fail "remove: expected EPERM, got: $out";; esac
        check_eq "no link made" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        # Listing is not a change: anyone may list.
        as_nobody "$BINDLINKCTL" list >/dev/null || fail "nobody cannot list"
}

test_s2_user_who_cannot_connect_is_access_denied() {
        mkdir -p "$T/v" "$T/b" "$T/private"; chmod 0700 "$T/private"
        ln "$SOCK" "$T/private/sock" 2>/dev/null || { mkdir -p "$T/private"; }
        local out; out=$(BINDLINK_SOCKET="$T/private/sock" as_nobody "$BINDLINKCTL" create "$T/v" "$T/b" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EACCES)"*) ;; *) fail "expected EACCES, got: $out";; esac
}

test_s2_daemon_unreachable_is_server_unavailable() {
        mkdir -p "$T/v" "$T/b"
        BINDLINK_SOCKET="$T/no-daemon.sock" ctl_fails 0x800706BA ENOENT create "$T/v" "$T/b"
        # A socket file nobody listens on.
        "$BINDLINKD" --socket "$T/dead.sock" --state-dir "$T/dead-state" 2>/dev/null &
        local dead=$! i
        eventually 30 test -S "$T/dead.sock"
        kill -KILL $dead; wait $dead 2>/dev/null
        [ -S "$T/dead.sock" ] || { fail "cannot make a dead socket"; return; }
        BINDLINK_SOCKET="$T/dead.sock" ctl_fails 0x800706BA ECONNREFUSED create "$T/v" "$T/b"
}

test_s14_exception_whose_parent_backing_lacks_is_shown_by_a_shadow_view() {
        mkdir -p "$T/v/e/deep" "$T/v/other" "$T/b/sub"
        echo orig > "$T/v/e/deep/o"; echo sibling > "$T/v/e/sib"; echo ov > "$T/v/other/x"
        echo b > "$T/b/bfile"
        local before; before=$(tree_digest "$T/v")
        ctl create --exception "$T/v/e/deep" "$T/v" "$T/b" || return
        check_eq realization overlay "$(link_field "$T/v" realization)"
        # B, and the original along the way to the exception only.
        check_eq "view" ". ./bfile ./e ./e/deep ./e/deep/o ./sub " "$(cd "$T/v" && find . | sort | tr '\n' ' ')"
        check_file_is "$T/v/e/deep/o" orig
        echo new > "$T/v/e/deep/new" || fail "the exception is not writable"
        check_file_is "$T/v/e/deep/new" new
        check_missing "$T/b/e"
        echo top > "$T/v/newtop"; check_file_is "$T/b/newtop" top
        rmdir "$T/v/e" 2>/dev/null && fail "removed the way to the exception"
        mv "$T/v/e" "$T/v/e2" 2>/dev/null && fail "renamed the way to the exception"
        as_nobody cat "$T/v/e/deep/o" >/dev/null || fail "nobody cannot read the exception"
        ctl remove "$T/v" || return
        check_file_is "$T/v/e/deep/new" new
        rm "$T/v/e/deep/new"
        check_eq "original otherwise unchanged" "$before" "$(tree_digest "$T/v")"
        # Read-only: nothing new in B, the exception stays writable.
        ctl create --read-only --exception "$T/v/e/deep" "$T/v" "$T/b" || return
        (echo x > "$T/v/newfile") 2>/dev/null && fail "created a name in a read-only link"
        echo y > "$T/v/e/deep/ro-new" || fail "the exception of a read-only link is not writable"
        ctl remove "$T/v" || return
        check_file_is "$T/v/e/deep/ro-new" y
        check_eq "no overlay left" 0 "$(findmnt -rn -o FSTYPE | grep -c fuse.bindlink)"
}

# ---- S8, S9: links grafted on an overlay of their parent -------------------------------
# S5, S8: the parent's other entries, served by the overlay, keep their POSIX ACLs:
# refused through the overlay where B's own ACL refuses, file and directory search.
test_s5_s8_parent_overlay_honours_posix_acls() {
        mkdir -p "$T/p/other" "$T/p/open" "$T/b"; echo secret > "$T/p/other/f"
        echo fine > "$T/p/open/f"; chmod 0755 "$T/p/other" "$T/p/open"; chmod 0644 "$T/p/other/f"
        setfacl -m u:nobody:--- "$T/p/other/f" || { fail "setfacl"; return; }
        ctl create "$T/p/anchorless" "$T/b" || return
        as_nobody cat "$T/p/other/f" >/dev/null 2>&1 && fail "nobody read a file its ACL denies them"
        check_file_is "$T/p/other/f" secret
        as_nobody cat "$T/p/other/f" >/dev/null 2>&1 && fail "nobody read it after root did"
        check_eq "without an ACL" fine "$(as_nobody cat "$T/p/open/f")"
        setfacl -m u:nobody:r-- "$T/p/open" || fail "setfacl through the overlay"
        as_nobody cat "$T/p/open/f" >/dev/null 2>&1 && fail "nobody searched a directory its ACL denies them"
        ctl remove "$T/p/anchorless" || return
        getfacl -c "$T/p/open" 2>/dev/null | grep -qx "user:nobody:r--" ||
                fail "the ACL set through the overlay is not on disk"
}

# S5, S8: the overlay on a parent keeps what the parent's mount forbids: P on a noexec
# mount → P's own programs do not run through the overlay either; the link itself is
# B's (a bind mount of B keeps B's mount's flags: B's programs run).
test_s5_s8_parent_overlay_keeps_the_restrictions_of_its_mount() {
        mkdir -p "$T/p" "$T/b"
        mount -t tmpfs -o noexec,nosuid tmpfs "$T/p" || { fail "cannot mount P"; return; }
        cp /bin/true "$T/p/prog"; cp /bin/true "$T/b/bprog"
        ctl create "$T/p/anchorless" "$T/b" || { umount "$T/p"; return; }
        check_eq realization overlay "$(link_field "$T/p/anchorless" realization)"
        "$T/p/prog" 2>/dev/null && fail "a program on P's noexec mount ran through the overlay"
        "$T/p/anchorless/bprog" || fail "B's program does not run through the link"
        ctl remove "$T/p/anchorless"
        # The retired server lets go of P once the kernel ends its connection.
        eventually 20 umount "$T/p" || fail "P stays busy after the link is removed"
}

test_s8_anchorless_directory_link_appears_and_vanishes() {
        mkdir -p "$T/p/other" "$T/b"; echo back > "$T/b/x"; echo o > "$T/p/other/f"
        local before; before=$(tree_digest "$T/p")
        ctl create "$T/p/anchorless" "$T/b" || return
        check_file_is "$T/p/anchorless/x" back
        check_eq "listed in the parent" "anchorless other" "$(ls "$T/p" | tr '\n' ' ' | sed 's/ $//')"
        check_eq "type of B" directory "$(stat -c %F "$T/p/anchorless")"
        check_eq realization overlay "$(link_field "$T/p/anchorless" realization)"
        echo through > "$T/p/anchorless/new"; check_file_is "$T/b/new" through
        # The parent's other entries keep working and stay writable on disk, and its
        # listing (kept by the kernel) follows every change made through it.
        echo changed > "$T/p/other/f"; echo n > "$T/p/newfile"; mkdir "$T/p/newdir"
        check_eq "listing after creates" "anchorless newdir newfile other" "$(ls "$T/p" | tr '\n' ' ' | sed 's/ $//')"
        mv "$T/p/newfile" "$T/p/renamed"; rmdir "$T/p/newdir"
        check_eq "listing after rename, rmdir" "anchorless other renamed" "$(ls "$T/p" | tr '\n' ' ' | sed 's/ $//')"
        mv "$T/p/renamed" "$T/p/newfile"; mkdir "$T/p/newdir"
        check_eq "a subdirectory's listing" "f" "$(ls "$T/p/other")"
        touch "$T/p/other/g"
        check_eq "the same after a create" "f g" "$(ls "$T/p/other" | tr '\n' ' ' | sed 's/ $//')"
        rm "$T/p/other/g"
        ctl remove "$T/p/anchorless" || return
        check_missing "$T/p/anchorless"
        check_file_is "$T/p/other/f" changed
        check_file_is "$T/p/newfile" n
        rm -r "$T/p/newfile" "$T/p/newdir"; echo o > "$T/p/other/f"
        check_eq "nothing physical created at V, parent as before" "$before" "$(tree_digest "$T/p")"
        check_eq "no mount left" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/")"
}

# S8, S10: the overlay on an anchorless link's parent keeps names for long, and
# changes made in the parent beside it (through another mount of it) show at once;
# the link itself stays grafted through them.
test_s8_s10_changes_made_beside_a_parent_overlay_show_through_it() {
        mkdir -p "$T/p/sub" "$T/b" "$T/paside"; echo back > "$T/b/x"; echo one > "$T/p/sub/f"
        echo m > "$T/p/modefile"; chmod 0644 "$T/p/modefile"
        # Private: a peer of the area's shared mount would receive the overlay too.
        mount --bind "$T/p" "$T/paside" && mount --make-private "$T/paside" ||
                { fail "bind the parent aside"; return; }
        ctl create "$T/p/anchorless" "$T/b" || { umount "$T/paside"; return; }
        stat "$T/p/new" "$T/p/sub/g" "$T/p/modefile" >/dev/null 2>&1
        cat "$T/p/sub/f" >/dev/null; ls "$T/p" "$T/p/sub" >/dev/null
        echo new > "$T/paside/new"
        eventually 20 test -e "$T/p/new" || fail "a file made in the parent beside the overlay does not show"
        ls "$T/p" | grep -qx new || fail "the listing misses it"
        echo gee > "$T/paside/sub/g"
        eventually 20 grep -qx gee "$T/p/sub/g" || fail "a file made in a subdirectory does not show"
        echo rewritten > "$T/paside/sub/f"
        eventually 20 grep -qx rewritten "$T/p/sub/f" || fail "new content does not show"
        chmod 0600 "$T/paside/modefile"
        eventually 20 sh -c "[ \"\$(stat -c %a '$T/p/modefile')\" = 600 ]" ||
                fail "a mode changed beside the overlay does not show"
        rm -r "$T/paside/sub"
        eventually 20 test ! -e "$T/p/sub" || fail "a directory removed beside the overlay still shows"
        # The link is still there, through every change in its parent.
        check_file_is "$T/p/anchorless/x" back
        ctl remove "$T/p/anchorless"
        umount "$T/paside"
}

test_s8_anchorless_file_link() {
        mkdir -p "$T/p"; echo fileback > "$T/bf"
        ctl create "$T/p/f" "$T/bf" || return
        check_file_is "$T/p/f" fileback
        check_eq "type of B" "regular file" "$(stat -c %F "$T/p/f")"
        ctl remove "$T/p/f" || return
        check_missing "$T/p/f"
}

# S8, S20: links that come and go in a parent never disturb the other names there:
# the overlay on the parent changes its entries in place (same server, same mount),
# so a reader of a sibling link — or of the parent's own files — never sees an error.
test_s8_siblings_never_see_an_error_while_links_come_and_go_in_their_parent() {
        local i
        mkdir -p "$T/p/own"; echo own > "$T/p/own/x"
        for i in 1 2 3; do mkdir -p "$T/b$i"; echo "b$i" > "$T/b$i/x"; done
        for i in 1 2 3; do ctl create "$T/p/a$i" "$T/b$i" || return; done
        local server mount; server=$(server_of "$T/p") || { fail "no overlay on P"; return; }
        mount=$(findmnt -n -o ID --mountpoint "$T/p")
        # Readers of the siblings and of P's own file, all the while, as fast as they go.
        local py; py=$(python3 -c 'import sys; print(sys.executable)')
        "$py" -c 'import os, sys
stop, out = sys.argv[1], sys.argv[2]
files = sys.argv[3:]
rounds = failed = 0
errors = {}
while not os.path.exists(stop):
    for f in files:
        try:
            with open(f) as h:
                h.read()
        except OSError as e:
            failed += 1
            errors[f + ": " + e.strerror] = errors.get(f + ": " + e.strerror, 0) + 1
    rounds += 1
with open(out, "w") as h:
    h.write("%d %d\n" % (rounds, failed))
    for k, n in sorted(errors.items()):
        h.write("%d %s\n" % (n, k))' "$T/stop" "$T/reads" "$T/p/a1/x" "$T/p/a2/x" "$T/p/a3/x" "$T/p/own/x" &
        local reader=$!
        mkdir -p "$T/bs"; echo s > "$T/bs/x"
        for i in $(seq 20); do
                ctl create "$T/p/s$i" "$T/bs" || break
                check_file_is "$T/p/s$i/x" s
                [ $((i % 2)) -eq 0 ] && ctl remove "$T/p/s$((i - 1))"
        done
        touch "$T/stop"; wait "$reader"
        local rounds failed; read -r rounds failed < "$T/reads"
        echo "# $rounds rounds of reads while 20 links were made and 10 removed beside them"
        check_eq "reads that failed" 0 "$failed"
        tail -n +2 "$T/reads" | sed 's/^/#   /' | head -5
        check_eq "the same overlay server on P" "$server" "$(server_of "$T/p")"
        check_eq "the same mount on P" "$mount" "$(findmnt -n -o ID --mountpoint "$T/p")"
        for i in $(seq 1 2 19); do check_missing "$T/p/s$i"; done
        for i in $(seq 2 2 20); do check_file_is "$T/p/s$i/x" s; done
}

# ---- S5, S8: what sits beside a link in its overlaid parent works as before ----------
SOCKET_PY='import os, socket, sys
cmd, path = sys.argv[1], sys.argv[2]
os.chdir(os.path.dirname(path)) # a socket address holds 108 bytes: the name alone
path = os.path.basename(path)
if cmd == "serve":
    s = socket.socket(socket.AF_UNIX)
    s.bind(path); s.listen(8)
    open(path + ".ready", "w").close()
    while True:
        c, _ = s.accept(); c.sendall(b"pong"); c.close()
c = socket.socket(socket.AF_UNIX)
try:
    c.connect(path); print(c.recv(16).decode())
except OSError as e:
    print(e.strerror)'

# serve_socket PATH: a listener at PATH answering "pong"; sets SERVER_PIDS.
SERVER_PIDS=
serve_socket() {
        "$PYTHON" -c "$SOCKET_PY" serve "$1" 2>"$1.err" &
        SERVER_PIDS="$SERVER_PIDS $!"
        eventually 20 test -e "$1.ready" || fail "no listener at $1"
}
ask_socket() { timeout 10 "$PYTHON" -c "$SOCKET_PY" ask "$1"; }

# neighbours_work P WHEN: every kind of neighbour in P answers as it did.
neighbours_work() {
        local p=$1 when=$2
        check_eq "$when: the socket in P" pong "$(ask_socket "$p/sock")"
        check_eq "$when: a socket further down" pong "$(ask_socket "$p/svc/run/sock")"
        check_eq "$when: a socket bound through the view" pong "$(ask_socket "$p/later.sock")"
        check_eq "$when: the device" "" "$(timeout 10 cat "$p/null")"
        timeout 10 sh -c "echo x > '$p/null'" || fail "$when: cannot write the device"
        check_file_is "$p/mnt/f" "in a mount"
        check_file_is "$p/sub/deep/mnt/f" "deeper"
        # A FIFO: its reader holds it open by the real path (the side view), its
        # writer goes through P.
        ( timeout 10 cat "$T/side/fifo" > "$T/fifo.out" ) &
        local reader=$!
        eventually 20 sh -c "timeout 5 sh -c 'echo through > \"$p/fifo\"'" || fail "$when: cannot write the FIFO"
        wait "$reader"
        check_eq "$when: the FIFO" through "$(cat "$T/fifo.out")"
}

# neighbours_beside KIND: P with every kind of neighbour, then a link in P that puts
# an overlay on it — an anchorless link (S8), or a link whose B went (S10: the overlay
# hides V) — and everything in P answers as it did, with the link and after it.
neighbours_beside() {
        PYTHON=$(python3 -c 'import sys; print(sys.executable)')
        local kind=$1 p=$T/p
        mkdir -p "$p/svc/run" "$p/mnt" "$p/sub/deep/mnt" "$T/b" "$T/side"; echo b > "$T/b/x"
        mount -t tmpfs beside "$p/mnt" && echo "in a mount" > "$p/mnt/f"
        mount -t tmpfs deeper "$p/sub/deep/mnt" && echo deeper > "$p/sub/deep/mnt/f"
        mknod "$p/null" c 1 3 && chmod 0666 "$p/null"
        mkfifo "$p/fifo"
        # Another way to P's real directory, made before the link (not a view of it).
        mount --bind "$p" "$T/side" && mount --make-private "$T/side"
        serve_socket "$p/sock"
        serve_socket "$p/svc/run/sock"
        case $kind in
        anchorless)
                ctl create "$p/link" "$T/b" || return
                check_file_is "$p/link/x" b ;;
        gone)
                mkdir -p "$p/link"
                ctl create "$p/link" "$T/b" || return
                rm -r "$T/b"
                eventually 20 test ! -e "$p/link" || fail "V still shows its B" ;;
        esac
        check_eq "P is behind the overlay" fuse.bindlink "$(findmnt -n -o FSTYPE --mountpoint "$p")"
        serve_socket "$p/later.sock"
        neighbours_work "$p" "with the link"
        ctl remove "$p/link"
        neighbours_work "$p" "after the link is removed"
        # The view stays for the socket bound through it; once that is gone, so is it.
        check_eq "P still behind the overlay" fuse.bindlink "$(findmnt -n -o FSTYPE --mountpoint "$p")"
        # shellcheck disable=SC2086
        kill $SERVER_PIDS; SERVER_PIDS=
        rm "$p/later.sock"
        eventually 30 sh -c "! findmnt -n --mountpoint '$p' | grep -q fuse.bindlink" ||
                fail "the overlay stayed after its last socket went"
        serve_socket "$p/sock2"
        check_eq "a socket bound in P once the view went" pong "$(ask_socket "$p/sock2")"
        # shellcheck disable=SC2086
        kill $SERVER_PIDS; SERVER_PIDS=
        umount -l "$T/side" "$p/mnt" "$p/sub/deep/mnt"
}

test_s5_s8_sockets_fifos_devices_and_mounts_beside_an_anchorless_link() {
        neighbours_beside anchorless
}

test_s5_s10_sockets_fifos_devices_and_mounts_beside_a_link_whose_backing_went() {
        neighbours_beside gone
}

test_s8_two_anchorless_links_in_one_parent_and_each_removed() {
        mkdir -p "$T/p" "$T/b1" "$T/b2"; echo 1 > "$T/b1/x"; echo 2 > "$T/b2/x"
        ctl create "$T/p/one" "$T/b1" || return
        ctl create "$T/p/two" "$T/b2" || return
        check_file_is "$T/p/one/x" 1
        check_file_is "$T/p/two/x" 2
        ctl remove "$T/p/one" || return
        check_missing "$T/p/one"
        check_file_is "$T/p/two/x" 2
        check_eq "one overlay on the parent" 1 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/p fuse.bindlink")"
}

test_s9_file_over_directory_and_directory_over_file() {
        mkdir -p "$T/p/dir" "$T/bdir"; echo f > "$T/p/file"; echo bf > "$T/bf"; echo bd > "$T/bdir/x"
        echo inside > "$T/p/dir/orig"
        ctl create "$T/p/dir" "$T/bf" || return
        ctl create "$T/p/file" "$T/bdir" || return
        check_eq "dir shows a file" "regular file" "$(stat -c %F "$T/p/dir")"
        check_file_is "$T/p/dir" bf
        check_eq "file shows a directory" directory "$(stat -c %F "$T/p/file")"
        check_file_is "$T/p/file/x" bd
        ctl remove "$T/p/dir" || return
        ctl remove "$T/p/file" || return
        check_file_is "$T/p/dir/orig" inside
        check_file_is "$T/p/file" f
}

test_s5_files_created_in_an_overlaid_parent_belong_to_their_creator() {
        mkdir -p "$T/p" "$T/b"; chmod 1777 "$T/p"; echo s > "$T/p/secret"; chmod 0600 "$T/p/secret"
        ctl create "$T/p/link" "$T/b" || return
        as_nobody sh -c "echo mine > '$T/p/mine'" || fail "nobody could not create in a 1777 parent"
        check_eq "owner" nobody "$(stat -c %U "$T/p/mine")"
        as_nobody cat "$T/p/secret" >/dev/null 2>&1 && fail "nobody read a 0600 root file through the overlay"
        as_nobody rm "$T/p/secret" 2>/dev/null && fail "nobody removed root's file in a sticky directory"
        check_exists "$T/p/secret"
}

test_s5_parent_overlay_passes_posix_operations_through() {
        mkdir -p "$T/p" "$T/b"
        ctl create "$T/p/link" "$T/b" || return
        local p="$T/p"
        echo data > "$p/f"
        ln "$p/f" "$p/hard"
        check_eq "hard link is one inode" "$(stat -c %i "$p/f")" "$(stat -c %i "$p/hard")"
        check_eq "nlink" 2 "$(stat -c %h "$p/f")"
        ln -s f "$p/sym"; check_eq readlink f "$(readlink "$p/sym")"
        local ino; ino=$(stat -c %i "$p/f")
        mv "$p/f" "$p/g"; check_eq "inode stable across rename" "$ino" "$(stat -c %i "$p/g")"
        chmod 0640 "$p/g"; check_eq mode 640 "$(stat -c %a "$T/p/g")"
        chown nobody "$p/g"; check_eq owner nobody "$(stat -c %U "$p/g")"
        truncate -s 2 "$p/g"; check_eq size 2 "$(stat -c %s "$p/g")"
        touch -m -d @1000000000 "$p/g"; check_eq mtime 1000000000 "$(stat -c %Y "$p/g")"
        setfattr -n user.k -v val "$p/g" || fail "setfattr"
        check_eq xattr val "$(getfattr --only-values -n user.k "$p/g" 2>/dev/null)"
        getfattr -d "$p/g" 2>/dev/null | grep -q 'user.k="val"' || fail "listxattr"
        echo a > "$p/app"; echo b >> "$p/app"; check_eq "O_APPEND" "a b" "$(tr '\n' ' ' < "$p/app" | sed 's/ $//')"
        python3 - "$p/app" <<'PY' || fail "shared writable mmap"
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[0:1] = b"Z"
    m.flush()
    m.close()
PY
        check_eq "mmap write reached the file" Z "$(head -c1 "$p/app")"
        flock "$p/app" true || fail "flock"
        local long; long=$(printf 'n%.0s' $(seq 1 255))
        touch "$p/$long" || fail "a 255-byte name"
        err=$(touch "$p/${long}x" 2>&1); case "$err" in *"File name too long"*) ;; *) fail "NAME_MAX+1: $err";; esac
        touch "$p/$(printf 'caf\xe9')" || fail "a non-UTF-8 name"
        mkdir "$p/d"; rmdir "$p/d"; rm "$p/hard" "$p/sym"
        check_eq "nlink after unlink" 1 "$(stat -c %h "$p/g")"
        ctl remove "$T/p/link" || return
        # What was done through the overlay is on disk.
        check_eq "on disk" "app caf$(printf '\xe9') g $long" "$(ls "$T/p" | tr '\n' ' ' | sed 's/ $//')"
}

test_s19_nested_anchorless_links_outermost_first() {
        mkdir -p "$T/p" "$T/outer" "$T/inner"; echo in > "$T/inner/x"
        ln -s outer "$T/outerlink"
        ctl create "$T/p/a" "$T/outerlink" || return
        ctl create "$T/p/a/b" "$T/inner" || return
        check_file_is "$T/p/a/b/x" in
        check_missing "$T/outer/b"
        # The parent stops being visible by other means than a removal (which the
        # nested link refuses, S20): the outer link's B goes (S10). (B is a symlink
        # re-pointed: B itself cannot be renamed while the overlay that shows b sits
        # on the root of the bind mount of it, which the kernel counts as B's
        # mount point: EBUSY.)
        ln -sfn nothing "$T/outerlink"
        eventually 10 realization_is "$T/p/a/b" none ||
                fail "nested link still shown: $(link_field "$T/p/a/b" realization)"
        check_missing "$T/p/a"
        check_eq "nested waits, registered" 2 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        ln -sfn outer "$T/outerlink"
        eventually 10 realization_is "$T/p/a/b" overlay ||
                fail "nested link not shown again: $(link_field "$T/p/a/b" realization)"
        check_file_is "$T/p/a/b/x" in
        ctl remove "$T/p/a/b" || return
        ctl remove "$T/p/a" || return
        check_missing "$T/p/a"
}

test_s4_overlay_links_survive_kill9_and_restart() {
        mkdir -p "$T/p" "$T/b"; echo back > "$T/b/x"
        ctl create "$T/p/a" "$T/b" || return
        local before; before=$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)
        kill9_daemon
        check_file_is "$T/p/a/x" back
        start_daemon || { fail "restart failed"; return; }
        check_eq "mounts untouched" "$before" "$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)"
        grep -q "adopted 1 link(s) and 1 overlay(s)" "$DAEMON_LOG" || fail "overlay not adopted: $(cat "$DAEMON_LOG")"
        ctl remove "$T/p/a" || return
        check_missing "$T/p/a"
        check_eq "no mount left" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/")"
}

test_s4_nested_anchorless_links_survive_kill9_and_restart() {
        mkdir -p "$T/p" "$T/outer" "$T/inner"; echo in > "$T/inner/x"
        ctl create "$T/p/a" "$T/outer" || return
        ctl create "$T/p/a/b" "$T/inner" || return
        local before; before=$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        check_eq "mounts untouched" "$before" "$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)"
        grep -q "adopted 2 link(s) and 2 overlay(s)" "$DAEMON_LOG" || fail "not adopted: $(cat "$DAEMON_LOG")"
        check_file_is "$T/p/a/b/x" in
}

test_s4_a_stopped_overlay_server_never_blocks_the_daemon() {
        mkdir -p "$T/p" "$T/b"
        ctl create "$T/p/link" "$T/b" || return
        local pid; pid=$(pgrep -f "bindlink-overlay.*--entry=dir:link" | head -n1)
        [ -n "$pid" ] || { fail "no overlay process"; return; }
        kill -STOP "$pid"
        timeout 10 "$BINDLINKCTL" remove "$T/p/link" >/dev/null 2>&1 || fail "remove hung or failed with the server stopped"
        timeout 5 "$BINDLINKCTL" list >/dev/null 2>&1 || fail "the daemon stopped answering"
        kill -KILL "$pid"
        eventually 20 test ! -e "$T/p/link" || fail "link still visible"
}

# Under the shipped unit (S22) the daemon has only the unit's CapabilityBoundingSet,
# which lacks CAP_SETPCAP: the overlay servers must still drop every capability they
# do not keep (overlay/main.c: the eight a passthrough needs, and CAP_SYS_ADMIN
# for a merged view, whose passthrough backing files need it), and say nothing about
# failing to.
unit_bounding_set() { # as setpriv wants it: +chown,+sys_admin,...
        sed -n 's/^CapabilityBoundingSet=//p' "${SRCDIR:-$(dirname "$0")/../..}/systemd/bindlinkd.service.in" |
                tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\1/p' | tr 'A-Z' 'a-z' | paste -sd,
}
caps_of() { awk '$1 == "CapEff:" || $1 == "CapPrm:" { printf "%s %s ", $1, $2 }' "/proc/$1/status"; }
test_s22_overlay_servers_drop_capabilities_under_the_units_bounding_set() {
        local set mp pp; set=$(unit_bounding_set)
        case $set in *+sys_admin*) ;; *) fail "no CapabilityBoundingSet in the unit: '$set'"; return ;; esac
        stop_daemon
        DAEMON_PREFIX=(setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$set")
        start_daemon
        DAEMON_PREFIX=()
        [ -n "$DAEMON_PID" ] || { fail "bindlinkd did not start under setpriv $set"; start_daemon; return; }
        check_eq "the daemon's bounding set" "$(setpriv --bounding-set="-all,$set" awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)" \
                "$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$DAEMON_PID/status")"
        mkdir -p "$T/v" "$T/b" "$T/p" "$T/pb"
        ctl create --merged "$T/v" "$T/b" && ctl create "$T/p/link" "$T/pb" || { stop_daemon; start_daemon; return; }
        mp=$(server_of "$T/v") || fail "no server for the merged view"
        pp=$(server_of "$T/p") || fail "no server for the parent overlay"
        # CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, SETGID, SETUID, MKNOD: 0x080000df.
        [ -z "$mp" ] || check_eq "merged view server" "CapPrm: 00000000082000df CapEff: 00000000082000df " "$(caps_of "$mp")"
        [ -z "$pp" ] || check_eq "parent overlay server" "CapPrm: 00000000080000df CapEff: 00000000080000df " "$(caps_of "$pp")"
        ! grep -aq 'cannot drop capabilities' "$DAEMON_LOG" || fail "a server said it cannot drop its capabilities"
        remove_all_links
        stop_daemon
        start_daemon
}


replaced_server() { # replaced_server PATTERN OLD_PID: a server matching, other than OLD_PID
        local again; again=$(pgrep -n -f "$1")
        [ -n "$again" ] && [ "$again" != "$2" ]
}

test_s4_crashed_overlay_is_replaced() {
        mkdir -p "$T/p" "$T/b"; echo back > "$T/b/x"; echo o > "$T/p/o"
        ctl create "$T/p/a" "$T/b" || return
        local pid; pid=$(pgrep -f "bindlink-overlay.*--entry=dir:a" | head -n1)
        [ -n "$pid" ] || { fail "no overlay process"; return; }
        kill -KILL "$pid"
        eventually 20 replaced_server "bindlink-overlay.*--entry=dir:a" "$pid" &&
                eventually 20 grep -qx back "$T/p/a/x" || fail "the overlay was not replaced"
        check_file_is "$T/p/o" o
        check_file_is "$T/p/a/x" back
        local again; again=$(pgrep -f "bindlink-overlay.*--entry=dir:a" | head -n1)
        [ -n "$again" ] && [ "$again" != "$pid" ] || fail "overlay not replaced ($pid -> $again)"
        check_eq "one overlay mount" 1 "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$T/p fuse.bindlink")"
}

test_s12_merged_has_no_effect_on_file_links() {
        echo orig > "$T/vf"; echo back > "$T/bf"
        ctl create --merged "$T/vf" "$T/bf" || return
        check_file_is "$T/vf" back
        check_eq flags merged "$(link_field "$T/vf" 'flags | join(",")')"
}

# ---- S14: exceptions -------------------------------------------------------------------
test_s14_exception_with_colliding_name_shows_the_original() {
        mkdir -p "$T/v/e" "$T/b/e"; echo orig > "$T/v/e/o"; echo back > "$T/b/e/b"; echo x > "$T/b/x"
        local before; before=$(tree_digest "$T/b")
        ctl create --exception "$T/v/e" "$T/v" "$T/b" || return
        check_file_is "$T/v/x" x
        check_file_is "$T/v/e/o" orig
        check_missing "$T/v/e/b"
        echo more > "$T/v/e/new"
        ctl remove "$T/v" || return
        check_file_is "$T/v/e/new" more
        check_eq "B untouched" "$before" "$(tree_digest "$T/b")"
        check_eq "no overlay needed" 0 "$(findmnt -rn -o FSTYPE | grep -c fuse.bindlink)"
}

test_s14_exception_without_name_in_backing_and_of_another_type() {
        mkdir -p "$T/v/e" "$T/b/f"; echo orig > "$T/v/e/o"; echo vf > "$T/v/f"; echo x > "$T/b/x"
        ctl create --exception "$T/v/e" --exception "$T/v/f" "$T/v" "$T/b" || return
        check_file_is "$T/v/e/o" orig
        check_file_is "$T/v/f" vf
        check_file_is "$T/v/x" x
        check_eq "listed" "e f x" "$(ls "$T/v" | tr '\n' ' ' | sed 's/ $//')"
        echo written > "$T/v/f"; check_file_is "$T/v/f" written
        check_missing "$T/b/e"
        check_eq "exceptions listed" "$T/v/e $T/v/f" "$(link_field "$T/v" 'exceptions | join(" ")')"
        ctl remove "$T/v" || return
        check_file_is "$T/v/f" written
        check_eq "B unchanged" "f x" "$(ls "$T/b" | tr '\n' ' ' | sed 's/ $//')"
}

test_s14_exception_stays_writable_in_a_read_only_link() {
        mkdir -p "$T/v/e" "$T/b/e"; echo x > "$T/b/x"
        ctl create --read-only --exception "$T/v/e" "$T/v" "$T/b" || return
        (echo y > "$T/v/x") 2>/dev/null && fail "read-only link written"
        echo ok > "$T/v/e/w" || fail "exception not writable"
        check_file_is "$T/v/e/w" ok
}

test_s14_exception_keeps_the_original_permissions_for_a_user() {
        mkdir -p "$T/v/e" "$T/b"; chmod 0755 "$T/v" "$T/b"
        echo secret > "$T/v/e/s"; chmod 0600 "$T/v/e/s"; chmod 1777 "$T/v/e"
        ctl create --exception "$T/v/e" "$T/v" "$T/b" || return
        as_nobody cat "$T/v/e/s" >/dev/null 2>&1 && fail "nobody read a 0600 original through the exception"
        as_nobody sh -c "echo mine > '$T/v/e/mine'" || fail "nobody could not write into the 1777 original"
        check_eq "owner" nobody "$(stat -c %U "$T/v/e/mine")"
        as_nobody sh -c "echo x > '$T/v/x'" 2>/dev/null && fail "nobody wrote into B (0755 root)"
        ctl remove "$T/v" || return
        check_eq "landed in the original" nobody "$(stat -c %U "$T/v/e/mine")"
}

test_s14_s20_nested_link_inside_an_exception_goes_first() {
        mkdir -p "$T/v/e/n" "$T/b" "$T/t"; echo t > "$T/t/y"
        ctl create --exception "$T/v/e" "$T/v" "$T/b" || return
        ctl create "$T/v/e/n" "$T/t" || return
        check_file_is "$T/v/e/n/y" t
        ctl_fails 0x800700AA EBUSY remove "$T/v"
        check_file_is "$T/v/e/n/y" t
        ctl remove "$T/v/e/n" || return
        ctl remove "$T/v" || return
        check_eq "nothing mounted" 0 "$(mounts_under "$T/")"
}

test_s4_exceptions_survive_kill9_and_restart() {
        mkdir -p "$T/v/e" "$T/b"; echo orig > "$T/v/e/o"; echo x > "$T/b/x"
        ctl create --exception "$T/v/e" "$T/v" "$T/b" || return
        local before; before=$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)
        kill9_daemon
        start_daemon || { fail "restart failed"; return; }
        check_eq "mounts untouched" "$before" "$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)"
        check_file_is "$T/v/e/o" orig
        ctl remove "$T/v" || return
        check_eq "no mount left" 0 "$(findmnt -rn -o TARGET | grep -c "^$T/")"
}

# ---- S15-S17, S19, S20: nesting ---------------------------------------------------------
test_s15_nested_created_second_shows() {
        mkdir -p "$T/foo/bar" "$T/t/bar" "$T/t2"; echo t > "$T/t/bar/x"; echo t2 > "$T/t2/y"
        ctl create "$T/foo" "$T/t" || return
        ctl create "$T/foo/bar" "$T/t2" || return
        check_file_is "$T/foo/bar/y" t2
        check_missing "$T/foo/bar/x"
        # S17: the backing paths gain nothing.
        check_missing "$T/t/bar/y"
        check_eq "t unchanged" "bar" "$(ls "$T/t")"
}

test_s15_nested_created_first_still_shows_after_outer() {
        mkdir -p "$T/foo/bar" "$T/t/bar" "$T/t2"; echo t > "$T/t/bar/x"; echo t2 > "$T/t2/y"
        echo o > "$T/foo/orig"
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl create "$T/foo" "$T/t" || return
        check_file_is "$T/foo/bar/y" t2
        check_missing "$T/foo/orig"
        check_eq "one mount at foo/bar" 1 "$(findmnt -rn -o TARGET | grep -cx "$T/foo/bar")"
        check_missing "$T/t/bar/y"
}

test_s15_nested_shows_even_when_outer_backing_lacks_its_name() {
        mkdir -p "$T/foo/bar" "$T/t" "$T/t2"; echo t2 > "$T/t2/y"; echo t > "$T/t/top"
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl create "$T/foo" "$T/t" || return
        check_file_is "$T/foo/bar/y" t2
        check_file_is "$T/foo/top" t
        # S17: the backing path gains nothing.
        check_missing "$T/t/bar"
        check_eq "t unchanged" top "$(ls "$T/t")"
        ctl remove --recursive "$T/foo" || return
        check_eq "no link left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        check_eq "no overlay left" 0 "$(findmnt -rn -o FSTYPE | grep -c fuse.bindlink)"
        check_missing "$T/foo/top"
}

test_s20_nested_links_are_removed_deepest_first() {
        mkdir -p "$T/foo/bar" "$T/t/bar" "$T/t2" "$T/other" "$T/foo2"; echo t2 > "$T/t2/y"
        echo o > "$T/foo/orig"
        ctl create "$T/foo" "$T/t" || return
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl create "$T/foo2" "$T/other" || return # beside, not below: stays
        ctl_fails 0x800700AA EBUSY remove "$T/foo"
        check_eq "outer still bind" bind "$(link_field "$T/foo" realization)"
        ctl remove "$T/foo/bar" || return
        ctl remove "$T/foo" || return
        check_file_is "$T/foo/orig" o
        check_exists "$T/foo/bar"
        check_missing "$T/foo/bar/y"
        # A recursive remove of a directory that is no link's V takes what is below it.
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl remove --recursive "$T/foo" || return
        check_missing "$T/foo/bar/y"
        check_eq "the link beside stays" "$T/foo2" "$("$BINDLINKCTL" list --json | jq -r '.bindlinks[].virtual')"
        ctl remove "$T/foo2" || return
        check_eq "all mounts gone" 0 "$(mounts_under "$T/")"
}

test_s20_removing_nested_restores_outer_view() {
        mkdir -p "$T/foo" "$T/t/bar" "$T/t2"; echo tb > "$T/t/bar/x"; echo t2 > "$T/t2/y"
        ctl create "$T/foo" "$T/t" || return
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl remove "$T/foo/bar" || return
        check_file_is "$T/foo/bar/x" tb
        check_missing "$T/foo/bar/y"
}

test_s20_recursive_remove_restores_the_original_parent() {
        mkdir -p "$T/foo" "$T/t/bar" "$T/t2"; echo t2 > "$T/t2/y"; echo o > "$T/foo/orig"
        local before; before=$(tree_digest "$T/foo")
        ctl create "$T/foo" "$T/t" || return
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl create "$T/foo/bar/deeper" "$T/t2" || return
        check_file_is "$T/foo/bar/deeper/y" t2
        # A refused removal changes nothing, and names the link in the way.
        ctl_fails 0x800700AA EBUSY remove "$T/foo"
        case "$LAST_ERROR" in *"$T/foo/bar"*) ;; *) fail "the refusal does not name the nested link: $LAST_ERROR" ;; esac
        ctl_fails 0x800700AA EBUSY remove "$T/foo/bar"
        check_eq "three links" 3 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        check_file_is "$T/foo/bar/y" t2
        ctl remove -r "$T/foo" || return
        check_eq "no link left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        check_eq "nothing mounted" 0 "$(mounts_under "$T/")"
        check_eq "original foo unchanged" "$before" "$(tree_digest "$T/foo")"
        ctl_fails 0x80070490 ENOENT remove -r "$T/foo"
}

test_s16_later_link_never_hides_earlier_nested_v() {
        mkdir -p "$T/foo/bar" "$T/t/bar" "$T/t3/bar" "$T/t2"; echo t2 > "$T/t2/y"
        echo t3 > "$T/t3/bar/y"
        ctl create "$T/foo/bar" "$T/t2" || return
        ctl create "$T/foo" "$T/t3" || return
        check_file_is "$T/foo/bar/y" t2
        # The earlier, nested link is in the way of removing the later one (S20).
        ctl_fails 0x800700AA EBUSY remove "$T/foo"
        ctl remove "$T/foo/bar" || return
        check_file_is "$T/foo/bar/y" t3
}

test_s15_nested_link_to_the_outer_backing_shows_it() {
        mkdir -p "$T/foo/bar" "$T/t/bar"; echo tb > "$T/t/bar/x"; echo t > "$T/t/top"
        ctl create "$T/foo" "$T/t" || return
        ctl create "$T/foo/bar" "$T/t" || return
        check_file_is "$T/foo/bar/top" t
        check_file_is "$T/foo/bar/bar/x" tb
        check_missing "$T/t/bar/top"
}

# ---- S18: chains and loops -------------------------------------------------------------
test_s18_chain_created_in_order() {
        mkdir -p "$T/a" "$T/b" "$T/c"; echo c > "$T/c/x"; echo b > "$T/b/bx"
        ctl create "$T/b" "$T/c" || return
        ctl create "$T/a" "$T/b" || return
        check_file_is "$T/a/x" c
}

test_s18_chain_created_in_reverse_order() {
        mkdir -p "$T/a" "$T/b" "$T/c"; echo c > "$T/c/x"; echo b > "$T/b/bx"
        ctl create "$T/a" "$T/b" || return
        check_file_is "$T/a/bx" b
        ctl create "$T/b" "$T/c" || return
        check_file_is "$T/a/x" c
        ctl remove "$T/b" || return
        check_file_is "$T/a/bx" b
        check_missing "$T/a/x"
}

test_s18_cycle_is_refused_with_eloop() {
        mkdir -p "$T/a/sub" "$T/b"
        ctl create "$T/a" "$T/b" || return
        ctl_fails 0x80070781 ELOOP create "$T/b" "$T/a"
        ctl_fails 0x80070781 ELOOP create "$T/a/sub" "$T/a"
        ctl remove "$T/a"
        ctl_fails 0x80070781 ELOOP create "$T/a" "$T/a/sub"
        check_eq "only nothing left" 0 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
}

# ---- S4: system-wide, survives the daemon -------------------------------------------------
test_s4_link_visible_in_namespace_receiving_propagation() {
        mkdir -p "$T/v" "$T/b"; echo back > "$T/b/x"
        # A copy of this mount namespace that keeps receiving our mount events.
        unshare --mount --propagation unchanged sh -c "echo \$\$ > '$T/pid'; exec sleep 30" &
        local ns_pid=$!
        eventually 30 test -s "$T/pid" || fail "the other namespace did not start"
        local child; child=$(cat "$T/pid")
        ctl create "$T/v" "$T/b" || { kill $ns_pid; return; }
        local seen; seen=$(nsenter --mount --target "$child" cat "$T/v/x" 2>&1)
        check_eq "seen from the other namespace" back "$seen"
        ctl remove "$T/v"
        nsenter --mount --target "$child" test -e "$T/v/x" && fail "removal not seen from the other namespace"
        kill $ns_pid; wait $ns_pid 2>/dev/null || true
}

test_s4_links_survive_kill9_and_restart_untouched() {
        mkdir -p "$T/v" "$T/b" "$T/v2" "$T/b2"; echo back > "$T/b/x"
        ctl create "$T/v" "$T/b" || return
        ctl create --read-only "$T/v2" "$T/b2" || return
        local before; before=$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)
        kill9_daemon
        check_file_is "$T/v/x" back
        start_daemon || { fail "restart failed"; return; }
        check_eq "links re-adopted" "$T/v $T/v2" "$("$BINDLINKCTL" list --json | jq -r '[.bindlinks[].virtual] | join(" ")')"
        check_eq "mounts untouched" "$before" "$(findmnt -rn -o ID,TARGET | grep "$T/" | sort)"
        check_eq "flags kept" read-only "$(link_field "$T/v2" 'flags | join(",")')"
        ctl remove "$T/v" || return
        check_missing "$T/v/x"
}

test_s4_links_stay_when_daemon_stops() {
        mkdir -p "$T/v" "$T/b"; echo back > "$T/b/x"
        ctl create "$T/v" "$T/b" || return
        stop_daemon
        check_file_is "$T/v/x" back
        start_daemon || { fail "restart failed"; return; }
        check_eq "still listed" bind "$(link_field "$T/v" realization)"
}

test_s4_lost_mount_is_shown_again_on_restart() {
        mkdir -p "$T/v" "$T/b"; echo back > "$T/b/x"
        ctl create "$T/v" "$T/b" || return
        stop_daemon
        umount "$T/v"
        start_daemon || { fail "restart failed"; return; }
        check_file_is "$T/v/x" back
}

# ---- S10: live, path-based resolution -----------------------------------------------
test_s10_backing_deleted_then_made_again() {
        mkdir -p "$T/v" "$T/b"; echo orig > "$T/v/o"; echo one > "$T/b/x"
        ctl create "$T/v" "$T/b" || return
        rm -r "$T/b"
        eventually 20 test ! -e "$T/v" || fail "V still visible after B was deleted"
        err=$(ls "$T/v" 2>&1); case "$err" in *"No such file or directory"*) ;; *) fail "expected ENOENT, got: $err";; esac
        check_eq "link still registered" 1 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        mkdir "$T/b"; echo two > "$T/b/y"
        eventually 20 test -e "$T/v/y" || fail "V does not show B made again"
        check_file_is "$T/v/y" two
        check_eq realization bind "$(link_field "$T/v" realization)"
        ctl remove "$T/v" || return
        check_file_is "$T/v/o" orig
        check_eq "no overlay left" 0 "$(findmnt -rn -o FSTYPE | grep -c fuse.bindlink)"
}

test_s10_backing_renamed_away_and_back() {
        mkdir -p "$T/v" "$T/b"; echo one > "$T/b/x"
        ctl create "$T/v" "$T/b" || return
        mv "$T/b" "$T/b.away"
        eventually 20 test ! -e "$T/v" || fail "V still visible after B was renamed away"
        check_missing "$T/b.away/v"
        mv "$T/b.away" "$T/b"
        eventually 20 test -e "$T/v/x" || fail "V does not show B renamed back"
        check_file_is "$T/v/x" one
}

# S10 for the whole path: a directory above B renamed away or deleted hides V at once,
# and V shows B again when the path names one again. For a bind link and a merged
# link.
test_s10_a_directory_above_b_renamed_away_or_deleted() {
        mkdir -p "$T/up/mid/b" "$T/v" "$T/mv"
        echo one > "$T/up/mid/b/x"; echo mine > "$T/mv/own"
        ctl create "$T/v" "$T/up/mid/b" || return
        ctl create --merged "$T/mv" "$T/up/mid/b" || return
        check_file_is "$T/v/x" one
        mv "$T/up" "$T/up.away"
        eventually 20 test ! -e "$T/v" || fail "V shows B after a parent of B was renamed away"
        eventually 20 test ! -e "$T/mv" || fail "the merged V shows B after a parent of B was renamed away"
        # Seen by the watch on B's path, not only by the check that follows a change
        # of the mount table (which making the links just caused).
        grep -q "$T/up came or went: 2 link(s)" "$DAEMON_LOG" ||
                fail "the rename of a directory above B was not seen on B's path"
        mv "$T/up.away" "$T/up"
        eventually 20 test -e "$T/v/x" || fail "V does not show B when its parent came back"
        eventually 20 test -e "$T/mv/x" || fail "the merged V does not show B when its parent came back"
        check_file_is "$T/mv/own" mine
        rm -r "$T/up/mid"
        eventually 20 test ! -e "$T/v" || fail "V shows B after a parent of B was deleted"
        eventually 20 test ! -e "$T/mv" || fail "the merged V shows B after a parent of B was deleted"
        mkdir -p "$T/up/mid/b"; echo made-again > "$T/up/mid/b/x"
        eventually 20 grep -qx made-again "$T/v/x" || fail "V does not show B made again below a parent made again"
        eventually 20 grep -qx made-again "$T/mv/x" || fail "the merged V does not show B made again"
        ctl remove "$T/v"; ctl remove "$T/mv"
}

test_s10_file_and_anchorless_links_follow_their_backing() {
        mkdir -p "$T/p"; echo f > "$T/vf"; echo bf > "$T/bf"; mkdir -p "$T/bd"; echo d > "$T/bd/x"
        ctl create "$T/vf" "$T/bf" || return
        ctl create "$T/p/anchorless" "$T/bd" || return
        rm "$T/bf"; rm -r "$T/bd"
        eventually 20 test ! -e "$T/vf" || fail "file link still visible"
        eventually 20 test ! -e "$T/p/anchorless" || fail "anchorless link still visible"
        echo again > "$T/bf"; mkdir "$T/bd"; echo again > "$T/bd/x"
        eventually 20 test -e "$T/p/anchorless/x" || { fail "anchorless link did not come back"; sed 's/^/#  /' "$DAEMON_LOG"; }
        eventually 20 grep -q again "$T/vf" || fail "file link did not come back"
        check_file_is "$T/p/anchorless/x" again
}

# S10 for the whole path: B named through a symlink on the way (a release directory's
# "current", say). Re-pointing the symlink re-points the link, bind and merged;
# deleting it hides V; a symlink on the way to the symlink's target counts too; and
# a symlink re-pointed while no daemon runs is followed at start.
test_s10_a_symlink_on_the_way_to_b_re_pointed_re_points_the_link() {
        mkdir -p "$T/rel/v1/data" "$T/rel/v2/data" "$T/rel/v3/data" "$T/alt" "$T/v" "$T/mv"
        echo one > "$T/rel/v1/data/x"; echo two > "$T/rel/v2/data/x"; echo three > "$T/rel/v3/data/x"
        echo mine > "$T/mv/own"
        ln -s v1 "$T/rel/current"
        ctl create "$T/v" "$T/rel/current/data" || return
        ctl create --merged "$T/mv" "$T/rel/current/data" || return
        check_file_is "$T/v/x" one
        check_eq "listed as resolved" "$T/rel/v1/data" "$(link_field "$T/v" backing)"
        # Re-pointed as deploy tools do it: a new symlink renamed over the old one.
        ln -s v2 "$T/rel/current.new"; mv -T "$T/rel/current.new" "$T/rel/current"
        eventually 20 grep -qx two "$T/v/x" || fail "V still shows $(cat "$T/v/x") after current was re-pointed"
        eventually 20 grep -qx two "$T/mv/x" || fail "the merged V does not follow current"
        check_file_is "$T/mv/own" mine
        check_eq "listed as resolved now" "$T/rel/v2/data" "$(link_field "$T/v" backing)"
        echo written > "$T/v/new"
        check_file_is "$T/rel/v2/data/new" written
        check_missing "$T/rel/v1/data/new"
        # The symlink deleted: V answers ENOENT; made again: V is back.
        rm "$T/rel/current"
        eventually 20 test ! -e "$T/v" || fail "V still shows a B whose path is gone"
        eventually 20 test ! -e "$T/mv" || fail "the merged V still shows a B whose path is gone"
        ln -s v1 "$T/rel/current"
        eventually 20 grep -qx one "$T/v/x" || fail "V does not come back when current does"
        eventually 20 grep -qx one "$T/mv/x" || fail "the merged V does not come back"
        # A chain: current -> ../alt/pick -> v3; re-pointing pick re-points the link.
        ln -s "$T/rel/v1" "$T/alt/pick"
        ln -sfn ../alt/pick "$T/rel/current"
        eventually 20 grep -qx one "$T/v/x" || fail "V lost B through a chain of symlinks"
        ln -s "$T/rel/v3" "$T/alt/pick.new"; mv -T "$T/alt/pick.new" "$T/alt/pick"
        eventually 20 grep -qx three "$T/v/x" || fail "a symlink further along the chain was not followed"
        # Re-pointed while no daemon runs: followed at start, from the journal.
        stop_daemon
        ln -sfn v2 "$T/rel/current"
        start_daemon || { fail "restart failed"; return; }
        eventually 20 grep -qx two "$T/v/x" || fail "after a restart V shows $(cat "$T/v/x" 2>&1), not v2"
        eventually 20 grep -qx two "$T/mv/x" || fail "after a restart the merged V shows the old B"
        ctl remove "$T/v"; ctl remove "$T/mv"
        check_file_is "$T/mv/own" mine
}

# ---- S21: list ----------------------------------------------------------------------------
test_s21_list_json_has_every_field_in_creation_order() {
        mkdir -p "$T/v1" "$T/v2" "$T/b"
        ctl create "$T/v2" "$T/b" || return
        ctl create --read-only "$T/v1" "$T/b" || return
        local json; json=$("$BINDLINKCTL" list --json)
        check_eq "one object, as findmnt's" '["bindlinks"]' "$(echo "$json" | jq -c 'keys')"
        check_eq "keys" '["backing","exceptions","flags","order","realization","virtual"]' \
                "$(echo "$json" | jq -c '.bindlinks[0] | keys')"
        check_eq "order" "$T/v2 $T/v1" "$(echo "$json" | jq -r '[.bindlinks[].virtual] | join(" ")')"
        local o1 o2; o1=$(echo "$json" | jq '.bindlinks[0].order'); o2=$(echo "$json" | jq '.bindlinks[1].order')
        [ "$o1" -lt "$o2" ] || fail "orders not increasing: $o1 $o2"
        check_eq "flags" '[[],["read-only"]]' "$(echo "$json" | jq -c '[.bindlinks[].flags]')"
        local text; text=$("$BINDLINKCTL" list)
        check_eq "header" "ORDER REALIZATION FLAGS VIRTUAL BACKING EXCEPTIONS" \
                "$(printf '%s\n' "$text" | head -n 1 | tr -s ' ')"
        check_eq "a row" "$o2 bind read-only $T/v1 $T/b" \
                "$(printf '%s\n' "$text" | sed -n 3p | tr -s ' ' | sed 's/^ //; s/ $//')"
}

# As findmnt: -o picks columns (+ adds to the default ones), -n drops the header,
# -r escapes what would break the columns (\x20), a PATH keeps the links at or
# below it (exit 1 when none is), and -J -o gives the chosen keys.
test_s21_list_columns_raw_and_filter_as_findmnt() {
        mkdir -p "$T/srv/a b" "$T/srv/c/d" "$T/other" "$T/b"
        ctl create "$T/srv/a b" "$T/b" || return
        ctl create --read-only "$T/srv/c/d" "$T/b" || return
        ctl create "$T/other" "$T/b" || return
        check_eq "raw, no header, one column" "$T/srv/a\x20b
$T/srv/c/d
$T/other" "$("$BINDLINKCTL" list -r -n -o VIRTUAL)"
        check_eq "columns in the order asked" "read-only $(link_field "$T/srv/c/d" order)" \
                "$("$BINDLINKCTL" list -rn -o flags,ORDER "$T/srv/c")"
        check_eq "+COLUMN adds to the defaults" "ORDER REALIZATION FLAGS VIRTUAL BACKING EXCEPTIONS SCOPE" \
                "$("$BINDLINKCTL" list -r -o +SCOPE | head -n 1)"
        check_eq "below a path" "$T/srv/a\x20b $T/srv/c/d" \
                "$("$BINDLINKCTL" list -rn -o VIRTUAL "$T/srv" | tr '\n' ' ' | sed 's/ $//')"
        check_eq "a relative path, as the caller names it" "$T/srv/c/d" \
                "$(cd "$T/srv" && "$BINDLINKCTL" list -rn -o VIRTUAL c/)"
        check_eq "JSON, chosen keys" '{"bindlinks":[{"virtual":"'"$T/other"'","flags":[]}]}' \
                "$("$BINDLINKCTL" list -J -o VIRTUAL,FLAGS "$T/other" | jq -c .)"
        local out rc
        out=$("$BINDLINKCTL" list "$T/nothing" 2>&1); rc=$?
        check_eq "no link there: exit 1, nothing printed" "1:" "$rc:$out"
        check_eq "nothing there, JSON" '{"bindlinks":[]}' \
                "$("$BINDLINKCTL" list -J "$T/nothing" | jq -c .)"
        out=$("$BINDLINKCTL" list -o VIRTUAL,BOGUS 2>&1); rc=$?
        check_eq "an unknown column is a usage error" 2 "$rc"
        case "$out" in *"unknown column BOGUS"*) ;; *) fail "the error does not name the column: $out" ;; esac
}

# zsh completion (tools/completion/_bindlinkctl), typed into an interactive zsh on a
# pseudo-terminal: commands, options, list's columns, the links there are for remove,
# and every option it offers is one --help names.
zsh_complete() { # zsh_complete LINE EXPECTED
        zsh -f "$SRCDIR/tests/integration/zsh_complete.zsh" "$SRCDIR/tools/completion" \
                "$BINDLINKCTL" "$1" "$2"
}
test_zsh_completion_of_commands_options_and_virtual_paths() {
        mkdir -p "$T/zlink" "$T/b"
        ctl create "$T/zlink" "$T/b" || return
        zsh_complete "bindlinkctl exp" "bindlinkctl explain" || fail "the command"
        zsh_complete "bindlinkctl remove --rec" "remove --recursive" || fail "remove's option"
        zsh_complete "bindlinkctl list -o VIR" "list -o VIRTUAL" || fail "a column"
        # (The line is longer than the terminal: look for the completed name alone.)
        zsh_complete "bindlinkctl remove $T/zl" "/zlink" || fail "the link there is"
        local opt help
        help=$("$BINDLINKCTL" --help)
        for opt in $(grep -o -- '--[a-z-]*' "$SRCDIR/tools/completion/_bindlinkctl" | sort -u); do
                case "$help" in *"$opt"*) ;; *) fail "zsh completion offers $opt, which --help does not name" ;; esac
        done
}

# bindlinkctl explain: which link decides what a path shows, through which links,
# from which layer, and why — one line a step, the last what is on disk.
explain_lines() { "$BINDLINKCTL" explain "$1" | sed "s|$T/||g"; }
test_s12_s14_s18_explain_names_the_deciding_link_layer_and_why() {
        mkdir -p "$T/app/cfg" "$T/patch/sub" "$T/ro" "$T/plain/e" "$T/src" "$T/gone"
        echo v > "$T/app/cfg/both"; echo b > "$T/patch/both"; echo v > "$T/app/cfg/vonly"
        echo r > "$T/ro/x"; echo o > "$T/plain/e/orig"
        ctl create --merged "$T/app/cfg" "$T/patch" || return
        ctl create --read-only "$T/patch/sub" "$T/ro" || return
        ctl create --exception "$T/plain/e" "$T/plain" "$T/src" || return
        ctl create "$T/anch" "$T/ro" || return
        ctl create "$T/hidden" "$T/gone" || return
        local o_sub; o_sub=$(link_field "$T/patch/sub" order)
        check_eq "a collision in a merged view" "app/cfg/both: the merged link on app/cfg shows its backing path's file (the original has one too: the backing path wins, S12)
patch/both: no link decides it: a file on disk" "$(explain_lines "$T/app/cfg/both")"
        check_eq "the original's layer" "app/cfg/vonly: the merged link on app/cfg shows the original's file (its backing path has no such name, S12)
app/cfg/vonly: a file in the original directory the view covers" "$(explain_lines "$T/app/cfg/vonly")"
        check_eq "a chain through a read-only link (S18, S11)" "app/cfg/sub/x: the merged link on app/cfg shows its backing path's file
patch/sub/x: the link on patch/sub (order $o_sub) shows ro/x there, by a bind mount; read-only: nothing can be changed through the link (S11)
ro/x: no link decides it: a file on disk" "$(explain_lines "$T/app/cfg/sub/x")"
        check_eq "inside an exception (S14)" "plain/e/orig: inside the exception plain/e of the link on plain: the original object shows, writable as it is on disk (S14)
plain/e/orig: no link decides it: a file on disk" "$(explain_lines "$T/plain/e/orig")"
        case "$(explain_lines "$T/anch/x")" in
        "anch/x: the link on anch "*"by a bind mount on an entry the overlay of its parent makes up (S8, S9)
ro/x: no link decides it: a file on disk") ;;
        *) fail "anchorless: $(explain_lines "$T/anch/x")" ;;
        esac
        rmdir "$T/gone"
        eventually 10 realization_is "$T/hidden" none || fail "the link whose B went is still shown"
        check_eq "a link not shown now (S10)" "hidden: the link on hidden is registered but not shown now: its backing path does not exist; what is beneath it shows
hidden: no link decides it, and nothing is there (or the caller may not see it)" "$(explain_lines "$T/hidden")"
        check_eq "relative, as the caller names it" "$(explain_lines "$T/app/cfg/both")" \
                "$(cd "$T/app" && "$BINDLINKCTL" explain cfg/both | sed "s|$T/||g")"
        check_eq "JSON" '["layer-backing","found"] app/cfg merged' \
                "$("$BINDLINKCTL" explain --json "$T/app/cfg/both" | sed "s|$T/||g" |
                   jq -r '"\([.steps[].kind] | tostring) \(.steps[0].link.virtual) \(.steps[0].link.flags[0])"')"
}

# bash completion (tools/completion/bindlinkctl): commands, options (each one
# bindlinkctl's --help names), paths, and for remove the virtual paths of the links
# there are now, a space in one included.
complete_words() { # complete_words WORD...: what completing the last word offers
        bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _bindlinkctl; printf "%s\n" "${COMPREPLY[@]}"' _ \
                "$SRCDIR/tools/completion/bindlinkctl" "$@"
}

test_bash_completion_of_commands_options_and_virtual_paths() {
        mkdir -p "$T/v one" "$T/v2" "$T/b"
        ctl create "$T/v one" "$T/b" || return
        ctl create "$T/v2" "$T/b" || return
        check_eq "a command" create "$(complete_words "$BINDLINKCTL" cr)"
        check_eq "an option of create" --merged "$(complete_words "$BINDLINKCTL" create --me)"
        check_eq "after --socket" --version "$(complete_words "$BINDLINKCTL" --socket "$SOCK" --vers)"
        check_eq "paths for create" "$T/v2" "$(complete_words "$BINDLINKCTL" create "$T/v2")"
        check_eq "the links there are, for remove" "$T/v one|$T/v2" \
                "$(complete_words "$BINDLINKCTL" remove "$T/v" | sort | paste -sd'|')"
        check_eq "the same through --socket" "$T/v one" \
                "$(complete_words "$BINDLINKCTL" --socket "$SOCK" remove "$T/v ")"
        check_eq "explain" explain "$(complete_words "$BINDLINKCTL" exp)"
        check_eq "list's columns" VIRTUAL "$(complete_words "$BINDLINKCTL" list -o vir)"
        check_eq "list's paths are the links'" "$T/v2" "$(complete_words "$BINDLINKCTL" list "$T/v2")"
        local opt help
        help=$("$BINDLINKCTL" --help)
        for opt in $(grep -o -- '--[a-z-]*' "$SRCDIR/tools/completion/bindlinkctl" | sort -u); do
                case "$help" in *"$opt"*) ;; *) fail "completion offers $opt, which --help does not name" ;; esac
        done
}

test_s21_list_json_escapes_odd_names() {
        mkdir -p "$T/with space" "$T/quo\"te" "$T/b"
        ctl create "$T/with space" "$T/b" || return
        ctl create "$T/quo\"te" "$T/b" || return
        check_eq "names round-trip" "$T/with space|$T/quo\"te" "$("$BINDLINKCTL" list --json | jq -r '[.bindlinks[].virtual] | join("|")')"
}

# ---- S22: boot configuration -------------------------------------------------------------
test_s22_config_creates_links_in_order_and_reports_bad_lines() {
        mkdir -p "$T/v1" "$T/v2" "$T/v 3" "$T/b"; echo b > "$T/b/x"
        cat > "$T/links.conf" <<CONF
# comment
$T/v1 $T/b

$T/v2 $T/b read-only
$T/missing-parent/v $T/b
$T/v1 $T/b
not-absolute $T/b
$T/v\\0403 $T/b bogus-option
$T/v\\0403 $T/b
CONF
        stop_daemon
        start_daemon --config "$T/links.conf" || { fail "daemon with config did not start"; return; }
        check_eq "created in file order" "$T/v1 $T/v2 $T/v 3" "$("$BINDLINKCTL" list --json | jq -r '[.bindlinks[].virtual] | join(" ")')"
        check_file_is "$T/v1/x" b
        (echo x > "$T/v2/x") 2>/dev/null && fail "read-only option ignored"
        grep -q "links.conf:5: .*not visible" "$DAEMON_LOG" || fail "line 5 error not reported: $(cat "$DAEMON_LOG")"
        grep -q "links.conf:6: .*already" "$DAEMON_LOG" && fail "an identical duplicate line must be skipped silently"
        grep -q "links.conf:7: .*absolute" "$DAEMON_LOG" || fail "line 7 error not reported"
        grep -q "links.conf:8: .*unknown option" "$DAEMON_LOG" || fail "line 8 error not reported"
        # Restart with the same config: links are re-adopted, nothing is duplicated.
        stop_daemon
        start_daemon --config "$T/links.conf" || { fail "second start failed"; return; }
        check_eq "still three links" 3 "$("$BINDLINKCTL" list --json | jq ".bindlinks | length")"
        grep -q "links.conf:2:" "$DAEMON_LOG" && fail "re-adopted link reported as an error"
        stop_daemon
        start_daemon
}

# Under systemd (Type=notify; stderr connected to the journal): READY=1 reaches
# $NOTIFY_SOCKET once the configured links are in place, and each line carries its
# syslog priority, so `journalctl -p err` shows a bad links.conf line. Outside the
# journal the lines stay plain (every other test reads them so).
test_s22_under_systemd_ready_is_notified_and_errors_carry_their_priority() {
        mkdir -p "$T/v1" "$T/b"
        printf '%s %s\nnot-absolute %s\n' "$T/v1" "$T/b" "$T/b" > "$T/links.conf"
        # systemd's side: a datagram socket that keeps what it is told.
        python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(120)
open(sys.argv[2], "wb").write(s.recv(4096))' "$T/notify" "$T/notified" &
        local listener=$!
        eventually 30 test -S "$T/notify" || fail "no notify socket"
        stop_daemon
        # JOURNAL_STREAM names the daemon's stderr (the log file), as systemd's does.
        DAEMON_PREFIX=(env NOTIFY_SOCKET="$T/notify" sh -c \
                'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' sh)
        start_daemon --config "$T/links.conf" || fail "daemon with config did not start"
        DAEMON_PREFIX=()
        wait "$listener" || fail "nothing was notified"
        case $(tr '\n' ' ' < "$T/notified") in
        "READY=1 STATUS=serving 1 link(s) on $SOCK") ;;
        *) fail "notified: $(cat "$T/notified")" ;;
        esac
        grep -q "^<3>bindlinkd: error: $T/links.conf:2: .*absolute" "$DAEMON_LOG" ||
                fail "the bad line is not an error for journald: $(cat "$DAEMON_LOG")"
        grep -q "^<6>bindlinkd: ready on" "$DAEMON_LOG" || fail "no <6> on the ready line"
        stop_daemon
        start_daemon
        ! grep -q '^<' "$DAEMON_LOG" || fail "priorities written where stderr is not the journal"
}

# ---- the CLI itself ---------------------------------------------------------------------------
test_s1_windows_sample_spelling() {
        mkdir -p "$T/v" "$T/b"; echo b > "$T/b/x"
        ctl CREATE "$T/v" "$T/b" /read-only || return
        (echo y > "$T/v/x") 2>/dev/null && fail "/read-only ignored"
        ctl Remove "$T/v" || return
        echo v > "$T/v/vonly"
        ctl CREATE "$T/v" "$T/b" /merge || return
        check_file_is "$T/v/vonly" v
        check_file_is "$T/v/x" b
        ctl REMOVE "$T/v" || return
        # Only after both paths is "/merge" a flag; as the backing path it is a path.
        ctl_fails 0x80070002 ENOENT create "$T/v" /merge
        case "$LAST_ERROR" in *"backing path /merge does not exist"*) ;; *) fail "/merge not taken as a path: $LAST_ERROR";; esac
}

test_cli_help_version_and_usage_errors() {
        local out
        out=$("$BINDLINKCTL" --help) || fail "--help failed"
        case "$out" in *"create [-r|--read-only] [-m|--merged] [-e|--exception PATH]... [TARGET]"*"VIRTUAL BACKING"*) ;; *) fail "--help lacks create";; esac
        case "$out" in *"remove [-r|--recursive] [TARGET] VIRTUAL"*) ;; *) fail "--help lacks remove";; esac
        case "$out" in *"list [-o COLUMNS] [-n] [-r | -J] [TARGET | --all-scopes] [PATH]"*) ;; *) fail "--help lacks list";; esac
        case "$out" in *"explain [-J] PATH"*) ;; *) fail "--help lacks explain";; esac
        case "$out" in *"--target pid:N|pidfd:N|ns:PATH"*"--root DIR"*) ;; *) fail "--help lacks --target and --root";; esac
        "$BINDLINKCTL" --version | grep -q '^bindlinkctl [0-9]' || fail "--version"
        "$BINDLINKD" --help | grep -q -- '--state-dir' || fail "bindlinkd --help"
        "$BINDLINKCTL" frobnicate >/dev/null 2>&1; check_eq "unknown command exit" 2 $?
        "$BINDLINKCTL" create onlyone >/dev/null 2>&1; check_eq "missing arg exit" 2 $?
        "$BINDLINKCTL" >/dev/null 2>&1; check_eq "no command exit" 2 $?
        "$BINDLINKCTL" create --bogus a b >/dev/null 2>&1; check_eq "bad option exit" 2 $?
}

test_s2_allowed_group_member_may_create_but_only_what_they_can_open() {
        mkdir -p "$T/v" "$T/b" "$T/locked/b"; chmod 0700 "$T/locked"; echo b > "$T/b/x"
        stop_daemon
        start_daemon --allow-group 4242 || { fail "daemon with --allow-group did not start"; return; }
        NOBODY_GROUPS=4242 as_nobody "$BINDLINKCTL" create "$T/v" "$T/b" || fail "group member could not create"
        check_file_is "$T/v/x" b
        local out; out=$(NOBODY_GROUPS=4242 as_nobody "$BINDLINKCTL" create "$T/v2" "$T/locked/b" 2>&1)
        case "$out" in *"(HRESULT 0x80070005, EACCES)"*) ;; *) fail "expected EACCES for an unreadable B, got: $out";; esac
        out=$(as_nobody "$BINDLINKCTL" remove "$T/v" 2>&1)
        case "$out" in *"EPERM"*) ;; *) fail "non-member removed a link: $out";; esac
        NOBODY_GROUPS=4242 as_nobody "$BINDLINKCTL" remove "$T/v" || fail "group member could not remove"
        stop_daemon
        start_daemon
}

start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
