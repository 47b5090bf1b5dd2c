#!/bin/sh
# fuzz/run.sh — build bindlink's libFuzzer targets with clang and fuzz each of them
# (one per input bindlinkd parses: wire, path, journal, config; see fuzz/README.md).
#
#   fuzz/run.sh [SECONDS] [TARGET...]   fuzz for SECONDS in all (default 60), split
#                                       evenly across the targets (default: all four)
#   fuzz/run.sh --seeds                 write the binary seeds of corpus/wire and
#                                       corpus/path again (gen_seeds.c, after a change
#                                       of the wire format), then stop
#   fuzz/run.sh --coverage              which lines of the parsers the seeds and the
#                                       grown corpus reach (llvm-profdata, llvm-cov)
#
# The targets are compiled from the sources directly (no libtool, no configure) with
# -fsanitize=fuzzer,address,undefined, into FUZZ_WORK (default: build-fuzz/ in the
# checkout). Each run starts from the committed seeds in fuzz/corpus/TARGET (read only)
# and the corpus it grew before, in FUZZ_WORK/corpus/TARGET. A crash, leak, broken
# invariant or timeout fails the run: the reproducer is kept in FUZZ_WORK/crashes/TARGET/
# and its path printed, with the command that replays it. Exit status 0 when every
# target ran its time without a finding, 1 otherwise, 2 for a usage error.
# Needs clang and libFuzzer's runtime (Debian: clang, libclang-rt-14-dev).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$top/build-fuzz}
cc=${CC_FUZZ:-clang}
all_targets="wire path journal config"

# The sources each target needs besides its own file.
sources_of() {
        case $1 in
        wire) echo common/wire.c ;;
        path) echo common/path.c ;;
        journal) echo daemon/journal/journal.c daemon/journal/overlay_record.c daemon/table/link_table.c daemon/table/path_index.c daemon/base/creds.c ;;
        config) echo daemon/config/config.c daemon/journal/journal.c daemon/journal/overlay_record.c daemon/table/link_table.c daemon/table/path_index.c daemon/base/creds.c ;;
        esac
}

# The files a target is about (its coverage report): the others only support it.
parsed_by() {
        case $1 in
        journal) echo daemon/journal/journal.c daemon/journal/overlay_record.c daemon/table/link_table.c ;;
        config) echo daemon/config/config.c ;;
        *) sources_of "$1" ;;
        esac
}

# The longest input tried: room for the limits each parser checks (a PATH_MAX string
# in a message, long journal and config lines; fuzz_path repeats its input itself),
# short enough to keep the executions fast.
max_len_of() {
        case $1 in
        wire) echo 9000 ;;
        path) echo 1024 ;;
        *) echo 4096 ;;
        esac
}

common_flags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -D_GNU_SOURCE
        -I$top/include -I$top/common -I$top/daemon/base -I$top/daemon/table
        -I$top/daemon/journal -I$top/daemon/config -I$top/fuzz"

if ! command -v "$cc" >/dev/null 2>&1; then
        echo "run.sh: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
        exit 1
fi
mkdir -p "$work/bin" || exit 1

if [ "${1:-}" = --seeds ]; then
        # shellcheck disable=SC2086 # flags are words
        (cd "$top" && $cc $common_flags fuzz/gen_seeds.c common/wire.c -o "$work/bin/gen_seeds") &&
                "$work/bin/gen_seeds" "$top/fuzz/corpus" &&
                echo "run.sh: wrote $top/fuzz/corpus/wire and $top/fuzz/corpus/path"
        exit $?
fi

if [ "${1:-}" = --coverage ]; then
        for tool in llvm-profdata llvm-cov; do
                command -v "$tool" >/dev/null 2>&1 ||
                        { echo "run.sh: $tool not found (Debian: apt-get install llvm)" >&2; exit 1; }
        done
        for t in $all_targets; do
                mkdir -p "$work/corpus/$t" || exit 1
                # shellcheck disable=SC2046,SC2086 # word lists
                (cd "$top" && $cc $common_flags -fsanitize=fuzzer -fprofile-instr-generate \
                        -fcoverage-mapping fuzz/fuzz_$t.c $(sources_of "$t") \
                        -o "$work/bin/coverage_$t") || exit 1
                # Each input once; the profile says which lines they reached.
                LLVM_PROFILE_FILE=$work/coverage_$t.profraw "$work/bin/coverage_$t" -runs=0 \
                        "$work/corpus/$t" "$top/fuzz/corpus/$t" >"$work/coverage_$t.log" 2>&1 &&
                        llvm-profdata merge -o "$work/coverage_$t.profdata" \
                                "$work/coverage_$t.profraw" || exit 1
                echo "fuzz_$t:"
                # shellcheck disable=SC2046 # a word list
                (cd "$top" && llvm-cov report "$work/bin/coverage_$t" \
                        -instr-profile="$work/coverage_$t.profdata" $(parsed_by "$t")) || exit 1
        done
        exit 0
fi

seconds=60
case ${1:-} in
'') ;;
*[!0-9]*)
        echo "usage: $0 [SECONDS] [wire|path|journal|config]... | $0 --seeds | $0 --coverage" >&2
        exit 2
        ;;
*)
        seconds=$1
        shift
        ;;
esac
targets=${*:-$all_targets}
for t in $targets; do
        case " $all_targets " in
        *" $t "*) ;;
        *)
                echo "run.sh: unknown target $t (targets: $all_targets)" >&2
                exit 2
                ;;
        esac
done
count=$(echo "$targets" | wc -w)
each=$((seconds / count))
[ "$each" -ge 1 ] || each=1

# ---- build ------------------------------------------------------------------------
for t in $targets; do
        # shellcheck disable=SC2046,SC2086 # word lists
        if ! (cd "$top" && $cc $common_flags -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all fuzz/fuzz_$t.c $(sources_of "$t") \
                -o "$work/bin/fuzz_$t"); then
                echo "run.sh: cannot build fuzz_$t (is libclang-rt-14-dev installed?)" >&2
                exit 1
        fi
done

# ---- run --------------------------------------------------------------------------
echo "run.sh: fuzzing $targets for ${each} s each (work directory $work)"
failed=0
for t in $targets; do
        mkdir -p "$work/corpus/$t" "$work/crashes/$t" || exit 1
        log=$work/fuzz_$t.log
        # libFuzzer only adds to the corpus it grows; past a few thousand files, keep
        # only the inputs that still add coverage (a merge takes seconds at this size).
        if [ "$(find "$work/corpus/$t" -type f | wc -l)" -gt 2000 ]; then
                rm -rf "$work/corpus/$t.merged" && mkdir "$work/corpus/$t.merged" &&
                        "$work/bin/fuzz_$t" -merge=1 "$work/corpus/$t.merged" \
                                "$work/corpus/$t" >"$work/fuzz_$t.merge.log" 2>&1 &&
                        rm -rf "$work/corpus/$t" && mv "$work/corpus/$t.merged" "$work/corpus/$t"
        fi
        # The first corpus directory receives what the run finds; the committed seeds
        # are only read.
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                "$work/bin/fuzz_$t" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 \
                -max_len="$(max_len_of "$t")" -dict="$top/fuzz/$t.dict" \
                -artifact_prefix="$work/crashes/$t/" -print_final_stats=1 \
                "$work/corpus/$t" "$top/fuzz/corpus/$t" >"$log" 2>&1
        rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9a-zA-Z]*' "$log" | tail -n 1)
        if [ "$rc" -eq 0 ]; then
                echo "fuzz_$t: ok, ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-no coverage line}"
                continue
        fi
        failed=1
        echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} runs; log $log"
        grep -E 'ERROR: |invariant broken|SUMMARY: ' "$log" | head -n 5
        grep -E 'runtime error: ' "$log" | head -n 3
        for unit in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
                case $unit in
                */slow-unit-*) ;;
                *)
                        echo "fuzz_$t: reproducer $unit"
                        echo "fuzz_$t: replay with: $work/bin/fuzz_$t $unit"
                        ;;
                esac
        done
done
[ "$failed" -eq 0 ]
