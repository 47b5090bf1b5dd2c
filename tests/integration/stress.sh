#!/bin/bash
# stress.sh — the overlay servers under many requests at once (S5): stress-ng's
# filesystem stressors, two workers each, all at once beside two CPU hogs (so that
# the server's threads are preempted mid-request, as on a busy machine), run through
# a merged view (S12) and through a parent overlay carrying an anchorless link (S8).
# The server must neither die nor report anything under ASan (the build-sanitize run
# of ./dev.sh test, where abort_on_error makes a heap error end the server): the
# server that started serves the view to the end, the view still answers, stress-ng
# found nothing wrong (--verify), and the server's stderr (the daemon's log) holds no
# sanitizer report. STRESS_SECONDS (default 20: about 3 per stressor) bounds each
# run, so the script takes about a minute on a busy 2-core machine. TAP.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"

STRESS_SECONDS=${STRESS_SECONDS:-20}
STRESSORS="dir rename link hdd filename symlink xattr"

# sanitizer_reports SINCE: the ASan and UBSan reports in the daemon's log (which the
# servers' stderr is) after its first SINCE bytes.
sanitizer_reports() {
        tail -c +$(($1 + 1)) "$DAEMON_LOG" | grep -a -A 30 'ERROR: AddressSanitizer\|runtime error:'
}

# stress_view DIR ORIG: run the stressors in DIR, reached through a view whose
# server's lower directory is ORIG.
stress_view() {
        local dir=$1 orig=$2 pid s args="" out rc answer since
        since=$(stat -c %s "$DAEMON_LOG")
        pid=$(server_of "$orig") || { fail "no overlay server for $orig"; return 1; }
        for s in $STRESSORS; do args="$args --$s 2"; done
        # shellcheck disable=SC2086 # a list of options
        out=$(timeout $((STRESS_SECONDS + 120)) stress-ng $args --cpu 2 --timeout "${STRESS_SECONDS}s" \
                --temp-path "$dir" --verify --hdd-bytes 4M --metrics-brief 2>&1)
        rc=$?
        echo "# stress-ng$args --cpu 2 for ${STRESS_SECONDS}s: exit $rc"
        if ! kill -0 "$pid" 2>/dev/null; then
                fail "the server (pid $pid) ended under stress"
        elif ! answer=$(timeout 10 stat -c %F "$dir" 2>&1); then
                fail "$dir does not answer after the stress: $answer"
        fi
        [ $rc -eq 0 ] || { fail "stress-ng exited $rc"; printf '%s\n' "$out" | grep -v ' info: \| metrc: ' | tail -n 12 | sed 's/^/#   stress-ng: /'; }
        if [ -n "$(sanitizer_reports "$since")" ]; then
                fail "sanitizer report:"
                sanitizer_reports "$since" | head -n 40 | sed 's/^/#   /'
        fi
        # stress-ng cleans up after itself; nothing of it may be left behind the view.
        check_eq "stress-ng's files left in $dir" "" "$(ls -A "$dir" 2>&1)"
}

test_s5_s12_merged_view_survives_stress_ng() {
        mkdir -p "$T/v/work" "$T/b"
        echo v > "$T/v/vfile"
        ctl create --merged "$T/v" "$T/b" || return
        stress_view "$T/v/work" "$T/v"
}

test_s5_s8_parent_overlay_survives_stress_ng() {
        mkdir -p "$T/p/work" "$T/anchor-b"
        ctl create "$T/p/anchored" "$T/anchor-b" || return
        check_eq "P is behind the overlay" fuse.bindlink "$(findmnt -n -o FSTYPE --mountpoint "$T/p")"
        stress_view "$T/p/work" "$T/p"
}

if ! command -v stress-ng >/dev/null; then
        echo "1..0 # SKIP stress-ng is not installed (./dev.sh installs it)"
        T_NUM=-1
        exit 0
fi
start_daemon || exit 1
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        run_test "$t"
done
