#!/bin/sh
# dev.sh — the README's two set-up commands, for a fresh Debian 12 machine, as root:
#   ./dev.sh daemon   install dependencies, build, install, run bindlinkd in the foreground
#   ./dev.sh test     install dependencies, build, run the whole test suite (plain and
#                     with ASan/UBSan), then 60 s of the fuzz targets (fuzz/run.sh, one
#                     test more); ends with one "N passed, N failed" line
#   ./dev.sh deb [DIR] install dependencies, build the Debian packages of this tree
#                     (dpkg-buildpackage -us -uc) into DIR, a new directory under /tmp
#                     if not given, and check them with lintian
# Options for test: --no-sanitize (plain build only), --sanitize-only.
# The plain build and its run happen in a copy of this tree under a fresh `mktemp -d`
# (mode 0700, as /root is): the suite must pass wherever root keeps the checkout,
# also where the unprivileged user some tests run as cannot enter.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

install_dependencies() {
        packages="build-essential autoconf automake libtool pkg-config libcmocka-dev
                libfuse3-dev fuse3 libcap-dev libcap2-bin libmount-dev libsmartcols-dev libsystemd-dev util-linux mount jq groff-base man-db
                systemd attr acl python3 strace stress-ng clang libclang-rt-14-dev
                libjson-c-dev podman runc busybox-static zsh openssh-server openssh-client sshfs
                debhelper dpkg-dev lintian debootstrap python3-seccomp"
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
                # openssh-server is here for remote.sh, which runs an sshd of its own;
                # Debian enables and starts the system's on installing it: undo that.
                case " $missing " in
                *" openssh-server "*)
                        if [ -d /run/systemd/system ]; then
                                systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || :
                                echo "dev.sh: the system's ssh service that openssh-server enabled is disabled again"
                        fi
                        ;;
                esac
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
                # What each failed test printed (TAP: its comments come before "not ok").
                [ "$rc" -eq 0 ] || for l in "$dir"/tests/*/*.log; do
                        grep -q '^not ok\|^ERROR\|^Bail out' "$l" 2>/dev/null || continue
                        echo "==> $l"
                        awk '/^not ok / { printf "%s%s\n", block, $0; block = ""; next }
                             /^ok / { block = ""; next }
                             /^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS): / { next }
                             { block = block $0 "\n" }
                             END { if (block ~ /Bail out/) printf "%s", block }' "$l" | head -n 60
                done
        else
                FAILED=$((FAILED + 1))
        fi
}

# copy_to_private_dir: copy the tree (tracked and untracked files, not what git
# ignores, uncommitted changes included) into a new 0700 directory; prints the copy.
copy_to_private_dir() {
        private=$(mktemp -d /tmp/bindlink-private.XXXXXX)
        chmod 0700 "$private"
        mkdir "$private/bindlink"
        if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
                git -C "$top" ls-files -z --cached --others --exclude-standard |
                        (cd "$top" && xargs -0 cp --parents -P -t "$private/bindlink" 2>/dev/null)
                # Deleted but not yet committed files are listed by ls-files; cp skips them.
        else
                tar -C "$top" --exclude='./build*' -cf - . | tar -C "$private/bindlink" -xf -
        fi
        echo "$private"
}

# build_debian_packages DIR: bindlink, libbindlink0 and libbindlink-dev, built by
# dpkg-buildpackage -us -uc in DIR/bindlink-VERSION (a copy of this tree, as the test
# builds use) with DIR/bindlink_VERSION.orig.tar.gz made of the same copy but debian/;
# the .debs, .dsc and .changes land in DIR, dpkg-buildpackage's output in DIR/build.log.
# Then lintian on the .changes (source and binaries): fails on an error.
build_debian_packages() {
        out=$1
        version=$(sed -n 's/^AC_INIT(\[bindlink\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
        packaged=$(dpkg-parsechangelog -l "$top/debian/changelog" -SVersion)
        if [ "${packaged%-*}" != "$version" ]; then
                echo "dev.sh: debian/changelog is at $packaged, configure.ac at $version: add an entry" \
                        "for $version-1 (dch -v $version-1)" >&2
                return 1
        fi
        mkdir -p "$out"
        out=$(cd "$out" && pwd)
        src="$out/bindlink-$version"
        rm -rf "$src"
        private=$(copy_to_private_dir)
        mv "$private/bindlink" "$src"
        rmdir "$private"
        tar -C "$out" --exclude="bindlink-$version/debian" -czf "$out/bindlink_$version.orig.tar.gz" \
                "bindlink-$version"
        echo "dev.sh: dpkg-buildpackage -us -uc in $src (output in $out/build.log)"
        # Not the flags of a make this runs under (make check: its TESTS would reach
        # the package's own make check).
        if ! (cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
                dpkg-buildpackage -us -uc -j"$(nproc)") >"$out/build.log" 2>&1; then
                tail -n 40 "$out/build.log"
                echo "dev.sh: dpkg-buildpackage failed; its output is in $out/build.log" >&2
                return 1
        fi
        changes="$out/bindlink_${packaged}_$(dpkg --print-architecture).changes"
        echo "dev.sh: lintian $changes"
        lintian --fail-on error "$changes"
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
                private=$(copy_to_private_dir)
                echo "dev.sh: plain build and run in $private/bindlink (a 0700 parent directory)"
                (cd "$private/bindlink" && top=$(pwd) && build build) || {
                        rm -rf "$private"; exit 1; }
                failed_before=$FAILED
                run_suite "$private/bindlink/build"
                if [ "$FAILED" -gt "$failed_before" ]; then
                        echo "dev.sh: the plain run's logs are kept in $private/bindlink/build"
                else
                        rm -rf "$private"
                fi
        fi
        if [ $sanitized = 1 ]; then
                build build-sanitize --enable-sanitizers
                ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
                        run_suite build-sanitize
        fi
        # The parsers of what clients, the journal and links.conf hand the daemon, fuzzed
        # for a minute in all (libFuzzer, clang): one test, failed by any finding.
        if command -v clang >/dev/null 2>&1; then
                echo "dev.sh: fuzzing the daemon's parsers for 60 s (fuzz/run.sh 60)"
                if sh "$top/fuzz/run.sh" 60; then
                        PASSED=$((PASSED + 1))
                else
                        FAILED=$((FAILED + 1))
                fi
        fi
        echo "$PASSED passed, $FAILED failed"
        [ "$FAILED" -eq 0 ]
        ;;
deb)
        install_dependencies
        out=${2:-$(mktemp -d /tmp/bindlink-deb.XXXXXX)}
        build_debian_packages "$out"
        echo "dev.sh: the packages are in $out:"
        ls "$out"/*.deb
        ;;
*)
        echo "usage: ./dev.sh daemon | ./dev.sh test [--no-sanitize|--sanitize-only] | ./dev.sh deb [DIR]" >&2
        exit 2
        ;;
esac
