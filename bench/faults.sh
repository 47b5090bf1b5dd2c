#!/bin/bash
# faults.sh BUILDDIR — the faults table: each fault the test suite injects, what a user
# sees while and after it happens, and what is lost. It runs those tests (the
# integration scripts, each in its own private mount and pid namespace, as make check
# does) and prints one Markdown table; a row whose test failed says so instead of
# claiming its outcome. Needs root. bench/README.md ("Faults") keeps its last output.
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# The tests make their own namespaces: only the build directory is of the harness.
bench_builddir "${1:?usage: bench/faults.sh BUILDDIR}"
bench_need bindlinkd bindlinkctl bindlink-overlay
src=$(cd "$(dirname "$0")/.." && pwd)

# script|test (a regular expression)|what was injected|what the user saw|what was lost
rows=(
"faults.sh|test_s4_full_state_filesystem_refuses_what_it_cannot_record|the state filesystem full (40 KiB), 420 creates and 20 removes, then kill -9 and a restart on the full disk, then room again|creates and removes that could not be journaled fail with ENOSPC (0x80070070) and change nothing; the daemon starts and lists on the full disk|nothing: listed links and mounts agree after each restart"
"faults.sh|test_s4_restart_takes_down_what_a_crash_left_unrecorded|kill -9 between a view's record and its link's, between a removal's record and its unmount, before a view's record|after the restart: no link, no view, V as it was|nothing; no mount or overlay process left"
"faults.sh|test_s4_kill9_during_a_create_storm_leaves_nothing_once_removed|kill -9 five times during a storm of merged and anchorless creates|every create either done or not; after removing every link nothing of ours is mounted|nothing; no overlay process left"
"cli.sh|test_s4_links_survive_kill9_and_restart_untouched|kill -9 of bindlinkd|links keep working while it is down; adopted at restart|nothing"
"cli.sh|test_s4_crashed_overlay_is_replaced|kill -9 of a parent overlay's server|its links answer again once it is replaced|nothing"
"merged.sh|test_s4_crashed_merged_view_is_replaced|kill -9 of a merged view's server|V answers again once it is replaced|nothing"
"merged.sh|test_s4_a_view_whose_server_keeps_ending_is_given_up_then_tried_again|a view server that ends as soon as it starts|after 3 quick ends V shows its own directory (no dead mount); tried again later|nothing"
"cli.sh|test_s4_a_stopped_overlay_server_never_blocks_the_daemon|SIGSTOP of an overlay's server|remove and list still answer (the view is taken down)|nothing"
"faults.sh|test_s10_backing_filesystem_unmounted_under_an?_|B's filesystem unmounted (umount -l) under each kind of link|ENOENT through V, or the detached filesystem's content; never a hang|nothing"
"faults.sh|test_s10_backing_filesystem_mounted_back_|B's filesystem mounted back where it was (outside V's parent, and beside V)|V shows B again; a filesystem mounted back beside V outlives the link|nothing"
"faults.sh|test_s10_backing_replaced_by_a_file_|B, a directory, replaced by a file, then a directory again|V follows B: a file, then a directory again|nothing"
"faults.sh|test_s20_files_held_open_while_|files held open while their link is removed|they keep reading and writing; the old server serves them until closed|nothing"
"cli.sh|test_s8_siblings_never_see_an_error_while_links_come_and_go_in_their_parent|20 links made and 10 removed beside three links and a file of their parent|no read fails; the same overlay server and mount|nothing"
"cli.sh|test_s5_s8_sockets_fifos_devices_and_mounts_beside_an_anchorless_link|an anchorless link in a directory with sockets, a FIFO, a device and mounts|each answers as before, with the link and after|nothing"
"cli.sh|test_s5_s10_sockets_fifos_devices_and_mounts_beside_a_link_whose_backing_went|a link whose B went, hiding V, beside the same|each answers as before|nothing"
"stress.sh|test_s5_s12_merged_view_survives_stress_ng|stress-ng (dir, rename, link, hdd, filename, symlink, xattr, --verify) through a merged view|every stressor passes; no sanitizer report|nothing"
"stress.sh|test_s5_s8_parent_overlay_survives_stress_ng|the same through a parent overlay|every stressor passes|nothing"
"hostile.sh|test_s2_big_messages_from_a_user_hold_no_memory|500 unfinished 2 MiB messages from nobody|root calls answered; the daemon stays under 64 MiB|nothing"
"hostile.sh|test_s2_idle_connections_of_a_user_leave_root_served|520 idle connections from nobody|every root call answered|nothing"
)

declare -A wanted
for row in "${rows[@]}"; do
        IFS='|' read -r script name _ <<<"$row"
        wanted[$script]="${wanted[$script]:+${wanted[$script]}|}$name"
done
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for script in "${!wanted[@]}"; do
        echo "faults.sh: running $script (${wanted[$script]//|/, })" >&2
        BUILDDIR=$builddir SRCDIR=$src TEST_MATCH="${wanted[$script]}" \
                bash "$src/tests/integration/$script" >"$results/$script.tap" 2>&1
done

echo "Faults ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "| what was injected | what the user saw | what was lost | test |"
echo "|---|---|---|---|"
for row in "${rows[@]}"; do
        IFS='|' read -r script name injected seen lost <<<"$row"
        oks=$(grep -cE "^ok [0-9]+ - $name" "$results/$script.tap")
        bad=$(grep -cE "^not ok [0-9]+ - $name" "$results/$script.tap")
        if [ "$oks" -gt 0 ] && [ "$bad" -eq 0 ]; then
                echo "| $injected | $seen | $lost | $script: passed ($oks) |"
        else
                echo "| $injected | **test failed: not as stated** | ? | $script: $oks passed, $bad failed |"
        fi
done
