#!/bin/sh
# merged.sh BUILDDIR [--runs N] [--quick] — merged links vs. union file systems
# (see README.md, "Merged links vs. union filesystems").
#
# Needs root. Like overlay.sh it runs in a private mount and PID namespace of its own,
# on a tmpfs mounted on a fresh directory, with a bindlinkd of its own
# (BINDLINK_OVERLAY_PROGRAM=BUILDDIR/bindlink-overlay): bench/lib.sh. It installs the
# peers it compares with if they are missing (mergerfs, unionfs-fuse, fuse-overlayfs,
# bindfs, with apt-get), runs BUILDDIR/bench/bench_merged (make bench-merged builds
# it), makes two directories V and B that share some names and a 1 GiB file in B, and
# times eight workloads on B itself, on a plain bind link of B, on the merged link
# V -> B (writable, and read-only: no create there; both by FUSE passthrough where the
# kernel has it) and on each peer's union of B and V, in rounds; every round mounts
# each of them afresh. It prints one table of medians. On every exit it removes the
# links, stops the daemon and every FUSE server, unmounts everything, checks that no
# mount and no process of the run is left, and removes the directory.
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
        echo "usage: $0 BUILDDIR [--runs N] [--quick]" >&2
        exit 2
}

builddir=
runs=5
quick=
while [ $# -gt 0 ]; do
        case $1 in
        --runs)
                [ $# -ge 2 ] || usage
                runs=$2
                shift 2
                ;;
        --runs=*)
                runs=${1#--runs=}
                shift
                ;;
        --quick)
                quick=1
                shift
                ;;
        -*) usage ;;
        *)
                [ -z "$builddir" ] || usage
                builddir=$1
                shift
                ;;
        esac
done
[ -n "$builddir" ] || usage
case $runs in '' | *[!0-9]*) usage ;; esac
if [ "$runs" -lt 1 ] || [ "$runs" -gt 100 ]; then
        usage
fi

# The peers: column id, program, Debian package.
peer_table="mergerfs:mergerfs:mergerfs unionfs:unionfs:unionfs-fuse overlayfs:fuse-overlayfs:fuse-overlayfs bindfs:bindfs:bindfs"

# ---- outside: install the peers, then enter the namespaces -------------------------
bench_builddir "$builddir"
if bench_outside; then
        # The build directory may be in the middle of a rebuild.
        bench_wait_for_build=60
        bench_need bindlinkd bindlinkctl bindlink-overlay bench/bench_merged bench/bench_coherence
        bench_need_tools dd
        # Install the peers that are missing (Debian packages). A peer that cannot be
        # installed gets no column; the table says so.
        missing_pkgs=
        for p in $peer_table; do
                prog=${p#*:}
                prog=${prog%%:*}
                command -v "$prog" >/dev/null || missing_pkgs="$missing_pkgs ${p##*:}"
        done
        if [ -n "$missing_pkgs" ]; then
                if command -v apt-get >/dev/null; then
                        echo "merged.sh: installing$missing_pkgs (apt-get)" >&2
                        log=$(mktemp) || exit 1
                        # shellcheck disable=SC2086 # a list of package names
                        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y $missing_pkgs \
                                >"$log" 2>&1; then
                                DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1
                                for pkg in $missing_pkgs; do
                                        DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" \
                                                >>"$log" 2>&1 ||
                                                echo "merged.sh: apt-get install $pkg failed" >&2
                                done
                        fi
                        rm -f "$log"
                else
                        echo "merged.sh: no apt-get; cannot install$missing_pkgs" >&2
                fi
        fi
        peers=
        skipped=
        for p in $peer_table; do
                prog=${p#*:}
                prog=${prog%%:*}
                if command -v "$prog" >/dev/null; then
                        peers="$peers ${p%%:*}"
                else
                        skipped="$skipped ${p##*:}"
                fi
        done
        export BINDLINK_BENCH_PEERS="$peers" BINDLINK_BENCH_SKIPPED="$skipped"
fi
bench_enter "$builddir" --runs "$runs" ${quick:+--quick}

# ---- inside: PID 1 of a new PID namespace, in a private mount namespace ------------
peers=$BINDLINK_BENCH_PEERS
skipped=$BINDLINK_BENCH_SKIPPED
B=$dir/B
V=$dir/V
VB=$dir/VB
U=$dir/upper
W=$dir/work
# seconds for one bench_merged call (a round on one column; the slowest take about 30 s)
bench_timeout=${BINDLINK_BENCH_TIMEOUT:-180}
watchdog_pid=
peer_pid=
peer_mp=
bind_made=
merged_made=

# The fixture. Names: cN in both B and V (B wins), bN only in B, vN only in V. Every
# file is 4 KiB; its first byte is 'B' in B and 'V' in V.
if [ -n "$quick" ]; then
        top=1000 top_common=200 sub=200 sub_common=100 big_mib=64 creates=1000 opens=10000
        samples=4
else
        top=5000 top_common=1000 sub=1000 sub_common=500 big_mib=1024 creates=5000 opens=100000
        samples=10
fi
entries_B=$((top + 2))                    # the files, sub/, big
entries_V=$((top + 1))                    # the files, sub/
entries_U=$((2 * top - top_common + 2))   # the union: files, sub/, big
files_B=$((top + sub))                    # the 4 KiB files in B and B/sub
files_U=$((2 * top - top_common + 2 * sub - sub_common))
big_bytes=$((big_mib * 1048576))

# note TEXT: a numbered note under the table; sets note_id.
note_count=0
note() {
        note_count=$((note_count + 1))
        note_id=$note_count
        printf '%s\n' "$1" | tr '\n' ' ' | sed 's/ *$//' >>"$dir/notes"
        echo >>"$dir/notes"
}

# (bench/lib.sh has stopped the benchmark, or given up on it after 5 s: one blocked
# in a FUSE request goes only when its server does.)
# shellcheck disable=SC2317 # run by the EXIT trap
bench_teardown() {
        [ -n "$watchdog_pid" ] && kill -TERM "$watchdog_pid" 2>/dev/null
        for link in ${bind_made:+"$VB"} ${merged_made:+"$V"}; do
                bench_remove_link "$link"
        done
}

mkdir "$B" "$B/sub" "$V" "$V/sub" "$VB" "$dir/mnt" "$dir/mnt/mergerfs" \
        "$dir/mnt/unionfs" "$dir/mnt/overlayfs" "$dir/mnt/bindfs" || exit 1
: >"$dir/notes"

# ---- the fixture ------------------------------------------------------------------
t0=$(date +%s)
bench_make_files "$B" c 0 "$top_common" B
bench_make_files "$B" b "$top_common" "$top" B
bench_make_files "$V" c 0 "$top_common" V
bench_make_files "$V" v "$top_common" "$top" V
bench_make_files "$B/sub" c 0 "$sub_common" B
bench_make_files "$B/sub" b "$sub_common" "$sub" B
bench_make_files "$V/sub" c 0 "$sub_common" V
bench_make_files "$V/sub" v "$sub_common" "$sub" V
# Real data (not a hole): 1 MiB of zeros written big_mib times.
dd if=/dev/zero of="$B/big" bs=1M count="$big_mib" status=none || exit 1
# The names the workloads use, from the branches, before anything is mounted.
(cd "$B" && find . -type f ! -name big) | sed 's|^\./||' | sort >"$dir/names.B"
{
        (cd "$B" && find . -type f ! -name big)
        (cd "$V" && find . -type f)
} | sed 's|^\./||' | sort -u >"$dir/names.U"
echo "fixture made in $(($(date +%s) - t0)) s" >&2
if [ "$(wc -l <"$dir/names.B")" -ne "$files_B" ] || [ "$(wc -l <"$dir/names.U")" -ne "$files_U" ]; then
        echo "merged.sh: the fixture is not as planned" >&2
        exit 1
fi

# Is the fixture as made? (After each column: a peer could leave files behind.)
count_entries() {
        n=0
        for _e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
                [ -e "$_e" ] || [ -L "$_e" ] || continue
                n=$((n + 1))
        done
}
check_fixture() { # COLUMN ROUND
        bad=
        count_entries "$B"
        [ "$n" -eq "$entries_B" ] || bad="$bad B has $n entries (expected $entries_B);"
        count_entries "$V"
        [ "$n" -eq "$entries_V" ] || bad="$bad V has $n entries (expected $entries_V);"
        count_entries "$B/sub"
        [ "$n" -eq "$sub" ] || bad="$bad B/sub has $n entries (expected $sub);"
        count_entries "$V/sub"
        [ "$n" -eq "$sub" ] || bad="$bad V/sub has $n entries (expected $sub);"
        if [ -n "$bad" ]; then
                extra=$(cd "$dir" && find B V -mindepth 1 -maxdepth 2 \
                        ! -regex '[BV]/\(sub/\)?[bcv][0-9]*' ! -name sub ! -path B/big | head -n 5 | tr '\n' ' ')
                echo "merged.sh: after $(colname "$1"), round $2:$bad extra: $extra" >&2
                note "After $(colname "$1") (round $2) the branches had changed:$bad extra entries: ${extra:-none}"
                return 1
        fi
        return 0
}

# ---- the daemon -------------------------------------------------------------------
bench_start_daemon

# ---- the columns ------------------------------------------------------------------
columns="native bind merged mergedro mergerfs unionfs overlayfs bindfs"
mergerfs_opts=cache.files=off,category.create=ff,dropcacheonclose=true
unionfs_opts=cow
bindfs_opts=multithreaded

colname() {
        case $1 in
        native) echo "native (B)" ;;
        bind) echo "bind link" ;;
        merged) echo "bindlink merged" ;;
        mergedro) echo "bindlink merged, read-only" ;;
        mergerfs) echo "mergerfs" ;;
        unionfs) echo "unionfs-fuse" ;;
        overlayfs) echo "fuse-overlayfs" ;;
        bindfs) echo "bindfs" ;;
        esac
}

# State of each column: ok, na (not implemented yet), missing (not installed),
# broken (failed in an earlier round; its text is in the notes).
for c in $columns; do
        eval "state_$c=ok"
done
for c in mergerfs unionfs overlayfs bindfs; do
        case " $peers " in *" $c "*) ;; *) eval "state_$c=missing" ;; esac
done
state() { eval "echo \$state_$1"; }
set_state() { eval "state_$1=\$2"; }

# col_setup COLUMN: what the workloads see. target: the directory; names: which
# files; land: where created files must land; expect: readdir entry count.
col_setup() {
        case $1 in
        native | bind | bindfs) names=$dir/names.B expect=$entries_B ;;
        *) names=$dir/names.U expect=$entries_U ;;
        esac
        land=$B
        case $1 in
        native) target=$B ;;
        bind) target=$VB ;;
        merged | mergedro) target=$V ;;
        overlayfs) target=$dir/mnt/$1 land=$U ;;
        *) target=$dir/mnt/$1 ;;
        esac
}

# start_peer COLUMN COMMAND...: start a peer's FUSE server in the foreground (-f, so
# that its pid is ours to stop) and wait until its mount is there.
start_peer() {
        col=$1
        shift
        "$@" >>"$dir/log.$col" 2>&1 &
        peer_pid=$!
        peer_mp=$target
        bench_wait "$peer_pid" 10 bench_mounted_at "$peer_mp"
        case $? in
        1)
                wait "$peer_pid" 2>/dev/null
                note "$(colname "$col") did not mount ($*): $(tail -n 3 "$dir/log.$col")"
                peer_pid='' peer_mp=
                return 1
                ;;
        2)
                note "$(colname "$col") did not mount within 10 s ($*)"
                stop_peer "$col"
                return 1
                ;;
        esac
        return 0
}

# stop_peer COLUMN: unmount, and the server must exit within 5 s (else it is killed).
stop_peer() {
        if [ -n "$peer_mp" ] && findmnt --mountpoint "$peer_mp" >/dev/null; then
                if ! umount "$peer_mp" 2>>"$dir/log.$1"; then
                        note "$(colname "$1"): umount failed ($(tail -n 1 "$dir/log.$1")); detached it"
                        kill -KILL "$peer_pid" 2>/dev/null
                        umount -l "$peer_mp" 2>/dev/null
                fi
        fi
        i=0
        while [ -n "$peer_pid" ] && alive "$peer_pid" && [ "$i" -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        if [ -n "$peer_pid" ] && alive "$peer_pid"; then
                note "$(colname "$1"): its server did not exit within 5 s of the unmount; killed it"
                kill -KILL "$peer_pid" 2>/dev/null
        fi
        [ -n "$peer_pid" ] && wait "$peer_pid" 2>/dev/null
        peer_pid='' peer_mp=
}

merged_fs=
merged_count=0
# mount_col COLUMN ROUND: make the column's view afresh. Fails (status 1) with its
# state set if the column cannot be measured; exits if bindlink misbehaves.
mount_col() {
        case $1 in
        native) ;;
        bind)
                if ! ctl create "$VB" "$B"; then
                        echo "merged.sh: bindlinkctl create $VB $B failed" >&2
                        exit 1
                fi
                bind_made=1
                fs=$(findmnt -n -o FSTYPE --mountpoint "$VB")
                if [ "$fs" != tmpfs ]; then
                        echo "merged.sh: expected a bind mount (tmpfs) on $VB, found '$fs'" >&2
                        exit 1
                fi
                ;;
        merged | mergedro)
                # The overlay program may be in the middle of a rebuild.
                i=0
                while [ ! -x "$builddir/bindlink-overlay" ] && [ "$i" -lt 30 ]; do
                        sleep 1
                        i=$((i + 1))
                done
                ro=
                [ "$1" = mergedro ] && ro=--read-only
                out=$(ctl create --merged $ro "$V" "$B" 2>&1)
                r=$?
                if [ "$r" -ne 0 ]; then
                        case $out in
                        *0x80004001* | *E_NOTIMPL* | *"ot implemented"*)
                                set_state "$1" na
                                note "$(colname "$1"): n/a, 'bindlinkctl create --merged $ro V B' fails: $out"
                                ;;
                        *)
                                set_state "$1" broken
                                note "$(colname "$1"): 'bindlinkctl create --merged $ro V B' failed (status $r) in round $2: $out"
                                ;;
                        esac
                        return 1
                fi
                merged_made=1
                merged_count=$((merged_count + 1))
                merged_fs=$(findmnt -n -o FSTYPE --mountpoint "$V") || merged_fs="no mount on V"
                ;;
        mergerfs)
                start_peer mergerfs mergerfs -f -o "$mergerfs_opts" "$B:$V" "$target" || {
                        set_state mergerfs broken
                        return 1
                }
                ;;
        unionfs)
                start_peer unionfs unionfs -f -o "$unionfs_opts" "$B=RW:$V=RO" "$target" || {
                        set_state unionfs broken
                        return 1
                }
                ;;
        overlayfs)
                rm -rf "$U" "$W" && mkdir "$U" "$W" || exit 1
                start_peer overlayfs fuse-overlayfs -f -o "lowerdir=$B:$V,upperdir=$U,workdir=$W" \
                        "$target" || {
                        set_state overlayfs broken
                        return 1
                }
                ;;
        bindfs)
                start_peer bindfs bindfs -f -o "$bindfs_opts" "$B" "$target" || {
                        set_state bindfs broken
                        return 1
                }
                ;;
        esac
        return 0
}

# umount_col COLUMN ROUND: take the column's view down again; check the branches.
umount_col() {
        case $1 in
        native) ;;
        bind)
                if ! ctl remove "$VB"; then
                        echo "merged.sh: bindlinkctl remove $VB failed" >&2
                        exit 1
                fi
                bind_made=
                if findmnt --mountpoint "$VB" >/dev/null; then
                        echo "merged.sh: $VB is still a mount point after bindlinkctl remove" >&2
                        exit 1
                fi
                ;;
        merged | mergedro)
                bench_overlay_servers
                if ! ctl remove "$V"; then
                        echo "merged.sh: bindlinkctl remove $V failed" >&2
                        exit 1
                fi
                merged_made=
                if ! bench_wait_overlay_gone "$V"; then
                        echo "merged.sh: 5 s after bindlinkctl remove $V, the merged view is still there:" >&2
                        findmnt -R "$dir" >&2
                        for pid in $servers; do
                                alive "$pid" && echo "  server $pid still running (state $st)" >&2
                        done
                        exit 1
                fi
                ;;
        *)
                stop_peer "$1"
                if [ "$1" = overlayfs ]; then
                        left=$(find "$U" -mindepth 1 | head -n 5 | tr '\n' ' ')
                        [ -n "$left" ] && note "fuse-overlayfs left entries in its upper directory after round $2: $left"
                fi
                ;;
        esac
        if ! check_fixture "$1" "$2"; then
                # Later rounds would measure something else: stop measuring this column.
                [ "$1" = native ] || [ "$1" = bind ] || [ "$1" = merged ] || [ "$1" = mergedro ] && exit 1
                set_state "$1" broken
        fi
}

# watchdog COLUMN BENCH_PID, in the background: if the benchmark still runs after
# bench_timeout s, it reports where every process is and breaks the hang. A process
# waiting for a FUSE answer cannot be killed (not even on its way out: its last close
# waits for FLUSH), so timeout(1) is not enough; killing the column's FUSE server
# closes /dev/fuse, which aborts the connection and fails every pending request.
# Told to stop (SIGTERM) when the benchmark ends in time.
watchdog() {
        sleep "$bench_timeout" &
        sleep_pid=$!
        trap 'kill "$sleep_pid" 2>/dev/null; exit 0' TERM
        wait "$sleep_pid"
        trap - TERM
        : >"$dir/hung"
        echo "merged.sh: bench_merged on $(colname "$1") did not finish in $bench_timeout s" \
                "(a hang?); the processes:" >&2
        describe_all
        case $1 in
        native | bind) ;;
        merged | mergedro)
                bench_overlay_servers
                for pid in $servers; do
                        kill -KILL "$pid" 2>/dev/null
                done
                ;;
        *) [ -n "$peer_pid" ] && kill -KILL "$peer_pid" 2>/dev/null ;;
        esac
        kill -KILL "$2" 2>/dev/null
}

# run_watched COLUMN COMMAND...: run a benchmark program on the column's view under
# the watchdog; its output goes to $dir/out and $dir/err and is added to the
# column's results; its status in r.
run_watched() {
        col=$1
        shift
        "$@" >"$dir/out" 2>"$dir/err" &
        bench_pid=$!
        watchdog "$col" "$bench_pid" &
        watchdog_pid=$!
        wait "$bench_pid"
        r=$?
        kill -TERM "$watchdog_pid" 2>/dev/null
        wait "$watchdog_pid" 2>/dev/null
        bench_pid='' watchdog_pid=''
        cat "$dir/out" >>"$dir/res.$col"
}

# run_listing_cold COLUMN: the first listing of the column's view, freshly made (its
# own mount: the workloads of run_bench begin with a first stat on empty caches).
run_listing_cold() {
        col_setup "$1"
        rm -f "$dir/hung"
        run_watched "$1" "$builddir/bench/bench_merged" --names "$names" "$target" readdircold
}

# run_bench COLUMN ROUND: one round of every workload on the column's view.
run_bench() {
        col_setup "$1"
        rm -f "$dir/hung"
        # A read-only merged view puts new names in V's original, hidden under it:
        # no create there.
        create=create
        [ "$1" = mergedro ] && create=
        # shellcheck disable=SC2086 # $create: one word or none
        run_watched "$1" "$builddir/bench/bench_merged" --names "$names" --land "$land" \
                --hot c0 --big big --creates "$creates" --opens "$opens" --drop-caches "$target" \
                statfirst stat readdir read $create openclose readcold readwarm
        # How long a change made directly in B takes to show through the view.
        if [ "$r" -eq 0 ] && [ ! -e "$dir/hung" ]; then
                run_watched "$1" "$builddir/bench/bench_coherence" --layer "$B" \
                        --samples "$samples" "$target" create delete rename write
                [ "$r" -eq 0 ] || [ -e "$dir/hung" ] || echo "bench_coherence: status $r" >"$dir/err"
        fi
        if [ "$r" -ne 0 ] || [ -e "$dir/hung" ]; then
                if [ -e "$dir/hung" ]; then
                        why="did not finish in $bench_timeout s (a hang?; stopped by killing its FUSE server)"
                else
                        why="failed (status $r: $(head -c 300 "$dir/err"))"
                fi
                note "$(colname "$1"), round $2: bench_merged $why after: $(tail -n 1 "$dir/out")"
                case $1 in native | bind | merged | mergedro) exit 1 ;; esac
                set_state "$1" broken
        fi
}

bench_machine
libfuse=$(pkg-config --modversion fuse3 2>/dev/null) || libfuse=unknown
started_at=$(date '+%Y-%m-%d %H:%M:%S %z')

# ---- the rounds -------------------------------------------------------------------
# Every round measures every column once, on a view mounted afresh; the column that
# goes first rotates from round to round, so that drift on a busy machine does not
# fall on one column only.
round=1
while [ "$round" -le "$runs" ]; do
        # The column list, rotated by round-1.
        order=
        k=0
        ncol=0
        for c in $columns; do ncol=$((ncol + 1)); done
        first=$(((round - 1) % ncol + 1))
        for c in $columns $columns; do
                k=$((k + 1))
                [ "$k" -ge "$first" ] || continue
                case " $order " in *" $c "*) continue ;; esac
                order="$order $c"
        done
        printf 'round %s/%s:' "$round" "$runs" >&2
        for c in $order; do
                [ "$(state "$c")" = ok ] || continue
                col_setup "$c"
                mount_col "$c" "$round" || continue
                t0=$(date +%s)
                run_bench "$c" "$round"
                umount_col "$c" "$round"
                if [ ! -e "$dir/hung" ] && [ "$(state "$c")" = ok ] && mount_col "$c" "$round"; then
                        run_listing_cold "$c"
                        umount_col "$c" "$round"
                fi
                printf ' %s (%ss)' "$c" "$(($(date +%s) - t0))" >&2
        done
        echo >&2
        round=$((round + 1))
done

# ---- the table --------------------------------------------------------------------
# stats COLUMN WORKLOAD: n (good runs), e (errors), med (median total us), per
# (median us per operation), counts (the distinct operation counts).
stats() {
        n=0 e=0 med='' per='' counts=
        [ -f "$dir/res.$1" ] || return 0
        # shellcheck disable=SC2046
        set -- $(awk -v w="$2" '
                function sort(a, k,   i, j, t) {
                        for (i = 2; i <= k; i++) {
                                t = a[i]
                                for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
                                a[j + 1] = t
                        }
                }
                function median(a, k) { sort(a, k); return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
                $1 == w {
                        if ($2 == "error") { e++; next }
                        n++; t[n] = $2; p[n] = $2 / $3
                        if (!($3 in seen)) { seen[$3] = 1; c = c (c == "" ? "" : ",") $3 }
                }
                END {
                        if (n) printf "%d %d %.3f %.6f %s\n", n, e, median(t, n), median(p, n), c
                        else printf "0 %d - - -\n", e
                }' "$dir/res.$1")
        n=$1 e=$2 med=$3 per=$4 counts=$5
}

fmt() { # VALUE UNIT: a number with 3 significant digits or so
        awk -v v="$1" -v u="$2" 'BEGIN {
                f = v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f"
                printf f " %s", v, u }'
}

# cell COLUMN WORKLOAD KIND: the text of one cell; KIND "total" shows the total time
# in ms, "per" the time per operation in us. The ratio is always per operation.
cell() {
        s=$(state "$1")
        stats "$1" "$2"
        if [ "$n" -eq 0 ] && [ "$e" -eq 0 ]; then
                case $s in
                na) text="n/a" ;;
                missing) text="not installed" ;;
                *) text="-" ;;
                esac
                return
        fi
        if [ "$e" -gt 0 ]; then
                msg=$(grep "^$2 error " "$dir/res.$1" | head -n 1 | cut -d' ' -f3-)
                note "$(colname "$1"), $2: $e of $((n + e)) runs failed: $msg"
                text="ERROR (note $note_id)"
                return
        fi
        col_setup "$1"
        case $2 in
        readdir | readdircold)
                if [ "$counts" != "$expect" ]; then
                        text="ERROR: $counts entries, expected $expect"
                        return
                fi
                ;;
        readcold | readwarm)
                if [ "$counts" != "$big_bytes" ]; then
                        text="ERROR: read $counts bytes, expected $big_bytes"
                        return
                fi
                ;;
        esac
        if [ "$3" = total ]; then
                text=$(fmt "$(awk -v t="$med" 'BEGIN { print t / 1000 }')" ms)
        else
                text=$(fmt "$per" us)
        fi
        [ "$n" -lt "$runs" ] && text="$text [$n runs]"
        stats native "$2"
        if [ "$n" -gt 0 ] && [ "$per" != - ]; then
                base=$per
                stats "$1" "$2"
                text="$text ($(awk -v a="$per" -v b="$base" 'BEGIN {
                        r = a / b; printf(r >= 10 ? "%.1fx" : "%.2fx", r) }'))"
        fi
        # B alone, not the union: fewer entries.
        case $2 in readdir | readdircold) [ "$expect" -ne "$entries_U" ] && text="$text *" ;; esac
        return 0
}

# latency COLUMN CHANGE: p50 / p99 of every sample of every round, in ms.
latency() {
        s=$(state "$1")
        if [ ! -f "$dir/res.$1" ] || ! grep -q "^$2 " "$dir/res.$1"; then
                case $s in
                na) text="n/a" ;;
                missing) text="not installed" ;;
                *) text="-" ;;
                esac
                return
        fi
        if grep -q "^$2 error " "$dir/res.$1"; then
                msg=$(grep "^$2 error " "$dir/res.$1" | head -n 1 | cut -d' ' -f3-)
                note "$(colname "$1"), change in B ($2): $msg"
                text="ERROR (note $note_id)"
                return
        fi
        text=$(awk -v w="$2" '
                $1 == w { n++; t[n] = $2 / 1000 }
                $1 == w "-late" { late++ }
                END {
                        for (i = 2; i <= n; i++) { v = t[i]; for (j = i - 1; j >= 1 && t[j] > v; j--) t[j + 1] = t[j]; t[j + 1] = v }
                        p50 = t[int((n + 1) / 2)]; k = int(n * 0.99 + 0.999); if (k < 1) k = 1; p99 = t[k]
                        f50 = p50 >= 10 ? "%.0f" : p50 >= 1 ? "%.1f" : "%.2f"
                        f99 = p99 >= 10 ? "%.0f" : p99 >= 1 ? "%.1f" : "%.2f"
                        printf f50 " / " f99 " ms", p50, p99
                        if (late) printf " (%d of %d not shown in 3 s)", late, n
                }' "$dir/res.$1")
}

lat_row() { # LABEL CHANGE
        line=$1
        for c in $columns; do
                latency "$c" "$2"
                line="$line	$text"
        done
        printf '%s\n' "$line"
}

row() { # LABEL WORKLOAD KIND
        line=$1
        for c in $columns; do
                cell "$c" "$2" "$3"
                line="$line	$text"
        done
        printf '%s\n' "$line"
}

big_label="${big_mib} MiB"
[ "$big_mib" -eq 1024 ] && big_label="1 GiB"
{
        header="workload"
        for c in $columns; do
                header="$header	$(colname "$c")"
        done
        printf '%s\n' "$header"
        row "1. readdir of the top directory, warm (ms; ratio per entry)" readdir total
        row "2. stat every file, first time (us per file)" statfirst per
        row "3. stat every file, cached (us per file)" stat per
        row "4. open+read 4 KiB+close every file, cached (us per file)" read per
        row "5. read the $big_label file, cold (ms)" readcold total
        row "6. read the $big_label file, warm (ms)" readwarm total
        row "7. create+write 4 KiB+close $creates files (us per file)" create per
        row "8. open+close one file $opens times (us per open+close)" openclose per
        lat_row "9. a file made in B, until seen through the view (p50 / p99)" coh-create
        lat_row "10. a file of B deleted in B, until gone from the view" coh-delete
        lat_row "11. a file of B renamed in B, until the view shows the new name only" coh-rename
        lat_row "12. a file of B rewritten in B (4 -> 8 bytes), until the view reads it" coh-write
        row "13. readdir of the top directory, cold: a fresh view's first listing (ms)" readdircold total
} >"$dir/table"

echo "bindlink merged-link benchmark: $started_at, load average $l1 $l5 $l15 at the start"
echo "machine: ${cpu:-unknown CPU}, $(nproc) CPU(s), kernel $(uname -r), libfuse $libfuse (fuse3)"
versions=
command -v mergerfs >/dev/null &&
        versions="$versions, mergerfs $(mergerfs --version 2>&1 | sed -n 's/^mergerfs version: //p' | head -n 1) (own libfuse)"
if command -v unionfs >/dev/null; then
        lf=$(ldd "$(command -v unionfs)" 2>/dev/null | grep -o 'libfuse[0-9]*\.so\.[0-9]*' | head -n 1)
        versions="$versions, unionfs-fuse $(unionfs --version 2>&1 | sed -n 's/^unionfs-fuse version: //p;s/^unionfs: *//p' | head -n 1) ($lf)"
fi
if command -v fuse-overlayfs >/dev/null; then
        lf=$(ldd "$(command -v fuse-overlayfs)" 2>/dev/null | grep -o 'libfuse[0-9]*\.so\.[0-9]*' | head -n 1)
        versions="$versions, fuse-overlayfs $(fuse-overlayfs --version 2>&1 | sed -n 's/^fuse-overlayfs: version //p' | head -n 1) ($lf)"
fi
if command -v bindfs >/dev/null; then
        lf=$(ldd "$(command -v bindfs)" 2>/dev/null | grep -o 'libfuse[0-9]*\.so\.[0-9]*' | head -n 1)
        versions="$versions, bindfs $(bindfs --version 2>&1 | sed -n 's/^bindfs //p' | head -n 1) ($lf)"
fi
[ -n "$versions" ] && echo "peers: ${versions#, }"
echo "(tmpfs; B: $top files of 4 KiB + sub/ with $sub + a $big_label file; V: $top + sub/ with $sub;"
echo " $top_common top-level and $sub_common sub/ names in both. Each cell: median of $runs rounds,"
echo " every round on a freshly made link or mount; in parentheses the ratio to native per"
echo " operation: per file, per entry for readdir.)"
echo
bench_table <"$dir/table"
echo
counts_line="readdir entries counted:"
for c in $columns; do
        stats "$c" readdir
        [ "$n" -gt 0 ] && counts_line="$counts_line $(colname "$c") $counts,"
        [ "$c" = mergedro ] && counts_line="$counts_line
 "
done
echo "${counts_line%,}."
echo "Expected: $entries_B for B alone (marked * in the table), $entries_U for the union."
echo "Files stat'ed and read: $files_B for native, bind link and bindfs (B's files);"
echo "$files_U for the unions (B's and V's: top level and sub/)."
echo "native: B itself on tmpfs; its dentries and pages cannot be dropped, so its \"first"
echo "  time\" and \"cold\" are cached too. bind link: bindlinkctl create VB B (a bind mount)."
if [ "$(state merged)" = na ]; then
        echo "bindlink merged: n/a: bindlinkctl create --merged is not implemented in this build."
else
        echo "bindlink merged: bindlinkctl create --merged V B (${merged_fs:-not mounted}), worked on through V;"
        echo "  its files are read and written by FUSE passthrough where the kernel has it (>= 6.9)."
        echo "bindlink merged, read-only: bindlinkctl create --merged --read-only V B, the same way."
        echo "  No create: its new names go to V."
fi
echo "mergerfs: mergerfs -f -o $mergerfs_opts B:V MNT."
echo "unionfs-fuse: unionfs -f -o $unionfs_opts B=RW:V=RO MNT."
echo "fuse-overlayfs: fuse-overlayfs -f -o lowerdir=B:V,upperdir=U,workdir=W MNT (U, W on the same"
echo "  tmpfs, emptied each round); its creates land in U, not in B."
echo "bindfs: bindfs -f -o $bindfs_opts B MNT: B alone, not a union (B's entries and files)."
echo "Created files must land in B (in U for fuse-overlayfs); they are unlinked through the"
echo "view after each run. Rows 9-12: each change made $samples times a round directly in B"
echo "(fuse-overlayfs: one of its lower directories) on a name the view was just asked about,"
echo "then the view polled every 20 us until it shows it (bench_coherence); p50 and p99 of"
echo "every sample of every round."
echo "view after each run. The big file is read in 128 KiB read(2) calls. Cold: echo 3"
echo ">/proc/sys/vm/drop_caches first; tmpfs keeps its data in memory, so this drops only the"
echo "FUSE page cache (and dentries and inodes)."
[ -n "$skipped" ] && echo "Not installed, so no column:$skipped."
i=0
while IFS= read -r line; do
        [ -n "$line" ] || continue
        i=$((i + 1))
        echo "note $i: $line"
done <"$dir/notes"
echo
if [ -n "${BINDLINK_BENCH_VERBOSE:-}" ]; then
        echo "raw results (column: workload, us, operations):"
        for c in $columns; do
                [ -f "$dir/res.$c" ] && sed "s/^/$c: /" "$dir/res.$c"
        done
        echo
fi
exit 0
