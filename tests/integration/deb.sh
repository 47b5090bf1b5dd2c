#!/bin/bash
# deb.sh — the Debian packages (issue 17): `./dev.sh deb` builds bindlink, libbindlink0
# and libbindlink-dev from this tree with dpkg-buildpackage and lintian finds no error;
# in a fresh Debian 12 root made by debootstrap they install, bindlinkd from the package,
# started as its unit starts it, makes a link, and purge leaves nothing of them. All in
# a private mount and pid namespace; the root is cached in /var/cache/bindlink-test. TAP.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SUITE=bookworm
CACHE=${BINDLINK_TEST_CACHE:-/var/cache/bindlink-test}
# A cached root older than this is made again.
CACHE_DAYS=30

if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP the package test needs root (debootstrap, chroot, mounts)"
        exit 0
fi
if grep -q '^SANITIZE_CFLAGS = .*-fsanitize' "${BUILDDIR:-.}/Makefile" 2>/dev/null; then
        # ./dev.sh test runs the suite twice; the packages are built from the source
        # alike both times (never with sanitizers), so the plain run's test is the test.
        echo "1..0 # SKIP a sanitized build: the packages do not use it (the plain build's run tests them)"
        exit 0
fi
if [ ! -f "$SRCDIR/debian/control" ] || [ ! -f "$SRCDIR/dev.sh" ]; then
        # make dist leaves debian/ and dev.sh out (a distcheck runs this test there).
        echo "1..0 # SKIP no debian/ or dev.sh in $SRCDIR: the packages are built from a checkout"
        exit 0
fi
if [ -z "${BL_IN_NAMESPACE:-}" ]; then
        BL_IN_NAMESPACE=1 exec unshare --mount --propagation private --pid --fork --mount-proc \
                --kill-child bash "$0" "$@"
fi
set -u
# PID 1 of the namespace: a signal from outside arrives only if handled; then the
# EXIT trap below cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM

n=0 failed=0
# fd 3: the TAP stream, for notes a test prints as it goes ("# ...").
exec 3>&1
# check NAME FUNCTION: one test; it passes if FUNCTION succeeds and prints nothing
# (what it prints says what went wrong). FUNCTION runs in this shell: what it starts
# and sets is there for the tests after it.
check() {
        n=$((n + 1))
        local started=$SECONDS rc
        "$2" >"$AREA/check.out" 2>&1
        rc=$?
        echo "# $1 took $((SECONDS - started)) s"
        if [ $rc -eq 0 ] && [ ! -s "$AREA/check.out" ]; then
                echo "ok $n - $1"
        else
                echo "not ok $n - $1"
                [ -s "$AREA/check.out" ] || echo "failed (exit $rc)" >"$AREA/check.out"
                sed 's/^/#   /' "$AREA/check.out"
                failed=$((failed + 1))
        fi
}

# eventually and process_gone (lib.sh's harness is not for this test: poll.sh is what
# it shares with it).
. "$(dirname "$0")/poll.sh"

# Everything below lives on one tmpfs in this namespace: the build, the root, its
# mounts. Whatever happens, it all goes with the namespace; the trap says how it went.
AREA=$(mktemp -d /tmp/bindlink-deb-test.XXXXXX)
mount -t tmpfs -o mode=0755 bindlink-deb-test "$AREA"
DEBS="$AREA/deb"
PACKAGES="bindlink libbindlink0 libbindlink-dev"
ROOT="$AREA/root"
DAEMON_PID=
NOTIFY_PID=
cleanup() {
        stop_daemon
        [ -z "$NOTIFY_PID" ] || kill "$NOTIFY_PID" 2>/dev/null
        if ! umount -R "$AREA" 2>/dev/null; then
                # An overlay server of a link left behind holds a mount: we are PID 1
                # of this namespace, everything in it is ours.
                kill -KILL -1 2>/dev/null
                eventually 10 umount -R "$AREA" || umount -R -l "$AREA"
        fi
        rmdir "$AREA"
        echo "1..$n"
        echo "# $((n - failed)) passed, $failed failed"
        [ $failed -eq 0 ] || exit 1
}
trap cleanup EXIT

in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# ---- the packages ------------------------------------------------------------------
deb_of() { ls "$DEBS/$1"_*.deb 2>/dev/null | head -n 1; }

build_packages() {
        env -u BL_IN_NAMESPACE sh "$SRCDIR/dev.sh" deb "$DEBS" >"$AREA/dev-deb.log" 2>&1
        local rc=$? p
        for p in $PACKAGES; do
                [ -n "$(deb_of $p)" ] || echo "no $p package"
        done
        if [ -z "$(deb_of bindlink)" ] && [ $rc -ne 0 ]; then
                echo "./dev.sh deb failed (exit $rc):"
                tail -n 30 "$AREA/dev-deb.log"
                tail -n 30 "$DEBS/build.log" 2>/dev/null
        fi
}

lintian_finds_no_error() {
        [ -n "$(deb_of bindlink)" ] || { echo "no packages (see the test before)"; return; }
        # ./dev.sh deb ran lintian on the .changes (source and binaries) last.
        grep -E '^E: ' "$AREA/dev-deb.log"
        grep -q '^dev.sh: the packages are in' "$AREA/dev-deb.log" ||
                { echo "./dev.sh deb did not finish:"; tail -n 20 "$AREA/dev-deb.log"; }
        # Warnings are reported, not failed.
        grep -E '^W: ' "$AREA/dev-deb.log" | sed 's/^/# lintian warning (not failed): /' >&3
}

# contents PACKAGE: the paths the package ships (directories end in /).
contents() { dpkg-deb -c "$(deb_of "$1")" | awk '{ print $6 }' | sed 's|^\./|/|'; }

packages_hold_what_make_install_puts_down() {
        [ -n "$(deb_of bindlink)" ] || { echo "no packages (see the tests before)"; return; }
        local arch p
        arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
        for p in /usr/sbin/bindlinkd /usr/bin/bindlinkctl /usr/libexec/bindlink/bindlink-overlay \
                /usr/libexec/bindlink/bindlink-oci-hook /lib/systemd/system/bindlinkd.service \
                /etc/bindlink/links.conf /usr/share/bash-completion/completions/bindlinkctl \
                /usr/share/zsh/vendor-completions/_bindlinkctl \
                /usr/share/containers/oci/hooks.d/bindlink.json /usr/share/man/man8/bindlinkd.8.gz \
                /usr/share/man/man8/bindlinkctl.8.gz /usr/share/man/man5/bindlink.conf.5.gz; do
                contents bindlink | grep -qx "$p" || echo "bindlink lacks $p"
        done
        contents libbindlink0 | grep -qx "/usr/lib/$arch/libbindlink.so.0" ||
                echo "libbindlink0 lacks /usr/lib/$arch/libbindlink.so.0"
        for p in /usr/include/bindlink.h "/usr/lib/$arch/libbindlink.so" \
                "/usr/lib/$arch/pkgconfig/bindlink.pc" /usr/share/man/man3/CreateBindLink.3.gz \
                /usr/share/man/man3/bindlink_create.3.gz; do
                contents libbindlink-dev | grep -qx "$p" || echo "libbindlink-dev lacks $p"
        done
        for p in $PACKAGES; do
                contents "$p" | grep -E '\.la$|^/usr/local/' | sed "s/^/$p ships /"
        done
        dpkg-deb -I "$(deb_of bindlink)" conffiles | grep -qx /etc/bindlink/links.conf ||
                echo "links.conf is not a conffile"
        dpkg-deb -I "$(deb_of libbindlink0)" symbols >/dev/null || echo "libbindlink0 has no symbols file"
}

# ---- a fresh Debian 12 root ----------------------------------------------------------
# The Debian mirror apt uses here (a one-line or a deb822 source for $SUITE).
debian_mirror() {
        local m
        m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed 's/\[[^]]*\]//' | awk -v s="$SUITE" '$1 == "deb" && $3 == s { print $2; exit }')
        [ -n "$m" ] || m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$SUITE" '
                /^[[:space:]]*$/ { uris = ""; suites = ""; next }
                $1 == "URIs:" { uris = $2 }
                $1 == "Suites:" { suites = $0 }
                uris != "" && suites ~ ("[[:space:]]" s "([[:space:]]|$)") { print uris; exit }')
        echo "${m:-http://deb.debian.org/debian}"
}

# What the packages need from Debian (their Depends but each other), and systemd for
# systemd-analyze: given to debootstrap, so installing needs no download.
root_packages() {
        { dpkg-deb -f "$(deb_of bindlink)" Depends; echo ,; dpkg-deb -f "$(deb_of libbindlink0)" Depends
          echo ", systemd"; } | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/[[:space:]]//g' |
                grep -v '^libbindlink' | grep . | sort -u | paste -sd, -
}

# unpack_root TARBALL INCLUDE MIRROR: the root in $ROOT, from TARBALL if it is recent,
# else made by debootstrap and kept in TARBALL for the next run.
unpack_root() {
        local tarball=$1 include=$2 mirror=$3
        if [ -n "$(find "$tarball" -mtime -$CACHE_DAYS 2>/dev/null)" ]; then
                echo "# the root from $tarball" >&3
                tar --numeric-owner --xattrs -C "$ROOT" -xf "$tarball" && return 0
                echo "# $tarball cannot be unpacked: made again" >&3
                rm -f "$tarball"
                find "$ROOT" -mindepth 1 -delete
        fi
        echo "# debootstrap --variant=minbase --include=$include $SUITE $mirror" >&3
        if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$ROOT" "$mirror" \
                >"$AREA/debootstrap.log" 2>&1; then
                echo "debootstrap failed:"
                tail -n 20 "$AREA/debootstrap.log"
                tail -n 20 "$ROOT/debootstrap/debootstrap.log" 2>/dev/null
                return 1
        fi
        if tar --numeric-owner --xattrs -C "$ROOT" -cf "$tarball.tmp.$$" .; then
                mv "$tarball.tmp.$$" "$tarball"
        else
                rm -f "$tarball.tmp.$$"
        fi
        # Roots made for other package lists are not needed again.
        find "$CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar" ! -name "${tarball##*/}" -delete
}

make_root() {
        [ -n "$(deb_of bindlink)" ] || { echo "no packages (see the tests before)"; return 1; }
        command -v debootstrap >/dev/null || { echo "debootstrap is not installed (./dev.sh installs it)"; return 1; }
        local mirror include key rc
        mirror=$(debian_mirror)
        include=$(root_packages)
        key=$(printf '%s %s %s\n' "$SUITE" "$mirror" "$include" | md5sum | cut -c1-12)
        mkdir -p "$ROOT" "$CACHE"
        # One run at a time makes or reads the cache.
        exec 9>"$CACHE/.lock"
        flock 9
        unpack_root "$CACHE/$SUITE-minbase-$key.tar" "$include" "$mirror"
        rc=$?
        exec 9>&-
        [ $rc -eq 0 ] || return 1
        mount -t proc proc "$ROOT/proc" &&
                mount --bind /dev "$ROOT/dev" &&
                mount -t tmpfs -o mode=0755 run "$ROOT/run" || return 1
        mkdir -p "$ROOT/tmp/debs"
        cp "$(deb_of bindlink)" "$(deb_of libbindlink0)" "$(deb_of libbindlink-dev)" "$ROOT/tmp/debs/"
        chmod -R a+rX "$ROOT/tmp/debs"
        ROOT_READY=1
}

# ---- install -----------------------------------------------------------------------
ROOT_READY=
status_of() { in_root dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null; }

# apt_quietly LOG ARGS...: apt-get in the root; its output in LOG, which must hold no
# error or warning of apt or dpkg (a maintainer script that failed, a file left).
apt_quietly() {
        local log=$1
        shift
        in_root env DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0 "$@" >"$log" 2>&1
        local rc=$?
        [ $rc -eq 0 ] || echo "apt-get $* failed (exit $rc)"
        grep -iE '^(E|W): |\b(error|warning)\b' "$log"
        [ $rc -eq 0 ] || tail -n 20 "$log"
}

packages_install_in_a_fresh_debian_12_root() {
        [ -n "$ROOT_READY" ] || { echo "no root (see the test before)"; return; }
        local p debs=()
        for p in $PACKAGES; do
                debs+=("/tmp/debs/$(basename "$(deb_of "$p")")")
        done
        apt_quietly "$AREA/install.log" install --no-install-recommends "${debs[@]}"
        for p in $PACKAGES; do
                [ "$(status_of "$p")" = "ii " ] || echo "$p: status '$(status_of "$p")', not installed"
                in_root dpkg -L "$p" >"$AREA/files.$p" || echo "dpkg -L $p failed"
        done
        # dh_installsystemd's postinst enabled the unit (systemd is not running here, so
        # it was not started).
        [ "$(readlink "$ROOT/etc/systemd/system/multi-user.target.wants/bindlinkd.service")" = \
                /lib/systemd/system/bindlinkd.service ] || echo "the postinst did not enable bindlinkd.service"
        [ "$(in_root systemctl is-enabled bindlinkd.service 2>&1)" = enabled ] ||
                echo "systemctl is-enabled bindlinkd.service: $(in_root systemctl is-enabled bindlinkd.service 2>&1)"
        in_root dpkg-query -W -f='${Conffiles}\n' bindlink | grep -q '^ /etc/bindlink/links.conf ' ||
                echo "links.conf is not a registered conffile"
}

unit_passes_systemd_analyze_verify() {
        [ -f "$ROOT/lib/systemd/system/bindlinkd.service" ] || { echo "no unit installed"; return; }
        # The root's own systemd-analyze, on the unit as installed: its ExecStart must
        # name a program there.
        in_root systemd-analyze verify --man=no bindlinkd.service
}

# ---- bindlinkd from the package ------------------------------------------------------
stop_daemon() {
        [ -n "$DAEMON_PID" ] || return 0
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
}

# The unit's command line, as systemd would run it (ExecStart= of the installed unit).
unit_exec_start() { sed -n 's/^ExecStart=//p' "$ROOT/lib/systemd/system/bindlinkd.service"; }

# notify_listener SOCKET OUT: receive what the daemon tells systemd (Type=notify) on
# SOCKET, into OUT, until READY=1 or 120 s.
notify_listener() {
        python3 - "$1" "$2" <<'EOF' >/dev/null 2>"$AREA/notify.err" &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
deadline = time.monotonic() + 120
with open(sys.argv[2], "a") as out:
    while time.monotonic() < deadline:
        try:
            msg = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            continue
        out.write(msg + "\n")
        out.flush()
        if "READY=1" in msg.split("\n"):
            break
EOF
        NOTIFY_PID=$!
}

ctl() { in_root bindlinkctl "$@"; }

# start_packaged_daemon: bindlinkd as the installed unit runs it (DAEMON_PID). 0 once it
# said READY=1 and answers, else it says why.
start_packaged_daemon() {
        local cmd
        cmd=$(unit_exec_start)
        case "$cmd" in /usr/sbin/bindlinkd\ *) ;; *) echo "ExecStart is '$cmd', not /usr/sbin/bindlinkd"; return 1 ;; esac
        # What systemd gives the service: its RuntimeDirectory=, and a notify socket.
        mkdir -p "$ROOT/run/bindlinkd"
        rm -f "$ROOT/run/test-notify.sock" "$AREA/notify.log"
        notify_listener "$ROOT/run/test-notify.sock" "$AREA/notify.log"
        eventually 10 test -S "$ROOT/run/test-notify.sock" || { echo "the notify listener did not start"; return 1; }
        # shellcheck disable=SC2086
        chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin NOTIFY_SOCKET=/run/test-notify.sock \
                $cmd >/dev/null 2>"$AREA/daemon.log" &
        DAEMON_PID=$!
        eventually 60 grep -qx READY=1 "$AREA/notify.log" ||
                { echo "bindlinkd sent no READY=1:"; cat "$AREA/notify.log" "$AREA/daemon.log"; return 1; }
        eventually 10 ctl list >/dev/null || { echo "bindlinkctl list fails:"; ctl list; return 1; }
}

daemon_from_the_package_makes_a_link() {
        [ "$(status_of bindlink)" = "ii " ] || { echo "bindlink is not installed (see the tests before)"; return; }
        start_packaged_daemon || return

        # A plain link: V shows B's file.
        mkdir -p "$ROOT/srv/v" "$ROOT/srv/b" "$ROOT/srv/app"
        echo original >"$ROOT/srv/v/settings.ini"
        echo patched >"$ROOT/srv/b/settings.ini"
        ctl create /srv/v /srv/b || return
        [ "$(in_root cat /srv/v/settings.ini)" = patched ] || echo "V does not show B's file: $(in_root cat /srv/v/settings.ini 2>&1)"
        # An anchorless link: the daemon starts /usr/libexec/bindlink/bindlink-overlay.
        ctl create /srv/app/plugins /srv/b || return
        [ "$(in_root cat /srv/app/plugins/settings.ini)" = patched ] || echo "the anchorless link does not show B's file"
        in_root ls /srv/app | grep -qx plugins || echo "the anchorless link is not listed in its parent"
        ctl list | grep -q '/srv/app/plugins' || echo "bindlinkctl list does not show the anchorless link"

        ctl remove /srv/app/plugins || return
        ctl remove /srv/v || return
        [ "$(in_root cat /srv/v/settings.ini)" = original ] || echo "V does not show its own file again"
        [ ! -e "$ROOT/srv/app/plugins" ] || echo "the anchorless link is still there"
        [ -z "$(ctl list)" ] || { echo "links left:"; ctl list; }
        findmnt -rn -o TARGET | grep "^$ROOT/srv" | sed 's/^/still mounted: /'
        grep -iE 'error|fail' "$AREA/daemon.log" | sed 's/^/daemon: /'
}

daemon_stops_on_sigterm() {
        [ -n "$DAEMON_PID" ] || { echo "no daemon (see the test before)"; return; }
        local pid=$DAEMON_PID
        kill -TERM "$pid"
        eventually 30 process_gone "$pid" || echo "bindlinkd still runs 30 s after SIGTERM"
        wait "$pid" 2>/dev/null
        local rc=$?
        DAEMON_PID=
        [ $rc -eq 0 ] || echo "bindlinkd exited $rc on SIGTERM"
        [ ! -e "$ROOT/run/bindlinkd.sock" ] || echo "the socket is left after the daemon stopped"
        pgrep -f 'bindlink-overlay|bindlinkd' | sed 's/^/process left: /'
}

# apt-get remove with links in place: the prerm takes them down while the daemon runs
# (systemd is not running here, so it is stopped by hand after, as the unit's stop would).
remove_takes_the_links_down() {
        [ "$(status_of bindlink)" = "ii " ] || { echo "bindlink is not installed (see the tests before)"; return; }
        start_packaged_daemon || return
        mkdir -p "$ROOT/srv/v" "$ROOT/srv/b" "$ROOT/srv/app"
        ctl create /srv/v /srv/b || return
        ctl create /srv/app/plugins /srv/b || return
        [ "$(in_root cat /srv/v/settings.ini)" = patched ] || echo "V does not show B's file"
        apt_quietly "$AREA/remove.log" remove bindlink
        [ "$(status_of bindlink)" = "rc " ] || echo "bindlink: status '$(status_of bindlink)' after remove"
        findmnt -rn -o TARGET | grep "^$ROOT/srv" | sed 's/^/still mounted after remove: /'
        [ "$(in_root cat /srv/v/settings.ini)" = original ] || echo "V does not show its own file after remove"
        [ ! -e "$ROOT/srv/app/plugins" ] || echo "the anchorless link is still there after remove"
        pgrep -f 'bindlink-overlay --fuse-fd' | sed 's/^/overlay server left: /' # (this pid namespace's)
        stop_daemon
}

# ---- purge -------------------------------------------------------------------------
purge_leaves_nothing() {
        case "$(status_of bindlink)" in "ii "|"rc ") ;; *) echo "bindlink is not installed (see the tests before)"; return ;; esac
        # As root runs it: the unit's postinst/prerm/postrm with systemd not running.
        apt_quietly "$AREA/purge.log" purge $PACKAGES
        local p f
        for p in $PACKAGES; do
                [ -z "$(status_of $p)" ] || [ "$(status_of $p)" = "un " ] ||
                        echo "$p: status '$(status_of $p)' after purge"
                # Every file it had is gone; a directory stays only if another package has it.
                while IFS= read -r f; do
                        [ "$f" = /. ] && continue
                        if [ -L "$ROOT$f" ] && [ -d "$ROOT$f" ]; then
                                continue # /lib -> usr/lib (merged /usr): the system's, not ours
                        elif [ -d "$ROOT$f" ]; then
                                in_root dpkg-query -S "$f" >/dev/null 2>&1 || echo "$p: directory $f is left"
                        elif [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ]; then
                                echo "$p: $f is left"
                        fi
                done <"$AREA/files.$p"
        done
        [ ! -e "$ROOT/etc/bindlink" ] || echo "/etc/bindlink is left: $(ls -A "$ROOT/etc/bindlink")"
        [ ! -e "$ROOT/run/bindlinkd" ] || echo "/run/bindlinkd is left"
        find "$ROOT/etc/systemd" "$ROOT/var/lib/systemd/deb-systemd-helper-enabled" \
                "$ROOT/var/lib/systemd/deb-systemd-helper-masked" -name '*bindlink*' 2>/dev/null |
                sed "s|^$ROOT|left by the unit's enablement: |"
        in_root dpkg --audit
}

# In the order of a package's life.
check "deb_dev_sh_deb_builds_the_three_packages" build_packages
check "deb_lintian_reports_no_error" lintian_finds_no_error
check "deb_packages_hold_what_make_install_puts_down" packages_hold_what_make_install_puts_down
check "deb_debootstrap_makes_a_fresh_debian_12_root" make_root
check "deb_packages_install_in_a_fresh_debian_12_root" packages_install_in_a_fresh_debian_12_root
check "deb_s22_installed_unit_passes_systemd_analyze_verify" unit_passes_systemd_analyze_verify
check "deb_bindlinkd_from_the_package_makes_a_link" daemon_from_the_package_makes_a_link
check "deb_bindlinkd_from_the_package_stops_on_sigterm" daemon_stops_on_sigterm
check "deb_remove_takes_the_links_down_first" remove_takes_the_links_down
check "deb_purge_leaves_nothing_of_the_packages" purge_leaves_nothing
