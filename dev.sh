#!/bin/sh
# dev.sh — the README's two set-up commands, for a fresh Debian 12 machine, as root:
#   ./dev.sh daemon   install dependencies, build, install, run bindlinkd in the foreground
#   ./dev.sh test     install dependencies, build, run the whole test suite (plain and
#                     with ASan/UBSan); ends with one "N passed, N failed" line
# Options for test: --no-sanitize (plain build only), --sanitize-only.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

install_dependencies() {
        packages="build-essential autoconf automake libtool pkg-config libcmocka-dev
                libfuse3-dev fuse3 util-linux mount jq groff-base man-db systemd attr acl python3 strace"
        missing=
        for p in $packages; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
                        missing="$missing $p"
        done
        if [ -n "$missing" ]; then
                echo "dev.sh: installing$missing"
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq
                # shellcheck disable=SC2086
                apt-get install -y -qq --no-install-recommends $missing >/dev/null
        fi
}

# build DIR [CONFIGURE-ARGS...]
build() {
        dir=$1
        shift
        # A clean clone has no configure; later edits are picked up by automake's
        # own rebuild rules.
        [ -x configure ] || autoreconf -fi
        mkdir -p "$dir"
        (cd "$dir" && { [ -f Makefile ] || "$top/configure" --prefix=/usr/local \
                --sysconfdir=/etc --with-systemdsystemunitdir=/etc/systemd/system "$@" >/dev/null; } &&
                make -j"$(nproc)" >/dev/null && make -j"$(nproc)" check TESTS= >/dev/null)
}

# run_suite DIR: make check, then add the counts from automake's logs.
run_suite() {
        dir=$1
        set +e
        (cd "$dir" && make -j1 check)
        rc=$?
        set -e
        log="$dir/test-suite.log"
        if [ -f "$log" ]; then
                p=$(sed -n 's/^# PASS: *//p' "$log")
                f=$(sed -n 's/^# FAIL: *//p' "$log")
                e=$(sed -n 's/^# ERROR: *//p' "$log")
                x=$(sed -n 's/^# XPASS: *//p' "$log")
                PASSED=$((PASSED + ${p:-0}))
                FAILED=$((FAILED + ${f:-0} + ${e:-0} + ${x:-0}))
                [ "$rc" -eq 0 ] || [ $((${f:-0} + ${e:-0} + ${x:-0})) -gt 0 ] || FAILED=$((FAILED + 1))
                [ "$rc" -eq 0 ] || sed -n '/^FAIL\|^ERROR/,+40p' "$dir"/tests/*/*.log 2>/dev/null | head -n 80
        else
                FAILED=$((FAILED + 1))
        fi
}

cmd=${1:-}
case "$cmd" in
daemon)
        install_dependencies
        build build
        (cd build && make install >/dev/null)
        ldconfig
        echo "dev.sh: starting bindlinkd in the foreground on /run/bindlinkd.sock (Ctrl-C stops it;"
        echo "        links stay in place). In another shell: bindlinkctl --help"
        exec /usr/local/sbin/bindlinkd
        ;;
test)
        shift
        plain=1 sanitized=1
        for a in "$@"; do
                case "$a" in
                --no-sanitize) sanitized=0 ;;
                --sanitize-only) plain=0 ;;
                *) echo "dev.sh: unknown option $a" >&2; exit 2 ;;
                esac
        done
        install_dependencies
        PASSED=0 FAILED=0
        if [ $plain = 1 ]; then
                build build
                run_suite build
        fi
        if [ $sanitized = 1 ]; then
                build build-sanitize --enable-sanitizers
                ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
                        run_suite build-sanitize
        fi
        echo "$PASSED passed, $FAILED failed"
        [ "$FAILED" -eq 0 ]
        ;;
*)
        echo "usage: ./dev.sh daemon | ./dev.sh test [--no-sanitize|--sanitize-only]" >&2
        exit 2
        ;;
esac
