#!/bin/sh
# workloads.sh BUILDDIR [--runs N] [--quick] — real workloads through a merged link
# and through the union filesystems, side by side (see README.md, "Merged links vs.
# union filesystems").
#
# Needs root. Like merged.sh it runs in a private mount and PID namespace on a tmpfs
# of its own, with a bindlinkd of its own (bench/lib.sh), and installs the peers it
# compares with if they are missing (mergerfs, unionfs-fuse, fuse-overlayfs; git,
# gcc, make, tar). The fixture, made once:
#
#   B/tree   100,000 files of 100 bytes in 1,000 directories (--quick: 10,000 in 100)
#   V/tree   the first 100 of those directories again, 10 files each of V's own
#            (so 100 directories are merged) and 10 directories of V's only
#   B/repo   a git checkout of 50,000 files in 500 directories, committed (5,000)
#   B/src    this project's C sources and a Makefile that compiles them (-O2)
#   a tar    of 20,000 files of 100 bytes in 200 directories (2,000), outside B and V
#
# Columns: native (B itself), bindlink merged (bindlinkctl create --merged V B),
# kernel overlayfs (lowerdir=B:V, upper and work directories on the same tmpfs: its
# rules differ — writes land in the upper directory — but it shows the same tree),
# mergerfs (B:V, create=ff), fuse-overlayfs (lowerdir=B:V, upperdir), unionfs-fuse
# (B=RW:V=RO). Each round mounts every column afresh and times, cold (right after the
# mount, after echo 3 >/proc/sys/vm/drop_caches) and warm (the same workload again at
# once):
#
#   ls -lR tree, find tree -ls, du -s tree, git status in repo, tar -x into a new
#   directory (untimed removal after), make -j2 in src (untimed make clean before).
#
# It prints one table of medians in ms with the ratio to native, and cleans up as
# merged.sh does.
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
        echo "usage: $0 BUILDDIR [--runs N] [--quick]" >&2
        exit 2
}

builddir=
runs=2
quick=
while [ $# -gt 0 ]; do
        case $1 in
        --runs)
                [ $# -ge 2 ] || usage
                runs=$2
                shift 2
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
[ "$runs" -ge 1 ] && [ "$runs" -le 20 ] || usage

srcdir=$(cd "$(dirname "$0")/.." && pwd)
peer_table="mergerfs:mergerfs:mergerfs unionfs:unionfs:unionfs-fuse fuseovl:fuse-overlayfs:fuse-overlayfs"

bench_builddir "$builddir"
if bench_outside; then
        bench_need bindlinkd bindlinkctl bindlink-overlay
        missing=
        for p in $peer_table; do
                prog=${p#*:}
                prog=${prog%%:*}
                command -v "$prog" >/dev/null || missing="$missing ${p##*:}"
        done
        for t in git:git gcc:gcc make:make tar:tar; do
                command -v "${t%%:*}" >/dev/null || missing="$missing ${t#*:}"
        done
        if [ -n "$missing" ]; then
                echo "workloads.sh: installing$missing (apt-get)" >&2
                DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >/dev/null 2>&1 ||
                        echo "workloads.sh: apt-get install$missing failed" >&2
        fi
        bench_need_tools git gcc make tar
        export BINDLINK_BENCH_SRCDIR="$srcdir"
fi
bench_enter "$builddir" --runs "$runs" ${quick:+--quick}
srcdir=$BINDLINK_BENCH_SRCDIR

B=$dir/B
V=$dir/V
U=$dir/upper
W=$dir/work
M=$dir/mnt
merged_made=
peer_pid=

if [ -n "$quick" ]; then
        tree_dirs=100 repo_dirs=50 tar_dirs=20
else
        tree_dirs=1000 repo_dirs=500 tar_dirs=200
fi

bench_teardown() {
        [ -n "$merged_made" ] && bench_remove_link "$V"
        [ -n "$peer_pid" ] && kill -TERM "$peer_pid" 2>/dev/null
}

# make_tree DIR DIRS FILES PREFIX: DIRS directories of FILES files of 100 bytes.
make_tree() {
        python3 - "$@" <<'PY' || exit 1
import os, sys
top, dirs, files, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = b"x" * 99 + b"\n"
for d in range(dirs):
    p = os.path.join(top, "d%04d" % d)
    os.makedirs(p, exist_ok=True)
    for f in range(files):
        with open(os.path.join(p, "%s%03d" % (prefix, f)), "wb") as fh:
            fh.write(data)
PY
}

t0=$(date +%s)
mkdir -p "$B/tree" "$V/tree" "$B/repo" "$B/src" "$M" "$dir/tarsrc" || exit 1
make_tree "$B/tree" "$tree_dirs" 100 f
make_tree "$V/tree" 100 10 v
make_tree "$V/tree/vonly" 10 10 w
make_tree "$B/repo" "$repo_dirs" 100 r
(cd "$B/repo" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost \
        commit -qm fixture) || exit 1
# As a checkout looks once its index is older than its files: a status in the second
# the files were written finds every entry "racy" and reads every file again.
sleep 1
git -C "$B/repo" status --porcelain >/dev/null || exit 1
make_tree "$dir/tarsrc" "$tar_dirs" 100 t
(cd "$dir/tarsrc" && tar -cf "$dir/small.tar" .) || exit 1
# The C project: this project's sources, and a Makefile for the files that compile
# here (tried once on B, untimed).
(cd "$srcdir" && tar -cf - common daemon overlay include lib) | (cd "$B/src" && tar -xf -) || exit 1
# The build's -D options (configure's DEFS) as a header.
sed -n 's/^DEFS = //p' "$builddir/Makefile" | tr ' ' '\n' | sed -n 's/^-D\([^=]*\)=\(.*\)$/#define \1 \2/p' |
        sed 's/\\"/"/g; s/\\ / /g' >"$B/src/defs.h"
incs=$(cd "$B/src" && find . -type d ! -name . | sed 's|^\./|-I|' | tr '\n' ' ')
pkgs=$(pkg-config --cflags fuse3 mount libcap 2>/dev/null)
srcs=
for f in $(cd "$B/src" && find . -name '*.c' | sort); do
        # shellcheck disable=SC2086
        (cd "$B/src" && gcc -std=gnu11 -D_GNU_SOURCE -include defs.h $incs $pkgs -c -o /dev/null "$f") \
                2>/dev/null && srcs="$srcs ${f#./}"
done
{
        echo "CFLAGS = -O2 -std=gnu11 -D_GNU_SOURCE -include defs.h $incs $pkgs"
        echo "OBJS =$(echo "$srcs" | sed 's/\.c/.o/g')"
        echo 'all: $(OBJS)'
        printf '%%.o: %%.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n'
        printf 'clean:\n\trm -f $(OBJS)\n'
} >"$B/src/Makefile"
objs=$(echo "$srcs" | wc -w)
tree_files=$(find "$B/tree" "$V/tree" -type f | wc -l)
repo_files=$(cd "$B/repo" && git ls-files | wc -l)
echo "fixture made in $(($(date +%s) - t0)) s: tree $tree_files files, repo $repo_files, src $objs objects" >&2

bench_start_daemon

columns="native merged kovl mergerfs fuseovl unionfs"
colname() {
        case $1 in
        native) echo "native (B)" ;;
        merged) echo "bindlink merged" ;;
        kovl) echo "kernel overlayfs" ;;
        mergerfs) echo "mergerfs" ;;
        fuseovl) echo "fuse-overlayfs" ;;
        unionfs) echo "unionfs-fuse" ;;
        esac
}
: >"$dir/notes"
note() { echo "$*" >>"$dir/notes"; }

# mount_col COLUMN: target=where the column's tree is; status 1 if it cannot mount.
mount_col() {
        case $1 in
        native) target=$B ;;
        merged)
                target=$V
                ctl create --merged "$V" "$B" >/dev/null || return 1
                merged_made=1
                ;;
        kovl)
                target=$M
                rm -rf "$U" "$W" && mkdir "$U" "$W" || exit 1
                mount -t overlay overlay -o "lowerdir=$B:$V,upperdir=$U,workdir=$W" "$M" || return 1
                ;;
        *)
                target=$M
                case $1 in
                mergerfs) set -- mergerfs -f -o cache.files=off,category.create=ff,dropcacheonclose=true "$B:$V" "$M" ;;
                unionfs) set -- unionfs -f -o cow "$B=RW:$V=RO" "$M" ;;
                fuseovl)
                        rm -rf "$U" "$W" && mkdir "$U" "$W" || exit 1
                        set -- fuse-overlayfs -f -o "lowerdir=$B:$V,upperdir=$U,workdir=$W" "$M"
                        ;;
                esac
                command -v "$1" >/dev/null || return 1
                "$@" >>"$dir/peer.log" 2>&1 &
                peer_pid=$!
                bench_wait "$peer_pid" 10 bench_mounted_at "$M" || {
                        kill -KILL "$peer_pid" 2>/dev/null
                        peer_pid=
                        return 1
                }
                ;;
        esac
        return 0
}

umount_col() {
        case $1 in
        native) ;;
        merged)
                ctl remove "$V" >/dev/null || exit 1
                merged_made=
                bench_overlay_servers
                bench_wait_overlay_gone "$V" || exit 1
                ;;
        *)
                umount "$M" 2>/dev/null || umount -l "$M"
                if [ -n "$peer_pid" ]; then
                        bench_wait "$peer_pid" 10 false
                        kill -KILL "$peer_pid" 2>/dev/null
                        peer_pid=
                fi
                ;;
        esac
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# timed COLUMN WORKLOAD KIND CMD...: one timing into res.COLUMN.
timed() {
        col=$1 w=$2 kind=$3
        shift 3
        s=$(date +%s%N)
        if ! "$@" >/dev/null 2>>"$dir/err.$col"; then
                note "$(colname "$col"): '$w' ($kind) failed: $(tail -n 1 "$dir/err.$col")"
                echo "$w-$kind error" >>"$dir/res.$col"
                return
        fi
        echo "$w-$kind $(ms_since "$s")" >>"$dir/res.$col"
}

drop() { echo 3 >/proc/sys/vm/drop_caches; }

# Each workload cold (after drop_caches), then at once warm: a later workload's drop
# would make a warm run after it cold again.
run_col() {
        c=$1 T=$target
        for w in lsR find du git tar make; do
                for kind in cold warm; do
                        [ "$kind" = cold ] && drop
                        case $w in
                        lsR) timed "$c" lsR "$kind" ls -lR "$T/tree" ;;
                        find) timed "$c" find "$kind" find "$T/tree" -ls ;;
                        du) timed "$c" du "$kind" du -s "$T/tree" ;;
                        git) timed "$c" git "$kind" git -C "$T/repo" status --porcelain ;;
                        tar)
                                mkdir "$T/untar" || exit 1
                                [ "$kind" = cold ] && drop
                                timed "$c" tar "$kind" tar -xf "$dir/small.tar" -C "$T/untar"
                                rm -rf "$T/untar"
                                ;;
                        make)
                                make -s -C "$T/src" clean >/dev/null 2>&1
                                [ "$kind" = cold ] && drop
                                timed "$c" make "$kind" make -s -j2 -C "$T/src"
                                ;;
                        esac
                done
        done
        make -s -C "$T/src" clean >/dev/null 2>&1
}

bench_machine
started_at=$(date '+%Y-%m-%d %H:%M:%S %z')
round=1
while [ "$round" -le "$runs" ]; do
        printf 'round %s/%s:' "$round" "$runs" >&2
        for c in $columns; do
                if ! mount_col "$c"; then
                        note "$(colname "$c") did not mount in round $round"
                        continue
                fi
                col_start=$(date +%s)
                run_col "$c"
                umount_col "$c"
                printf ' %s (%ss)' "$c" "$(($(date +%s) - col_start))" >&2
        done
        echo >&2
        round=$((round + 1))
done

median() { # COLUMN KEY
        [ -f "$dir/res.$1" ] || { echo -; return; }
        awk -v k="$2" '$1 == k { if ($2 == "error") e = 1; else v[++n] = $2 }
                END {
                        if (e) { print "ERROR"; exit }
                        if (!n) { print "-"; exit }
                        for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
                        print n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$dir/res.$1"
}

row() { # LABEL KEY
        line=$1
        base=$(median native "$2")
        for c in $columns; do
                m=$(median "$c" "$2")
                case $m in
                - | ERROR) line="$line	$m" ;;
                *) line="$line	$(awk -v m="$m" -v b="$base" 'BEGIN {
                        if (b > 0) printf "%.0f (%.2fx)", m, m / b; else printf "%.0f", m }')" ;;
                esac
        done
        printf '%s\n' "$line"
}

{
        header=workload
        for c in $columns; do header="$header	$(colname "$c")"; done
        printf '%s\n' "$header"
        for kind in cold warm; do
                row "ls -lR of $tree_files files, $kind (ms)" "lsR-$kind"
                row "find -ls, $kind" "find-$kind"
                row "du -s, $kind" "du-$kind"
                row "git status, $repo_files files, $kind" "git-$kind"
                row "tar -x of $((tar_dirs * 100)) files, $kind" "tar-$kind"
                row "make -j2, $objs objects, $kind" "make-$kind"
        done
} >"$dir/table"

echo "bindlink real-workload benchmark: $started_at, load average $l1 $l5 $l15 at the start"
echo "machine: ${cpu:-unknown CPU}, $(nproc) CPU(s), kernel $(uname -r); tmpfs; median of $runs round(s);"
echo "cold: after echo 3 >/proc/sys/vm/drop_caches (the first, right after the column was mounted);"
echo "warm: the same workload again at once."
echo
bench_table <"$dir/table"
echo
echo "kernel overlayfs: lowerdir=B:V with an upper directory (its writes land there, not in B)."
echo "mergerfs: cache.files=off,category.create=ff,dropcacheonclose=true B:V."
echo "fuse-overlayfs: lowerdir=B:V,upperdir=U. unionfs-fuse: cow B=RW:V=RO."
i=0
while IFS= read -r line; do
        i=$((i + 1))
        echo "note $i: $line"
done <"$dir/notes"
exit 0
