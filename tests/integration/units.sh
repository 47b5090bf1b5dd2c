#!/bin/bash
# units.sh — the shipped systemd unit passes systemd-analyze verify (S22) and the man
# pages render without warnings. TAP.
BUILDDIR=${BUILDDIR:-.}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0 failed=0
check() { # check NAME COMMAND...
        n=$((n + 1))
        local out
        if out=$("${@:2}" 2>&1) && [ -z "$out" ]; then
                echo "ok $n - $1"
        else
                echo "not ok $n - $1"; printf '%s\n' "$out" | sed 's/^/#   /'; failed=$((failed + 1))
        fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The unit as installed, pointing at the binary just built.
sed "s|^ExecStart=[^ ]*bindlinkd|ExecStart=$BUILDDIR/bindlinkd|" "$BUILDDIR/systemd/bindlinkd.service" > "$tmp/bindlinkd.service"
check "s22_unit_passes_systemd_analyze_verify" systemd-analyze verify --man=no "$tmp/bindlinkd.service"
check "s22_unit_has_no_mount_namespace_sandboxing" bash -c "! grep -E '^(ProtectSystem|ProtectHome|PrivateTmp|PrivateMounts|PrivateDevices|ProtectKernel|ProtectControlGroups|ReadOnlyPaths|InaccessiblePaths|TemporaryFileSystem|BindPaths)' '$tmp/bindlinkd.service'"
for page in "$SRCDIR"/man/*.[0-9]; do
        check "man_$(basename "$page")_renders_cleanly" groff -man -ww -z "$page"
done
echo "1..$n"
[ $failed -eq 0 ]
