#!/bin/sh
# scope.sh BUILDDIR [--rounds N] [--starts N] — S23: links in another mount namespace
# (see bench/README.md, "Links in containers"). Three tables:
#   1. create + remove of a plain link through the C API, on the host and in a
#      container (a mount namespace made with unshare), medians and p90 of N rounds;
#   2. bindlink-oci-hook run by hand with a state naming 10 links, median of N runs;
#   3. the start of a podman container (podman run --rootfs DIR true) without the
#      OCI hook and with the hook making 10 links, medians of N starts each.
# Needs root; runs in a private mount and PID namespace of its own (bench/lib.sh).
set -u

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 1 ]; then
        echo "usage: $0 BUILDDIR [--rounds N] [--starts N]" >&2
        exit 2
fi
bench_builddir "$1"
shift
rounds=200 starts=31
while [ $# -gt 0 ]; do
        case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --starts) starts=$2; shift 2 ;;
        *) echo "$0: unknown option $1" >&2; exit 2 ;;
        esac
done
if bench_outside; then
        bench_need bindlinkd bindlinkctl bench/bench_scope bindlink-oci-hook
fi
bench_enter "$builddir" --rounds "$rounds" --starts "$starts"

median_ms() { sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'; }

bench_start_daemon
bench_machine
echo "bindlink scoped-link benchmark: $(date '+%Y-%m-%d %H:%M:%S %z'), load average $l1 $l5 $l15 at the start"
echo "machine: $cpu, $(nproc) CPU(s), kernel $(uname -r)"
echo

# ---- 1. the C API: host against container ----
mkdir -p "$dir/api"
unshare --mount --propagation private sleep 100000 &
container=$!
bench_wait "$container" 10 sh -c "[ \"\$(readlink /proc/$container/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]" ||
        bench_die "the container did not start"
out=$(bench_run "$builddir/bench/bench_scope" --dir "$dir/api" --container "$container" --rounds "$rounds") ||
        bench_die "bench_scope failed"
# ---- 2. the hook alone, making 10 links (measured while the container lives) ----
hook=$builddir/bindlink-oci-hook
[ -f "$builddir/.libs/bindlink-oci-hook" ] && hook=$builddir/.libs/bindlink-oci-hook
mkdir -p "$dir/bundle" "$dir/hb"
echo '{"ociVersion": "1.0.2", "root": {"path": "/"}}' >"$dir/bundle/config.json"
hook_links=
i=0
while [ $i -lt 10 ]; do
        mkdir -p "$dir/hv/$i" "$dir/hb/$i"
        hook_links="$hook_links${hook_links:+;}$dir/hb/$i:$dir/hv/$i"
        i=$((i + 1))
done
state="{\"ociVersion\": \"1.0.2\", \"id\": \"b\", \"status\": \"creating\", \"pid\": $container, \"bundle\": \"$dir/bundle\", \"annotations\": {\"io.bindlink.links\": \"$hook_links\"}}"
: >"$dir/hook-times"
n=0
while [ $n -lt "$starts" ]; do
        t0=$(date +%s%N)
        printf '%s' "$state" | LD_LIBRARY_PATH="$builddir/.libs" "$hook" createRuntime ||
                bench_die "the hook failed"
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000)) >>"$dir/hook-times"
        i=0
        while [ $i -lt 10 ]; do
                ctl remove --target "pid:$container" "$dir/hv/$i" || bench_die "remove failed"
                i=$((i + 1))
        done
        n=$((n + 1))
done
kill "$container"
echo "1. create + remove of a plain link through the C API, $rounds rounds each (µs; one"
echo "   connection a call, as bindlink_create makes):"
echo
{
        printf 'operation\tmedian (µs)\tp90 (µs)\n'
        printf '%s\n' "$out" | grep -v '^ratio'
} | bench_table
echo
printf '%s\n' "$out" | awk -F '\t' '/^ratio/ { printf "%s (scoped / host): %s\n", $1, $2 }'
echo

echo "2. the hook alone (exec, reading the state and the bundle, 10 links on one"
echo "   connection), $starts runs:"
echo
{
        printf 'run\tmedian (ms)\n'
        printf 'bindlink-oci-hook createRuntime, 10 links\t%s\n' "$(median_ms <"$dir/hook-times")"
} | bench_table
echo

# ---- 3. podman: a start with and without the hook making 10 links ----
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v busybox >/dev/null; then
        echo "3. skipped: podman, runc and busybox are needed (./dev.sh installs them)"
        exit 0
fi
root=$dir/rootfs
mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/sys" "$root/etc" "$root/tmp" "$dir/hooks" "$dir/b"
cp "$(command -v busybox)" "$root/bin/busybox" && ln -s busybox "$root/bin/true"
links=
i=0
while [ $i -lt 10 ]; do
        mkdir -p "$root/l$i" "$dir/b/$i"
        links="$links${links:+;}$dir/b/$i:/l$i"
        i=$((i + 1))
done
hook=$builddir/bindlink-oci-hook
[ -f "$builddir/.libs/bindlink-oci-hook" ] && hook=$builddir/.libs/bindlink-oci-hook
cat >"$dir/hooks/bindlink.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "$hook", "args": ["bindlink-oci-hook", "createRuntime"],
          "env": ["BINDLINK_SOCKET=$dir/sock", "LD_LIBRARY_PATH=$builddir/.libs"]},
 "when": {"annotations": {"^io\\\\.bindlink\\\\.links\$": ".*"}},
 "stages": ["createRuntime"]}
JSON
# And a hook that does nothing (/bin/true), for what podman's running of any hook costs.
cat >"$dir/hooks/noop.json" <<JSON
{"version": "1.0.0",
 "hook": {"path": "$(command -v true)", "args": ["true"]},
 "when": {"annotations": {"^io\\\\.bindlink\\\\.noop\$": ".*"}},
 "stages": ["createRuntime"]}
JSON
mkdir -p /tmp/blb.$$
podman_run() { # podman_run [LINKS] [ANNOTATION=VALUE]
        podman --root "$dir/podman" --runroot "/tmp/blb.$$" --storage-driver vfs \
                --cgroup-manager cgroupfs --events-backend none --runtime runc \
                --hooks-dir "$dir/hooks" run --rm --network none \
                ${1:+--annotation "io.bindlink.links=$1"} ${2:+--annotation "$2"} \
                --rootfs "$root" /bin/true
}
podman_run || bench_die "podman cannot run a container here"
times_of() { # times_of LINKS [ANNOTATION=VALUE]: one start time in ms a line
        _n=0
        while [ $_n -lt "$starts" ]; do
                _t0=$(date +%s%N)
                podman_run "$1" "${2:-}" || bench_die "a podman start failed"
                _t1=$(date +%s%N)
                echo $(((_t1 - _t0) / 1000))
                _n=$((_n + 1))
        done
}
# Interleaved: without, with, without, ... so drift falls on both.
without=$dir/without with=$dir/with noop=$dir/noop
: >"$without"; : >"$with"; : >"$noop"
n=0
while [ $n -lt "$starts" ]; do
        starts_saved=$starts; starts=1
        times_of "" >>"$without"
        times_of "" io.bindlink.noop=1 >>"$noop"
        times_of "$links" >>"$with"
        starts=$starts_saved
        n=$((n + 1))
done
umount -l "/tmp/blb.$$" 2>/dev/null; rm -rf "/tmp/blb.$$"
m0=$(median_ms <"$without") m1=$(median_ms <"$with") mn=$(median_ms <"$noop")
echo "3. podman run --rm --rootfs DIR /bin/true (runc), $starts starts each, interleaved:"
echo
{
        printf 'start\tmedian (ms)\n'
        printf 'without the hook\t%s\n' "$m0"
        printf 'with a hook that does nothing (/bin/true)\t%s\n' "$mn"
        printf 'with the hook making 10 links\t%s\n' "$m1"
        printf 'the hook adds\t%s\n' "$(echo "$m1 $m0" | awk '{ printf "%.1f", $1 - $2 }')"
        printf 'of which running any hook\t%s\n' "$(echo "$mn $m0" | awk '{ printf "%.1f", $1 - $2 }')"
} | bench_table
