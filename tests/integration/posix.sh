#!/bin/bash
# posix.sh — S5 through a MERGED link (S12): a broad POSIX check (posix_check: the error
# and success cases of open, creat, mkdir, rmdir, unlink, rename, link, symlink, chmod,
# chown, truncate and utimensat), run in a directory reached through V, must print
# exactly what it prints run directly in B — as root and as an unprivileged user. TAP.
#
# POSIX_LINK_FLAGS overrides the flags of the link under test (default --merged; set it
# empty for a plain link, which is a bind mount and must show no difference at all).
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

# POSIX_CHECK: set by lib.sh (a copy the unprivileged user can run).
POSIX_LINK_FLAGS=${POSIX_LINK_FLAGS---merged}
MIN_CASES=150

# make_linked_union OWNER SUFFIX: V and B each with content of their own (names from V
# only, from B only and from both), plus the empty directories the check runs in that
# exist before the link: both-SUFFIX in V and in B (a merged directory, S12) and
# vonly-SUFFIX in V only; then the link V -> B.
make_linked_union() {
        mkdir -p "$T/v/v-only-dir" "$T/v/both-dir" "$T/b/b-only-dir" "$T/b/both-dir"
        echo v > "$T/v/v-only"; echo v > "$T/v/both"; echo v > "$T/v/both-dir/v-file"
        echo b > "$T/b/b-only"; echo b > "$T/b/both"; echo b > "$T/b/both-dir/b-file"
        mkdir "$T/v/both-$2" "$T/b/both-$2" "$T/v/vonly-$2"
        if [ "$1" = nobody ]; then
                chown "$NOBODY_UID:$NOBODY_GID" "$T/v/both-$2" "$T/b/both-$2" "$T/v/vonly-$2"
        fi
        # shellcheck disable=SC2086 # POSIX_LINK_FLAGS is a list of flags
        ctl create $POSIX_LINK_FLAGS "$T/v" "$T/b" || return 1
        echo "# link realized as: $(link_field "$T/v" realization)"
        # The link is really there (or every comparison below would pass vacuously).
        check_file_is "$T/v/b-only" b
        check_file_is "$T/v/both" b
        case " $POSIX_LINK_FLAGS " in
        *" --merged "*) check_file_is "$T/v/v-only" v ;;
        esac
        [ "$T_CURRENT_FAILED" -eq 0 ]
}

# fresh_dir PATH BACKING_PATH OWNER: make the empty directory PATH (directly or through
# V), owned by OWNER (root or nobody); BACKING_PATH is where it must land in B.
fresh_dir() {
        mkdir "$1" || { fail "mkdir $1"; return 1; }
        [ -d "$2" ] || { fail "$1 did not land in B ($2 missing)"; return 1; }
        if [ "$3" = nobody ]; then
                chown "$NOBODY_UID:$NOBODY_GID" "$1" || { fail "chown $1"; return 1; }
        fi
}

# posix_run DIR OWNER OUT: prepare DIR's fixtures as root, then run the cases there as
# OWNER (root or nobody); the printed lines go to OUT.
posix_run() {
        local dir=$1 owner=$2 out=$3 rc
        "$POSIX_CHECK" --prepare "$dir" 2>"$out.err" || {
                fail "posix_check --prepare $dir: $(cat "$out.err")"
                return 1
        }
        if [ "$owner" = nobody ]; then
                as_nobody "$POSIX_CHECK" "$dir" >"$out" 2>"$out.err"
        else
                "$POSIX_CHECK" "$dir" >"$out" 2>"$out.err"
        fi
        rc=$?
        [ -s "$out.err" ] && sed 's/^/#   stderr: /' "$out.err"
        return $rc
}

# case_count OUT: how many cases a run printed (its last line, "cases: N").
case_count() { sed -n 's/^cases: //p' "$1"; }

# compare_runs DIRECT THROUGH WHAT: the two outputs must be identical; the difference is
# printed as TAP comments. (O_TMPFILE included: the views make unnamed files too.)
compare_runs() {
        local n
        n=$(case_count "$1")
        if ! diff -u "$1" "$2" >"$T/diff"; then
                fail "$3: $(grep -c '^+[^+]' "$T/diff") of $n case lines differ (- directly in B, + through V):"
                tail -n +3 "$T/diff" | sed 's/^/#   /'
        else
                echo "# $n cases, identical: $3"
        fi
}

# posix_compare OWNER SUFFIX: the same check, as OWNER, directly in B and through V: in a
# directory made through V (it lands in B), in one that V and B both have, and — merged
# links only, a plain link hides it (S7) — in one only the original V has (S12 creates
# it in B when the check makes its first name there).
posix_compare() {
        local owner=$1 suffix=$2 rc n place places="through both"
        case " $POSIX_LINK_FLAGS " in *" --merged "*) places="$places vonly" ;; esac
        make_linked_union "$owner" "$suffix" || return 1
        fresh_dir "$T/b/direct-$suffix" "$T/b/direct-$suffix" "$owner" || return 1
        fresh_dir "$T/v/through-$suffix" "$T/b/through-$suffix" "$owner" || return 1
        posix_run "$T/b/direct-$suffix" "$owner" "$T/direct.out"
        rc=$?
        [ $rc -eq 0 ] || fail "posix_check directly in B exited $rc"
        n=$(case_count "$T/direct.out")
        [ "${n:-0}" -ge $MIN_CASES ] || fail "the direct run printed ${n:-no} cases (expected >= $MIN_CASES)"
        for place in $places; do
                posix_run "$T/v/$place-$suffix" "$owner" "$T/$place.out" || [ -s "$T/$place.out" ] ||
                        continue
                compare_runs "$T/direct.out" "$T/$place.out" \
                        "V/$place-$suffix as $owner, link flags '${POSIX_LINK_FLAGS}'"
        done
        case $places in
        *vonly*) [ -d "$T/b/vonly-$suffix/foreign" ] || fail "what the check made in V/vonly-$suffix is not in B" ;;
        esac
}

test_s5_posix_root_through_merged_link_matches_backing() {
        posix_compare root root
}

test_s5_posix_user_through_merged_link_matches_backing() {
        posix_compare nobody user
}

# S5 through a parent overlay (S8): an anchorless link in P puts P's own entries behind
# the FUSE overlay (files open and close there without a request on local
# filesystems). The check in a directory of P must print what it prints in a plain
# directory Q beside it.
posix_compare_parent() {
        local owner=$1 suffix=$2 rc
        mkdir -p "$T/p" "$T/q" "$T/anchor-b"
        ctl create "$T/p/anchored" "$T/anchor-b" || return 1
        check_eq "P is behind the overlay" fuse.bindlink "$(findmnt -n -o FSTYPE --mountpoint "$T/p")"
        fresh_dir "$T/q/plain-$suffix" "$T/q/plain-$suffix" "$owner" || return 1
        fresh_dir "$T/p/overlaid-$suffix" "$T/p/overlaid-$suffix" "$owner" || return 1
        posix_run "$T/q/plain-$suffix" "$owner" "$T/plain.out"
        rc=$?
        [ $rc -eq 0 ] || fail "posix_check in a plain directory exited $rc"
        local n; n=$(case_count "$T/plain.out")
        [ "${n:-0}" -ge $MIN_CASES ] || fail "the plain run printed ${n:-no} cases (expected >= $MIN_CASES)"
        posix_run "$T/p/overlaid-$suffix" "$owner" "$T/overlaid.out" || [ -s "$T/overlaid.out" ] ||
                { fail "posix_check through the overlay printed nothing"; return 1; }
        compare_runs "$T/plain.out" "$T/overlaid.out" "P/overlaid-$suffix (parent overlay) as $owner"
}

test_s5_s8_posix_root_through_parent_overlay_matches_plain_directory() {
        posix_compare_parent root root
}

test_s5_s8_posix_user_through_parent_overlay_matches_plain_directory() {
        posix_compare_parent nobody user
}

# The symlink chain cases under load (S5, S12): directly in B and through a merged view
# they answer alike while mounts come and go elsewhere on the machine (as other test
# suites' do: each one makes Linux start some path walks again) and two CPU hogs run.
# A chain of 40 symlinks opens, one of 41 is ELOOP, every time: posix_check
# --chain-trials opens each 4000 times directly and 1000 times through V (a FUSE
# symlink costs a READLINK; a chain, 40 of them).
churn_mounts() { while :; do mount -t tmpfs churn "$1" && umount "$1"; done; }
test_s5_s12_symlink_chain_cases_match_under_load() {
        local churn cpu="" direct through
        mkdir -p "$T/v" "$T/b" "$T/churn"
        ctl create --merged "$T/v" "$T/b" || return
        mkdir "$T/b/direct" "$T/v/through"
        churn_mounts "$T/churn" &
        churn=$!
        if command -v stress-ng >/dev/null; then
                stress-ng --cpu 2 --timeout 120s >/dev/null 2>&1 &
                cpu=$!
        fi
        direct=$(timeout 120 "$POSIX_CHECK" --chain-trials 4000 "$T/b/direct" 2>&1 | paste -sd';')
        through=$(timeout 120 "$POSIX_CHECK" --chain-trials 1000 "$T/v/through" 2>&1 | paste -sd';')
        kill $churn $cpu 2>/dev/null
        wait $churn $cpu 2>/dev/null
        ! mountpoint -q "$T/churn" || umount "$T/churn"
        check_eq "chain cases directly in B" \
                "open-symlink-chain-40: OK 4000 ELOOP 0 other 0;open-symlink-chain-41: OK 0 ELOOP 4000 other 0" "$direct"
        check_eq "chain cases through V" \
                "open-symlink-chain-40: OK 1000 ELOOP 0 other 0;open-symlink-chain-41: OK 0 ELOOP 1000 other 0" "$through"
}

# The check must see a difference where there is one, or the two tests above could pass
# vacuously: on a read-only bind mount nearly every change fails (EROFS); on a nosymfollow
# one only the cases that follow a symlink change. Case names stay the same either way.
test_s5_posix_check_detects_differences() {
        local m
        mkdir -p "$T/ref" "$T/ro-src" "$T/ro" "$T/nsf-src" "$T/nsf"
        posix_run "$T/ref" root "$T/ref.out" || { fail "reference run failed"; return; }
        "$POSIX_CHECK" --prepare "$T/ro-src" && "$POSIX_CHECK" --prepare "$T/nsf-src" ||
                { fail "prepare failed"; return; }
        mount --bind "$T/ro-src" "$T/ro" && mount -o remount,bind,ro "$T/ro" ||
                { fail "cannot make a read-only bind mount"; return; }
        mount --bind "$T/nsf-src" "$T/nsf" && mount -o remount,bind,nosymfollow "$T/nsf" ||
                { fail "cannot make a nosymfollow bind mount"; umount "$T/ro"; return; }
        # Fixtures that cannot be made show as "setup" lines; the cases are compared.
        "$POSIX_CHECK" "$T/ro" 2>/dev/null | grep -v '^setup ' >"$T/ro.out"
        "$POSIX_CHECK" "$T/nsf" 2>/dev/null | grep -v '^setup ' >"$T/nsf.out"
        umount "$T/ro" "$T/nsf"
        for m in ro nsf; do
                check_eq "$m: same case names" "$(cut -d: -f1 "$T/ref.out")" "$(cut -d: -f1 "$T/$m.out")"
        done
        local ro_diff nsf_diff
        ro_diff=$(diff "$T/ref.out" "$T/ro.out" | grep -c '^>')
        nsf_diff=$(diff "$T/ref.out" "$T/nsf.out" | grep -c '^>')
        echo "# read-only: $ro_diff case lines differ; nosymfollow: $nsf_diff case lines differ"
        [ "$ro_diff" -ge 100 ] || fail "read-only bind mount: only $ro_diff case lines differ"
        grep -qx 'mkdir-in-foreign-dir: EROFS' "$T/ro.out" || fail "read-only: mkdir-in-foreign-dir is not EROFS"
        [ "$nsf_diff" -ge 1 ] && [ "$nsf_diff" -le 40 ] ||
                fail "nosymfollow: $nsf_diff lines differ (expected a few)"
        grep -qx 'open-follows-symlink: ELOOP' "$T/nsf.out" || fail "nosymfollow: open-follows-symlink is not ELOOP"
        grep -qx 'open-nofollow-symlink: ELOOP' "$T/nsf.out" || fail "nosymfollow changed an O_NOFOLLOW case"
}

[ -x "$POSIX_CHECK" ] || { echo "Bail out! $POSIX_CHECK is not built"; T_NUM=-1; exit 1; }
start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
